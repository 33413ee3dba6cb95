"""Reading Berkeley's unvalidated daily L1 CDFs (``ST{A,B}_L1_MAG[B]_YYYYMMDD_Vnn.cdf``).

A normal-mode file with no records, with every Epoch fill, or with every B_SC value fill is
an input error naming the file (the day fails with that one line: an all-fill day is never
processed silently); a burst file without records is as if there were none.

What is used: ``Epoch`` (CDF_EPOCH ms, or CDF_TIME_TT2000 ns: both are accepted), ``B_SC``
(nT, spacecraft axes, [N, 3] or [N, 4] with the magnitude last, which is recomputed) and
``MAGFLAGUC`` (status bits, optional: zeros when absent). Records keep their file order (the
timing corrections need it). Fill values (-1e31, |B| > 1e30) become NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from magfw.api import InputError, read_cdf, time


@dataclass(kw_only=True)
class RawSeries:
    """One input file's records in file order: TT2000 ns, B (N, 3) nT SC axes, flags."""

    path: Path
    time: np.ndarray
    b: np.ndarray
    flags: np.ndarray
    burst: bool

    def __len__(self) -> int:
        return int(self.time.size)


def read_uv(path: Path, burst: bool) -> RawSeries:
    """Read one unvalidated file; anything missing or malformed is one InputError line."""
    data = read_cdf(path)
    for name in ("Epoch", "B_SC"):
        if name not in data.variables:
            raise InputError(
                path,
                f"variable {name!r} not found (has: "
                f"{', '.join(sorted(data.variables))}): not a Berkeley "
                f"unvalidated L1 file",
            )
    epoch = np.asarray(data.variables["Epoch"])
    kind = data.info["Epoch"].data_type
    if kind == "CDF_EPOCH":
        tt = np.asarray(time.tt2000_from_cdf_epoch(epoch.astype(np.float64)), dtype=np.int64)
    elif kind == "CDF_TIME_TT2000":
        tt = epoch.astype(np.int64)
    else:
        raise InputError(path, f"Epoch is {kind}, expected CDF_EPOCH or CDF_TIME_TT2000")
    b = np.asarray(data.variables["B_SC"], dtype=np.float64)
    if b.ndim != 2 or b.shape[1] not in (3, 4) or b.shape[0] != tt.size:
        raise InputError(path, f"B_SC has shape {list(b.shape)}, expected [{tt.size}, 3] or [{tt.size}, 4]")
    b = b[:, :3].copy()
    b[np.abs(b) > 1e30] = np.nan
    flags = data.variables.get("MAGFLAGUC")
    flags = np.zeros(tt.size, np.uint32) if flags is None else np.asarray(flags).astype(np.uint32).reshape(-1)
    if flags.size != tt.size:
        raise InputError(path, f"MAGFLAGUC has {flags.size} records, Epoch {tt.size}")
    bad_t = (epoch <= 0) if kind == "CDF_EPOCH" else (tt == np.iinfo(np.int64).min)
    if bad_t.any():
        keep = ~bad_t
        tt, b, flags = tt[keep], b[keep], flags[keep]
    if tt.size == 0 and burst:
        return RawSeries(
            path=Path(path), time=tt, b=b, flags=flags, burst=burst
        )  # no burst data: as if absent
    if tt.size == 0:
        raise InputError(
            path,
            "no records"
            if epoch.size == 0
            else f"every Epoch of its {epoch.size} records is fill: no usable records",
        )
    if not np.isfinite(b).any() and not burst:
        raise InputError(
            path,
            f"every B_SC value of its {tt.size} records is fill: no field "
            "on this day (docs/stereo.md: an all-fill day fails)",
        )
    return RawSeries(path=Path(path), time=tt, b=b, flags=flags, burst=burst)

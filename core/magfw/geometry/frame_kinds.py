"""Which frame a name means and how fast it turns: frames resolved and classified from their
definitions in the kernel pool (never from their names), for :mod:`magfw.geometry.frames`.

A frame's rate class picks its interpolation grid: ``"const"`` (inertial: one evaluation),
``"slow"`` (ephemerides and planetary constants: ``SLOW_GRID_S``) or ``"fast"`` (attitude:
``ATTITUDE_GRID_S``, checked cell by cell). The rules are in the module notes of
:mod:`magfw.geometry.frames`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import spiceypy as sp

from magfw.errors import KernelError
from magfw.geometry.kernels import KernelPool, body_code

#: Default grid (s) for legs driven by attitude (CK) data.
ATTITUDE_GRID_S = 10.0
#: Grids (s) for ephemeris/constant-driven legs: Earth-rotation-driven, and the others.
SLOW_GRID_S = {"earth": 60.0, "sun": 300.0}

#: A PCK (body-fixed) frame turning faster than this (deg/day) is sampled on the "earth" grid,
#: a slower one (IAU_SUN: 14.2 deg/day) on the "sun" grid.
FAST_ROTATION_DEG_PER_DAY = 36.0

ALIASES = {
    "GSE": "MAGFW_GSE",
    "HEE": "MAGFW_HEE",
    "HEEQ": "MAGFW_HEEQ",
    "HCI": "MAGFW_HCI",
    "ECLIPDATE": "MAGFW_ECLIPDATE",
}
#: Dynamic-frame families that follow precession/nutation models only (slowly rotating).
_OF_DATE_FAMILIES = {
    "MEAN_EQUATOR_AND_EQUINOX_OF_DATE",
    "MEAN_ECLIPTIC_AND_EQUINOX_OF_DATE",
    "TRUE_EQUATOR_AND_EQUINOX_OF_DATE",
}


@dataclass(frozen=True, kw_only=True)
class Frame:
    """A resolved frame: its SPICE name (None for GSM), rate class, slow grid and CK ids."""

    label: str
    spice: str | None
    rate: str  # "const" | "slow" | "fast"
    grid: float
    ck_ids: tuple[int, ...] = ()
    observer: int | None = None


def classify(name: str, depth: int = 0) -> tuple[str, float, tuple[int, ...]]:
    """Rate class, grid and CK ids of a SPICE frame, from its definition in the kernel pool:
    TK frames are followed to their base, PCK frames go by their body's rotation rate, and
    dynamic frames by what they are built from (:func:`_classify_dynamic`)."""
    up = name.upper()
    if up.startswith("MAGFW_RTN_"):  # magfw's own run-time RTN frames (Sun -> spacecraft)
        return "slow", SLOW_GRID_S["sun"], ()
    code = sp.namfrm(up)
    _, cls, cls_id = sp.frinfo(code)
    if cls == 1:
        return "const", np.inf, ()
    if cls == 2:
        return "slow", SLOW_GRID_S["earth" if _rotates_fast(int(cls_id)) else "sun"], ()
    if cls == 3:
        return "fast", ATTITUDE_GRID_S, (int(cls_id),)
    if cls == 4 and depth < 10:
        rel = _pool_text(code, up, "RELATIVE", prefix="TKFRAME")
        if rel is not None:
            return classify(rel, depth + 1)
    if cls == 5 and depth < 10:
        derived = _classify_dynamic(code, up, depth)
        if derived is not None:
            return derived[0], derived[1], ()
    return "fast", ATTITUDE_GRID_S, ()


def _pool_text(code: int, name: str, item: str, prefix: str = "FRAME") -> str | None:
    """The value of ``<prefix>_<id or name>_<item>`` in the kernel pool, as text (None when
    absent); numbers (body codes) come back as their integer text."""
    for key in (f"{prefix}_{code}_{item}", f"{prefix}_{name}_{item}"):
        kind = _pool_kind(key)
        if kind is None:
            continue
        if kind == "C":
            return str(sp.gcpool(key, 0, 1)[0]).strip()
        return str(int(sp.gdpool(key, 0, 1)[0]))
    return None


def _pool_kind(key: str) -> str | None:
    """ "C" or "N" for a kernel-pool variable, None when it is absent (``expool`` sees only
    numeric variables)."""
    try:
        _, kind = sp.dtpool(key)
    except sp.utils.exceptions.NotFoundError:
        return None
    return str(kind)


def _rotates_fast(body: int) -> bool:
    """Whether the PCK frame of ``body`` turns faster than FAST_ROTATION_DEG_PER_DAY (unknown
    rates, e.g. of binary-PCK frames such as ITRF93, count as fast)."""
    key = f"BODY{body}_PM"
    if _pool_kind(key) != "N" or sp.dtpool(key)[0] < 2:
        return True
    return abs(float(sp.gdpool(key, 1, 1)[0])) > FAST_ROTATION_DEG_PER_DAY


def _natural_body(body: str) -> bool:
    """Whether ``body`` (name or code) is a barycentre, the Sun or a planet's centre: a body
    whose position follows the planetary ephemeris only."""
    try:
        code = body_code(int(body)) if body.lstrip("+-").isdigit() else body_code(body)
    except KernelError:
        return False
    return 0 <= code <= 10 or (199 <= code <= 999 and code % 100 == 99)


def _classify_dynamic(code: int, name: str, depth: int) -> tuple[str, float] | None:
    """Rate class and grid of a dynamic (class 5) frame from its definition, or None when it
    is built from anything that may move fast (then it is treated as an attitude leg)."""

    def item(key: str) -> str | None:
        return _pool_text(code, name, key)

    if item("FREEZE_EPOCH") is not None:
        return "const", np.inf
    family = (item("FAMILY") or "").upper()
    if family in _OF_DATE_FAMILIES:
        return "slow", SLOW_GRID_S["sun"]
    if family != "TWO-VECTOR":
        return None
    grids = [SLOW_GRID_S["sun"]]
    refs = [item("RELATIVE") or "J2000"]
    for axis in ("PRI", "SEC"):
        kind = (item(f"{axis}_VECTOR_DEF") or "").upper()
        if kind == "OBSERVER_TARGET_POSITION":
            ends = (item(f"{axis}_OBSERVER"), item(f"{axis}_TARGET"))
            if not all(e is not None and _natural_body(e) for e in ends):
                return None
        elif kind == "CONSTANT":
            refs.append(item(f"{axis}_FRAME") or "J2000")
        else:
            return None
    for ref in refs:
        if sp.namfrm(ref.upper()) == 0:
            return None
        rate, grid, _ = classify(ref, depth + 1)
        if rate == "fast":
            return None
        grids.append(grid)
    return "slow", min(grids)


def resolve(pool: KernelPool, frame: str, observer: str | int | None) -> Frame:
    up = frame.strip().upper()
    if up == "GSM":
        return Frame(label="GSM", spice=None, rate="slow", grid=SLOW_GRID_S["earth"])
    if up == "RTN":
        if observer is None:
            raise ValueError("frame RTN needs an observer (NAIF name or ID of the spacecraft)")
        code = body_code(observer)
        return Frame(
            label=f"RTN({code})",
            spice=pool.rtn_frame(code),
            rate="slow",
            grid=SLOW_GRID_S["sun"],
            observer=code,
        )
    name = ALIASES.get(up, up)
    if sp.namfrm(name) == 0:
        raise KernelError(frame, "unknown frame: not a magfw frame and not defined by any loaded kernel")
    rate, grid, cks = classify(name)
    return Frame(label=up, spice=name, rate=rate, grid=grid, ck_ids=cks)


#: J2000 as a resolved frame (the pivot of chained rotations).
J2000 = Frame(label="J2000", spice="J2000", rate="const", grid=np.inf)

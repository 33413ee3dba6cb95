"""Frame rotations and positions for magnetometer data, SPICE-backed and vectorised.

Frame names accepted by :func:`rotate`, :func:`rotation_matrices` and :func:`positions`:

- ``"GSE"``, ``"HEE"``, ``"HEEQ"``, ``"HCI"``, ``"ECLIPDATE"``: the heliospheric.tf definitions
  (W. Thompson), loaded as ``MAGFW_*`` frames from ``magfw/data/magfw_frames.tf``;
- ``"GSM"``: X Earth->Sun, Z the component of the IGRF-14 dipole axis of date perpendicular to
  X (computed here; the dipole is interpolated in time by :mod:`magfw.geometry.igrf`);
- ``"RTN"`` with ``observer``: heliographic RTN (X Sun->observer, Z the solar rotation axis
  component perpendicular to X), as STAHGRTN, for any body SPICE can locate;
- ``"J2000"``, ``"ECLIPJ2000"`` and any frame SPICE knows from a loaded kernel, e.g. a
  spacecraft body frame whose orientation comes from a CK, or a mission's dynamic frame (a
  GSM with a fixed dipole pole, shipped in the mission plugin's frames kernel).

Speed without a Python loop over samples: exact rotations are computed with SPICE's vectorised
calls (``spiceypy.cyice``) on a uniform grid of nodes and interpolated to the samples
(component-wise cubic Lagrange interpolation of quaternions over four nodes, renormalised,
which keeps every matrix exactly orthonormal; :mod:`magfw.geometry.interpolation` evaluates
every sample in one chunked pass, and :func:`rotate` applies the rotations to the vectors
without forming the matrices). Which frame a name means and how fast it turns is
:mod:`magfw.geometry.frame_kinds`; the quaternion helpers are :mod:`magfw.geometry.quaternions`.
The rule:

- legs that follow ephemerides and planetary constants (GSE, HEE, HEEQ, RTN, GSM, PCK
  body-fixed frames) use a grid of ``SLOW_GRID_S`` (60 s for Earth-fixed frames and GSM,
  300 s for the rest); inertial legs are constant. Which a frame is comes from its definition
  in the kernel pool (:func:`_classify_spice`), never from its name: a dynamic frame frozen at
  an epoch is constant; one built from of-date equator/ecliptic models, or from two vectors
  that are each an observer->target position between the Sun, planets or barycentres or a
  constant vector in such a frame, follows ephemerides, on the finest grid of what it refers
  to (60 s when a frame that rotates fast, such as IAU_EARTH, is among them);
- any other leg (CK attitude, TK frames on top of it, mission dynamic frames defined by
  anything else) uses a grid of
  ``ATTITUDE_GRID_S`` (10 s) or ``grid_s``; the grid is laid per segment, and segments end at
  the CK's own interpolation-interval boundaries (so an attitude jump there is never smoothed
  over) and at data gaps; each cell is checked at its midpoint against an exact evaluation and
  the samples of any cell whose error exceeds ``INTERP_TOL_RAD`` are evaluated exactly, per
  sample (still vectorised);
- ``grid_s=0`` evaluates every sample exactly.

All functions need an active :func:`magfw.geometry.kernels.kernel_pool` in the calling thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import spiceypy as sp
from numpy.typing import ArrayLike, NDArray
from spiceypy import cyice

from magfw.errors import KernelError
from magfw.geometry import igrf
from magfw.geometry.frame_kinds import (
    ALIASES,
    ATTITUDE_GRID_S,
    FAST_ROTATION_DEG_PER_DAY,
    J2000,
    SLOW_GRID_S,
    Frame,
    resolve,
)
from magfw.geometry.interpolation import (
    GAP_FACTOR,
    INTERP_TOL_RAD,
    Interpolation,
    interpolated,
    interpolation,
)
from magfw.geometry.kernels import (
    KernelPool,
    all_covered,
    body_code,
    covered_mask,
    require_coverage,
    require_pool,
    spice_error_text,
)
from magfw.geometry.quaternions import FloatArray, m2q, matvec, q2m, rodrigues
from magfw.geometry.time import tt2000_to_et

#: The names the tests and older callers know (``frames._ALIASES``, ``frames._resolve``).
_ALIASES = ALIASES
_resolve = resolve

__all__ = [
    "ATTITUDE_GRID_S",
    "FAST_ROTATION_DEG_PER_DAY",
    "GAP_FACTOR",
    "INTERP_TOL_RAD",
    "SLOW_GRID_S",
    "gse_to_gsm_angle",
    "m2q",
    "positions",
    "q2m",
    "rodrigues",
    "rotate",
    "rotation_matrices",
]


# ----------------------------------------------------------------------------------------
# Exact evaluation (vectorised SPICE calls)
# ----------------------------------------------------------------------------------------


def _spice_call(what: str, fn: Callable[[], FloatArray]) -> FloatArray:
    try:
        return fn()
    except sp.utils.exceptions.SpiceyError as exc:
        raise KernelError(what, f"SPICE cannot evaluate it: {spice_error_text(exc)}") from exc


def _j2000_to_gsm(et: FloatArray) -> FloatArray:
    """Matrices (N,3,3) from J2000 to GSM with the IGRF-14 dipole of date."""
    s, _ = _spice_call("GSM (Earth->Sun)", lambda: cyice.spkpos_v("SUN", et, "J2000", "NONE", "EARTH"))
    x = s / np.linalg.norm(s, axis=1, keepdims=True)
    earth = _spice_call("GSM (IAU_EARTH)", lambda: cyice.pxform_v("IAU_EARTH", "J2000", et))
    d = matvec(earth, igrf.dipole_axis_geo(et))
    z = d - np.sum(d * x, axis=1, keepdims=True) * x
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=1)


def _to_j2000(f: Frame, et: FloatArray) -> FloatArray:
    """Matrices rotating vectors from frame ``f`` to J2000 at ``et``."""
    if f.spice is None:
        return _j2000_to_gsm(et).transpose(0, 2, 1)
    name = f.spice
    return _spice_call(f"{f.label}->J2000", lambda: cyice.pxform_v(name, "J2000", et))


def _exact_pair(a: Frame, b: Frame, et: FloatArray) -> FloatArray:
    """Exact matrices from ``a`` to ``b`` at ``et``."""
    if et.size == 0:
        return np.empty((0, 3, 3))
    if a.spice is not None and b.spice is not None:
        fa, fb = a.spice, b.spice
        return _spice_call(f"{a.label}->{b.label}", lambda: cyice.pxform_v(fa, fb, et))
    return np.asarray(np.matmul(_to_j2000(b, et).transpose(0, 2, 1), _to_j2000(a, et)), dtype=np.float64)


# ----------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------


def _prepare(tt2000: ArrayLike) -> tuple[NDArray[np.int64], FloatArray]:
    tt = np.asarray(tt2000)
    if tt.ndim != 1 or not np.issubdtype(tt.dtype, np.integer):
        raise ValueError("tt2000 must be a 1-D int64 array of TT2000 nanoseconds")
    tt = tt.astype(np.int64, copy=False)
    et = np.asarray(tt2000_to_et(tt), dtype=np.float64)
    if np.isnan(et).any():
        raise ValueError("tt2000 holds fill values; drop or mask them before rotating")
    return tt, et


def _check_coverage(
    pool: KernelPool, frames: tuple[Frame, ...], tt: NDArray[np.int64], et: FloatArray
) -> None:
    """KernelError (from require_coverage) when a CK of the chain or an RTN observer's SPK
    does not cover every sample; the fast path reuses ``et``."""
    for f in frames:
        needs: list[tuple[int, Literal["spk", "ck"]]] = [(ck, "ck") for ck in f.ck_ids]
        if f.observer is not None:
            needs.append((f.observer, "spk"))
        for code, kind in needs:
            if not all_covered(pool.windows(code, kind), et):
                require_coverage(pool, code, tt, kind=kind)


def _rotation(
    tt2000: ArrayLike,
    from_frame: str,
    to_frame: str,
    observer: str | int | None,
    grid_s: float | None,
) -> FloatArray | Interpolation:
    """The rotation from ``from_frame`` to ``to_frame`` at each sample: its matrices (N,3,3)
    (exact, constant or identity), or an :class:`Interpolation` to evaluate."""
    pool = require_pool("magfw.geometry.frames.rotation_matrices")
    tt, et = _prepare(tt2000)
    a = resolve(pool, from_frame, observer)
    b = resolve(pool, to_frame, observer)
    if (a.spice, a.label) == (b.spice, b.label):
        return np.broadcast_to(np.eye(3), (et.size, 3, 3))
    _check_coverage(pool, (a, b), tt, et)
    if et.size == 0:
        return np.empty((0, 3, 3))
    if grid_s is not None and grid_s <= 0:
        return _exact_pair(a, b, et)
    if a.rate == "const" and b.rate == "const":
        return np.broadcast_to(_exact_pair(a, b, et[:1])[0], (et.size, 3, 3))
    if "fast" not in (a.rate, b.rate):
        return interpolation(et, lambda e: _exact_pair(a, b, e), grid_s or min(a.grid, b.grid))
    cks = tuple(sorted(set(a.ck_ids + b.ck_ids)))
    parts = [pool.windows(c, "ck") for c in cks]
    windows = None
    if parts:
        allw = np.concatenate(parts)
        windows = allw[np.argsort(allw[:, 0], kind="stable")]
    return interpolation(
        et, _attitude_exact(a, b, grid_s), grid_s or ATTITUDE_GRID_S, windows=windows, check=True
    )


def _attitude_exact(a: Frame, b: Frame, grid_s: float | None) -> Callable[[FloatArray], FloatArray]:
    """Exact matrices of a chain with an attitude leg, for the attitude grid's nodes: the
    attitude leg by SPICE, a slow leg interpolated on its own grid."""
    if a.rate == "fast" and b.rate == "slow":
        slow_b = Frame(label=b.label, spice=b.spice, rate=b.rate, grid=b.grid)

        def exact(e: FloatArray) -> FloatArray:
            s = interpolated(e, lambda x: _exact_pair(J2000, slow_b, x), grid_s or b.grid)
            return np.asarray(np.matmul(s, _exact_pair(a, J2000, e)), dtype=np.float64)

        return exact
    if b.rate == "fast" and a.rate == "slow":

        def exact_b(e: FloatArray) -> FloatArray:
            s = interpolated(e, lambda x: _exact_pair(a, J2000, x), grid_s or a.grid)
            return np.asarray(np.matmul(_exact_pair(J2000, b, e), s), dtype=np.float64)

        return exact_b
    return lambda e: _exact_pair(a, b, e)


def rotation_matrices(
    tt2000: ArrayLike,
    from_frame: str,
    to_frame: str,
    *,
    observer: str | int | None = None,
    grid_s: float | None = None,
) -> FloatArray:
    """Matrices (N,3,3) that rotate vectors from ``from_frame`` to ``to_frame`` at TT2000 times.

    ``observer`` names the spacecraft for ``"RTN"``. ``grid_s`` overrides the grid step (s) of
    the interpolation (0: exact evaluation at every sample); see the module docstring for the
    default rule. Raises KernelError when a kernel is missing or a time lies outside CK or
    observer SPK coverage.
    """
    r = _rotation(tt2000, from_frame, to_frame, observer, grid_s)
    return r.matrices() if isinstance(r, Interpolation) else np.array(r, dtype=np.float64)


def rotate(
    vectors: ArrayLike,
    tt2000: ArrayLike,
    from_frame: str,
    to_frame: str,
    *,
    observer: str | int | None = None,
    grid_s: float | None = None,
) -> FloatArray:
    """Rotate vectors (N,3) given in ``from_frame`` at TT2000 times (N,) into ``to_frame``.

    Units are kept (nT in, nT out). NaN vectors stay NaN. See :func:`rotation_matrices`; the
    matrices themselves are not formed when they are interpolated.
    """
    v = np.asarray(vectors, dtype=np.float64)
    n = np.asarray(tt2000).shape[0] if np.ndim(tt2000) == 1 else -1
    if v.ndim != 2 or v.shape[1] != 3 or v.shape[0] != n:
        raise ValueError(f"vectors must be (N, 3) with N = len(tt2000); got {v.shape}")
    r = _rotation(tt2000, from_frame, to_frame, observer, grid_s)
    return r.apply(v) if isinstance(r, Interpolation) else matvec(r, v)


def positions(
    tt2000: ArrayLike,
    target: str | int,
    frame: str,
    *,
    center: str | int = "EARTH",
    observer: str | int | None = None,
    grid_s: float | None = None,
) -> FloatArray:
    """Geometric position (N,3) in km of ``target`` relative to ``center`` in ``frame``.

    The J2000 position comes from SPICE (``spkpos``, vectorised) at every sample; the frame
    rotation follows :func:`rotation_matrices` (``observer`` is needed for ``"RTN"``).
    """
    pool = require_pool("magfw.geometry.frames.positions")
    tt, et = _prepare(tt2000)
    t, c = body_code(target), body_code(center)
    for body in (t, c):
        if pool.files_with(body, "spk") and not covered_mask(pool.windows(body, "spk"), et).all():
            require_coverage(pool, body, tt, kind="spk")
    p, _ = _spice_call(
        f"position of {target} from {center}", lambda: cyice.spkpos_v(str(t), et, "J2000", "NONE", str(c))
    )
    p = np.asarray(p, dtype=np.float64)
    if frame.strip().upper() == "J2000":
        return p
    m = rotation_matrices(tt, "J2000", frame, observer=observer, grid_s=grid_s)
    return matvec(m, p)


def gse_to_gsm_angle(tt2000: ArrayLike, gsm: str = "GSM") -> FloatArray:
    """Angle (deg) of the rotation about X from GSE to ``gsm`` ("GSM", or a GSM-like frame of
    a loaded kernel): ``atan2(M[2,1], M[1,1])`` of the GSE->GSM matrix M."""
    m = rotation_matrices(tt2000, "GSE", gsm)
    return np.degrees(np.arctan2(m[:, 2, 1], m[:, 1, 1]))

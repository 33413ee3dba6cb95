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
which keeps every matrix exactly orthonormal). The rule:

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
from dataclasses import dataclass
from math import comb
from typing import Literal

import numpy as np
import spiceypy as sp
from numpy.typing import ArrayLike, NDArray
from spiceypy import cyice

from magfw.errors import KernelError
from magfw.geometry import igrf
from magfw.geometry.kernels import (
    KernelPool,
    body_code,
    covered_mask,
    require_coverage,
    require_pool,
    spice_error_text,
)
from magfw.geometry.time import tt2000_to_et

#: Default grid (s) for legs driven by attitude (CK) data.
ATTITUDE_GRID_S = 10.0
#: Grids (s) for ephemeris/constant-driven legs: Earth-rotation-driven, and the others.
SLOW_GRID_S = {"earth": 60.0, "sun": 300.0}
#: Largest interpolation error (rad) accepted at a cell midpoint before exact evaluation.
INTERP_TOL_RAD = 1e-7
#: A gap longer than this many grid steps starts a new segment.
GAP_FACTOR = 4.0

#: A PCK (body-fixed) frame turning faster than this (deg/day) is sampled on the "earth" grid,
#: a slower one (IAU_SUN: 14.2 deg/day) on the "sun" grid.
FAST_ROTATION_DEG_PER_DAY = 36.0

_ALIASES = {
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
FloatArray = NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class _Frame:
    """A resolved frame: its SPICE name (None for GSM), rate class, slow grid and CK ids."""

    label: str
    spice: str | None
    rate: str  # "const" | "slow" | "fast"
    grid: float
    ck_ids: tuple[int, ...] = ()
    observer: int | None = None


def _classify_spice(name: str, depth: int = 0) -> tuple[str, float, tuple[int, ...]]:
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
            return _classify_spice(rel, depth + 1)
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
        rate, grid, _ = _classify_spice(ref, depth + 1)
        if rate == "fast":
            return None
        grids.append(grid)
    return "slow", min(grids)


def _resolve(pool: KernelPool, frame: str, observer: str | int | None) -> _Frame:
    up = frame.strip().upper()
    if up == "GSM":
        return _Frame(label="GSM", spice=None, rate="slow", grid=SLOW_GRID_S["earth"])
    if up == "RTN":
        if observer is None:
            raise ValueError("frame RTN needs an observer (NAIF name or ID of the spacecraft)")
        code = body_code(observer)
        return _Frame(
            label=f"RTN({code})",
            spice=pool.rtn_frame(code),
            rate="slow",
            grid=SLOW_GRID_S["sun"],
            observer=code,
        )
    name = _ALIASES.get(up, up)
    if sp.namfrm(name) == 0:
        raise KernelError(frame, "unknown frame: not a magfw frame and not defined by any loaded kernel")
    rate, grid, cks = _classify_spice(name)
    return _Frame(label=up, spice=name, rate=rate, grid=grid, ck_ids=cks)


# ----------------------------------------------------------------------------------------
# Quaternions (SPICE convention: q = (w, x, y, z), q2m(q) is the rotation matrix)
# ----------------------------------------------------------------------------------------


def q2m(q: ArrayLike) -> FloatArray:
    """Rotation matrices (N,3,3) of unit quaternions (N,4) in SPICE's (w, x, y, z) convention
    (same result as ``spiceypy.q2m``)."""
    q = np.asarray(q, dtype=np.float64)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    xx, yy, zz = x * x, y * y, z * z
    xy, xz, yz, wx, wy, wz = x * y, x * z, y * z, w * x, w * y, w * z
    m = np.empty(q.shape[:-1] + (3, 3))
    m[..., 0, 0] = 1 - 2 * (yy + zz)
    m[..., 0, 1] = 2 * (xy - wz)
    m[..., 0, 2] = 2 * (xz + wy)
    m[..., 1, 0] = 2 * (xy + wz)
    m[..., 1, 1] = 1 - 2 * (xx + zz)
    m[..., 1, 2] = 2 * (yz - wx)
    m[..., 2, 0] = 2 * (xz - wy)
    m[..., 2, 1] = 2 * (yz + wx)
    m[..., 2, 2] = 1 - 2 * (xx + yy)
    return m


def m2q(m: ArrayLike) -> FloatArray:
    """Unit quaternions (N,4), SPICE (w, x, y, z) convention, of rotation matrices (N,3,3);
    ``q2m(m2q(m)) == m``. Shepperd's method (largest component first), vectorised."""
    m = np.asarray(m, dtype=np.float64).reshape(-1, 3, 3)
    m00, m11, m22 = m[:, 0, 0], m[:, 1, 1], m[:, 2, 2]
    k = np.argmax(np.stack([m00 + m11 + m22, m00, m11, m22]), axis=0)
    q = np.empty((m.shape[0], 4))
    d21, d02, d10 = m[:, 2, 1] - m[:, 1, 2], m[:, 0, 2] - m[:, 2, 0], m[:, 1, 0] - m[:, 0, 1]
    s01, s02, s12 = m[:, 0, 1] + m[:, 1, 0], m[:, 0, 2] + m[:, 2, 0], m[:, 1, 2] + m[:, 2, 1]
    diag = {0: (1, 1, 1), 1: (1, -1, -1), 2: (-1, 1, -1), 3: (-1, -1, 1)}
    others = {0: (d21, d02, d10), 1: (d21, s01, s02), 2: (d02, s01, s12), 3: (d10, s02, s12)}
    slots = {0: (1, 2, 3), 1: (0, 2, 3), 2: (0, 1, 3), 3: (0, 1, 2)}
    for b in range(4):
        sel = k == b
        if not sel.any():
            continue
        a, bb, c = diag[b]
        big = 0.5 * np.sqrt(np.maximum(1 + a * m00[sel] + bb * m11[sel] + c * m22[sel], 0.0))
        q[sel, b] = big
        for slot, num in zip(slots[b], others[b], strict=True):
            q[sel, slot] = num[sel] / (4 * big)
    return q


def rodrigues(rv: ArrayLike) -> FloatArray:
    """Rotation matrices (N,3,3) of rotation vectors (N,3): an active rotation by |rv| radians
    about rv (Rodrigues' formula), vectorised; used by simulators for attitudes and rotations."""
    rv = np.asarray(rv, dtype=np.float64)
    th = np.linalg.norm(rv, axis=1)[:, None, None]
    k = np.zeros((rv.shape[0], 3, 3))
    k[:, 0, 1], k[:, 0, 2], k[:, 1, 2] = -rv[:, 2], rv[:, 1], -rv[:, 0]
    k = k - k.transpose(0, 2, 1)
    safe = np.where(th == 0, 1.0, th)
    return np.asarray(
        np.eye(3) + np.sin(th) / safe * k + (1 - np.cos(th)) / safe**2 * (k @ k), dtype=np.float64
    )


def _matvec(m: FloatArray, v: FloatArray) -> FloatArray:
    """Apply (N,3,3) matrices to (N,3) vectors."""
    return np.asarray(np.einsum("nij,nj->ni", m, v), dtype=np.float64)


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
    d = _matvec(earth, igrf.dipole_axis_geo(et))
    z = d - np.sum(d * x, axis=1, keepdims=True) * x
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=1)


def _to_j2000(f: _Frame, et: FloatArray) -> FloatArray:
    """Matrices rotating vectors from frame ``f`` to J2000 at ``et``."""
    if f.spice is None:
        return _j2000_to_gsm(et).transpose(0, 2, 1)
    name = f.spice
    return _spice_call(f"{f.label}->J2000", lambda: cyice.pxform_v(name, "J2000", et))


def _exact_pair(a: _Frame, b: _Frame, et: FloatArray) -> FloatArray:
    """Exact matrices from ``a`` to ``b`` at ``et``."""
    if et.size == 0:
        return np.empty((0, 3, 3))
    if a.spice is not None and b.spice is not None:
        fa, fb = a.spice, b.spice
        return _spice_call(f"{a.label}->{b.label}", lambda: cyice.pxform_v(fa, fb, et))
    return np.asarray(np.matmul(_to_j2000(b, et).transpose(0, 2, 1), _to_j2000(a, et)), dtype=np.float64)


# ----------------------------------------------------------------------------------------
# Grid interpolation
# ----------------------------------------------------------------------------------------


def _cell_polynomials() -> FloatArray:
    """Matrices (3,4,4) turning the values of a quantity at four uniform nodes 0..3 into the
    monomial coefficients (in tau = offset from node d, in node units) of the cubic through
    them, for a cell that starts at node d = 0, 1 or 2 of the stencil."""
    vinv = np.linalg.inv(np.vander(np.arange(4.0), 4, increasing=True))
    out = np.empty((3, 4, 4))
    for d in range(3):
        shift = np.array([[comb(k, m) * d ** (k - m) if k >= m else 0.0 for k in range(4)] for m in range(4)])
        out[d] = shift @ vinv
    return out


_CELL_POLY = _cell_polynomials()


@dataclass
class _Grid:
    """Uniform nodes per segment: start ``a``, step ``h``, node count ``n``, first node ``off``.

    Each cell (between consecutive nodes) carries the cubic through the four nearest nodes of
    its segment, as monomial coefficients in the offset from the cell start."""

    a: FloatArray
    h: FloatArray
    n: NDArray[np.int64]
    off: NDArray[np.int64]

    def nodes(self) -> FloatArray:
        total = int(self.n.sum())
        seg = np.repeat(np.arange(self.n.size), self.n)
        local = np.arange(total) - self.off[seg]
        return self.a[seg] + self.h[seg] * local

    def midpoints(self) -> tuple[FloatArray, NDArray[np.int64]]:
        """Cell midpoints and their segment."""
        cells = self.n - 1
        seg = np.repeat(np.arange(self.n.size), cells)
        local = np.arange(int(cells.sum())) - np.repeat(np.r_[0, np.cumsum(cells)[:-1]], cells)
        return self.a[seg] + self.h[seg] * (local + 0.5), seg

    def coefficients(self, q: FloatArray) -> FloatArray:
        """Cubic coefficients (16, n_nodes) of every cell from node quaternions (n_nodes, 4):
        row 4k + c is the tau**k coefficient of component c (cells are indexed by their first
        node; the last node of each segment has an unused column)."""
        seg = np.repeat(np.arange(self.n.size), self.n)
        i = np.arange(q.shape[0]) - self.off[seg]
        s = np.clip(i - 1, 0, self.n[seg] - 4)
        d = np.clip(i - s, 0, 2)
        stencil = q[(self.off[seg] + s)[:, None] + np.arange(4)]  # (nodes, 4 nodes, 4 comps)
        coef = np.einsum("nkj,njc->nkc", _CELL_POLY[d], stencil)
        return np.ascontiguousarray(coef.reshape(-1, 16).T)

    def evaluate(
        self, t: FloatArray, seg: NDArray[np.int64], coef: FloatArray
    ) -> tuple[FloatArray, NDArray[np.int64]]:
        """Interpolated (unnormalised) quaternions (4, N) at times ``t`` of segments ``seg``,
        and each time's cell (index of the node that starts it)."""
        u = (t - self.a[seg]) / self.h[seg]
        i = np.clip(np.floor(u).astype(np.int64), 0, self.n[seg] - 2)
        tau = u - i
        cell = self.off[seg] + i
        c = np.take(coef, cell, axis=1)
        out = c[12:16] * tau
        out += c[8:12]
        out *= tau
        out += c[4:8]
        out *= tau
        out += c[0:4]
        return out, cell


def _q2m_rows(q: FloatArray) -> FloatArray:
    """Rotation matrices (N,3,3) of unnormalised quaternions given as rows (4, N)."""
    w, x, y, z = q
    s = 2.0 / (w * w + x * x + y * y + z * z)
    xs, ys, zs = x * s, y * s, z * s
    wx, wy, wz = w * xs, w * ys, w * zs
    xx, xy, xz = x * xs, x * ys, x * zs
    yy, yz, zz = y * ys, y * zs, z * zs
    rows = np.empty((9, w.size))  # element-major: each element written contiguously
    rows[0], rows[1], rows[2] = 1 - (yy + zz), xy - wz, xz + wy
    rows[3], rows[4], rows[5] = xy + wz, 1 - (xx + zz), yz - wx
    rows[6], rows[7], rows[8] = xz - wy, yz + wx, 1 - (xx + yy)
    return rows.T.reshape(w.size, 3, 3)  # a view; the caller's assignment makes it (N, 3, 3)


def _segments(
    et: FloatArray, h: float, windows: FloatArray | None
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Start and end (exclusive) sample indices of segments of sorted ``et``: split at gaps
    longer than GAP_FACTOR * h and at the boundaries of ``windows`` (CK intervals)."""
    brk = np.diff(et) > GAP_FACTOR * h
    if windows is not None and windows.size:
        win = np.searchsorted(windows[:, 0], et, side="right")
        brk |= np.diff(win) != 0
    starts = np.r_[0, np.flatnonzero(brk) + 1]
    return starts, np.r_[starts[1:], et.size]


def _interpolated(
    et: FloatArray,
    exact: Callable[[FloatArray], FloatArray],
    h: float,
    *,
    windows: FloatArray | None = None,
    check: bool = False,
) -> FloatArray:
    """Matrices at ``et`` (any order) by interpolation of ``exact`` on a grid of step ``h``."""
    if et.size == 0:
        return np.empty((0, 3, 3))
    if not np.all(np.diff(et) >= 0):
        order = np.argsort(et, kind="stable")
        out = np.empty((et.size, 3, 3))
        out[order] = _interpolated(et[order], exact, h, windows=windows, check=check)
        return out
    starts, stops = _segments(et, h, windows)
    a, b, cnt = et[starts], et[stops - 1], stops - starts
    n = np.maximum(4, np.ceil((b - a) / h).astype(np.int64) + 1)
    gridded = (cnt > n) & (b > a)
    sample_seg = np.repeat(np.arange(starts.size), cnt)
    direct = ~gridded[sample_seg]
    out = np.empty((et.size, 3, 3))
    if gridded.any():
        gi = np.flatnonzero(gridded)
        gn = n[gi]
        grid = _Grid(a[gi], (b[gi] - a[gi]) / (gn - 1), gn, np.r_[0, np.cumsum(gn)[:-1]])
        seg_map = np.full(starts.size, -1)
        seg_map[gi] = np.arange(gi.size)
        nodes = grid.nodes()
        if check:
            mids, mid_seg = grid.midpoints()
            m_all = exact(np.concatenate([nodes, mids]))
            m_nodes, m_mids = m_all[: nodes.size], m_all[nodes.size :]
        else:
            m_nodes = exact(nodes)
        q = m2q(m_nodes)
        flip = np.sign(np.sum(q[1:] * q[:-1], axis=1))
        flip[flip == 0] = 1.0
        q *= np.cumprod(np.r_[1.0, flip])[:, None]
        coef = grid.coefficients(q)
        sel = ~direct
        qs, cell = grid.evaluate(et[sel], seg_map[sample_seg[sel]], coef)
        out[sel] = _q2m_rows(qs)
        if check:
            qm, mid_cell = grid.evaluate(mids, mid_seg, coef)
            qm /= np.sqrt(np.sum(qm * qm, axis=0))
            dot = np.abs(np.sum(qm.T * m2q(m_mids), axis=1))
            err = 2.0 * np.arccos(np.clip(dot, 0.0, 1.0))
            bad_cell = np.zeros(nodes.size, dtype=bool)
            bad_cell[mid_cell[err > INTERP_TOL_RAD]] = True
            bad = np.zeros(et.size, dtype=bool)
            bad[np.flatnonzero(sel)[bad_cell[cell]]] = True
            direct |= bad
    if direct.any():
        out[direct] = exact(et[direct])
    return out


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
    pool: KernelPool, frames: tuple[_Frame, ...], tt: NDArray[np.int64], et: FloatArray
) -> None:
    """KernelError (from require_coverage) when a CK of the chain or an RTN observer's SPK
    does not cover every sample; the fast path reuses ``et``."""
    for f in frames:
        needs: list[tuple[int, Literal["spk", "ck"]]] = [(ck, "ck") for ck in f.ck_ids]
        if f.observer is not None:
            needs.append((f.observer, "spk"))
        for code, kind in needs:
            if not covered_mask(pool.windows(code, kind), et).all():
                require_coverage(pool, code, tt, kind=kind)


_J2000 = _Frame(label="J2000", spice="J2000", rate="const", grid=np.inf)


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
    pool = require_pool("magfw.geometry.frames.rotation_matrices")
    tt, et = _prepare(tt2000)
    a = _resolve(pool, from_frame, observer)
    b = _resolve(pool, to_frame, observer)
    if (a.spice, a.label) == (b.spice, b.label):
        return np.broadcast_to(np.eye(3), (et.size, 3, 3)).copy()
    _check_coverage(pool, (a, b), tt, et)
    if et.size == 0:
        return np.empty((0, 3, 3))
    if grid_s is not None and grid_s <= 0:
        return _exact_pair(a, b, et)
    if a.rate == "const" and b.rate == "const":
        m = _exact_pair(a, b, et[:1])[0]
        return np.broadcast_to(m, (et.size, 3, 3)).copy()
    if "fast" not in (a.rate, b.rate):
        h = grid_s or min(a.grid, b.grid)
        return _interpolated(et, lambda e: _exact_pair(a, b, e), h)

    h = grid_s or ATTITUDE_GRID_S
    cks = tuple(sorted(set(a.ck_ids + b.ck_ids)))
    parts = [pool.windows(c, "ck") for c in cks]
    windows = None
    if parts:
        allw = np.concatenate(parts)
        windows = allw[np.argsort(allw[:, 0], kind="stable")]

    if a.rate == "fast" and b.rate == "slow":
        slow_b = _Frame(label=b.label, spice=b.spice, rate=b.rate, grid=b.grid)

        def exact(e: FloatArray) -> FloatArray:
            s = _interpolated(e, lambda x: _exact_pair(_J2000, slow_b, x), grid_s or b.grid)
            return np.asarray(np.matmul(s, _exact_pair(a, _J2000, e)), dtype=np.float64)
    elif b.rate == "fast" and a.rate == "slow":

        def exact(e: FloatArray) -> FloatArray:
            s = _interpolated(e, lambda x: _exact_pair(a, _J2000, x), grid_s or a.grid)
            return np.asarray(np.matmul(_exact_pair(_J2000, b, e), s), dtype=np.float64)
    else:

        def exact(e: FloatArray) -> FloatArray:
            return _exact_pair(a, b, e)

    return _interpolated(et, exact, h, windows=windows, check=True)


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

    Units are kept (nT in, nT out). NaN vectors stay NaN. See :func:`rotation_matrices`.
    """
    v = np.asarray(vectors, dtype=np.float64)
    n = np.asarray(tt2000).shape[0] if np.ndim(tt2000) == 1 else -1
    if v.ndim != 2 or v.shape[1] != 3 or v.shape[0] != n:
        raise ValueError(f"vectors must be (N, 3) with N = len(tt2000); got {v.shape}")
    m = rotation_matrices(tt2000, from_frame, to_frame, observer=observer, grid_s=grid_s)
    return _matvec(m, v)


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
    return _matvec(m, p)


def gse_to_gsm_angle(tt2000: ArrayLike, gsm: str = "GSM") -> FloatArray:
    """Angle (deg) of the rotation about X from GSE to ``gsm`` ("GSM", or a GSM-like frame of
    a loaded kernel): ``atan2(M[2,1], M[1,1])`` of the GSE->GSM matrix M."""
    m = rotation_matrices(tt2000, "GSE", gsm)
    return np.degrees(np.arctan2(m[:, 2, 1], m[:, 1, 1]))

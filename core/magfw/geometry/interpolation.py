"""Rotations interpolated on a grid, evaluated at every sample in one chunked pass.

Exact rotations (a vectorised SPICE call, any ``exact(et) -> (N, 3, 3)``) are evaluated at
uniform nodes laid per segment of the samples; their quaternions (signs made continuous) are
interpolated by the cubic Lagrange polynomial through the four nearest nodes of the segment,
one cubic per cell (between consecutive nodes), kept as monomial coefficients. A sample's
rotation is then its cell's cubic at its offset, renormalised through the matrix formula
(:func:`magfw.geometry.quaternions.q2m_rows`), which keeps every matrix exactly orthonormal.

Cost per sample: find the segment and the cell (a handful of passes), gather the cell's 16
coefficients, three multiply-adds per component, the nine matrix elements, and the product
with the vector; everything runs over chunks of :data:`CHUNK` samples, so the temporaries of
each pass stay in the CPU cache (``benchmarks/bench_frames.py`` measures it).

Segments end at gaps longer than ``GAP_FACTOR`` steps and at the boundaries of ``windows``
(the CK's interpolation intervals, where the attitude may jump); a segment with fewer samples
than nodes is evaluated exactly. With ``check``, each cell is compared at its midpoint with an
exact evaluation, and the samples of a cell whose error exceeds :data:`INTERP_TOL_RAD` are
evaluated exactly (still vectorised).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from math import comb

import numpy as np
from numpy.typing import NDArray

from magfw.geometry.quaternions import FloatArray, apply_rows, m2q, matvec, q2m_rows

#: Largest interpolation error (rad) accepted at a cell midpoint before exact evaluation.
INTERP_TOL_RAD = 1e-7
#: A cell whose estimated error is under this fraction of INTERP_TOL_RAD needs no exact check.
SCREEN = 0.1
#: A gap longer than this many grid steps starts a new segment.
GAP_FACTOR = 4.0
#: Samples evaluated per pass (their temporaries fit the CPU cache).
CHUNK = 8192

Exact = Callable[[FloatArray], FloatArray]
IntArray = NDArray[np.int64]


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
    n: IntArray
    off: IntArray

    def nodes(self) -> FloatArray:
        total = int(self.n.sum())
        seg = np.repeat(np.arange(self.n.size), self.n)
        local = np.arange(total) - self.off[seg]
        return self.a[seg] + self.h[seg] * local

    def midpoints(self) -> tuple[FloatArray, IntArray]:
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

    def cells(self, t: FloatArray, seg: IntArray) -> tuple[IntArray, FloatArray]:
        """Each time's cell (the index of the node that starts it) and its offset in it."""
        u = (t - self.a[seg]) / self.h[seg]
        i = np.clip(np.floor(u).astype(np.int64), 0, self.n[seg] - 2)
        return self.off[seg] + i, u - i

    @staticmethod
    def quaternions(
        coef: FloatArray, cell: IntArray, tau: FloatArray, out: FloatArray | None = None
    ) -> FloatArray:
        """Interpolated (unnormalised) quaternions (4, K) at cells ``cell``, offsets ``tau``;
        ``coef`` holds the cells' coefficients as rows (16, n_cells)."""
        q = np.empty((4, cell.size)) if out is None else out
        c = np.empty(cell.size)
        for comp in range(4):  # Horner, one contiguous row at a time
            row = q[comp]
            coef[12 + comp].take(cell, out=row)
            row *= tau
            row += coef[8 + comp].take(cell, out=c)
            row *= tau
            row += coef[4 + comp].take(cell, out=c)
            row *= tau
            row += coef[comp].take(cell, out=c)
        return q


#: Lagrange weights of four uniform nodes at offsets 0.5 and 2.5 (node units) from the first.
_WEIGHTS = {0: np.array([5.0, 15.0, -5.0, 1.0]) / 16, 2: np.array([1.0, -5.0, 15.0, 5.0]) / 16}


def _estimates(grid: _Grid, q: FloatArray, coef: FloatArray) -> FloatArray:
    """An estimate (rad) of each cell's interpolation error from the nodes alone: the angle
    between its cubic and the cubic through the neighbouring stencil, at the cell midpoint.
    For a smooth rotation that is 2.67 times the cell's error at its midpoint (the errors of
    the centred and the shifted cubic are 9/384 and -15/384 of h**4 times the fourth
    derivative). Cells whose own cubic is not centred (the first and last of a segment, and
    every cell of a four-node segment) have no estimate: infinity."""
    seg = np.repeat(np.arange(grid.n.size), grid.n)
    i = np.arange(q.shape[0]) - grid.off[seg]  # each cell's first node, in its segment
    n = grid.n[seg]
    centred = (i >= 1) & (i <= n - 3) & (n >= 5)
    est = np.full(q.shape[0], np.inf)
    cells = np.flatnonzero(centred)
    if cells.size:
        ahead = i[cells] + 3 <= n[cells] - 1  # the stencil i..i+3, else i-2..i+1
        first = grid.off[seg[cells]] + np.where(ahead, i[cells], i[cells] - 2)
        w = np.where(ahead[:, None], _WEIGHTS[0], _WEIGHTS[2])
        other = np.einsum("kj,kjc->kc", w, q[first[:, None] + np.arange(4)])
        own = grid.quaternions(coef, cells, np.full(cells.size, 0.5)).T
        own /= np.linalg.norm(own, axis=1, keepdims=True)
        other /= np.linalg.norm(other, axis=1, keepdims=True)
        est[cells] = 2.0 * np.linalg.norm(own - other, axis=1)
    return est


def _angle(qa: FloatArray, qb: FloatArray) -> FloatArray:
    """Rotation angles (rad) between unit quaternions (K, 4), accurate for small angles too
    (4 asin of half the chord: arccos of the dot product loses everything under ~2e-8 rad)."""
    sign = np.where(np.sum(qa * qb, axis=1) < 0, -1.0, 1.0)
    chord = np.linalg.norm(qa - qb * sign[:, None], axis=1)
    return np.asarray(4.0 * np.arcsin(np.clip(0.5 * chord, 0.0, 1.0)), dtype=np.float64)


def _checked(grid: _Grid, q: FloatArray, coef: FloatArray, exact: Exact) -> NDArray[np.bool_]:
    """The cells whose samples must be evaluated exactly: a cell whose estimate
    (:func:`_estimates`) is under ``SCREEN * INTERP_TOL_RAD`` passes; any other is checked at
    its midpoint against ``exact`` and fails above ``INTERP_TOL_RAD``."""
    mids, mid_seg = grid.midpoints()
    cell, tau = grid.cells(mids, mid_seg)
    doubt = ~(_estimates(grid, q, coef)[cell] < SCREEN * INTERP_TOL_RAD)
    bad = np.zeros(q.shape[0], dtype=bool)
    if doubt.any():
        qm = grid.quaternions(coef, cell[doubt], tau[doubt]).T
        qm /= np.linalg.norm(qm, axis=1, keepdims=True)
        err = _angle(qm, m2q(exact(mids[doubt])))
        bad[cell[doubt][err > INTERP_TOL_RAD]] = True
    return bad


def _segments(et: FloatArray, h: float, windows: FloatArray | None) -> tuple[IntArray, IntArray]:
    """Start and end (exclusive) sample indices of segments of sorted ``et``: split at gaps
    longer than GAP_FACTOR * h and at the boundaries of ``windows`` (CK intervals)."""
    brk = np.diff(et) > GAP_FACTOR * h
    if windows is not None and windows.size:
        win = np.searchsorted(windows[:, 0], et, side="right")
        brk |= np.diff(win) != 0
    starts = np.r_[0, np.flatnonzero(brk) + 1]
    return starts, np.r_[starts[1:], et.size]


@dataclass
class Interpolation:
    """A rotation at sample times ``et`` (any order), ready to evaluate: matrices or vectors.

    ``first`` holds each segment's first time (sorted), ``grid_of`` its segment of ``grid``
    (-1: evaluated exactly), ``coef`` the cells' cubics and ``bad`` the cells that failed
    the midpoint check."""

    et: FloatArray
    exact: Exact
    first: FloatArray
    grid_of: IntArray
    grid: _Grid
    coef: FloatArray
    bad: NDArray[np.bool_]

    def _rows(self, lo: int, hi: int, q: FloatArray, rows: FloatArray) -> NDArray[np.bool_]:
        """Matrix elements of samples lo..hi into ``rows`` (9, K) (``q`` (4, K) is scratch);
        returns which of them need exact values."""
        t = self.et[lo:hi]
        g = self.grid_of[np.searchsorted(self.first, t, side="right") - 1]
        cell, tau = self.grid.cells(t, np.maximum(g, 0))
        q2m_rows(self.grid.quaternions(self.coef, cell, tau, q[:, : t.size]), rows[:, : t.size])
        direct: NDArray[np.bool_] = (g < 0) | self.bad[cell]
        return direct

    def _chunks(self) -> Iterator[tuple[int, int, FloatArray, FloatArray]]:
        """(lo, hi, quaternion rows, matrix rows) of each chunk, the rows reused (a fresh
        large array per chunk would cost a page fault per 4 KiB)."""
        if not self.grid.n.size:
            return
        n = self.et.size
        q, rows = np.empty((4, min(CHUNK, n))), np.empty((9, min(CHUNK, n)))
        for lo in range(0, n, CHUNK):
            hi = min(lo + CHUNK, n)
            yield lo, hi, q, rows[:, : hi - lo]

    def matrices(self) -> FloatArray:
        """Rotation matrices (N, 3, 3) at every sample."""
        n = self.et.size
        out = np.empty((n, 3, 3))
        flat = out.reshape(n, 9)
        direct = np.ones(n, dtype=bool)
        for lo, hi, q, rows in self._chunks():
            direct[lo:hi] = self._rows(lo, hi, q, rows)
            flat[lo:hi] = rows.T
        if direct.any():
            out[direct] = self.exact(self.et[direct])
        return out

    def apply(self, v: FloatArray) -> FloatArray:
        """The vectors (N, 3) rotated, without forming the (N, 3, 3) matrices."""
        n = self.et.size
        out = np.empty((n, 3))
        direct = np.ones(n, dtype=bool)
        for lo, hi, q, rows in self._chunks():
            direct[lo:hi] = self._rows(lo, hi, q, rows)
            apply_rows(rows, v[lo:hi].T, out[lo:hi].T)
        if direct.any():
            out[direct] = matvec(self.exact(self.et[direct]), v[direct])
        return out


def interpolation(
    et: FloatArray, exact: Exact, h: float, *, windows: FloatArray | None = None, check: bool = False
) -> Interpolation:
    """The interpolation of ``exact`` on a grid of step ``h`` (s) over the samples ``et`` (ET
    seconds, any order): nodes evaluated, cubics fitted, cells checked when ``check``."""
    ordered = et if np.all(np.diff(et) >= 0) else np.sort(et, kind="stable")
    starts, stops = _segments(ordered, h, windows) if et.size else (np.zeros(0, np.int64),) * 2
    a, b, cnt = ordered[starts], ordered[stops - 1], stops - starts
    n = np.maximum(4, np.ceil((b - a) / h).astype(np.int64) + 1)
    gi = np.flatnonzero((cnt > n) & (b > a))
    gn = n[gi]
    grid = _Grid(a[gi], (b[gi] - a[gi]) / (gn - 1), gn, np.r_[0, np.cumsum(gn)[:-1]].astype(np.int64))
    grid_of = np.full(starts.size, -1, dtype=np.int64)
    grid_of[gi] = np.arange(gi.size)
    coef, bad = np.zeros((16, 0)), np.zeros(0, dtype=bool)
    if gi.size:
        nodes = grid.nodes()
        q = m2q(exact(nodes))
        flip = np.sign(np.sum(q[1:] * q[:-1], axis=1))
        flip[flip == 0] = 1.0
        q *= np.cumprod(np.r_[1.0, flip])[:, None]
        coef = grid.coefficients(q)
        bad = _checked(grid, q, coef, exact) if check else np.zeros(nodes.size, dtype=bool)
    return Interpolation(et=et, exact=exact, first=a, grid_of=grid_of, grid=grid, coef=coef, bad=bad)


def interpolated(
    et: FloatArray, exact: Exact, h: float, *, windows: FloatArray | None = None, check: bool = False
) -> FloatArray:
    """Matrices (N, 3, 3) at ``et`` (any order) by interpolation of ``exact`` on a grid of
    step ``h``; see :func:`interpolation`."""
    if et.size == 0:
        return np.empty((0, 3, 3))
    return interpolation(et, exact, h, windows=windows, check=check).matrices()

"""Re-sampling and averages, vectorised with ``np.bincount`` (NaN-aware).

- **31.25 ms -> 125 ms** (mixed-rate stretches of normal files, and burst data filling the
  8 Hz product): the 125 ms record centred on an 8 Hz grid instant t_k is the trapezoid mean of
  the 32 Hz samples within +-62.5 ms (weights 1/2, 1, 1, 1, 1/2: the samples exactly on the edges
  are shared by the two neighbouring records), so it is centred on t_k like the 8 Hz records
  (documented choice: averaging, not decimation). The grid phase is that of the file's 8 Hz
  records. On a 4 Hz day the grid is the day's own 250 ms one (weights 1/2, 1 x 7, 1/2).
- **1 s** (overlapped): windows of 2 s centred on k + 0.5 s, stepped by 1 s, so every sample
  enters two averages; BTOTAL is the mean of the high-rate |B| (not |mean B|).
- **1 min**: [m, m + 60 s) stamped at m + 30 s; BTOTAL the mean of the high-rate |B|.
- **prep 1 s**: [k, k + 1 s) stamped at k + 0.5 s (no overlap), the input of the offset work.

Every average also returns the number of samples that went in (0 = gap, the average is NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NS = 1_000_000_000
DT8_NS = 125_000_000


@dataclass(kw_only=True)
class Averages:
    time: np.ndarray  # int64 TT2000 stamps
    b: np.ndarray  # (M, 3) nT, NaN where empty
    btotal: np.ndarray  # (M,) nT
    npts: np.ndarray  # (M,) samples used


def grid_phase(t: np.ndarray, day_start: int, step: int = DT8_NS) -> int:
    """Phase (ns) of the 8 Hz grid: median of the records' offsets modulo ``step``."""
    if t.size == 0:
        return 0
    return int(np.median(np.mod(t - day_start, step)))


def to_125ms(
    t: np.ndarray, b: np.ndarray, day_start: int, phase: int, step: int = DT8_NS
) -> tuple[np.ndarray, np.ndarray]:
    """Trapezoid means of 32 Hz samples (N, k) on the normal-mode grid of ``step`` ns (8 Hz;
    250 ms on 4 Hz days): (stamps, (M, k) means)."""
    k_cols = b.shape[1]
    if t.size == 0:
        return np.empty(0, np.int64), np.empty((0, k_cols))
    u = (t - day_start - phase) / step
    lo = np.floor(u).astype(np.int64)
    frac = u - lo
    edge = np.abs(frac - 0.5) < 0.05
    k1 = np.where(frac < 0.5, lo, lo + 1)
    idx = np.concatenate([np.where(edge, lo, k1), lo[edge] + 1])
    w = np.concatenate([np.where(edge, 0.5, 1.0), np.full(int(edge.sum()), 0.5)])
    vals = np.concatenate([b, b[edge]])
    good = np.isfinite(vals).all(axis=1)
    idx, w, vals = idx[good], w[good], vals[good]
    if idx.size == 0:
        return np.empty(0, np.int64), np.empty((0, k_cols))
    base = idx.min()
    j = idx - base
    wsum = np.bincount(j, w)
    used = wsum > 0
    sums = np.stack([np.bincount(j, w * vals[:, c], minlength=wsum.size) for c in range(k_cols)], 1)
    k = np.flatnonzero(used) + base
    return day_start + phase + k * step, sums[used] / wsum[used, None]


def _binned(idx: np.ndarray, b: np.ndarray, btot: np.ndarray | None, nbins: int) -> tuple[np.ndarray, ...]:
    """Per bin: samples, component sums, |B| sums (``btot`` per sample, else |b|)."""
    mag = np.sqrt(np.einsum("ij,ij->i", b, b)) if btot is None else btot
    good = np.isfinite(b).all(axis=1) & np.isfinite(mag) & (idx >= 0) & (idx < nbins)
    if good.all():  # the usual day: no masked copies
        i, bg, mg = idx, b, mag
    else:
        i, bg, mg = idx[good], b[good], mag[good]
    cols = np.ascontiguousarray(bg.T, dtype=np.float64)  # each component contiguous, once
    n = np.bincount(i, minlength=nbins)
    s = np.stack([np.bincount(i, cols[c], minlength=nbins) for c in range(3)], 1)
    m = np.bincount(i, mg, minlength=nbins)
    return n, s, m


def _finish(stamps: np.ndarray, n: np.ndarray, s: np.ndarray, m: np.ndarray) -> Averages:
    with np.errstate(invalid="ignore", divide="ignore"):
        return Averages(time=stamps, b=s / n[:, None], btotal=m / n, npts=n)


def average_bins(
    t: np.ndarray, b: np.ndarray, day_start: int, day_end: int, width_s: int, btot: np.ndarray | None = None
) -> Averages:
    """Non-overlapping bins [k w, (k + 1) w) over the day, stamped at the centres; BTOTAL the
    mean of ``btot`` (the high-rate |B|; |b| when not given)."""
    w = width_s * NS
    nbins = int((day_end - day_start) // w)
    idx = np.floor_divide(t - day_start, w)
    n, s, m = _binned(idx, b, btot, nbins)
    return _finish(day_start + np.arange(nbins, dtype=np.int64) * w + w // 2, n, s, m)


def average_1s_overlapped(
    t: np.ndarray, b: np.ndarray, day_start: int, day_end: int, btot: np.ndarray | None = None
) -> Averages:
    """2-s windows centred on k + 0.5 s, stepped by 1 s (each sample in two windows): the sums
    of the half-second-shifted 1-s bins k and k + 1."""
    nbins = int((day_end - day_start) // NS)
    v = np.floor_divide(t - day_start + NS // 2, NS)  # window k holds v in {k, k + 1}
    n, s, m = _binned(v, b, btot, nbins + 1)
    return _finish(
        day_start + np.arange(nbins, dtype=np.int64) * NS + NS // 2,
        n[:-1] + n[1:],
        s[:-1] + s[1:],
        m[:-1] + m[1:],
    )

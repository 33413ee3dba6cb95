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


def finite_rows(b: np.ndarray) -> np.ndarray:
    """Rows of (N, k) ``b`` with every component finite (component by component: no slow
    row reduction)."""
    ok: np.ndarray = np.isfinite(b[:, 0])
    for c in range(1, b.shape[1]):
        ok &= np.isfinite(b[:, c])
    return ok


def _binned_many(
    idx: np.ndarray, cols: list[np.ndarray], finite: np.ndarray, mag: np.ndarray, nbins: int
) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Per bin: samples, the sums of each column of ``cols`` (contiguous float64 columns of
    vectors that share the good samples ``finite``), and the |B| sums. The bin indices, the
    counts and the |B| sums are computed once for all the columns; samples that are not good
    go to one extra bin, dropped, so no column is copied (the sums of the other bins add the
    same samples in the same order)."""
    good = finite & (idx >= 0) & (idx < nbins)
    i = idx if good.all() else np.where(good, idx, nbins)
    n = np.bincount(i, minlength=nbins + 1)[:nbins]
    sums = [np.bincount(i, c, minlength=nbins + 1)[:nbins] for c in cols]
    return n, sums, np.bincount(i, mag, minlength=nbins + 1)[:nbins]


def _binned(idx: np.ndarray, b: np.ndarray, btot: np.ndarray | None, nbins: int) -> tuple[np.ndarray, ...]:
    """Per bin: samples, component sums, |B| sums (``btot`` per sample, else |b|)."""
    mag = np.sqrt(np.einsum("ij,ij->i", b, b)) if btot is None else btot
    cols = list(np.ascontiguousarray(b.T, dtype=np.float64))  # each component contiguous, once
    n, s, m = _binned_many(idx, cols, finite_rows(b) & np.isfinite(mag), mag, nbins)
    return n, np.stack(s, 1), m


def _finish(stamps: np.ndarray, n: np.ndarray, s: np.ndarray, m: np.ndarray) -> Averages:
    with np.errstate(invalid="ignore", divide="ignore"):
        return Averages(time=stamps, b=s / n[:, None], btotal=m / n, npts=n)


def _minute_bins(
    t: np.ndarray, day_start: int, day_end: int, width_s: int
) -> tuple[np.ndarray, int, np.ndarray]:
    """Bin indices of [k w, (k + 1) w) over the day, the bin count and the centre stamps."""
    w = width_s * NS
    nbins = int((day_end - day_start) // w)
    stamps = day_start + np.arange(nbins, dtype=np.int64) * w + w // 2
    return np.floor_divide(t - day_start, w), nbins, stamps


def _overlapped_bins(t: np.ndarray, day_start: int, day_end: int) -> tuple[np.ndarray, int, np.ndarray]:
    """Half-second-shifted 1-s bin indices (window k holds bins k and k + 1), the window
    count and the window stamps (k + 0.5 s)."""
    nbins = int((day_end - day_start) // NS)
    stamps = day_start + np.arange(nbins, dtype=np.int64) * NS + NS // 2
    return np.floor_divide(t - day_start + NS // 2, NS), nbins, stamps


def average_bins(
    t: np.ndarray, b: np.ndarray, day_start: int, day_end: int, width_s: int, btot: np.ndarray | None = None
) -> Averages:
    """Non-overlapping bins [k w, (k + 1) w) over the day, stamped at the centres; BTOTAL the
    mean of ``btot`` (the high-rate |B|; |b| when not given)."""
    idx, nbins, stamps = _minute_bins(t, day_start, day_end, width_s)
    n, s, m = _binned(idx, b, btot, nbins)
    return _finish(stamps, n, s, m)


def average_1s_overlapped(
    t: np.ndarray, b: np.ndarray, day_start: int, day_end: int, btot: np.ndarray | None = None
) -> Averages:
    """2-s windows centred on k + 0.5 s, stepped by 1 s (each sample in two windows): the sums
    of the half-second-shifted 1-s bins k and k + 1."""
    v, nbins, stamps = _overlapped_bins(t, day_start, day_end)
    n, s, m = _binned(v, b, btot, nbins + 1)
    return _finish(stamps, n[:-1] + n[1:], s[:-1] + s[1:], m[:-1] + m[1:])


def average_day(
    t: np.ndarray, frames: dict[str, np.ndarray], btot: np.ndarray, day_start: int, day_end: int
) -> dict[str, Averages]:
    """The 1-s overlapped and 1-min averages of one series in several frames at once
    (``{"sc": b_sc, "rtn": b_rtn}`` gives ``sc_1s``, ``sc_1min``, ``rtn_1s``, ``rtn_1min``),
    each exactly what :func:`average_1s_overlapped` and :func:`average_bins` give: per cadence
    the bin indices, counts and |B| sums are computed once, each component is made contiguous
    once. Frames whose fill differs (never, for one series rotated) are binned apart."""
    finite = {name: finite_rows(b) & np.isfinite(btot) for name, b in frames.items()}
    groups: list[list[str]] = []
    for name in frames:
        same = next((g for g in groups if np.array_equal(finite[g[0]], finite[name])), None)
        if same is None:
            groups.append([name])
        else:
            same.append(name)
    cols = {name: list(np.ascontiguousarray(b.T, dtype=np.float64)) for name, b in frames.items()}
    out: dict[str, Averages] = {}
    for suffix, overlapped, (idx, nbins, stamps) in (
        ("1s", True, _overlapped_bins(t, day_start, day_end)),
        ("1min", False, _minute_bins(t, day_start, day_end, 60)),
    ):
        for group in groups:
            columns = [c for name in group for c in cols[name]]
            n, sums, m = _binned_many(idx, columns, finite[group[0]], btot, nbins + overlapped)
            for k, name in enumerate(group):
                s = np.stack(sums[3 * k : 3 * k + 3], 1)
                if overlapped:
                    out[f"{name}_{suffix}"] = _finish(stamps, n[:-1] + n[1:], s[:-1] + s[1:], m[:-1] + m[1:])
                else:
                    out[f"{name}_{suffix}"] = _finish(stamps, n, s, m)
    return out

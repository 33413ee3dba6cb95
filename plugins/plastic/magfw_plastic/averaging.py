"""Binning and averaging on the UTC grid (NaN-aware, vectorised with ``np.bincount``).

Times are CDF_EPOCH milliseconds (UTC, 86 400 000 ms in every day: a leap second folds onto
23:59:59.x, as in the MAG L1 CDFs), so a minute bin is ``floor((t - t0) / 60 000)`` on every
day. Bins are ``[k T, (k + 1) T)`` from ``t0`` and stamped at their centre ``t0 + (k + 1/2) T``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

MINUTE_MS = 60_000.0
DAY_MS = 86_400_000.0
MINUTES_PER_DAY = 1440


def day_start_ms(day: date) -> float:
    """CDF_EPOCH ms of 00:00 UTC of ``day``."""
    return float((day.toordinal() + 365) * 86_400_000)  # year 0 has 366 days; ordinal 1 = 0001-01-01


def bin_index(t_ms: np.ndarray, t0_ms: float, width_ms: float, nbins: int) -> tuple[np.ndarray, np.ndarray]:
    """Bin of each time (int64) and the mask of times inside ``[t0, t0 + nbins * width)``."""
    idx = np.floor((np.asarray(t_ms, dtype=np.float64) - t0_ms) / width_ms)
    inside = np.isfinite(idx) & (idx >= 0) & (idx < nbins)
    return np.where(inside, idx, 0).astype(np.int64), inside


def nanmean_bins(
    idx: np.ndarray, values: np.ndarray, nbins: int, weights_ok: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the finite ``values`` (``[N]`` or ``[N, k]``) per bin and their count; NaN where
    a bin holds none. ``weights_ok`` (bool ``[N]``) further limits which samples count."""
    v = np.asarray(values, dtype=np.float64)
    flat = v.reshape(v.shape[0], int(np.prod(v.shape[1:])))
    ok = np.isfinite(flat).all(axis=1)
    if weights_ok is not None:
        ok &= weights_ok
    n = np.bincount(idx[ok], minlength=nbins)[:nbins]
    sums = np.stack(
        [np.bincount(idx[ok], flat[ok, j], minlength=nbins)[:nbins] for j in range(flat.shape[1])], axis=1
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n[:, None] > 0, sums / n[:, None], np.nan)
    return mean.reshape((nbins, *v.shape[1:])), n


def max_bins(idx: np.ndarray, values: np.ndarray, nbins: int) -> np.ndarray:
    """Largest finite value per bin (NaN where none)."""
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    out = np.full(nbins, -np.inf)
    np.maximum.at(out, idx[ok], v[ok])
    out[np.isneginf(out)] = np.nan
    return out


@dataclass(kw_only=True)
class MagMinutes:
    """MAG L1 RTN reduced to the 1-min bins of one day (or several days end to end).

    ``b`` [M, 3] mean BR, BT, BN (nT); ``btotal`` [M] mean of the high-rate magnitudes (nT);
    ``n`` samples averaged; ``expected`` samples a full minute holds at the file's cadence;
    ``filter_value`` the largest spike-filter limit in the minute (nT)."""

    b: np.ndarray
    btotal: np.ndarray
    n: np.ndarray
    expected: float
    filter_value: np.ndarray

    @classmethod
    def empty(cls, nbins: int = MINUTES_PER_DAY) -> MagMinutes:
        nan = np.full(nbins, np.nan)
        return cls(
            b=np.full((nbins, 3), np.nan),
            btotal=nan.copy(),
            n=np.zeros(nbins, np.int64),
            expected=np.nan,
            filter_value=nan.copy(),
        )


def bin_mag_minutes(
    epoch_ms: np.ndarray,
    bfield: np.ndarray,
    filter_value: np.ndarray | None,
    day_start_ms: float,
    nbins: int = MINUTES_PER_DAY,
) -> MagMinutes:
    """1-min means of interval-centred MAG samples: each sample goes to the minute holding its
    stamp (its centre). ``bfield`` is ``[N, 4]`` (BR, BT, BN, |B|) with NaN for fill; |B| is the
    mean of the high-rate magnitudes (computed from the components where the file's |B| is
    missing). Samples outside the day are ignored (a file's spill-over into the next day)."""
    b = np.asarray(bfield, dtype=np.float64)
    idx, inside = bin_index(epoch_ms, day_start_ms, MINUTE_MS, nbins)
    comp_ok = inside & np.isfinite(b[:, :3]).all(axis=1)
    i, g = idx[comp_ok], b[comp_ok]
    mag = g[:, 3]
    bad_mag = ~np.isfinite(mag)
    if bad_mag.any():
        mag = np.where(bad_mag, np.sqrt(np.sum(g[:, :3] ** 2, axis=1)), mag)
    n = np.bincount(i, minlength=nbins)[:nbins]
    sums = np.stack(
        [
            np.bincount(i, g[:, 0], minlength=nbins),
            np.bincount(i, g[:, 1], minlength=nbins),
            np.bincount(i, g[:, 2], minlength=nbins),
            np.bincount(i, mag, minlength=nbins),
        ],
        axis=1,
    )[:nbins]
    with np.errstate(invalid="ignore", divide="ignore"):
        sums = np.where(n[:, None] > 0, sums / n[:, None], np.nan)
    mean, btotal = sums[:, :3], sums[:, 3]
    t = np.asarray(epoch_ms, dtype=np.float64)[comp_ok]
    step = np.diff(t)
    step = step[step > 0]
    expected = MINUTE_MS / float(np.median(step)) if step.size else np.nan
    fv = (
        max_bins(idx[inside], np.asarray(filter_value, np.float64)[inside], nbins)
        if filter_value is not None
        else np.full(nbins, np.nan)
    )
    return MagMinutes(b=mean, btotal=btotal, n=n, expected=expected, filter_value=fv)


def average_table(
    epoch_ms: np.ndarray, columns: dict[str, np.ndarray], width_ms: float
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Average 1-min records into UTC bins of ``width_ms``: returns the centred stamps of the
    bins that hold at least one record, each column's NaN-aware mean (per column: a value
    missing in one column does not remove the others), and each column's count."""
    t = np.asarray(epoch_ms, dtype=np.float64)
    if not t.size:
        return (
            t,
            {k: np.asarray(v)[:0] for k, v in columns.items()},
            {k: np.zeros(0, np.int64) for k in columns},
        )
    k = np.floor(t / width_ms).astype(np.int64)
    keys, idx = np.unique(k, return_inverse=True)
    nb = keys.size
    means, counts = {}, {}
    for name, values in columns.items():
        means[name], counts[name] = nanmean_bins(idx, values, nb)
    return (keys.astype(np.float64) + 0.5) * width_ms, means, counts

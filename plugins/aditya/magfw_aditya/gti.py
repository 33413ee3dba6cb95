"""Good-time-interval (GTI) flags per sample and the 10-s bin quality.

A sample is bad when (configuration ``l2.gti`` in data/processing.yaml):

- derivative ratio: on some axis the change of MAG2 over ``lag_s`` (after a ``smooth_s``
  boxcar) exceeds ``min_change_nT`` and the ratio dB_MAG1 / dB_MAG2 lies outside
  ``ratio_range``. An IMF change moves both sensors alike (ratio 1); a change of the
  spacecraft field moves MAG2 more (1/8 for the centre dipole, other values for other
  sources). Bad samples are widened by ``dilate_s`` on both sides, since the test is blind
  where a disturbance momentarily stops changing;
- housekeeping: the sample lies in an L1 housekeeping gap;
- presence: the sample is missing or was removed in L1 (spike, saturation).
"""

from __future__ import annotations

import numpy as np

from magfw_aditya.config import GtiConfig
from magfw_aditya.despike import boxcar, dilate


def derivative(tt_s: np.ndarray, b: np.ndarray, smooth: int, lag: int, cadence_s: float) -> np.ndarray:
    """smoothed(t + lag/2) - smoothed(t - lag/2) per axis (N,3); NaN where the two ends are
    not ``lag`` samples apart in time (gaps) or at the edges."""
    sm = boxcar(b, smooth)
    half = lag // 2
    out = np.full(b.shape, np.nan)
    if b.shape[0] <= 2 * half:
        return out
    d = sm[2 * half :] - sm[: -2 * half]
    span = tt_s[2 * half :] - tt_s[: -2 * half]
    ok = np.abs(span - 2 * half * cadence_s) < 0.5 * cadence_s
    d[~ok] = np.nan
    out[half : b.shape[0] - half] = d
    return out


def ratio_flags(
    tt_s: np.ndarray, b1: np.ndarray, b2: np.ndarray, cfg: GtiConfig, cadence_s: float
) -> np.ndarray:
    """True where the derivative-ratio rule marks a sample bad (dilated)."""
    smooth = max(1, int(round(cfg.smooth_s / cadence_s)))
    lag = max(2, int(round(cfg.lag_s / cadence_s)))
    d1 = derivative(tt_s, b1, smooth, lag, cadence_s)
    d2 = derivative(tt_s, b2, smooth, lag, cadence_s)
    lo, hi = cfg.ratio_range
    with np.errstate(invalid="ignore", divide="ignore"):
        big = np.abs(d2) > cfg.min_change_nt
        r = d1 / d2
        bad_axis = big & ((r < lo) | (r > hi))
    bad = np.any(bad_axis, axis=1)
    return dilate(bad, tt_s, cfg.dilate_s)


def in_intervals(tt: np.ndarray, intervals: np.ndarray) -> np.ndarray:
    """True where ``tt`` lies in one of the [start, end] (M,2) intervals (inclusive)."""
    if intervals.size == 0:
        return np.zeros(tt.shape, dtype=bool)
    iv = intervals[np.argsort(intervals[:, 0])]
    i = np.searchsorted(iv[:, 0], tt, side="right") - 1
    ends = np.maximum.accumulate(iv[:, 1])
    return (i >= 0) & (tt <= ends[np.clip(i, 0, None)])


def quality_factor(bad_percent: float) -> int:
    """Table 4: < 10 % bad or missing -> 10, 10-25 % -> 9, 25-50 % -> 8, > 50 % -> 7 at 50 %
    down to 1 at 100 % (linear, rounded; the split of 1-7 is ours)."""
    p = float(bad_percent)
    if p < 10:
        return 10
    if p < 25:
        return 9
    if p <= 50:
        return 8
    return int(np.clip(round(7 - 6 * (p - 50) / 50), 1, 7))

"""Running medians, spike and saturation detection (vectorised, NaN-aware)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def running_median(x: np.ndarray, window: int) -> np.ndarray:
    """Centred running median of ``x`` (N,) or (N,k) along axis 0 over ``window`` (odd)
    samples, ignoring NaN; edges use a shrunken (edge-padded) window; all-NaN windows give NaN.

    Windows without NaN (nearly all) take the middle element by a partial sort; those with NaN
    (the edges, data gaps) are sorted (NaN sort last) and the median of their valid values is
    picked. No Python loop over samples.
    """
    if window % 2 == 0 or window < 1:
        raise ValueError("window must be a positive odd number of samples")
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] == 0 or window == 1:
        return x.copy()
    half = window // 2
    pad = [(half, half)] + [(0, 0)] * (x.ndim - 1)
    xp = np.pad(x, pad, mode="constant", constant_values=np.nan)
    view = sliding_window_view(xp, window, axis=0)  # (N, [k,] window)
    out: np.ndarray = np.partition(view, half, axis=-1)[..., half]  # right where no NaN
    nan_count = np.cumsum(np.concatenate([np.zeros((1,) + x.shape[1:]), np.isnan(xp)]), axis=0)
    gappy = (nan_count[window:] - nan_count[:-window]) > 0  # windows holding a NaN
    if gappy.any():
        w = np.sort(view[gappy], axis=-1)
        n = np.sum(~np.isnan(w), axis=-1)
        lo = np.clip((n - 1) // 2, 0, window - 1)
        hi = np.clip(n // 2, 0, window - 1)
        a = np.take_along_axis(w, lo[:, None], axis=-1)[:, 0]
        b = np.take_along_axis(w, hi[:, None], axis=-1)[:, 0]
        med = 0.5 * (a + b)
        med[n == 0] = np.nan
        out[gappy] = med
    return out


def spikes(b: np.ndarray, window: int, threshold: float) -> np.ndarray:
    """True where any component of ``b`` (N,3) departs from its running median by more than
    ``threshold`` (same units)."""
    med = running_median(b, window)
    with np.errstate(invalid="ignore"):
        out: np.ndarray = np.any(np.abs(b - med) > threshold, axis=1)
    return out


def saturated(counts: np.ndarray, limit: int) -> np.ndarray:
    """True where any axis of ``counts`` (N,...,3) reaches +-``limit`` (the ADC range)."""
    c = np.abs(np.asarray(counts, dtype=np.int32))
    out: np.ndarray = np.any(c.reshape(c.shape[0], -1) >= limit, axis=1)
    return out


def boxcar(x: np.ndarray, window: int) -> np.ndarray:
    """Centred running mean over ``window`` samples along axis 0, NaN-aware (mean of the
    valid values; NaN where a window has none)."""
    x = np.asarray(x, dtype=np.float64)
    valid = ~np.isnan(x)
    v = np.where(valid, x, 0.0)
    cs = np.cumsum(np.concatenate([np.zeros((1,) + x.shape[1:]), v]), axis=0)
    cn = np.cumsum(np.concatenate([np.zeros((1,) + x.shape[1:]), valid]), axis=0)
    n = x.shape[0]
    half = window // 2
    i = np.arange(n)
    lo = np.clip(i - half, 0, n)
    hi = np.clip(i - half + window, 0, n)
    s = cs[hi] - cs[lo]
    c = cn[hi] - cn[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, s / np.maximum(c, 1), np.nan)


def dilate(mask: np.ndarray, t: np.ndarray, seconds: float) -> np.ndarray:
    """``mask`` widened in time: True wherever a True sample lies within ``seconds`` (``t`` in
    seconds, increasing)."""
    if seconds <= 0 or not mask.any():
        return mask.copy()
    tb = t[mask]
    i = np.searchsorted(tb, t)
    before = np.where(i > 0, t - tb[np.clip(i - 1, 0, tb.size - 1)], np.inf)
    after = np.where(i < tb.size, tb[np.clip(i, 0, tb.size - 1)] - t, np.inf)
    return np.minimum(before, after) <= seconds

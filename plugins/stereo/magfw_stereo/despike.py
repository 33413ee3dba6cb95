"""Spike and X-sensor glitch removal on a uniform-rate series (8 Hz or 32 Hz), vectorised.

Both defects are *pulses*: the field jumps at one record and jumps back a few records later.
A pulse is a pair of one-record steps on one component, of opposite sign and sizes within
``PAIR_TOL`` of the larger, at most ``max_len`` records apart (shortest pairs first).

- **Spikes**: a pulse of at most 3 records whose steps exceed ``SPIKE_NT`` (2 nT) on any
  component; the records become fill (NaN). Also any record whose |B| exceeds the day's
  ``FILTER_VALUE`` (10 x the median |B|, at least 100 nT), the limit written in the CDFs.
- **X-sensor glitches** (~0.5 nT, sub-second, STEREO-A): a pulse on X with steps of at least
  ``EDGE_NT`` (0.12 nT) while Y and Z step by less than ``EDGE_RATIO`` of it, at most 1 s long
  (8 records at 8 Hz, 32 at 32 Hz), confirmed when (a) X sits on a plateau at least
  ``GLITCH_NT`` (0.25 nT) off the line through the two records on each side while Y and Z stay
  within ``GLITCH_RATIO`` of that, (b) both edges are sharp (each at least ``SHARP`` of the
  plateau) and (c) the top is flat (inner steps at most ``FLAT`` of the smaller edge). A smooth
  bump of the field (turbulence, a rotation) rises over several records and fails (b) or (c).
  X is replaced by the straight line between the records just before and after; Y and Z kept.

Thresholds are documented choices: in the simulated solar wind one-record steps are ~0.05 nT
RMS at 8 Hz (noise + turbulence); the recall and false-positive rate they give are measured in
``tests/test_stereo_l1.py`` (docs/stereo.md quotes them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SPIKE_NT = 2.0
SPIKE_MAX_LEN = 3
GLITCH_NT = 0.25
GLITCH_RATIO = 0.4
EDGE_NT = 0.12
EDGE_RATIO = 0.6
PAIR_TOL = 0.6
SHARP = 0.5
FLAT = 0.5
FILTER_MIN_NT = 100.0
FILTER_FACTOR = 10.0


@dataclass(kw_only=True)
class Despiked:
    b: np.ndarray  # (N, 3) with spikes NaN and X glitches interpolated
    spike: np.ndarray  # bool (N,)
    glitch: np.ndarray  # bool (N,)
    filter_value: float  # nT


def _pulses(e: np.ndarray, ok: np.ndarray, max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Start/end record indices (inclusive) of pulses: steps e[i] (x[i+1]-x[i]) and e[i+m],
    both candidates (``ok``), opposite sign, sizes within ``PAIR_TOL`` of the larger,
    1 <= m <= max_len (shortest first). Works on the (sparse) candidate steps only."""
    cand = np.flatnonzero(ok)
    starts, ends = [], []
    taken = np.zeros(cand.size, dtype=bool)
    for m in range(1, max_len + 1):
        j = np.searchsorted(cand, cand + m)
        hit = j < cand.size
        hit[hit] = cand[j[hit]] == cand[hit] + m
        i = np.flatnonzero(hit)
        k = j[i]
        ea, eb = e[cand[i]], e[cand[k]]
        pair = (np.sign(ea) == -np.sign(eb)) & ~taken[i] & ~taken[k]
        pair &= np.abs(ea + eb) <= PAIR_TOL * np.maximum(np.abs(ea), np.abs(eb))
        i, k = i[pair], k[pair]
        if i.size:
            taken[i] = True
            taken[k] = True
            starts.append(cand[i] + 1)
            ends.append(cand[i] + m)
    if not starts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(starts), np.concatenate(ends)


def _plateau(b: np.ndarray, s: np.ndarray, t: np.ndarray, max_len: int) -> np.ndarray:
    """(P, 3) mean offset of records s..t from the mean of the two records on each side."""
    n = b.shape[0]
    idx = s[:, None] + np.arange(max_len)
    inside = idx <= t[:, None]
    vals = np.where(inside[..., None], b[np.minimum(idx, n - 1)], 0.0)
    mean = vals.sum(axis=1) / inside.sum(axis=1)[:, None]
    lo0, lo1 = np.clip(s - 2, 0, n - 1), np.clip(s - 1, 0, n - 1)
    hi0, hi1 = np.clip(t + 1, 0, n - 1), np.clip(t + 2, 0, n - 1)
    out: np.ndarray = mean - 0.25 * (b[lo0] + b[lo1] + b[hi0] + b[hi1])
    return out


def _mark(n: int, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    mask = np.zeros(n + 1, dtype=np.int64)
    np.add.at(mask, starts, 1)
    np.add.at(mask, ends + 1, -1)
    return np.cumsum(mask[:-1]) > 0


def despike(b: np.ndarray, max_glitch: int) -> Despiked:
    """Remove spikes (to NaN) and X glitches (interpolated) from a uniform-rate (N, 3) series."""
    b = np.array(b, dtype=np.float64, copy=True)
    n = b.shape[0]
    mag = np.linalg.norm(b, axis=1)
    med = float(np.nanmedian(mag)) if np.isfinite(mag).any() else 0.0
    limit = max(FILTER_MIN_NT, FILTER_FACTOR * med)
    spike = ~(mag <= limit) & np.isfinite(mag)
    glitch = np.zeros(n, dtype=bool)
    if n < 3:
        b[spike] = np.nan
        return Despiked(b=b, spike=spike, glitch=glitch, filter_value=limit)
    e = np.diff(b, axis=0)
    e = np.where(np.isfinite(e), e, 0.0)
    for c in range(3):
        s, t = _pulses(e[:, c], np.abs(e[:, c]) > SPIKE_NT, SPIKE_MAX_LEN)
        spike |= _mark(n, s, t)
    b[spike] = np.nan
    e = np.diff(b, axis=0)
    e = np.where(np.isfinite(e), e, 0.0)
    ax = np.abs(e[:, 0])
    quiet = np.maximum(np.abs(e[:, 1]), np.abs(e[:, 2])) < EDGE_RATIO * ax
    s, t = _pulses(e[:, 0], (ax > EDGE_NT) & quiet, max_glitch)
    if s.size:  # confirm: X sits on a plateau off the line through its neighbours, Y and Z not
        dev = _plateau(b, s, t, max_glitch)
        keep = (np.abs(dev[:, 0]) > GLITCH_NT) & (
            np.maximum(np.abs(dev[:, 1]), np.abs(dev[:, 2])) < GLITCH_RATIO * np.abs(dev[:, 0])
        )
        keep &= (s >= 2) & (t <= n - 3)
        # sharp edges (each at least SHARP of the plateau) and a flat top (inner steps at
        # most FLAT of the smaller edge): a smooth bump of the field rises over several records
        edge = np.minimum(np.abs(e[s - 1, 0]), np.abs(e[t, 0]))
        keep &= edge >= SHARP * np.abs(dev[:, 0])
        span = np.arange(max_glitch)
        inner_idx = np.minimum(s[:, None] + span, e.shape[0] - 1)
        inner = np.where(s[:, None] + span < t[:, None], np.abs(e[inner_idx, 0]), 0.0)
        keep &= inner.max(axis=1, initial=0.0) <= FLAT * edge
        s, t = s[keep], t[keep]
    if s.size:
        order = np.argsort(s)
        s, t = s[order], t[order]
        before, after = s - 1, np.minimum(t + 1, n - 1)
        glitch = _mark(n, s, t)
        owner = np.cumsum(np.isin(np.arange(n), s)) - 1  # index of the pulse each record is in
        k = owner[glitch]
        idx = np.flatnonzero(glitch)
        span = (after - before)[k]
        frac = (idx - before[k]) / np.where(span == 0, 1, span)
        b[idx, 0] = b[before[k], 0] + frac * (b[after[k], 0] - b[before[k], 0])
    return Despiked(b=b, spike=spike, glitch=glitch, filter_value=limit)

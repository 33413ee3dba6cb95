"""Spike and X-sensor glitch removal on a uniform-rate series (4, 8 or 32 Hz), vectorised, with
thresholds that scale with the field's own variability.

**The scale** (:func:`scale`). ``sigma`` is, per component and record, the field's local step
spread: 1.4826 x the median absolute one-record step in blocks of ``BLOCK`` records (16 s at
8 Hz), the largest of each block and its two neighbours (so a record near a jump in activity,
a shock, takes the larger); and where two-record steps spread more than sqrt 2 times that (a
field smooth at the record scale, whose bumps rise over several records) their spread over
sqrt 2. In quiet solar wind at 8 Hz it is ~0.036 nT (0.029 of it noise), behind a shock up to
0.15 nT. Steps across a gap in time, or to a fill value, are not steps.

Both defects are *pulses*: the field jumps at one record and jumps back a few records later.

- **Spikes**: a pulse of at most 3 records whose steps exceed ``SPIKE_SIGMA`` sigma and
  ``SPIKE_NT`` (2 nT) on any component (opposite sign, sizes within ``PAIR_TOL`` of the
  larger, shortest pairs first); the records become fill (NaN). Also any record whose |B|
  exceeds the day's ``FILTER_VALUE`` (10 x the median |B|, at least 100 nT), the limit
  written in the CDFs.
- **X-sensor glitches** (~0.5 nT, sub-second, STEREO-A): X moves by a constant ``a`` over 1 to
  ``max_len`` records (1 s) while Y and Z do not; the first record may be at half height (a
  soft edge), and so may the last. In X's one-record steps a glitch is a template: ``a`` at the
  lead step (or ``a/2`` at two), nothing inside, ``-a`` at the trail step (or ``-a/2`` at two).
  For each pair of candidate edges (a step, or two steps of one sign, at least ``EDGE_SIGMA``
  sigma) of opposite sign, the four templates are fitted by least squares: ``a`` and its
  significance ``z = a |h| / sigma`` (the matched filter of white steps). A template fits when
  every step of the pulse is within ``FIT_SIGMA`` sigma of it (flat top, matching edges) and
  its edges have the sign of ``a``; the most significant fitting one is kept. A glitch is
  accepted when ``z >= Z_GLITCH`` (plus ``TEMPLATE_Z`` for soft edges: a jump spread over two
  steps is also what a smooth bump of the field looks like) and ``|a| >= GLITCH_NT`` (below
  it X-only bumps of the turbulence are common), and when Y and Z neither step at its edges
  nor sit off their neighbours by more than ``YZ_SIGMA`` of their own sigma (an X-only
  change). Overlapping candidates: the most significant wins. Repair: ``a`` is subtracted
  from X on the glitch (``a/2`` on a soft record), which keeps the field's own fluctuation
  (a straight line across the glitch would not, in turbulence); Y and Z are kept.

  The limit is physical: a glitch is found when ``z`` clears the threshold, i.e. when ``a`` is
  more than about 2.8 sigma (sharp edges; 3.5 sigma with a soft first record). In quiet solar wind
  (sigma ~0.036 nT) that is every glitch above the 0.2 nT floor; at the 0.15 nT steps just
  behind a strong shock only glitches above ~0.45 nT can be told from the turbulence's own
  one-record pulses at a false-repair rate below 1e-4.

Recall and false positives, quiet and disturbed days, are measured in ``tests/test_stereo_l1.py``
and ``tests/test_stereo_disturbed.py`` (docs/stereo.md quotes them); the cost is a few numpy
passes over the records (``benchmarks/bench_detectors.py``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

SPIKE_NT = 2.0
SPIKE_SIGMA = 12.0
SPIKE_MAX_LEN = 3
PAIR_TOL = 0.6
FILTER_MIN_NT = 100.0
FILTER_FACTOR = 10.0
BLOCK = 128
MAD_TO_SIGMA = 1.4826
EDGE_SIGMA = 2.5
Z_GLITCH = 4.0
GLITCH_NT = 0.2
FIT_SIGMA = 4.0
YZ_SIGMA = 4.5
#: The four templates (lead soft?, trail soft?), by index, and the significance each needs
#: beyond ``Z_GLITCH``: a soft edge spreads the jump over two steps, as a smooth bump of the
#: field does, so the soft templates must be more significant.
TEMPLATES = ((False, False), (True, False), (False, True), (True, True))
TEMPLATE_Z = (0.0, 0.25, 0.5, 1.5)


@dataclass(kw_only=True)
class Despiked:
    b: np.ndarray  # (N, 3) with spikes NaN and X glitches repaired
    spike: np.ndarray  # bool (N,)
    glitch: np.ndarray  # bool (N,)
    filter_value: float  # nT


def steps(b: np.ndarray, t: np.ndarray | None, step_ns: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(N-1, 3) one-record steps, 0 across a gap in time (more than 1.5 steps) or fill, and
    the mask of the real ones."""
    e = np.diff(b, axis=0)
    bad = ~np.isfinite(e)
    if t is not None and step_ns:
        bad |= (np.diff(t) > 1.5 * step_ns)[:, None]
    e[bad] = 0.0
    return e, ~bad


def local_sigma(e: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """(N-1, 3) local spread of the steps ``e`` (module notes: block medians, widened to the
    neighbouring blocks); steps not ``valid`` (gaps, fill) are left out, and a block without
    any takes its neighbours' value. Blocks without a gap take their median by a partial sort
    (the upper middle of the block); only blocks with gaps use the NaN-aware median."""
    n, k = e.shape
    nb = max(1, -(-n // BLOCK))
    a = np.full((k, nb * BLOCK), np.nan)  # component-major: each block's records contiguous
    a[:, :n] = np.abs(e.T)
    if valid is not None:
        a[:, :n][~valid.T] = np.nan
    blocks = a.reshape(k, nb, BLOCK)
    nan = np.isnan(blocks)
    holed = nan.any(axis=2)  # (k, nb)
    med = np.partition(np.where(nan, 0.0, blocks), BLOCK // 2, axis=2)[:, :, BLOCK // 2]
    if holed.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks give NaN
            med[holed] = np.nanmedian(blocks[holed], axis=1)
    med = med.T  # (nb, k)
    fill = np.nanmedian(med, axis=0) if np.isfinite(med).any() else np.ones(k)
    med = np.where(np.isfinite(med), med, fill)
    wide = np.maximum(med, np.maximum(np.r_[med[:1], med[:-1]], np.r_[med[1:], med[-1:]]))
    out: np.ndarray = np.repeat(MAD_TO_SIGMA * wide, BLOCK, axis=0)[:n]
    return out


def scale(e: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(N-1, 3) sigma: the larger of the local spread of one-record steps and that of
    two-record steps over sqrt 2. They agree for white steps (noise, turbulence up to the
    Nyquist frequency); where the field is smooth at the record scale (a steep spectrum) its
    bumps rise over several records, two-record steps are the larger, and a jump spread over
    two steps (a soft edge) must be larger to be told from them."""
    one = local_sigma(e, valid)
    two = local_sigma(np.r_[e[:-1] + e[1:], e[-1:]], np.r_[valid[:-1] & valid[1:], valid[-1:]])
    out: np.ndarray = np.maximum(one, two / np.sqrt(2))
    return out


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


def _mark(n: int, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    mask = np.zeros(n + 1, dtype=np.int64)
    np.add.at(mask, starts, 1)
    np.add.at(mask, ends + 1, -1)
    return np.cumsum(mask[:-1]) > 0


@dataclass(frozen=True, kw_only=True)
class Glitches:
    """Accepted X glitches: first and last record (inclusive), height (nT), soft edges."""

    first: np.ndarray
    last: np.ndarray
    height: np.ndarray
    soft_lead: np.ndarray
    soft_trail: np.ndarray

    @classmethod
    def none(cls) -> Glitches:
        z = np.empty(0, np.int64)
        return cls(first=z, last=z, height=np.empty(0), soft_lead=z.astype(bool), soft_trail=z.astype(bool))


def _edge_pairs(e: np.ndarray, sig: np.ndarray, max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Candidate (lead step i, trail step j) pairs of X: each edge one step of at least
    ``EDGE_SIGMA`` sigma, or two steps of one sign whose sum is; opposite signs; the glitch's
    records i+1..j (1 <= j - i <= max_len + 1)."""
    two = np.r_[e[:-1] + e[1:], 0.0]
    one_ok = np.abs(e) >= EDGE_SIGMA * sig
    two_ok = (np.abs(two) >= EDGE_SIGMA * np.sqrt(2) * sig) & (np.sign(e) == np.sign(np.r_[e[1:], 0.0]))
    lead = np.flatnonzero(one_ok | two_ok)  # a soft lead starts at its first step
    trail = np.flatnonzero(one_ok | np.r_[False, two_ok[:-1]])  # a soft trail ends at its second
    if lead.size == 0 or trail.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    lo = np.searchsorted(trail, lead + 1)
    hi = np.searchsorted(trail, lead + max_len + 1, side="right")
    count = hi - lo
    i = np.repeat(lead, count)
    j = trail[np.repeat(lo, count) + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))]
    return i, j


def _fit(
    e: np.ndarray, sig: np.ndarray, i: np.ndarray, j: np.ndarray, max_len: int
) -> tuple[np.ndarray, ...]:
    """The most significant template that fits each candidate pair (steps i..j: lead at i, and
    i+1 when soft; trail at j, and j-1 when soft): (height, z less the template's extra
    ``TEMPLATE_Z``, template index). A template fits when every step of the pulse is within
    ``FIT_SIGMA`` sigma of it and its edges have the height's sign; z is -inf when none does."""
    n_steps = max_len + 2
    span = np.arange(n_steps)
    idx = np.minimum(i[:, None] + span, e.shape[0] - 1)
    inside = i[:, None] + span <= j[:, None]
    es = np.where(inside, e[idx], 0.0)
    s = sig[i]
    best_z = np.full(i.size, -np.inf)
    best_a = np.zeros(i.size)
    best_k = np.zeros(i.size, dtype=np.int64)
    for k, (soft_lead, soft_trail) in enumerate(TEMPLATES):
        h = np.zeros((i.size, n_steps))
        h[:, 0] = 0.5 if soft_lead else 1.0
        if soft_lead:
            h[:, 1] = 0.5
        h[(j - i)[:, None] == span] -= 0.5 if soft_trail else 1.0
        if soft_trail:
            h[(j - i - 1)[:, None] == span] -= 0.5
        norm = np.sum(h * h, axis=1)
        norm = np.maximum(norm, 1e-12)  # a soft-soft template too short to hold both edges
        a = np.sum(h * es, axis=1) / norm
        z = np.abs(a) * np.sqrt(norm) / s - TEMPLATE_Z[k]
        fits = np.max(np.abs(es - a[:, None] * h) * inside, axis=1) <= FIT_SIGMA * s
        fits &= (j - i) >= 1 + int(soft_lead) + int(soft_trail)
        fits &= (np.sign(es[:, 0]) == np.sign(a)) & (np.sign(e[j]) == -np.sign(a))
        better = fits & (z > best_z)
        best_z[better], best_a[better], best_k[better] = z[better], a[better], k
    return best_a, best_z, best_k


def _quiet_yz(
    e: np.ndarray, sig: np.ndarray, b: np.ndarray, first: np.ndarray, last: np.ndarray, max_len: int
) -> np.ndarray:
    """Y and Z do not step at the glitch's edges and their plateau stays on the line through
    the two records on either side, within ``YZ_SIGMA`` of their own sigma."""
    n = b.shape[0]
    lead, trail = first - 1, last
    ok = np.ones(first.size, dtype=bool)
    idx = first[:, None] + np.arange(max_len)
    inside = idx <= last[:, None]
    for c in (1, 2):
        s = sig[lead, c]
        ok &= (np.abs(e[lead, c]) <= YZ_SIGMA * s) & (
            np.abs(e[np.minimum(trail, e.shape[0] - 1), c]) <= YZ_SIGMA * s
        )
        vals = np.where(inside, b[np.minimum(idx, n - 1), c], 0.0)
        mean = vals.sum(axis=1) / inside.sum(axis=1)
        around = 0.25 * (b[np.clip(first - 2, 0, n - 1), c] + b[np.clip(first - 1, 0, n - 1), c]
                         + b[np.clip(last + 1, 0, n - 1), c] + b[np.clip(last + 2, 0, n - 1), c])  # fmt: skip
        ok &= np.abs(mean - around) <= YZ_SIGMA * s * np.sqrt(2)
    return ok


def _exclusive(first: np.ndarray, last: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Mask of candidates kept so that none overlaps a more significant one (vectorised:
    repeated until stable; a few passes)."""
    keep = np.ones(first.size, dtype=bool)
    order = np.argsort(first, kind="stable")
    for _ in range(64):
        k = order[keep[order]]
        if k.size < 2:
            break
        clash = first[k[1:]] <= last[k[:-1]] + 1
        if not clash.any():
            break
        a, b = k[:-1][clash], k[1:][clash]
        lose = np.where(score[a] >= score[b], b, a)
        keep[lose] = False
    return keep


def find_glitches(
    b: np.ndarray, e: np.ndarray, sig: np.ndarray, max_len: int, blocked: np.ndarray
) -> Glitches:
    """The X glitches of ``b`` (module notes); ``blocked`` records (spikes) are not used."""
    n = b.shape[0]
    ex = e[:, 0]
    i, j = _edge_pairs(ex, sig[:, 0], max_len)
    keep = (i >= 1) & (j <= n - 3)
    i, j = i[keep], j[keep]
    if i.size == 0:
        return Glitches.none()
    a, z, k = _fit(ex, sig[:, 0], i, j, max_len)
    tmpl = np.array(TEMPLATES, dtype=bool)[k]
    first, last = i + 1, j
    length = last - first + 1
    ok = (z >= Z_GLITCH) & (np.abs(a) >= GLITCH_NT) & (length <= max_len)
    first, last, a, z, tmpl = first[ok], last[ok], a[ok], z[ok], tmpl[ok]
    ok = _quiet_yz(e, sig, b, first, last, max_len)
    hit = np.cumsum(np.r_[0, blocked])
    ok &= hit[last + 3] - hit[np.maximum(first - 2, 0)] == 0
    first, last, a, z, tmpl = first[ok], last[ok], a[ok], z[ok], tmpl[ok]
    keep = _exclusive(first, last, z)
    return Glitches(
        first=first[keep], last=last[keep], height=a[keep], soft_lead=tmpl[keep, 0], soft_trail=tmpl[keep, 1]
    )


def repair(b: np.ndarray, g: Glitches) -> np.ndarray:
    """X minus each glitch's height on its records (half of it on a soft edge record), in
    place; returns the mask of repaired records."""
    n = b.shape[0]
    mask = _mark(n, g.first, g.last)
    if g.first.size:
        owner = np.cumsum(np.isin(np.arange(n), g.first)) - 1
        idx = np.flatnonzero(mask)
        k = owner[idx]
        weight = np.ones(idx.size)
        weight[(idx == g.first[k]) & g.soft_lead[k]] = 0.5
        weight[(idx == g.last[k]) & g.soft_trail[k]] = 0.5
        b[idx, 0] -= weight * g.height[k]
    return mask


def despike(
    b: np.ndarray, max_glitch: int, t: np.ndarray | None = None, step_ns: int | None = None
) -> Despiked:
    """Remove spikes (to NaN) and X glitches (repaired) from a uniform-rate (N, 3) series;
    ``t`` (TT2000) and ``step_ns`` mark gaps, across which nothing is a step."""
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
    e, valid = steps(b, t, step_ns)
    sig = scale(e, valid)
    big = np.maximum(SPIKE_NT, SPIKE_SIGMA * sig)
    for c in range(3):
        s, last = _pulses(e[:, c], np.abs(e[:, c]) > big[:, c], SPIKE_MAX_LEN)
        spike |= _mark(n, s, last)
    b[spike] = np.nan
    if max_glitch > 0:
        e, _ = steps(b, t, step_ns)
        g = find_glitches(b, e, sig, max_glitch, spike)
        glitch = repair(b, g)
    return Despiked(b=b, spike=spike, glitch=glitch, filter_value=limit)

"""Timing corrections of Berkeley's unvalidated records (research note 1.6), in this order:

1. **Duplicates**: records repeated with the same time and field (a packet sent twice) are
   dropped, the first occurrence kept.
2. **Fixed lag**: 6 ms are added to every stamp (the IMPACT IDPU -> MAG lag; bit 17).
3. **1-s timestamp glitches**: in file order a stamp can only go backwards where a run of
   records was stamped one second wrong. A backward step of 1 s - dt (dt = 125 or 31.25 ms)
   is paired with the forward step of 1 s + dt that opened the run (within
   ``MAX_GLITCH_RECORDS``) and the run is moved back by 1 s; failing that, with the next
   forward step after it (a run stamped 1 s early) (bit 19).
4. **Data-rate resync**: the first 8 Hz packet (one second, 8 records) after a 31.25 ms stretch
   carries stamps computed with the stale 31.25 ms step; a one-second group of exactly 8
   records spaced 31.25 ms is restamped at 125 ms from its first record (bit 20).
5. Records are sorted by time; any left with an identical stamp are dropped (first kept).
6. **Spill-over**: records outside [day start, next day start) are dropped.

Everything is vectorised except the loop over the (few) backward steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from magfw_stereo import flags as F

NS = 1_000_000_000
LAG_NS = 6_000_000
DT8_NS = 125_000_000
DT32_NS = 31_250_000
STEP_TOL_NS = 3_000_000
MAX_GLITCH_RECORDS = 64


@dataclass(kw_only=True)
class Corrected:
    """A day's records after the timing corrections, sorted by time."""

    time: np.ndarray  # int64 TT2000
    b: np.ndarray  # (N, 3) nT
    flags: np.ndarray  # uint32
    stats: dict[str, int] = field(default_factory=dict)


def _near(x: np.ndarray, target: float) -> np.ndarray:
    return np.abs(x - target) <= STEP_TOL_NS


def drop_exact_duplicates(t: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mask (file order) of records to keep: later copies of an identical (time, B) dropped."""
    order = np.argsort(t, kind="stable")
    ts, bs = t[order], b[order]
    same = np.zeros(t.size, dtype=bool)
    if t.size > 1:
        eq_b = np.all((bs[1:] == bs[:-1]) | (np.isnan(bs[1:]) & np.isnan(bs[:-1])), axis=1)
        same[1:] = (ts[1:] == ts[:-1]) & eq_b
    keep = np.ones(t.size, dtype=bool)
    keep[order[same]] = False
    return keep


def fix_second_glitches(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(corrected times, mask of moved records) for runs stamped one second wrong."""
    t = t.copy()
    moved = np.zeros(t.size, dtype=bool)
    d = np.diff(t)
    back = np.flatnonzero(d < 0)
    for j in back.tolist():  # one iteration per backward step: a handful per day
        dj = int(d[j]) + NS
        dt = (
            DT8_NS
            if _near(np.array([dj]), DT8_NS)[0]
            else (DT32_NS if _near(np.array([dj]), DT32_NS)[0] else None)
        )
        if dt is None:
            continue
        lo = max(0, j - MAX_GLITCH_RECORDS)
        before = np.flatnonzero(_near(d[lo:j], NS + dt))
        if before.size:
            i = lo + int(before[-1])
            t[i + 1 : j + 1] -= NS
            moved[i + 1 : j + 1] = True
            continue
        hi = min(d.size, j + 1 + MAX_GLITCH_RECORDS)
        after = np.flatnonzero(_near(d[j + 1 : hi], NS + dt))
        if after.size:
            k = j + 1 + int(after[0])
            t[j + 1 : k + 1] += NS
            moved[j + 1 : k + 1] = True
    return t, moved


def fix_rate_resync(t: np.ndarray, day_start: int) -> tuple[np.ndarray, np.ndarray]:
    """Restamp one-second groups of exactly 8 records spaced 31.25 ms at 125 ms steps.
    ``t`` must be sorted."""
    t = t.copy()
    fixed = np.zeros(t.size, dtype=bool)
    if t.size < 8:
        return t, fixed
    sec = np.floor_divide(t - day_start, NS)
    starts = np.flatnonzero(np.r_[True, sec[1:] != sec[:-1]])
    counts = np.diff(np.r_[starts, t.size])
    cand = starts[counts == 8]
    if cand.size:
        steps = np.diff(t[cand[:, None] + np.arange(8)], axis=1)
        bad = cand[np.all(_near(steps, DT32_NS), axis=1)]
        if bad.size:
            idx = bad[:, None] + np.arange(8)
            t[idx] = t[bad][:, None] + np.arange(8) * DT8_NS
            fixed[idx.ravel()] = True
    return t, fixed


def correct_timing(
    t: np.ndarray, b: np.ndarray, flags: np.ndarray, day_start: int, day_end: int, lag_ns: int = LAG_NS
) -> Corrected:
    """Apply steps 1-6 of the module docstring to one file's records (file order)."""
    keep = drop_exact_duplicates(t, b)
    n_dup = int((~keep).sum())
    t, b, fl = t[keep] + lag_ns, b[keep], flags[keep] | np.uint32(F.LAG_FIXED)
    t, moved = fix_second_glitches(t)
    fl[moved] |= np.uint32(F.TIME_RESYNC)
    order = np.argsort(t, kind="stable")
    t, b, fl = t[order], b[order], fl[order]
    t, resync = fix_rate_resync(t, day_start)
    fl[resync] |= np.uint32(F.RATE_RESYNC)
    order = np.argsort(t, kind="stable")
    t, b, fl = t[order], b[order], fl[order]
    uniq = np.r_[True, t[1:] != t[:-1]] if t.size else np.ones(0, bool)
    n_dup += int((~uniq).sum())
    t, b, fl = t[uniq], b[uniq], fl[uniq]
    inside = (t >= day_start) & (t < day_end)
    stats = {
        "records_in": int(keep.size),
        "duplicates": n_dup,
        "second_glitch_records": int(moved.sum()),
        "rate_resync_records": int(resync.sum()),
        "outside_day": int((~inside).sum()),
    }
    return Corrected(time=t[inside], b=b[inside], flags=fl[inside], stats=stats)


def rate32_mask(t: np.ndarray) -> np.ndarray:
    """Records of 31.25 ms stretches: a neighbour 31.25 ms away (``t`` sorted)."""
    if t.size < 2:
        return np.zeros(t.size, dtype=bool)
    d = np.diff(t)
    near = np.abs(d - DT32_NS) <= 2_000_000
    out: np.ndarray = np.r_[near, False] | np.r_[False, near]
    return out

"""Timing corrections of Berkeley's unvalidated records (research note 1.6), in this order:

1. **Duplicates**: records repeated with the same time and field (a packet sent twice) are
   dropped, the first occurrence kept.
2. **Fixed lag**: 6 ms are added to every stamp (the IMPACT IDPU -> MAG lag; bit 17).
3. **Data-rate resync**, at either switch of rate (bit 20): the first packet (one second)
   after a switch from step ``old`` to step ``new`` carries stamps computed with the stale
   ``old`` step. In file order it is a group of 1 s / ``new`` records spaced ``old``,
   following a record ``old`` before it, with the next packet starting exactly 1 s after
   its first record; it is restamped at ``new`` from its first record. Both directions are
   caught (the 8 Hz packet after a 31.25 ms stretch, stamped 31.25 ms apart; the first 32 Hz
   packet after 8 Hz, stamped 125 ms apart and reaching 3 s into the stretch), and so are the
   switches between 32 Hz and 4 Hz (``SWITCHES``).
4. **1-s timestamp glitch runs** (bit 19): in file order a stamp only jumps by about a second
   where a run of records was stamped one second wrong: a run stamped late opens with a
   forward step of 1 s + dt and closes with a backward step of dt - 1 s; a run stamped early
   the other way round (dt: any of the instrument's steps). Each such step is paired with the
   nearest step of the opposite kind next to it, the shorter run first, however long the run
   is; the records between are moved by one second. A jump with no partner is left alone (a
   whole missing second of data also makes a 1 s + dt step).
5. **Stamp collisions** (bit 19): two neighbours in the file claiming one stamp. The one that
   does not fit the cadence goes to the hole beside it: the first when the step before the
   pair is two sample steps (the hole is before it), the second when the step after is. With a
   hole on both sides, or none, which record is which cannot be told: both are dropped.
6. Records are sorted by time; any still sharing a stamp are dropped, every one of them (none
   is known to be right).
7. **Spill-over**: records outside [day start, next day start) are dropped.

Vectorised, except the pairing of step 4, a loop over the (few) second jumps of the day.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from magfw_stereo import flags as F

NS = 1_000_000_000
LAG_NS = 6_000_000
DT4_NS = 250_000_000
DT8_NS = 125_000_000
DT32_NS = 31_250_000
#: The instrument's sample steps (ns): 32 Hz, 8 Hz, 4 Hz.
STEPS_NS = (DT32_NS, DT8_NS, DT4_NS)
STEP_TOL_NS = 3_000_000
#: The rate switches whose first packet can carry stale stamps (old step, new step): into and
#: out of 32 Hz, from and to either normal rate.
SWITCHES = ((DT8_NS, DT32_NS), (DT32_NS, DT8_NS), (DT4_NS, DT32_NS), (DT32_NS, DT4_NS))


@dataclass(kw_only=True)
class Corrected:
    """A day's records after the timing corrections, sorted by time."""

    time: np.ndarray  # int64 TT2000
    b: np.ndarray  # (N, 3) nT
    flags: np.ndarray  # uint32
    stats: dict[str, int] = field(default_factory=dict)


def _near(x: np.ndarray, target: float | np.ndarray) -> np.ndarray:
    return np.abs(x - target) <= STEP_TOL_NS


def _step_of(x: np.ndarray) -> np.ndarray:
    """The instrument step each value of ``x`` (ns) equals within the tolerance, else 0."""
    out = np.zeros(x.shape, dtype=np.int64)
    for step in STEPS_NS:
        out[_near(x, step)] = step
    return out


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


def fix_rate_resync(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(times, restamped mask): stale-step packets after a rate switch restamped, in file
    order (step 3 of the module notes)."""
    t = t.copy()
    fixed = np.zeros(t.size, dtype=bool)
    d = np.diff(t)
    for old, new in SWITCHES:
        n = NS // new
        if t.size >= n + 2:
            ok = np.r_[0, np.cumsum(_near(d, old))]  # ok[j] = steps 0..j-1 that are `old`
            i = np.arange(1, t.size - n)  # first record of a candidate packet
            spaced = ok[i + n - 1] - ok[i - 1] == n  # steps i-1 .. i+n-2 all `old`
            bad = i[spaced & _near(t[i + n] - t[i], NS)]
            idx = bad[:, None] + np.arange(n)
            t[idx] = t[bad][:, None] + np.arange(n) * new
            fixed[idx.ravel()] = True
    return t, fixed


def _second_jumps(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices j of the steps t[j+1] - t[j] that are a one-second jump, and their sign: +1 for
    1 s + dt (forward), -1 for dt - 1 s (backward), dt any instrument step."""
    d = np.diff(t)
    fwd = _step_of(d - NS) > 0
    back = _step_of(d + NS) > 0
    j = np.flatnonzero(fwd | back)
    return j, np.where(fwd[j], 1, -1)


def fix_second_glitches(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(times, moved mask, runs): runs stamped one second wrong moved back (step 4)."""
    t = t.copy()
    moved = np.zeros(t.size, dtype=bool)
    j, sign = _second_jumps(t)
    if j.size < 2:
        return t, moved, 0
    pair = np.flatnonzero(sign[:-1] != sign[1:])  # neighbouring jumps of opposite kinds
    used = np.zeros(j.size, dtype=bool)
    runs = 0
    for k in pair[np.argsort(j[pair + 1] - j[pair], kind="stable")].tolist():
        if used[k] or used[k + 1]:
            continue
        used[k] = used[k + 1] = True
        a, b = int(j[k]) + 1, int(j[k + 1]) + 1  # records a..b-1 are the run
        t[a:b] -= int(sign[k]) * NS  # late (opened forward) -> earlier; early -> later
        moved[a:b] = True
        runs += 1
    return t, moved, runs


def fix_collisions(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times, restamped mask, drop mask): neighbours claiming one stamp (step 5)."""
    t = t.copy()
    restamped = np.zeros(t.size, dtype=bool)
    drop = np.zeros(t.size, dtype=bool)
    if t.size < 4:
        return t, restamped, drop
    i = np.flatnonzero(t[1:] == t[:-1])  # records i and i + 1 share a stamp
    group = np.zeros(t.size, dtype=np.int8)
    np.add.at(group, np.r_[i, i + 1], 1)
    inner = (i >= 1) & (i + 2 < t.size)
    i = i[inner]
    alone = (group[i] == 1) & (group[i + 1] == 1)  # a pair, not part of a larger group
    span = (t[np.minimum(i + 2, t.size - 1)] - t[np.maximum(i - 1, 0)]).astype(np.float64)
    dt = _step_of(np.round(span / 3).astype(np.int64))
    hole_before = alone & (dt > 0) & _near(t[i] - t[i - 1], 2 * dt)
    hole_after = alone & (dt > 0) & _near(t[np.minimum(i + 2, t.size - 1)] - t[i + 1], 2 * dt)
    first = i[hole_before & ~hole_after]
    second = i[hole_after & ~hole_before] + 1
    t[first] = t[first - 1] + dt[hole_before & ~hole_after]
    t[second] = t[second - 1] + dt[hole_after & ~hole_before]
    restamped[first] = restamped[second] = True
    drop[group > 0] = True
    drop[first] = drop[first + 1] = drop[second] = drop[second - 1] = False
    return t, restamped, drop


def correct_timing(
    t: np.ndarray, b: np.ndarray, flags: np.ndarray, day_start: int, day_end: int, lag_ns: int = LAG_NS
) -> Corrected:
    """Apply steps 1-7 of the module docstring to one file's records (file order)."""
    keep = drop_exact_duplicates(t, b)
    n_dup = int((~keep).sum())
    # the records' file indices travel with the times; the (N, 3) field is gathered once, at the end
    idx = np.flatnonzero(keep)
    t, fl = t[idx] + lag_ns, flags[idx] | np.uint32(F.LAG_FIXED)
    t, resync = fix_rate_resync(t)
    fl[resync] |= np.uint32(F.RATE_RESYNC)
    t, moved, runs = fix_second_glitches(t)
    fl[moved] |= np.uint32(F.TIME_RESYNC)
    t, restamped, drop = fix_collisions(t)
    fl[restamped] |= np.uint32(F.TIME_RESYNC)
    idx, t, fl = idx[~drop], t[~drop], fl[~drop]
    order = np.argsort(t, kind="stable")
    idx, t, fl = idx[order], t[order], fl[order]
    same = np.zeros(t.size, dtype=bool)
    if t.size > 1:
        eq = t[1:] == t[:-1]
        same[1:] |= eq
        same[:-1] |= eq
    idx, t, fl = idx[~same], t[~same], fl[~same]
    inside = (t >= day_start) & (t < day_end)
    stats = {
        "records_in": int(keep.size),
        "duplicates": n_dup,
        "second_glitch_runs": runs,
        "second_glitch_records": int(moved.sum()),
        "rate_resync_records": int(resync.sum()),
        "collisions_restamped": int(restamped.sum()),
        "collisions_dropped": int(drop.sum()),
        "same_stamp_dropped": int(same.sum()),
        "outside_day": int((~inside).sum()),
    }
    return Corrected(time=t[inside], b=b[idx[inside]], flags=fl[inside], stats=stats)


def rate32_mask(t: np.ndarray) -> np.ndarray:
    """Records of 31.25 ms stretches: a neighbour 31.25 ms away (``t`` sorted)."""
    if t.size < 2:
        return np.zeros(t.size, dtype=bool)
    d = np.diff(t)
    near = np.abs(d - DT32_NS) <= 2_000_000
    out: np.ndarray = np.r_[near, False] | np.r_[False, near]
    return out


def normal_step(t: np.ndarray) -> int:
    """The normal-mode sample step (ns) of a day's sorted records: the instrument step nearest
    the median step outside 31.25 ms stretches (125 ms; 250 ms on 4 Hz days)."""
    d = np.diff(t)
    d = d[d > DT32_NS + 2 * STEP_TOL_NS]
    if d.size == 0:
        return DT8_NS
    med = float(np.median(d))
    return int(min((DT8_NS, DT4_NS), key=lambda s: abs(s - med)))

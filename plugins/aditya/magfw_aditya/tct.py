"""The time-correlation table (TCT): on-board time (OBT) -> UT.

The table is text (layout in ``data/l0_packets.yaml``, section ``time_correlation``): one row
per correlation point, OBT seconds and the UTC of that instant. UT of any OBT is the linear
interpolation between the two bracketing rows, done in TT2000 nanoseconds so that a leap
second inside the table is handled; outside the table the first/last segment is extrapolated
up to ``max_extrapolation_s``, beyond which the OBT is an error (:meth:`TimeCorrelation.to_tt2000`).

**Clock jumps** (:func:`segment_times`). When the packet stamps show the on-board clock
jumping (:mod:`magfw_aditya.clock`), the table is split there: each row belongs to the clock
segment whose OBT range it falls in (a row inside a jump's OBT interval could be on either
side and is not used), and each segment's samples are timed from its own rows only. A segment
with one row takes the clock rate of its neighbour; a segment with none is timed from its
neighbour's rows shifted by the jump the packets measured. A sample's time **cannot be
trusted** when it needs more than ``max_extrapolation_s`` of extrapolation from the rows
timing it, when its segment has no row and the jump's size is unknown, or when a row of its
segment is off the line through its neighbours by more than ``ROW_TOL_NS`` (a jump no packet
showed, somewhere between them): such samples are flagged, not failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from magfw.api import InputError, time
from magfw_aditya.clock import ClockJump

#: A row further than this from the line through its two neighbours reveals a clock change.
ROW_TOL_NS = 1_000_000


@dataclass(frozen=True, kw_only=True)
class TimeCorrelation:
    """Correlation points: OBT (s, float64) and TT2000 (int64 ns), OBT strictly increasing."""

    obt: np.ndarray
    tt: np.ndarray
    where: str

    def to_tt2000(self, obt: np.ndarray, max_extrapolation_s: float) -> np.ndarray:
        """TT2000 (int64 ns) of OBT seconds, interpolated linearly between table rows."""
        obt = np.asarray(obt, dtype=np.float64)
        lo, hi = self.obt[0] - max_extrapolation_s, self.obt[-1] + max_extrapolation_s
        outside = (obt < lo) | (obt > hi)
        if outside.any():
            bad = obt[outside]
            raise InputError(
                self.where,
                f"OBT {bad.min():.3f}..{bad.max():.3f} s lies outside the "
                f"table ({self.obt[0]:.3f}..{self.obt[-1]:.3f} s, "
                f"{max_extrapolation_s:g} s extrapolation allowed)",
            )
        i = np.clip(np.searchsorted(self.obt, obt, side="right") - 1, 0, self.obt.size - 2)
        x0, x1 = self.obt[i], self.obt[i + 1]
        t0 = self.tt[i]
        dt = (self.tt[i + 1] - t0).astype(np.float64)
        frac = (obt - x0) / (x1 - x0)
        out: np.ndarray = t0 + np.round(frac * dt).astype(np.int64)
        return out


def parse_tct(text: str, where: str | Path) -> TimeCorrelation:
    """Parse a TCT; a malformed, short or non-monotonic table is one InputError line."""
    rows = [ln.split() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if len(rows) < 2:
        raise InputError(where, f"time-correlation table has {len(rows)} row(s), needs 2 or more")
    if any(len(r) != 2 for r in rows):
        raise InputError(where, "time-correlation table rows must be 'OBT_seconds UTC'")
    try:
        obt = np.array([r[0] for r in rows], dtype=np.float64)
        tt = np.asarray(time.tt2000_from_iso(np.array([r[1] for r in rows])), dtype=np.int64)
    except Exception as exc:  # noqa: BLE001 - any parse failure is the table's fault
        raise InputError(where, f"time-correlation table: unreadable row ({exc})") from exc
    if np.any(np.diff(obt) <= 0) or np.any(np.diff(tt) <= 0):
        raise InputError(where, "time-correlation table: OBT and UTC must increase row by row")
    return TimeCorrelation(obt=obt, tt=tt, where=str(where))


def format_tct(obt: np.ndarray, tt: np.ndarray, header: str = "") -> str:
    """Text of a TCT (the simulator writes its tables with this)."""
    iso = time.tt2000_to_iso(np.asarray(tt, dtype=np.int64), precision_ns=1000)
    lines = [f"# {h}" for h in header.splitlines()] + ["# obt_s utc"]
    lines += [f"{o:.6f} {u}Z" for o, u in zip(np.asarray(obt), iso, strict=True)]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, kw_only=True)
class Timed:
    """UT of every sample, the samples whose time cannot be trusted and what was done."""

    tt: np.ndarray  #: (N,) int64 TT2000
    untrusted: np.ndarray  #: (N,) bool
    notes: list[str] = field(default_factory=list)


def _row_segments(obt: np.ndarray, jumps: Sequence[ClockJump], period: float) -> np.ndarray:
    """The clock segment of each table row (-1: inside a jump's OBT interval, unusable)."""
    seg = np.zeros(obt.size, dtype=np.int64)
    unusable = np.zeros(obt.size, dtype=bool)
    for j in jumps:
        lo, hi = sorted((j.obt_before + period, j.obt_after))
        seg += obt >= hi
        unusable |= (obt > lo) & (obt < hi)
    seg[unusable] = -1
    return seg


def _line_outliers(tc: TimeCorrelation) -> np.ndarray:
    """Rows off the line through their two neighbours by more than ``ROW_TOL_NS``."""
    bad = np.zeros(tc.obt.size, dtype=bool)
    if tc.obt.size >= 3:
        frac = (tc.obt[1:-1] - tc.obt[:-2]) / (tc.obt[2:] - tc.obt[:-2])
        line = tc.tt[:-2] + frac * (tc.tt[2:] - tc.tt[:-2]).astype(np.float64)
        bad[1:-1] = np.abs(tc.tt[1:-1] - line) > ROW_TOL_NS
    return bad


def _rate(tc: TimeCorrelation) -> float:
    """Mean TT ns per OBT s of a segment's rows."""
    return float((tc.tt[-1] - tc.tt[0]) / (tc.obt[-1] - tc.obt[0]))


def _segment_map(
    rows: list[TimeCorrelation | None], s: int, jumps: Sequence[ClockJump]
) -> tuple[TimeCorrelation, float, bool] | None:
    """How segment ``s`` is timed: (rows to interpolate in, OBT shift to apply first, from a
    neighbour?), or None when it cannot be. Its own rows first (a single row takes its
    neighbour's rate); without rows, the nearest timed neighbour across jumps of known size."""
    own = rows[s]
    if own is not None and own.obt.size >= 2:
        return own, 0.0, False
    timed = [k for k, r in enumerate(rows) if r is not None and r.obt.size >= 2]
    if not timed:
        return None
    near = min(timed, key=lambda k: abs(k - s))
    if own is not None:  # one row: the neighbour's rate through it
        rate = _rate(rows[near])  # type: ignore[arg-type]
        anchor = TimeCorrelation(
            obt=np.r_[own.obt, own.obt + 1.0], tt=np.r_[own.tt, own.tt + round(rate)], where=own.where
        )
        return anchor, 0.0, False
    lo, hi = sorted((s, near))
    sizes = [j.jump_s for j in jumps[lo:hi]]
    if any(x is None for x in sizes):
        return None
    shift = float(sum(x for x in sizes if x is not None))
    return rows[near], (-shift if near < s else shift), True  # type: ignore[return-value]


def segment_times(
    tc: TimeCorrelation,
    obt: np.ndarray,
    segment: np.ndarray,
    jumps: Sequence[ClockJump],
    period: float,
    max_extrapolation_s: float,
) -> Timed:
    """UT of samples at ``obt`` in clock ``segment`` (module notes), with the untrusted ones."""
    obt = np.asarray(obt, dtype=np.float64)
    row_seg = _row_segments(tc.obt, jumps, period)
    n_seg = len(jumps) + 1
    rows: list[TimeCorrelation | None] = []
    for s in range(n_seg):
        m = row_seg == s
        rows.append(TimeCorrelation(obt=tc.obt[m], tt=tc.tt[m], where=tc.where) if m.any() else None)
    tt = np.zeros(obt.size, dtype=np.int64)
    untrusted = np.zeros(obt.size, dtype=bool)
    notes: list[str] = []
    for s in range(n_seg):
        sel = np.flatnonzero(segment == s)
        if sel.size == 0:
            continue
        how = _segment_map(rows, s, jumps)
        if how is None:
            raise InputError(tc.where, "no time-correlation rows to time the samples with")
        table, shift, borrowed = how
        x = obt[sel] + shift
        far = (x < table.obt[0] - max_extrapolation_s) | (x > table.obt[-1] + max_extrapolation_s)
        clipped = np.clip(x, table.obt[0] - max_extrapolation_s, table.obt[-1] + max_extrapolation_s)
        tt[sel] = table.to_tt2000(clipped, max_extrapolation_s)
        if far.any():
            tt[sel[far]] += np.round((x[far] - clipped[far]) * _rate(table)).astype(np.int64)
        untrusted[sel] = far
        if borrowed:
            notes.append(f"clock segment {s} has no time-correlation row: timed from segment across the jump")
        own = rows[s]
        if own is not None:  # a row off its neighbours' line: a clock change no packet showed
            for r in np.flatnonzero(_line_outliers(own)).tolist():
                lo, hi = own.obt[r - 1], own.obt[r + 1]
                untrusted[sel[(obt[sel] >= lo) & (obt[sel] <= hi)]] = True
                notes.append(
                    f"time-correlation row at OBT {own.obt[r]:.3f} s is off the clock line of its "
                    "neighbours: a clock change between them that the packets do not show"
                )
    return Timed(tt=tt, untrusted=untrusted, notes=notes)

"""The time-correlation table (TCT): on-board time (OBT) -> UT.

The table is text (layout in ``data/l0_packets.yaml``, section ``time_correlation``): one row
per correlation point, OBT seconds and the UTC of that instant. UT of any OBT is the linear
interpolation between the two bracketing rows, done in TT2000 nanoseconds so that a leap
second inside the table is handled; outside the table the first/last segment is extrapolated
up to ``max_extrapolation_s``, beyond which the OBT is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from magfw.api import InputError, time


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

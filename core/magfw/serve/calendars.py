"""Months and days of the review site: the coverage calendar of a level, the state of each
unit from the ledger, and which months a mission has data in.

A day is ok, failed (with the ledger's one-line reason), missing input (a failed run that got
no input), skipped (with its reason) or not processed; a day whose latest run failed but which
has older products says which version is still served. A processed day shows its coverage
(records held against a full day at the cadence) and links to its page.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from magfw.serve.holdings import Holdings, UnitKey

STATES = {
    "ok": "ok",
    "failed": "failed",
    "missing": "missing input",
    "skipped": "skipped",
    "none": "not processed",
}
_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(kw_only=True)
class DayCell:
    day: date
    state: str  #: ok | failed | missing | skipped | none
    reason: str = ""
    serving: str = ""  #: "serving V06 of 2024-02-03" when a failed rerun left older products
    link: str = ""
    coverage: float | None = None  #: percent of a full day's records held

    @property
    def short(self) -> str:
        """The reason with a leading absolute path cut to its file name (for the cell)."""
        return short_reason(self.reason)

    @property
    def band(self) -> str:
        """A coverage class for the cell's colour: full, most, part, little."""
        c = self.coverage
        if c is None:
            return ""
        return "full" if c >= 99.5 else "most" if c >= 90 else "part" if c >= 50 else "little"


@dataclass(kw_only=True)
class Calendar:
    level: str
    spacecraft: str
    weeks: list[list[DayCell | None]] = field(default_factory=list)
    problems: list[DayCell] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def short_reason(text: str) -> str:
    m = re.match(r"(?:/[^:]*)?/([^/:]+): (.*)", text)
    return f"{m.group(1)}: {m.group(2)}" if m else text


def when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def parse_month(text: str) -> date | None:
    """The first day of ``YYYY-MM`` (years 1 to 9998, so the month after exists), else None."""
    m = _MONTH.fullmatch(text)
    if m is None:
        return None
    year, month = int(m.group(1)), int(m.group(2))
    if not (1 <= year <= 9998 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def month_last(first: date) -> date:
    """The last day of the month starting ``first``."""
    return (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def parse_day(text: str) -> date | None:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if len(text) == 10 and day.year <= 9998 else None


def unit_state(h: Holdings, unit: str) -> tuple[str, str, str]:
    """(state, reason, serving) of a unit from its latest run and latest successful run."""
    latest, current = h.latest(unit), h.current(unit)
    serving = ""
    if current is not None and latest is not None and latest.id != current.id:
        v = "" if current.product_version is None else f"V{current.product_version:02d} "
        serving = f"serving {v}of {when(current.started)}"
    if latest is None:
        return "none", "", ""
    if latest.status == "ok":
        return "ok", latest.message, ""
    if latest.status == "skipped":
        if current is not None and latest.message.startswith("unchanged since"):
            return "ok", current.message, ""
        return "skipped", latest.message, serving
    reason = latest.error or latest.message or "failed"
    return ("missing" if not latest.inputs else "failed"), reason, serving


def build_calendar(
    h: Holdings,
    units: list[UnitKey],
    level: str,
    spacecraft: str,
    first: date,
    link: Callable[[date], str],
    coverage: dict[date, float],
) -> Calendar:
    """The month's calendar of a day-unit level from its ``units``."""
    by_day = {u.start: u for u in units}
    cal = Calendar(level=level, spacecraft=spacecraft)
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month):
        row: list[DayCell | None] = []
        for d in week:
            if d.month != first.month:
                row.append(None)
                continue
            u = by_day.get(d)
            if u is None:
                cell = DayCell(day=d, state="none")
            else:
                state, reason, serving = unit_state(h, u.unit)
                cell = DayCell(
                    day=d, state=state, reason=reason, serving=serving, link=link(d), coverage=coverage.get(d)
                )
            cal.counts[cell.state] = cal.counts.get(cell.state, 0) + 1
            if cell.state in ("failed", "missing", "skipped"):
                cal.problems.append(cell)
            row.append(cell)
        cal.weeks.append(row)
    return cal


def months_between(first: date, last: date) -> list[str]:
    """``YYYY-MM`` of every month from ``first`` to ``last`` (at most 1200)."""
    out: list[str] = []
    d = first.replace(day=1)
    while d <= last and len(out) < 1200:
        out.append(f"{d:%Y-%m}")
        d = (d + timedelta(days=32)).replace(day=1)
    return out

"""PERIOD strings and units of work.

PERIOD is ``YYYY`` (a year), ``YYYY-MM`` (a month), ``YYYY-MM-DD`` (a day) or ``START..END``
(inclusive days, each side any of the three forms). A level processes its period in units: one
UTC day per unit unless the level says ``month`` or ``year``. A month or year unit always
covers the whole calendar month or year: the period only selects which ones.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from magfw.errors import UsageError

#: English month names, January first: the one table of them (never the locale's).
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
#: Their three-letter lower-case abbreviations, as file names use them (``2024jan``).
MONTH_ABBR = tuple(name[:3].lower() for name in MONTH_NAMES)

UnitKind = Literal["day", "month", "year"]

_FORMS = (
    (re.compile(r"(\d{4})"), "year"),
    (re.compile(r"(\d{4})-(\d{2})"), "month"),
    (re.compile(r"(\d{4})-(\d{2})-(\d{2})"), "day"),
)


@dataclass(frozen=True, order=True)
class Period:
    """An inclusive range of UTC days, with the text it was given as."""

    start: date
    end: date
    text: str = ""

    def days(self) -> Iterator[date]:
        d = self.start
        while d <= self.end:
            yield d
            d += timedelta(days=1)

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1

    def __str__(self) -> str:
        return self.text or f"{self.start}..{self.end}"


@dataclass(frozen=True, order=True)
class Unit:
    """One unit of work: a UTC day, a calendar month or a calendar year.

    ``key`` names it in logs and the ledger (``2024-01-05``, ``2024-01``, ``2024``); ``start``
    and ``end`` are the first and last UTC day it covers (inclusive).
    """

    start: date
    end: date
    kind: UnitKind = "day"
    key: str = ""

    @property
    def period(self) -> Period:
        return Period(self.start, self.end, self.key)

    def days(self) -> Iterator[date]:
        return self.period.days()

    @property
    def day(self) -> date:
        """The unit's day (day units) or its first day."""
        return self.start

    def __str__(self) -> str:
        return self.key


def _side(text: str, *, first: bool, whole: str) -> date:
    for pattern, kind in _FORMS:
        m = pattern.fullmatch(text)
        if not m:
            continue
        nums = [int(g) for g in m.groups()]
        try:
            if kind == "year":
                return date(nums[0], 1, 1) if first else date(nums[0], 12, 31)
            if kind == "month":
                last = calendar.monthrange(nums[0], nums[1])[1]
                return date(nums[0], nums[1], 1 if first else last)
            return date(*nums)
        except ValueError as exc:
            raise UsageError(None, f"PERIOD {whole!r}: {exc}") from None
    raise UsageError(None, f"PERIOD {whole!r} is not YYYY, YYYY-MM, YYYY-MM-DD or START..END")


def parse_period(text: str) -> Period:
    """Parse a PERIOD string; a malformed or reversed one is a :class:`UsageError`."""
    text = text.strip()
    if ".." in text:
        a, _, b = text.partition("..")
        start, end = _side(a, first=True, whole=text), _side(b, first=False, whole=text)
    else:
        start, end = _side(text, first=True, whole=text), _side(text, first=False, whole=text)
    if end < start:
        raise UsageError(None, f"PERIOD {text!r} ends before it starts")
    return Period(start, end, text)


def plan_units(period: Period, kind: UnitKind = "day") -> list[Unit]:
    """The units of ``kind`` that the period touches, in time order (whole months/years)."""
    units: list[Unit] = []
    if kind == "day":
        return [Unit(d, d, "day", d.isoformat()) for d in period.days()]
    cursor = period.start
    while cursor <= period.end:
        if kind == "month":
            n_days = calendar.monthrange(cursor.year, cursor.month)[1]
            last = date(cursor.year, cursor.month, n_days)
            key = f"{cursor.year:04d}-{cursor.month:02d}"
        elif kind == "year":
            last = date(cursor.year, 12, 31)
            key = f"{cursor.year:04d}"
        else:
            raise UsageError(None, f"unknown unit kind {kind!r}")
        first = date(cursor.year, cursor.month if kind == "month" else 1, 1)
        units.append(Unit(first, last, kind, key))
        cursor = last + timedelta(days=1)
    return units


def utc_today() -> date:
    """Today's UTC date (a function, so tests can fix "today")."""
    from datetime import UTC, datetime

    return datetime.now(UTC).date()


class DefaultPeriod:
    """A level's period when ``magfw run`` is given none: the whole calendar ``unit`` (day,
    month or year) ``lag`` units before today's (UTC). ``DefaultPeriod("month", 2)`` is the
    STEREO seed's rule: at the start of month N it processes month N-2 (``auto_step1.sh``).

    ``span`` widens the period to the whole month or year holding that unit:
    ``DefaultPeriod("month", 2, span="year")`` is the year of the current month minus two (the
    PLASTIC merge of the year the STEREO L1 month belongs to: every day of it is looked at
    again, so late PLASTIC releases are seen).

    The lag may be set per level in ``magfw.toml``::

        [missions.stereo.default_period]
        l1 = 3          # months (the rule's unit) before the current one
    """

    __slots__ = ("lag", "span", "unit")

    def __init__(self, unit: UnitKind, lag: int = 0, span: UnitKind | None = None) -> None:
        order = ("day", "month", "year")
        if unit not in order or (span is not None and span not in order):
            raise ValueError(f"unknown unit {unit!r}" if unit not in order else f"unknown span {span!r}")
        if span is not None and order.index(span) < order.index(unit):
            raise ValueError(f"span {span!r} is shorter than the unit {unit!r}")
        if lag < 0:
            raise ValueError("lag must be >= 0")
        self.unit: UnitKind = unit
        self.lag = lag
        self.span: UnitKind | None = None if span == unit else span

    def __repr__(self) -> str:
        span = f", span={self.span!r}" if self.span else ""
        return f"DefaultPeriod({self.unit!r}, {self.lag}{span})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DefaultPeriod) and (self.unit, self.lag, self.span) == (
            other.unit,
            other.lag,
            other.span,
        )

    def __hash__(self) -> int:
        return hash((self.unit, self.lag, self.span))

    def period(self, today: date | None = None, lag: int | None = None) -> Period:
        """The period this rule gives on ``today`` (default: UTC today), with ``lag`` (default:
        the rule's) units back."""
        today = today or utc_today()
        n = self.lag if lag is None else lag
        if self.unit == "day":
            start = today - timedelta(days=n)
        elif self.unit == "month":
            index = today.year * 12 + (today.month - 1) - n
            start = date(index // 12, index % 12 + 1, 1)
        else:
            start = date(today.year - n, 1, 1)
        if self.span == "year":
            return parse_period(f"{start.year:04d}")
        if self.span == "month" or self.unit == "month":
            return parse_period(f"{start:%Y-%m}")
        return parse_period(start.isoformat() if self.unit == "day" else f"{start.year:04d}")

    def describe(self, lag: int | None = None) -> str:
        n = self.lag if lag is None else lag
        base = f"the current {self.unit}" if n == 0 else f"the current {self.unit} minus {n}"
        return f"the {self.span} of {base}" if self.span else base


def day_ranges(days: Iterable[date]) -> str:
    """Days as short ranges, for messages: ``2024-01-03, 2024-01-05..2024-01-31``."""
    out: list[str] = []
    run: list[date] = []
    for d in sorted(set(days)):
        if run and (d - run[-1]).days == 1:
            run.append(d)
            continue
        if run:
            out.append(run[0].isoformat() if len(run) == 1 else f"{run[0]}..{run[-1]}")
        run = [d]
    if run:
        out.append(run[0].isoformat() if len(run) == 1 else f"{run[0]}..{run[-1]}")
    return ", ".join(out)

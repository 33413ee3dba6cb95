"""Monthly and yearly products are collected from the merged daily CDFs in the output tree, one
day at a time.

:class:`DayStack` holds the output's columns, allocated once for the number of days and filled
day by day, so a month or a year never holds more than its own output plus one day's file.
:class:`Coverage` says which days of the unit are in the product and which lack PLASTIC or MAG,
and turns that into the gap attributes. Days are written as compact ranges (:func:`days_text`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from magfw.api import InputError, Inputs, UnitContext
from magfw_plastic import archive as arc
from magfw_plastic import products as pr
from magfw_plastic.averaging import MINUTE_MS, MINUTES_PER_DAY, day_start_ms

NONE = "none"
MERGED = "merged"  #: input role of a merged daily CDF


def days_text(days: list[date]) -> str:
    """Days as compact ranges: 2024-01-03, 2024-01-07..2024-01-09 ("" for none)."""
    days = sorted(days)
    out, i = [], 0
    while i < len(days):
        j = i
        while j + 1 < len(days) and days[j + 1] == days[j] + timedelta(days=1):
            j += 1
        out.append(str(days[i]) if i == j else f"{days[i]}..{days[j]}")
        i = j + 1
    return ", ".join(out)


def parse_days(text: str) -> list[date]:
    """The days of a :func:`days_text` string (``none`` or empty: no day)."""
    out: list[date] = []
    for part in text.split(","):
        part = part.strip()
        if not part or part == NONE:
            continue
        first, _, last = part.partition("..")
        a = date.fromisoformat(first)
        b = date.fromisoformat(last) if last else a
        while a <= b:
            out.append(a)
            a += timedelta(days=1)
    return out


@dataclass
class Coverage:
    """Which days of a unit (``first``..``last``) a product holds, and which of those were
    merged without PLASTIC or without MAG."""

    first: date
    last: date
    present: list[date] = field(default_factory=list)
    no_plastic: list[date] = field(default_factory=list)
    no_mag: list[date] = field(default_factory=list)

    def absent(self) -> list[date]:
        have = set(self.present)
        n = (self.last - self.first).days + 1
        return [d for d in (self.first + timedelta(days=i) for i in range(n)) if d not in have]

    def attrs(self) -> dict[str, str]:
        """The gap attributes: days merged with PLASTIC / MAG as fill, days not in the
        product (no inputs, or their day failed)."""
        return {"PLASTIC_missing_days": days_text(self.no_plastic) or NONE,
                "MAG_missing_days": days_text(self.no_mag) or NONE,
                "Days_without_inputs": days_text(self.absent()) or NONE}


def flatfile_attrs(gaps: Mapping[str, str]) -> dict[str, str]:
    """Flat-file header keywords (upper case, spaces) from the gap attributes."""
    return {k.upper().replace("_", " "): v for k, v in gaps.items()}


class DayStack:
    """Columns of ``n_days`` days of ``per_day`` records each, allocated on the first day (with
    its shapes and types) and filled in day order; :meth:`columns` gives the days added."""

    def __init__(self, n_days: int, per_day: int = MINUTES_PER_DAY) -> None:
        self.n_days = n_days
        self.per_day = per_day
        self.days = 0
        self._arrays: dict[str, np.ndarray] = {}

    def add(self, columns: Mapping[str, np.ndarray]) -> None:
        if self.days >= self.n_days:
            raise ValueError(f"DayStack holds {self.n_days} days, a day more was added")
        if not self._arrays:
            self._arrays = {k: np.empty((self.n_days * self.per_day, *v.shape[1:]), v.dtype)
                            for k, v in columns.items()}
        a = self.days * self.per_day
        for k, v in columns.items():
            if v.shape[0] != self.per_day:
                raise ValueError(f"column {k} has {v.shape[0]} records, a day has {self.per_day}")
            self._arrays[k][a:a + self.per_day] = v
        self.days += 1

    def columns(self) -> dict[str, np.ndarray]:
        n = self.days * self.per_day
        return {k: v[:n] for k, v in self._arrays.items()}


@dataclass(frozen=True)
class DailyRecord:
    """One merged daily CDF read back: its day, its 1-min table (names of the CDF variables,
    float64, NaN = fill) and whether the day had PLASTIC and MAG."""

    day: date
    table: dict[str, np.ndarray]
    has_plastic: bool
    has_mag: bool


def read_daily(path: Path, day: date) -> DailyRecord:
    """Read the merged daily CDF of ``day``; InputError if it is unreadable or does not hold
    the day's 1440 minutes."""
    from magfw.api import read_cdf

    data = read_cdf(path, variables=list(pr.CDF_NEEDED))
    epoch = np.asarray(data.variables["Epoch"], dtype=np.float64)
    expected = day_start_ms(day) + (np.arange(MINUTES_PER_DAY) + 0.5) * MINUTE_MS
    if epoch.shape != expected.shape or not np.array_equal(epoch, expected):
        raise InputError(path, f"holds {epoch.size} records, not the 1440 minute centres of {day}")
    table = pr.table_from_cdf(data)
    g = data.global_attrs
    qf = table["Quality_Flag"]

    def said_missing(key: str, fallback: bool) -> bool:
        text = g.get(key)
        try:
            return day in parse_days(text) if isinstance(text, str) else fallback
        except ValueError:  # not a list of days: judge by the flags
            return fallback

    no_plastic = said_missing("PLASTIC_missing_days", bool(np.all((qf & 0xF) == 15)))
    no_mag = said_missing("MAG_missing_days", bool(np.all((qf & (1 << 6)) != 0)))
    return DailyRecord(day, table, not no_plastic, not no_mag)


def daily_folder(ctx: UnitContext) -> Path:
    """Where the unit's merged daily CDFs are (for messages)."""
    pattern = ctx.product(arc.DAILY_PRODUCT).filename.glob(sc=ctx.spacecraft or "A",
                                                            yyyy=ctx.unit.start.year)
    return ctx.out_dir / pattern.rpartition("/")[0]


def daily_inputs(ctx: UnitContext) -> Inputs:
    """The unit's merged daily CDFs in the output tree (highest version of each day) as inputs;
    the days without one are noted. A unit without any is skipped."""
    sc = ctx.spacecraft or "A"
    selection = {"merged_daily": "highest version of each day"}
    found = arc.find_dailies(ctx, sc)
    if not found:
        return Inputs(selection=selection, skip_reason=f"no merged daily product of ST{sc} "
                                                       f"{ctx.unit.key} in {daily_folder(ctx)}")
    cov = Coverage(ctx.unit.start, ctx.unit.end, present=list(found))
    absent = cov.absent()
    notes = [f"no merged daily product for {days_text(absent)}"] if absent else []
    return Inputs(files=[ctx.product_input(f, MERGED) for f in found.values()],
                  selection=selection, notes=notes)


def input_day(ctx: UnitContext, name: str) -> date:
    """The day of a merged daily CDF from its name in the tree."""
    fields = ctx.product(arc.DAILY_PRODUCT).filename.parse(name) or {}
    return date(int(fields["yyyy"]), int(fields["mm"]), int(fields["dd"]))


def read_dailies(ctx: UnitContext, inputs: Inputs, coverage: Coverage) -> Iterator[DailyRecord]:
    """The unit's merged daily CDFs read one at a time, in day order, each recorded in
    ``coverage``. One that cannot be read is left out with a warning naming it (it is then a
    day without inputs in the product's attributes): one bad file never loses a month."""
    files = sorted(inputs.by_role(MERGED), key=lambda f: input_day(ctx, f.name))
    for f in files:
        day = input_day(ctx, f.name)
        try:
            rec = read_daily(f.path, day)
        except InputError as exc:
            ctx.log.warning("plastic ST%s %s: day %s left out: %s", ctx.spacecraft or "A",
                            ctx.unit.key, day, exc)
            continue
        coverage.present.append(day)
        if not rec.has_plastic:
            coverage.no_plastic.append(day)
        if not rec.has_mag:
            coverage.no_mag.append(day)
        yield rec

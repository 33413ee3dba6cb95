"""Monthly and yearly products are collected from the merged daily products in the output tree,
one day at a time (the monthly flat file from the daily flat files, the yearly CDF and averages
from the daily CDFs).

:class:`DayStack` holds the output's columns, allocated once for the number of days and filled
day by day, so a month or a year never holds more than its own output plus one day's file.
:class:`Coverage` says which days of the unit are in the product and which lack PLASTIC or MAG,
and turns that into the gap attributes. Days are written as compact ranges (:func:`days_text`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from magfw.api import InputError, Inputs, ProductDefinition, UnitContext
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


@dataclass(kw_only=True)
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
        return {
            "PLASTIC_missing_days": days_text(self.no_plastic) or NONE,
            "MAG_missing_days": days_text(self.no_mag) or NONE,
            "Days_without_inputs": days_text(self.absent()) or NONE,
        }


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
            self._arrays = {
                k: np.empty((self.n_days * self.per_day, *v.shape[1:]), v.dtype) for k, v in columns.items()
            }
        a = self.days * self.per_day
        for k, v in columns.items():
            if v.shape[0] != self.per_day:
                raise ValueError(f"column {k} has {v.shape[0]} records, a day has {self.per_day}")
            self._arrays[k][a : a + self.per_day] = v
        self.days += 1

    def columns(self) -> dict[str, np.ndarray]:
        n = self.days * self.per_day
        return {k: v[:n] for k, v in self._arrays.items()}


@dataclass(frozen=True, kw_only=True)
class DailyRecord:
    """One merged daily product read back: its day, its columns (the merged table of the CDF,
    or the flat file's variables; float64/float32, NaN = fill) and whether the day had PLASTIC
    and MAG (the file's gap attributes, else its quality flags)."""

    day: date
    columns: dict[str, np.ndarray]
    has_plastic: bool
    has_mag: bool


def _said_missing(text: object, day: date, fallback: bool) -> bool:
    """Whether a gap attribute (a :func:`days_text` string) names ``day``."""
    try:
        return day in parse_days(text) if isinstance(text, str) else fallback
    except ValueError:  # not a list of days: judge by the flags
        return fallback


def _check_minutes(
    path: Path, day: date, n: int, first_ms: float, last_ms: float, tol_ms: float = 0.0
) -> None:
    start = day_start_ms(day)
    if (
        n != MINUTES_PER_DAY
        or abs(first_ms - (start + MINUTE_MS / 2)) > tol_ms
        or abs(last_ms - (start + (MINUTES_PER_DAY - 0.5) * MINUTE_MS)) > tol_ms
    ):
        raise InputError(path, f"holds {n} records, not the 1440 minute centres of {day}")


def read_daily(path: Path, day: date) -> DailyRecord:
    """Read the merged daily CDF of ``day`` as a merged table; InputError if it is unreadable
    or does not hold the day's 1440 minutes."""
    from magfw.api import read_cdf

    data = read_cdf(path, variables=list(pr.CDF_NEEDED), attributes=False)
    epoch = np.asarray(data.variables["Epoch"], dtype=np.float64)
    expected = day_start_ms(day) + (np.arange(MINUTES_PER_DAY) + 0.5) * MINUTE_MS
    if epoch.shape != expected.shape or not np.array_equal(epoch, expected):
        raise InputError(path, f"holds {epoch.size} records, not the 1440 minute centres of {day}")
    table = pr.table_from_cdf(data)
    g = data.global_attrs
    qf = table["Quality_Flag"]
    no_plastic = _said_missing(g.get("PLASTIC_missing_days"), day, bool(np.all((qf & 0xF) == 15)))
    no_mag = _said_missing(g.get("MAG_missing_days"), day, bool(np.all((qf & (1 << 6)) != 0)))
    return DailyRecord(day=day, columns=table, has_plastic=not no_plastic, has_mag=not no_mag)


def read_daily_flatfile(path: Path, day: date, definition: ProductDefinition) -> DailyRecord:
    """Read the merged daily flat file of ``day`` as its definition's variables; InputError if
    it is unreadable, lacks a column or does not hold the day's 1440 minutes."""
    from magfw.api import read_product
    from magfw.api import time as magtime

    data = read_product(path)
    try:
        columns = pr.flatfile_variables_from_columns(definition, data.variables)
    except KeyError as exc:
        raise InputError(path, f"no column {exc.args[0]!r}") from None
    tt = columns[definition.time_variable or "TIME"]
    ends = np.asarray(magtime.tt2000_to_cdf_epoch(tt[[0, -1]] if tt.size else tt[:0]), dtype=np.float64)
    _check_minutes(
        path,
        day,
        int(tt.size),
        float(ends[0]) if tt.size else np.nan,
        float(ends[-1]) if tt.size else np.nan,
        tol_ms=1.0,
    )
    g = data.global_attrs
    qf = np.nan_to_num(columns["QUALITY"], nan=0.0).astype(np.uint16)
    no_plastic = _said_missing(g.get("PLASTIC MISSING DAYS"), day, bool(np.all((qf & 0xF) == 15)))
    no_mag = _said_missing(g.get("MAG MISSING DAYS"), day, bool(np.all((qf & (1 << 6)) != 0)))
    return DailyRecord(day=day, columns=columns, has_plastic=not no_plastic, has_mag=not no_mag)


def daily_folder(ctx: UnitContext, product_id: str) -> Path:
    """Where the unit's merged daily products are (for messages)."""
    pattern = ctx.product(product_id).filename.glob(sc=ctx.sc, yyyy=ctx.unit.start.year)
    return ctx.out_dir / pattern.rpartition("/")[0]


def daily_inputs(ctx: UnitContext, product_id: str) -> Inputs:
    """The unit's merged daily products ``product_id`` in the output tree (highest version of
    each day) as inputs; the days without one are noted. A unit without any is skipped."""
    sc = ctx.sc
    selection = {product_id: "highest version of each day"}
    found = arc.find_dailies(ctx, sc, product_id)
    if not found:
        return Inputs(
            selection=selection,
            skip_reason=f"no merged daily product of ST{sc} "
            f"{ctx.unit.key} in {daily_folder(ctx, product_id)}",
        )
    cov = Coverage(first=ctx.unit.start, last=ctx.unit.end, present=list(found))
    absent = cov.absent()
    notes = [f"no merged daily product for {days_text(absent)}"] if absent else []
    return Inputs(
        files=[ctx.product_input(f, MERGED) for f in found.values()], selection=selection, notes=notes
    )


def input_day(definition: ProductDefinition, name: str) -> date:
    """The day of a merged daily product from its name in the tree."""
    fields = definition.filename.parse(name) or {}
    return date(int(fields["yyyy"]), int(fields["mm"]), int(fields["dd"]))


def read_dailies(
    ctx: UnitContext,
    inputs: Inputs,
    coverage: Coverage,
    read: Callable[[Path, date], DailyRecord],
    definition: ProductDefinition,
) -> Iterator[DailyRecord]:
    """The unit's merged daily products (of ``definition``) read with ``read`` one at a time,
    in day order, each recorded in ``coverage``. One that cannot be read is left out with a
    warning naming it (it is then a day without inputs in the product's attributes): one bad
    file never loses a month or a year."""
    files = sorted(inputs.by_role(MERGED), key=lambda f: input_day(definition, f.name))
    for f in files:
        day = input_day(definition, f.name)
        try:
            rec = read(f.path, day)
        except InputError as exc:
            ctx.log.warning("plastic ST%s %s: day %s left out: %s", ctx.sc, ctx.unit.key, day, exc)
            continue
        coverage.present.append(day)
        if not rec.has_plastic:
            coverage.no_plastic.append(day)
        if not rec.has_mag:
            coverage.no_mag.append(day)
        yield rec

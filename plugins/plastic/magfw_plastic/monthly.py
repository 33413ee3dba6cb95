"""Level ``monthly``: the monthly merged flat file of one calendar month, from the month's merged
daily flat files in the output tree (the highest version of each day; the same columns), read
one day at a time.

    fetch -> Inputs -> read -> MonthFile -> write -> [merged_monthly_ff]

No middle step: the monthly file is the days' merged rows one after the other, unchanged (they
were merged, averaged and flagged by ``daily``).

The level needs ``plastic/daily``: the runner makes the requested period's days first, and the
month's other days come from the tree. Days without a daily product (no inputs, or their day
failed) are named in the file's header (``DAYS WITHOUT INPUTS``), as are the days merged without
PLASTIC or MAG. A month without any daily product is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from magfw.api import InputError, Inputs, NoMiddleSteps, Product, UnitContext
from magfw_plastic.collect import (
    MERGED,
    Coverage,
    DayStack,
    daily_folder,
    daily_inputs,
    flatfile_attrs,
    read_dailies,
    read_daily_flatfile,
)

#: What the month is made of: the daily flat files (their columns are the month's).
DAILY = "merged_daily_ff"


@dataclass(frozen=True, kw_only=True)
class MonthFile:
    """The monthly flat file's columns (the month's days in order) and which days it holds."""

    sc: str
    columns: dict[str, np.ndarray]
    coverage: Coverage


class Monthly(NoMiddleSteps):
    """The ``monthly`` level object: ``fetch``, ``read``, ``write``."""

    def fetch(self, ctx: UnitContext) -> Inputs:
        """The month's merged daily flat files in the output tree."""
        return daily_inputs(ctx, DAILY)

    def read(self, ctx: UnitContext, inputs: Inputs) -> MonthFile:
        """Each day's flat file read in turn, its columns copied into the month's."""
        coverage = Coverage(first=ctx.unit.start, last=ctx.unit.end)
        stack = DayStack(len(inputs.by_role(MERGED)))
        definition = ctx.product(DAILY)
        read = partial(read_daily_flatfile, definition=definition)
        for rec in read_dailies(ctx, inputs, coverage, read, definition):
            stack.add(rec.columns)
            ctx.vectors += int(next(iter(rec.columns.values())).shape[0])
        if not coverage.present:
            raise InputError(
                daily_folder(ctx, DAILY),
                f"no readable merged daily product for {ctx.unit.key} (see the warnings in the log)",
            )
        return MonthFile(sc=ctx.sc, columns=stack.columns(), coverage=coverage)

    def write(self, ctx: UnitContext, data: MonthFile) -> list[Product]:
        """The monthly flat file; the runner fills the year and month of its name."""
        return [
            Product(
                definition=ctx.product("merged_monthly_ff"),
                fields={"sc": data.sc},
                variables=data.columns,
                attrs=flatfile_attrs(data.coverage.attrs()),
            )
        ]

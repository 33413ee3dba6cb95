"""Level ``l2``: the yearly merged CDF (``STA_L2_MAGPLASMA_1M`` layout) and the 10-min and 1-hr
average flat files of one calendar year, from the year's merged daily CDFs in the output tree
(the highest version of each day), read one day at a time.

    fetch -> Inputs -> read -> YearRecords -> average -> YearProducts
          -> write -> [merged_yearly, merged_10min, merged_1hr]

The daily products are merged and flagged already, so the only middle step is ``average``.

The level needs ``plastic/monthly`` (which needs ``plastic/daily``), so ``magfw run plastic l2
2024`` makes every product of the year and ``magfw run plastic l2 2024-03`` makes March's days,
March's flat file and the 2024 yearly products, the other days coming from the tree. The
averages are made day by day: their UTC bins (10 min, 1 h) never cross midnight, so this equals
averaging the whole year at once. Days without a daily product are named in the attributes. A
year without any daily product fails (nothing at all was merged: a wrong source, say).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from magfw.api import (
    InputError,
    Inputs,
    MissingInputError,
    NoCalibrate,
    NoCorrect,
    NoQuality,
    NoTransform,
    Product,
    UnitContext,
)
from magfw_plastic import products as pr
from magfw_plastic.averaging import MINUTES_PER_DAY
from magfw_plastic.collect import (
    MERGED,
    Coverage,
    DayStack,
    daily_folder,
    daily_inputs,
    days_text,
    flatfile_attrs,
    read_dailies,
    read_daily,
)
from magfw_plastic.daily import SOURCE_NAME

#: What the year is made of: the daily CDFs (every variable of the yearly CDF).
DAILY = "merged_daily"

#: Average products and their bin widths (s).
AVERAGES = {"merged_10min": 600, "merged_1hr": 3600}


@dataclass(frozen=True, kw_only=True)
class YearRecords:
    """The yearly CDF's record variables (float32, NaN = fill; days in order) and its days."""

    sc: str
    variables: dict[str, np.ndarray]
    coverage: Coverage


@dataclass(frozen=True, kw_only=True)
class YearProducts:
    """The yearly records and the columns of each average flat file (by product id)."""

    records: YearRecords
    averages: dict[str, dict[str, np.ndarray]]


def day_averages(records: YearRecords, width_s: int) -> dict[str, np.ndarray]:
    """The average flat file's columns, computed one day of records at a time."""
    n_days = len(records.coverage.present)
    stack = DayStack(n_days, 86_400 // width_s)
    for i in range(n_days):
        day = slice(i * MINUTES_PER_DAY, (i + 1) * MINUTES_PER_DAY)
        table = pr.table_from_variables({k: v[day] for k, v in records.variables.items()})
        stack.add(pr.average_variables(pr.averages(table, float(width_s))))
    return stack.columns()


class Yearly(NoCalibrate, NoCorrect, NoTransform, NoQuality):
    """The ``l2`` level object: ``fetch``, ``read``, ``average``, ``write``."""

    def fetch(self, ctx: UnitContext) -> Inputs:
        """The year's merged daily CDFs in the output tree."""
        inputs = daily_inputs(ctx, DAILY)
        if inputs.skip_reason:  # not one day of the year: fail, do not skip
            raise MissingInputError(
                daily_folder(ctx, DAILY),
                f"no merged daily product of "
                f"ST{ctx.spacecraft or 'A'} {ctx.unit.key}: no day of the "
                "year had PLASTIC or MAG inputs, or every day failed",
            )
        return inputs

    def read(self, ctx: UnitContext, inputs: Inputs) -> YearRecords:
        """Each day's CDF read in turn, its records copied into the year's."""
        coverage = Coverage(first=ctx.unit.start, last=ctx.unit.end)
        stack = DayStack(len(inputs.by_role(MERGED)))
        for rec in read_dailies(ctx, inputs, coverage, read_daily, ctx.product(DAILY)):
            stack.add(pr.record_variables(rec.columns))
            ctx.vectors += int(rec.columns["Epoch"].size)
        if not coverage.present:
            raise InputError(
                daily_folder(ctx, DAILY),
                f"no readable merged daily product for {ctx.unit.key} (see the warnings in the log)",
            )
        return YearRecords(sc=ctx.sc, variables=stack.columns(), coverage=coverage)

    def average(self, ctx: UnitContext, data: YearRecords) -> YearProducts:
        """10-min and 1-hr averages: UTC bins stamped at their centres (products.averages)."""
        return YearProducts(
            records=data, averages={pid: day_averages(data, w) for pid, w in AVERAGES.items()}
        )

    def write(self, ctx: UnitContext, data: YearProducts) -> list[Product]:
        """The yearly CDF and the two average flat files; the runner fills the year."""
        rec = data.records
        sc = rec.sc
        gaps = {
            **rec.coverage.attrs(),
            "Period_merged": f"{ctx.unit.start}..{ctx.unit.end}",
            "Days_in_file": days_text(rec.coverage.present),
        }
        products = [
            Product(
                definition=ctx.product("merged_yearly"),
                fields={"sc": sc.lower()},
                variables={**rec.variables, **pr.support_variables()},
                attrs={
                    "Source_name": SOURCE_NAME[sc],
                    # lower case as the SPDF file name (Logical_file_id)
                    "Logical_source": f"st{sc.lower()}_l2_magplasma_1m",
                    **gaps,
                },
            )
        ]
        for pid, columns in data.averages.items():
            products.append(
                Product(
                    definition=ctx.product(pid),
                    fields={"sc": sc},
                    variables=columns,
                    attrs=flatfile_attrs(gaps),
                )
            )
        return products

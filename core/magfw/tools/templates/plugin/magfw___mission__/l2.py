"""Level ``l2``: the month's ``l1`` CDFs -> 1-min averages of the field (one netCDF a month).

It reads products of the output tree (``inputs_from="output"``), so it needs no ``--source``;
it ``needs`` ``l1``, so ``magfw run __mission__ l2 2024-01`` makes the month's missing days
first (with the options it is given: ``--spike-nt 30`` reaches ``l1``). The calibration its l1
inputs were made with is carried into its ``calibration_version`` by magfw.

    fetch -> Inputs -> read -> Month -> average -> Minutes -> write -> [Product]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from magfw.api import (
    Inputs,
    MissingInputError,
    NoCalibrate,
    NoCorrect,
    NoQuality,
    NoTransform,
    Product,
    UnitContext,
    read_cdf,
)
from magfw___mission__.simulate import day_start

NS = 1_000_000_000
FILL = -1.0e30  #: values of B below this are the l1 fill


@dataclass(frozen=True, kw_only=True)
class Month:
    """The month's 10-s averages, as the l1 files hold them (NaN where they are fill)."""

    epoch: np.ndarray  #: int64 TT2000 (ns) of each 10-s bin centre
    b: np.ndarray  #: (N, 3) nT


@dataclass(frozen=True, kw_only=True)
class Minutes:
    time: np.ndarray  #: int64 TT2000 of each minute's centre
    b: np.ndarray  #: (M, 3) nT, NaN where the minute has no 10-s average
    navg: np.ndarray  #: (M,) 10-s averages in the minute


def minute_means(month: Month, t0: int, n_minutes: int) -> Minutes:
    """NaN-aware means of the 10-s averages in each minute [t0 + k min, t0 + (k+1) min)."""
    idx = (month.epoch - t0) // (60 * NS)
    ok = (idx >= 0) & (idx < n_minutes) & ~np.isnan(month.b).any(axis=1)
    n = np.bincount(idx[ok], minlength=n_minutes)
    sums = np.stack([np.bincount(idx[ok], month.b[ok, k], minlength=n_minutes) for k in range(3)], 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / n[:, None]
    centres = t0 + (np.arange(n_minutes, dtype=np.int64) * 60 + 30) * NS
    return Minutes(time=centres, b=mean, navg=n.astype(np.uint8))


class L2(NoCalibrate, NoCorrect, NoTransform, NoQuality):
    """The ``l2`` level object: fetch, read, average, write."""

    def fetch(self, ctx: UnitContext) -> Inputs:
        """The newest version of each l1 file of the month, as products of the tree."""
        found = ctx.newest_products("__mission__", "l1", yyyy=ctx.day.year, mm=ctx.day.month)
        if not found:
            raise MissingInputError(ctx.out_dir, f"no l1 file of {ctx.day:%Y-%m}: run '__mission__ l1' first")
        return Inputs(files=[ctx.product_input(f, "l1") for f in found])

    def read(self, ctx: UnitContext, inputs: Inputs) -> Month:
        days = [read_cdf(f.path, ["Epoch", "B"]).variables for f in inputs.by_role("l1")]
        b = np.concatenate([d["B"] for d in days]).astype(np.float64)
        ctx.vectors += len(b)
        return Month(epoch=np.concatenate([d["Epoch"] for d in days]), b=np.where(b < FILL, np.nan, b))

    def average(self, ctx: UnitContext, data: Month) -> Minutes:
        days = list(ctx.unit.days())
        return minute_means(data, day_start(days[0]), 1440 * len(days))

    def write(self, ctx: UnitContext, data: Minutes) -> list[Product]:
        """One monthly netCDF; ``time`` is given as TT2000 and written as a CF time."""
        return [
            Product(
                definition=ctx.product("l2"),
                variables={
                    "time": data.time,
                    "B": data.b.astype(np.float32),
                    "B_LABL": np.array(["Bx", "By", "Bz"]),
                    "NAVG": data.navg,
                },
            )
        ]

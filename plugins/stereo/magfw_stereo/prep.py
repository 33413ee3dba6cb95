"""Level ``prep``: 1-s averages of Berkeley's unvalidated B_SC, the input of the offset work.

Step 1 of the UCLA chain makes them "directly from these files": no magfw correction is
applied (no lag, glitch or offset correction). Records outside the UTC day (spill-over) and
exact duplicates are left out; bins are [k, k + 1 s) stamped at k + 0.5 s, BTOTAL is the mean
of the high-rate |B|, NPTS the number of records in the bin. So its one middle step is
``average``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from magfw.api import Inputs, NoCalibrate, NoCorrect, NoQuality, NoTransform, Product, UnitContext, time
from magfw_stereo import fetch as fetching
from magfw_stereo import products as P
from magfw_stereo.averaging import Averages, average_bins
from magfw_stereo.berkeley import read_uv
from magfw_stereo.timing import drop_exact_duplicates


@dataclass(frozen=True, kw_only=True)
class PrepRecords:
    """``read``: the day's unvalidated records (duplicates and spill-over left out)."""

    time: np.ndarray  #: int64 TT2000
    b: np.ndarray  #: (N, 3) nT, SC axes
    t0: int
    t1: int


def read_records(path_records: tuple[np.ndarray, np.ndarray], t0: int, t1: int) -> PrepRecords:
    t, b = path_records
    keep = drop_exact_duplicates(t, b) & (t >= t0) & (t < t1)
    return PrepRecords(time=t[keep], b=b[keep], t0=t0, t1=t1)


def average_day(data: PrepRecords) -> Averages:
    """Plain 1-s bins of the day."""
    return average_bins(data.time, data.b, data.t0, data.t1, 1)


class Prep(NoCalibrate, NoCorrect, NoTransform, NoQuality):
    """The ``prep`` level object: ``fetch``, ``read``, ``average``, ``write``."""

    def fetch(self, ctx: UnitContext) -> Inputs:
        normal = fetching.require_normal(ctx, ctx.sc, ctx.day)
        return Inputs(files=[normal], selection={"berkeley": normal.version or ""})

    def read(self, ctx: UnitContext, inputs: Inputs) -> PrepRecords:
        raw = read_uv(inputs.one("data").path, burst=False)
        t0, t1 = time.day_bounds_tt2000(ctx.day)
        data = read_records((raw.time, raw.b), int(t0), int(t1))
        ctx.vectors += int(data.time.size)
        return data

    def average(self, ctx: UnitContext, data: PrepRecords) -> Averages:
        return average_day(data)

    def write(self, ctx: UnitContext, data: Averages) -> list[Product]:
        return [P.average_product(ctx, "prep_1s", ctx.sc, data)]

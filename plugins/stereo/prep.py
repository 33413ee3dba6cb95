"""The ``prep`` level: 1-s averages of Berkeley's unvalidated B_SC, the input of the offset work.

Step 1 of the UCLA chain makes them "directly from these files": no magfw correction is
applied (no lag, glitch or offset correction). Records outside the UTC day (spill-over) and
exact duplicates are left out; bins are [k, k + 1 s) stamped at k + 0.5 s, BTOTAL is the mean
of the high-rate |B|, NPTS the number of records in the bin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from magfw.context import Inputs
from magfw_stereo.averaging import Averages, average_bins
from magfw_stereo.berkeley import read_uv
from magfw_stereo.timing import drop_exact_duplicates


@dataclass
class PrepDay:
    time: np.ndarray
    b: np.ndarray
    t0: int
    t1: int
    averages: Averages | None = None


def read(inputs: Inputs, t0: int, t1: int) -> PrepDay:
    raw = read_uv(inputs.by_role("data")[0].path, burst=False)
    keep = drop_exact_duplicates(raw.time, raw.b) & (raw.time >= t0) & (raw.time < t1)
    return PrepDay(raw.time[keep], raw.b[keep], t0, t1)


def average(data: PrepDay) -> PrepDay:
    data.averages = average_bins(data.time, data.b, data.t0, data.t1, 1)
    return data

"""The beacon chain (``magfw run stereo beacon``): daily 10-s ``STA_LB_MAG_RTN`` CDFs from the
space-weather beacon files, processed the way L1 is.

Input (documented choice, the real LB layout is not in our sources): the day's
``impact/beacon/{ahead,behind}/mag/ST{A,B}_LB_MAG_YYYYMMDD_Vnn.cdf`` (highest version), the
variables of Berkeley's unvalidated files (``Epoch``, ``B_SC`` nT in SC axes, ``MAGFLAGUC``)
at 10 s. Steps: exact duplicates and records outside the day dropped; the day's zero offsets
from the Counts table added (as L1); spikes removed (pulses > 2 nT, to fill; X glitches are
sub-second and cannot be seen at 10 s); SC -> RTN with SPICE; 10-s bins [10 k, 10 k + 10 s)
stamped at their centres (BTOTAL the mean of the samples' |B|).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from magfw import kernels
from magfw.context import Inputs, Product, UnitContext
from magfw_stereo import flags as F
from magfw_stereo.averaging import Averages, average_bins
from magfw_stereo.berkeley import read_uv
from magfw_stereo.counts import read_counts
from magfw_stereo.despike import despike
from magfw_stereo.rtn import sc_to_rtn
from magfw_stereo.timing import drop_exact_duplicates

STEP_S = 10


@dataclass
class BeaconDay:
    sc: str
    t0: int
    t1: int
    time: np.ndarray
    b_sc: np.ndarray
    flags: np.ndarray
    offsets: np.ndarray
    kernels: list
    filter_value: float = 0.0
    rtn: Averages | None = None
    bin_flags: np.ndarray | None = None


def read(ctx: UnitContext, sc: str, t0: int, t1: int, inputs: Inputs) -> BeaconDay:
    raw = read_uv(inputs.by_role("data")[0].path, burst=False)
    keep = drop_exact_duplicates(raw.time, raw.b) & (raw.time >= t0) & (raw.time < t1)
    order = np.argsort(raw.time[keep], kind="stable")
    _, o = read_counts(inputs.by_role("calibration")[0].path).for_day(ctx.day)
    return BeaconDay(sc, t0, t1, raw.time[keep][order], raw.b[keep][order],
                     raw.flags[keep][order], o, [f.path for f in inputs.by_role("kernel")])


def correct(data: BeaconDay) -> BeaconDay:
    d = despike(data.b_sc + data.offsets, max_glitch=0)
    data.b_sc, data.filter_value = d.b, d.filter_value
    data.flags = data.flags | np.where(d.spike, np.uint32(F.SPIKE), np.uint32(0))
    return data


def transform_and_average(data: BeaconDay) -> BeaconDay:
    with kernels.kernel_pool(data.kernels):
        b_rtn = sc_to_rtn(data.sc, data.time, data.b_sc)
    data.rtn = average_bins(data.time, b_rtn, data.t0, data.t1, STEP_S)
    idx = np.floor_divide(data.time - data.t0, STEP_S * 1_000_000_000)
    fl = np.zeros(data.rtn.time.size, np.uint32)
    ok = (idx >= 0) & (idx < fl.size)
    np.bitwise_or.at(fl, idx[ok], data.flags[ok])
    data.bin_flags = fl
    return data


def product(ctx: UnitContext, data: BeaconDay) -> Product:
    from magfw.time import tt2000_to_cdf_epoch

    a = data.rtn
    assert a is not None and data.bin_flags is not None
    b4 = np.column_stack([a.b, a.btotal]).astype(np.float32)
    b4[~np.isfinite(b4).all(axis=1)] = np.nan  # written as the definition's fill
    day = ctx.day
    return Product(
        definition=ctx.product("beacon_rtn"),
        fields={"sc": data.sc, "yyyy": day.year, "mm": day.month, "dd": day.day},
        variables={"Epoch": np.asarray(tt2000_to_cdf_epoch(a.time), dtype=np.float64),
                   "BFIELD": b4, "MAGFLAGUC": data.bin_flags,
                   "FILTER_VALUE": np.full(a.time.size, data.filter_value, np.float32),
                   "CART_LABL_1": np.array(["BR", "BT", "BN", "BTotal"])},
        attrs={"Source_name": "Ahead>STEREO Ahead" if data.sc == "A" else "Behind>STEREO Behind",
               "Logical_source": f"ST{data.sc}_LB_MAG_RTN"},
    )

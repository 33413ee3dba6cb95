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

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from magfw.api import Inputs, Product, UnitContext, hookimpl, kernels, time
from magfw_stereo import fetch as fetching
from magfw_stereo import flags as F
from magfw_stereo.averaging import Averages, average_bins
from magfw_stereo.berkeley import read_uv
from magfw_stereo.counts import read_counts
from magfw_stereo.despike import despike
from magfw_stereo.rtn import sc_to_rtn
from magfw_stereo.timing import drop_exact_duplicates

STEP_S = 10


@dataclass(frozen=True)
class BeaconDay:
    """The day's 10-s records in SC axes (``read``, then ``correct``: offsets, spikes)."""

    sc: str
    t0: int
    t1: int
    time: np.ndarray  #: int64 TT2000
    b_sc: np.ndarray  #: (N, 3) nT
    flags: np.ndarray  #: uint32
    offsets: np.ndarray  #: (3,) nT, added by ``correct``
    kernels: list[Path]
    filter_value: float = 0.0


@dataclass(frozen=True)
class BeaconRtn:
    """``transform``: the corrected records in RTN."""

    day: BeaconDay
    b_rtn: np.ndarray  #: (N, 3) nT


@dataclass(frozen=True)
class BeaconBins:
    """``average``: 10-s bins of the RTN field with the OR of their records' flags."""

    sc: str
    rtn: Averages
    bin_flags: np.ndarray  #: uint32
    filter_value: float


def read(ctx: UnitContext, sc: str, t0: int, t1: int, inputs: Inputs) -> BeaconDay:
    raw = read_uv(inputs.one("data").path, burst=False)
    keep = drop_exact_duplicates(raw.time, raw.b) & (raw.time >= t0) & (raw.time < t1)
    order = np.argsort(raw.time[keep], kind="stable")
    _, o = read_counts(inputs.one("calibration").path).for_day(ctx.day)
    return BeaconDay(sc, t0, t1, raw.time[keep][order], raw.b[keep][order],
                     raw.flags[keep][order], o, [f.path for f in inputs.by_role("kernel")])


def correct(data: BeaconDay) -> BeaconDay:
    d = despike(data.b_sc + data.offsets, max_glitch=0)
    flags = data.flags | np.where(d.spike, np.uint32(F.SPIKE), np.uint32(0))
    return replace(data, b_sc=d.b, filter_value=d.filter_value, flags=flags)


def transform(data: BeaconDay) -> BeaconRtn:
    with kernels.kernel_pool(data.kernels):
        return BeaconRtn(data, sc_to_rtn(data.sc, data.time, data.b_sc))


def average(data: BeaconRtn) -> BeaconBins:
    d = data.day
    rtn = average_bins(d.time, data.b_rtn, d.t0, d.t1, STEP_S)
    idx = np.floor_divide(d.time - d.t0, STEP_S * 1_000_000_000)
    fl = np.zeros(rtn.time.size, np.uint32)
    ok = (idx >= 0) & (idx < fl.size)
    np.bitwise_or.at(fl, idx[ok], d.flags[ok])
    return BeaconBins(d.sc, rtn, fl, d.filter_value)


def product(ctx: UnitContext, data: BeaconBins) -> Product:
    a = data.rtn
    b4 = np.column_stack([a.b, a.btotal]).astype(np.float32)
    b4[~np.isfinite(b4).all(axis=1)] = np.nan  # written as the definition's fill
    return Product(
        definition=ctx.product("beacon_rtn"),
        fields={"sc": data.sc},
        variables={"Epoch": np.asarray(time.tt2000_to_cdf_epoch(a.time), dtype=np.float64),
                   "BFIELD": b4, "MAGFLAGUC": data.bin_flags,
                   "FILTER_VALUE": np.full(a.time.size, data.filter_value, np.float32),
                   "CART_LABL_1": np.array(["BR", "BT", "BN", "BTotal"])},
        attrs={"Source_name": "Ahead>STEREO Ahead" if data.sc == "A" else "Behind>STEREO Behind",
               "Logical_source": f"ST{data.sc}_LB_MAG_RTN"},
    )


class Beacon:
    """The ``beacon`` level object (``stereo.beacon``)."""

    @hookimpl
    def fetch(self, ctx: UnitContext) -> Inputs:
        sc, day = ctx.spacecraft or "A", ctx.day
        data = fetching.require_beacon(ctx, sc, day)
        table = fetching.counts_table(ctx, sc, day)
        return Inputs(files=[data, table, *fetching.day_kernels(ctx, sc, day)],
                      calibration={"counts_table": f"{table.name} {table.version}"},
                      selection={"beacon": data.version or ""})

    @hookimpl
    def read(self, ctx: UnitContext, inputs: Inputs) -> BeaconDay:
        t0, t1 = time.day_bounds_tt2000(ctx.day)
        data = read(ctx, ctx.spacecraft or "A", int(t0), int(t1), inputs)
        ctx.vectors += int(data.time.size)
        return data

    @hookimpl
    def correct(self, ctx: UnitContext, data: BeaconDay) -> BeaconDay:
        return correct(data)

    @hookimpl
    def transform(self, ctx: UnitContext, data: BeaconDay) -> BeaconRtn:
        return transform(data)

    @hookimpl
    def average(self, ctx: UnitContext, data: BeaconRtn) -> BeaconBins:
        return average(data)

    @hookimpl
    def write(self, ctx: UnitContext, data: BeaconBins) -> list[Product]:
        return [product(ctx, data)]

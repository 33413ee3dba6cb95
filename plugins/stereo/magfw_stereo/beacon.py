"""The beacon chain (``magfw run stereo beacon``): daily 10-s ``STA_LB_MAG_RTN`` CDFs from the
public IMPACT space-weather beacon files.

Input: the day's ``impact/beacon/{ahead,behind}/mag/ST{A,B}_LB_IMPACT_YYYYMMDD_Vnn.cdf``
(highest version; the lower-case SPDF names too). What the public files carry and public
loaders read (docs/stereo.md, "Beacon input"): ``Epoch_MAG`` (CDF_EPOCH, 8640 records a day)
and ``MAGBField`` [N, 3] (CDF_REAL4, nT, fill -1e31) **already in RTN**, calibrated in real
time on the ground.

Steps: fill (|B| > 1e30) becomes NaN; exact duplicates and records outside the day are dropped
(``read``); spikes are removed (pulses > 2 nT, to fill and flagged; X glitches are sub-second
and cannot be seen at 10 s) (``correct``); 10-s bins [10 k, 10 k + 10 s) stamped at their
centres, BTOTAL the mean of the records' |B| (``average``). There is **no** ``transform``: the
field is in RTN already and is never rotated again, so no SPICE kernel is read; nor are the
Counts-table offsets added (they are SC-axis offsets for the unvalidated L1 field; the beacon's
real-time calibration has applied its own).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from magfw.api import (
    InputError,
    Inputs,
    NoCalibrate,
    NoQuality,
    NoTransform,
    Product,
    UnitContext,
    read_cdf,
    time,
)
from magfw_stereo import fetch as fetching
from magfw_stereo import flags as F
from magfw_stereo.averaging import Averages, average_bins
from magfw_stereo.despike import despike
from magfw_stereo.timing import drop_exact_duplicates

STEP_S = 10
TIME_VAR = "Epoch_MAG"
FIELD_VAR = "MAGBField"


@dataclass(frozen=True, kw_only=True)
class BeaconDay:
    """The day's 10-s RTN records (``read``, then ``correct``: spikes removed)."""

    sc: str
    t0: int
    t1: int
    time: np.ndarray  #: int64 TT2000
    b_rtn: np.ndarray  #: (N, 3) nT, RTN, NaN where fill
    flags: np.ndarray  #: uint32
    filter_value: float = 0.0


@dataclass(frozen=True, kw_only=True)
class BeaconBins:
    """``average``: 10-s bins of the RTN field with the OR of their records' flags."""

    sc: str
    rtn: Averages
    bin_flags: np.ndarray  #: uint32
    filter_value: float


def read_beacon(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(TT2000 ns, B RTN (N, 3) nT with NaN for fill) of a public IMPACT beacon file."""
    data = read_cdf(path, attributes=False)
    missing = [v for v in (TIME_VAR, FIELD_VAR) if v not in data.variables]
    if missing:
        raise InputError(path, f"not an IMPACT beacon file: no {', '.join(missing)}")
    epoch = np.asarray(data.variables[TIME_VAR], dtype=np.float64).reshape(-1)
    b = np.asarray(data.variables[FIELD_VAR], dtype=np.float64)
    if b.ndim != 2 or b.shape[1] != 3 or b.shape[0] != epoch.size:
        raise InputError(path, f"{FIELD_VAR} has shape {b.shape}, expected ({epoch.size}, 3)")
    good_t = np.isfinite(epoch) & (epoch > 0)
    if not good_t.any():
        raise InputError(path, f"no valid {TIME_VAR} (no records, or every one is fill)")
    b = np.where((np.abs(b) > 1e30).any(axis=1, keepdims=True), np.nan, b)
    tt = np.asarray(time.tt2000_from_cdf_epoch(epoch[good_t]), dtype=np.int64)
    return tt, b[good_t]


def decode_day(sc: str, t0: int, t1: int, inputs: Inputs) -> BeaconDay:
    tt, b = read_beacon(inputs.one("data").path)
    keep = drop_exact_duplicates(tt, b) & (tt >= t0) & (tt < t1)
    order = np.argsort(tt[keep], kind="stable")
    return BeaconDay(
        sc=sc,
        t0=t0,
        t1=t1,
        time=tt[keep][order],
        b_rtn=b[keep][order],
        flags=np.zeros(int(keep.sum()), np.uint32),
    )


def despike_day(data: BeaconDay) -> BeaconDay:
    d = despike(data.b_rtn, max_glitch=0)
    flags = data.flags | np.where(d.spike, np.uint32(F.SPIKE), np.uint32(0))
    return replace(data, b_rtn=d.b, filter_value=d.filter_value, flags=flags)


def bin_day(d: BeaconDay) -> BeaconBins:
    rtn = average_bins(d.time, d.b_rtn, d.t0, d.t1, STEP_S)
    idx = np.floor_divide(d.time - d.t0, STEP_S * 1_000_000_000)
    fl = np.zeros(rtn.time.size, np.uint32)
    ok = (idx >= 0) & (idx < fl.size)
    np.bitwise_or.at(fl, idx[ok], d.flags[ok])
    return BeaconBins(sc=d.sc, rtn=rtn, bin_flags=fl, filter_value=d.filter_value)


def product(ctx: UnitContext, data: BeaconBins) -> Product:
    a = data.rtn
    b4 = np.column_stack([a.b, a.btotal]).astype(np.float32)
    b4[~np.isfinite(b4).all(axis=1)] = np.nan  # written as the definition's fill
    return Product(
        definition=ctx.product("beacon_rtn"),
        fields={"sc": data.sc},
        variables={
            "Epoch": np.asarray(time.tt2000_to_cdf_epoch(a.time), dtype=np.float64),
            "BFIELD": b4,
            "MAGFLAGUC": data.bin_flags,
            "FILTER_VALUE": np.full(a.time.size, data.filter_value, np.float32),
            "CART_LABL_1": np.array(["BR", "BT", "BN", "BTotal"]),
        },
        attrs={
            "Source_name": "Ahead>STEREO Ahead" if data.sc == "A" else "Behind>STEREO Behind",
            "Logical_source": f"ST{data.sc}_LB_MAG_RTN",
        },
    )


class Beacon(NoCalibrate, NoTransform, NoQuality):
    """The ``beacon`` level object: ``fetch``, ``read``, ``correct``, ``average``, ``write`` (no
    ``transform``: the input is RTN)."""

    def fetch(self, ctx: UnitContext) -> Inputs:
        data = fetching.require_beacon(ctx, ctx.sc, ctx.day)
        return Inputs(files=[data], selection={"beacon": data.version or ""})

    def read(self, ctx: UnitContext, inputs: Inputs) -> BeaconDay:
        t0, t1 = time.day_bounds_tt2000(ctx.day)
        data = decode_day(ctx.sc, int(t0), int(t1), inputs)
        ctx.vectors += int(data.time.size)
        return data

    def correct(self, ctx: UnitContext, data: BeaconDay) -> BeaconDay:
        return despike_day(data)

    def average(self, ctx: UnitContext, data: BeaconDay) -> BeaconBins:
        return bin_day(data)

    def write(self, ctx: UnitContext, data: BeaconBins) -> list[Product]:
        return [product(ctx, data)]

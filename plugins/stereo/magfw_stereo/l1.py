"""Level ``l1``: the daily chain as pure steps on typed stages (data in, data out).

``read`` -> :class:`L1Raw` -> ``correct`` (timing; 31.25 ms stretches and burst data to
125 ms; zero offsets; spikes and X glitches) -> :class:`L1Corrected` -> ``transform``
(SC -> RTN) -> :class:`L1Rtn` -> ``average`` (1 s overlapped, 1 min) -> :class:`L1Averaged`
-> ``write`` (:mod:`magfw_stereo.products`). Flags and FILTER_VALUE are set where the
corrections happen, so the level has no separate ``quality`` step; Berkeley's B_SC is
already in nT, so there is no ``calibrate`` step.

Offsets: Berkeley's B_SC is K x counts in nT without zero offsets, so the day's O from the
Counts table is *added*, ``B = B_SC + O`` (K is recorded, not re-applied; docs/stereo.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from magfw.api import Inputs, NoCalibrate, NoQuality, Product, UnitContext, kernels, time
from magfw_stereo import fetch as fetching
from magfw_stereo import flags as F
from magfw_stereo import products as P
from magfw_stereo.averaging import (
    Averages,
    average_1s_overlapped,
    average_bins,
    grid_phase,
    to_125ms,
)
from magfw_stereo.berkeley import RawSeries, read_uv
from magfw_stereo.counts import read_counts
from magfw_stereo.despike import despike
from magfw_stereo.rtn import sc_to_rtn
from magfw_stereo.timing import correct_timing, rate32_mask


@dataclass(frozen=True)
class DayFrame:
    """What every stage of a day carries: spacecraft, day, its TT2000 bounds, kernels."""

    sc: str
    day: date
    t0: int  #: TT2000 (ns) of 00:00 UTC
    t1: int  #: TT2000 (ns) of the next 00:00 UTC
    kernels: list[Path]


@dataclass(frozen=True)
class Series:
    """A corrected uniform-cadence series: time, SC field, |B| (mean of high-rate |B|), flags."""

    time: np.ndarray  #: int64 TT2000
    b_sc: np.ndarray  #: (N, 3) nT, NaN = fill
    btot: np.ndarray  #: (N,) nT
    flags: np.ndarray  #: uint32 MAGFLAGUC bits (:mod:`magfw_stereo.flags`)
    filter_value: float = 0.0
    stats: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class L1Raw:
    """``read``: Berkeley's normal (and burst) records and the day's Counts-table row."""

    frame: DayFrame
    normal: RawSeries
    burst: RawSeries | None
    k: np.ndarray  #: (3,) nT/count, recorded only
    offsets: np.ndarray  #: (3,) nT, added


@dataclass(frozen=True)
class L1Corrected:
    """``correct``: the 8 Hz series (and the 32 Hz burst series) in SC axes."""

    frame: DayFrame
    n8: Series
    b32: Series | None


@dataclass(frozen=True)
class L1Rtn:
    """``transform``: the corrected series with their RTN field."""

    frame: DayFrame
    n8: Series
    n8_rtn: np.ndarray  #: (N, 3) nT
    b32: Series | None
    b32_rtn: np.ndarray | None


@dataclass(frozen=True)
class L1Averaged:
    """``average``: the RTN stage and the 1 s / 1 min averages in both frames."""

    rtn: L1Rtn
    averages: dict[str, Averages]  #: "sc_1s", "rtn_1s", "sc_1min", "rtn_1min"


def read(frame: DayFrame, inputs: Inputs) -> L1Raw:
    normal = read_uv(inputs.one("data").path, burst=False)
    bursts = inputs.by_role("burst")
    burst = read_uv(bursts[0].path, burst=True) if bursts else None
    k, o = read_counts(inputs.one("calibration").path).for_day(frame.day)
    return L1Raw(frame, normal, burst, k, o)


def _nearest_flags(t_src: np.ndarray, f_src: np.ndarray, t: np.ndarray) -> np.ndarray:
    if t_src.size == 0:
        return np.zeros(t.size, np.uint32)
    i = np.clip(np.searchsorted(t_src, t), 0, t_src.size - 1)
    j = np.clip(i - 1, 0, t_src.size - 1)
    pick = np.where(np.abs(t_src[j] - t) < np.abs(t_src[i] - t), j, i)
    return f_src[pick]


def _clean(
    t: np.ndarray, b: np.ndarray, fl: np.ndarray, max_glitch: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """Despike a uniform-rate series; returns (b, flags, FILTER_VALUE)."""
    d = despike(b, max_glitch)
    fl = fl.copy()
    fl[d.spike] |= np.uint32(F.SPIKE)
    fl[d.glitch] |= np.uint32(F.X_GLITCH)
    return d.b, fl, d.filter_value


def correct(data: L1Raw) -> L1Corrected:
    """Timing, offsets, 31.25 ms -> 125 ms, burst fill, spikes and X glitches."""
    t0, t1 = data.frame.t0, data.frame.t1
    c = correct_timing(data.normal.time, data.normal.b, data.normal.flags, t0, t1)
    b = c.b + data.offsets
    r32 = rate32_mask(c.time)
    phase = grid_phase(c.time[~r32], t0)
    # 31.25 ms stretches of the normal file: despike at 32 Hz, then trapezoid means at 125 ms
    b32, f32, _ = _clean(c.time[r32], b[r32], c.flags[r32], 32)
    tm, mm = to_125ms(c.time[r32], np.column_stack([b32, np.linalg.norm(b32, axis=1)]), t0, phase)
    fm = _nearest_flags(c.time[r32], f32, tm) | np.uint32(F.FROM_32HZ)
    t = np.concatenate([c.time[~r32], tm])
    bb = np.concatenate([b[~r32], mm[:, :3]])
    bt = np.concatenate([np.linalg.norm(b[~r32], axis=1), mm[:, 3]])
    fl = np.concatenate([c.flags[~r32], fm])

    burst = None
    if data.burst is not None and len(data.burst):
        cb = correct_timing(data.burst.time, data.burst.b, data.burst.flags, t0, t1)
        bb32, fb32, fvb = _clean(cb.time, cb.b + data.offsets, cb.flags | np.uint32(F.FROM_32HZ), 32)
        burst = Series(cb.time, bb32, np.linalg.norm(bb32, axis=1), fb32, fvb, stats=cb.stats)
        # burst data fill the 8 Hz product where the normal file has no record
        tb, mb = to_125ms(cb.time, np.column_stack([bb32, burst.btot]), t0, phase)
        order = np.sort(t)
        i = np.clip(np.searchsorted(order, tb), 1, max(order.size - 1, 1))
        near = (
            np.minimum(np.abs(order[i] - tb), np.abs(order[i - 1] - tb))
            if order.size
            else np.full(tb.size, np.iinfo(np.int64).max)
        )
        new = near >= 62_500_000
        t = np.concatenate([t, tb[new]])
        bb = np.concatenate([bb, mb[new, :3]])
        bt = np.concatenate([bt, mb[new, 3]])
        fl = np.concatenate([fl, _nearest_flags(cb.time, fb32, tb[new])])
    order = np.argsort(t, kind="stable")
    t, bb, bt, fl = t[order], bb[order], bt[order], fl[order]
    b_clean, fl, fv = _clean(t, bb, fl, 8)
    changed = (fl & np.uint32(F.X_GLITCH | F.SPIKE)) != 0
    bt = np.where(changed, np.linalg.norm(b_clean, axis=1), bt)
    n8 = Series(t, b_clean, bt, fl, fv, stats=c.stats)
    return L1Corrected(data.frame, n8, burst)


def transform(data: L1Corrected) -> L1Rtn:
    """SC -> RTN (SPICE) for the 8 Hz and burst series, in one kernel pool."""
    sc = data.frame.sc
    with kernels.kernel_pool(data.frame.kernels):
        n8_rtn = sc_to_rtn(sc, data.n8.time, data.n8.b_sc)
        b32_rtn = sc_to_rtn(sc, data.b32.time, data.b32.b_sc) if data.b32 is not None else None
    return L1Rtn(data.frame, data.n8, n8_rtn, data.b32, b32_rtn)


def average(data: L1Rtn) -> L1Averaged:
    """1-s overlapped and 1-min averages of the 8 Hz series, in SC and RTN."""
    s, t0, t1 = data.n8, data.frame.t0, data.frame.t1
    out = {}
    for name, b in (("sc", s.b_sc), ("rtn", data.n8_rtn)):
        out[f"{name}_1s"] = average_1s_overlapped(s.time, b, t0, t1, s.btot)
        out[f"{name}_1min"] = average_bins(s.time, b, t0, t1, 60, s.btot)
    return L1Averaged(data, out)


def summary(s: Series) -> dict[str, int]:
    """Counts of what the corrections did (for logs and tests)."""
    out = dict(s.stats)
    out["spikes"] = int(((s.flags & np.uint32(F.SPIKE)) != 0).sum())
    out["x_glitches"] = int(((s.flags & np.uint32(F.X_GLITCH)) != 0).sum())
    out["from_32hz"] = int(((s.flags & np.uint32(F.FROM_32HZ)) != 0).sum())
    return out


def products(ctx: UnitContext, data: L1Averaged) -> list[Product]:
    """The day's CDFs, flat files and averages (SC and RTN; burst when present)."""
    sc, r = data.rtn.frame.sc, data.rtn
    out: list[Product] = []
    s = r.n8
    for name, b in (("sc", s.b_sc), ("rtn", r.n8_rtn)):
        out.append(P.cdf_product(ctx, f"l1_mag_{name}", sc, name, s.time, b, s.btot, s.flags, s.filter_value))
        out.append(P.flat_product(ctx, f"l1_mag_{name}_ff", sc, s.time, b, s.btot, s.filter_value))
        out.append(P.average_product(ctx, f"l1_mag_{name}_1s", sc, data.averages[f"{name}_1s"]))
        out.append(P.average_product(ctx, f"l1_mag_{name}_1min", sc, data.averages[f"{name}_1min"]))
    if r.b32 is not None and r.b32_rtn is not None:
        s = r.b32
        for name, b in (("sc", s.b_sc), ("rtn", r.b32_rtn)):
            out.append(
                P.cdf_product(ctx, f"l1_magb_{name}", sc, name, s.time, b, s.btot, s.flags, s.filter_value)
            )
            out.append(P.flat_product(ctx, f"l1_magb_{name}_ff", sc, s.time, b, s.btot, s.filter_value))
    return out


def day_frame(ctx: UnitContext, inputs: Inputs) -> DayFrame:
    t0, t1 = time.day_bounds_tt2000(ctx.day)
    return DayFrame(
        ctx.spacecraft or "A", ctx.day, int(t0), int(t1), [f.path for f in inputs.by_role("kernel")]
    )


class L1(NoCalibrate, NoQuality):
    """The ``l1`` level object (``stereo.l1``)."""

    def fetch(self, ctx: UnitContext) -> Inputs:
        """The day's normal file (required) and burst file, the month's Counts table and the
        kernels covering the day."""
        sc, day = ctx.spacecraft or "A", ctx.day
        normal = fetching.require_normal(ctx, sc, day)
        files = [normal]
        burst = fetching.uv_file(ctx, sc, day, burst=True)
        if burst is not None:
            files.append(burst)
        table = fetching.counts_table(ctx, sc, day)
        files += [table, *fetching.day_kernels(ctx, sc, day)]
        selection = {"berkeley": normal.version or ""}
        if burst is not None:
            selection["berkeley_burst"] = burst.version or ""
        return Inputs(
            files=files, calibration={"counts_table": f"{table.name} {table.version}"}, selection=selection
        )

    def read(self, ctx: UnitContext, inputs: Inputs) -> L1Raw:
        data = read(day_frame(ctx, inputs), inputs)
        ctx.vectors += len(data.normal) + (len(data.burst) if data.burst is not None else 0)
        return data

    def correct(self, ctx: UnitContext, data: L1Raw) -> L1Corrected:
        out = correct(data)
        ctx.log.info("ST%s %s: %s", data.frame.sc, data.frame.day, summary(out.n8))
        return out

    def transform(self, ctx: UnitContext, data: L1Corrected) -> L1Rtn:
        return transform(data)

    def average(self, ctx: UnitContext, data: L1Rtn) -> L1Averaged:
        return average(data)

    def write(self, ctx: UnitContext, data: L1Averaged) -> list[Product]:
        return products(ctx, data)

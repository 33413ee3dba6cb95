"""Level ``l1``: the daily chain as pure steps on typed stages (data in, data out).

    fetch -> Inputs -> read -> L1Raw -> correct -> L1Corrected -> transform -> L1Rotated
          -> average -> L1Averaged -> write -> [CDFs, flat files, 1 s and 1 min averages]

``correct`` repairs each series at its own cadence (the normal file's 8 Hz records, its
31.25 ms stretches, the burst file): timing, zero offsets, spikes and X glitches, flagged where
repaired; ``transform`` rotates each SC -> RTN (SPICE); ``average`` builds the 8 Hz product
(the 31.25 ms stretches as 125 ms means, burst means filling 8 Hz gaps) and its 1 s and 1 min
averages. A 4 Hz day (STEREO-A around the 2014-2015 solar conjunction) keeps its own
250 ms cadence throughout: its "8 Hz" products hold 250 ms records (MAGFLAGUC bit 24,
Time_resolution 00:00:00.250), as the published files of those days do. Berkeley's B_SC is
already in nT, so there is no ``calibrate`` step; the flags are set where the corrections and
the re-sampling happen, so there is no ``quality`` step.

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
from magfw_stereo.averaging import DT8_NS, Averages, average_day, grid_phase, to_125ms
from magfw_stereo.berkeley import RawSeries, read_uv
from magfw_stereo.counts import read_counts
from magfw_stereo.despike import despike
from magfw_stereo.rtn import sc_to_rtn
from magfw_stereo.timing import DT32_NS, NS, correct_timing, normal_step, rate32_mask


@dataclass(frozen=True, kw_only=True)
class DayFrame:
    """What every stage of a day carries: spacecraft, day, its TT2000 bounds, kernels."""

    sc: str
    day: date
    t0: int  #: TT2000 (ns) of 00:00 UTC
    t1: int  #: TT2000 (ns) of the next 00:00 UTC
    kernels: list[Path]


@dataclass(frozen=True, kw_only=True)
class Series:
    """One uniform-cadence series: time, SC field, |B| (mean of high-rate |B|), flags."""

    time: np.ndarray  #: int64 TT2000
    b_sc: np.ndarray  #: (N, 3) nT, NaN = fill
    btot: np.ndarray  #: (N,) nT
    flags: np.ndarray  #: uint32 MAGFLAGUC bits (:mod:`magfw_stereo.flags`)
    filter_value: float = 0.0
    stats: dict[str, int] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> Series:
        return cls(
            time=np.empty(0, np.int64),
            b_sc=np.empty((0, 3)),
            btot=np.empty(0),
            flags=np.empty(0, np.uint32),
        )


@dataclass(frozen=True, kw_only=True)
class Rotated:
    """A series with its RTN field."""

    series: Series
    b_rtn: np.ndarray  #: (N, 3) nT


@dataclass(frozen=True, kw_only=True)
class L1Raw:
    """``read``: Berkeley's normal (and burst) records and the day's Counts-table row."""

    frame: DayFrame
    normal: RawSeries
    burst: RawSeries | None
    k: np.ndarray  #: (3,) nT/count, recorded only
    offsets: np.ndarray  #: (3,) nT, added


@dataclass(frozen=True, kw_only=True)
class L1Corrected:
    """``correct``: each series at its own cadence, repaired, in SC axes."""

    frame: DayFrame
    n8: Series  #: the normal file's 8 Hz records (250 ms ones on a 4 Hz day)
    r32: Series  #: the normal file's 31.25 ms stretches
    burst: Series | None  #: the burst file (31.25 ms)
    step_ns: int = DT8_NS  #: the day's normal-mode sample step (125 ms; 250 ms on 4 Hz days)


@dataclass(frozen=True, kw_only=True)
class L1Rotated:
    """``transform``: the corrected series with their RTN field."""

    frame: DayFrame
    n8: Rotated
    r32: Rotated
    burst: Rotated | None
    step_ns: int = DT8_NS


@dataclass(frozen=True, kw_only=True)
class L1Averaged:
    """``average``: the 8 Hz product series, the burst series and the 1 s / 1 min averages."""

    frame: DayFrame
    n8: Rotated  #: the 8 Hz records, 125 ms means of the 31.25 ms stretches, burst fill
    burst: Rotated | None
    averages: dict[str, Averages]  #: "sc_1s", "rtn_1s", "sc_1min", "rtn_1min"
    step_ns: int = DT8_NS  #: the 8 Hz product's cadence (250 ms on 4 Hz days)


def decode_day(frame: DayFrame, inputs: Inputs) -> L1Raw:
    normal = read_uv(inputs.one("data").path, burst=False)
    bursts = inputs.by_role("burst")
    burst = read_uv(bursts[0].path, burst=True) if bursts else None
    k, o = read_counts(inputs.one("calibration").path).for_day(frame.day)
    return L1Raw(frame=frame, normal=normal, burst=burst, k=k, offsets=o)


def _nearest_flags(t_src: np.ndarray, f_src: np.ndarray, t: np.ndarray) -> np.ndarray:
    if t_src.size == 0:
        return np.zeros(t.size, np.uint32)
    i = np.clip(np.searchsorted(t_src, t), 0, t_src.size - 1)
    j = np.clip(i - 1, 0, t_src.size - 1)
    pick = np.where(np.abs(t_src[j] - t) < np.abs(t_src[i] - t), j, i)
    return f_src[pick]


def _norm(b: np.ndarray) -> np.ndarray:
    """|b| of (N, 3) vectors, component by component (the values of ``np.linalg.norm``)."""
    x, y, z = b[:, 0], b[:, 1], b[:, 2]
    out: np.ndarray = np.sqrt((x * x + y * y) + z * z)
    return out


def _clean(
    t: np.ndarray, b: np.ndarray, fl: np.ndarray, step_ns: int, stats: dict[str, int] | None = None
) -> Series:
    """Despike a uniform-rate series of ``step_ns`` (spikes to fill, X glitches repaired, both
    flagged; glitches last at most 1 s)."""
    d = despike(b, NS // step_ns, t, step_ns)
    fl = fl.copy()
    fl[d.spike] |= np.uint32(F.SPIKE)
    fl[d.glitch] |= np.uint32(F.X_GLITCH)
    return Series(time=t, b_sc=d.b, btot=_norm(d.b), flags=fl, filter_value=d.filter_value, stats=stats or {})


def repair_day(data: L1Raw) -> L1Corrected:
    """Timing, zero offsets, spikes and X glitches of each series at its own cadence."""
    t0, t1 = data.frame.t0, data.frame.t1
    c = correct_timing(data.normal.time, data.normal.b, data.normal.flags, t0, t1)
    r32 = rate32_mask(c.time)
    i8, i32 = np.flatnonzero(~r32), np.flatnonzero(r32)  # the split, found once
    b8, b32 = c.b[i8], c.b[i32]
    b8 += data.offsets
    b32 += data.offsets
    step = normal_step(c.time[i8])
    fl8 = c.flags[i8] | np.uint32(F.FOUR_HZ if step != DT8_NS else 0)
    n8 = _clean(c.time[i8], b8, fl8, step, c.stats)
    s32 = _clean(c.time[i32], b32, c.flags[i32] | np.uint32(F.FROM_32HZ), DT32_NS)
    burst = None
    if data.burst is not None and len(data.burst):
        cb = correct_timing(data.burst.time, data.burst.b, data.burst.flags, t0, t1)
        burst = _clean(cb.time, cb.b + data.offsets, cb.flags | np.uint32(F.FROM_32HZ), DT32_NS, cb.stats)
    return L1Corrected(frame=data.frame, n8=n8, r32=s32, burst=burst, step_ns=step)


def rotate_day(data: L1Corrected) -> L1Rotated:
    """SC -> RTN (SPICE) for every series, in one kernel pool."""
    sc = data.frame.sc

    def rotated(s: Series) -> Rotated:
        return Rotated(series=s, b_rtn=sc_to_rtn(sc, s.time, s.b_sc) if s.time.size else np.empty((0, 3)))

    with kernels.kernel_pool(data.frame.kernels):
        n8, r32 = rotated(data.n8), rotated(data.r32)
        burst = rotated(data.burst) if data.burst is not None else None
    return L1Rotated(frame=data.frame, n8=n8, r32=r32, burst=burst, step_ns=data.step_ns)


def _to_8hz(
    r: Rotated, t0: int, phase: int, step: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """31.25 ms samples as trapezoid means on the normal-mode grid (``step`` ns): stamps, SC,
    RTN, mean |B|."""
    s = r.series
    tm, m = to_125ms(s.time, np.column_stack([s.b_sc, r.b_rtn, s.btot]), t0, phase, step)
    return tm, m[:, :3], m[:, 3:6], m[:, 6]


def _merged(parts: list[np.ndarray], places: list[np.ndarray], n: int) -> np.ndarray:
    """One column of the merged series: each part written once at its places."""
    out = np.empty((n, *parts[0].shape[1:]), dtype=parts[0].dtype)
    for part, where in zip(parts, places, strict=True):
        out[where] = part
    return out


def eight_hz_product(data: L1Rotated) -> Rotated:
    """The 8 Hz product series: the normal file's 8 Hz records, its 31.25 ms stretches as
    125 ms means on the records' grid, and burst means where the normal file has no record
    within half a step; each record keeps the flags of the samples it came from."""
    t0, n8, step = data.frame.t0, data.n8.series, data.step_ns
    phase = grid_phase(n8.time, t0, step)
    parts = [(n8.time, n8.b_sc, data.n8.b_rtn, n8.btot, n8.flags)]
    r32 = data.r32.series
    tm, sc, rtn, bt = _to_8hz(data.r32, t0, phase, step)
    parts.append((tm, sc, rtn, bt, _nearest_flags(r32.time, r32.flags, tm)))
    if data.burst is not None:
        have = np.sort(np.concatenate([n8.time, tm]))
        tb, sc, rtn, bt = _to_8hz(data.burst, t0, phase, step)
        i = np.clip(np.searchsorted(have, tb), 1, max(have.size - 1, 1))
        near = (
            np.minimum(np.abs(have[i] - tb), np.abs(have[i - 1] - tb))
            if have.size
            else np.full(tb.size, np.iinfo(np.int64).max)
        )
        new = np.flatnonzero(near >= step // 2)
        bs = data.burst.series
        parts.append((tb[new], sc[new], rtn[new], bt[new], _nearest_flags(bs.time, bs.flags, tb[new])))
    # where each record goes in time order (stable: the parts' order breaks ties), found once
    times = [p[0] for p in parts]
    order = np.argsort(np.concatenate(times), kind="stable")
    place = np.empty_like(order)
    place[order] = np.arange(order.size)
    bounds = np.cumsum([0, *(t.size for t in times)])
    places = [place[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    t, b_sc, b_rtn, btot, flags = (_merged(list(col), places, order.size) for col in zip(*parts, strict=True))
    series = Series(time=t, b_sc=b_sc, btot=btot, flags=flags, filter_value=n8.filter_value, stats=n8.stats)
    return Rotated(series=series, b_rtn=b_rtn)


def resample_day(data: L1Rotated) -> L1Averaged:
    """The 8 Hz product series, and its 1-s overlapped and 1-min averages in SC and RTN."""
    n8 = eight_hz_product(data)
    s = n8.series
    out = average_day(s.time, {"sc": s.b_sc, "rtn": n8.b_rtn}, s.btot, data.frame.t0, data.frame.t1)
    return L1Averaged(frame=data.frame, n8=n8, burst=data.burst, averages=out, step_ns=data.step_ns)


def summary(n8: Series, r32: Series) -> dict[str, int]:
    """Counts of what the corrections did (for the log)."""
    out = dict(n8.stats)
    for name, bit in (("spikes", F.SPIKE), ("x_glitches", F.X_GLITCH)):
        out[name] = sum(int(np.count_nonzero(s.flags & np.uint32(bit))) for s in (n8, r32))
    out["records_32hz"] = int(r32.time.size)
    return out


def products(ctx: UnitContext, data: L1Averaged) -> list[Product]:
    """The day's CDFs, flat files and averages (SC and RTN; burst when present). Each
    series' CDF_EPOCH stamps and each frame's (N, 4) field are made once, for the CDF and
    the flat file alike."""
    sc = data.frame.sc
    out: list[Product] = []
    series = [("l1_mag", data.n8)] + ([("l1_magb", data.burst)] if data.burst is not None else [])
    for pid, rotated in series:
        s = rotated.series
        epoch = P.cdf_epoch(s.time)
        res = P.time_resolution(data.step_ns) if pid == "l1_mag" else None
        for name, b in (("sc", s.b_sc), ("rtn", rotated.b_rtn)):
            b4 = P.b4(b, s.btot)
            out.append(P.cdf_product(ctx, f"{pid}_{name}", sc, name, epoch, b4, s.flags, s.filter_value, res))
            out.append(P.flat_product(ctx, f"{pid}_{name}_ff", sc, s.time, b4, s.filter_value, res))
            if pid == "l1_mag":
                out.append(P.average_product(ctx, f"l1_mag_{name}_1s", sc, data.averages[f"{name}_1s"]))
                out.append(P.average_product(ctx, f"l1_mag_{name}_1min", sc, data.averages[f"{name}_1min"]))
    return out


def day_frame(ctx: UnitContext, inputs: Inputs) -> DayFrame:
    t0, t1 = time.day_bounds_tt2000(ctx.day)
    return DayFrame(
        sc=ctx.sc,
        day=ctx.day,
        t0=int(t0),
        t1=int(t1),
        kernels=[f.path for f in inputs.by_role("kernel")],
    )


class L1(NoCalibrate, NoQuality):
    """The ``l1`` level object: ``fetch``, ``read``, ``correct``, ``transform``, ``average``,
    ``write`` (see the module notes for why there is no ``calibrate`` or ``quality``)."""

    def fetch(self, ctx: UnitContext) -> Inputs:
        """The day's normal file (required) and burst file, the month's Counts table and the
        kernels covering the day."""
        sc, day = ctx.sc, ctx.day
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
        data = decode_day(day_frame(ctx, inputs), inputs)
        ctx.vectors += len(data.normal) + (len(data.burst) if data.burst is not None else 0)
        return data

    def correct(self, ctx: UnitContext, data: L1Raw) -> L1Corrected:
        out = repair_day(data)
        ctx.log.info("ST%s %s: %s", data.frame.sc, data.frame.day, summary(out.n8, out.r32))
        return out

    def transform(self, ctx: UnitContext, data: L1Corrected) -> L1Rotated:
        return rotate_day(data)

    def average(self, ctx: UnitContext, data: L1Rotated) -> L1Averaged:
        return resample_day(data)

    def write(self, ctx: UnitContext, data: L1Averaged) -> list[Product]:
        return products(ctx, data)

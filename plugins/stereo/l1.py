"""The daily L1 chain as pure steps on a :class:`L1Day` (data in, data out).

read -> correct (timing; 31.25 ms stretches and burst data to 125 ms; zero offsets; spikes and
X glitches) -> transform (SC -> RTN) -> average (1 s overlapped, 1 min) -> quality (flags,
FILTER_VALUE) -> write (``products``).

Offsets: Berkeley's B_SC is K x counts in nT without zero offsets, so the day's O from the
Counts table is *added*, ``B = B_SC + O`` (K is recorded, not re-applied; docs/stereo.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from magfw import kernels
from magfw.context import Inputs
from magfw_stereo import flags as F
from magfw_stereo.averaging import Averages, average_1s_overlapped, average_bins, grid_phase, to_125ms
from magfw_stereo.berkeley import RawSeries, read_uv
from magfw_stereo.counts import read_counts
from magfw_stereo.despike import despike
from magfw_stereo.rtn import sc_to_rtn
from magfw_stereo.timing import correct_timing, rate32_mask


@dataclass
class Series:
    """A corrected uniform-cadence series: time, SC field, |B| (mean of high-rate |B|), flags."""

    time: np.ndarray
    b_sc: np.ndarray  # (N, 3) nT, NaN = fill
    btot: np.ndarray  # (N,) nT
    flags: np.ndarray  # uint32
    filter_value: float = 0.0
    b_rtn: np.ndarray | None = None
    stats: dict[str, int] = field(default_factory=dict)


@dataclass
class L1Day:
    sc: str
    day: date
    t0: int
    t1: int
    normal: RawSeries
    burst: RawSeries | None
    k: np.ndarray
    offsets: np.ndarray
    kernels: list[Path]
    n8: Series | None = None
    b32: Series | None = None
    averages: dict[str, Averages] = field(default_factory=dict)


def read(sc: str, day: date, t0: int, t1: int, inputs: Inputs) -> L1Day:
    normal = read_uv(inputs.by_role("data")[0].path, burst=False)
    bursts = inputs.by_role("burst")
    burst = read_uv(bursts[0].path, burst=True) if bursts else None
    table = read_counts(inputs.by_role("calibration")[0].path)
    k, o = table.for_day(day)
    return L1Day(sc, day, t0, t1, normal, burst, k, o,
                 [f.path for f in inputs.by_role("kernel")])


def _nearest_flags(t_src: np.ndarray, f_src: np.ndarray, t: np.ndarray) -> np.ndarray:
    if t_src.size == 0:
        return np.zeros(t.size, np.uint32)
    i = np.clip(np.searchsorted(t_src, t), 0, t_src.size - 1)
    j = np.clip(i - 1, 0, t_src.size - 1)
    pick = np.where(np.abs(t_src[j] - t) < np.abs(t_src[i] - t), j, i)
    return f_src[pick]


def _clean(t: np.ndarray, b: np.ndarray, fl: np.ndarray, max_glitch: int
           ) -> tuple[np.ndarray, np.ndarray, float]:
    """Despike a uniform-rate series; returns (b, flags, FILTER_VALUE)."""
    d = despike(b, max_glitch)
    fl = fl.copy()
    fl[d.spike] |= np.uint32(F.SPIKE)
    fl[d.glitch] |= np.uint32(F.X_GLITCH)
    return d.b, fl, d.filter_value


def correct(data: L1Day) -> L1Day:
    """Timing, offsets, 31.25 ms -> 125 ms, burst fill, spikes and X glitches."""
    c = correct_timing(data.normal.time, data.normal.b, data.normal.flags, data.t0, data.t1)
    b = c.b + data.offsets
    r32 = rate32_mask(c.time)
    phase = grid_phase(c.time[~r32], data.t0)
    # 31.25 ms stretches of the normal file: despike at 32 Hz, then trapezoid means at 125 ms
    b32, f32, _ = _clean(c.time[r32], b[r32], c.flags[r32], 32)
    tm, mm = to_125ms(c.time[r32], np.column_stack([b32, np.linalg.norm(b32, axis=1)]),
                      data.t0, phase)
    fm = _nearest_flags(c.time[r32], f32, tm) | np.uint32(F.FROM_32HZ)
    t = np.concatenate([c.time[~r32], tm])
    bb = np.concatenate([b[~r32], mm[:, :3]])
    bt = np.concatenate([np.linalg.norm(b[~r32], axis=1), mm[:, 3]])
    fl = np.concatenate([c.flags[~r32], fm])

    burst = None
    if data.burst is not None and len(data.burst):
        cb = correct_timing(data.burst.time, data.burst.b, data.burst.flags, data.t0, data.t1)
        bb32, fb32, fvb = _clean(cb.time, cb.b + data.offsets, cb.flags | np.uint32(F.FROM_32HZ),
                                 32)
        burst = Series(cb.time, bb32, np.linalg.norm(bb32, axis=1), fb32, fvb, stats=cb.stats)
        # burst data fill the 8 Hz product where the normal file has no record
        tb, mb = to_125ms(cb.time, np.column_stack([bb32, burst.btot]), data.t0, phase)
        order = np.sort(t)
        i = np.clip(np.searchsorted(order, tb), 1, max(order.size - 1, 1))
        near = np.minimum(np.abs(order[i] - tb), np.abs(order[i - 1] - tb)) \
            if order.size else np.full(tb.size, np.iinfo(np.int64).max)
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
    return replace(data, n8=n8, b32=burst)


def transform(data: L1Day) -> L1Day:
    """SC -> RTN (SPICE) for the 8 Hz and burst series, in one kernel pool."""
    with kernels.kernel_pool(data.kernels):
        for s in (data.n8, data.b32):
            if s is not None:
                s.b_rtn = sc_to_rtn(data.sc, s.time, s.b_sc)
    return data


def average(data: L1Day) -> L1Day:
    s = data.n8
    assert s is not None and s.b_rtn is not None
    out = {}
    for frame, b in (("sc", s.b_sc), ("rtn", s.b_rtn)):
        out[f"{frame}_1s"] = average_1s_overlapped(s.time, b, data.t0, data.t1, s.btot)
        out[f"{frame}_1min"] = average_bins(s.time, b, data.t0, data.t1, 60, s.btot)
    return replace(data, averages=out)


def summary(data: L1Day) -> dict[str, Any]:
    """Counts of what the corrections did (for logs and tests)."""
    s = data.n8
    out: dict[str, Any] = dict(s.stats) if s else {}
    if s is not None:
        out["spikes"] = int(((s.flags & np.uint32(F.SPIKE)) != 0).sum())
        out["x_glitches"] = int(((s.flags & np.uint32(F.X_GLITCH)) != 0).sum())
        out["from_32hz"] = int(((s.flags & np.uint32(F.FROM_32HZ)) != 0).sum())
    return out

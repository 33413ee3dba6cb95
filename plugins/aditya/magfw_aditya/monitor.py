"""Level ``monitor``: quiet-time monitoring of both sensors (MAG manual 3.1: "Continuous
monitoring of quiet-time data from both the sensors is done to estimate and refine the
calibration parameters"): per day an offset and a gain drift estimate, and their trend over the
month, with a plot (``magfw aditya monitor 2024-08``).

Both sensors see the same interplanetary field; they differ by their zero offsets and by the
spacecraft's field (8 times stronger at MAG2). On quiet samples (the GTI derivative-ratio test
passes, housekeeping present, the dual-magnetometer IMF varies by less than ``QUIET_STD_NT``
over ``QUIET_WINDOW_S``):

- **differential offset** per axis: the day's median of ``B_MAG1 - B_MAG2`` (nT, SCCS). It is
  ``offset1 - offset2`` plus -7/8 of the spacecraft field at MAG2, whose static part does not
  change from day to day: a change of this median is a change of the sensors' offsets;
- **gain ratio** per axis: the least-squares slope of MAG2's against MAG1's IMF fluctuations
  (``BLOCK_S`` means of quiet samples, which remove noise and the 1.3 Hz spacecraft field,
  each minus its running mean over ``HIGHPASS_S``), 1 when the gains agree;
- the **trend** over the month: a least-squares line through the days (per day and axis), and
  the largest day-to-day step.

Unit of work: a calendar month; it reads the newest L1 files of the month's days already in
the output tree (``needs`` nothing: run l1 first, or give ``--source`` to the command)::

    fetch -> Inputs -> read -> MonitorRead -> quality -> Monitored -> write -> [report, plot]

Monitoring is judging the data, so it is the ``quality`` step (the block means inside the
gain-ratio estimate are part of that estimator, not a product's time base); L1 is calibrated
and corrected already and nothing is rotated, hence no other middle step.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import yaml

from magfw.api import (
    Inputs,
    NoAverage,
    NoCalibrate,
    NoCorrect,
    NoTransform,
    PlotPanel,
    PlotSpec,
    Product,
    UnitContext,
    read_netcdf,
    time,
)
from magfw_aditya import config, dualmag, gti
from magfw_aditya.common import AXES, FILL, SENSORS
from magfw_aditya.despike import boxcar

CADENCE_S = 0.128
QUIET_WINDOW_S = 600.0
QUIET_STD_NT = 1.5
BLOCK_S = 8.192  #: block means for the gain ratio (removes noise and the 1.3 Hz AC field)
HIGHPASS_S = 600.0
MIN_QUIET = 20_000  #: quiet samples a day needs for an estimate (~43 min)


@dataclass(frozen=True, kw_only=True)
class DayData:
    day: date
    tt: np.ndarray
    b1: np.ndarray
    b2: np.ndarray
    hk_missing: np.ndarray


@dataclass(frozen=True, kw_only=True)
class MonitorRead:
    month: str
    days: list[DayData]


@dataclass(frozen=True, kw_only=True)
class DayEstimate:
    day: date
    quiet: int
    diff_offset: np.ndarray  #: (3,) nT, median of B1 - B2 on quiet samples
    gain_ratio: np.ndarray  #: (3,) MAG2 / MAG1


@dataclass(frozen=True, kw_only=True)
class Monitored:
    month: str
    days: list[DayEstimate]


def quiet_mask(tt: np.ndarray, b1: np.ndarray, b2: np.ndarray, hk_missing: np.ndarray) -> np.ndarray:
    """Samples that are present, have housekeeping, pass the GTI ratio test and lie where the
    dual-magnetometer IMF is quiet."""
    cfg = config.l2_config()
    ts = (tt - tt[0]) / 1e9
    present = np.isfinite(b1).all(axis=1) & np.isfinite(b2).all(axis=1)
    bad = gti.ratio_flags(ts, b1, b2, cfg.gti, CADENCE_S)
    imf, _ = dualmag.remove_spacecraft_field(b1, b2, dualmag.ratio(cfg.r_mag1_m, cfg.r_mag2_m, cfg.exponent))
    n = max(3, int(QUIET_WINDOW_S / CADENCE_S))
    mean = boxcar(imf, n)
    var = boxcar(imf**2, n) - mean**2
    calm = np.sqrt(np.clip(var, 0, None)).max(axis=1) < QUIET_STD_NT
    out: np.ndarray = present & ~bad & ~hk_missing & calm
    return out


def estimate_day(d: DayData) -> DayEstimate | None:
    """The day's differential offset and gain ratio from its quiet samples."""
    q = quiet_mask(d.tt, d.b1, d.b2, d.hk_missing)
    if q.sum() < MIN_QUIET:
        return None
    diff = np.median(d.b1[q] - d.b2[q], axis=0)
    # gain: block means of the quiet samples, then the fluctuations about a running mean
    blk = ((d.tt - d.tt[0]) // int(BLOCK_S * 1e9)).astype(np.int64)
    nb = int(blk[-1]) + 1
    cnt = np.bincount(blk[q], minlength=nb)
    full = cnt >= 0.9 * BLOCK_S / CADENCE_S
    with np.errstate(invalid="ignore", divide="ignore"):
        m1 = np.stack([np.bincount(blk[q], d.b1[q, k], nb) for k in range(3)], 1) / cnt[:, None]
        m2 = np.stack([np.bincount(blk[q], d.b2[q, k], nb) for k in range(3)], 1) / cnt[:, None]
    m1[~full], m2[~full] = np.nan, np.nan
    n = max(3, int(HIGHPASS_S / BLOCK_S))
    hp1, hp2 = m1 - boxcar(m1, n), m2 - boxcar(m2, n)
    ok = np.isfinite(hp1).all(axis=1) & np.isfinite(hp2).all(axis=1)
    gain = np.array([np.sum(hp1[ok, k] * hp2[ok, k]) / np.sum(hp1[ok, k] ** 2) for k in range(3)])
    return DayEstimate(day=d.day, quiet=int(q.sum()), diff_offset=diff, gain_ratio=gain)


def trend(days: list[DayEstimate], values: np.ndarray) -> list[float]:
    """Least-squares slope per day of ``values`` (K, 3) against the days."""
    if len(days) < 2:
        return [0.0, 0.0, 0.0]
    x = np.array([d.day.toordinal() for d in days], dtype=float)
    x -= x.mean()
    return [float(np.sum(x * (values[:, k] - values[:, k].mean())) / np.sum(x**2)) for k in range(3)]


def report(data: Monitored) -> dict[str, object]:
    days = data.days
    diff = np.array([d.diff_offset for d in days]) if days else np.empty((0, 3))
    gain = np.array([d.gain_ratio for d in days]) if days else np.empty((0, 3))
    steps = np.abs(np.diff(diff, axis=0)) if len(days) > 1 else np.zeros((0, 3))
    return {
        "month": data.month,
        "method": "quiet samples (GTI, housekeeping, dual-magnetometer IMF std < "
        f"{QUIET_STD_NT} nT over {QUIET_WINDOW_S:.0f} s); differential offset = median "
        "B_MAG1 - B_MAG2 (SCCS); gain ratio = slope of MAG2 on MAG1 fluctuations "
        f"({BLOCK_S} s means, {HIGHPASS_S:.0f}-s high-pass) (magfw_aditya.monitor)",
        "axes": list(AXES),
        "days": {
            d.day.isoformat(): {
                "quiet_samples": d.quiet,
                "differential_offset_nT": [round(float(x), 4) for x in d.diff_offset],
                "gain_ratio_mag2_mag1": [round(float(x), 5) for x in d.gain_ratio],
            }
            for d in days
        },
        "trend": {
            "differential_offset_nT_per_day": [round(x, 5) for x in trend(days, diff)],
            "gain_ratio_per_day": [round(x, 6) for x in trend(days, gain)],
            "largest_day_to_day_offset_step_nT": [
                round(float(x), 4) for x in (steps.max(axis=0) if steps.size else np.zeros(3))
            ],
        },
    }


def plot(data: Monitored, simulated: bool) -> PlotSpec:
    days = data.days
    t = np.array(
        [int(time.tt2000_from_iso(np.array([f"{d.day}T12:00:00"]))[0]) for d in days], dtype=np.int64
    )
    diff = np.array([d.diff_offset for d in days])
    gain = np.array([d.gain_ratio for d in days])
    colors = ["tab:blue", "tab:orange", "tab:green"]
    panels = [
        PlotPanel(
            series={f"{a}": diff[:, k] for k, a in enumerate(AXES)},
            ylabel="B1 - B2 quiet median [nT]",
            colors=colors,
        ),
        PlotPanel(
            series={f"{a}": gain[:, k] for k, a in enumerate(AXES)}, ylabel="gain MAG2/MAG1", colors=colors
        ),
    ]
    title = f"Aditya-L1 MAG quiet-time monitoring {data.month}"
    if simulated:
        title += "   SIMULATED"
    return PlotSpec(time=t, panels=panels, title=title, size_px=(1200, 700))


class Monitor(NoCalibrate, NoCorrect, NoTransform, NoAverage):
    """The ``monitor`` level object: ``fetch``, ``read``, ``quality``, ``write``."""

    def fetch(self, ctx: UnitContext) -> Inputs:
        first = ctx.day.replace(day=1)
        n = calendar.monthrange(first.year, first.month)[1]
        found = []
        for k in range(n):
            day = first + timedelta(days=k)
            found += ctx.newest_products(ctx.mission.id, "l1", yy=day.year % 100, doy=day.timetuple().tm_yday)
        if not found:
            return Inputs(skip_reason=f"no L1 of {first:%Y-%m} in the output tree")
        return Inputs(
            files=[ctx.product_input(f, "l1") for f in found],
            calibration={"processing": config.digest(config.PROCESSING)},
            selection={"l1": "newest version of each L1 file of the month"},
        )

    def read(self, ctx: UnitContext, inputs: Inputs) -> MonitorRead:
        from magfw_aditya.l2steps import hk_intervals

        by_day: dict[date, list[tuple[np.ndarray, ...]]] = {}
        for f in inputs.by_role("l1"):
            d = read_netcdf(f.path)
            tt = np.asarray(time.tt2000_from_unix(d.variables["time"]), dtype=np.int64)
            b = {}
            for s in SENSORS:
                arr = np.stack([d.variables[f"B_{a}_{s}"] for a in AXES], 1).astype(float)
                arr[arr == FILL] = np.nan
                b[s] = arr
            hk = gti.in_intervals(tt, hk_intervals(d.global_attrs.get("housekeeping_gaps", "none"), f.path))
            days = time.utc_day_of(tt)
            for day in np.unique(days):
                sel = days == day
                by_day.setdefault(day.astype(object), []).append(
                    (tt[sel], b["mag1"][sel], b["mag2"][sel], hk[sel])
                )
            ctx.vectors += 2 * tt.size
        out = []
        for day in sorted(by_day):
            parts = by_day[day]
            tt = np.concatenate([p[0] for p in parts])
            o = np.argsort(tt, kind="stable")
            out.append(
                DayData(
                    day=day,
                    tt=tt[o],
                    b1=np.concatenate([p[1] for p in parts])[o],
                    b2=np.concatenate([p[2] for p in parts])[o],
                    hk_missing=np.concatenate([p[3] for p in parts])[o],
                )
            )
        return MonitorRead(month=f"{ctx.day:%Y-%m}", days=out)

    def quality(self, ctx: UnitContext, data: MonitorRead) -> Monitored:
        """Each day's differential offset and gain ratio from its quiet samples."""
        est = []
        for d in data.days:
            e = estimate_day(d)
            if e is None:
                ctx.note(f"{d.day}: too few quiet samples for an estimate")
            else:
                est.append(e)
        return Monitored(month=data.month, days=est)

    def write(self, ctx: UnitContext, data: Monitored) -> list[Product]:
        text = yaml.safe_dump(report(data), sort_keys=False, width=100)
        out = [Product(definition=ctx.product("monitoring"), payload=text.encode())]
        if data.days:
            out.append(Product(definition=ctx.product("monitoring_plot"), plot=plot(data, ctx.simulated)))
        return out

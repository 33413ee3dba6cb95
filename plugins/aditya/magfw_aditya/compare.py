"""Level ``compare``: Aditya-L1 L2 against another L1 monitor (DSCOVR, ACE) over a month: the
per-component differences and their trend, the MAG team's long-term check (MAG manual
section 8: "derive any long-term trends in magnetometer sensors performance that are not
already incorporated in the caldb").

Unit of work: a calendar month (``magfw aditya compare 2024-08 --source DIR``). It reads the
newest L2 of each day already in the output tree and the monitors' files under ``dscovr/`` and
``ace/`` of the source (``--source upstream=DIR`` names that archive apart)::

    fetch -> Inputs -> read -> CompareRead -> average -> Aligned -> quality -> Compared
          -> write -> [report, plot]

``average`` puts Aditya's 10-s bins onto each monitor record's interval (the alignment below);
``quality`` judges the agreement (differences, correlation and their trend: the
cross-comparison); there is nothing to calibrate, correct or rotate (both are GSE L2 data).

Alignment: each monitor record covers [t, t + cadence) when its stamp is the interval's start
(ACE: its Epoch CATDESC says so; DSCOVR: taken so) or [t - cadence/2, t + cadence/2) when
centred; the Aditya value
is the mean of the flag-1 10-s bins whose centres fall inside, kept when they are at least
half of the record's span. Differences are Aditya - monitor in GSE; the trend is a least-
squares line through them (nT/day), per component and for |B|. No propagation delay is applied
(both spacecraft are near L1; structures can arrive minutes apart, which adds scatter, not bias).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import yaml

from magfw.api import (
    InputError,
    InputFile,
    Inputs,
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
from magfw_aditya import upstream
from magfw_aditya.common import FILL, NS

MIN_COVER = 0.5


@dataclass(frozen=True, kw_only=True)
class AdityaBins:
    start: np.ndarray  #: (M,) int64 TT2000 bin starts of the month's L2 files
    b_gse: np.ndarray  #: (M, 3) nT, NaN where flag 0 or fill
    bin_s: float


@dataclass(frozen=True, kw_only=True)
class CompareRead:
    month: str
    aditya: AdityaBins
    monitors: list[upstream.MonitorData]


@dataclass(frozen=True, kw_only=True)
class Comparison:
    monitor: str
    files: list[str]
    tt: np.ndarray  #: (K,) int64 TT2000 of the aligned records
    aditya: np.ndarray  #: (K, 3)
    other: np.ndarray  #: (K, 3)

    @property
    def diff(self) -> np.ndarray:
        out: np.ndarray = self.aditya - self.other
        return out


@dataclass(frozen=True, kw_only=True)
class Aligned:
    """``average``: one comparison per monitor, the records aligned."""

    month: str
    comparisons: list[Comparison]


@dataclass(frozen=True, kw_only=True)
class Compared:
    """``quality``: each comparison with its report (differences, correlation, trend)."""

    month: str
    comparisons: list[Comparison]
    reports: list[dict[str, object]]


def align(a: AdityaBins, m: upstream.MonitorData) -> Comparison:
    """Aditya means over each monitor record's interval (see the module notes)."""
    step = int(round(m.cadence_s * NS))
    lo = m.tt if m.stamp == "start" else m.tt - step // 2
    centres = a.start + int(a.bin_s * NS) // 2
    order = np.argsort(centres)
    centres, b = centres[order], a.b_gse[order]
    i0 = np.searchsorted(centres, lo, side="left")
    i1 = np.searchsorted(centres, lo + step, side="left")
    good = np.isfinite(b).all(axis=1)
    csum = np.vstack([np.zeros((1, 3)), np.cumsum(np.where(good[:, None], b, 0.0), axis=0)])
    cnt = np.r_[0, np.cumsum(good)]
    n = cnt[i1] - cnt[i0]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (csum[i1] - csum[i0]) / n[:, None]
    need = MIN_COVER * m.cadence_s / a.bin_s
    ok = (n >= need) & np.isfinite(m.b_gse).all(axis=1)
    return Comparison(monitor=m.monitor, files=[m.name], tt=m.tt[ok], aditya=mean[ok], other=m.b_gse[ok])


def merge(comps: list[Comparison]) -> list[Comparison]:
    """One comparison per monitor (its files joined, in time order)."""
    out = []
    for name in sorted({c.monitor for c in comps}):
        cs = [c for c in comps if c.monitor == name]
        tt = np.concatenate([c.tt for c in cs])
        o = np.argsort(tt, kind="stable")
        out.append(
            Comparison(
                monitor=name,
                files=[f for c in cs for f in c.files],
                tt=tt[o],
                aditya=np.concatenate([c.aditya for c in cs])[o],
                other=np.concatenate([c.other for c in cs])[o],
            )
        )
    return out


def trend(tt: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares line of ``y`` against days: (value at the mean time, slope per day, its
    1-sigma)."""
    days = (tt - tt.mean()) / (86400 * NS) if tt.size else tt
    if tt.size < 3 or np.ptp(days) == 0:
        return float(np.mean(y)) if y.size else float("nan"), 0.0, float("nan")
    a = np.vstack([np.ones_like(days), days]).T
    coef, res, *_ = np.linalg.lstsq(a, y, rcond=None)
    s2 = float(np.sum((y - a @ coef) ** 2) / max(y.size - 2, 1))
    cov = np.linalg.inv(a.T @ a) * s2
    return float(coef[0]), float(coef[1]), float(np.sqrt(cov[1, 1]))


def summary(c: Comparison) -> dict[str, object]:
    """The report of one monitor: overall and per-day differences, correlation, trend."""
    d = c.diff
    mag = np.linalg.norm(c.aditya, axis=1) - np.linalg.norm(c.other, axis=1)
    comps = {"Bx": d[:, 0], "By": d[:, 1], "Bz": d[:, 2], "|B|": mag}
    days = time.utc_day_of(c.tt).astype(str)
    per_day: dict[str, dict[str, object]] = {}
    for day in sorted(set(days.tolist())):
        sel = days == day
        entry_day: dict[str, object] = {
            k: {"mean": round(float(np.mean(v[sel])), 4), "std": round(float(np.std(v[sel])), 4)}
            for k, v in comps.items()
        }
        entry_day["records"] = int(sel.sum())
        per_day[day] = entry_day
    overall: dict[str, object] = {}
    for k, (name, v) in enumerate(comps.items()):
        mean, slope, sig = trend(c.tt, v)
        entry: dict[str, object] = {
            "mean_nT": round(float(np.mean(v)), 4),
            "median_nT": round(float(np.median(v)), 4),
            "std_nT": round(float(np.std(v)), 4),
            "trend_nT_per_day": round(slope, 5),
            "trend_sigma_nT_per_day": None if np.isnan(sig) else round(sig, 5),
        }
        if k < 3 and c.tt.size > 2:
            entry["correlation"] = round(float(np.corrcoef(c.aditya[:, k], c.other[:, k])[0, 1]), 4)
        overall[name] = entry
    iso = time.tt2000_to_iso(c.tt[[0, -1]], 1_000_000_000) if c.tt.size else ["", ""]
    return {
        "monitor": c.monitor,
        "files": c.files,
        "records": int(c.tt.size),
        "first": f"{iso[0]}Z",
        "last": f"{iso[1]}Z",
        "differences": "Aditya-L1 L2 minus monitor, GSE, nT",
        "overall": overall,
        "per_day": per_day,
    }


def plot(c: Comparison, month: str, simulated: bool) -> PlotSpec:
    panels = []
    for k, comp in enumerate(("Bx", "By", "Bz")):
        panels.append(
            PlotPanel(
                series={f"Aditya-L1 {comp}": c.aditya[:, k], f"{c.monitor} {comp}": c.other[:, k]},
                ylabel=f"{comp} GSE [nT]",
                colors=["tab:blue", "tab:orange"],
            )
        )
    d = c.diff
    panels.append(
        PlotPanel(
            series={"dBx": d[:, 0], "dBy": d[:, 1], "dBz": d[:, 2]},
            ylabel="Aditya - monitor [nT]",
            colors=["tab:blue", "tab:orange", "tab:green"],
        )
    )
    title = f"Aditya-L1 MAG L2 vs {c.monitor}  {month}"
    if simulated:
        title += "   SIMULATED"
    return PlotSpec(time=c.tt, panels=panels, title=title, size_px=(1200, 1000))


def _month_days(day: date) -> tuple[date, date]:
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _file_touches(name: str, first: date, last: date) -> bool:
    m = upstream.DSCOVR_NAME.match(name)
    if m:
        a = datetime.strptime(m.group("start")[:8], "%Y%m%d").date()
        b = datetime.strptime(m.group("end")[:8], "%Y%m%d").date()
        return a <= last and b >= first
    m = upstream.ACE_NAME.match(name)
    if m and m.group("date") != "00000000":
        d = datetime.strptime(m.group("date"), "%Y%m%d").date()
        return first <= d <= last
    return False


class Compare(NoCalibrate, NoCorrect, NoTransform):
    """The ``compare`` level object: ``fetch``, ``read``, ``average``, ``quality``, ``write``."""

    def fetch(self, ctx: UnitContext) -> Inputs:
        first, last = _month_days(ctx.day)
        l2 = [
            ctx.product_input(f, "l2")
            for f in ctx.newest_products(ctx.mission.id, "l2", yyyy=first.year, mm=first.month)
        ]
        archive = ctx.archive_for("upstream")
        files: list[InputFile] = []
        for folder in upstream.FOLDERS.values():
            if not archive.exists(folder):
                continue
            for name in archive.list(folder):
                if _file_touches(name, first, last):
                    files.append(InputFile.from_fetched(archive.get(f"{folder}/{name}"), "upstream"))
        if not l2:
            return Inputs(skip_reason=f"no Aditya L2 of {first:%Y-%m} in the output tree")
        if not files:
            return Inputs(
                skip_reason=f"no DSCOVR or ACE file of {first:%Y-%m} under dscovr/ or ace/ of {archive.root}"
            )
        return Inputs(
            files=l2 + files,
            selection={"l2": "newest version of each day", "upstream": "every file touching the month"},
        )

    def read(self, ctx: UnitContext, inputs: Inputs) -> CompareRead:
        starts, bs = [], []
        bin_s = 10.0
        for f in inputs.by_role("l2"):
            d = read_netcdf(f.path)
            t = np.asarray(time.tt2000_from_unix(d.variables["time"]), dtype=np.int64)
            b = np.stack([d.variables[f"B{c}_gse"] for c in "xyz"], 1).astype(float)
            bad = (d.variables["Quality_flag_10s_data"] != 1) | (b == FILL).any(axis=1)
            b[bad] = np.nan
            starts.append(t)
            bs.append(b)
            bin_s = float(np.median(np.diff(t)) / 1e9) if t.size > 1 else bin_s
        monitors = []
        for f in inputs.by_role("upstream"):
            try:
                monitors.append(upstream.read_monitor(f.path))
            except InputError as exc:
                ctx.note(f"{f.name} not compared: {str(exc).split(': ', 1)[-1]}")
        if not monitors:
            raise InputError(
                None,
                f"no DSCOVR or ACE file with a magnetic field for {ctx.day:%Y-%m}: " + "; ".join(ctx.notes),
            )
        ctx.vectors += sum(m.tt.size for m in monitors)
        return CompareRead(
            month=f"{ctx.day:%Y-%m}",
            aditya=AdityaBins(start=np.concatenate(starts), b_gse=np.concatenate(bs), bin_s=bin_s),
            monitors=monitors,
        )

    def average(self, ctx: UnitContext, data: CompareRead) -> Aligned:
        """Aditya means over each monitor record's interval, one comparison per monitor."""
        comps = merge([align(data.aditya, m) for m in data.monitors])
        for c in comps:
            if c.tt.size == 0:
                ctx.note(f"{c.monitor}: no record overlaps valid Aditya L2 data")
        return Aligned(month=data.month, comparisons=[c for c in comps if c.tt.size])

    def quality(self, ctx: UnitContext, data: Aligned) -> Compared:
        """The agreement of each monitor with Aditya-L1: differences, correlation, trend."""
        return Compared(
            month=data.month, comparisons=data.comparisons, reports=[summary(c) for c in data.comparisons]
        )

    def write(self, ctx: UnitContext, data: Compared) -> list[Product]:
        out: list[Product] = []
        for c, rep in zip(data.comparisons, data.reports, strict=True):
            text = yaml.safe_dump(rep, sort_keys=False, width=100)
            out.append(
                Product(
                    definition=ctx.product("comparison"), fields={"monitor": c.monitor}, payload=text.encode()
                )
            )
            out.append(
                Product(
                    definition=ctx.product("comparison_plot"),
                    fields={"monitor": c.monitor},
                    plot=plot(c, data.month, ctx.simulated),
                )
            )
        return out

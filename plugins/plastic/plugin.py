"""Registers the STEREO PLASTIC + MAG merge with magfw (entry point ``magfw.missions: plastic``)
and implements its hooks.

Level ``l2`` works on one unit per calendar year (clipped to the PERIOD): ``magfw run plastic
l2 2024 --spacecraft A`` makes, in one command, the daily merged CDFs and flat files of every
day with inputs, the monthly flat files of the months the period touches, and the yearly CDF
and 10-min / 1-hr average flat files. Monthly and yearly products are built from the days just
merged plus the daily merged CDFs already in the output tree for the other days of the year,
so ``magfw run plastic l2 2024-03`` updates March and the 2024 yearly products without
redoing January. Days are looped over inside the unit (one year at a time per process: a
year's 1-min table is ~100 MB); parallelism is across years and spacecraft.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from magfw import hookimpl
from magfw.context import InputFile, Inputs, Product, UnitContext
from magfw.errors import InputError, MissingInputError
from magfw.io.cdf import read_cdf
from magfw.mission import Level, LevelOption, Mission, PluginRegistrar
from magfw.period import Period
from magfw.products import shipped_definitions
from magfw_plastic import archive as arc
from magfw_plastic import merge as mg
from magfw_plastic import products as pr
from magfw_plastic.averaging import MINUTES_PER_DAY, MagMinutes, bin_mag_minutes
from magfw_plastic.positions import positions
from magfw_plastic.reader import ASCII_NAME, FILL_THRESHOLD, MERGE_COLUMNS, check_day, read_plastic_ascii
from magfw_plastic.simulate import day_start_ms, simulate_archive

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
SOURCE_NAME = {"A": "Ahead>STEREO Ahead", "B": "Behind>STEREO Behind"}


@hookimpl
def register_missions(registry: PluginRegistrar) -> None:
    registry.add(Mission(
        id="plastic",
        title="STEREO PLASTIC + MAG merge",
        description="UNH PLASTIC L2 1-D Maxwellian proton moments merged with STEREO MAG L1",
        spacecraft=["A", "B"],
        default_spacecraft="A",
        levels={"l2": Level(
            name="l2", unit="year", needs=["stereo/l1"],
            description="daily, monthly and yearly merged products (one unit per year)",
            products=["merged_daily", "merged_daily_ff", "merged_monthly_ff", "merged_yearly",
                      "merged_10min", "merged_1hr"],
            options=[LevelOption(name="vnum", type="int", default=None,
                                 help="use PLASTIC files of this version only (e.g. 11); "
                                      "default: the highest version of each day")])},
        products=shipped_definitions("plastic"),
    ))


@hookimpl
def simulate(mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int) -> Path:
    return simulate_archive(period, out_dir, spacecraft, seed)


# ---------------------------------------------------------------------------------------------
# fetch
# ---------------------------------------------------------------------------------------------


@hookimpl
def fetch(ctx: UnitContext) -> Inputs:
    """PLASTIC 1-min files of the unit's days (and the day before and after, whose edge cycles
    belong to the neighbouring minute), MAG L1 RTN of the unit's days, and the merged daily
    CDFs already made for the other days of the year."""
    sc = ctx.spacecraft or "A"
    days = list(ctx.unit.days())
    around = [days[0] - timedelta(days=1), *days, days[-1] + timedelta(days=1)]
    vnum = ctx.options.get("vnum")
    files: list[InputFile] = []
    plastic = arc.find_plastic(ctx.archive, sc, around, vnum)
    for day, rel in plastic.items():
        role = "plastic" if ctx.unit.start <= day <= ctx.unit.end else "plastic_edge"
        files.append(InputFile.from_fetched(ctx.archive.get(rel), role,
                                            version=ASCII_NAME.match(rel.rsplit("/", 1)[1])["version"]))
    mag_def = arc.mag_definition(ctx)
    for day in days:
        local = arc.find_mag_in_tree(ctx, mag_def, sc, day)
        if local is not None:
            files.append(InputFile.from_path(local, "mag", name=local.relative_to(ctx.out_dir).as_posix()))
            continue
        rel = arc.find_mag_in_archive(ctx.archive, mag_def, sc, day)
        if rel is not None:
            files.append(InputFile.from_fetched(ctx.archive.get(rel), "mag"))
    have = {_day_of(f) for f in files if f.role in ("plastic", "mag")}
    for day, p in arc.find_merged_dailies(ctx, sc, days[0].year).items():
        if day not in have:
            files.append(InputFile.from_path(p, "merged", name=p.relative_to(ctx.out_dir).as_posix()))
    if not any(f.role in ("plastic", "mag", "merged") for f in files):
        raise MissingInputError(ctx.archive.root, f"no PLASTIC 1-min file "
                                f"({arc.plastic_dirs(sc, '1min', days[0].year)[0]}/...) and no MAG "
                                f"L1 RTN for ST{sc} {days[0]}..{days[-1]}")
    missing_pla = [d for d in days if d not in plastic]
    mag_days = {_day_of(f) for f in files if f.role == "mag"}
    missing_mag = [d for d in days if d not in mag_days]
    notes = []
    if missing_pla:
        notes.append(f"PLASTIC missing for {_days_text(missing_pla)}")
    if missing_mag:
        notes.append(f"MAG L1 RTN missing for {_days_text(missing_mag)}")
    for n in notes:
        ctx.log.warning("plastic %s ST%s %s: %s", ctx.level, sc, ctx.unit.key, n)
    return Inputs(files=files, notes=notes,
                  versions={"plastic_version": "highest" if vnum is None else f"V{vnum:02d}"})


def _day_of(f: InputFile) -> date | None:
    """The date in an input's file name (YYYYMMDD), or None."""
    import re

    m = re.search(r"(\d{4})(\d{2})(\d{2})(?:_\d{3})?_[Vv]\d+", f.name.rsplit("/", 1)[-1])
    return date(int(m[1]), int(m[2]), int(m[3])) if m else None


def _days_text(days: list[date]) -> str:
    """Days as compact ranges: 2024-01-03, 2024-01-07..2024-01-09."""
    out, i = [], 0
    while i < len(days):
        j = i
        while j + 1 < len(days) and days[j + 1] == days[j] + timedelta(days=1):
            j += 1
        out.append(str(days[i]) if i == j else f"{days[i]}..{days[j]}")
        i = j + 1
    return ", ".join(out)


# ---------------------------------------------------------------------------------------------
# read, transform, average
# ---------------------------------------------------------------------------------------------


@dataclass
class UnitData:
    """What flows between the steps of one unit (a year, clipped to the period)."""

    sc: str
    days: list[date]
    plastic_days: set[date]
    mag_days: set[date]
    rows: dict[str, np.ndarray]  # PLASTIC rows of the unit's days and their neighbours
    mag: dict[date, MagMinutes]
    earlier: list[dict[str, np.ndarray]]  # merged tables of other days (from the output tree)
    notes: list[str] = field(default_factory=list)
    merged: dict[date, dict[str, np.ndarray]] = field(default_factory=dict)
    year: dict[str, np.ndarray] = field(default_factory=dict)
    avg: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)


ROW_KEYS = ("np", "vp", "tp", "vth", "error", "caution", "dist_km", "lon_hee", "lat_hee",
            "lon_heeq", "lat_heeq", "lon_hci", "lat_hci", "lon_carr")


@hookimpl
def read(ctx: UnitContext, inputs: Inputs) -> UnitData:
    sc = ctx.spacecraft or "A"
    days = list(ctx.unit.days())
    parts: list[dict[str, np.ndarray]] = []
    plastic_days: set[date] = set()
    for f in inputs.files:
        if f.role not in ("plastic", "plastic_edge"):
            continue
        t = read_plastic_ascii(f.path, require=MERGE_COLUMNS)
        day = _day_of(f)
        if day is not None:
            check_day(t, day)
        if t.spacecraft is not None and t.spacecraft != sc:
            raise InputError(f.path, f"title says spacecraft {t.spacecraft}, expected {sc}")
        part = {k: t.get(k) for k in ROW_KEYS}
        part["time_ms"] = t.time_ms
        part["v_rtn"] = np.stack([t.get("vr_rtn"), t.get("vt_rtn"), t.get("vn_rtn")], axis=1)
        parts.append(part)
        if f.role == "plastic":
            plastic_days.add(day)
            ctx.vectors += len(t)
    rows = ({k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts
            else {k: np.zeros((0, 3) if k == "v_rtn" else 0) for k in (*ROW_KEYS, "time_ms", "v_rtn")})
    mag: dict[date, MagMinutes] = {}
    for f in inputs.by_role("mag"):
        day = _day_of(f)
        data = read_cdf(f.path)
        for name in ("Epoch", "BFIELD"):
            if name not in data.variables:
                raise InputError(f.path, f"no variable {name!r}: not a MAG L1 RTN product")
        epoch = np.asarray(data.variables["Epoch"], dtype=np.float64)
        bfield = np.asarray(data.variables["BFIELD"], dtype=np.float64)
        if bfield.ndim != 2 or bfield.shape[1] != 4:
            raise InputError(f.path, f"BFIELD has shape {list(bfield.shape)}, expected [N, 4]")
        bfield = np.where(bfield <= FILL_THRESHOLD, np.nan, bfield)
        good_t = epoch > FILL_THRESHOLD
        fv = data.variables.get("FILTER_VALUE")
        fv = None if fv is None else np.where(np.asarray(fv, np.float64) <= FILL_THRESHOLD, np.nan,
                                              np.asarray(fv, np.float64))[good_t]
        mag[day] = bin_mag_minutes(epoch[good_t], bfield[good_t], fv, day_start_ms(day))
        ctx.vectors += int(good_t.sum())
    earlier = []
    for f in inputs.by_role("merged"):
        earlier.append(pr.table_from_cdf(read_cdf(f.path)))
    return UnitData(sc=sc, days=days, plastic_days=plastic_days, mag_days=set(mag), rows=rows,
                    mag=mag, earlier=earlier, notes=list(inputs.notes))


@hookimpl
def transform(ctx: UnitContext, data: UnitData) -> UnitData:
    """Spacecraft positions (AU, HAE/HEE/HEEQ/CARR/RTN) from the PLASTIC position columns."""
    data.rows.update(positions(data.rows))
    return data


@hookimpl
def average(ctx: UnitContext, data: UnitData) -> UnitData:
    """Merge onto the unit's 1-min grid (PLASTIC cycles by their middle, MAG already in
    minutes), cut into days, join the earlier days of the year, and make the 10-min / 1-hr
    averages of the year."""
    start = day_start_ms(data.days[0])
    n = len(data.days) * MINUTES_PER_DAY
    pla = mg.plastic_minutes(data.rows, start, n)
    mags = [data.mag.get(d, MagMinutes.empty()) for d in data.days]
    mag = MagMinutes(np.concatenate([m.b for m in mags]), np.concatenate([m.btotal for m in mags]),
                     np.concatenate([m.n for m in mags]), np.nan,
                     np.concatenate([m.filter_value for m in mags]))
    expected = np.repeat([m.expected for m in mags], MINUTES_PER_DAY)
    table = mg.merge(pla, mag, expected, start)
    for i, day in enumerate(data.days):
        if day in data.plastic_days or day in data.mag_days:
            data.merged[day] = mg.slice_table(table, slice(i * MINUTES_PER_DAY, (i + 1) * MINUTES_PER_DAY))
    tables = list(data.merged.values()) + data.earlier
    if tables:
        keys = set.intersection(*(set(t) for t in tables))
        year = mg.concat_tables([{k: t[k] for k in keys} for t in tables])
        order = np.argsort(year["Epoch"], kind="stable")
        data.year = mg.slice_table(year, order)
        data.avg = {"merged_10min": pr.averages(data.year, 600.0),
                    "merged_1hr": pr.averages(data.year, 3600.0)}
    return data


# ---------------------------------------------------------------------------------------------
# write
# ---------------------------------------------------------------------------------------------


def _gap_attrs(data: UnitData, days: list[date]) -> dict[str, Any]:
    no_pla = [d for d in days if d in data.merged and d not in data.plastic_days]
    no_mag = [d for d in days if d in data.merged and d not in data.mag_days]
    absent = [d for d in days if d not in data.merged]
    return {"PLASTIC_missing_days": _days_text(no_pla) or "none",
            "MAG_missing_days": _days_text(no_mag) or "none",
            "Days_without_inputs": _days_text(absent) or "none"}


@hookimpl
def write(ctx: UnitContext, data: UnitData) -> list[Product]:
    sc = data.sc
    products: list[Product] = []
    daily, daily_ff = ctx.product("merged_daily"), ctx.product("merged_daily_ff")
    cdf_attrs = {"Source_name": SOURCE_NAME[sc], "Logical_source": f"ST{sc}_L2_MAGPLASMA_1M"}
    for day, t in sorted(data.merged.items()):
        f = {"sc": sc, "yyyy": day.year, "mm": day.month, "dd": day.day}
        gaps = _gap_attrs(data, [day])
        products.append(Product(daily, f, pr.cdf_variables(t), attrs={**cdf_attrs, **gaps}))
        products.append(Product(daily_ff, f, pr.flatfile_variables(t), attrs=_ff_attrs(gaps)))
    if not data.year:
        return products
    epoch_day = np.floor(data.year["Epoch"] / 86_400_000.0)
    year = data.days[0].year
    monthly = ctx.product("merged_monthly_ff")
    for month in sorted({d.month for d in data.days}):
        first = date(year, month, 1).toordinal() + 365  # CDF_EPOCH day number
        last = date(year, month, calendar.monthrange(year, month)[1]).toordinal() + 365
        sel = (epoch_day >= first) & (epoch_day <= last)
        if not sel.any():
            continue
        t = mg.slice_table(data.year, sel)
        gaps = _gap_attrs(data, [d for d in data.days if d.month == month])
        products.append(Product(monthly, {"sc": sc, "yyyy": year, "mmm": MONTHS[month - 1]},
                                pr.flatfile_variables(t), attrs=_ff_attrs(gaps)))
    gaps = _gap_attrs(data, data.days)
    gaps["Period_merged"] = f"{data.days[0]}..{data.days[-1]}"
    present = sorted({date.fromordinal(int(x) - 365) for x in np.unique(epoch_day)})
    gaps["Days_in_file"] = _days_text(present)
    products.append(Product(ctx.product("merged_yearly"), {"sc": sc.lower(), "yyyy": year},
                            pr.cdf_variables(dict(data.year)),
                            attrs={**cdf_attrs, "Logical_source": f"ST{sc}_L2_MAGPLASMA_1M", **gaps}))
    for pid, a in data.avg.items():
        products.append(Product(ctx.product(pid), {"sc": sc, "yyyy": year},
                                pr.average_variables(a), attrs=_ff_attrs(gaps)))
    return products


def _ff_attrs(gaps: dict[str, Any]) -> dict[str, Any]:
    """Flat-file header keywords (upper case) from the gap attributes."""
    return {k.upper().replace("_", " "): v for k, v in gaps.items()}

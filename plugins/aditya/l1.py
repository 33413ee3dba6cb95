"""Level 1: L0 tars of one UTC day -> one L1 netCDF (128 ms, SCCS, MAG1 and MAG2) and one
preview PNG per L0 tar.

Unit of work: the L0 tars whose stem date (first frame, Table 1) is the day; such a tar may
run past midnight, and its L1 file then does too (L2 combines every L1 file touching a day).
Steps: ``read`` decodes the tars; ``calibrate`` converts OBT to UT with each tar's TCT and
counts to nT with the caldb entry valid on each sample's date, at the HK temperatures;
``correct`` removes saturated samples and spikes; ``write`` builds the products.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from magfw.config import load_config, mission_setting
from magfw.context import InputFile, Inputs, PlotPanel, PlotSpec, Product, UnitContext
from magfw.errors import MissingInputError
from magfw.fetch import pick_highest_version
from magfw.time import tt2000_to_iso, tt2000_to_unix, utc_day_of
from magfw_aditya import calibration, config, despike
from magfw_aditya.gti import quality_factor
from magfw_aditya.l0 import TAR_PATTERN, L0Data, day_dir, read_l0, stem_date, stem_fields
from magfw_aditya.packets import DEFAULT_LAYOUT, load_layout

SENSORS = ("mag1", "mag2")
AXES = ("yaw", "roll", "pitch")
FILL = -9999.0  # the L1 definition's fill, as read back from L1 files (writes use NaN)
NS = 1_000_000_000


def creator_email() -> str:
    """``[missions.aditya] creator_email`` of magfw.toml, else a placeholder."""
    try:
        value = mission_setting(load_config(), "aditya", "creator_email")
    except Exception:  # noqa: BLE001 - a broken magfw.toml must not fail products
        value = None
    return str(value) if value else "not configured (set [missions.aditya] creator_email)"


def iso_z(tt: np.ndarray | np.int64) -> str:
    """ISO 8601 UTC with milliseconds and Z, as the real files' time_coverage_*."""
    return str(tt2000_to_iso(np.array([tt], dtype=np.int64), precision_ns=1_000_000)[0]) + "Z"


def product_version(version: int) -> str:
    return f"V_{version:02d}"


# ------------------------------------------------------------------------------------------ fetch


def fetch(ctx: UnitContext) -> Inputs:
    """The day's L0 tars (highest L0 version per stem) and the highest caldb version."""
    l1 = ctx.product("l1")
    folder = day_dir(ctx.day)
    names = [f"{folder}/{n}" for n in ctx.archive.list(folder)]
    best = pick_highest_version(names, TAR_PATTERN)
    files: list[InputFile] = []
    notes: list[str] = []
    for stem, name in best.items():
        fields = stem_fields(l1, stem)
        if fields is None or stem_date(fields) != ctx.day:
            notes.append(f"{name}: not an L0 name of {ctx.day} (ignored)")
            continue
        version = TAR_PATTERN.search(name).group("version")
        files.append(InputFile.from_fetched(ctx.archive.get(name), "data", f"V{version}"))
    if not files:
        raise MissingInputError(f"{ctx.archive.root}/{folder}",
                                f"no L0 tar (<stem>_Vnn.tar) for {ctx.day}")
    cal = _fetch_caldb(ctx)
    files.append(cal)
    return Inputs(files=files, versions=_versions(cal), notes=notes)


def _fetch_caldb(ctx: UnitContext) -> InputFile:
    names = ctx.archive.list(calibration.CALDB_DIR)
    best = pick_highest_version(names, calibration.CALDB_PATTERN)
    if not best:
        raise MissingInputError(f"{ctx.archive.root}/{calibration.CALDB_DIR}",
                                "no calibration database AL1_MAG_CALDB_Vnn.yaml")
    name = best["AL1_MAG_CALDB"]
    version = calibration.CALDB_PATTERN.search(name).group("version")
    return InputFile.from_fetched(ctx.archive.get(f"{calibration.CALDB_DIR}/{name}"),
                                  "calibration", f"V{version}")


def _versions(cal: InputFile) -> dict[str, str]:
    return {"calibration": f"AL1_MAG_CALDB_{cal.version}",
            "processing": config.digest(config.PROCESSING),
            "packet_layout": config.digest(DEFAULT_LAYOUT)}


# ------------------------------------------------------------------------------------------- read


@dataclass
class L1File:
    """One L0 tar on its way to an L1 file."""

    l0: L0Data
    version: str
    tt: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    b: dict[str, np.ndarray] = field(default_factory=dict)  # sensor -> (N,3) nT, NaN removed
    hk_missing: np.ndarray = field(default_factory=lambda: np.empty(0, bool))
    removed: dict[str, np.ndarray] = field(default_factory=dict)  # sensor -> (N,) bool
    saturated: dict[str, np.ndarray] = field(default_factory=dict)


def read(ctx: UnitContext, inputs: Inputs) -> dict[str, Any]:
    layout = load_layout()
    files = [L1File(read_l0(f.path, f.name, layout), f.version or "V00")
             for f in inputs.by_role("data")]
    cal_file = inputs.by_role("calibration")[0]
    caldb = calibration.load_caldb(cal_file.path)
    ctx.vectors += sum(2 * f.l0.obt.size for f in files)
    for f in files:
        for note in f.l0.notes:
            ctx.log.warning(note)
    return {"files": files, "caldb": caldb, "layout": layout,
            "inputs": [i.record() for i in inputs.files]}


# -------------------------------------------------------------------------------------- calibrate


def _hk_at(f: L0Data, max_gap: float, refs: tuple[float, float, float]
           ) -> tuple[np.ndarray, np.ndarray]:
    """Temperatures (N,3) at every sample (linear in OBT between HK packets) and the mask of
    samples without housekeeping (HK packets around them further apart than ``max_gap``)."""
    obt = f.obt
    if f.hk_obt.size == 0:
        return np.tile(np.asarray(refs), (obt.size, 1)), np.ones(obt.size, bool)
    temps = np.stack([np.interp(obt, f.hk_obt, f.hk_temps[:, k]) for k in range(3)], axis=1)
    i = np.searchsorted(f.hk_obt, obt)
    prev = np.where(i > 0, f.hk_obt[np.clip(i - 1, 0, None)], -np.inf)
    nxt = np.where(i < f.hk_obt.size, f.hk_obt[np.clip(i, None, f.hk_obt.size - 1)], np.inf)
    missing = (nxt - prev) > max_gap
    edge = (np.isinf(prev) & (nxt - obt > max_gap / 2)) | (np.isinf(nxt) & (obt - prev > max_gap / 2))
    return temps, (missing & ~np.isinf(prev) & ~np.isinf(nxt)) | edge


def calibrate(ctx: UnitContext, data: dict[str, Any]) -> dict[str, Any]:
    """OBT -> UT (TCT) and counts -> nT (caldb entry of each sample's date, HK temperatures)."""
    cfg = config.processing()["l1"]
    layout = data["layout"]
    caldb: calibration.CalDB = data["caldb"]
    max_extra = float(layout.time_correlation.get("max_extrapolation_s", 900.0))
    limit = int(layout.packets["science"].extra["saturation_counts"])
    for f in data["files"]:
        f.tt = f.l0.tct.to_tt2000(f.l0.obt, max_extra)
        days = utc_day_of(f.tt)
        first = days[0].astype(object)
        e1 = caldb.entry_for("MAG1", first)
        refs = (e1.t_ref, caldb.entry_for("MAG2", first).t_ref, e1.te_ref)
        temps, f.hk_missing = _hk_at(f.l0, float(cfg["housekeeping"]["max_gap_s"]), refs)
        for k, sensor in enumerate(SENSORS):
            counts = f.l0.counts[:, k, :]
            f.saturated[sensor] = despike.saturated(counts, limit)
            f.b[sensor] = calibration.calibrate_counts(caldb, sensor.upper(), days, counts,
                                                        temps[:, k], temps[:, 2])
    return data


# ---------------------------------------------------------------------------------------- correct


def correct(ctx: UnitContext, data: dict[str, Any]) -> dict[str, Any]:
    """Remove saturated samples, then spikes (running median test) of each sensor."""
    cfg = config.processing()["l1"]["despike"]
    for f in data["files"]:
        for sensor in SENSORS:
            b = f.b[sensor]
            b[f.saturated[sensor]] = np.nan
            spike = despike.spikes(b, int(cfg["window"]), float(cfg["threshold_nT"]))
            b[spike] = np.nan
            f.removed[sensor] = f.saturated[sensor] | spike
    return data


# ------------------------------------------------------------------------------------------ write


def _intervals(tt: np.ndarray, mask: np.ndarray) -> list[str]:
    """Runs of True in ``mask`` as 'start/end' ISO strings (UT of the first and last sample)."""
    if not mask.any():
        return []
    m = mask.astype(np.int8)
    starts = np.flatnonzero(np.diff(np.r_[0, m]) == 1)
    ends = np.flatnonzero(np.diff(np.r_[m, 0]) == -1)
    return [f"{iso_z(tt[a])}/{iso_z(tt[b])}" for a, b in zip(starts, ends, strict=True)]


def file_stats(f: L1File, cadence_s: float) -> tuple[int, float]:
    """(expected samples over the file's span, percent missing, removed or without HK)."""
    span = (f.tt[-1] - f.tt[0]) / NS
    expected = int(round(span / cadence_s)) + 1
    good = ~(f.removed["mag1"] | f.removed["mag2"] | f.hk_missing)
    bad = max(expected - int(good.sum()), 0)
    return expected, 100.0 * bad / expected


def write(ctx: UnitContext, data: dict[str, Any]) -> list[Product]:
    d = ctx.product("l1")
    preview = ctx.product("l1_preview")
    err = float(config.processing()["l1"]["error_nT"])
    products: list[Product] = []
    for f in data["files"]:
        fields = stem_fields(d, f.l0.stem)
        variables: dict[str, np.ndarray] = {"time": tt2000_to_unix(f.tt)}
        for sensor in SENSORS:
            b = f.b[sensor]
            bad = np.isnan(b).any(axis=1)
            for k, axis in enumerate(AXES):
                variables[f"B_{axis}_{sensor}"] = np.where(bad, np.nan, b[:, k]).astype(np.float32)
        for sensor in SENSORS:
            bad = np.isnan(f.b[sensor]).any(axis=1)
            for axis in AXES:
                variables[f"B_{axis}_{sensor}_error"] = np.where(bad, np.nan, err).astype(np.float32)
        expected, missing = file_stats(f, d.cadence_s or 0.128)
        attrs = {
            "number_of_samples": int(f.tt.size),
            "time_coverage_start": iso_z(f.tt[0]),
            "time_coverage_end": iso_z(f.tt[-1]),
            "product_version": product_version(ctx.version),
            "creator_email": creator_email(),
            "missing_data_percentage": round(missing, 3),
            "quality_factor": quality_factor(missing),
            "expected_number_of_samples": expected,
            "l0_file": f"{f.l0.name} ({f.version})",
            "housekeeping_gaps": _intervals(f.tt, f.hk_missing) or ["none"],
            "removed_samples": (f"saturated MAG1 {int(f.saturated['mag1'].sum())}, MAG2 "
                                f"{int(f.saturated['mag2'].sum())}; spikes MAG1 "
                                f"{int((f.removed['mag1'] & ~f.saturated['mag1']).sum())}, MAG2 "
                                f"{int((f.removed['mag2'] & ~f.saturated['mag2']).sum())}"),
            "dropped_packets": ", ".join(f"{k} {v}" for k, v in f.l0.dropped.items()) or "none",
        }
        products.append(Product(definition=d, fields=fields, variables=variables, attrs=attrs))
        products.append(Product(definition=preview, fields=fields, plot=_preview(f)))
    return products


def _preview(f: L1File) -> PlotSpec:
    """MAG1 yaw/roll/pitch against UT, as 1.024-s means (8 samples) for a light image."""
    n = f.tt.size // 8 * 8
    b = f.b["mag1"][:n].reshape(-1, 8, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN groups give NaN
        mean = np.nanmean(b, axis=1)
    t = f.tt[:n].reshape(-1, 8)[:, 0]
    panels = [PlotPanel(series={f"B_{axis}_mag1": mean[:, k]}, ylabel=f"B {axis} [nT]",
                        colors=[c]) for k, (axis, c) in
              enumerate(zip(AXES, ("tab:blue", "tab:orange", "tab:green"), strict=True))]
    title = f"Aditya-L1 MAG1 Level 1 (spacecraft frame)  {f.l0.stem}"
    return PlotSpec(time=t, panels=panels, title=title, size_px=(1200, 800))

"""Level 2: every L1 file touching a UTC day -> the daily 10-s IMF in GSE and GSM
(``L2_AL1_MAG_YYYYMMDD_Vnn.nc``), its XML metadata and the outreach PNG.

Steps: ``fetch`` finds the L1 products in the output tree (highest version of each L0 stem)
and the SPICE kernels in the archive; ``read`` joins the L1 files; ``correct`` removes the
spacecraft field (dual magnetometer), median-filters and sets the per-sample GTI flags;
``transform`` rotates the good samples SCCS -> GSE and GSM with the attitude CK;
``average`` makes the 8640 10-s bins (stamp = bin start); ``quality`` the flags and
``missing_data_percentage``; ``write`` the three products.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from magfw import __version__, frames, kernels
from magfw.context import InputFile, Inputs, PlotPanel, PlotSpec, Product, UnitContext
from magfw.errors import InputError, MissingInputError
from magfw.io.netcdf import read_netcdf
from magfw.time import day_bounds_tt2000, tt2000_from_iso, tt2000_from_unix, tt2000_to_et, tt2000_to_unix
from magfw_aditya import config, dualmag, gti, spice
from magfw_aditya.despike import running_median
from magfw_aditya.l1 import AXES, FILL, NS, creator_email, iso_z, product_version
from magfw_aditya.metadata import l2_metadata_xml

MISSION = "aditya"
CADENCE_S = 0.128
PAD_S = 120.0
GSM_FRAMES = {"igrf": "GSM", "fixed2000": "GSM_FIXED2000"}
GSM_TEXT = {
    "GSM": "GSM: X Earth->Sun, Z the IGRF-14 dipole axis of date perpendicular to X (magfw.frames)",
    "GSM_FIXED2000": "GSM_FIXED2000: X Earth->Sun, Z the fixed IGRF 2000.0 dipole pole 79.54N "
                     "288.43E of the public Aditya-L1 frames kernel (magfw.frames)",
}


# ------------------------------------------------------------------------------------------ fetch


def _l1_span(path: Path) -> tuple[float, float]:
    """First and last time (UNIX s) of an L1 file, reading two values only."""
    try:
        with h5py.File(path, "r") as f:
            t = f["time"]
            return float(t[0]), float(t[-1])
    except Exception as exc:  # noqa: BLE001 - any defect of the file is its own
        raise InputError(path, f"not a readable L1 netCDF: {type(exc).__name__}: {exc}") from exc


def find_l1(ctx: UnitContext) -> list[tuple[Path, int]]:
    """(path, version) of the highest-version L1 file of each L0 stem that touches the day."""
    d = ctx.product("l1")
    vf = d.version.field
    best: dict[str, tuple[Path, int]] = {}
    for day in (ctx.day - timedelta(days=1), ctx.day):
        yy, doy = day.year % 100, day.timetuple().tm_yday
        for p in ctx.find_products(MISSION, "l1", yy=yy, doy=doy):
            fields = d.filename.parse(p.name) or {}
            version = int(fields.pop(vf, 0))
            key = "|".join(str(fields[k]) for k in sorted(fields))
            if key not in best or version > best[key][1]:
                best[key] = (p, version)
    t0, t1 = (tt2000_to_unix(np.asarray(day_bounds_tt2000(ctx.day.isoformat()))))
    out = []
    for path, version in sorted(best.values()):
        first, last = _l1_span(path)
        if last >= t0 and first < t1:
            out.append((path, version))
    return out


def _kernel_inputs(ctx: UnitContext) -> list[InputFile]:
    """The day's SPK and CK (highest version of each monthly series), the SCLK and our FK."""
    files: list[InputFile] = []
    for kind in ("spk", "ck"):
        folder = spice.DIRS[kind]
        names = spice.candidates_for(ctx.archive.list(folder), ctx.day)
        best: dict[tuple[str, str], tuple[int, str]] = {}
        for n in names:
            m = spice.NAME.match(n)
            key = (m.group("start"), m.group("end"))
            v = int(m.group("version"))
            if key not in best or v > best[key][0]:
                best[key] = (v, n)
        if not best:
            what = "ephemeris SPK al1_eph_*.bsp" if kind == "spk" else "attitude CK al1_att_*.bc"
            raise MissingInputError(f"{ctx.archive.root}/{folder}", f"no {what} for {ctx.day}")
        for v, n in best.values():
            files.append(InputFile.from_fetched(ctx.archive.get(f"{folder}/{n}"), "kernel", f"v{v}"))
    sclks = {int(m.group("version")): n for n in ctx.archive.list(spice.DIRS["sclk"])
             if (m := spice.SCLK_NAME.match(n))}
    if not sclks:
        raise MissingInputError(f"{ctx.archive.root}/{spice.DIRS['sclk']}",
                                "no spacecraft clock kernel al1_sclk_vX.tsc")
    v = max(sclks)
    files.append(InputFile.from_fetched(ctx.archive.get(f"{spice.DIRS['sclk']}/{sclks[v]}"),
                                        "kernel", f"v{v}"))
    files.append(InputFile.from_path(spice.FK_PATH, "kernel", "v01"))
    return files


def fetch(ctx: UnitContext) -> Inputs:
    found = find_l1(ctx)
    if not found:
        prev = ctx.day - timedelta(days=1)
        raise MissingInputError(ctx.out_dir, f"no L1 file touches {ctx.day}: run 'magfw run aditya "
                                             f"l1 {prev}..{ctx.day}' first")
    files = [InputFile.from_path(p, "l1", f"V{v:02d}", p.relative_to(ctx.out_dir).as_posix())
             for p, v in found]
    files += _kernel_inputs(ctx)
    versions = {"processing": config.digest(config.PROCESSING),
                "kernels": ", ".join(f.name for f in files if f.role == "kernel")}
    return Inputs(files=files, versions=versions)


# ------------------------------------------------------------------------------------------- read


def _intervals(attr: Any, where: Path) -> np.ndarray:
    items = attr if isinstance(attr, list) else [attr]
    pairs = [str(s).split("/") for s in items if s and str(s) != "none"]
    if not pairs:
        return np.empty((0, 2), dtype=np.int64)
    if any(len(p) != 2 for p in pairs):
        raise InputError(where, "housekeeping_gaps must be 'start/end' ISO pairs")
    flat = np.array([x.rstrip("Z") for p in pairs for x in p])
    return np.asarray(tt2000_from_iso(flat), dtype=np.int64).reshape(-1, 2)


@dataclass
class L2Data:
    """The joined samples of the day (with PAD_S either side) and everything derived."""

    tt: np.ndarray
    b1: np.ndarray
    b2: np.ndarray
    hk_gaps: np.ndarray
    inputs: list[dict[str, Any]]
    kernels: list[Path]
    imf: np.ndarray | None = None
    bad_gti: np.ndarray | None = None
    hk_missing: np.ndarray | None = None
    gse: np.ndarray | None = None
    gsm: np.ndarray | None = None
    bins: dict[str, np.ndarray] | None = None


def read(ctx: UnitContext, inputs: Inputs) -> L2Data:
    t0, t1 = (int(x) for x in day_bounds_tt2000(ctx.day.isoformat()))
    lo, hi = t0 - int(PAD_S * NS), t1 + int(PAD_S * NS)
    tts, b1s, b2s, gaps = [], [], [], []
    for f in inputs.by_role("l1"):
        d = read_netcdf(f.path)
        try:
            tt = np.asarray(tt2000_from_unix(d.variables["time"]), dtype=np.int64)
            b = {s: np.stack([d.variables[f"B_{a}_{s}"] for a in AXES], 1).astype(np.float64)
                 for s in ("mag1", "mag2")}
        except KeyError as exc:
            raise InputError(f.path, f"not an Aditya L1 file: variable {exc} missing") from exc
        sel = (tt >= lo) & (tt < hi)
        for s in b:
            b[s][b[s] == FILL] = np.nan
        tts.append(tt[sel])
        b1s.append(b["mag1"][sel])
        b2s.append(b["mag2"][sel])
        gaps.append(_intervals(d.global_attrs.get("housekeeping_gaps", "none"), f.path))
    tt = np.concatenate(tts)
    order = np.argsort(tt, kind="stable")
    tt = tt[order]
    keep = np.r_[True, np.diff(tt) > 0]  # overlapping files: first wins
    b1 = np.concatenate(b1s)[order][keep]
    b2 = np.concatenate(b2s)[order][keep]
    ctx.vectors += 2 * int(keep.sum())
    return L2Data(tt[keep], b1, b2, np.concatenate(gaps), [i.record() for i in inputs.files],
                  [f.path for f in inputs.by_role("kernel")])


def calibrate(ctx: UnitContext, data: L2Data) -> L2Data:
    return data  # L1 is calibrated


# ---------------------------------------------------------------------------------------- correct


def correct(ctx: UnitContext, data: L2Data) -> L2Data:
    """Dual-magnetometer removal, median filter, per-sample GTI and HK flags."""
    cfg = config.processing()["l2"]
    dm = cfg["dual_magnetometer"]
    q = dualmag.ratio(float(dm["r_mag1_m"]), float(dm["r_mag2_m"]), float(dm["exponent"]))
    imf, _ = dualmag.remove_spacecraft_field(data.b1, data.b2, q)
    data.imf = running_median(imf, int(cfg["median_window"]))
    data.imf[np.isnan(imf).any(axis=1)] = np.nan  # the median does not fill removed samples
    ts = (data.tt - data.tt[0]) / 1e9
    data.bad_gti = gti.ratio_flags(ts, data.b1, data.b2, cfg["gti"], CADENCE_S)
    data.hk_missing = gti.in_intervals(data.tt, data.hk_gaps)
    return data


# -------------------------------------------------------------------------------------- transform


def _bin_starts(ctx: UnitContext) -> np.ndarray:
    t0 = int(day_bounds_tt2000(ctx.day.isoformat())[0])
    bin_ns = int(float(config.processing()["l2"]["bin_s"]) * NS)
    return t0 + np.arange(86400 * NS // bin_ns, dtype=np.int64) * bin_ns


def transform(ctx: UnitContext, data: L2Data) -> L2Data:
    """Good samples of the day SCCS -> GSE and GSM (attitude CK, magfw.frames); positions."""
    gsm = GSM_FRAMES[ctx.options.get("gsm_dipole") or "igrf"]
    t0, t1 = (int(x) for x in day_bounds_tt2000(ctx.day.isoformat()))
    use = (data.tt >= t0) & (data.tt < t1) & ~np.isnan(data.imf).any(axis=1)
    tt = data.tt[use]
    starts = _bin_starts(ctx)
    centres = starts + (starts[1] - starts[0]) // 2
    et = tt2000_to_et(np.array([t0 - 600 * NS, t1 + 600 * NS]))
    chosen = kernels.select_kernels(data.kernels, float(et[0]), float(et[1]),
                                    bodies=[spice.SPACECRAFT], ck_ids=[spice.CK_ID])
    data.gse = np.full(data.imf.shape, np.nan)
    data.gsm = np.full(data.imf.shape, np.nan)
    with kernels.kernel_pool(chosen):
        data.gse[use] = frames.rotate(data.imf[use], tt, spice.FRAME, "GSE")
        data.gsm[use] = frames.rotate(data.imf[use], tt, spice.FRAME, gsm)
        pos_gse = frames.positions(centres, spice.SPACECRAFT, "GSE", center="EARTH")
        pos_gsm = frames.positions(centres, spice.SPACECRAFT, gsm, center="EARTH")
    data.bins = {"start": starts, "pos_gse": pos_gse, "pos_gsm": pos_gsm}
    return data


# ---------------------------------------------------------------------------------------- average


def average(ctx: UnitContext, data: L2Data) -> L2Data:
    """10-s bins [start, start + 10 s): means of the good samples (present, HK, GTI)."""
    cfg = config.processing()["l2"]
    starts = data.bins["start"]
    bin_ns = int(starts[1] - starts[0])
    nb = starts.size
    idx = (data.tt - starts[0]) // bin_ns
    good = (idx >= 0) & (idx < nb) & ~np.isnan(data.gse).any(axis=1) & ~data.bad_gti \
        & ~data.hk_missing
    gi = idx[good]
    n = np.bincount(gi, minlength=nb)
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, arr in (("gse", data.gse), ("gsm", data.gsm)):
            data.bins[name] = np.stack([np.bincount(gi, arr[good, k], nb) for k in range(3)],
                                       1) / n[:, None]
    nominal = bin_ns / 1e9 / CADENCE_S
    data.bins["n_good"] = n
    data.bins["flag"] = n >= float(cfg["min_good_fraction"]) * nominal
    return data


def quality(ctx: UnitContext, data: L2Data) -> L2Data:
    flag = data.bins["flag"]
    data.bins["missing_percent"] = np.array(100.0 * np.count_nonzero(~flag) / flag.size)
    return data


# ------------------------------------------------------------------------------------------ write


def _f32(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)  # NaN: the writer stores the definition's fill


def write(ctx: UnitContext, data: L2Data) -> list[Product]:
    d = ctx.product("l2")
    day = ctx.day
    fields = {"yyyy": day.year, "mm": day.month, "dd": day.day}
    b = data.bins
    err = float(config.processing()["l2"]["error_nT"])
    gsm = GSM_FRAMES[ctx.options.get("gsm_dipole") or "igrf"]
    variables: dict[str, np.ndarray] = {"time": tt2000_to_unix(b["start"])}
    for frame in ("gse", "gsm"):
        for k, c in enumerate("xyz"):
            variables[f"B{c}_{frame}"] = _f32(b[frame][:, k])
    for frame in ("gse", "gsm"):
        for k, c in enumerate("xyz"):
            variables[f"B{c}_{frame}_error"] = np.where(np.isnan(b[frame][:, k]), np.nan,
                                                        err).astype(np.float32)
    for frame in ("gse", "gsm"):
        for k, c in enumerate("xyz"):
            variables[f"{c}_{frame}"] = _f32(b[f"pos_{frame}"][:, k])
    variables["Quality_flag_10s_data"] = b["flag"].astype(np.float32)
    missing = float(b["missing_percent"])
    qf = gti.quality_factor(missing)
    name = d.filename.format(**fields, version=ctx.version)
    attrs = {
        "number_of_samples": int(b["start"].size),
        "time_coverage_start": iso_z(b["start"][0]),
        "time_coverage_end": iso_z(b["start"][-1]),
        "product_version": product_version(ctx.version),
        "creator_email": creator_email(),
        "missing_data_percentage": round(missing, 3),
        "time_stamp": "start of each 10-s bin [t, t + 10 s); positions at the bin centre",
        "gsm_definition": GSM_TEXT[gsm],
        "dual_magnetometer": "B_IMF = (q B_MAG1 - B_MAG2) / (q - 1), q = (6 m / 3 m)^3 = 8 "
                             "(centre dipole, r^-3)",
    }
    xml = l2_metadata_xml(product_name=name, version=ctx.version, day=day, quality_factor=qf,
                          missing_percent=missing, remarks=ctx.reason or "first version",
                          software=f"magfw {__version__}", gsm=GSM_TEXT[gsm],
                          simulated=ctx.simulated, inputs=data.inputs)
    return [
        Product(definition=d, fields=fields, variables=variables, attrs=attrs),
        Product(definition=ctx.product("l2_metadata"), fields=fields, payload=xml),
        Product(definition=ctx.product("l2_outreach"), fields=fields,
                plot=_outreach(ctx, b, qf, missing)),
    ]


def _outreach(ctx: UnitContext, b: dict[str, np.ndarray], qf: int, missing: float) -> PlotSpec:
    """Bx, By, Bz (GSE) and |B| over the day, valid (GTI) bins only."""
    v = np.where(b["flag"][:, None], b["gse"], np.nan)
    mag = np.linalg.norm(v, axis=1)
    colors = ("tab:blue", "tab:orange", "tab:green")
    panels = [PlotPanel(series={f"B{c} GSE": v[:, k]}, ylabel=f"B{c} GSE [nT]", colors=[col])
              for k, (c, col) in enumerate(zip("xyz", colors, strict=True))]
    panels.append(PlotPanel(series={"|B|": mag}, ylabel="|B| [nT]", colors=["black"]))
    title = (f"Aditya-L1 MAG  interplanetary magnetic field (GSE, 10-s)  {ctx.day:%Y-%m-%d}  "
             f"V{ctx.version:02d}   quality {qf}/10, {missing:.1f} % bad or missing")
    if ctx.simulated:
        title += "   SIMULATED"
    return PlotSpec(time=b["start"] + 5 * NS, panels=panels, title=title, size_px=(1200, 900))


__all__ = ["average", "calibrate", "correct", "fetch", "find_l1", "quality", "read", "transform",
           "write"]

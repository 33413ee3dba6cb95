"""Level 2: every L1 file touching a UTC day -> the daily 10-s IMF in GSE and GSM
(``L2_AL1_MAG_YYYYMMDD_Vmn.nc``), its XML metadata and the outreach PNG.

The level object :class:`L2` implements the steps this level needs; each is a pure function of
the previous stage's object (``calibrate`` is absent: L1 is calibrated)::

    fetch -> Inputs -> read -> L2Read -> correct -> L2Corrected -> transform -> L2Transformed
          -> average -> L2Averaged -> quality -> L2Qualified -> write -> [Product]

``fetch`` finds the newest L1 product of each L0 stem touching the day in the output tree, and
the SPICE kernels; ``read`` joins the L1 samples of the day (with ``PAD_S`` either side);
``correct`` removes the spacecraft field (dual magnetometer), median-filters and sets the
per-sample GTI flags; ``transform`` rotates the good samples SCCS -> GSE and GSM with the
attitude CK; ``average`` makes the 8640 10-s bins (stamp = bin start); ``quality`` the
``missing_data_percentage``; ``write`` the three products.

GSM is magfw's GSM with the IGRF-14 dipole of date, or with ``--gsm-dipole fixed2000`` the
frame ``GSM_FIXED2000`` (the fixed 2000.0 pole of the public Aditya frames kernel), defined in
the plugin's frames kernel ``data/al1_magfw_gsm_v01.tf``, which is then a kernel input.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import h5py
import numpy as np

from magfw.api import (
    FoundProduct,
    InputError,
    InputFile,
    Inputs,
    MissingInputError,
    PlotPanel,
    PlotSpec,
    Product,
    UnitContext,
    __version__,
    date_fields,
    frames,
    highest,
    hookimpl,
    kernels,
    read_netcdf,
    time,
)
from magfw_aditya import config, dualmag, gti, spice
from magfw_aditya.common import AXES, FILL, NS, SENSORS, creator_email, iso_z, product_version
from magfw_aditya.config import L2Config
from magfw_aditya.despike import running_median
from magfw_aditya.metadata import l2_metadata_xml

CADENCE_S = 0.128
PAD_S = 120.0
#: ``--gsm-dipole`` -> the GSM frame used.
GSM_FRAMES = {"igrf": "GSM", "fixed2000": spice.GSM_FIXED_FRAME}
GSM_TEXT = {
    "GSM": "GSM: X Earth->Sun, Z the IGRF-14 dipole axis of date perpendicular to X (magfw.frames)",
    spice.GSM_FIXED_FRAME: "GSM_FIXED2000: X Earth->Sun, Z the fixed IGRF 2000.0 dipole pole "
                           "79.54N 288.43E of the public Aditya-L1 frames kernel (magfw.frames)",
}

# ------------------------------------------------------------------------------------- stages


@dataclass(frozen=True)
class DaySetup:
    """What every stage carries besides its arrays: the day, the unit's inputs (for the XML
    metadata), its kernels and the GSM frame chosen."""

    day: date
    t0: int  #: TT2000 of the day's 00:00:00 UTC
    t1: int  #: TT2000 of the next day's 00:00:00 UTC
    inputs: tuple[InputFile, ...]
    kernels: tuple[Path, ...]
    gsm_frame: str


@dataclass(frozen=True)
class L2Read:
    """The joined L1 samples of the day and ``PAD_S`` either side (first file wins where
    files overlap), in SCCS."""

    setup: DaySetup
    tt: np.ndarray  #: (N,) int64 TT2000, increasing
    b1: np.ndarray  #: (N, 3) nT MAG1, NaN where L1 removed the sample
    b2: np.ndarray  #: (N, 3) nT MAG2
    hk_gaps: np.ndarray  #: (M, 2) int64 TT2000 [start, end] of the L1 housekeeping gaps


@dataclass(frozen=True)
class L2Corrected:
    setup: DaySetup
    tt: np.ndarray  #: (N,) int64 TT2000
    imf: np.ndarray  #: (N, 3) nT SCCS, spacecraft field removed, median-filtered
    bad_gti: np.ndarray  #: (N,) bool, the derivative-ratio rule
    hk_missing: np.ndarray  #: (N,) bool, inside an L1 housekeeping gap


@dataclass(frozen=True)
class L2Transformed:
    setup: DaySetup
    tt: np.ndarray  #: (N,) int64 TT2000
    gse: np.ndarray  #: (N, 3) nT, NaN outside the day or where imf is NaN
    gsm: np.ndarray  #: (N, 3) nT
    bad_gti: np.ndarray
    hk_missing: np.ndarray
    start: np.ndarray  #: (8640,) int64 TT2000 of each 10-s bin start
    pos_gse: np.ndarray  #: (8640, 3) km, spacecraft at the bin centres
    pos_gsm: np.ndarray  #: (8640, 3) km


@dataclass(frozen=True)
class L2Averaged:
    setup: DaySetup
    start: np.ndarray  #: (8640,) int64 TT2000 bin starts
    gse: np.ndarray  #: (8640, 3) nT means of the good samples (NaN: none)
    gsm: np.ndarray  #: (8640, 3) nT
    pos_gse: np.ndarray
    pos_gsm: np.ndarray
    n_good: np.ndarray  #: (8640,) good samples per bin
    flag: np.ndarray  #: (8640,) bool, enough good samples


@dataclass(frozen=True)
class L2Qualified:
    bins: L2Averaged
    missing_percent: float  #: percent of the bins missing or flagged bad


# ------------------------------------------------------------------------------ pure steps


def hk_intervals(attr: object, where: Path) -> np.ndarray:
    """An L1 file's ``housekeeping_gaps`` ('start/end' ISO pairs, or "none") as (M, 2)
    TT2000."""
    items = attr if isinstance(attr, list) else [attr]
    pairs = [str(s).split("/") for s in items if s and str(s) != "none"]
    if not pairs:
        return np.empty((0, 2), dtype=np.int64)
    if any(len(p) != 2 for p in pairs):
        raise InputError(where, "housekeeping_gaps must be 'start/end' ISO pairs")
    flat = np.array([x.rstrip("Z") for p in pairs for x in p])
    return np.asarray(time.tt2000_from_iso(flat), dtype=np.int64).reshape(-1, 2)


def correct_day(data: L2Read, cfg: L2Config) -> L2Corrected:
    """Dual-magnetometer removal, median filter, per-sample GTI and HK flags."""
    q = dualmag.ratio(cfg.r_mag1_m, cfg.r_mag2_m, cfg.exponent)
    raw, _ = dualmag.remove_spacecraft_field(data.b1, data.b2, q)
    imf = running_median(raw, cfg.median_window)
    imf[np.isnan(raw).any(axis=1)] = np.nan  # the median does not fill removed samples
    ts = (data.tt - data.tt[0]) / 1e9
    bad_gti = gti.ratio_flags(ts, data.b1, data.b2, cfg.gti, CADENCE_S)
    hk_missing = gti.in_intervals(data.tt, data.hk_gaps)
    return L2Corrected(data.setup, data.tt, imf, bad_gti, hk_missing)


def bin_starts(t0: int, bin_s: float) -> np.ndarray:
    """Starts (TT2000) of the day's bins of ``bin_s`` seconds from ``t0``."""
    bin_ns = int(bin_s * NS)
    return t0 + np.arange(86400 * NS // bin_ns, dtype=np.int64) * bin_ns


def transform_day(data: L2Corrected, bin_s: float) -> L2Transformed:
    """Good samples of the day SCCS -> GSE and GSM (attitude CK, magfw.frames); spacecraft
    positions in both at the bin centres."""
    s = data.setup
    use = (data.tt >= s.t0) & (data.tt < s.t1) & ~np.isnan(data.imf).any(axis=1)
    tt = data.tt[use]
    starts = bin_starts(s.t0, bin_s)
    centres = starts + (starts[1] - starts[0]) // 2
    et = time.tt2000_to_et(np.array([s.t0 - 600 * NS, s.t1 + 600 * NS]))
    chosen = kernels.select_kernels(list(s.kernels), float(et[0]), float(et[1]),
                                    bodies=[spice.SPACECRAFT], ck_ids=[spice.CK_ID])
    gse = np.full(data.imf.shape, np.nan)
    gsm = np.full(data.imf.shape, np.nan)
    with kernels.kernel_pool(chosen):
        gse[use] = frames.rotate(data.imf[use], tt, spice.FRAME, "GSE")
        gsm[use] = frames.rotate(data.imf[use], tt, spice.FRAME, s.gsm_frame)
        pos_gse = frames.positions(centres, spice.SPACECRAFT, "GSE", center="EARTH")
        pos_gsm = frames.positions(centres, spice.SPACECRAFT, s.gsm_frame, center="EARTH")
    return L2Transformed(s, data.tt, gse, gsm, data.bad_gti, data.hk_missing, starts,
                         pos_gse, pos_gsm)


def average_day(data: L2Transformed, min_good_fraction: float) -> L2Averaged:
    """Bins [start, start + 10 s): means of the good samples (present, HK, GTI); a bin is
    valid with at least ``min_good_fraction`` of its nominal samples."""
    starts = data.start
    bin_ns = int(starts[1] - starts[0])
    nb = starts.size
    idx = (data.tt - starts[0]) // bin_ns
    good = (idx >= 0) & (idx < nb) & ~np.isnan(data.gse).any(axis=1) & ~data.bad_gti \
        & ~data.hk_missing
    gi = idx[good]
    n = np.bincount(gi, minlength=nb)
    means = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for arr in (data.gse, data.gsm):
            means.append(np.stack([np.bincount(gi, arr[good, k], nb) for k in range(3)],
                                  1) / n[:, None])
    nominal = bin_ns / 1e9 / CADENCE_S
    return L2Averaged(data.setup, starts, means[0], means[1], data.pos_gse, data.pos_gsm, n,
                      n >= min_good_fraction * nominal)


def qualify(data: L2Averaged) -> L2Qualified:
    """``missing_data_percentage``: the share of bins without a valid mean."""
    return L2Qualified(data, float(100.0 * np.count_nonzero(~data.flag) / data.flag.size))


def _f32(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)  # NaN: the writer stores the definition's fill


def l2_variables(b: L2Averaged, error_nt: float) -> dict[str, np.ndarray]:
    """Table 3: time (bin starts, UNIX s), B in GSE and GSM, their errors, positions, flag."""
    variables: dict[str, np.ndarray] = {"time": time.tt2000_to_unix(b.start)}
    field = {"gse": b.gse, "gsm": b.gsm}
    position = {"gse": b.pos_gse, "gsm": b.pos_gsm}
    for frame in ("gse", "gsm"):
        for k, c in enumerate("xyz"):
            variables[f"B{c}_{frame}"] = _f32(field[frame][:, k])
    for frame in ("gse", "gsm"):
        for k, c in enumerate("xyz"):
            variables[f"B{c}_{frame}_error"] = np.where(np.isnan(field[frame][:, k]), np.nan,
                                                        error_nt).astype(np.float32)
    for frame in ("gse", "gsm"):
        for k, c in enumerate("xyz"):
            variables[f"{c}_{frame}"] = _f32(position[frame][:, k])
    variables["Quality_flag_10s_data"] = b.flag.astype(np.float32)
    return variables


def l2_attrs(data: L2Qualified, version: int, email: str | None) -> dict[str, object]:
    """The per-file global attributes (creator_email only when configured)."""
    b = data.bins
    attrs: dict[str, object] = {
        "number_of_samples": int(b.start.size),
        "time_coverage_start": iso_z(b.start[0]),
        "time_coverage_end": iso_z(b.start[-1]),
        "product_version": product_version(version),
    }
    if email:
        attrs["creator_email"] = email
    attrs.update({
        "missing_data_percentage": round(data.missing_percent, 3),
        "time_stamp": "start of each 10-s bin [t, t + 10 s); positions at the bin centre",
        "gsm_definition": GSM_TEXT[b.setup.gsm_frame],
        "dual_magnetometer": "B_IMF = (q B_MAG1 - B_MAG2) / (q - 1), q = (6 m / 3 m)^3 = 8 "
                             "(centre dipole, r^-3)",
    })
    return attrs


def outreach(b: L2Averaged, version: int, qf: int, missing: float, simulated: bool) -> PlotSpec:
    """Bx, By, Bz (GSE) and |B| over the day, valid (GTI) bins only."""
    v = np.where(b.flag[:, None], b.gse, np.nan)
    mag = np.linalg.norm(v, axis=1)
    colors = ("tab:blue", "tab:orange", "tab:green")
    panels = [PlotPanel(series={f"B{c} GSE": v[:, k]}, ylabel=f"B{c} GSE [nT]", colors=[col])
              for k, (c, col) in enumerate(zip("xyz", colors, strict=True))]
    panels.append(PlotPanel(series={"|B|": mag}, ylabel="|B| [nT]", colors=["black"]))
    title = (f"Aditya-L1 MAG  interplanetary magnetic field (GSE, 10-s)  {b.setup.day:%Y-%m-%d}  "
             f"V{version:02d}   quality {qf}/10, {missing:.1f} % bad or missing")
    if simulated:
        title += "   SIMULATED"
    return PlotSpec(time=b.start + 5 * NS, panels=panels, title=title, size_px=(1200, 900))


# ------------------------------------------------------------------------------------ fetch


def l1_span(path: Path) -> tuple[float, float]:
    """First and last time (UNIX s) of an L1 file, reading two values only."""
    try:
        with h5py.File(path, "r") as f:
            t = f["time"]
            return float(t[0]), float(t[-1])
    except Exception as exc:  # noqa: BLE001 - any defect of the file is its own
        raise InputError(path, f"not a readable L1 netCDF: {type(exc).__name__}: {exc}") from exc


def find_l1(ctx: UnitContext) -> list[FoundProduct]:
    """The newest L1 product of each L0 stem that touches the day (the stems of the day and of
    the day before, whose tar may run past midnight), sorted by path."""
    found: list[FoundProduct] = []
    for day in (ctx.day - timedelta(days=1), ctx.day):
        found += ctx.newest_products(ctx.mission.id, "l1", yy=day.year % 100,
                                     doy=day.timetuple().tm_yday)
    t0, t1 = time.tt2000_to_unix(np.asarray(time.day_bounds_tt2000(ctx.day.isoformat())))
    out = []
    for f in sorted(found, key=lambda f: f.rel):
        first, last = l1_span(f.path)
        if last >= t0 and first < t1:
            out.append(f)
    return out


def kernel_inputs(ctx: UnitContext, gsm_frame: str) -> tuple[list[InputFile], dict[str, str]]:
    """The day's SPK and CK (highest version of each monthly series), the SCLK, our FK, and
    the GSM_FIXED2000 frames kernel when that GSM is used; and the kernel set by kind."""
    by_kind: dict[str, list[InputFile]] = {"spk": [], "ck": [], "sclk": [], "fk": []}
    for kind in ("spk", "ck"):
        folder = spice.DIRS[kind]
        names = spice.candidates_for(ctx.archive.list(folder), ctx.day)
        parsed = [(n, m) for n in names if (m := spice.NAME.match(n)) is not None]
        best = {k: (int(m.group("version")), n) for k, (n, m) in highest(
            parsed, key=lambda nm: (nm[1].group("start"), nm[1].group("end")),
            version=lambda nm: int(nm[1].group("version")), tie=lambda nm: nm[0]).items()}
        if not best:
            what = "ephemeris SPK al1_eph_*.bsp" if kind == "spk" else "attitude CK al1_att_*.bc"
            raise MissingInputError(f"{ctx.archive.root}/{folder}", f"no {what} for {ctx.day}")
        by_kind[kind] = [InputFile.from_fetched(ctx.archive.get(f"{folder}/{n}"), "kernel", f"v{v}")
                         for v, n in best.values()]
    sclks = {int(m.group("version")): n for n in ctx.archive.list(spice.DIRS["sclk"])
             if (m := spice.SCLK_NAME.match(n))}
    if not sclks:
        raise MissingInputError(f"{ctx.archive.root}/{spice.DIRS['sclk']}",
                                "no spacecraft clock kernel al1_sclk_vX.tsc")
    v = max(sclks)
    by_kind["sclk"] = [InputFile.from_fetched(ctx.archive.get(f"{spice.DIRS['sclk']}/{sclks[v]}"),
                                              "kernel", f"v{v}")]
    by_kind["fk"] = [InputFile.from_path(spice.FK_PATH, "kernel", "v01")]
    if gsm_frame == spice.GSM_FIXED_FRAME:
        by_kind["fk"].append(ctx.shipped_input("magfw_aditya", spice.GSM_FK, role="kernel",
                                               version="v01"))
    files = [f for kind in ("spk", "ck", "sclk", "fk") for f in by_kind[kind]]
    return files, {kind: ", ".join(f.name for f in fs) for kind, fs in by_kind.items()}


def gsm_frame(ctx: UnitContext) -> str:
    """The GSM frame the ``--gsm-dipole`` option asks for."""
    return GSM_FRAMES[str(ctx.options.get("gsm_dipole") or "igrf")]


# -------------------------------------------------------------------------------- the level


class L2:
    """The ``l2`` level object (registered by magfw as ``aditya.l2``)."""

    @hookimpl
    def fetch(self, ctx: UnitContext) -> Inputs:
        found = find_l1(ctx)
        if not found:
            prev = ctx.day - timedelta(days=1)
            raise MissingInputError(ctx.out_dir, f"no L1 file touches {ctx.day}: run 'magfw run "
                                                 f"aditya l1 {prev}..{ctx.day}' first")
        files = [ctx.product_input(f, "l1") for f in found]
        kernel_files, kernel_set = kernel_inputs(ctx, gsm_frame(ctx))
        return Inputs(
            files=files + kernel_files,
            calibration={"processing": config.digest(config.PROCESSING)},
            kernels=kernel_set,
            selection={"l1": "newest version of each L1 file touching the day",
                       "spk_ck": "highest version of each monthly kernel covering the day",
                       "sclk": "highest version"})

    @hookimpl
    def read(self, ctx: UnitContext, inputs: Inputs) -> L2Read:
        t0, t1 = (int(x) for x in time.day_bounds_tt2000(ctx.day.isoformat()))
        lo, hi = t0 - int(PAD_S * NS), t1 + int(PAD_S * NS)
        tts, b1s, b2s, gaps = [], [], [], []
        for f in inputs.by_role("l1"):
            d = read_netcdf(f.path)
            try:
                tt = np.asarray(time.tt2000_from_unix(d.variables["time"]), dtype=np.int64)
                b = {s: np.stack([d.variables[f"B_{a}_{s}"] for a in AXES], 1).astype(np.float64)
                     for s in SENSORS}
            except KeyError as exc:
                raise InputError(f.path, f"not an Aditya L1 file: variable {exc} missing") from exc
            sel = (tt >= lo) & (tt < hi)
            for s in b:
                b[s][b[s] == FILL] = np.nan
            tts.append(tt[sel])
            b1s.append(b["mag1"][sel])
            b2s.append(b["mag2"][sel])
            gaps.append(hk_intervals(d.global_attrs.get("housekeeping_gaps", "none"), f.path))
        tt = np.concatenate(tts)
        order = np.argsort(tt, kind="stable")
        tt = tt[order]
        keep = np.r_[True, np.diff(tt) > 0]  # overlapping files: first wins
        ctx.vectors += 2 * int(keep.sum())
        setup = DaySetup(ctx.day, t0, t1, tuple(inputs.files),
                         tuple(f.path for f in inputs.by_role("kernel")), gsm_frame(ctx))
        return L2Read(setup, tt[keep], np.concatenate(b1s)[order][keep],
                      np.concatenate(b2s)[order][keep], np.concatenate(gaps))

    @hookimpl
    def correct(self, ctx: UnitContext, data: L2Read) -> L2Corrected:
        return correct_day(data, config.l2_config())

    @hookimpl
    def transform(self, ctx: UnitContext, data: L2Corrected) -> L2Transformed:
        return transform_day(data, config.l2_config().bin_s)

    @hookimpl
    def average(self, ctx: UnitContext, data: L2Transformed) -> L2Averaged:
        return average_day(data, config.l2_config().min_good_fraction)

    @hookimpl
    def quality(self, ctx: UnitContext, data: L2Averaged) -> L2Qualified:
        return qualify(data)

    @hookimpl
    def write(self, ctx: UnitContext, data: L2Qualified) -> list[Product]:
        """The netCDF, its XML metadata and the outreach image; the runner fills the date and
        version fields of their names."""
        d = ctx.product("l2")
        b = data.bins
        missing = data.missing_percent
        qf = gti.quality_factor(missing)
        name = d.filename.format(**date_fields(b.setup.day), version=ctx.version)
        gsm = GSM_TEXT[b.setup.gsm_frame]
        xml = l2_metadata_xml(product_name=name, version=ctx.version, day=b.setup.day,
                              quality_factor=qf, missing_percent=missing,
                              remarks=ctx.reason or "first version",
                              software=f"magfw {__version__}", gsm=gsm,
                              simulated=ctx.simulated, inputs=b.setup.inputs)
        return [
            Product(definition=d, variables=l2_variables(b, config.l2_config().error_nt),
                    attrs=l2_attrs(data, ctx.version, creator_email())),
            Product(definition=ctx.product("l2_metadata"), payload=xml),
            Product(definition=ctx.product("l2_outreach"),
                    plot=outreach(b, ctx.version, qf, missing, ctx.simulated)),
        ]

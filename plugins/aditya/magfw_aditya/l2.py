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

from dataclasses import dataclass, field
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
    pick_highest_version,
    read_netcdf,
    time,
)
from magfw_aditya import calops, config, dualmag, gti, metafile, spice
from magfw_aditya.common import (
    AXES,
    FILL,
    NS,
    SENSORS,
    acdd_settings,
    aditya_setting,
    coverage_attrs,
    creator_email,
    iso_z,
)
from magfw_aditya.config import L2Config
from magfw_aditya.despike import running_median
from magfw_aditya.metadata import l2_metadata_xml

CADENCE_S = 0.128
PAD_S = 120.0
#: ``--gsm-dipole`` -> the GSM frame used.
GSM_FRAMES = {"igrf": "GSM", "fixed2000": spice.GSM_FIXED_FRAME}
#: The default of ``--gsm-dipole``: the GSM of the public Aditya-L1 frames kernel.
GSM_DEFAULT = "fixed2000"
GSM_TEXT = {
    "GSM": "GSM: X Earth->Sun, Z the IGRF-14 dipole axis of date perpendicular to X (magfw.geometry.frames)",
    spice.GSM_FIXED_FRAME: "GSM_FIXED2000: X Earth->Sun, Z the fixed IGRF 2000.0 dipole pole "
    "79.54N 288.43E of the public Aditya-L1 frames kernel (magfw.geometry.frames)",
}
#: What the file says of the GSM it does not use.
GSM_OTHER = {
    "GSM": "the default --gsm-dipole fixed2000 gives GSM_FIXED2000 (fixed IGRF 2000.0 pole "
    "79.54N 288.43E of the public Aditya-L1 frames kernel)",
    spice.GSM_FIXED_FRAME: "the option --gsm-dipole igrf gives GSM with the IGRF-14 dipole axis of date",
}
CALIBRATION_REASON = (
    "spacecraft rotation manoeuvre for calibration: data of calibration "
    "intervals are not disseminated (MAG manual section 7)"
)

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
    #: (M, 2) int64 TT2000 [start, end] of the calibration manoeuvres touching the day
    calibration: np.ndarray = field(default_factory=lambda: np.empty((0, 2), dtype=np.int64))


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
    gse: np.ndarray  #: (N, 3) nT, NaN outside the day, where imf is NaN or without attitude
    gsm: np.ndarray  #: (N, 3) nT
    sccs: np.ndarray  #: (N, 3) nT, the corrected IMF in SCCS (NaN where gse is)
    bad_gti: np.ndarray
    hk_missing: np.ndarray
    start: np.ndarray  #: (8640,) int64 TT2000 of each 10-s bin start
    pos_gse: np.ndarray  #: (8640, 3) km, spacecraft at the bin centres (NaN without SPK)
    pos_gsm: np.ndarray  #: (8640, 3) km
    no_attitude: np.ndarray  #: (N,) bool, a sample of the day the attitude CK does not cover
    calibrating: np.ndarray  #: (N,) bool, inside a calibration manoeuvre


@dataclass(frozen=True)
class L2Averaged:
    setup: DaySetup
    start: np.ndarray  #: (8640,) int64 TT2000 bin starts
    gse: np.ndarray  #: (8640, 3) nT means of the good samples (NaN: none)
    gsm: np.ndarray  #: (8640, 3) nT
    sccs: np.ndarray  #: (8640, 3) nT
    pos_gse: np.ndarray
    pos_gsm: np.ndarray
    n_good: np.ndarray  #: (8640,) good samples per bin
    flag: np.ndarray  #: (8640,) bool, enough good samples
    attitude_gaps: list[str]  #: 'start/end' UT of the bins flagged for lack of attitude
    ephemeris_gaps: list[str]  #: 'start/end' UT of the bins without spacecraft position
    calibration: list[str]  #: 'start/end' UT of the bins left out (calibration manoeuvres)


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
    """Good samples of the day SCCS -> GSE and GSM (attitude CK, magfw.geometry.frames); spacecraft
    positions in both at the bin centres. Samples the attitude CK does not cover are not
    rotated (flagged: their bins lose them), bin centres the SPK does not cover have no
    position (flagged); neither fails the day."""
    s = data.setup
    use = (data.tt >= s.t0) & (data.tt < s.t1) & ~np.isnan(data.imf).any(axis=1)
    starts = bin_starts(s.t0, bin_s)
    centres = starts + (starts[1] - starts[0]) // 2
    et = time.tt2000_to_et(np.array([s.t0 - 600 * NS, s.t1 + 600 * NS]))
    chosen = kernels.select_kernels(
        list(s.kernels), float(et[0]), float(et[1]), bodies=[spice.SPACECRAFT], ck_ids=[spice.CK_ID]
    )
    gse = np.full(data.imf.shape, np.nan)
    gsm = np.full(data.imf.shape, np.nan)
    pos_gse = np.full((starts.size, 3), np.nan)
    pos_gsm = np.full((starts.size, 3), np.nan)
    in_day = (data.tt >= s.t0) & (data.tt < s.t1)
    with kernels.kernel_pool(chosen) as pool:
        covered = np.ones(data.tt.size, dtype=bool)
        covered[in_day] = kernels.require_coverage(pool, spice.CK_ID, data.tt[in_day], kind="ck", flag=True)
        use &= covered
        tt = data.tt[use]
        if tt.size:
            gse[use] = frames.rotate(data.imf[use], tt, spice.FRAME, "GSE")
            gsm[use] = frames.rotate(data.imf[use], tt, spice.FRAME, s.gsm_frame)
        has_pos = kernels.require_coverage(pool, spice.SPACECRAFT, centres, kind="spk", flag=True)
        if has_pos.any():
            pos_gse[has_pos] = frames.positions(centres[has_pos], spice.SPACECRAFT, "GSE", center="EARTH")
            pos_gsm[has_pos] = frames.positions(
                centres[has_pos], spice.SPACECRAFT, s.gsm_frame, center="EARTH"
            )
    sccs = np.where(use[:, None], data.imf, np.nan)
    calibrating = gti.in_intervals(data.tt, s.calibration)
    return L2Transformed(
        s,
        data.tt,
        gse,
        gsm,
        sccs,
        data.bad_gti,
        data.hk_missing,
        starts,
        pos_gse,
        pos_gsm,
        in_day & ~covered,
        calibrating,
    )


def bin_runs(starts: np.ndarray, mask: np.ndarray, bin_ns: int) -> list[str]:
    """Runs of flagged bins as 'start/end' UT (first bin start, last bin end)."""
    if not mask.any():
        return []
    m = mask.astype(np.int8)
    a = np.flatnonzero(np.diff(np.r_[0, m]) == 1)
    b = np.flatnonzero(np.diff(np.r_[m, 0]) == -1)
    return [f"{iso_z(starts[i])}/{iso_z(starts[j] + bin_ns)}" for i, j in zip(a, b, strict=True)]


def average_day(data: L2Transformed, min_good_fraction: float) -> L2Averaged:
    """Bins [start, start + 10 s): means of the good samples (present, HK, GTI, attitude); a
    bin is valid with at least ``min_good_fraction`` of its nominal samples and a spacecraft
    position. Bins touching a calibration manoeuvre are left out (fill, flag 0)."""
    starts = data.start
    bin_ns = int(starts[1] - starts[0])
    nb = starts.size
    idx = (data.tt - starts[0]) // bin_ns
    inside = (idx >= 0) & (idx < nb)
    good = inside & ~np.isnan(data.gse).any(axis=1) & ~data.bad_gti & ~data.hk_missing
    gi = idx[good]
    n = np.bincount(gi, minlength=nb)
    means = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for arr in (data.gse, data.gsm, data.sccs):
            means.append(np.stack([np.bincount(gi, arr[good, k], nb) for k in range(3)], 1) / n[:, None])
    nominal = bin_ns / 1e9 / CADENCE_S
    no_att = np.bincount(idx[inside & data.no_attitude], minlength=nb) > 0
    no_pos = np.isnan(data.pos_gse).any(axis=1)
    cal = np.bincount(idx[inside & data.calibrating], minlength=nb) > 0
    cal |= gti.in_intervals(starts, data.setup.calibration) | gti.in_intervals(
        starts + bin_ns - 1, data.setup.calibration
    )
    for m in means:
        m[cal] = np.nan  # nothing of a calibration interval is disseminated
    flag = (n >= min_good_fraction * nominal) & ~no_pos & ~cal
    return L2Averaged(
        data.setup,
        starts,
        means[0],
        means[1],
        means[2],
        data.pos_gse,
        data.pos_gsm,
        np.where(cal, 0, n),
        flag,
        bin_runs(starts, no_att & ~flag, bin_ns),
        bin_runs(starts, no_pos, bin_ns),
        bin_runs(starts, cal, bin_ns),
    )


def qualify(data: L2Averaged) -> L2Qualified:
    """``missing_data_percentage``: the share of bins without a valid mean."""
    return L2Qualified(data, float(100.0 * np.count_nonzero(~data.flag) / data.flag.size))


def _f32(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)  # NaN: the writer stores the definition's fill


def l2_variables(b: L2Averaged, error_nt: float) -> dict[str, np.ndarray]:
    """Table 3: time (bin starts, UNIX s), B in GSE and GSM, their errors, positions, flag."""
    variables: dict[str, np.ndarray] = {"time": time.tt2000_to_unix(b.start)}
    field = {"gse": b.gse, "gsm": b.gsm, "sccs": b.sccs}
    position = {"gse": b.pos_gse, "gsm": b.pos_gsm}
    for frame in ("gse", "gsm"):
        for k, c in enumerate("xyz"):
            variables[f"B{c}_{frame}"] = _f32(field[frame][:, k])
    for frame in ("gse", "gsm"):
        for k, c in enumerate("xyz"):
            variables[f"B{c}_{frame}_error"] = np.where(
                np.isnan(field[frame][:, k]), np.nan, error_nt
            ).astype(np.float32)
    for frame in ("gse", "gsm"):
        for k, c in enumerate("xyz"):
            variables[f"{c}_{frame}"] = _f32(position[frame][:, k])
    variables["Quality_flag_10s_data"] = b.flag.astype(np.float32)
    for frame in ("sccs",):
        for k, c in enumerate("xyz"):
            variables[f"B{c}_{frame}"] = _f32(field[frame][:, k])
        for k, c in enumerate("xyz"):
            variables[f"B{c}_{frame}_error"] = np.where(
                np.isnan(field[frame][:, k]), np.nan, error_nt
            ).astype(np.float32)
    return variables


def l2_attrs(
    data: L2Qualified,
    version: int,
    email: str | None,
    settings: dict[str, str] | None = None,
    file_id: str | None = None,
) -> dict[str, object]:
    """The per-file global attributes (creator_email, naming_authority, institution and
    license only when configured: ``settings``)."""
    b = data.bins
    attrs = coverage_attrs(b.start.size, b.start[0], b.start[-1], version, email, config.l2_config().bin_s)
    attrs.update(
        {
            "missing_data_percentage": round(data.missing_percent, 3),
            "time_stamp": "start of each 10-s bin [t, t + 10 s); positions at the bin centre",
            "gsm_dipole": "fixed2000" if b.setup.gsm_frame == spice.GSM_FIXED_FRAME else "igrf",
            "gsm_definition": GSM_TEXT[b.setup.gsm_frame],
            "gsm_alternative": GSM_OTHER[b.setup.gsm_frame],
            "dual_magnetometer": "B_IMF = (q B_MAG1 - B_MAG2) / (q - 1), q = (6 m / 3 m)^3 = 8 "
            "(centre dipole, r^-3)",
            "attitude_gaps": b.attitude_gaps or ["none"],
            "ephemeris_gaps": b.ephemeris_gaps or ["none"],
            "calibration_intervals": b.calibration or ["none"],
        }
    )
    if b.attitude_gaps:
        attrs["attitude_gaps_note"] = (
            "bins flagged 0: the attitude kernel (CK) does not cover "
            "their samples, so they cannot be rotated to GSE/GSM"
        )
    if b.ephemeris_gaps:
        attrs["ephemeris_gaps_note"] = (
            "bins flagged 0: the ephemeris kernel (SPK) does not "
            "cover them, so the spacecraft position is missing"
        )
    if b.calibration:
        attrs["calibration_intervals_note"] = "bins left out (fill, flag 0): " + CALIBRATION_REASON
    if file_id:
        attrs["id"] = file_id
    attrs.update(settings or {})
    return attrs


def outreach(b: L2Averaged, version: int, qf: int, missing: float, simulated: bool) -> PlotSpec:
    """Bx, By, Bz (GSE) and |B| over the day, valid (GTI) bins only."""
    v = np.where(b.flag[:, None], b.gse, np.nan)
    mag = np.linalg.norm(v, axis=1)
    colors = ("tab:blue", "tab:orange", "tab:green")
    panels = [
        PlotPanel(series={f"B{c} GSE": v[:, k]}, ylabel=f"B{c} GSE [nT]", colors=[col])
        for k, (c, col) in enumerate(zip("xyz", colors, strict=True))
    ]
    panels.append(PlotPanel(series={"|B|": mag}, ylabel="|B| [nT]", colors=["black"]))
    title = (
        f"Aditya-L1 MAG  interplanetary magnetic field (GSE, 10-s)  {b.setup.day:%Y-%m-%d}  "
        f"V{version:02d}   quality {qf}/10, {missing:.1f} % bad or missing"
    )
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
        found += ctx.newest_products(ctx.mission.id, "l1", yy=day.year % 100, doy=day.timetuple().tm_yday)
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
        best = {
            k: (int(m.group("version")), n)
            for k, (n, m) in highest(
                parsed,
                key=lambda nm: (nm[1].group("start"), nm[1].group("end")),
                version=lambda nm: int(nm[1].group("version")),
                tie=lambda nm: nm[0],
            ).items()
        }
        if not best:
            what = "ephemeris SPK al1_eph_*.bsp" if kind == "spk" else "attitude CK al1_att_*.bc"
            raise MissingInputError(f"{ctx.archive.root}/{folder}", f"no {what} for {ctx.day}")
        by_kind[kind] = [
            InputFile.from_fetched(ctx.archive.get(f"{folder}/{n}"), "kernel", f"v{v}")
            for v, n in best.values()
        ]
    sclks = {
        int(m.group("version")): n
        for n in ctx.archive.list(spice.DIRS["sclk"])
        if (m := spice.SCLK_NAME.match(n))
    }
    if not sclks:
        raise MissingInputError(
            f"{ctx.archive.root}/{spice.DIRS['sclk']}", "no spacecraft clock kernel al1_sclk_vX.tsc"
        )
    v = max(sclks)
    by_kind["sclk"] = [
        InputFile.from_fetched(ctx.archive.get(f"{spice.DIRS['sclk']}/{sclks[v]}"), "kernel", f"v{v}")
    ]
    by_kind["fk"] = [InputFile.from_path(spice.FK_PATH, "kernel", "v01")]
    if gsm_frame == spice.GSM_FIXED_FRAME:
        by_kind["fk"].append(ctx.shipped_input("magfw_aditya", spice.GSM_FK, role="kernel", version="v01"))
    files = [f for kind in ("spk", "ck", "sclk", "fk") for f in by_kind[kind]]
    return files, {kind: ", ".join(f.name for f in fs) for kind, fs in by_kind.items()}


def l1_caldbs(files: list[InputFile]) -> list[str]:
    """The caldb versions (``AL1_MAG_CALDB_Vnn``) in the L1 inputs' calibration_version."""
    out: set[str] = set()
    for f in files:
        try:
            with h5py.File(f.path, "r") as h:
                value = h.attrs.get("calibration_version")
        except OSError as exc:
            raise InputError(f.path, f"not a readable L1 netCDF: {exc}") from exc
        items = value if isinstance(value, np.ndarray | list) else [value]
        for item in items:
            text = item.decode() if isinstance(item, bytes) else str(item)
            if text.startswith("caldb="):
                out.add(text.removeprefix("caldb="))
    return sorted(out)


def ops_input(ctx: UnitContext) -> list[InputFile]:
    """The highest version of the calibration operations record, if the archive has one."""
    if not ctx.archive.exists(calops.OPS_DIR):
        return []
    best = pick_highest_version(ctx.archive.list(calops.OPS_DIR), calops.OPS_PATTERN)
    if not best:
        return []
    name = best["AL1_MAG_CALIBRATION_OPS"]
    m = calops.OPS_PATTERN.search(name)
    return [
        InputFile.from_fetched(
            ctx.archive.get(f"{calops.OPS_DIR}/{name}"), "operations", f"V{m.group('version')}" if m else None
        )
    ]


def gsm_frame(ctx: UnitContext) -> str:
    """The GSM frame the ``--gsm-dipole`` option asks for (default ``fixed2000``)."""
    return GSM_FRAMES[str(ctx.options.get("gsm_dipole") or GSM_DEFAULT)]


# -------------------------------------------------------------------------------- the level


class L2:
    """The ``l2`` level object (registered by magfw as ``aditya.l2``)."""

    @hookimpl
    def fetch(self, ctx: UnitContext) -> Inputs:
        found = find_l1(ctx)
        if not found:
            prev = ctx.day - timedelta(days=1)
            raise MissingInputError(
                ctx.out_dir,
                f"no L1 file touches {ctx.day}: run 'magfw run aditya l1 {prev}..{ctx.day}' first",
            )
        files = [ctx.product_input(f, "l1") for f in found]
        kernel_files, kernel_set = kernel_inputs(ctx, gsm_frame(ctx))
        ops = ops_input(ctx)
        return Inputs(
            files=files + kernel_files + ops,
            # the caldb versions the L1 inputs were made with: a new calibration is a major
            # revision of L2 too (MAG manual 10)
            calibration={
                "processing": config.digest(config.PROCESSING),
                "l1_caldb": ", ".join(l1_caldbs(files)) or "unknown",
            },
            kernels=kernel_set,
            selection={
                "l1": "newest version of each L1 file touching the day",
                "spk_ck": "highest version of each monthly kernel covering the day",
                "sclk": "highest version",
                "operations": "highest version",
            },
        )

    @hookimpl
    def read(self, ctx: UnitContext, inputs: Inputs) -> L2Read:
        t0, t1 = (int(x) for x in time.day_bounds_tt2000(ctx.day.isoformat()))
        lo, hi = t0 - int(PAD_S * NS), t1 + int(PAD_S * NS)
        tts, b1s, b2s, gaps = [], [], [], []
        for f in inputs.by_role("l1"):
            d = read_netcdf(f.path)
            try:
                tt = np.asarray(time.tt2000_from_unix(d.variables["time"]), dtype=np.int64)
                b = {
                    s: np.stack([d.variables[f"B_{a}_{s}"] for a in AXES], 1).astype(np.float64)
                    for s in SENSORS
                }
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
        ops = [m for f in inputs.by_role("operations") for m in calops.load_ops(f.path)]
        setup = DaySetup(
            ctx.day,
            t0,
            t1,
            tuple(inputs.files),
            tuple(f.path for f in inputs.by_role("kernel")),
            gsm_frame(ctx),
            calops.intervals(ops),
        )
        return L2Read(
            setup,
            tt[keep],
            np.concatenate(b1s)[order][keep],
            np.concatenate(b2s)[order][keep],
            np.concatenate(gaps),
        )

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
        """The netCDF, its ISSDC meta-file, the provenance XML and the outreach image; the
        runner fills the date and version fields of their names."""
        d = ctx.product("l2")
        b = data.bins
        missing = data.missing_percent
        qf = gti.quality_factor(missing)
        name = d.filename.format(**date_fields(b.setup.day), version=ctx.version)
        gsm = GSM_TEXT[b.setup.gsm_frame]
        remark = ctx.reason or "first version"
        if b.calibration:
            remark += "; " + CALIBRATION_REASON
        xml = l2_metadata_xml(
            product_name=name,
            version=ctx.version,
            day=b.setup.day,
            quality_factor=qf,
            missing_percent=missing,
            remarks=remark,
            software=f"magfw {__version__}",
            gsm=gsm,
            simulated=ctx.simulated,
            inputs=b.setup.inputs,
        )
        l1_names = [f.name for f in b.setup.inputs if f.role == "l1"]
        meta = metafile.MetaInfo(
            data_name=name,
            level="L2",
            version=ctx.version,
            observation_ids=[obs for n in l1_names if (obs := l1_obsid(ctx, n))],
            start=iso_z(b.start[0]),
            stop=iso_z(b.start[-1]),
            exposure_s=float(np.count_nonzero(b.flag)) * float(b.start[1] - b.start[0]) / NS,
            content_type="L2 interplanetary magnetic field, 10 s, GSE, GSM and SCCS",
            inputs=[f.name for f in b.setup.inputs],
            software=f"magfw {__version__}",
            quality=qf,
            remark=remark,
            proposal_id=aditya_setting("proposal_id"),
        )
        return [
            Product(
                definition=d,
                variables=l2_variables(b, config.l2_config().error_nt),
                attrs=l2_attrs(data, ctx.version, creator_email(), acdd_settings(), Path(name).stem),
            ),
            Product(definition=ctx.product("l2_meta"), payload_from=metafile.payload_from(meta)),
            Product(definition=ctx.product("l2_metadata"), payload=xml),
            Product(
                definition=ctx.product("l2_outreach"),
                plot=outreach(b, ctx.version, qf, missing, ctx.simulated),
            ),
        ]


def l1_obsid(ctx: UnitContext, name: str) -> str | None:
    """The observation id of an L1 file name."""
    fields = ctx.product("l1").filename.parse(name)
    return str(fields["obsid"]) if fields else None

"""Level 1: L0 tars of one UTC day -> one L1 netCDF (128 ms, SCCS, MAG1 and MAG2) and one
preview PNG per L0 tar.

Unit of work: the L0 tars whose stem date (first frame, Table 1) is the day; such a tar may
run past midnight, and its L1 file then does too (L2 combines every L1 file touching a day).

The level object :class:`L1` implements the steps this level needs; each is a pure function of
the previous stage's object::

    fetch -> Inputs -> read -> L1Raw -> calibrate -> L1Calibrated -> correct -> L1Corrected
          -> write -> [Product]

``read`` decodes the tars; ``calibrate`` converts OBT to UT with each tar's TCT and counts to
nT with the caldb entry valid on each sample's date, at the HK temperatures; ``correct``
removes saturated samples and spikes (flagged there); ``write`` builds the products. L1 stays
in SCCS at the sensors' own 128 ms, so there is no ``transform`` or ``average``, and its flags
are set where the samples are judged, so there is no ``quality``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from magfw.api import (
    InputFile,
    Inputs,
    MissingInputError,
    NoAverage,
    NoQuality,
    NoTransform,
    PlotPanel,
    PlotSpec,
    Product,
    ProductDefinition,
    UnitContext,
    __version__,
    pick_highest_version,
    time,
)
from magfw_aditya import calibration, config, despike, metafile
from magfw_aditya.common import (
    AXES,
    NS,
    SENSORS,
    acdd_settings,
    aditya_setting,
    coverage_attrs,
    creator_email,
    iso_z,
)
from magfw_aditya.config import L1Config
from magfw_aditya.gti import quality_factor
from magfw_aditya.l0 import TAR_PATTERN, L0Data, day_dir, read_l0, stem_date, stem_fields
from magfw_aditya.packets import DEFAULT_LAYOUT, Layout, load_layout

CADENCE_S = 0.128  #: nominal sample period, when the definition does not give one

# ------------------------------------------------------------------------------------- stages


@dataclass(frozen=True, kw_only=True)
class L0File:
    """One decoded L0 tar and its L0 version (``V00``)."""

    l0: L0Data
    version: str


@dataclass(frozen=True, kw_only=True)
class L1Raw:
    """What ``read`` gives: the day's decoded tars, the calibration database and the packet
    layout they were decoded with."""

    files: list[L0File]
    caldb: calibration.CalDB
    layout: Layout


@dataclass(frozen=True, kw_only=True)
class CalibratedFile:
    """One tar in UT and nT (spacecraft frame), before any sample is removed."""

    l0: L0Data
    version: str
    tt: np.ndarray  #: (N,) int64 TT2000 of every sample (TCT applied)
    b: dict[str, np.ndarray]  #: sensor ("mag1", "mag2") -> (N, 3) nT in SCCS
    saturated: dict[str, np.ndarray]  #: sensor -> (N,) bool, an axis at the ADC limit
    hk_missing: np.ndarray  #: (N,) bool, no housekeeping around the sample


@dataclass(frozen=True, kw_only=True)
class L1Calibrated:
    files: list[CalibratedFile]
    caldb_name: str = ""  #: the caldb file used (for the meta-files' input list)


@dataclass(frozen=True, kw_only=True)
class CorrectedFile:
    """One tar with saturated samples and spikes removed (NaN)."""

    l0: L0Data
    version: str
    tt: np.ndarray  #: (N,) int64 TT2000
    b: dict[str, np.ndarray]  #: sensor -> (N, 3) nT in SCCS, NaN where removed
    saturated: dict[str, np.ndarray]  #: sensor -> (N,) bool
    removed: dict[str, np.ndarray]  #: sensor -> (N,) bool, saturated or spike
    hk_missing: np.ndarray  #: (N,) bool


@dataclass(frozen=True, kw_only=True)
class L1Corrected:
    files: list[CorrectedFile]
    caldb_name: str = ""


# ------------------------------------------------------------------------------ pure steps


def hk_at(f: L0Data, max_gap: float, refs: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray]:
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


def calibrate_file(f: L0File, caldb: calibration.CalDB, layout: Layout, cfg: L1Config) -> CalibratedFile:
    """OBT -> UT (the tar's TCT) and counts -> nT (caldb entry of each sample's date, HK
    temperatures); saturated samples are marked, not yet removed."""
    max_extra = float(layout.time_correlation.get("max_extrapolation_s", 900.0))
    limit = int(layout.packets["science"].extra["saturation_counts"])
    tt = f.l0.tct.to_tt2000(f.l0.obt, max_extra)
    days = time.utc_day_of(tt)
    first = days[0].astype(object)
    e1 = caldb.entry_for("MAG1", first)
    refs = (e1.t_ref, caldb.entry_for("MAG2", first).t_ref, e1.te_ref)
    temps, hk_missing = hk_at(f.l0, cfg.hk_max_gap_s, refs)
    b: dict[str, np.ndarray] = {}
    saturated: dict[str, np.ndarray] = {}
    for k, sensor in enumerate(SENSORS):
        counts = f.l0.counts[:, k, :]
        saturated[sensor] = despike.saturated(counts, limit)
        b[sensor] = calibration.calibrate_counts(
            caldb, sensor.upper(), days, counts, temps[:, k], temps[:, 2]
        )
    return CalibratedFile(l0=f.l0, version=f.version, tt=tt, b=b, saturated=saturated, hk_missing=hk_missing)


def correct_file(f: CalibratedFile, cfg: L1Config) -> CorrectedFile:
    """Remove saturated samples, then spikes (running-median test) of each sensor."""
    b: dict[str, np.ndarray] = {}
    removed: dict[str, np.ndarray] = {}
    for sensor in SENSORS:
        bs = f.b[sensor].copy()
        bs[f.saturated[sensor]] = np.nan
        spike = despike.spikes(bs, cfg.despike_window, cfg.despike_threshold_nt)
        bs[spike] = np.nan
        b[sensor] = bs
        removed[sensor] = f.saturated[sensor] | spike
    return CorrectedFile(
        l0=f.l0,
        version=f.version,
        tt=f.tt,
        b=b,
        saturated=f.saturated,
        removed=removed,
        hk_missing=f.hk_missing,
    )


def intervals(tt: np.ndarray, mask: np.ndarray) -> list[str]:
    """Runs of True in ``mask`` as 'start/end' ISO strings (UT of the first and last sample)."""
    if not mask.any():
        return []
    m = mask.astype(np.int8)
    starts = np.flatnonzero(np.diff(np.r_[0, m]) == 1)
    ends = np.flatnonzero(np.diff(np.r_[m, 0]) == -1)
    return [f"{iso_z(tt[a])}/{iso_z(tt[b])}" for a, b in zip(starts, ends, strict=True)]


def file_stats(f: CorrectedFile, cadence_s: float) -> tuple[int, float]:
    """(expected samples over the file's span, percent missing, removed or without HK)."""
    span = (f.tt[-1] - f.tt[0]) / NS
    expected = int(round(span / cadence_s)) + 1
    good = ~(f.removed["mag1"] | f.removed["mag2"] | f.hk_missing)
    bad = max(expected - int(good.sum()), 0)
    return expected, 100.0 * bad / expected


def l1_variables(f: CorrectedFile, error_nt: float) -> dict[str, np.ndarray]:
    """Table 2: time (UNIX s), B per sensor and axis (NaN where removed), their errors."""
    variables: dict[str, np.ndarray] = {"time": time.tt2000_to_unix(f.tt)}
    for sensor in SENSORS:
        b = f.b[sensor]
        bad = np.isnan(b).any(axis=1)
        for k, axis in enumerate(AXES):
            variables[f"B_{axis}_{sensor}"] = np.where(bad, np.nan, b[:, k]).astype(np.float32)
    for sensor in SENSORS:
        bad = np.isnan(f.b[sensor]).any(axis=1)
        for axis in AXES:
            variables[f"B_{axis}_{sensor}_error"] = np.where(bad, np.nan, error_nt).astype(np.float32)
    return variables


def l1_attrs(
    f: CorrectedFile,
    version: int,
    cadence_s: float,
    email: str | None,
    settings: dict[str, str] | None = None,
    file_id: str | None = None,
) -> dict[str, object]:
    """The per-file global attributes (creator_email and the operator's ACDD attributes only
    when configured: ``settings``)."""
    expected, missing = file_stats(f, cadence_s)
    attrs = coverage_attrs(f.tt.size, f.tt[0], f.tt[-1], version, email, cadence_s)
    attrs.update(
        {
            "missing_data_percentage": round(missing, 3),
            "quality_factor": quality_factor(missing),
            "expected_number_of_samples": expected,
            "l0_file": f"{f.l0.name} ({f.version})",
            "housekeeping_gaps": intervals(f.tt, f.hk_missing) or ["none"],
            "removed_samples": (
                f"saturated MAG1 {int(f.saturated['mag1'].sum())}, MAG2 "
                f"{int(f.saturated['mag2'].sum())}; spikes MAG1 "
                f"{int((f.removed['mag1'] & ~f.saturated['mag1']).sum())}, MAG2 "
                f"{int((f.removed['mag2'] & ~f.saturated['mag2']).sum())}"
            ),
            "dropped_packets": ", ".join(f"{k} {v}" for k, v in f.l0.dropped.items()) or "none",
        }
    )
    if file_id:
        attrs["id"] = file_id
    attrs.update(settings or {})
    return attrs


def preview(f: CorrectedFile, version: int = 0, simulated: bool = False) -> PlotSpec:
    """MAG1 yaw/roll/pitch against UT, as 1.024-s means (8 samples) for a light image; the
    title names spacecraft, product, version and SIMULATED."""
    n = f.tt.size // 8 * 8
    b = f.b["mag1"][:n].reshape(-1, 8, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN groups give NaN
        mean = np.nanmean(b, axis=1)
    t = f.tt[:n].reshape(-1, 8)[:, 0]
    panels = [
        PlotPanel(series={f"B_{axis}_mag1": mean[:, k]}, ylabel=f"B {axis} [nT]", colors=[c])
        for k, (axis, c) in enumerate(zip(AXES, ("tab:blue", "tab:orange", "tab:green"), strict=True))
    ]
    title = f"Aditya-L1 MAG L1 preview: MAG1, 1.024-s means, spacecraft frame  {f.l0.stem}  V{version:02d}"
    if simulated:
        title += "   SIMULATED"
    return PlotSpec(time=t, panels=panels, title=title, size_px=(1200, 800))


def l1_products(
    files: list[CorrectedFile],
    l1: ProductDefinition,
    l1_preview: ProductDefinition,
    version: int,
    cfg: L1Config,
    email: str | None,
    l1_meta: ProductDefinition | None = None,
    caldb_name: str = "",
    remark: str = "first version",
    proposal_id: str | None = None,
    settings: dict[str, str] | None = None,
    simulated: bool = False,
) -> list[Product]:
    """One L1 netCDF, its ISSDC meta-file (when ``l1_meta`` is given) and one preview PNG per
    tar, named by the tar's stem (``simulated``: the preview's title says so)."""
    products: list[Product] = []
    cadence = l1.cadence_s or CADENCE_S
    for f in files:
        fields = stem_fields(l1, f.l0.stem) or {}
        name = l1.filename.format(**fields, version=version)
        attrs = l1_attrs(f, version, cadence, email, settings, Path(name).stem)
        products.append(
            Product(
                definition=l1,
                fields=fields,
                variables=l1_variables(f, cfg.error_nt),
                attrs=attrs,
                inputs=[f.l0.name],
            )
        )
        if l1_meta is not None:
            good = ~(f.removed["mag1"] | f.removed["mag2"] | f.hk_missing)
            expected, missing = file_stats(f, cadence)
            meta = metafile.MetaInfo(
                data_name=name,
                level="L1",
                version=version,
                observation_ids=[str(fields.get("obsid", ""))],
                start=iso_z(f.tt[0]),
                stop=iso_z(f.tt[-1]),
                exposure_s=float(np.count_nonzero(good)) * cadence,
                content_type="L1 MAG1 and MAG2 magnetic field, 128 ms, SCCS",
                inputs=[f.l0.name] + ([caldb_name] if caldb_name else []),
                software=f"magfw {__version__}",
                quality=quality_factor(missing),
                remark=remark,
                proposal_id=proposal_id,
            )
            products.append(
                Product(definition=l1_meta, fields=fields, payload_from=metafile.payload_from(meta))
            )
        products.append(Product(definition=l1_preview, fields=fields, plot=preview(f, version, simulated)))
    return products


# -------------------------------------------------------------------------------- the level


def _caldb_input(ctx: UnitContext) -> InputFile:
    """The highest version of the calibration database: the archive's, or a revision made in
    this output tree by ``magfw aditya calibrate rotations`` (level ``calibrate``)."""
    found = calibration.caldb_candidates(ctx)
    if not found:
        raise MissingInputError(
            f"{ctx.archive.root}/{calibration.CALDB_DIR}", "no calibration database AL1_MAG_CALDB_Vnn.yaml"
        )
    return found[-1][1]


class L1(NoTransform, NoAverage, NoQuality):
    """The ``l1`` level object: ``fetch``, ``read``, ``calibrate``, ``correct``, ``write``."""

    def fetch(self, ctx: UnitContext) -> Inputs:
        """The day's L0 tars (highest L0 version per stem) and the highest caldb version."""
        l1 = ctx.product("l1")
        folder = day_dir(ctx.day)
        names = [f"{folder}/{n}" for n in ctx.archive.list(folder)]
        best = pick_highest_version(names, TAR_PATTERN)
        files: list[InputFile] = []
        notes: list[str] = []
        for stem, name in best.items():
            fields = stem_fields(l1, stem)
            match = TAR_PATTERN.search(name)
            if fields is None or match is None or stem_date(fields) != ctx.day:
                notes.append(f"{name}: not an L0 name of {ctx.day} (ignored)")
                continue
            files.append(InputFile.from_fetched(ctx.archive.get(name), "data", f"V{match.group('version')}"))
        if not files:
            raise MissingInputError(
                f"{ctx.archive.root}/{folder}", f"no L0 tar (<stem>_Vnn.tar) for {ctx.day}"
            )
        cal = _caldb_input(ctx)
        return Inputs(
            files=[*files, cal],
            calibration={
                "caldb": f"AL1_MAG_CALDB_{cal.version}",
                "processing": config.digest(config.PROCESSING),
            },
            selection={
                "l0": "highest version of each stem dated the day",
                "caldb": "highest version (archive or this tree)",
                "packet_layout": config.digest(DEFAULT_LAYOUT),
            },
            notes=notes,
        )

    def read(self, ctx: UnitContext, inputs: Inputs) -> L1Raw:
        layout = load_layout()
        files = [
            L0File(l0=read_l0(f.path, f.name, layout), version=f.version or "V00")
            for f in inputs.by_role("data")
        ]
        caldb = calibration.load_caldb(inputs.one("calibration").path)
        ctx.vectors += sum(2 * f.l0.obt.size for f in files)
        for f in files:
            for note in f.l0.notes:
                ctx.log.warning(note)
        return L1Raw(files=files, caldb=caldb, layout=layout)

    def calibrate(self, ctx: UnitContext, data: L1Raw) -> L1Calibrated:
        cfg = config.l1_config()
        return L1Calibrated(
            files=[calibrate_file(f, data.caldb, data.layout, cfg) for f in data.files],
            caldb_name=data.caldb.path.name,
        )

    def correct(self, ctx: UnitContext, data: L1Calibrated) -> L1Corrected:
        cfg = config.l1_config()
        return L1Corrected(files=[correct_file(f, cfg) for f in data.files], caldb_name=data.caldb_name)

    def write(self, ctx: UnitContext, data: L1Corrected) -> list[Product]:
        return l1_products(
            data.files,
            ctx.product("l1"),
            ctx.product("l1_preview"),
            ctx.version,
            config.l1_config(),
            creator_email(),
            l1_meta=ctx.product("l1_meta"),
            caldb_name=data.caldb_name,
            remark=ctx.reason or "first version",
            proposal_id=aditya_setting("proposal_id"),
            settings=acdd_settings(),
            simulated=ctx.simulated,
        )

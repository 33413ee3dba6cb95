"""Level 1: L0 tars of one UTC day -> one L1 netCDF (128 ms, SCCS, MAG1 and MAG2) and one
preview PNG per L0 tar.

Unit of work: the L0 tars whose stem date (first frame, Table 1) is the day; such a tar may
run past midnight, and its L1 file then does too (L2 combines every L1 file touching a day).

The level object :class:`L1` implements the steps this level needs; each is a pure function of
the previous stage's object::

    fetch -> Inputs -> read -> L1Raw -> calibrate -> L1Calibrated -> correct -> L1Corrected
          -> write -> [Product]

``read`` decodes the tars (duplicated packets dropped and counted, the on-board clock's jumps
found from the packet stamps: :mod:`magfw_aditya.clock`); ``calibrate`` converts OBT to UT with
each tar's TCT, split at the clock jumps (:func:`magfw_aditya.tct.segment_times`; samples
whose time cannot be trusted are marked), and counts to nT with the caldb entry valid on each
sample's date, at the HK temperatures; ``correct`` removes saturated samples and spikes
(flagged there); ``write`` builds the products: samples without housekeeping and samples whose
time cannot be trusted are listed as UT intervals (``housekeeping_gaps``, ``time_untrusted``),
counted as bad and left out by L2 (:mod:`magfw_aditya.l1products`; the stages are in
:mod:`magfw_aditya.l1stages`). L1 stays in SCCS at the sensors' own 128 ms, so there is no
``transform`` or ``average``, and its flags are set where the samples are judged, so there is
no ``quality``.
"""

from __future__ import annotations

import numpy as np

from magfw.api import (
    InputFile,
    Inputs,
    MissingInputError,
    NoAverage,
    NoQuality,
    NoTransform,
    Product,
    UnitContext,
    pick_highest_version,
    time,
)
from magfw_aditya import calibration, config, despike
from magfw_aditya.common import SENSORS, acdd_settings, aditya_setting, creator_email
from magfw_aditya.config import L1Config
from magfw_aditya.l0 import TAR_PATTERN, L0Data, day_dir, read_l0, stem_date, stem_fields
from magfw_aditya.l1products import l1_products
from magfw_aditya.l1stages import (
    CalibratedFile,
    CorrectedFile,
    L0File,
    L1Calibrated,
    L1Corrected,
    L1Raw,
)
from magfw_aditya.packets import DEFAULT_LAYOUT, Layout, load_layout
from magfw_aditya.tct import segment_times

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
    sci = layout.packets["science"].extra
    limit = int(sci["saturation_counts"])
    period = int(sci["samples_per_packet"]) * float(sci["sample_period_s"])
    timed = segment_times(f.l0.tct, f.l0.obt, f.l0.segment, f.l0.jumps, period, max_extra)
    tt = timed.tt
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
    return CalibratedFile(
        l0=f.l0,
        version=f.version,
        tt=tt,
        b=b,
        saturated=saturated,
        hk_missing=hk_missing,
        time_untrusted=timed.untrusted,
        time_notes=tuple(timed.notes),
    )


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
        time_untrusted=f.time_untrusted,
        time_notes=f.time_notes,
    )


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

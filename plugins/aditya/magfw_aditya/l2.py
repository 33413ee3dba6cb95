"""Level 2: every L1 file touching a UTC day -> the daily 10-s IMF in GSE and GSM
(``L2_AL1_MAG_YYYYMMDD_Vmn.nc``), its XML metadata and the outreach PNG.

The level object :class:`L2` implements the steps this level needs; each is a pure function of
the previous stage's object (``calibrate`` is absent: L1 is calibrated)::

    fetch -> Inputs -> read -> L2Read -> correct -> L2Corrected -> transform -> L2Transformed
          -> average -> L2Averaged -> quality -> L2Qualified -> write -> [Product]

``fetch`` finds the newest L1 product of each L0 stem touching the day in the output tree, and
the SPICE kernels (:mod:`magfw_aditya.l2inputs`); ``read`` joins the L1 samples of the day
(with ``PAD_S`` either side); ``correct`` removes the spacecraft field (dual magnetometer),
median-filters and sets the per-sample flags that decide which samples the averages take (GTI,
housekeeping, calibration manoeuvres); ``transform`` rotates the good samples SCCS -> GSE and
GSM with the attitude CK and gives the spacecraft positions; ``average`` makes the 8640 10-s
bins (stamp = bin start); ``quality`` the ``missing_data_percentage`` and the quality factor
(:mod:`magfw_aditya.l2steps`); ``write`` the four products (:mod:`magfw_aditya.l2products`).
L1 is calibrated, so there is no ``calibrate`` step. The stages are in
:mod:`magfw_aditya.l2stages`.

GSM is magfw's GSM with the IGRF-14 dipole of date, or with ``--gsm-dipole fixed2000`` the
frame ``GSM_FIXED2000`` (the fixed 2000.0 pole of the public Aditya frames kernel), defined in
the plugin's frames kernel ``data/al1_magfw_gsm_v01.tf``, which is then a kernel input.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np

from magfw.api import (
    InputError,
    Inputs,
    MissingInputError,
    NoCalibrate,
    Product,
    UnitContext,
    __version__,
    date_fields,
    read_netcdf,
    time,
)
from magfw_aditya import calops, config, metafile
from magfw_aditya.common import (
    AXES,
    FILL,
    NS,
    SENSORS,
    acdd_settings,
    aditya_setting,
    creator_email,
    iso_z,
)
from magfw_aditya.l2inputs import find_l1, gsm_frame, kernel_inputs, l1_caldbs, ops_input
from magfw_aditya.l2products import l1_obsid, l2_attrs, l2_variables, outreach
from magfw_aditya.l2stages import (
    CALIBRATION_REASON,
    GSM_TEXT,
    PAD_S,
    DaySetup,
    L2Averaged,
    L2Corrected,
    L2Qualified,
    L2Read,
    L2Transformed,
)
from magfw_aditya.l2steps import average_day, correct_day, hk_intervals, qualify, transform_day
from magfw_aditya.metadata import l2_metadata_xml


class L2(NoCalibrate):
    """The ``l2`` level object: every step but ``calibrate`` (see the module notes)."""

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

    def read(self, ctx: UnitContext, inputs: Inputs) -> L2Read:
        t0, t1 = (int(x) for x in time.day_bounds_tt2000(ctx.day.isoformat()))
        lo, hi = t0 - int(PAD_S * NS), t1 + int(PAD_S * NS)
        tts, b1s, b2s, gaps, untrusted = [], [], [], [], []
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
            untrusted.append(hk_intervals(d.global_attrs.get("time_untrusted", "none"), f.path))
        tt = np.concatenate(tts)
        order = np.argsort(tt, kind="stable")
        tt = tt[order]
        keep = np.r_[True, np.diff(tt) > 0]  # overlapping files: first wins
        ctx.vectors += 2 * int(keep.sum())
        ops = [m for f in inputs.by_role("operations") for m in calops.load_ops(f.path)]
        setup = DaySetup(
            day=ctx.day,
            t0=t0,
            t1=t1,
            inputs=tuple(inputs.files),
            kernels=tuple(f.path for f in inputs.by_role("kernel")),
            gsm_frame=gsm_frame(ctx),
            calibration=calops.intervals(ops),
        )
        return L2Read(
            setup=setup,
            tt=tt[keep],
            b1=np.concatenate(b1s)[order][keep],
            b2=np.concatenate(b2s)[order][keep],
            hk_gaps=np.concatenate(gaps),
            time_untrusted=np.concatenate(untrusted),
        )

    def correct(self, ctx: UnitContext, data: L2Read) -> L2Corrected:
        return correct_day(data, config.l2_config(), dual=bool(ctx.options.get("dual_magnetometer")))

    def transform(self, ctx: UnitContext, data: L2Corrected) -> L2Transformed:
        return transform_day(data, config.l2_config().bin_s)

    def average(self, ctx: UnitContext, data: L2Transformed) -> L2Averaged:
        return average_day(data)

    def quality(self, ctx: UnitContext, data: L2Averaged) -> L2Qualified:
        return qualify(data, config.l2_config().min_good_fraction)

    def write(self, ctx: UnitContext, data: L2Qualified) -> list[Product]:
        """The netCDF, its ISSDC meta-file, the provenance XML and the outreach image; the
        runner fills the date and version fields of their names."""
        d = ctx.product("l2")
        b = data.bins
        missing, qf = data.missing_percent, data.quality_factor
        name = d.filename.format(**date_fields(b.setup.day), version=ctx.version)
        gsm = GSM_TEXT[b.setup.gsm_frame]
        remark = ctx.reason or "first version"
        if data.calibration:
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
            exposure_s=float(np.count_nonzero(data.flag)) * float(b.start[1] - b.start[0]) / NS,
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
                variables=l2_variables(data, config.l2_config().error_nt),
                attrs=l2_attrs(data, ctx.version, creator_email(), acdd_settings(), Path(name).stem),
            ),
            Product(definition=ctx.product("l2_meta"), payload_from=metafile.payload_from(meta)),
            Product(definition=ctx.product("l2_metadata"), payload=xml),
            Product(
                definition=ctx.product("l2_outreach"),
                plot=outreach(data, ctx.version, ctx.simulated),
            ),
        ]

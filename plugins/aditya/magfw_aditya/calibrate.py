"""Level ``calibrate``: sensor offsets from a spacecraft rotation manoeuvre -> a new caldb
revision (``magfw aditya calibrate rotations DAY``; MAG manual section 7).

Unit of work: a UTC day with a manoeuvre in the calibration operations record. Through the
runner like every level, so the new caldb is committed and recorded, never written by hand::

    fetch -> Inputs -> read -> CalSamples -> calibrate -> CalFits -> write -> [caldb revision,
          report]

``read`` takes the L1 samples of both sensors inside the manoeuvre; ``calibrate`` fits each
sensor's offsets by least squares (:mod:`magfw_aditya.rotcal`): the field outside is constant
in J2000 while the sensors turn, so the attitude of each sample (J2000 -> SCCS, from the CK) is
an input of the fit and is evaluated there -- no data are rotated into another frame, hence no
``transform`` step; ``write`` the caldb revision (the base caldb with the entry valid on the
day split there: new offsets from the day on) and the report. The L1 samples are corrected
already and nothing is flagged or averaged, so there is no ``correct``, ``average`` or
``quality`` step.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from magfw.api import (
    Inputs,
    MissingInputError,
    NoAverage,
    NoCorrect,
    NoQuality,
    NoTransform,
    Product,
    UnitContext,
    frames,
    kernels,
    read_netcdf,
    time,
)
from magfw_aditya import calibration, calops, l2inputs, rotcal, spice
from magfw_aditya.calibration import caldb_candidates
from magfw_aditya.common import AXES, FILL, NS, SENSORS

#: A window of the least-squares fit: one turn at the simulator's 3 deg/s.
WINDOW_S = 120.0


@dataclass(frozen=True, kw_only=True)
class CalSamples:
    day: date
    manoeuvre: calops.Manoeuvre
    tt: np.ndarray  #: (N,) int64 TT2000 inside the manoeuvre
    b: dict[str, np.ndarray]  #: sensor -> (N, 3) nT SCCS (NaN removed)
    caldb: calibration.CalDB
    caldb_raw: dict[str, Any]  #: the base caldb as read (YAML)
    kernels: tuple[Path, ...]
    next_version: int  #: the caldb version to write


@dataclass(frozen=True, kw_only=True)
class CalFits:
    samples: CalSamples
    fits: dict[str, rotcal.OffsetFit]


def revised_caldb(
    raw: dict[str, Any],
    caldb: calibration.CalDB,
    day: date,
    fits: dict[str, rotcal.OffsetFit],
    version: str,
    comment: str,
) -> dict[str, Any]:
    """The base caldb with each sensor's entry valid on ``day`` split at it: the old offsets up
    to the day before, offset + misalignment^-1 @ net offset from ``day`` to the entry's end."""
    sensors: dict[str, list[dict[str, Any]]] = {}
    out: dict[str, Any] = {
        "format": calibration.FORMAT,
        "version": version,
        "comment": comment,
        "rotation_manoeuvre": day.isoformat(),
        "sensors": sensors,
    }
    for sensor in calibration.SENSORS:
        entry = caldb.entry_for(sensor, day)
        items = []
        for item in raw["sensors"][sensor]:
            f = date.fromisoformat(str(item["valid_from"]))
            t = date.fromisoformat(str(item["valid_to"]))
            if not f <= day <= t:
                items.append(item)
                continue
            if f < day:
                items.append({**copy.deepcopy(item), "valid_to": (day - timedelta(days=1)).isoformat()})
            delta = np.linalg.solve(entry.misalignment, fits[sensor.lower()].offset)
            new = copy.deepcopy(item)
            new["valid_from"] = day.isoformat()
            new["offset_nT"] = [round(float(x), 4) for x in entry.offset + delta]
            items.append(new)
        sensors[sensor] = items
    return out


def report(s: CalSamples, fits: dict[str, rotcal.OffsetFit], caldb_name: str) -> dict[str, Any]:
    iso = time.tt2000_to_iso(np.array([s.manoeuvre.start, s.manoeuvre.end]), 1_000_000)
    return {
        "manoeuvre": {"start": f"{iso[0]}Z", "end": f"{iso[1]}Z", "axes": list(s.manoeuvre.axes)},
        "method": "least squares: window field constant (one turn), offset linear in time "
        "(magfw_aditya.rotcal)",
        "base_caldb": s.caldb.path.name,
        "caldb_written": caldb_name,
        "sensors": {
            sensor: {
                "net_offset_nT_sccs": [round(float(x), 4) for x in f.offset],
                "sigma_nT": [round(float(x), 4) for x in f.sigma],
                "drift_nT_per_hour": [round(float(x) * 3600, 4) for x in f.drift],
                "residual_rms_nT": round(f.residual_rms, 4),
                "windows": f.windows,
                "windows_dropped": f.dropped,
                "samples": f.samples,
            }
            for sensor, f in fits.items()
        },
    }


class Calibrate(NoCorrect, NoTransform, NoAverage, NoQuality):
    """The ``calibrate`` level object: ``fetch``, ``read``, ``calibrate``, ``write``."""

    def fetch(self, ctx: UnitContext) -> Inputs:
        ops = l2inputs.ops_input(ctx)
        if not ops:
            record = f"{calops.OPS_DIR}/AL1_MAG_CALIBRATION_OPS_Vnn.yaml"
            return Inputs(skip_reason=f"no calibration operations record {record} in {ctx.archive.root}")
        mans = [m for f in ops for m in calops.load_ops(f.path) if m.day == ctx.day]
        if not mans:
            return Inputs(
                skip_reason=f"no calibration manoeuvre on {ctx.day} in the calibration operations record"
            )
        found = l2inputs.find_l1(ctx)
        if not found:
            raise MissingInputError(ctx.out_dir, f"no L1 file touches {ctx.day}")
        files = [ctx.product_input(f, "l1") for f in found]
        kernel_files, kernel_set = l2inputs.kernel_inputs(ctx, "GSM")
        base = caldb_candidates(ctx, before=ctx.day)
        if not base:
            raise MissingInputError(
                f"{ctx.archive.root}/{calibration.CALDB_DIR}",
                "no calibration database AL1_MAG_CALDB_Vnn.yaml",
            )
        cal = base[-1][1]
        return Inputs(
            files=[*files, *kernel_files, *ops, cal],
            calibration={"base_caldb": cal.name, "window_s": str(WINDOW_S)},
            kernels=kernel_set,
            selection={"caldb": "highest version made before the manoeuvre"},
        )

    def read(self, ctx: UnitContext, inputs: Inputs) -> CalSamples:
        ops = [m for f in inputs.by_role("operations") for m in calops.load_ops(f.path) if m.day == ctx.day]
        man = ops[0]
        tts: list[np.ndarray] = []
        bs: dict[str, list[np.ndarray]] = {s: [] for s in SENSORS}
        for f in inputs.by_role("l1"):
            d = read_netcdf(f.path)
            tt = np.asarray(time.tt2000_from_unix(d.variables["time"]), dtype=np.int64)
            sel = (tt >= man.start) & (tt <= man.end)
            tts.append(tt[sel])
            for s in SENSORS:
                b = np.stack([d.variables[f"B_{a}_{s}"][sel] for a in AXES], 1).astype(float)
                b[b == FILL] = np.nan
                bs[s].append(b)
        tt = np.concatenate(tts)
        order = np.argsort(tt, kind="stable")
        keep = np.r_[True, np.diff(tt[order]) > 0]
        idx = order[keep]
        cal_file = inputs.one("calibration")
        existing = [v for v, _ in caldb_candidates(ctx)]
        ctx.vectors += 2 * int(idx.size)
        return CalSamples(
            day=ctx.day,
            manoeuvre=man,
            tt=tt[idx],
            b={s: np.concatenate(bs[s])[idx] for s in SENSORS},
            caldb=calibration.load_caldb(cal_file.path),
            caldb_raw=yaml.safe_load(cal_file.path.read_text()),
            kernels=tuple(f.path for f in inputs.by_role("kernel")),
            next_version=max(existing, default=-1) + 1,
        )

    def calibrate(self, ctx: UnitContext, data: CalSamples) -> CalFits:
        """Each sensor's offsets from the manoeuvre, the attitude of every sample from the CK."""
        et = time.tt2000_to_et(np.array([data.tt[0] - 600 * NS, data.tt[-1] + 600 * NS]))
        chosen = kernels.select_kernels(
            list(data.kernels), float(et[0]), float(et[1]), bodies=[spice.SPACECRAFT], ck_ids=[spice.CK_ID]
        )
        with kernels.kernel_pool(chosen):
            attitude = np.asarray(frames.rotation_matrices(data.tt, "J2000", spice.FRAME))
        ts = (data.tt - data.tt[0]) / 1e9
        fits = {sensor: rotcal.fit_offsets(ts, attitude, data.b[sensor], WINDOW_S) for sensor in SENSORS}
        return CalFits(samples=data, fits=fits)

    def write(self, ctx: UnitContext, data: CalFits) -> list[Product]:
        s = data.samples
        version = f"V{s.next_version:02d}"
        name = f"AL1_MAG_CALDB_{version}.yaml"
        doc = revised_caldb(
            s.caldb_raw,
            s.caldb,
            s.day,
            data.fits,
            version,
            f"offsets from the rotation manoeuvre of {s.day} (magfw aditya "
            f"calibrate rotations), base {s.caldb.path.name}",
        )
        text = yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=100)
        rep = yaml.safe_dump(report(s, data.fits, name), sort_keys=False, width=100)
        ctx.note(f"wrote caldb {version} valid from {s.day}")
        return [
            Product(
                definition=ctx.product("caldb_revision"),
                fields={"cal": s.next_version},
                payload=text.encode(),
            ),
            Product(definition=ctx.product("rotation_calibration"), payload=rep.encode()),
        ]

"""The versioned MAG calibration database (caldb) and the counts -> nT conversion.

A caldb is one YAML file per version in the archive, ``caldb/AL1_MAG_CALDB_Vnn.yaml``; the
highest version wins. Per sensor it holds a list of entries, each valid for a range of UTC
dates (inclusive), with (per axis yaw, roll, pitch of the sensor):

- ``scale_nT_per_count`` (3): gain at the reference temperature;
- ``scale_tc_per_C`` (3): relative gain change per degC of sensor temperature;
- ``offset_nT`` (3): zero offset at the reference temperatures;
- ``offset_tc_nT_per_C`` (3): offset change per degC of sensor temperature;
- ``electronics_offset_tc_nT_per_C`` (3): offset change per degC of electronics temperature;
- ``reference_temperature_C``, ``electronics_reference_temperature_C``;
- ``misalignment`` (3x3): rotates the sensor axes into the spacecraft frame (SCCS yaw, roll,
  pitch), including non-orthogonality.

Model (Ts sensor, Te electronics temperature)::

    b_sensor = counts * scale * (1 + scale_tc (Ts - T0)) - (offset + offset_tc (Ts - T0)
                                                             + electronics_offset_tc (Te - Te0))
    B_sccs   = misalignment @ b_sensor
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from magfw.api import InputError, InputFile, MissingInputError, UnitContext
from magfw_aditya.common import read_yaml

CALDB_DIR = "caldb"
CALDB_PATTERN = re.compile(r"(?P<key>AL1_MAG_CALDB)_V(?P<version>\d{2})\.yaml$")
FORMAT = "magfw-aditya-caldb/1"
SENSORS = ("MAG1", "MAG2")
_VEC = (
    "scale_nT_per_count",
    "scale_tc_per_C",
    "offset_nT",
    "offset_tc_nT_per_C",
    "electronics_offset_tc_nT_per_C",
)


@dataclass(frozen=True, kw_only=True)
class CalEntry:
    """Calibration of one sensor over [valid_from, valid_to] (UTC dates, inclusive)."""

    sensor: str
    valid_from: date
    valid_to: date
    scale: np.ndarray
    scale_tc: np.ndarray
    offset: np.ndarray
    offset_tc: np.ndarray
    electronics_offset_tc: np.ndarray
    t_ref: float
    te_ref: float
    misalignment: np.ndarray

    def apply(self, counts: np.ndarray, ts: np.ndarray, te: np.ndarray) -> np.ndarray:
        """Counts (N,3) at sensor/electronics temperatures (N,) -> B (N,3) nT in SCCS."""
        dts = (ts - self.t_ref)[:, None]
        dte = (te - self.te_ref)[:, None]
        b = counts * self.scale * (1.0 + self.scale_tc * dts)
        b -= self.offset + self.offset_tc * dts + self.electronics_offset_tc * dte
        out: np.ndarray = b @ self.misalignment.T
        return out

    def counts_of(self, b_sccs: np.ndarray, ts: np.ndarray, te: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`apply` (float counts, before rounding): used by the simulator."""
        dts = (ts - self.t_ref)[:, None]
        dte = (te - self.te_ref)[:, None]
        b = b_sccs @ np.linalg.inv(self.misalignment).T
        b += self.offset + self.offset_tc * dts + self.electronics_offset_tc * dte
        return b / (self.scale * (1.0 + self.scale_tc * dts))


@dataclass(frozen=True, kw_only=True)
class CalDB:
    """A loaded calibration database: its version and every entry per sensor."""

    path: Path
    version: str
    entries: dict[str, list[CalEntry]]

    def entry_for(self, sensor: str, day: date) -> CalEntry:
        """The entry valid on ``day``; MissingInputError naming the caldb when none is."""
        for e in self.entries.get(sensor, []):
            if e.valid_from <= day <= e.valid_to:
                return e
        spans = ", ".join(f"{e.valid_from}..{e.valid_to}" for e in self.entries.get(sensor, []))
        raise MissingInputError(
            self.path, f"no {sensor} calibration valid for {day} (entries cover {spans or 'nothing'})"
        )


def _vec(raw: dict[str, Any], key: str, where: Path, label: str) -> np.ndarray:
    try:
        v = np.asarray(raw[key], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(where, f"{label}: missing or non-numeric {key}") from exc
    if v.shape != (3,) or not np.isfinite(v).all():
        raise InputError(where, f"{label}: {key} must be 3 finite numbers")
    return v


def _date(value: Any, where: Path, label: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise InputError(where, f"{label}: {value!r} is not a date YYYY-MM-DD") from exc


def load_caldb(path: Path) -> CalDB:
    """Read and validate a caldb YAML; any defect is one InputError line naming the file."""
    raw = read_yaml(path, "calibration database")
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise InputError(path, f"not a calibration database (format must be {FORMAT!r})")
    entries: dict[str, list[CalEntry]] = {}
    for sensor in SENSORS:
        items = (raw.get("sensors") or {}).get(sensor)
        if not items:
            raise InputError(path, f"no entries for {sensor}")
        out = []
        for i, item in enumerate(items):
            label = f"{sensor} entry {i}"
            m = np.asarray(item.get("misalignment"), dtype=np.float64)
            if m.shape != (3, 3) or abs(np.linalg.det(m)) < 0.5:
                raise InputError(path, f"{label}: misalignment must be an invertible 3x3 matrix")
            v = {k: _vec(item, k, path, label) for k in _VEC}
            if np.any(v["scale_nT_per_count"] <= 0):
                raise InputError(path, f"{label}: scale_nT_per_count must be positive")
            out.append(
                CalEntry(
                    sensor=sensor,
                    valid_from=_date(item.get("valid_from"), path, label),
                    valid_to=_date(item.get("valid_to"), path, label),
                    scale=v["scale_nT_per_count"],
                    scale_tc=v["scale_tc_per_C"],
                    offset=v["offset_nT"],
                    offset_tc=v["offset_tc_nT_per_C"],
                    electronics_offset_tc=v["electronics_offset_tc_nT_per_C"],
                    t_ref=float(item["reference_temperature_C"]),
                    te_ref=float(item["electronics_reference_temperature_C"]),
                    misalignment=m,
                )
            )
        entries[sensor] = out
    return CalDB(path=Path(path), version=str(raw.get("version", "")), entries=entries)


def dump_caldb(version: str, entries: dict[str, list[dict[str, Any]]], comment: str = "") -> str:
    """YAML text of a caldb (the simulator writes its database with this)."""
    doc = {
        "format": FORMAT,
        "version": version,
        "comment": comment,
        "sensors": {s: entries[s] for s in SENSORS},
    }
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=100)


def calibrate_counts(
    cal: CalDB, sensor: str, days: np.ndarray, counts: np.ndarray, ts: np.ndarray, te: np.ndarray
) -> np.ndarray:
    """B (N,3) nT in SCCS for counts of ``sensor`` at UTC dates ``days`` (datetime64[D]); each
    sample uses the entry valid on its date (MissingInputError if none)."""
    out = np.empty(counts.shape, dtype=np.float64)
    for d in np.unique(days):
        sel = days == d
        entry = cal.entry_for(sensor, d.astype(object))
        out[sel] = entry.apply(counts[sel].astype(np.float64), ts[sel], te[sel])
    return out


def caldb_candidates(ctx: UnitContext, before: date | None = None) -> list[tuple[int, InputFile]]:
    """Every caldb version: the archive's, and the revisions in the output tree (those made
    from a manoeuvre before ``before``, when given)."""
    out: list[tuple[int, InputFile]] = []
    if ctx.archive.exists(CALDB_DIR):
        for name in ctx.archive.list(CALDB_DIR):
            m = CALDB_PATTERN.search(name)
            if m:
                f = ctx.archive.get(f"{CALDB_DIR}/{name}")
                out.append(
                    (
                        int(m.group("version")),
                        InputFile.from_fetched(f, "calibration", f"V{m.group('version')}"),
                    )
                )
    for found in ctx.find_products(ctx.mission.id, "caldb_revision"):
        v = int(found.fields["cal"])
        if before is not None:
            raw = yaml.safe_load(found.path.read_text()) or {}
            made = raw.get("rotation_manoeuvre")
            if made and date.fromisoformat(str(made)) >= before:
                continue
        out.append((v, replace(ctx.product_input(found, "calibration"), version=f"V{v:02d}")))
    return sorted(out, key=lambda x: x[0])

"""The calibration operations record: when the spacecraft made rotation manoeuvres for the
MAG calibration (MAG manual section 7: "rotations of the spacecraft about the orthogonal axes
of the spacecraft coordinate system ... datasets generated during the calibration interval are
not made available for dissemination").

One YAML file per version in the archive, ``ops/AL1_MAG_CALIBRATION_OPS_Vnn.yaml`` (ours; the
highest version wins)::

    format: magfw-aditya-calibration-ops/1
    manoeuvres:
      - {start: "2024-08-10T06:00:00", end: "2024-08-10T06:36:00", kind: rotation,
         axes: [yaw, roll, pitch]}

L2 leaves every bin touching a manoeuvre out (fill, flag 0, the reason in its attributes); the
level ``calibrate`` derives the sensors' offsets from the L1 samples of each manoeuvre.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import yaml

from magfw.api import InputError, time
from magfw_aditya.common import read_yaml

OPS_DIR = "ops"
OPS_PATTERN = re.compile(r"(?P<key>AL1_MAG_CALIBRATION_OPS)_V(?P<version>\d{2})\.yaml$")
FORMAT = "magfw-aditya-calibration-ops/1"


@dataclass(frozen=True, kw_only=True)
class Manoeuvre:
    start: int  #: TT2000
    end: int  #: TT2000
    kind: str
    axes: tuple[str, ...]

    @property
    def day(self) -> date:
        return date.fromisoformat(str(time.utc_day_of(np.array([self.start]))[0]))


def load_ops(path: Path) -> list[Manoeuvre]:
    """Read an operations record; a defect is one InputError line naming the file."""
    raw = read_yaml(path, "calibration operations record")
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise InputError(path, f"not a calibration operations record (format must be {FORMAT!r})")
    out = []
    for i, m in enumerate(raw.get("manoeuvres") or []):
        try:
            tt = np.asarray(time.tt2000_from_iso(np.array([str(m["start"]), str(m["end"])])), dtype=np.int64)
        except Exception as exc:  # noqa: BLE001 - any bad entry is the file's defect
            raise InputError(path, f"manoeuvre {i}: bad start/end: {exc}") from exc
        if tt[1] <= tt[0]:
            raise InputError(path, f"manoeuvre {i}: end is not after start")
        out.append(
            Manoeuvre(
                start=int(tt[0]),
                end=int(tt[1]),
                kind=str(m.get("kind", "rotation")),
                axes=tuple(str(a) for a in m.get("axes", ())),
            )
        )
    return out


def dump_ops(manoeuvres: list[dict[str, object]]) -> str:
    return yaml.safe_dump(
        {"format": FORMAT, "manoeuvres": manoeuvres}, sort_keys=False, default_flow_style=None, width=100
    )


def intervals(manoeuvres: list[Manoeuvre]) -> np.ndarray:
    """(M, 2) int64 TT2000 [start, end] of the manoeuvres."""
    if not manoeuvres:
        return np.empty((0, 2), dtype=np.int64)
    return np.array([[m.start, m.end] for m in manoeuvres], dtype=np.int64)

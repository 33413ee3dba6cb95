"""What the L1 and L2 products share: sensor axes, the fill value, time stamps as the real
files write them, the product version text, the mission's settings (creator e-mail...) and
reading the YAML records (calibration database, operations record)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from magfw.api import InputError, MissionSettings, time

MISSION = "aditya"
SENSORS = ("mag1", "mag2")
AXES = ("yaw", "roll", "pitch")
FILL = -9999.0  # the definitions' fill, as read back from L1 files (writes use NaN)
NS = 1_000_000_000


#: ACDD global attributes only the operator knows, taken from ``[missions.aditya]`` of
#: magfw.toml when configured (the products carry none of them otherwise: never a placeholder;
#: ``magfw check`` names the ACDD attributes a file lacks).
ACDD_SETTINGS = (
    "naming_authority",
    "institution",
    "license",
    "acknowledgement",
    "creator_name",
    "creator_url",
    "creator_type",
    "creator_institution",
    "publisher_email",
    "publisher_type",
    "publisher_institution",
    "references",
)


class AdityaSettings(MissionSettings):
    """``[missions.aditya]``: the core's keys, and the attributes the products carry when they
    are configured (left out otherwise, never a placeholder)."""

    source_roles = ("upstream",)  # ``aditya compare``: DSCOVR and ACE files
    creator_email: str | None = None
    proposal_id: str | None = None  #: the ISSDC meta-files' proposal id
    # the ACDD attributes only the operator knows (ACDD_SETTINGS)
    naming_authority: str | None = None
    institution: str | None = None
    license: str | None = None
    acknowledgement: str | None = None
    creator_name: str | None = None
    creator_url: str | None = None
    creator_type: str | None = None
    creator_institution: str | None = None
    publisher_email: str | None = None
    publisher_type: str | None = None
    publisher_institution: str | None = None
    references: str | None = None


def aditya_setting(key: str) -> str | None:
    """``[missions.aditya] KEY`` of magfw.toml (one of :class:`AdityaSettings`), None when not
    configured."""
    value = getattr(AdityaSettings.configured(MISSION), key)
    return str(value) if value else None


def creator_email() -> str | None:
    """``[missions.aditya] creator_email`` of magfw.toml; None when it is not configured (the
    products then carry no creator_email)."""
    return aditya_setting("creator_email")


def acdd_settings() -> dict[str, str]:
    """The configured ACDD attributes among :data:`ACDD_SETTINGS` (only those set)."""
    return {k: v for k in ACDD_SETTINGS if (v := aditya_setting(k))}


def read_yaml(path: Path, what: str) -> object:
    """A YAML record's contents; a file that is not UTF-8 YAML is one InputError line naming it
    (``not a readable WHAT: ...``)."""
    try:
        return yaml.safe_load(Path(path).read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})"
        raise InputError(path, f"not a readable {what}: {problem}") from None
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(path, f"not a readable {what}: {' '.join(str(exc).split())}") from exc


def iso_z(tt: np.ndarray | np.int64) -> str:
    """ISO 8601 UTC with milliseconds and Z, as the real files' time_coverage_*."""
    return str(time.tt2000_to_iso(np.array([tt], dtype=np.int64), precision_ns=1_000_000)[0]) + "Z"


def coverage_attrs(
    n: int, first: np.int64, last: np.int64, version: int, email: str | None, cadence_s: float
) -> dict[str, object]:
    """The per-file attributes L1 and L2 share: sample count, time coverage (its ACDD duration:
    the first sample's start to the last sample's end, ``cadence_s`` after its stamp), version
    and (when configured) the creator's e-mail."""
    duration_ms = int(round((int(last) - int(first)) / 1e6 + cadence_s * 1000))
    attrs: dict[str, object] = {
        "number_of_samples": int(n),
        "time_coverage_start": iso_z(first),
        "time_coverage_end": iso_z(last),
        "time_coverage_duration": f"PT{duration_ms // 1000}.{duration_ms % 1000:03d}S",
        "product_version": product_version(version),
    }
    if email:
        attrs["creator_email"] = email
    return attrs


def product_version(version: int) -> str:
    """``V_00``: the real files' product_version attribute."""
    return f"V_{version:02d}"

"""What the L1 and L2 products share: sensor axes, the fill value, time stamps as the real
files write them, the product version text and the creator e-mail."""

from __future__ import annotations

import numpy as np

from magfw.api import MagfwError, mission_setting, time

MISSION = "aditya"
SENSORS = ("mag1", "mag2")
AXES = ("yaw", "roll", "pitch")
FILL = -9999.0  # the definitions' fill, as read back from L1 files (writes use NaN)
NS = 1_000_000_000


def creator_email() -> str | None:
    """``[missions.aditya] creator_email`` of magfw.toml; None when it is not configured (the
    products then carry no creator_email) or magfw.toml cannot be read."""
    try:
        value = mission_setting(MISSION, "creator_email")
    except MagfwError:  # a broken magfw.toml must not fail products
        return None
    return str(value) if value else None


def iso_z(tt: np.ndarray | np.int64) -> str:
    """ISO 8601 UTC with milliseconds and Z, as the real files' time_coverage_*."""
    return str(time.tt2000_to_iso(np.array([tt], dtype=np.int64), precision_ns=1_000_000)[0]) + "Z"


def product_version(version: int) -> str:
    """``V_00``: the real files' product_version attribute."""
    return f"V_{version:02d}"

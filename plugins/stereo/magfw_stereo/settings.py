"""What STEREO reads from ``magfw.toml``: ``[missions.stereo]`` (the core's keys only), its
source roles, and its e-mail events and settings under ``[notify]``."""

from __future__ import annotations

from magfw.api import MissionSettings
from magfw_stereo.layout import ROLE_ROOT


class StereoSettings(MissionSettings):
    """``[missions.stereo]``: ``source``, ``sources`` by role and ``default_period``."""

    source_roles = tuple(ROLE_ROOT)
    notify_events = ("stereo_offsets_needed", "stereo_delivery", "stereo_web_copy")
    notify_settings = ("stereo_download_url", "stereo_web_root")

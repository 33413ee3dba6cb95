"""What PLASTIC reads from ``magfw.toml``: ``[missions.plastic] vnum``, and its e-mail events
and settings under ``[notify]``."""

from __future__ import annotations

from pydantic import Field

from magfw.api import MissionSettings


class PlasticSettings(MissionSettings):
    """``[missions.plastic]``: the core's keys and ``vnum``."""

    source_roles = ()  # one archive: PLASTIC's tree (MAG comes from the output tree)
    notify_events = ("plastic_delivery", "plastic_web_copy")
    notify_settings = ("plastic_download_url", "plastic_web_root")

    #: the PLASTIC file version every ``daily`` unit reads when ``--vnum`` is not given
    #: (None: the highest version of each day)
    vnum: int | None = Field(default=None, ge=0)

"""Where things go and how: ``magfw.toml``, the output tree and per-mission settings.

The output directory is, in order: ``--out``; ``MAGFW_DATA``; ``out`` in ``./magfw.toml``;
``./magfw-data``. ``magfw.toml`` also holds the download settings, e-mail and per-mission
settings::

    out = "/data/magfw"
    [fetch]
    deadline_s = 600                  # seconds one file may take to download, in all
    [missions.stereo]
    source = "/archive/berkeley"      # default --source for this mission
    [missions.stereo.sources]         # sources by role (--source ROLE=...)
    spice = "https://soho.nascom.nasa.gov/solarsoft/stereo/gen/data/spice"

Each section is a typed model (:mod:`magfw.config.sections`); the file is validated whole
before a command works (:mod:`magfw.config.load`): an unknown key or a wrong type is one line
naming the file, line and key, exit 2.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from magfw.config.load import CONFIG_FILE, Configuration, did_you_mean, load_config
from magfw.config.sections import FetchSettings, MagfwConfig, MissionSettings, NotifySection
from magfw.errors import UsageError

if TYPE_CHECKING:
    from magfw.plugin.mission import Mission

DEFAULT_OUT = "magfw-data"
STATE_DIR = ".magfw"  # inside the output tree: ledger, logs, caches, staging


def resolve_out_dir(out: str | Path | None, config: MagfwConfig | None = None) -> Path:
    """The output tree for this run (see the module docstring for the order)."""
    if out is not None:
        return Path(out)
    if os.environ.get("MAGFW_DATA"):
        return Path(os.environ["MAGFW_DATA"])
    config = load_config() if config is None else config
    return Path(config.out or DEFAULT_OUT)


def mission_settings(mission: Mission, config: Configuration | None = None) -> MissionSettings:
    """``[missions.<id>]`` of ``magfw.toml`` validated by the mission's settings model."""
    return (config or load_config()).mission_table(mission.id, mission.settings)


_ROLE = re.compile(r"^([a-z][a-z0-9_]*)=(.+)$")


def resolve_sources(
    given: list[str], settings: MissionSettings, mission: str, default: str | None = None
) -> tuple[str | None, dict[str, str]]:
    """The default source and the sources by role of a run.

    ``given`` are the ``--source`` values: a plain directory, URL or ``simulated`` (at most
    one), or ``ROLE=DIR|URL`` for one role (``spice=https://...``; a mission that names its
    roles refuses others). What is not given comes from the mission's ``settings``
    (``[missions.<id>] source`` and ``[missions.<id>.sources] ROLE``), then ``default`` (the
    mission's ``default_source``). With roles but no plain source, the first role's source is
    also the default.
    """
    plain: list[str] = []
    roles: dict[str, str] = {}
    known = type(settings).source_roles
    for item in given:
        m = _ROLE.match(item)
        if m and "://" not in m.group(1):
            if m.group(1) in roles:
                raise UsageError(None, f"--source {m.group(1)}= given twice")
            if known is not None and m.group(1) not in known:
                raise UsageError(
                    None,
                    f"--source {m.group(1)}=: {mission} reads no source role {m.group(1)!r} "
                    f"(roles: {', '.join(known) or 'none'}){did_you_mean(m.group(1), known)}",
                )
            roles[m.group(1)] = m.group(2)
        else:
            plain.append(item)
    if len(plain) > 1:
        raise UsageError(
            None, f"more than one --source without a role: {', '.join(plain)} (name the others ROLE=...)"
        )
    merged = {**settings.sources, **roles}
    source = (plain[0] if plain else None) or settings.source or default or next(iter(merged.values()), None)
    return source, merged


def state_dir(out_dir: Path) -> Path:
    return out_dir / STATE_DIR


def setting(mission: str, key: str, default: Any = None) -> Any:
    """``[missions.<mission>] <key>`` of ``./magfw.toml``, or ``default``. A mission with a
    settings model reads its table typed instead: ``AcmeSettings.configured("acme").key``."""
    value = load_config().missions.get(mission, {}).get(key)
    return default if value is None else value


__all__ = [
    "CONFIG_FILE",
    "DEFAULT_OUT",
    "STATE_DIR",
    "Configuration",
    "FetchSettings",
    "MagfwConfig",
    "MissionSettings",
    "NotifySection",
    "load_config",
    "mission_settings",
    "resolve_out_dir",
    "resolve_sources",
    "setting",
    "state_dir",
]

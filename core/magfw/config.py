"""Where things go: the output tree and per-mission settings.

The output directory is, in order: ``--out``; ``MAGFW_DATA``; ``out`` in ``./magfw.toml``;
``./magfw-data``. ``magfw.toml`` may also hold per-mission settings::

    out = "/data/magfw"
    [missions.stereo]
    source = "/archive/berkeley"      # default --source for this mission
    [missions.stereo.sources]         # sources by role (--source ROLE=...)
    spice = "https://soho.nascom.nasa.gov/solarsoft/stereo/gen/data/spice"
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from magfw.errors import UsageError

CONFIG_FILE = "magfw.toml"
DEFAULT_OUT = "magfw-data"
STATE_DIR = ".magfw"  # inside the output tree: ledger, logs, caches, staging


def load_config(path: Path | None = None) -> dict[str, Any]:
    """The contents of ``magfw.toml`` (current directory by default), or {} if absent."""
    path = path or Path.cwd() / CONFIG_FILE
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(path, f"invalid configuration: {exc}") from exc


def resolve_out_dir(out: str | Path | None, config: dict[str, Any] | None = None) -> Path:
    """The output tree for this run (see the module docstring for the order)."""
    if out is not None:
        return Path(out)
    if os.environ.get("MAGFW_DATA"):
        return Path(os.environ["MAGFW_DATA"])
    config = load_config() if config is None else config
    return Path(config.get("out", DEFAULT_OUT))


def mission_setting(config: dict[str, Any], mission: str, key: str) -> Any:
    """``[missions.<mission>] <key>`` from the configuration, or None."""
    return config.get("missions", {}).get(mission, {}).get(key)


_ROLE = re.compile(r"^([a-z][a-z0-9_]*)=(.+)$")


def resolve_sources(
    given: list[str], config: dict[str, Any], mission: str, default: str | None = None
) -> tuple[str | None, dict[str, str]]:
    """The default source and the sources by role of a run.

    ``given`` are the ``--source`` values: a plain directory, URL or ``simulated`` (at most
    one), or ``ROLE=DIR|URL`` for one role (``spice=https://...``). What is not given comes
    from ``magfw.toml`` (``[missions.<id>] source`` and ``[missions.<id>.sources] ROLE``),
    then the mission's ``default_source``. With roles but no plain source, the first role's
    source is also the default.
    """
    plain: list[str] = []
    roles: dict[str, str] = {}
    for item in given:
        m = _ROLE.match(item)
        if m and "://" not in m.group(1):
            if m.group(1) in roles:
                raise UsageError(None, f"--source {m.group(1)}= given twice")
            roles[m.group(1)] = m.group(2)
        else:
            plain.append(item)
    if len(plain) > 1:
        raise UsageError(
            None, f"more than one --source without a role: {', '.join(plain)} (name the others ROLE=...)"
        )
    configured = config.get("missions", {}).get(mission, {}).get("sources", {})
    if not isinstance(configured, dict):
        raise UsageError(CONFIG_FILE, f"[missions.{mission}.sources] must be a table")
    merged = {**{str(k): str(v) for k, v in configured.items()}, **roles}
    source = (
        (plain[0] if plain else None)
        or mission_setting(config, mission, "source")
        or default
        or next(iter(merged.values()), None)
    )
    return source, merged


def state_dir(out_dir: Path) -> Path:
    return out_dir / STATE_DIR


def setting(mission: str, key: str, default: Any = None) -> Any:
    """``[missions.<mission>] <key>`` of ``./magfw.toml``, or ``default`` (a mission's own
    settings, e.g. the creator e-mail Aditya products carry)."""
    value = mission_setting(load_config(), mission, key)
    return default if value is None else value

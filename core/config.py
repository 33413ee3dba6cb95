"""Where things go: the output tree and per-mission settings.

The output directory is, in order: ``--out``; ``MAGFW_DATA``; ``out`` in ``./magfw.toml``;
``./magfw-data``. ``magfw.toml`` may also hold per-mission settings::

    out = "/data/magfw"
    [missions.stereo]
    source = "/archive/berkeley"      # default --source for this mission
"""

from __future__ import annotations

import os
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


def state_dir(out_dir: Path) -> Path:
    return out_dir / STATE_DIR


def setting(mission: str, key: str, default: Any = None) -> Any:
    """``[missions.<mission>] <key>`` of ``./magfw.toml``, or ``default`` (a mission's own
    settings, e.g. the creator e-mail Aditya products carry)."""
    value = mission_setting(load_config(), mission, key)
    return default if value is None else value

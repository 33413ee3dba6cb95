"""The plugin's processing configuration (``data/processing.yaml``) and its version digest."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

import yaml

from magfw.errors import DefinitionError

DATA = Path(__file__).parent / "data"
PROCESSING = DATA / "processing.yaml"


@functools.lru_cache(maxsize=4)
def processing(path: str | Path = PROCESSING) -> dict[str, Any]:
    """The processing configuration as a dict (``l1`` and ``l2`` sections)."""
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError(path, f"cannot read processing configuration: {exc}") from exc
    if not isinstance(raw, dict) or "l1" not in raw or "l2" not in raw:
        raise DefinitionError(path, "processing configuration needs sections l1 and l2")
    return raw


def digest(path: str | Path) -> str:
    """Short SHA-256 of a plugin data file, recorded in the ledger's versions."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]

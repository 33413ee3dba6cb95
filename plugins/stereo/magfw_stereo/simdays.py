"""Simulated STEREO days that differ from the quiet ones (placeholder)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

DayWriter = Callable[[Path, Path, str, date, int], dict[str, Any]]


def day_kind(sc: str, day: date) -> DayWriter | None:
    return None

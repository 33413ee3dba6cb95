"""The plugin's processing configuration (``data/processing.yaml``), typed per level, and its
version digest."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from magfw.api import DefinitionError

DATA = Path(__file__).parent / "data"
PROCESSING = DATA / "processing.yaml"


@dataclass(frozen=True, kw_only=True)
class L1Config:
    """``l1``: despiking, the housekeeping gap rule and the per-sample uncertainty."""

    despike_window: int  #: samples in the running median
    despike_threshold_nt: float  #: |B - running median| above this on any axis -> spike
    hk_max_gap_s: float  #: HK packets further apart than this -> the samples between lack HK
    error_nt: float  #: per-component uncertainty of every L1 sample


@dataclass(frozen=True, kw_only=True)
class GtiConfig:
    """``l2.gti``: the derivative-ratio rule of :func:`magfw_aditya.gti.ratio_flags`."""

    smooth_s: float
    lag_s: float
    min_change_nt: float
    ratio_range: tuple[float, float]
    dilate_s: float


@dataclass(frozen=True, kw_only=True)
class L2Config:
    """``l2``: dual-magnetometer geometry, median filter, GTI, bins and uncertainty."""

    r_mag1_m: float
    r_mag2_m: float
    exponent: float
    sc_field_window_s: float  #: running window (s) of the spacecraft-field model at MAG1
    median_window: int
    gti: GtiConfig
    bin_s: float
    min_good_fraction: float
    error_nt: float


@functools.lru_cache(maxsize=4)
def processing(path: str | Path = PROCESSING) -> dict[str, Any]:
    """The processing configuration as read (``l1`` and ``l2`` sections)."""
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError(path, f"cannot read processing configuration: {exc}") from exc
    if not isinstance(raw, dict) or "l1" not in raw or "l2" not in raw:
        raise DefinitionError(path, "processing configuration needs sections l1 and l2")
    return raw


def _get(section: dict[str, Any], dotted: str, path: str | Path) -> Any:
    value: Any = section
    for key in dotted.split("."):
        if not isinstance(value, dict) or key not in value:
            raise DefinitionError(path, f"processing configuration: {dotted} is missing")
        value = value[key]
    return value


def _number(section: dict[str, Any], dotted: str, path: str | Path) -> float:
    value = _get(section, dotted, path)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DefinitionError(path, f"processing configuration: {dotted} must be a number")
    return float(value)


def _count(section: dict[str, Any], dotted: str, path: str | Path) -> int:
    value = _get(section, dotted, path)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise DefinitionError(path, f"processing configuration: {dotted} must be a positive integer")
    return value


@functools.lru_cache(maxsize=4)
def l1_config(path: str | Path = PROCESSING) -> L1Config:
    """The ``l1`` section, checked (a missing or non-numeric value is a DefinitionError)."""
    s = processing(path)
    return L1Config(
        despike_window=_count(s, "l1.despike.window", path),
        despike_threshold_nt=_number(s, "l1.despike.threshold_nT", path),
        hk_max_gap_s=_number(s, "l1.housekeeping.max_gap_s", path),
        error_nt=_number(s, "l1.error_nT", path),
    )


@functools.lru_cache(maxsize=4)
def l2_config(path: str | Path = PROCESSING) -> L2Config:
    """The ``l2`` section, checked (a missing or non-numeric value is a DefinitionError)."""
    s = processing(path)
    ratio = _get(s, "l2.gti.ratio_range", path)
    if not isinstance(ratio, list) or len(ratio) != 2 or not all(isinstance(x, int | float) for x in ratio):
        raise DefinitionError(path, "processing configuration: l2.gti.ratio_range must be [low, high]")
    return L2Config(
        r_mag1_m=_number(s, "l2.dual_magnetometer.r_mag1_m", path),
        r_mag2_m=_number(s, "l2.dual_magnetometer.r_mag2_m", path),
        exponent=_number(s, "l2.dual_magnetometer.exponent", path),
        sc_field_window_s=_number(s, "l2.dual_magnetometer.spacecraft_field_window_s", path),
        median_window=_count(s, "l2.median_window", path),
        gti=GtiConfig(
            smooth_s=_number(s, "l2.gti.smooth_s", path),
            lag_s=_number(s, "l2.gti.lag_s", path),
            min_change_nt=_number(s, "l2.gti.min_change_nT", path),
            ratio_range=(float(ratio[0]), float(ratio[1])),
            dilate_s=_number(s, "l2.gti.dilate_s", path),
        ),
        bin_s=_number(s, "l2.bin_s", path),
        min_good_fraction=_number(s, "l2.min_good_fraction", path),
        error_nt=_number(s, "l2.error_nT", path),
    )


def digest(path: str | Path) -> str:
    """Short SHA-256 of a plugin data file, recorded in the ledger's versions."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]

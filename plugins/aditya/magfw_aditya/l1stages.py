"""The stages of Aditya-L1 MAG level 1 (:mod:`magfw_aditya.l1`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from magfw_aditya import calibration
from magfw_aditya.l0 import L0Data
from magfw_aditya.packets import Layout

CADENCE_S = 0.128  #: nominal sample period, when the definition does not give one

# ------------------------------------------------------------------------------------- stages


@dataclass(frozen=True, kw_only=True)
class L0File:
    """One decoded L0 tar and its L0 version (``V00``)."""

    l0: L0Data
    version: str


@dataclass(frozen=True, kw_only=True)
class L1Raw:
    """What ``read`` gives: the day's decoded tars, the calibration database and the packet
    layout they were decoded with."""

    files: list[L0File]
    caldb: calibration.CalDB
    layout: Layout


@dataclass(frozen=True, kw_only=True)
class CalibratedFile:
    """One tar in UT and nT (spacecraft frame), before any sample is removed."""

    l0: L0Data
    version: str
    tt: np.ndarray  #: (N,) int64 TT2000 of every sample (TCT applied)
    b: dict[str, np.ndarray]  #: sensor ("mag1", "mag2") -> (N, 3) nT in SCCS
    saturated: dict[str, np.ndarray]  #: sensor -> (N,) bool, an axis at the ADC limit
    hk_missing: np.ndarray  #: (N,) bool, no housekeeping around the sample
    time_untrusted: np.ndarray  #: (N,) bool, UT cannot be trusted (clock jumps, TCT)
    time_notes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class L1Calibrated:
    files: list[CalibratedFile]
    caldb_name: str = ""  #: the caldb file used (for the meta-files' input list)


@dataclass(frozen=True, kw_only=True)
class CorrectedFile:
    """One tar with saturated samples and spikes removed (NaN)."""

    l0: L0Data
    version: str
    tt: np.ndarray  #: (N,) int64 TT2000
    b: dict[str, np.ndarray]  #: sensor -> (N, 3) nT in SCCS, NaN where removed
    saturated: dict[str, np.ndarray]  #: sensor -> (N,) bool
    removed: dict[str, np.ndarray]  #: sensor -> (N,) bool, saturated or spike
    hk_missing: np.ndarray  #: (N,) bool
    time_untrusted: np.ndarray  #: (N,) bool
    time_notes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class L1Corrected:
    files: list[CorrectedFile]
    caldb_name: str = ""

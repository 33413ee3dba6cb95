"""The stages of Aditya-L1 MAG level 2 (:mod:`magfw_aditya.l2`), and what every step shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from magfw.api import (
    InputFile,
)
from magfw_aditya import spice

CADENCE_S = 0.128
PAD_S = 120.0
#: ``--gsm-dipole`` -> the GSM frame used.
GSM_FRAMES = {"igrf": "GSM", "fixed2000": spice.GSM_FIXED_FRAME}
#: The default of ``--gsm-dipole``: the GSM of the public Aditya-L1 frames kernel.
GSM_DEFAULT = "fixed2000"
GSM_TEXT = {
    "GSM": "GSM: X Earth->Sun, Z the IGRF-14 dipole axis of date perpendicular to X (magfw.geometry.frames)",
    spice.GSM_FIXED_FRAME: "GSM_FIXED2000: X Earth->Sun, Z the fixed IGRF 2000.0 dipole pole "
    "79.54N 288.43E of the public Aditya-L1 frames kernel (magfw.geometry.frames)",
}
#: What the file says of the GSM it does not use.
GSM_OTHER = {
    "GSM": "the default --gsm-dipole fixed2000 gives GSM_FIXED2000 (fixed IGRF 2000.0 pole "
    "79.54N 288.43E of the public Aditya-L1 frames kernel)",
    spice.GSM_FIXED_FRAME: "the option --gsm-dipole igrf gives GSM with the IGRF-14 dipole axis of date",
}
#: What the file says of how its IMF was made (attribute ``imf_method``), by method.
IMF_TEXT = {
    "mag1": "MAG1 (6 m) minus the spacecraft field at MAG1, (B_MAG2 - B_MAG1) / (q - 1) averaged "
    "over a 600-s running window of good samples, q = (6 m / 3 m)^3 = 8 (centre dipole, r^-3); "
    "MAG1 and MAG2 together also make the GTI flags (MAG manual 3.1 and 4)",
    "dual": "per-sample dual-magnetometer combination B_IMF = (q B_MAG1 - B_MAG2) / (q - 1), "
    "q = (6 m / 3 m)^3 = 8 (centre dipole, r^-3), --dual-magnetometer",
}
CALIBRATION_REASON = (
    "spacecraft rotation manoeuvre for calibration: data of calibration "
    "intervals are not disseminated (MAG manual section 7)"
)


# ------------------------------------------------------------------------------------- stages


@dataclass(frozen=True, kw_only=True)
class DaySetup:
    """What every stage carries besides its arrays: the day, the unit's inputs (for the XML
    metadata), its kernels and the GSM frame chosen."""

    day: date
    t0: int  #: TT2000 of the day's 00:00:00 UTC
    t1: int  #: TT2000 of the next day's 00:00:00 UTC
    inputs: tuple[InputFile, ...]
    kernels: tuple[Path, ...]
    gsm_frame: str
    #: (M, 2) int64 TT2000 [start, end] of the calibration manoeuvres touching the day
    calibration: np.ndarray = field(default_factory=lambda: np.empty((0, 2), dtype=np.int64))


@dataclass(frozen=True, kw_only=True)
class L2Read:
    """The joined L1 samples of the day and ``PAD_S`` either side (first file wins where
    files overlap), in SCCS."""

    setup: DaySetup
    tt: np.ndarray  #: (N,) int64 TT2000, increasing
    b1: np.ndarray  #: (N, 3) nT MAG1, NaN where L1 removed the sample
    b2: np.ndarray  #: (N, 3) nT MAG2
    hk_gaps: np.ndarray  #: (M, 2) int64 TT2000 [start, end] of the L1 housekeeping gaps
    #: (M, 2) int64 TT2000 [start, end] of the L1 samples whose time cannot be trusted
    time_untrusted: np.ndarray = field(default_factory=lambda: np.empty((0, 2), dtype=np.int64))


@dataclass(frozen=True, kw_only=True)
class L2Corrected:
    setup: DaySetup
    tt: np.ndarray  #: (N,) int64 TT2000
    imf: np.ndarray  #: (N, 3) nT SCCS, spacecraft field removed, median-filtered
    bad_gti: np.ndarray  #: (N,) bool, the derivative-ratio rule
    hk_missing: np.ndarray  #: (N,) bool, inside an L1 housekeeping gap
    calibrating: np.ndarray  #: (N,) bool, inside a calibration manoeuvre (not disseminated)
    time_untrusted: np.ndarray  #: (N,) bool, the L1 time of the sample cannot be trusted
    imf_method: str = "mag1"  #: "mag1" (the default) or "dual" (``IMF_TEXT``)


@dataclass(frozen=True, kw_only=True)
class L2Transformed:
    setup: DaySetup
    tt: np.ndarray  #: (N,) int64 TT2000
    gse: np.ndarray  #: (N, 3) nT, NaN outside the day, where imf is NaN or without attitude
    gsm: np.ndarray  #: (N, 3) nT
    sccs: np.ndarray  #: (N, 3) nT, the corrected IMF in SCCS (NaN where gse is)
    bad_gti: np.ndarray
    hk_missing: np.ndarray
    start: np.ndarray  #: (8640,) int64 TT2000 of each 10-s bin start
    pos_gse: np.ndarray  #: (8640, 3) km, spacecraft at the bin centres (NaN without SPK)
    pos_gsm: np.ndarray  #: (8640, 3) km
    no_attitude: np.ndarray  #: (N,) bool, a sample of the day the attitude CK does not cover
    calibrating: np.ndarray  #: (N,) bool, inside a calibration manoeuvre
    time_untrusted: np.ndarray  #: (N,) bool
    imf_method: str = "mag1"


@dataclass(frozen=True, kw_only=True)
class L2Averaged:
    setup: DaySetup
    start: np.ndarray  #: (8640,) int64 TT2000 bin starts
    gse: np.ndarray  #: (8640, 3) nT means of the good samples (NaN: none)
    gsm: np.ndarray  #: (8640, 3) nT
    sccs: np.ndarray  #: (8640, 3) nT
    pos_gse: np.ndarray
    pos_gsm: np.ndarray
    n_good: np.ndarray  #: (8640,) good samples per bin (0 in a calibration interval)
    no_attitude: np.ndarray  #: (8640,) bool, a bin with a sample the attitude CK does not cover
    calibration_bins: np.ndarray  #: (8640,) bool, a bin touching a calibration manoeuvre (fill)
    imf_method: str = "mag1"


@dataclass(frozen=True, kw_only=True)
class L2Qualified:
    """``quality``: each bin's flag (``Quality_flag_10s_data``), the runs of bins flagged for
    a reason the file states, and the day's figures."""

    bins: L2Averaged
    flag: np.ndarray  #: (8640,) bool: enough good samples, a position, not a calibration
    attitude_gaps: list[str]  #: 'start/end' UT of the bins flagged for lack of attitude
    ephemeris_gaps: list[str]  #: 'start/end' UT of the bins without spacecraft position
    calibration: list[str]  #: 'start/end' UT of the bins left out (calibration manoeuvres)
    missing_percent: float  #: percent of the bins missing or flagged bad
    quality_factor: int  #: 1-10 (Table 4 of the MAG manual)

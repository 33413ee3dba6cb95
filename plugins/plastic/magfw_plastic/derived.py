"""Derived quantities of the merged product, each with its formula and units.

Inputs are numpy arrays (NaN = missing; the result is NaN wherever an input is). Units: B in nT,
Np in cm^-3, Tp in K, speeds in km/s. SI constants are CODATA 2018.
"""

from __future__ import annotations

import numpy as np

K_B = 1.380649e-23  #: Boltzmann constant, J/K
M_P = 1.67262192369e-27  #: proton mass, kg
MU_0 = 1.25663706212e-6  #: vacuum permeability, N/A^2


def magnitude(v: np.ndarray) -> np.ndarray:
    """|v| = sqrt(v1^2 + v2^2 + v3^2) of ``[N, 3]`` vectors (same units as v)."""
    v = np.asarray(v, dtype=np.float64)
    out: np.ndarray = np.sqrt(np.sum(v * v, axis=-1))
    return out


def cone_angle(b_rtn: np.ndarray) -> np.ndarray:
    """Cone angle in degrees, 0-180: the angle between B and the radial direction,
    acos(BR / |B|) with |B| the magnitude of the (averaged) vector."""
    b = np.asarray(b_rtn, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = b[..., 0] / magnitude(b)
    out: np.ndarray = np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))
    return out


def clock_angle(b_rtn: np.ndarray) -> np.ndarray:
    """Clock angle in degrees, 0-360: the direction of B in the T-N plane, atan2(BT, BN)
    (0 = +N, 90 = +T), as the GSM clock angle atan2(By, Bz) is."""
    b = np.asarray(b_rtn, dtype=np.float64)
    return np.mod(np.degrees(np.arctan2(b[..., 1], b[..., 2])), 360.0)


def magnetic_pressure(b_nt: np.ndarray) -> np.ndarray:
    """Magnetic pressure B^2 / (2 mu0) in pPa, B in nT:
    (B * 1e-9 T)^2 / (2 mu0) Pa * 1e12 pPa/Pa."""
    b = np.asarray(b_nt, dtype=np.float64) * 1e-9
    return b * b / (2.0 * MU_0) * 1e12


def thermal_pressure(np_cc: np.ndarray, tp_k: np.ndarray) -> np.ndarray:
    """Proton thermal pressure Np k Tp in pPa: (Np * 1e6 m^-3) * k * Tp Pa * 1e12."""
    return np.asarray(np_cc, dtype=np.float64) * 1e6 * K_B * np.asarray(tp_k, np.float64) * 1e12


def dynamic_pressure(np_cc: np.ndarray, vp_kms: np.ndarray) -> np.ndarray:
    """Proton dynamic (ram) pressure Np mp Vp^2 in nPa: (Np * 1e6) * mp * (Vp * 1e3)^2 Pa * 1e9
    (= 1.6726e-6 Np Vp^2 nPa)."""
    v = np.asarray(vp_kms, dtype=np.float64) * 1e3
    return np.asarray(np_cc, dtype=np.float64) * 1e6 * M_P * v * v * 1e9


def total_pressure(b_nt: np.ndarray, np_cc: np.ndarray, tp_k: np.ndarray) -> np.ndarray:
    """Total pressure in pPa: magnetic + proton thermal, B^2/(2 mu0) + Np k Tp (the dynamic
    pressure is not included; electrons and alphas are not measured here)."""
    out: np.ndarray = magnetic_pressure(b_nt) + thermal_pressure(np_cc, tp_k)
    return out


def beta(b_nt: np.ndarray, np_cc: np.ndarray, tp_k: np.ndarray) -> np.ndarray:
    """Proton plasma beta, dimensionless: Np k Tp / (B^2 / (2 mu0)); NaN where B = 0."""
    pm = magnetic_pressure(b_nt)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pm > 0, thermal_pressure(np_cc, tp_k) / pm, np.nan)


def entropy(np_cc: np.ndarray, tp_k: np.ndarray) -> np.ndarray:
    """Proton specific-entropy proxy S = Tp / Np^(2/3) in K cm^2 (the adiabatic invariant
    T n^(1-gamma) with gamma = 5/3; Np in cm^-3). NaN where Np <= 0."""
    n = np.asarray(np_cc, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.asarray(tp_k, np.float64) / np.cbrt(n) ** 2, np.nan)


def direction_cosines(v_rtn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Direction cosines (Vr/V, Vt/V, Vn/V) of ``[N, 3]`` velocities and their speed
    V = |v| (km/s); NaN where V = 0 or a component is missing."""
    v = np.asarray(v_rtn, dtype=np.float64)
    speed = magnitude(v)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(speed[..., None] > 0, v / speed[..., None], np.nan)
    return cos, speed


def thermal_speed(tp_k: np.ndarray) -> np.ndarray:
    """Proton thermal speed sqrt(2 k Tp / mp) in km/s (the PLASTIC v_th definition)."""
    return np.sqrt(2.0 * K_B * np.asarray(tp_k, np.float64) / M_P) / 1e3

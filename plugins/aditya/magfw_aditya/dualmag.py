"""Dual-magnetometer (gradiometer) removal of the spacecraft field.

Model: the slowly varying spacecraft field is that of a dipole at the spacecraft centre. Both
sensors lie on the same boom line, so it points the same way at both and falls as r**-n
(n = 3 for a dipole): B_sc(MAG2) = q B_sc(MAG1) with q = (r1 / r2)**n = (6 m / 3 m)**3 = 8.
With B_i = B_imf + B_sc(i) (both in SCCS)::

    B_imf = (q B1 - B2) / (q - 1)        B_sc(MAG1) = (B2 - B1) / (q - 1)

Uncorrelated sensor noise sigma becomes sigma sqrt(q**2 + 1) / (q - 1) = 1.15 sigma for q = 8.
Sources that are not at the centre (e.g. near MAG2) break the model; the GTI rule flags them.

**The spacecraft field at MAG1** (:func:`spacecraft_field_model`, Level 2's default, as the MAG
manual has it: the IMF "acquired from the six-meter sensor MAG1", the dual-magnetometer method
serving to separate the spacecraft's changes): the per-sample estimate ``(B2 - B1) / (q - 1)``
averaged over a running window of the good samples (``window_s``, 600 s), so the IMF is MAG1
minus a slowly varying spacecraft field whose noise is averaged away: MAG1's own noise
sigma, not 1.15 sigma. Where a window holds no good sample (a long disturbance) the model is
interpolated between its neighbours.
"""

from __future__ import annotations

import numpy as np


def ratio(r_mag1_m: float, r_mag2_m: float, exponent: float = 3.0) -> float:
    """q = B_sc(MAG2) / B_sc(MAG1) = (r1 / r2) ** exponent."""
    if r_mag1_m <= r_mag2_m or r_mag2_m <= 0:
        raise ValueError("MAG1 must be farther out on the boom than MAG2")
    return float((r_mag1_m / r_mag2_m) ** exponent)


def remove_spacecraft_field(b1: np.ndarray, b2: np.ndarray, q: float) -> tuple[np.ndarray, np.ndarray]:
    """(B_imf, B_sc at MAG1), each (N,3), from MAG1 and MAG2 (N,3) in the same frame."""
    b1 = np.asarray(b1, dtype=np.float64)
    b2 = np.asarray(b2, dtype=np.float64)
    return (q * b1 - b2) / (q - 1.0), (b2 - b1) / (q - 1.0)


def spacecraft_field_model(
    t_s: np.ndarray, b1: np.ndarray, b2: np.ndarray, good: np.ndarray, q: float, window_s: float
) -> np.ndarray:
    """(N, 3) slowly varying spacecraft field at MAG1 (nT): ``(B2 - B1) / (q - 1)`` averaged over
    the ``good`` samples within +-``window_s``/2 of each sample (``t_s`` increasing, seconds);
    interpolated where a window has none; zero when no sample is good."""
    est = (np.asarray(b2, dtype=np.float64) - np.asarray(b1, dtype=np.float64)) / (q - 1.0)
    ok = good & np.isfinite(est).all(axis=1)
    if not ok.any():
        return np.zeros(est.shape)
    v = np.where(ok[:, None], est, 0.0)
    cs = np.concatenate([np.zeros((1, 3)), np.cumsum(v, axis=0)])
    cn = np.concatenate([[0], np.cumsum(ok)])
    lo = np.searchsorted(t_s, t_s - window_s / 2, side="left")
    hi = np.searchsorted(t_s, t_s + window_s / 2, side="right")
    n = cn[hi] - cn[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        model: np.ndarray = (cs[hi] - cs[lo]) / n[:, None]
    have = n > 0
    if not have.all():
        for k in range(3):
            model[~have, k] = np.interp(t_s[~have], t_s[have], model[have, k])
    return model

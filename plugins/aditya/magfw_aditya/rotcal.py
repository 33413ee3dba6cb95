"""Sensor offsets from spacecraft rotation manoeuvres (MAG manual section 7).

During a manoeuvre the spacecraft turns about its yaw, roll and pitch axes in turn. A sensor
measures ``m(t) = A(t) b(t) + O(t)``: ``A`` the attitude (J2000 -> SCCS, from the CK), ``b`` the
interplanetary field in J2000, ``O`` the net offset in SCCS (zero-offset error plus the
spacecraft's static field at the sensor). The field is taken as constant within each window
of ``window_s`` (one turn), the offset as ``O0 + O1 (t - t_mid)`` over the manoeuvre: for a
given ``O`` the window's best ``b`` is the mean of ``A^T (m - O)``, so eliminating it leaves a
linear least-squares problem in the six offset coefficients. Windows whose residual is far
above the others' (an IMF discontinuity) are dropped and the fit repeated. Each axis's offset
is observable only while the spacecraft turns about another axis; three axes give all three.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, kw_only=True)
class OffsetFit:
    offset: np.ndarray  #: (3,) nT SCCS at ``t_mid``
    drift: np.ndarray  #: (3,) nT/s
    sigma: np.ndarray  #: (3,) nT, formal 1-sigma of ``offset``
    residual_rms: float  #: nT
    windows: int  #: windows used
    dropped: int  #: windows dropped as outliers
    samples: int


def _design(
    tt_s: np.ndarray, a: np.ndarray, m: np.ndarray, win: np.ndarray, t_mid: float
) -> tuple[np.ndarray, np.ndarray]:
    """Stacked (3N, 6) design and (3N,) data of the window-eliminated problem."""
    n = tt_s.size
    dt = tt_s - t_mid
    # unknown x = [O0 (3), O1 (3)]; per sample the offset is E x with E = [I, dt I]
    e = np.zeros((n, 3, 6))
    e[:, :, :3] = np.eye(3)
    e[:, :, 3:] = dt[:, None, None] * np.eye(3)
    at_m = np.einsum("nji,nj->ni", a, m)  # A^T m
    at_e = np.einsum("nji,njk->nik", a, e)  # A^T E
    uw, inv = np.unique(win, return_inverse=True)
    cnt = np.bincount(inv, minlength=uw.size).astype(float)
    mean_atm = np.stack([np.bincount(inv, at_m[:, k], uw.size) for k in range(3)], 1) / cnt[:, None]
    mean_ate = np.zeros((uw.size, 3, 6))
    for i in range(3):
        for j in range(6):
            mean_ate[:, i, j] = np.bincount(inv, at_e[:, i, j], uw.size) / cnt
    # residual r = m - E x - A mean(A^T (m - E x)) = y - G x
    y = m - np.einsum("nij,nj->ni", a, mean_atm[inv])
    g = e - np.einsum("nij,njk->nik", a, mean_ate[inv])
    return g.reshape(-1, 6), y.reshape(-1)


def fit_offsets(
    tt_s: np.ndarray, a: np.ndarray, m: np.ndarray, window_s: float, outlier_factor: float = 4.0
) -> OffsetFit:
    """The net offset (and its drift) of one sensor from its samples during a manoeuvre:
    times ``tt_s`` (s), attitudes ``a`` (N,3,3) J2000 -> SCCS, measurements ``m`` (N,3) nT
    SCCS (NaN rows are ignored)."""
    ok = np.isfinite(m).all(axis=1)
    tt_s, a, m = tt_s[ok], a[ok], m[ok]
    if tt_s.size < 100:
        raise ValueError(f"only {tt_s.size} samples in the manoeuvre")
    t_mid = 0.5 * (tt_s[0] + tt_s[-1])
    win = np.floor((tt_s - tt_s[0]) / window_s).astype(np.int64)
    use = np.ones(tt_s.size, dtype=bool)
    dropped = 0
    for _ in range(3):
        g, y = _design(tt_s[use], a[use], m[use], win[use], t_mid)
        x, *_ = np.linalg.lstsq(g, y, rcond=None)
        r = (y - g @ x).reshape(-1, 3)
        w = win[use]
        uw, inv = np.unique(w, return_inverse=True)
        rms = np.sqrt(np.bincount(inv, (r**2).sum(axis=1), uw.size) / np.bincount(inv, minlength=uw.size))
        bad = uw[rms > outlier_factor * np.median(rms)]
        if bad.size == 0:
            break
        dropped += int(bad.size)
        use &= ~np.isin(win, bad)
    resid = float(np.sqrt(np.mean(r**2)))
    cov = np.linalg.pinv(g.T @ g) * resid**2
    return OffsetFit(
        offset=x[:3],
        drift=x[3:],
        sigma=np.sqrt(np.diag(cov)[:3]),
        residual_rms=resid,
        windows=int(np.unique(win[use]).size),
        dropped=dropped,
        samples=int(use.sum()),
    )

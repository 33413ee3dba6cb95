"""Davis-Smith zero levels of a magnetometer from Alfvenic fluctuations: the method, on arrays.

Davis & Smith (1968), as Leinweber et al. (2008, Meas. Sci. Technol. 19 055104) use it: in
intervals where the field only rotates (Alfvenic), |B|^2 is constant, so the covariance of B
with |B|^2 determines the zero level. Intervals are selected by their compressibility and
planarity, the fit is iterated, and each day's estimate combines the day with its neighbours
(settings in :class:`EstimateSettings`). The ``estimate`` level (:mod:`magfw_stereo.estimate`)
runs it on a month of 1-s prep averages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from magfw.api import time


@dataclass(frozen=True, kw_only=True)
class EstimateSettings:
    """Selection and combination settings of :func:`davis_smith` (documented choices).

    ``window_s``: interval length; 10 min holds many Alfvenic periods at 1 AU yet little
    change of the mean field. ``min_fill``: share of valid 1-s samples an interval needs.
    ``min_power_nt2``: total component variance (nT^2) an interval needs, so fluctuations
    stand well above the noise of 1-s averages (~0.02 nT). ``max_compressibility``:
    variance of |B - O| over the total component variance: below it an interval counts as a
    pure rotation (Alfvenic). ``max_residual``: share of the variance of |B|^2 the fitted
    offset must leave unexplained in an interval (its own Davis-Smith fit quality).
    ``min_planarity``: intermediate over maximum variance, rejecting one-dimensional
    (compressive or single-wave) intervals before the first estimate. ``iterations``:
    re-selections with the current offset. ``span_days``: days combined for each day's
    estimate (the day and its neighbours). ``min_windows``: intervals a day's estimate needs,
    else the day takes the month's. ``min_condition``: smallest over largest eigenvalue of
    the summed covariance; below it the offset is undetermined along one direction.
    ``bootstrap``: resamples of the selected intervals for the 1-sigma uncertainties.
    """

    window_s: int = 600
    min_fill: float = 0.9
    min_power_nt2: float = 0.05
    max_compressibility: float = 0.05
    max_residual: float = 0.2
    min_planarity: float = 0.05
    iterations: int = 8
    span_days: int = 3
    min_windows: int = 12
    min_condition: float = 0.01
    bootstrap: int = 200
    seed: int = 0


#: The documented choices (every default of the functions below).
DEFAULT_SETTINGS = EstimateSettings()


@dataclass(kw_only=True)
class WindowStats:
    """Per-interval sums of the Davis-Smith regression (all arrays over K intervals)."""

    start: np.ndarray  # [K] TT2000 of the interval start
    n: np.ndarray  # [K] valid samples
    cov: np.ndarray  # [K, 3, 3] covariance of B (nT^2)
    cov_q: np.ndarray  # [K, 3] covariance of B with |B|^2 (nT^3)
    var_q: np.ndarray  # [K] variance of |B|^2 (nT^4)
    mean: np.ndarray  # [K, 3] mean of B (nT)


@dataclass(kw_only=True)
class OffsetEstimate:
    """Zero level z (nT, ``B_measured = B_true + z``) with 1-sigma and what supports it."""

    zero_level: np.ndarray  # [3]
    sigma: np.ndarray  # [3]
    windows: int
    condition: float
    determined: bool

    @property
    def offsets(self) -> np.ndarray:
        """O in the table's convention (added to the field): ``-zero_level``."""
        return -self.zero_level


def window_stats(tt: np.ndarray, b: np.ndarray, window_s: int, min_fill: float) -> WindowStats:
    """Cut a 1-s series (TT2000 ``tt``, ``b`` [N,3] nT, NaN = gap) into ``window_s`` intervals
    on a fixed grid and return the sums the regression needs, for intervals with enough data.

    Vectorised: samples go onto a regular 1-s grid (index from their time), the grid is
    reshaped to [K, window_s, 3] and every moment is a masked sum over axis 1.
    """
    tt = np.asarray(tt, dtype=np.int64)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 3)
    ok = np.isfinite(b).all(axis=1)
    if not ok.any():
        z = np.zeros(0)
        return WindowStats(
            start=z.astype(np.int64),
            n=z,
            cov=z.reshape(0, 3, 3),
            cov_q=z.reshape(0, 3),
            var_q=z,
            mean=z.reshape(0, 3),
        )
    t0 = int(time.day_bounds_tt2000(time.utc_day_of(tt[ok].min()))[0])  # windows aligned on UTC days
    sec = (tt - t0) // 1_000_000_000
    n_win = int(sec[ok].max()) // window_s + 1
    grid = np.full((n_win * window_s, 3), np.nan)
    keep = ok & (sec >= 0)
    grid[sec[keep]] = b[keep]
    g = grid.reshape(n_win, window_s, 3)
    m = np.isfinite(g[..., 0])
    n = m.sum(axis=1).astype(np.float64)
    use = n >= min_fill * window_s
    g, m, n = g[use], m[use], n[use]
    x = np.where(m[..., None], g, 0.0)
    mean = x.sum(axis=1) / n[:, None]
    d = np.where(m[..., None], g - mean[:, None, :], 0.0)
    q = np.einsum("kni,kni->kn", x, x)
    q_mean = q.sum(axis=1) / n
    dq = np.where(m, q - q_mean[:, None], 0.0)
    cov = np.einsum("kni,knj->kij", d, d) / n[:, None, None]
    cov_q = np.einsum("kni,kn->ki", d, dq) / n[:, None]
    var_q = np.einsum("kn,kn->k", dq, dq) / n
    starts = t0 + np.flatnonzero(use).astype(np.int64) * window_s * 1_000_000_000
    return WindowStats(start=starts, n=n, cov=cov, cov_q=cov_q, var_q=var_q, mean=mean)


def _compressibility(stats: WindowStats, zero: np.ndarray) -> np.ndarray:
    """var(|B - z|) / trace(cov) per interval, to first order in the fluctuations.

    With ``u`` the unit vector of the interval's mean corrected field, ``|B - z|`` varies as
    ``u . dB``, so its variance is ``u^T C u``; an Alfvenic (pure rotation) interval has
    ``u^T C u << trace C`` (the field rotates about a constant magnitude).
    """
    mean = stats.mean - zero[None, :]
    u = mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)
    along = np.einsum("ki,kij,kj->k", u, stats.cov, u)
    out: np.ndarray = along / np.maximum(np.trace(stats.cov, axis1=1, axis2=2), 1e-30)
    return out


def _residual(stats: WindowStats, zero: np.ndarray) -> np.ndarray:
    """Share of var(|B|^2) an offset ``zero`` leaves unexplained, per interval:
    ``var(dq - 2 z.dB) / var(dq)`` from the stored moments."""
    z = zero[None, :]
    resid = (
        stats.var_q
        - 4 * np.einsum("ki,ki->k", z, stats.cov_q)
        + 4 * np.einsum("ki,kij,kj->k", z, stats.cov, z)
    )
    out: np.ndarray = resid / np.maximum(stats.var_q, 1e-30)
    return out


def _solve(stats: WindowStats, sel: np.ndarray) -> tuple[np.ndarray, float]:
    """Davis-Smith zero level from the selected intervals and the conditioning of the sum."""
    a = np.einsum("k,kij->ij", stats.n[sel], stats.cov[sel])
    r = np.einsum("k,ki->i", stats.n[sel], stats.cov_q[sel])
    w = np.linalg.eigvalsh(a)
    cond = float(w[0] / w[-1]) if w[-1] > 0 else 0.0
    if cond <= 1e-12:
        return np.full(3, np.nan), cond
    return 0.5 * np.linalg.solve(a, r), cond


def davis_smith(
    stats: WindowStats,
    settings: EstimateSettings = DEFAULT_SETTINGS,
    mask: np.ndarray | None = None,
    start: np.ndarray | None = None,
) -> tuple[OffsetEstimate, np.ndarray]:
    """The zero level of a magnetometer from Alfvenic intervals (Davis-Smith method).

    Method (Davis and Smith 1968, EOS Trans. AGU 49, 257; in the correlation form derived by
    Leinweber, Russell, Torkar, Zhang and Angelopoulos 2008, "An advanced approach to finding
    magnetometer zero levels in the interplanetary magnetic field", Meas. Sci. Technol. 19,
    055104): the measured field is ``Bm = B + z`` with ``z`` the zero level. Then
    ``|Bm|^2 = |B|^2 + 2 z . Bm - |z|^2``, so in an interval where the field only rotates
    (Alfvenic fluctuations, ``|B|`` constant) the fluctuation of ``|Bm|^2`` is ``2 z . dBm``.
    Summing over many intervals with different mean-field directions (each removes its own
    mean) gives the normal equations ``(sum n_k C_k) z = 1/2 sum n_k cov(Bm, |Bm|^2)_k``, which
    are well conditioned when the intervals' fluctuation planes differ (Belcher's 1973
    variant solves each interval alone, badly conditioned along its mean field, which
    Leinweber et al. show is the weaker choice).

    Selection, iterated with the current ``z`` (settings: :class:`EstimateSettings`): enough
    data and fluctuation power; before the first solution, planar fluctuations (rejecting
    one-dimensional, compressive intervals); then the compressibility ``var|Bm - z| /
    trace C`` and each interval's own fit residual. Uncertainty: bootstrap over intervals.
    Returns the estimate and the selected intervals (boolean [K]).
    """
    k = len(stats.n)
    base = np.ones(k, bool) if mask is None else mask.copy()
    power = np.trace(stats.cov, axis1=1, axis2=2)
    base &= power >= settings.min_power_nt2
    lam = np.linalg.eigvalsh(stats.cov)  # ascending
    planar = lam[:, 1] >= settings.min_planarity * np.maximum(lam[:, 2], 1e-30)
    sel = base & planar
    zero = start.copy() if start is not None else None
    cond = 0.0
    if zero is None:
        if sel.sum() < 3:
            return OffsetEstimate(
                zero_level=np.full(3, np.nan),
                sigma=np.full(3, np.nan),
                windows=int(sel.sum()),
                condition=0.0,
                determined=False,
            ), sel
        zero, cond = _solve(stats, sel)
    for _ in range(settings.iterations):
        if not np.all(np.isfinite(zero)):
            break
        new = (
            base
            & (_compressibility(stats, zero) <= settings.max_compressibility)
            & (_residual(stats, zero) <= settings.max_residual)
        )
        if new.sum() < 3:
            sel = new
            break
        z_new, cond = _solve(stats, new)
        done = (
            np.array_equal(new, sel)
            or not np.all(np.isfinite(z_new))
            or (np.max(np.abs(z_new - zero)) < 1e-4)
        )
        sel, zero = new, z_new
        if done:
            break
    n_sel = int(sel.sum())
    if n_sel < 3 or not np.all(np.isfinite(zero)):
        return OffsetEstimate(
            zero_level=np.full(3, np.nan),
            sigma=np.full(3, np.nan),
            windows=n_sel,
            condition=cond,
            determined=False,
        ), sel
    _, cond = _solve(stats, sel)
    sigma = _bootstrap(stats, sel, settings)
    determined = cond >= settings.min_condition and n_sel >= settings.min_windows
    return OffsetEstimate(
        zero_level=zero, sigma=sigma, windows=n_sel, condition=cond, determined=determined
    ), sel


def _bootstrap(stats: WindowStats, sel: np.ndarray, settings: EstimateSettings) -> np.ndarray:
    """1-sigma of the zero level per axis: resample the selected intervals with replacement
    (vectorised: every resample's normal equations at once)."""
    idx = np.flatnonzero(sel)
    if settings.bootstrap <= 1 or idx.size < 3:
        return np.full(3, np.nan)
    rng = np.random.default_rng(settings.seed)
    draw = idx[rng.integers(0, idx.size, (settings.bootstrap, idx.size))]
    nc = stats.n[:, None, None] * stats.cov
    nq = stats.n[:, None] * stats.cov_q
    a = nc[draw].sum(axis=1)
    r = nq[draw].sum(axis=1)
    good = np.linalg.eigvalsh(a)[:, 0] > 0
    z = 0.5 * np.linalg.solve(a[good], r[good][..., None])[..., 0]
    return z.std(axis=0, ddof=1) if len(z) > 2 else np.full(3, np.nan)


def estimate_from_series(
    tt: np.ndarray,
    b: np.ndarray,
    days: list[date],
    settings: EstimateSettings = DEFAULT_SETTINGS,
) -> tuple[OffsetEstimate, dict[date, OffsetEstimate]]:
    """The month's and each day's zero level from 1-s data (TT2000 ``tt``, ``b`` [N,3] nT)."""
    stats = window_stats(tt, b, settings.window_s, settings.min_fill)
    month, _ = davis_smith(stats, settings)
    per_day: dict[date, OffsetEstimate] = {}
    half = settings.span_days // 2
    for d in days:
        lo, _ = time.day_bounds_tt2000(np.datetime64(d.isoformat(), "D") - np.timedelta64(half, "D"))
        _, hi = time.day_bounds_tt2000(np.datetime64(d.isoformat(), "D") + np.timedelta64(half, "D"))
        mask = (stats.start >= lo) & (stats.start < hi)
        start = month.zero_level if month.determined else None
        per_day[d], _ = davis_smith(stats, settings, mask=mask, start=start)
    return month, per_day

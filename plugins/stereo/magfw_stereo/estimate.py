"""Level ``estimate``: proposed zero offsets from Alfvenic fluctuations (Davis-Smith).

The researcher derives each month's offsets by hand from the 1-s prep averages. This level
proposes a set, for the researcher to review, edit and import (``magfw stereo offsets
import``); it is never applied by itself. Unit: the month; it needs ``stereo/prep`` and reads
the month's ``prep_1s`` flat files from the output tree. Its product, ``offsets_estimate``,
is a researcher's offsets file (:mod:`magfw_stereo.researcher` layout) under
``input_offsets/``, diagnostics in its comments.

Method: Davis & Smith (1968), as Leinweber et al. (2008, Meas. Sci. Technol. 19 055104) use
it: in intervals where the field only rotates (Alfvenic), |B|^2 is constant, so the
covariance of B with |B|^2 determines the zero level. Intervals are selected by their
compressibility and planarity, the fit is iterated, and each day's estimate combines the day
with its neighbours (settings in :class:`EstimateSettings`).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from magfw.api import (
    InputError,
    Inputs,
    MissingInputError,
    NoCalibrate,
    NoCorrect,
    NoQuality,
    NoTransform,
    Product,
    UnitContext,
    day_ranges,
    read_product,
    time,
)
from magfw_stereo.researcher import format_offsets_file

ESTIMATE_PRODUCT = "offsets_estimate"
PREP_PRODUCT = "prep_1s"


@dataclass(frozen=True)
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


@dataclass
class WindowStats:
    """Per-interval sums of the Davis-Smith regression (all arrays over K intervals)."""

    start: np.ndarray  # [K] TT2000 of the interval start
    n: np.ndarray  # [K] valid samples
    cov: np.ndarray  # [K, 3, 3] covariance of B (nT^2)
    cov_q: np.ndarray  # [K, 3] covariance of B with |B|^2 (nT^3)
    var_q: np.ndarray  # [K] variance of |B|^2 (nT^4)
    mean: np.ndarray  # [K, 3] mean of B (nT)


@dataclass
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
        return WindowStats(z.astype(np.int64), z, z.reshape(0, 3, 3), z.reshape(0, 3), z, z.reshape(0, 3))
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
    return WindowStats(starts, n, cov, cov_q, var_q, mean)


def _compressibility(stats: WindowStats, zero: np.ndarray) -> np.ndarray:
    """var(|B - z|) / trace(cov) per interval, to first order in the fluctuations.

    With ``u`` the unit vector of the interval's mean corrected field, ``|B - z|`` varies as
    ``u . dB``, so its variance is ``u^T C u``; an Alfvenic (pure rotation) interval has
    ``u^T C u << trace C`` (the field rotates about a constant magnitude).
    """
    mean = stats.mean - zero[None, :]
    u = mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)
    along = np.einsum("ki,kij,kj->k", u, stats.cov, u)
    return along / np.maximum(np.trace(stats.cov, axis1=1, axis2=2), 1e-30)


def _residual(stats: WindowStats, zero: np.ndarray) -> np.ndarray:
    """Share of var(|B|^2) an offset ``zero`` leaves unexplained, per interval:
    ``var(dq - 2 z.dB) / var(dq)`` from the stored moments."""
    z = zero[None, :]
    resid = (
        stats.var_q
        - 4 * np.einsum("ki,ki->k", z, stats.cov_q)
        + 4 * np.einsum("ki,kij,kj->k", z, stats.cov, z)
    )
    return resid / np.maximum(stats.var_q, 1e-30)


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
    settings: EstimateSettings = EstimateSettings(),
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
            return OffsetEstimate(np.full(3, np.nan), np.full(3, np.nan), int(sel.sum()), 0.0, False), sel
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
        return OffsetEstimate(np.full(3, np.nan), np.full(3, np.nan), n_sel, cond, False), sel
    _, cond = _solve(stats, sel)
    sigma = _bootstrap(stats, sel, settings)
    determined = cond >= settings.min_condition and n_sel >= settings.min_windows
    return OffsetEstimate(zero, sigma, n_sel, cond, determined), sel


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


@dataclass
class MonthEstimate:
    """Proposed offsets of a month: the month's solution and one per day."""

    spacecraft: str
    year: int
    month: int
    month_estimate: OffsetEstimate
    days: dict[date, OffsetEstimate]  # the day's own solution (may be undetermined)
    inputs: list[Path]
    covered: set[date] = field(default_factory=set)  # days with 1-s data

    def proposed(self) -> dict[date, tuple[np.ndarray, str]]:
        """O per day (table convention) and where it came from ("day" or "month"); a day
        without any 1-s data gets no proposal (the month's value would be extrapolation)."""
        out: dict[date, tuple[np.ndarray, str]] = {}
        for d, est in self.days.items():
            if d not in self.covered:
                continue
            if est.determined:
                out[d] = (est.offsets, "day")
            elif self.month_estimate.determined:
                out[d] = (self.month_estimate.offsets, "month")
        return out


def estimate_from_series(
    tt: np.ndarray,
    b: np.ndarray,
    days: list[date],
    settings: EstimateSettings = EstimateSettings(),
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


def prep_series(paths: list[Path], columns: list[str], time_name: str) -> tuple[np.ndarray, np.ndarray]:
    """The 1-s prep averages of ``paths`` (in day order): TT2000, B [N,3] nT with gaps as NaN
    (fill 1e34, NPTS = 0)."""
    t_parts, b_parts = [], []
    for p in paths:
        data = read_product(p)
        missing = [c for c in columns if c not in data.variables]
        if missing:
            raise InputError(p, f"column {missing[0]!r} missing: not a prep_1s flat file")
        b = np.column_stack([data.variables[c] for c in columns]).astype(np.float64)
        bad = ~np.isfinite(b) | (np.abs(b) >= 0.99 * 1e34)
        if "NPTS" in data.variables:
            bad |= (np.asarray(data.variables["NPTS"]) <= 0)[:, None]
        b[bad.any(axis=1)] = np.nan
        t_parts.append(np.asarray(data.variables[time_name], dtype=np.int64))
        b_parts.append(b)
    return np.concatenate(t_parts), np.concatenate(b_parts)


@dataclass(frozen=True)
class PrepMonth:
    """``read``: the month's 1-s series and the files it came from."""

    spacecraft: str
    year: int
    month: int
    tt: np.ndarray  #: int64 TT2000
    b: np.ndarray  #: (N, 3) nT, NaN in gaps
    inputs: list[Path]


def estimate_month(data: PrepMonth, settings: EstimateSettings = EstimateSettings()) -> MonthEstimate:
    """Proposed offsets of a month from its 1-s series."""
    y, m = data.year, data.month
    days = [date(y, m, d) for d in range(1, calendar.monthrange(y, m)[1] + 1)]
    month_est, per_day = estimate_from_series(data.tt, data.b, days, settings)
    ok = np.isfinite(data.b).all(axis=1)
    covered = {date.fromisoformat(str(d)) for d in np.unique(time.utc_day_of(data.tt[ok]))}
    return MonthEstimate(data.spacecraft, y, m, month_est, per_day, data.inputs, covered)


def format_estimate(est: MonthEstimate, settings: EstimateSettings = EstimateSettings()) -> bytes:
    """The proposal as a researcher's offsets file (layout 1), diagnostics in comments."""
    m = est.month_estimate

    def vec(v: np.ndarray) -> str:
        return ", ".join(f"{x:+.3f}" for x in v)

    comments = [
        "PROPOSED by `magfw stereo offsets estimate`, NOT applied: review and edit, then",
        "`magfw stereo offsets import` this file.",
        "Method: Davis-Smith zero levels from Alfvenic intervals (Davis & Smith 1968; Leinweber",
        "et al. 2008, Meas. Sci. Technol. 19 055104), on the 1-s prep averages.",
        f"Intervals {settings.window_s} s; compressibility <= {settings.max_compressibility}; "
        f"residual <= {settings.max_residual}; each day from {settings.span_days} days.",
        "O is added to the unvalidated field (B = B_unvalidated + O) = -(zero level).",
        f"Month: O = ({vec(m.offsets)}) nT, 1-sigma ({vec(m.sigma)}) nT, "
        f"{m.windows} intervals, condition {m.condition:.3f}" + ("" if m.determined else ", UNDETERMINED"),
        "Inputs: "
        + ", ".join(p.name for p in est.inputs[:3])
        + (f" ... ({len(est.inputs)} files)" if len(est.inputs) > 3 else ""),
    ]
    proposed = est.proposed()
    for d, e in sorted(est.days.items()):
        src = proposed.get(d, (None, "none"))[1] if d in est.covered else "none (no 1-s data)"
        detail = f"{e.windows} intervals, 1-sigma ({vec(e.sigma)}) nT" if e.windows else "no usable intervals"
        comments.append(f"{d}: from {src}; own fit {detail}" + ("" if e.determined else " (undetermined)"))
    missing = [d for d in est.days if d not in proposed]
    if missing:
        comments.append(
            "NO PROPOSAL for "
            + ", ".join(str(d) for d in missing)
            + ": the researcher must supply these days."
        )
    return format_offsets_file(
        est.spacecraft, est.year, est.month, {d: v for d, (v, _) in proposed.items()}, comments
    )


class Estimate(NoCalibrate, NoCorrect, NoTransform, NoQuality):
    """The ``estimate`` level object (``stereo.estimate``)."""

    settings = EstimateSettings()

    def fetch(self, ctx: UnitContext) -> Inputs:
        sc, y, m = ctx.spacecraft or "A", ctx.unit.start.year, ctx.unit.start.month
        found = [
            f for f in ctx.newest_products("stereo", PREP_PRODUCT, sc=sc, yyyy=y, mm=m) if f.day is not None
        ]
        if not found:
            d = ctx.product(PREP_PRODUCT)
            raise MissingInputError(
                ctx.out_dir,
                f"no 1-s prep averages of ST{sc} for "
                f"{y:04d}-{m:02d} ({d.filename.glob(sc=sc, yyyy=y, mm=m)});"
                f" run `magfw run stereo prep {y:04d}-{m:02d}` first",
            )
        files = [ctx.product_input(f, PREP_PRODUCT) for f in sorted(found, key=lambda f: f.rel)]
        return Inputs(
            files=files,
            selection={"method": "Davis-Smith", **{k: str(v) for k, v in vars(self.settings).items()}},
        )

    def read(self, ctx: UnitContext, inputs: Inputs) -> PrepMonth:
        d = ctx.product(PREP_PRODUCT)
        tv = d.time_variable or "TIME"
        b_var = next(v for v in d.variables if v.name != tv and v.var_type == "data")
        cols = [str(c) for c in b_var.attrs.get("columns", ["BX", "BY", "BZ"])][:3]
        paths = [f.path for f in inputs.by_role(PREP_PRODUCT)]
        tt, b = prep_series(paths, cols, tv)
        ctx.vectors += int(tt.size)
        return PrepMonth(ctx.spacecraft or "A", ctx.unit.start.year, ctx.unit.start.month, tt, b, paths)

    def average(self, ctx: UnitContext, data: PrepMonth) -> MonthEstimate:
        return estimate_month(data, self.settings)

    def write(self, ctx: UnitContext, data: MonthEstimate) -> list[Product]:
        proposed = data.proposed()
        m = data.month_estimate
        if not proposed:
            raise InputError(
                data.inputs[0].parent,
                f"no offsets can be proposed for "
                f"ST{data.spacecraft} {data.year:04d}-{data.month:02d}: too few "
                f"Alfvenic intervals ({m.windows} selected, condition "
                f"{m.condition:.3f})",
            )
        n_day = sum(src == "day" for _, src in proposed.values())
        ctx.note(
            f"proposed offsets for {len(proposed)} of {len(data.days)} days ({n_day} from "
            f"their own intervals); month O = ({', '.join(f'{v:+.3f}' for v in m.offsets)})"
            f" nT +- ({', '.join(f'{v:.3f}' for v in m.sigma)}) from {m.windows} "
            "intervals. Not applied: review it, then `magfw stereo offsets import` it"
        )
        missing = [d for d in data.days if d not in proposed]
        if missing:
            ctx.note(f"no proposal for {day_ranges(missing)}: the researcher must supply these")
        return [
            Product(
                definition=ctx.product(ESTIMATE_PRODUCT),
                fields={"sc": data.spacecraft},
                payload=format_estimate(data, self.settings),
            )
        ]

"""Level ``estimate``: proposed zero offsets from Alfvenic fluctuations (Davis-Smith).

The researcher derives each month's offsets by hand from the 1-s prep averages. This level
proposes a set, for the researcher to review, edit and import (``magfw stereo offsets
import``); it is never applied by itself. Unit: the month; it needs ``stereo/prep`` and reads
the month's ``prep_1s`` flat files from the output tree. Its product, ``offsets_estimate``,
is a researcher's offsets file (:mod:`magfw_stereo.researcher` layout) under
``input_offsets/``, diagnostics in its comments.

Method: Davis-Smith zero levels (:mod:`magfw_stereo.davis_smith`).

    fetch -> Inputs -> read -> PrepMonth -> calibrate -> MonthEstimate -> write
          -> [offsets_estimate]

Estimating offsets is deriving calibration, so it is the ``calibrate`` step; the 1-s averages
are corrected already and nothing is rotated, binned or flagged, hence no other middle step.
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
    NoAverage,
    NoCorrect,
    NoQuality,
    NoTransform,
    Product,
    UnitContext,
    day_ranges,
    read_product,
    time,
)
from magfw_stereo.davis_smith import DEFAULT_SETTINGS, EstimateSettings, OffsetEstimate, estimate_from_series
from magfw_stereo.researcher import format_offsets_file

ESTIMATE_PRODUCT = "offsets_estimate"
PREP_PRODUCT = "prep_1s"


@dataclass(kw_only=True)
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


@dataclass(frozen=True, kw_only=True)
class PrepMonth:
    """``read``: the month's 1-s series and the files it came from."""

    spacecraft: str
    year: int
    month: int
    tt: np.ndarray  #: int64 TT2000
    b: np.ndarray  #: (N, 3) nT, NaN in gaps
    inputs: list[Path]


def estimate_month(data: PrepMonth, settings: EstimateSettings = DEFAULT_SETTINGS) -> MonthEstimate:
    """Proposed offsets of a month from its 1-s series."""
    y, m = data.year, data.month
    days = [date(y, m, d) for d in range(1, calendar.monthrange(y, m)[1] + 1)]
    month_est, per_day = estimate_from_series(data.tt, data.b, days, settings)
    ok = np.isfinite(data.b).all(axis=1)
    covered = {date.fromisoformat(str(d)) for d in np.unique(time.utc_day_of(data.tt[ok]))}
    return MonthEstimate(
        spacecraft=data.spacecraft,
        year=y,
        month=m,
        month_estimate=month_est,
        days=per_day,
        inputs=data.inputs,
        covered=covered,
    )


def format_estimate(est: MonthEstimate, settings: EstimateSettings = DEFAULT_SETTINGS) -> bytes:
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


class Estimate(NoCorrect, NoTransform, NoAverage, NoQuality):
    """The ``estimate`` level object: ``fetch``, ``read``, ``calibrate``, ``write``."""

    settings = DEFAULT_SETTINGS

    def fetch(self, ctx: UnitContext) -> Inputs:
        sc, y, m = ctx.sc, ctx.unit.start.year, ctx.unit.start.month
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
        return PrepMonth(
            spacecraft=ctx.sc,
            year=ctx.unit.start.year,
            month=ctx.unit.start.month,
            tt=tt,
            b=b,
            inputs=paths,
        )

    def calibrate(self, ctx: UnitContext, data: PrepMonth) -> MonthEstimate:
        """Davis-Smith offsets of the month and of each day."""
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

"""Monthly review CDFs: the month's daily L1 CDFs of one spacecraft merged, data only.

Today the chain runs ``cdfmerge -dataonly`` on four merge lists (SC/RTN x MAG/MAGB) and looks
at the monthly files in MagPy. :func:`merge_month` does the same from the daily products in
the output tree, found through their definitions (``l1_mag_sc``, ``l1_mag_rtn``,
``l1_magb_sc``, ``l1_magb_rtn``), and writes the ``monthly_review`` product:

- records are concatenated in time order, unchanged (the arrays of the monthly file are
  exactly the daily arrays one after the other);
- metadata come from the first daily file, as ``-dataonly`` does: its global attributes
  (except those the review definition fixes, such as ``Data_type`` and ``TEXT``, so a review
  file is never taken for a daily product) and the descriptive attributes of its variables
  (``CATDESC``, ``FIELDNAM``, ``COORDINATE_SYSTEM``...); ``Parents`` lists the daily files;
  ``Calibration_version`` and ``SPICE_kernels`` are the union over the days;
- a day listed twice keeps its highest version; days of the month without a normal-mode file
  are reported (the rest is merged); burst files exist on some days only, so missing burst
  days are not an anomaly;
- records out of time order inside a file, or a file that starts before the previous day's
  file ends (overlapping or out-of-order days), stop the merge with one line naming the file;
- an unreadable daily CDF stops the merge with one line naming it; nothing partial is left.

It is the level ``merge`` (unit: the month; it reads only the output tree), so the runner
commits the four files together under the unit's lock and records the merge in the ledger
(unit ``stereo/merge/{sc}/{yyyy-mm}``) with the SHA-256 of every daily file and monthly file;
a rerun with unchanged daily files is skipped. Records are streamed: the writer reads one
variable of one day at a time, so the month is held one variable at a time, never whole. Its
steps are ``fetch``, ``read`` (the days' layouts, checked) and ``write`` (the streamed files):
a merge changes no value, so it has no middle step.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from magfw.api import (
    FoundProduct,
    InputError,
    Inputs,
    MissingInputError,
    NoMiddleSteps,
    Product,
    ProductDefinition,
    UnitContext,
    day_ranges,
    read_cdf,
    time,
)

#: Daily product of each monthly review file, by the review's name fields (burst, frame).
DAILY_PRODUCTS: dict[tuple[str, str], str] = {
    ("", "SC"): "l1_mag_sc",
    ("", "RTN"): "l1_mag_rtn",
    ("B", "SC"): "l1_magb_sc",
    ("B", "RTN"): "l1_magb_rtn",
}
REVIEW_PRODUCT = "monthly_review"

#: Variable attributes the review definition decides (structure, types); the rest come from
#: the first daily file.
_STRUCTURAL = (
    "FILLVAL",
    "VALIDMIN",
    "VALIDMAX",
    "SCALEMIN",
    "SCALEMAX",
    "VAR_TYPE",
    "UNITS",
    "FORMAT",
    "DISPLAY_TYPE",
    "BIN_LOCATION",
    "MONOTON",
)
#: Global attributes merged over the days rather than taken from the first file.
_UNION_ATTRS = ("Calibration_version", "SPICE_kernels")


def month_days(year: int, month: int) -> list[date]:
    return [date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]


@dataclass(frozen=True, kw_only=True)
class DailyFile:
    """One daily product file of the month (highest version of its day)."""

    day: date
    path: Path
    version: int


@dataclass(frozen=True, kw_only=True)
class ReviewPart:
    """What one monthly review file is made of."""

    burst: str  #: "" or "B"
    frame: str  #: "SC" or "RTN"
    daily_id: str
    files: list[DailyFile]
    missing: list[date]  #: days of the month without a normal-mode file


@dataclass(frozen=True, kw_only=True)
class MergeMonth:
    """``read``: the month's daily files by review file, and the first file's metadata."""

    sc: str
    year: int
    month: int
    parts: list[ReviewPart]
    first: dict[str, Any]  #: global attributes of each part's first file, by daily id
    first_var_attrs: dict[str, dict[str, dict[str, Any]]]
    day_attrs: dict[str, list[dict[str, Any]]]  #: every file's global attributes, by daily id


def day_files(found: dict[date, FoundProduct]) -> list[DailyFile]:
    return [DailyFile(day=d, path=f.path, version=f.version or 0) for d, f in sorted(found.items())]


def _union(values: Iterable[Any]) -> list[str]:
    out: list[str] = []
    for v in values:
        for item in v if isinstance(v, list) else [v]:
            text = str(item)
            if text and text != "none" and text not in out:
                out.append(text)
    return out


def _iso(epoch_ms: float) -> str:
    return str(time.tt2000_to_iso(time.tt2000_from_cdf_epoch(np.float64(epoch_ms)), precision_ns=10**6))


def epoch_chunks(files: list[DailyFile], name: str) -> Iterator[np.ndarray]:
    """The month's ``name`` (CDF_EPOCH ms) day by day, checking order: records increasing
    inside a file, all in the file's day, each file after the previous one."""
    last_end: float | None = None
    last_path: Path | None = None
    for f in files:
        epoch = np.asarray(read_cdf(f.path, [name]).variables[name], dtype=np.float64)
        if epoch.size:
            bad = np.flatnonzero(~(np.diff(epoch) > 0))
            if bad.size:
                i = int(bad[0])
                raise InputError(
                    f.path,
                    f"{name} not increasing at record {i + 1} ({_iso(epoch[i])} then {_iso(epoch[i + 1])})",
                )
            start, end = time.day_bounds_tt2000(np.datetime64(f.day.isoformat(), "D"))
            tt_first, tt_last = time.tt2000_from_cdf_epoch(epoch[[0, -1]])
            if tt_first < start or tt_last >= end:
                raise InputError(
                    f.path,
                    f"records from {_iso(epoch[0])} to {_iso(epoch[-1])} "
                    f"are not all in its day {f.day}: out-of-order or "
                    "mislabelled day",
                )
            if last_end is not None and epoch[0] <= last_end:
                raise InputError(
                    f.path,
                    f"starts at {_iso(epoch[0])}, not after the end of "
                    f"{last_path.name if last_path else '?'} "
                    f"({_iso(last_end)}): overlapping or out-of-order days",
                )
            last_end, last_path = float(epoch[-1]), f.path
        yield epoch


def variable_chunks(files: list[DailyFile], name: str) -> Iterator[np.ndarray]:
    """The month's ``name`` day by day (one day's one variable in memory at a time)."""
    for f in files:
        yield np.asarray(read_cdf(f.path, [name]).variables[name])


def _lazy_variables(review: ProductDefinition, files: list[DailyFile]) -> dict[str, Any]:
    """Record-varying variables as functions yielding the days' chunks; the others (labels)
    from the first day's file."""
    tv = review.time_variable or "Epoch"
    variables: dict[str, Any] = {}
    for v in review.variables:
        if v.record_varying:
            chunks = epoch_chunks if v.name == tv else variable_chunks
            variables[v.name] = lambda n=v.name, c=chunks: c(files, n)
    fixed = [v.name for v in review.variables if not v.record_varying]
    variables.update(read_cdf(files[0].path, fixed).variables)
    return variables


def _descriptive_attrs(
    review: ProductDefinition, source: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The first day's descriptive variable attributes (CATDESC, FIELDNAM...), as -dataonly."""
    out: dict[str, dict[str, Any]] = {}
    for v in review.variables:
        keep = {
            k: val
            for k, val in source.get(v.name, {}).items()
            if isinstance(val, str) and k not in _STRUCTURAL and not k.startswith(("DEPEND_", "LABL_PTR_"))
        }
        if keep:
            out[v.name] = keep
    return out


def _global_attrs(
    review: ProductDefinition, first: dict[str, Any], days: list[dict[str, Any]]
) -> dict[str, Any]:
    """The first day's globals but those the review fixes; unions over the days; SIMULATED
    when any day is."""
    attrs = {k: v for k, v in first.items() if k not in review.global_attrs}
    attrs["Logical_file_id"] = None  # the writer names the monthly file itself
    for key in _UNION_ATTRS:
        attrs[key] = _union(g.get(key, []) for g in days) or ["none"]
    simulated = [s for s in (str(g.get("Data_source", "")) for g in days) if "SIMULATED" in s.upper()]
    if simulated:
        attrs["Data_source"] = simulated[0]
    return attrs


def review_product(review: ProductDefinition, data: MergeMonth, part: ReviewPart) -> Product:
    """The monthly review product of one part, its records read lazily day by day."""
    files = part.files
    versions = sorted({f.version for f in files})
    if len(versions) > 1:
        raise InputError(
            files[0].path.parent,
            f"daily {part.daily_id} files of "
            f"{data.year:04d}-{data.month:02d} have mixed versions "
            f"{', '.join(f'V{x:02d}' for x in versions)}",
        )
    return Product(
        definition=review,
        fields={"sc": data.sc, "burst": part.burst, "frame": part.frame, review.version.field: versions[0]},
        variables=_lazy_variables(review, files),
        attrs=_global_attrs(review, data.first[part.daily_id], data.day_attrs[part.daily_id]),
        variable_attrs=_descriptive_attrs(review, data.first_var_attrs[part.daily_id]),
        inputs=[f.path.name for f in files],
    )


class Merge(NoMiddleSteps):
    """The ``merge`` level object (``fetch``, ``read``, ``write``): the month's review CDFs."""

    def fetch(self, ctx: UnitContext) -> Inputs:
        """Every daily L1 CDF of the month (highest version per day), from the output tree."""
        sc, y, m = ctx.sc, ctx.unit.start.year, ctx.unit.start.month
        files = []
        notes = []
        normal = 0
        for (burst, _frame), pid in DAILY_PRODUCTS.items():
            by_day = {
                f.day: f for f in ctx.newest_products("stereo", pid, sc=sc, yyyy=y, mm=m) if f.day is not None
            }
            files += [ctx.product_input(f, pid) for _, f in sorted(by_day.items())]
            if not burst:
                normal += len(by_day)
                missing = [d for d in month_days(y, m) if d not in by_day]
                if by_day and missing:
                    notes.append(
                        f"{pid}: {len(missing)} day(s) missing, merged the rest: {day_ranges(missing)}"
                    )
        if not normal:
            where = ", ".join(
                ctx.product(DAILY_PRODUCTS[("", f)]).filename.glob(sc=sc, yyyy=y, mm=m) for f in ("SC", "RTN")
            )
            raise MissingInputError(
                ctx.out_dir,
                f"no daily L1 CDFs of ST{sc} for "
                f"{y:04d}-{m:02d} ({where}); run `magfw run stereo l1 "
                f"{y:04d}-{m:02d}` first",
            )
        return Inputs(files=files, notes=notes)

    def read(self, ctx: UnitContext, inputs: Inputs) -> MergeMonth:
        """Which files make each review file, and the metadata of the first (attributes only:
        the records are streamed when written)."""
        y, m = ctx.unit.start.year, ctx.unit.start.month
        parts, first, first_vars, day_attrs = [], {}, {}, {}
        for (burst, frame), pid in DAILY_PRODUCTS.items():
            files = []
            for f in inputs.by_role(pid):
                fields = ctx.product(pid).filename.parse(f.name) or {}
                files.append(
                    DailyFile(
                        day=date(int(fields["yyyy"]), int(fields["mm"]), int(fields["dd"])),
                        path=f.path,
                        version=int(fields.get(ctx.product(pid).version.field, 0)),
                    )
                )
            days = {f.day for f in files}
            missing = [] if burst else [d for d in month_days(y, m) if d not in days]
            parts.append(ReviewPart(burst=burst, frame=frame, daily_id=pid, files=files, missing=missing))
            if files:  # attributes only: the records are streamed when written
                head = read_cdf(files[0].path, data=False)
                first[pid] = head.global_attrs
                first_vars[pid] = head.var_attrs
                day_attrs[pid] = [head.global_attrs] + [
                    read_cdf(f.path, [], data=False).global_attrs for f in files[1:]
                ]
        return MergeMonth(
            sc=ctx.sc,
            year=y,
            month=m,
            parts=parts,
            first=first,
            first_var_attrs=first_vars,
            day_attrs=day_attrs,
        )

    def write(self, ctx: UnitContext, data: MergeMonth) -> list[Product]:
        review = ctx.product(REVIEW_PRODUCT)
        return [review_product(review, data, part) for part in data.parts if part.files]

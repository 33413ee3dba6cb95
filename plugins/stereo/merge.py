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
- an unreadable daily CDF stops the merge with one line naming it; the four monthly files
  are staged and renamed into place together, so nothing partial is ever left.

The merge is recorded in the ledger of the output tree (unit ``stereo/merge/{sc}/{yyyy-mm}``)
with the SHA-256 of every daily file and monthly file.
"""

from __future__ import annotations

import calendar
import os
import shutil
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from magfw import __version__
from magfw.config import state_dir
from magfw.context import Product
from magfw.errors import InputError, MissingInputError
from magfw.io.checksum import sha256_file
from magfw.ledger import Ledger, LedgerEntry
from magfw.mission import Mission
from magfw.products import ProductDefinition

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
_STRUCTURAL = ("FILLVAL", "VALIDMIN", "VALIDMAX", "SCALEMIN", "SCALEMAX", "VAR_TYPE", "UNITS",
               "FORMAT", "DISPLAY_TYPE", "BIN_LOCATION", "MONOTON")
#: Global attributes merged over the days rather than taken from the first file.
_UNION_ATTRS = ("Calibration_version", "SPICE_kernels")


@dataclass
class DailyFile:
    """One daily product file found in the output tree."""

    day: date
    path: Path
    version: int


@dataclass
class MergedProduct:
    """What one monthly review file holds."""

    burst: str
    frame: str
    daily_id: str
    days: list[date]
    missing: list[date]
    records: int
    path: Path | None = None


@dataclass
class MergeReport:
    """The outcome of :func:`merge_month`."""

    spacecraft: str
    year: int
    month: int
    products: list[MergedProduct] = field(default_factory=list)

    @property
    def written(self) -> list[Path]:
        return [p.path for p in self.products if p.path is not None]

    @property
    def missing_days(self) -> dict[str, list[date]]:
        """Normal-mode products with days of the month that had no daily file."""
        return {p.daily_id: p.missing for p in self.products if p.missing}


def day_ranges(days: Iterable[date]) -> str:
    """Days as short ranges: ``2024-01-03, 2024-01-05..2024-01-31``."""
    out: list[str] = []
    run: list[date] = []
    for d in sorted(days):
        if run and (d - run[-1]).days == 1:
            run.append(d)
            continue
        if run:
            out.append(run[0].isoformat() if len(run) == 1 else f"{run[0]}..{run[-1]}")
        run = [d]
    if run:
        out.append(run[0].isoformat() if len(run) == 1 else f"{run[0]}..{run[-1]}")
    return ", ".join(out)


def month_days(year: int, month: int) -> list[date]:
    return [date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]


def find_products(out_dir: Path, definition: ProductDefinition, **given: Any
                  ) -> list[tuple[Path, dict[str, Any]]]:
    """Files of ``definition`` under ``out_dir`` whose name fields match ``given``, with all
    their parsed fields: found through the definition's file name (and directory), never a
    hard-coded path. (``FileName.glob`` leaves ``**`` for two adjacent open fields, which
    pathlib refuses; runs of ``*`` are collapsed here.)"""
    import re

    out_dir = Path(out_dir)
    pattern = re.sub(r"\*{2,}", "*", definition.filename.glob(**given))
    found = []
    for path in out_dir.glob(pattern):
        if not path.is_file() or path.name.startswith("."):
            continue
        fields = definition.filename.parse(path.relative_to(out_dir).as_posix())
        if fields is None or any(fields.get(k) != v for k, v in given.items()):
            continue
        found.append((path, fields))
    return sorted(found)


def find_daily_files(
    out_dir: Path, definition: ProductDefinition, spacecraft: str, year: int, month: int
) -> dict[date, DailyFile]:
    """The month's daily files of ``definition`` under ``out_dir``, highest version per day.

    Files are found and parsed through the definition's file name (with its directory, if it
    has one), never by a hard-coded path.
    """
    vf = definition.version.field
    found: dict[date, DailyFile] = {}
    for path, fields in find_products(out_dir, definition, sc=spacecraft, yyyy=year, mm=month):
        try:
            day = date(int(fields["yyyy"]), int(fields["mm"]), int(fields["dd"]))
        except (KeyError, ValueError):
            continue
        version = int(fields.get(vf, 0))
        if day not in found or version > found[day].version:
            found[day] = DailyFile(day, path, version)
    return dict(sorted(found.items()))


def _read_daily(path: Path, definition: ProductDefinition) -> Any:
    """A daily CDF read whole with the core reader; a missing variable is one clear line."""
    from magfw.io.cdf import read_cdf

    data = read_cdf(path)
    for var in definition.variables:
        if var.name not in data.variables and not var.optional:
            raise InputError(path, f"variable {var.name!r} missing: not a daily "
                                   f"{definition.id} product")
    return data


def _union(values: Iterable[Any]) -> list[str]:
    out: list[str] = []
    for v in values:
        for item in (v if isinstance(v, list) else [v]):
            text = str(item)
            if text and text != "none" and text not in out:
                out.append(text)
    return out


def _merge_one(
    out_dir: Path,
    review: ProductDefinition,
    daily: ProductDefinition,
    files: list[DailyFile],
    fields: dict[str, Any],
) -> tuple[Product, int]:
    """The monthly review product of ``files`` (in day order), and its record count."""
    from magfw.time import day_bounds_tt2000, tt2000_from_cdf_epoch

    tv = review.time_variable or "Epoch"
    rv_names = [v.name for v in review.variables if v.record_varying]
    parts: dict[str, list[np.ndarray]] = {n: [] for n in rv_names}
    first: Any = None
    gattrs_all: list[dict[str, Any]] = []
    last_end: float | None = None
    last_path: Path | None = None
    for f in files:
        data = _read_daily(f.path, daily)
        epoch = np.asarray(data.variables[tv], dtype=np.float64)
        if epoch.size:
            steps = np.diff(epoch)
            bad = np.flatnonzero(~(steps > 0))
            if bad.size:
                i = int(bad[0])
                raise InputError(f.path, f"{tv} not increasing at record {i + 1} "
                                         f"({_iso(epoch[i])} then {_iso(epoch[i + 1])})")
            start, end = day_bounds_tt2000(np.datetime64(f.day.isoformat(), "D"))
            tt_first, tt_last = tt2000_from_cdf_epoch(epoch[[0, -1]])
            if tt_first < start or tt_last >= end:
                raise InputError(f.path, f"records from {_iso(epoch[0])} to {_iso(epoch[-1])} "
                                         f"are not all in its day {f.day}: out-of-order or "
                                         "mislabelled day")
            if last_end is not None and epoch[0] <= last_end:
                raise InputError(f.path, f"starts at {_iso(epoch[0])}, not after the end of "
                                         f"{last_path.name if last_path else '?'} "
                                         f"({_iso(last_end)}): overlapping or out-of-order days")
            last_end, last_path = float(epoch[-1]), f.path
        for n in rv_names:
            parts[n].append(np.asarray(data.variables[n]))
        gattrs_all.append(data.global_attrs)
        if first is None:
            first = data
        del data
    assert first is not None
    variables: dict[str, np.ndarray] = {}
    for n in rv_names:
        variables[n] = np.concatenate(parts[n], axis=0)
        parts[n].clear()
    for v in review.variables:
        if not v.record_varying and v.name in first.variables:
            variables[v.name] = first.variables[v.name]
    var_attrs: dict[str, dict[str, Any]] = {}
    for v in review.variables:
        src = first.var_attrs.get(v.name, {})
        keep = {k: val for k, val in src.items() if isinstance(val, str)
                and k not in _STRUCTURAL and not k.startswith(("DEPEND_", "LABL_PTR_"))}
        if keep:
            var_attrs[v.name] = keep
    attrs = {k: v for k, v in first.global_attrs.items() if k not in review.global_attrs}
    attrs["Logical_file_id"] = None  # the writer names the monthly file itself
    attrs["Parents"] = [f.path.name for f in files]
    attrs["Generation_date"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    attrs["Software_version"] = f"magfw {__version__}; stereo merge (cdfmerge -dataonly)"
    for key in _UNION_ATTRS:
        attrs[key] = _union(g.get(key, []) for g in gattrs_all) or ["none"]
    sources = {str(g.get("Data_source", "")) for g in gattrs_all}
    simulated = [s for s in sources if "SIMULATED" in s.upper()]
    if simulated:
        attrs["Data_source"] = simulated[0]
    n = int(variables[tv].shape[0])
    return Product(definition=review, fields=fields, variables=variables, attrs=attrs,
                   variable_attrs=var_attrs), n


def _iso(epoch_ms: float) -> str:
    from magfw.time import tt2000_from_cdf_epoch, tt2000_to_iso

    return str(tt2000_to_iso(tt2000_from_cdf_epoch(np.float64(epoch_ms)), precision_ns=10**6))


def merge_month(
    mission: Mission, out_dir: Path, year: int, month: int, spacecraft: str,
    plugin_version: str = "",
) -> MergeReport:
    """Merge the month's daily L1 CDFs of ``spacecraft`` into the four review CDFs.

    Raises :class:`MissingInputError` when the month has no normal-mode daily file at all,
    :class:`InputError` for an unreadable or inconsistent daily file (nothing is written
    then). Missing days are in the report (:attr:`MergeReport.missing_days`).
    """
    from magfw.io.products import write_product

    out_dir = Path(out_dir)
    review = mission.product(REVIEW_PRODUCT)
    report = MergeReport(spacecraft, year, month)
    all_days = month_days(year, month)
    plan: list[tuple[str, str, ProductDefinition, list[DailyFile]]] = []
    for (burst, frame), daily_id in DAILY_PRODUCTS.items():
        daily = mission.product(daily_id)
        found = find_daily_files(out_dir, daily, spacecraft, year, month)
        missing = [] if burst else [d for d in all_days if d not in found]
        report.products.append(MergedProduct(burst, frame, daily_id, list(found), missing, 0))
        plan.append((burst, frame, daily, list(found.values())))
    if not any(files for burst, _, _, files in plan if not burst):
        where = ", ".join(mission.product(DAILY_PRODUCTS[("", f)]).filename.glob(
            sc=spacecraft, yyyy=year, mm=month) for f in ("SC", "RTN"))
        raise MissingInputError(out_dir, f"no daily L1 CDFs of ST{spacecraft} for "
                                         f"{year:04d}-{month:02d} ({where}); run "
                                         f"`magfw run stereo l1 {year:04d}-{month:02d}` first")

    t0, started = time.perf_counter(), time.time()
    stage = state_dir(out_dir) / "staging" / f"merge-{uuid.uuid4().hex}"
    staged: list[tuple[Path, Path, str]] = []
    inputs: list[dict[str, Any]] = []
    try:
        for (burst, frame, daily, files), entry in zip(plan, report.products, strict=True):
            if not files:
                continue
            versions = sorted({f.version for f in files})
            if len(versions) > 1:
                raise InputError(files[0].path.parent, f"daily {daily.id} files of "
                                 f"{year:04d}-{month:02d} have mixed versions "
                                 f"{', '.join(f'V{v:02d}' for v in versions)}")
            fields = {"sc": spacecraft, "burst": burst, "frame": frame, "yyyy": year,
                      "mm": month, review.version.field: versions[0]}
            product, n = _merge_one(out_dir, review, daily, files, fields)
            rel = review.filename.format(**fields)
            for p in write_product(product, stage / rel, {}):
                staged.append((p, out_dir / p.relative_to(stage), review.id))
            del product
            entry.records = n
            entry.path = out_dir / rel
            inputs += [{"role": "data", "name": f.path.relative_to(out_dir).as_posix(),
                        "sha256": sha256_file(f.path), "size": f.path.stat().st_size,
                        "version": f"V{f.version:02d}"} for f in files]
        outputs = []
        for src, dst, pid in staged:
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            outputs.append({"path": dst.relative_to(out_dir).as_posix(), "product": pid,
                            "sha256": sha256_file(dst), "size": dst.stat().st_size})
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    missing = report.missing_days
    Ledger(state_dir(out_dir) / "ledger.sqlite").record(LedgerEntry(
        unit=f"{mission.id}/merge/{spacecraft}/{year:04d}-{month:02d}", status="ok",
        versions={"magfw": __version__, "plugin": plugin_version,
                  "definitions": {review.id: review.digest()}},
        inputs=inputs, outputs=outputs,
        reason=("missing days: " + "; ".join(f"{k} {day_ranges(v)}" for k, v in missing.items())
                if missing else None),
        vectors=sum(p.records for p in report.products), started=started,
        duration_s=time.perf_counter() - t0))
    return report


__all__ = ["DAILY_PRODUCTS", "DailyFile", "MergeReport", "MergedProduct", "day_ranges",
           "find_daily_files", "find_products", "merge_month", "month_days"]

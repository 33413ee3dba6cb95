"""``magfw check``: does a product file match its product definition?

:func:`check_file` finds the definition whose file-name template matches the file's name,
reads the file and reports every violation it finds, one line each: missing or unexpected
variables, wrong types and dimensions, missing or wrong ISTP (CDF) or CF (netCDF) variable
attributes, values outside the valid range that are not fill, time stamps that go backwards
or repeat, and missing global attributes (the definition's required ones plus its provenance
attributes). An unreadable file is one problem, not a crash.

What it does **not** do: every check is made against a product definition. A file whose name
matches no definition (a foreign file: someone else's CDF) is reported as exactly that, and no
general ISTP or CF rule is run on it; nor are the ISTP/CF conventions checked beyond what the
definition implies (the variable attributes it declares, the required global attributes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from magfw.errors import DefinitionError, InputError
from magfw.io.products import (
    FLATFILE_FILL,
    ProductData,
    expected_fill,
    fixed_shape,
    flatfile_layout,
    full_dims,
    read_product,
    typed,
)
from magfw.plugin.definitions import ProductDefinition, Variable
from magfw.tools.check_conventions import acdd_notes, check_cf, check_istp

#: The one problem of a file no definition knows: said plainly, since nothing else is checked.
NO_DEFINITION = (
    "file name does not match any product definition (nothing else was checked: "
    "magfw check compares files with magfw's product definitions and runs no "
    "general ISTP/CF rules)"
)
#: How many offending records a message names at most.
_SHOW = 3


@dataclass
class CheckReport:
    """The outcome of checking one file: the matched definition (key), every problem, and
    notes (what a convention the file follows recommends and it lacks: not a failure)."""

    path: Path
    definition: str | None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def format_report(report: CheckReport) -> str:
    """A human-readable report: one line for a good file, else one line per problem."""
    what = f" ({report.definition})" if report.definition else ""
    notes = [f"  note: {n}" for n in report.notes]
    if report.ok:
        return "\n".join([f"{report.path}: OK{what}", *notes])
    n = len(report.problems)
    lines = [f"{report.path}: {n} problem{'s' if n != 1 else ''}{what}"]
    lines += [f"  - {p}" for p in report.problems]
    return "\n".join(lines + notes)


# ---------------------------------------------------------------------------------------------
# Matching a file to its definition
# ---------------------------------------------------------------------------------------------


def match_definition(path: str | Path, definitions: Iterable[ProductDefinition]) -> ProductDefinition | None:
    """The definition whose file-name template matches ``path`` (:func:`magfw.io.identify.by_name`:
    the rule the xarray engine uses too)."""
    from magfw.io.identify import by_name

    return by_name(path, definitions)


# ---------------------------------------------------------------------------------------------
# Checking
# ---------------------------------------------------------------------------------------------


def check_file(path: str | Path, definitions: Iterable[ProductDefinition]) -> CheckReport:
    """Check ``path`` against the matching definition; never raises for a bad file."""
    path = Path(path)
    if not path.exists():
        return CheckReport(path, None, ["no such file"])
    if path.is_dir():
        return CheckReport(path, None, ["is a directory, not a product file"])
    definition = match_definition(path, definitions)
    if definition is None:
        return CheckReport(path, None, [NO_DEFINITION])
    report = CheckReport(path, definition.key)
    fmt = definition.format
    if fmt == "png":
        try:
            head = path.read_bytes()[:8]
        except OSError as exc:
            report.problems.append(f"unreadable: {exc}")
            return report
        if head != b"\x89PNG\r\n\x1a\n":
            report.problems.append("not a PNG file (bad signature)")
        return report
    if fmt == "bytes":
        if not path.is_file():
            report.problems.append("unreadable: no such file")
        return report
    try:
        data = read_product(path)
    except InputError as exc:
        report.problems.append(f"unreadable: {exc.problem}")
        return report
    except Exception as exc:  # a reader bug must still not crash a check of many files
        report.problems.append(f"unreadable: {type(exc).__name__}: {exc}")
        return report
    if data.format != fmt:
        report.problems.append(f"file is {data.format}, definition says {fmt}")
        return report
    if data.format == "flatfile":
        _check_flatfile(definition, data, report.problems)
    else:
        _check_variables(definition, data, report.problems)
        _check_time(definition.time_variable, data, report.problems)
    _check_globals(definition, data, report.problems)
    report.notes += acdd_notes(definition, data)
    return report


def _check_variables(d: ProductDefinition, data: ProductData, problems: list[str]) -> None:
    declared = {v.name for v in d.variables}
    for var in d.variables:
        if var.name not in data.variables:
            if not var.optional:
                problems.append(f"missing required variable {var.name!r}")
            continue
        _check_type_and_shape(d, var, data, problems)
        if data.format == "cdf":
            check_istp(d, var, data, problems)
        else:
            check_cf(d, var, data, problems)
        _check_range(var, data, problems)
    for name in data.variables:
        if name not in declared:
            problems.append(f"unexpected variable {name!r} (not in the definition)")
    # pointers in the file (declared or not) must name existing variables
    for name, attrs in data.var_attrs.items():
        for key, target in attrs.items():
            if key.startswith(("DEPEND_", "LABL_PTR_")) and isinstance(target, str):
                if target not in data.variables:
                    problems.append(f"variable {name!r}: {key} points at missing variable {target!r}")


def _check_type_and_shape(
    d: ProductDefinition, var: Variable, data: ProductData, problems: list[str]
) -> None:
    info = data.info[var.name]
    if data.format == "cdf":
        from magfw.io.cdf import CDF_TYPES, accepted_cdf_types

        if info.data_type not in accepted_cdf_types(var):
            problems.append(
                f"variable {var.name!r} has type {info.data_type}, expected "
                f"{CDF_TYPES[var.dtype]} ({var.dtype})"
            )
    else:
        want = "str" if var.dtype == "str" else var.numpy_dtype
        if info.data_type != want:
            problems.append(
                f"variable {var.name!r} has dtype {info.data_type}, expected {want} ({var.dtype})"
            )
    if info.record_varying != var.record_varying:
        problems.append(
            f"variable {var.name!r} is {'' if info.record_varying else 'not '}"
            f"record-varying, expected {'' if var.record_varying else 'not '}"
            f"record-varying"
        )
        return
    want_shape = fixed_shape(d, var)
    want_dims = want_shape[1:] if var.record_varying else want_shape
    names = full_dims(d, var)
    if len(info.dims) != len(want_dims) or any(
        w is not None and g != w for g, w in zip(info.dims, want_dims, strict=False)
    ):
        shown = "[" + ", ".join("N" if s is None else str(s) for s in want_shape) + "]"
        got = (["N"] if var.record_varying else []) + [str(s) for s in info.dims]
        problems.append(
            f"variable {var.name!r} has shape [{', '.join(got)}], expected {shown} ({', '.join(names)})"
        )
    if data.format == "netcdf" and info.dim_names and list(info.dim_names) != names:
        problems.append(f"variable {var.name!r} has dimensions {list(info.dim_names)}, expected {names}")


def _records(mask: np.ndarray) -> str:
    """'at records 3, 9, 12' for the first few records where ``mask`` holds."""
    rows = np.flatnonzero(mask.reshape(mask.shape[0], -1).any(axis=1) if mask.ndim > 1 else mask)
    shown = ", ".join(str(int(r)) for r in rows[:_SHOW])
    more = ", ..." if rows.size > _SHOW else ""
    return f"record{'s' if rows.size > 1 else ''} {shown}{more}"


def _check_range(var: Variable, data: ProductData, problems: list[str]) -> None:
    if var.dtype == "str" or (var.valid_min is None and var.valid_max is None):
        return
    arr = data.variables[var.name]
    if arr.size == 0 or arr.dtype.kind not in "iuf":
        return
    good = np.ones(arr.shape, dtype=bool)
    fill = expected_fill(var)
    if fill is not None:
        good &= arr != fill
    if arr.dtype.kind == "f":
        good &= ~np.isnan(arr)
    bad = np.zeros(arr.shape, dtype=bool)
    if var.valid_min is not None:
        bad |= good & (arr < typed(var, var.valid_min))
    if var.valid_max is not None:
        bad |= good & (arr > typed(var, var.valid_max))
    count = int(bad.sum())
    if count:
        problems.append(
            f"variable {var.name!r}: {count} value{'s' if count > 1 else ''} "
            f"outside [{var.valid_min}, {var.valid_max}] that are not fill "
            f"(at {_records(bad)})"
        )


def _check_flatfile(d: ProductDefinition, data: ProductData, problems: list[str]) -> None:
    """Columns of a flat file against the definition's layout (see magfw.io.products)."""
    try:
        time_var, tname, layout = flatfile_layout(d)
    except DefinitionError as exc:
        problems.append(exc.problem)
        return
    expected = [tname]
    if tname not in data.variables:
        problems.append(
            f"time column is {next(iter(data.variables), '?')!r}, expected "
            f"{tname!r} (variable {time_var.name!r})"
        )
    for var, names in layout:
        expected += names
        for name in names:
            if name not in data.variables:
                if not var.optional:
                    problems.append(f"missing column {name!r} (variable {var.name!r})")
                continue
            units = str(data.var_attrs[name].get("UNITS", "")).strip()
            if var.units is not None and units != var.units.strip():
                problems.append(f"column {name!r}: units {units!r}, expected {var.units!r}")
            _check_column_range(var, name, data, problems)
    for name in data.variables:
        if name not in expected and name != next(iter(data.variables)):
            problems.append(f"unexpected column {name!r} (not in the definition)")
    _check_time(next(iter(data.variables), None), data, problems)


def _check_column_range(var: Variable, name: str, data: ProductData, problems: list[str]) -> None:
    if var.valid_min is None and var.valid_max is None:
        return
    arr = data.variables[name].astype(np.float64)
    fill = float(data.var_attrs[name].get("FILLVAL", FLATFILE_FILL))
    good = ~np.isnan(arr) & ~(np.abs(arr - fill) <= 1e-6 * abs(fill))
    bad = np.zeros(arr.shape, dtype=bool)
    if var.valid_min is not None:
        bad |= good & (arr < var.valid_min)
    if var.valid_max is not None:
        bad |= good & (arr > var.valid_max)
    count = int(bad.sum())
    if count:
        problems.append(
            f"column {name!r}: {count} value{'s' if count > 1 else ''} outside "
            f"[{var.valid_min}, {var.valid_max}] that are not fill "
            f"(at {_records(bad)})"
        )


def _check_time(tv: str | None, data: ProductData, problems: list[str]) -> None:
    if tv is None or tv not in data.variables:
        return
    t = np.asarray(data.variables[tv])
    if t.ndim != 1 or t.size < 2 or t.dtype.kind not in "iuf":
        return
    step = np.diff(t)
    back = step < 0
    if back.any():
        problems.append(
            f"time {tv!r} is not monotonic: {int(back.sum())} step(s) backwards "
            f"(at {_records(np.concatenate([[False], back]))})"
        )
    dup = step == 0
    if dup.any():
        problems.append(
            f"time {tv!r} has {int(dup.sum())} duplicate time stamp(s) "
            f"(at {_records(np.concatenate([[False], dup]))})"
        )


def required_globals(d: ProductDefinition) -> list[str]:
    """Global attributes a product must carry: the required ones plus provenance names."""
    names = list(d.required_global_attrs)
    for value in d.provenance.model_dump().values():
        if value is not None and value not in names:
            names.append(value)
    return names


def _check_globals(d: ProductDefinition, data: ProductData, problems: list[str]) -> None:
    for name in required_globals(d):
        value = data.global_attrs.get(name)
        empty = (
            value is None
            or (isinstance(value, str) and not value.strip())
            or (isinstance(value, list) and not value)
        )
        if empty:
            problems.append(f"missing global attribute {name!r}")


__all__ = ["CheckReport", "check_file", "format_report", "match_definition", "required_globals"]

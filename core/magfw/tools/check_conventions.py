"""What the conventions a product follows ask of its variables and attributes, for ``magfw
check`` (:mod:`magfw.tools.check`): ISTP variable attributes of CDFs, CF attributes of netCDF
variables, and ACDD global attributes (a note of what is missing, not a problem)."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from magfw.io.products import ProductData, effective_depend, expected_fill, typed
from magfw.plugin.definitions import ProductDefinition, Variable

#: ISTP attributes whose CDF type must be the variable's.
TYPED = ("FILLVAL", "VALIDMIN", "VALIDMAX")


#: ACDD-1.3 global attributes (highly recommended and recommended) a file of a definition whose
#: Conventions name ACDD should carry, less the geospatial ones: a spacecraft far from Earth has
#: no geographic extent. Missing ones are notes, not problems (the operator supplies some).
ACDD_GLOBALS = (
    "title", "summary", "keywords", "Conventions", "id", "naming_authority", "history", "source",
    "processing_level", "comment", "acknowledgement", "license", "standard_name_vocabulary",
    "date_created", "creator_name", "creator_email", "creator_url", "institution", "project",
    "publisher_name", "publisher_email", "publisher_url", "time_coverage_start",
    "time_coverage_end", "time_coverage_duration", "time_coverage_resolution",
)  # fmt: skip


def _show(value: Any) -> str:
    """An attribute value for a message: numbers in their own precision, text quoted."""
    if isinstance(value, np.generic) and not isinstance(value, np.str_ | np.bytes_):
        return str(value)  # shortest repr of its own dtype: float32 -1e31 shows as -1e+31
    return repr(value)


def _same(a: Any, b: Any) -> bool:
    """Attribute value equality that tolerates numpy scalars and one-element arrays."""
    if isinstance(a, str) or isinstance(b, str):
        return str(a).strip() == str(b).strip()
    try:
        return bool(np.all(np.asarray(a) == np.asarray(b)))
    except (TypeError, ValueError):
        return False


def check_istp(d: ProductDefinition, var: Variable, data: ProductData, problems: list[str]) -> None:
    from magfw.io.cdf import CDF_TYPES, accepted_cdf_types

    attrs = data.var_attrs[var.name]
    types = data.info[var.name].attr_types
    n = var.name

    def need(key: str, want: Any) -> None:
        if key not in attrs:
            problems.append(f"variable {n!r}: missing {key} (expected {_show(want)})")
            return
        got = attrs[key]
        if key in TYPED and var.dtype != "str" and not isinstance(got, str):
            with contextlib.suppress(TypeError, ValueError, OverflowError):
                got = np.asarray(got).astype(var.numpy_dtype)  # the type is checked apart
        if not _same(got, want):
            problems.append(f"variable {n!r}: {key} is {_show(attrs[key])}, expected {_show(want)}")

    for key in ("CATDESC", "FIELDNAM"):
        if key not in attrs:
            problems.append(f"variable {n!r}: missing {key}")
    need("VAR_TYPE", var.var_type)
    if var.units is not None:
        need("UNITS", var.units)
    fill = expected_fill(var)
    if fill is not None:
        need("FILLVAL", fill)
    ok_types = accepted_cdf_types(var)
    for key in TYPED:
        if key in types and var.dtype != "str" and types[key] not in ok_types:
            problems.append(
                f"variable {n!r}: {key} has type {types[key]}, expected "
                f"{CDF_TYPES[var.dtype]} like the variable"
            )
    for key, want in (("VALIDMIN", var.valid_min), ("VALIDMAX", var.valid_max)):
        if want is not None:
            need(key, typed(var, want))
    for key, target in {**effective_depend(d, var), **var.labl_ptr}.items():
        need(key, target)


def check_cf(d: ProductDefinition, var: Variable, data: ProductData, problems: list[str]) -> None:
    from magfw.io.netcdf import netcdf_fill

    attrs = data.var_attrs[var.name]
    types = data.info[var.name].attr_types
    n = var.name
    if var.dtype == "tt2000":
        from magfw.io.netcdf_time import is_encoded

        if not is_encoded(attrs):
            problems.append(
                f"variable {n!r}: a tt2000 time is not written as a CF time "
                f"(units {attrs.get('units')!r}; a file of an earlier magfw: remake it)"
            )
    if var.units is not None:
        if "units" not in attrs:
            problems.append(f"variable {n!r}: missing units (expected {var.units!r})")
        elif not _same(attrs["units"], var.units):
            problems.append(f"variable {n!r}: units is {attrs['units']!r}, expected {var.units!r}")
    fill = netcdf_fill(d, var)
    if fill is not None and var.dtype != "str":
        if "_FillValue" not in attrs:
            problems.append(f"variable {n!r}: missing _FillValue (expected {_show(fill)})")
        elif not _same(attrs["_FillValue"], fill):
            problems.append(
                f"variable {n!r}: _FillValue is {_show(attrs['_FillValue'])}, expected {_show(fill)}"
            )
        elif types.get("_FillValue") != var.numpy_dtype:
            problems.append(
                f"variable {n!r}: _FillValue has dtype {types.get('_FillValue')}, expected {var.numpy_dtype}"
            )
    for key, want in (("valid_min", var.valid_min), ("valid_max", var.valid_max)):
        if want is None:
            continue
        if key not in attrs:
            problems.append(f"variable {n!r}: missing {key} (expected {_show(typed(var, want))})")
        elif not _same(attrs[key], typed(var, want)):
            problems.append(
                f"variable {n!r}: {key} is {_show(attrs[key])}, expected {_show(typed(var, want))}"
            )


def acdd_notes(d: ProductDefinition, data: ProductData) -> list[str]:
    """What ACDD-1.3 recommends and a file of an ACDD definition lacks (:data:`ACDD_GLOBALS`),
    as one note; none for other definitions."""
    if "ACDD" not in str(d.global_attrs.get("Conventions", "")):
        return []
    have = set(data.global_attrs) | ({"acknowledgement"} if "acknowledgment" in data.global_attrs else set())
    missing = [k for k in ACDD_GLOBALS if k not in have]
    if not missing:
        return []
    return [
        f"ACDD-1.3 recommends {', '.join(missing)}, not in this file; what only the operator "
        f"knows goes in [missions.{d.mission}] of magfw.toml"
    ]

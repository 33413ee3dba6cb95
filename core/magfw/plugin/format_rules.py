"""What a product definition's keys mean in its format, and which keys a format cannot take.

A definition is format-neutral where it can be; some keys are one format's. For a netCDF
product: ``description`` is ``long_name``, ``fill`` ``_FillValue``, ``valid_min``/``valid_max``
the CF attributes, ``labl_ptr`` and ``depend`` targets CF auxiliary coordinates, a ``tt2000``
time a CF time (:mod:`magfw.io.netcdf_time`), ``var_type`` is magfw's own (what ``magfw serve``
offers as data; not in the file), ``attrs`` are written verbatim. The ISTP keys with no
netCDF meaning (``field_name``, ``display_type``), CDF's ``cdf_epoch`` type, a ``tt2000``
time whose units are not a CF ``<unit> since <UTC time>`` and the flat-file key
``flatfile_epoch`` (other than its default) are refused with one line naming the variable and
the key, never dropped silently (``docs/plugins.md``, *netCDF product definitions*).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from magfw.plugin.definitions import ProductDefinition


def format_problems(definition: ProductDefinition) -> list[str]:
    """What the definition asks of its format that the format cannot do, one line each."""
    if definition.format == "netcdf":
        return _netcdf_problems(definition)
    return []


def _netcdf_problems(d: ProductDefinition) -> list[str]:
    from magfw.io.netcdf_time import DEFAULT_UNITS, parse_units

    problems = []
    if d.flatfile_epoch != "Y1966":  # the default: a definition dumped and loaded again keeps it
        problems.append(
            f"flatfile_epoch {d.flatfile_epoch} is a flat-file key: a netCDF product has no flat-file ticks"
        )
    for v in d.variables:
        if v.field_name is not None:
            problems.append(
                f"variable {v.name}: field_name is the ISTP FIELDNAM of a CDF; a netCDF variable "
                "is named by its description (long_name) and attrs (e.g. {label: ...})"
            )
        if v.display_type is not None:
            problems.append(
                f"variable {v.name}: display_type is the ISTP DISPLAY_TYPE of a CDF; "
                "a netCDF file has none (attrs are written verbatim)"
            )
        if v.dtype == "cdf_epoch":
            problems.append(
                f"variable {v.name}: cdf_epoch is a CDF type; in netCDF use tt2000 "
                "(written as a CF time) or float64 with CF units"
            )
        if v.dtype == "tt2000" and v.units is not None and parse_units(v.units) is None:
            problems.append(
                f"variable {v.name}: a tt2000 time is written to netCDF as a CF time, so its "
                f"units are '<unit> since <UTC time>' (unit nanoseconds, microseconds, "
                f"milliseconds or seconds), not {v.units!r}; leave units out for {DEFAULT_UNITS!r}"
            )
    return problems

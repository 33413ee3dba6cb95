"""CF time for the ``tt2000`` variables of netCDF products.

A CDF stores TT2000 as it is; netCDF has no such type, and what CF readers decode (xarray,
cftime, netCDF4's ``num2date``, UDUNITS tools) is a count of ``<unit> since <epoch>`` in a
calendar. So magfw writes a ``tt2000`` variable of a netCDF product as an int64 count of UTC
time in CF's ``standard`` calendar: ``units`` the definition's (``<unit> since <UTC time>``,
unit nanoseconds, microseconds, milliseconds or seconds) or :data:`DEFAULT_UNITS`
(microseconds since 1970: cftime, which has no nanoseconds, decodes it too), ``calendar =
"standard"``, and ``magfw_dtype = "tt2000"``, which tells magfw's reader to give TT2000 back.

Like UNIX time and every CF ``standard`` calendar, the count has no leap seconds: a time inside
a leap second (23:59:60.x UTC) is written as 23:59:59.x (as ``tt2000_to_datetime64`` folds it),
and a count is rounded to its unit. A product that needs exact times through a leap second, or
below the unit, is a CDF.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

#: The units of a netCDF ``tt2000`` variable whose definition gives none.
DEFAULT_UNITS = "microseconds since 1970-01-01T00:00:00Z"
#: The attribute that marks a CF time written from TT2000 (read back as TT2000).
MARKER = "magfw_dtype"
#: The comment given to such a variable.
COMMENT = (
    "UTC, CF standard calendar (no leap seconds: a time inside a leap second is written as "
    "23:59:59.x); written by magfw from CDF TT2000"
)
#: int64 fill: a TT2000 fill or pad value stays this.
FILL = np.iinfo(np.int64).min

_UNIT_NS = {"nanoseconds": 1, "microseconds": 1_000, "milliseconds": 1_000_000, "seconds": 1_000_000_000}
_UNITS = re.compile(
    r"^\s*(?P<unit>nanoseconds|microseconds|milliseconds|seconds)\s+since\s+"
    r"(?P<date>\d{4}-\d\d-\d\d)(?:[T ](?P<clock>\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?))?"
    r"\s*(?:Z|UTC|\+00:?00)?\s*$",
    re.IGNORECASE,
)


def parse_units(units: Any) -> tuple[int, int] | None:
    """(ns per count, epoch as ns since 1970-01-01 UTC) of a CF ``<unit> since <UTC time>``
    magfw can write, or None (another text, an epoch before 1900)."""
    m = _UNITS.match(str(units)) if units is not None else None
    if m is None:
        return None
    try:
        epoch = np.datetime64(f"{m['date']}T{m['clock'] or '00:00'}", "ns")
    except ValueError:
        return None
    if epoch < np.datetime64("1900-01-01", "ns"):
        return None
    return _UNIT_NS[m["unit"].lower()], int(epoch.astype(np.int64))


def encode(tt2000: np.ndarray, units: str) -> np.ndarray:
    """The int64 counts of ``units`` of TT2000 values (fill and pad become :data:`FILL`)."""
    from magfw.geometry.time import tt2000_to_datetime64

    step, epoch = _parsed(units)
    ns = np.asarray(tt2000_to_datetime64(np.asarray(tt2000, dtype=np.int64))).astype("datetime64[ns]")
    raw = ns.astype(np.int64)
    bad = np.isnat(ns)
    counts = np.floor_divide(np.where(bad, 0, raw) - epoch + step // 2, step)
    return np.where(bad, FILL, counts).astype(np.int64)


def decode(counts: np.ndarray, units: str) -> np.ndarray:
    """TT2000 (int64 ns) of int64 counts of ``units`` (:data:`FILL` gives the TT2000 fill)."""
    from magfw.geometry.time import tt2000_from_datetime64

    step, epoch = _parsed(units)
    c = np.asarray(counts, dtype=np.int64)
    bad = c == FILL
    ns = np.where(bad, 0, c) * step + epoch
    dt = np.where(bad, np.datetime64("NaT", "ns"), ns.astype("datetime64[ns]"))
    return np.asarray(tt2000_from_datetime64(dt), dtype=np.int64)


def is_encoded(attrs: dict[str, Any]) -> bool:
    """Whether a netCDF variable's attributes say it is a TT2000 written as a CF time."""
    return str(attrs.get(MARKER, "")) == "tt2000" and parse_units(attrs.get("units")) is not None


def _parsed(units: str) -> tuple[int, int]:
    parsed = parse_units(units)
    if parsed is None:
        raise ValueError(f"{units!r} is not '<unit> since <UTC time>'")
    return parsed

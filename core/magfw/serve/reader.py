"""Product values as HAPI values: times as int64 TT2000, values with the definition's fill.

Times: CDF_EPOCH (ms since year 0) and UNIX seconds, which have no leap seconds, are split into
a calendar day and the time of day and each day's start is looked up once
(:func:`calendar_to_tt2000`: a day of 8 Hz data costs milliseconds, not the 0.2 s of an
element-wise conversion); TT2000 is taken as stored; other encodings go through
:func:`magfw.tools.plot.time_as_tt2000`. A time that is fill is not valid.

Values (:func:`put_values`): a float variable is written as float64 with its stored fill
replaced by the definition's fill (a float32 ``-1e31`` is stored as -9.99999985e30; HAPI
clients compare with the info header's fill string, -1e+31, so the exact double is written),
NaN where the definition has no fill. A flat file's own missing-data flag (1e34) likewise
becomes the definition's fill. Integers stay integers (int32 for HAPI ``integer``, int64
otherwise). Values are written straight into the output columns (a field of the binary
record array, or a float64 array for text), without an intermediate copy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from magfw.errors import InputError
from magfw.geometry.time import day_bounds_tt2000
from magfw.io import netcdf_time
from magfw.serve.datasets import Dataset
from magfw.serve.parameters import Parameter

_DAY_MS = 86_400_000.0
_DAY_NS = 86_400_000_000_000
_CDF_EPOCH_TO_1970_DAYS = 719_528  # days from 0000-01-01 to 1970-01-01 (proleptic Gregorian)
_NAT = np.iinfo(np.int64).min + 1


def calendar_to_tt2000(
    value: npt.NDArray[np.float64], unit_per_day: float, days_to_1970: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """TT2000 of times counted in a leap-second-free scale (``unit_per_day`` units a day from
    an epoch ``days_to_1970`` days before 1970-01-01), and a mask of valid (finite) times."""
    ok = np.isfinite(value)
    v = np.where(ok, value, 0.0)
    day = np.floor(v / unit_per_day)
    rest = v - day * unit_per_day  # exact: both are multiples of v's resolution
    ns = np.rint(rest * (_DAY_NS / unit_per_day)).astype(np.int64)
    day_i = day.astype(np.int64) - days_to_1970
    carry = ns >= _DAY_NS
    day_i, ns = day_i + carry, ns - carry * _DAY_NS
    if not ok.any():
        return np.zeros(value.shape, dtype=np.int64), ok
    first, last = int(day_i[ok].min()), int(day_i[ok].max())
    if last - first <= 4000:  # the usual case: a table of consecutive days
        days = np.arange(first, last + 1)
        idx = np.clip(day_i - first, 0, last - first)
    else:  # scattered days (stray values): only those present
        days, inverse = np.unique(np.where(ok, day_i, first), return_inverse=True)
        idx = inverse.reshape(day_i.shape)
    starts = np.asarray(day_bounds_tt2000(days.astype("datetime64[D]"))[0], dtype=np.int64)
    return starts[idx] + ns, ok


def decode_times(
    ds: Dataset, raw: np.ndarray, data_type: str, attrs: dict[str, Any]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """(TT2000, valid) of the time variable as stored (``data_type``: the CDF type name, or
    the numpy dtype name of a netCDF variable)."""
    tv = ds.definition.variable(str(ds.definition.time_variable))
    fill = tv.fill
    if data_type == "CDF_EPOCH" or tv.dtype == "cdf_epoch":
        ms = raw.astype(np.float64)
        tt, ok = calendar_to_tt2000(ms, _DAY_MS, _CDF_EPOCH_TO_1970_DAYS)
        return tt, ok & (ms > 0)
    if raw.dtype == np.int64 and netcdf_time.is_encoded(attrs):  # a TT2000 written as a CF time
        return netcdf_time.decode(raw, str(attrs["units"])), raw != netcdf_time.FILL
    if raw.dtype == np.int64:
        tt = raw.astype(np.int64, copy=False)
        ok = tt > _NAT
        if fill is not None and not isinstance(fill, str):
            ok &= tt != int(fill)
        return tt, ok
    units = str(attrs.get("units", attrs.get("UNITS", ""))).lower()
    if raw.dtype.kind == "f" and (
        "unix" in units
        or units.startswith("seconds since 1970-01-01")
        or units.startswith("s since 1970-01-01")
    ):
        return calendar_to_tt2000(raw.astype(np.float64), 86_400.0, 0)
    from magfw.tools.plot import time_as_tt2000

    tt2 = time_as_tt2000(raw, data_type, dict(attrs))
    if tt2 is None:
        raise InputError(None, f"cannot read {tv.name!r} as time (units {units!r})")
    tt = np.asarray(tt2, dtype=np.int64)
    return tt, tt > _NAT


def stored_fill(p: Parameter) -> float | None:
    """The fill value the parameter's variable is stored with (its definition's)."""
    var = p.variable
    assert var is not None
    return var.fill if var.fill is not None and not isinstance(var.fill, str) else None


def put_values(p: Parameter, out: np.ndarray, raw: np.ndarray, fill: float | None) -> None:
    """Write one parameter's stored values ``raw`` into ``out`` (its output column: int32,
    int64 or float64, shape (N, *size)) as HAPI values (module notes)."""
    raw = raw.reshape(out.shape)
    out[...] = raw
    if p.hapi_type == "integer" or p.digits == 0 or (raw.dtype.kind != "f" and fill is None):
        return
    bad = raw == np.asarray(fill, dtype=raw.dtype) if fill is not None else None
    if raw.dtype.kind == "f":
        bad = ~np.isfinite(raw) if bad is None else bad | ~np.isfinite(raw)
    if bad is None or not bad.any():
        return
    var = p.variable
    assert var is not None
    value = float(var.fill) if var.fill is not None and not isinstance(var.fill, str) else np.nan
    out[np.unravel_index(np.flatnonzero(bad), bad.shape)] = value  # only the few bad ones


def output_dtype(p: Parameter) -> str:
    """The numpy type of a parameter's values in the output (before text or binary)."""
    if p.hapi_type == "integer":
        return "<i4"
    return "<i8" if p.digits == 0 else "<f8"

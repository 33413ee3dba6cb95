"""A product file's records as HAPI values: TT2000 times and one array per parameter.

Files are read with magfw's readers (:func:`~magfw.io.cdf.read_cdf` without variable
attributes, :func:`~magfw.io.netcdf.read_netcdf`, :func:`~magfw.io.flatfile.read_flatfile`),
only the requested variables. Times become int64 TT2000: CDF_EPOCH (ms since year 0) and UNIX
seconds, which have no leap seconds, are split into a calendar day and the time of day and
each day's start is looked up once (a day of 8 Hz data costs milliseconds, not the 0.2 s of an
element-wise conversion); other time encodings go through :func:`magfw.tools.plot.time_as_tt2000`.
Records whose time is fill, or outside the request, are dropped.

Values: a float variable becomes float64 with its stored fill replaced by the definition's
fill (a float32 ``-1e31`` is stored as -9.99999985e30; HAPI clients compare with the info
header's fill string, -1e+31, so the exact double is written), NaN where the definition has
no fill. A flat file's own missing-data flag (1e34) likewise becomes the definition's fill.
Integers stay integers (int32 for HAPI ``integer``, int64 otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from magfw.errors import InputError
from magfw.geometry.time import day_bounds_tt2000
from magfw.serve.datasets import Dataset, Parameter

_DAY_MS = 86_400_000.0
_DAY_NS = 86_400_000_000_000
_CDF_EPOCH_TO_1970_DAYS = 719_528  # days from 0000-01-01 to 1970-01-01 (proleptic Gregorian)


@dataclass
class Block:
    """Records of one file: times (int64 TT2000, ascending in a product) and values."""

    time: npt.NDArray[np.int64]
    values: list[np.ndarray]  #: one per requested parameter (after the time), (N, *size)

    def __len__(self) -> int:
        return int(self.time.shape[0])

    def select(self, keep: npt.NDArray[np.bool_] | slice) -> Block:
        return Block(self.time[keep], [v[keep] for v in self.values])


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


def _times(
    ds: Dataset, raw: np.ndarray, attrs: dict[str, object], data_type: str
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """(TT2000, valid) of the time variable as read."""
    tv = ds.definition.variable(str(ds.definition.time_variable))
    fill = tv.fill
    if data_type == "CDF_EPOCH" or tv.dtype == "cdf_epoch":
        ms = raw.astype(np.float64)
        tt, ok = calendar_to_tt2000(ms, _DAY_MS, _CDF_EPOCH_TO_1970_DAYS)
        return tt, ok & (ms > 0)
    if raw.dtype == np.int64:
        tt = raw.astype(np.int64)
        ok = tt > np.iinfo(np.int64).min + 1
        if fill is not None and not isinstance(fill, str):
            ok &= tt != int(fill)
        return tt, ok
    units = str(attrs.get("units", attrs.get("UNITS", ""))).lower()
    if raw.dtype.kind == "f" and (
        "unix" in units
        or units.startswith("seconds since 1970-01-01")
        or units.startswith("s since 1970-01-01")
    ):
        tt, ok = calendar_to_tt2000(raw.astype(np.float64), 86_400.0, 0)
        return tt, ok
    from magfw.tools.plot import time_as_tt2000

    tt2 = time_as_tt2000(raw, data_type, dict(attrs))
    if tt2 is None:
        raise InputError(None, f"cannot read {tv.name!r} as time (units {units!r})")
    tt = np.asarray(tt2, dtype=np.int64)
    return tt, tt > np.iinfo(np.int64).min + 1


def _values(p: Parameter, arr: np.ndarray, stored_fill: float | None) -> np.ndarray:
    """One parameter's values for output (see the module notes)."""
    var = p.variable
    assert var is not None
    if p.hapi_type == "integer":
        return arr.astype(np.int32)
    if p.digits == 0:  # uint32 / int64 served as double, written as integers
        return arr.astype(np.int64)
    out = arr.astype(np.float64)
    bad = ~np.isfinite(out)
    if stored_fill is not None:
        bad |= arr == np.asarray(stored_fill, dtype=arr.dtype)
    if var.fill is not None and not isinstance(var.fill, str):
        out[bad] = float(var.fill)
    else:
        out[bad] = np.nan
    return out


def read_block(ds: Dataset, path: Path, params: list[Parameter], start_tt: int, stop_tt: int) -> Block:
    """The records of product file ``path`` in [start_tt, stop_tt) for ``params`` (data
    parameters; the time is always read)."""
    d = ds.definition
    tname = str(d.time_variable)
    if d.format == "flatfile":
        from magfw.io.flatfile import read_flatfile

        ff = read_flatfile(path)
        tt = np.asarray(ff.time, dtype=np.int64)
        ok = tt > np.iinfo(np.int64).min + 1
        names = [c.name for c in ff.data_columns]
        data = np.asarray(ff.data)
        raw_values: list[tuple[np.ndarray, float | None]] = []
        for p in params:
            try:
                cols = [names.index(c) for c in p.columns]
            except ValueError as exc:
                raise InputError(path, f"flat file lacks column of {p.name}: {exc}") from exc
            block = data[:, cols] if p.size else data[:, cols[0]]
            raw_values.append((block, float(ff.fill)))
    else:
        wanted = [tname, *[p.name for p in params]]
        if d.format == "cdf":
            from magfw.io.cdf import read_cdf

            pd = read_cdf(path, wanted, attributes=False)
        else:
            from magfw.io.netcdf import read_netcdf

            pd = read_netcdf(path, wanted)
        info = pd.info[tname]
        tt, ok = _times(ds, pd.variables[tname], pd.var_attrs.get(tname, {}), info.data_type)
        raw_values = []
        for p in params:
            var = p.variable
            assert var is not None
            fill = var.fill if var.fill is not None and not isinstance(var.fill, str) else None
            arr = np.asarray(pd.variables[p.name])
            if p.size and arr.ndim == 1:
                arr = arr.reshape(-1, *p.size)
            raw_values.append((arr, fill))
    keep = ok & (tt >= start_tt) & (tt < stop_tt)
    if keep.all():  # the usual whole day: no copies
        return Block(tt, [_values(p, arr, fill) for p, (arr, fill) in zip(params, raw_values, strict=True)])
    values = [_values(p, arr[keep], fill) for p, (arr, fill) in zip(params, raw_values, strict=True)]
    return Block(tt[keep], values)

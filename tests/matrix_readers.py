"""Independent readers for the product x tool matrix (tests/test_product_matrix.py): what a
product file holds, read without magfw's readers.

- CDF: cdflib's public reader (``varget``, ``varattsget``), times by ``cdfepoch.to_datetime``;
- netCDF: h5netcdf, UNIX-second times (or CF counts since 1970) turned into datetime64 here;
- UCLA flat files: read by hand from the format (research/flatfile.md): 72-character header
  records, the column table's TYPE and LOC, big-endian records of RECL bytes, Y1966 ticks
  (seconds since 1966-01-01, no leap second), the MISSING DATA FLAG.

Each gives, per variable of the product definition, its stored values (``raw``, fill kept) and
where they are fill (``fill``), and the record times as datetime64[ns] UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from magfw.plugin.definitions import ProductDefinition, Variable


@dataclass
class Independent:
    """A file as an independent reader sees it."""

    time: np.ndarray  #: datetime64[ns] UTC of each record
    raw: dict[str, np.ndarray]  #: definition variable -> stored values ([N] or [N, k])
    fill: dict[str, np.ndarray]  #: definition variable -> where the stored value is fill/NaN


def data_variables(d: ProductDefinition) -> list[Variable]:
    """The record-varying numeric variables of ``d`` other than its time."""
    return [
        v
        for v in d.variables
        if v.record_varying and v.name != d.time_variable and v.dtype not in ("str", "tt2000", "cdf_epoch")
    ]


def _fill_of(raw: np.ndarray, fills: list[float]) -> np.ndarray:
    mask = ~np.isfinite(raw) if raw.dtype.kind == "f" else np.zeros(raw.shape, bool)
    for f in fills:
        if raw.dtype.kind == "f":
            mask |= (
                np.isclose(raw, f, rtol=1e-6, atol=0) if abs(f) >= 1e30 else raw == np.asarray(f, raw.dtype)
            )
        elif raw.dtype.kind in "iu" and np.can_cast(np.min_scalar_type(int(f)), raw.dtype):
            mask |= raw == f
    return mask


def read_cdf(path: Path, d: ProductDefinition) -> Independent:
    import cdflib

    cdf = cdflib.CDF(str(path))
    stored = np.asarray(cdf.varget(d.time_variable))
    if cdf.varinq(d.time_variable).Data_Type_Description == "CDF_EPOCH":
        # float ms since 0000-01-01 (no leap seconds); cdflib's to_datetime keeps whole ms only,
        # and 32 Hz stamps are 31.25 ms apart: offset from 1970 (cdflib's value) in ns here
        unix_ms = stored - cdflib.cdfepoch.compute_epoch([1970, 1, 1, 0, 0, 0, 0])
        time = np.datetime64("1970-01-01", "ns") + np.round(unix_ms * 1e6).astype("timedelta64[ns]")
    else:
        time = np.asarray(cdflib.cdfepoch.to_datetime(stored), dtype="datetime64[ns]")
    raw: dict[str, np.ndarray] = {}
    fill: dict[str, np.ndarray] = {}
    for v in data_variables(d):
        if v.name not in cdf.cdf_info().zVariables:
            continue
        arr = np.asarray(cdf.varget(v.name))
        fv = cdf.varattsget(v.name).get("FILLVAL")
        raw[v.name] = arr
        fill[v.name] = _fill_of(arr, [] if fv is None else [float(np.asarray(fv).reshape(-1)[0])])
    return Independent(time, raw, fill)


def read_netcdf(path: Path, d: ProductDefinition) -> Independent:
    import h5netcdf

    with h5netcdf.File(path, "r") as nc:
        tv = nc.variables[d.time_variable]
        units = str(tv.attrs.get("units", ""))
        assert "unix" in units.lower() or "since 1970-01-01" in units, units
        # a count of UNIX seconds, or of CF "<unit> since 1970-01-01" (a tt2000 written as CF)
        ns = {"nanoseconds": 1, "microseconds": 1_000, "milliseconds": 1_000_000}.get(units.split()[0], 10**9)
        if np.asarray(tv[...]).dtype.kind == "i":
            counts = np.asarray(tv[...], dtype=np.int64) * ns
        else:
            counts = np.round(np.asarray(tv[...], dtype=np.float64) * ns).astype(np.int64)
        time = np.datetime64("1970-01-01", "ns") + counts.astype("timedelta64[ns]")
        raw: dict[str, np.ndarray] = {}
        fill: dict[str, np.ndarray] = {}
        for v in data_variables(d):
            if v.name not in nc.variables:
                continue
            var = nc.variables[v.name]
            arr = np.asarray(var[...])
            fills = [
                float(np.asarray(var.attrs[k]).reshape(-1)[0]) for k in ("_FillValue",) if k in var.attrs
            ]
            raw[v.name] = arr
            fill[v.name] = _fill_of(arr, fills)
    return Independent(time, raw, fill)


def read_flatfile(path: Path, d: ProductDefinition) -> Independent:
    """The flat-file format read by hand (module notes)."""
    ffh = path.with_suffix(".ffh")
    text = ffh.read_bytes().decode("ascii")
    assert "\n" not in text and len(text) % 72 == 0
    records = [text[i : i + 72] for i in range(0, len(text), 72)]
    keys = {r.split("=")[0].strip(): r.split("=", 1)[1].strip() for r in records[:7] if "=" in r}
    assert keys.get("EPOCH", "Y1966") == "Y1966" and d.flatfile_epoch == "Y1966"
    recl = int(keys["RECL"])
    head = next(
        i for i, r in enumerate(records) if r.split() == ["#", "NAME", "UNITS", "SOURCE", "TYPE", "LOC"]
    )
    rows = records[head + 1 : head + 1 + int(keys["NCOLS"])]
    names = [r[4:14].strip() for r in rows]
    types = [r[50] for r in rows]
    locs = [int(r[51:59]) for r in rows]
    flag = next(r for r in records if r.startswith("MISSING DATA FLAG"))
    fill_value = float(flag.split("=")[1])
    dtype = np.dtype(
        {
            "names": names,
            "formats": [">f8" if t in "TD" else ">f4" for t in types],
            "offsets": locs,
            "itemsize": recl,
        }
    )
    data = np.fromfile(path.with_suffix(".ffd"), dtype=dtype)
    ticks = data[names[0]].astype(np.float64)
    time = np.datetime64("1966-01-01", "ns") + np.round(ticks * 1e9).astype("timedelta64[ns]")
    raw: dict[str, np.ndarray] = {}
    fill: dict[str, np.ndarray] = {}
    for v in data_variables(d):
        cols = v.attrs.get("columns") or [v.name]
        if not all(c in names for c in cols):
            continue
        arr = np.stack([data[c].astype(np.float32) for c in cols], axis=1)
        arr = arr[:, 0] if v.attrs.get("columns") is None else arr
        raw[v.name] = arr
        fill[v.name] = _fill_of(arr, [fill_value])
    return Independent(time, raw, fill)


def read_independently(path: Path, d: ProductDefinition) -> Independent:
    return {"cdf": read_cdf, "netcdf": read_netcdf, "flatfile": read_flatfile}[d.format](path, d)

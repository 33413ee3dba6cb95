"""The xarray dataset of a magfw product already read (:func:`product_dataset`).

Whatever the mission or format (:mod:`magfw.tools.xarray_backend` says how a file is found and
read):

- ``time``: the definition's time variable as the coordinate of the record dimension, named
  ``time``; decoded (the default) to ``datetime64[ns]`` UTC (TT2000, CDF_EPOCH, flat-file ticks,
  or float seconds whose units say UNIX or CF "... since ..."; a leap second folds onto :59),
  or, with ``decode_times=False``, the values the file stores (a flat file's ticks: seconds of
  its EPOCH, to the ns) with the file's units;
- declared vectors: variables a definition marks as components of one vector (``attrs:
  {vector: [NAME, COMPONENT]}``, e.g. Aditya's ``Bx_gse``) become ``NAME`` on the dimension
  ``component`` (``NAME_component`` if its components differ from the first vector's);
- ``[N, k]`` variables keep the definition's dimension with the file's own labels as its
  coordinate (the ``LABL_PTR_1`` variable, or the flat-file column names). Where several
  variables label the same dimension differently (PLASTIC's ``BFIELDRTN``, ``HAE``, ``HEE``...
  all on ``cart``), each labelled variable gets a dimension of its own, named after its label
  variable (``HAE_LABL_1``; a flat file: ``NAME_dim``), so no variable carries another's labels.
  ``decode_coords=False`` keeps the label variables as variables and labels no dimension;
- fill values (the definition's, the file's ``FILLVAL``/``_FillValue``/``missing_value``, the
  flat-file flag) as NaN in float variables, the fill kept in ``encoding["_FillValue"]``;
  ``mask_and_scale=False`` leaves the stored values with ``_FillValue`` as an attribute; a
  ``scale_factor``/``add_offset`` a file declares is applied only when masking. Integer flags
  stay integers, as variables of their own;
- the definition's units (``units``), description (``long_name``) and label (``label``:
  ``field_name``), with ``magfw_definition`` naming the definition; the file's global
  attributes.

Variables the definition does not declare are left out; ``drop_variables`` drops more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from magfw.errors import InputError
from magfw.io.products import ProductData, expected_fill, full_dims
from magfw.plugin.definitions import ProductDefinition, Variable

#: Name of the dimension the components of a declared vector go on.
COMPONENT_DIM = "component"
_SINCE = re.compile(r"^\s*(?P<unit>\w+)\s+since\s+(?P<epoch>.+?)\s*$", re.IGNORECASE)
_UNIT_NS = {
    "ns": 1,
    "nanoseconds": 1,
    "us": 1_000,
    "microseconds": 1_000,
    "ms": 1_000_000,
    "milliseconds": 1_000_000,
    "s": 10**9,
    "sec": 10**9,
    "second": 10**9,
    "seconds": 10**9,
    "minutes": 60 * 10**9,
    "hours": 3600 * 10**9,
    "days": 86400 * 10**9,
}

#: A decoder option as xarray gives it: one value, or one per variable name.
Option = Any


def per_variable(option: Option, name: str, default: bool) -> bool:
    """The value of a decoder option (bool, None or a mapping by variable) for ``name``."""
    if isinstance(option, dict):
        option = option.get(name, default)
    return default if option is None else bool(option)


@dataclass(frozen=True, kw_only=True)
class Decoding:
    """The decoders of ``xr.open_dataset``, as the engine honours them (module notes)."""

    mask_and_scale: Option = True
    decode_times: Option = True
    decode_timedelta: Option = False
    use_cftime: bool = False
    time_unit: str = "ns"
    decode_coords: bool = True
    drop_variables: frozenset[str] = field(default_factory=frozenset)


def decode_time(values: np.ndarray, var: Variable, units: str | None, fmt: str) -> np.ndarray:
    """``datetime64[ns]`` UTC of a product's time values."""
    from magfw.geometry import time

    if fmt == "flatfile" or var.dtype == "tt2000":  # flat-file reader gives TT2000 already
        return np.asarray(time.tt2000_to_datetime64(np.asarray(values, dtype=np.int64)))
    if var.dtype == "cdf_epoch":
        tt = time.tt2000_from_cdf_epoch(np.asarray(values, dtype=np.float64))
        return np.asarray(time.tt2000_to_datetime64(tt))
    text = units or ""
    m = _SINCE.match(text)
    if m is not None and m.group("unit").lower() in _UNIT_NS:
        epoch = np.datetime64(m.group("epoch").replace(" ", "T").rstrip("Z").split("+")[0], "ns")
        step = _UNIT_NS[m.group("unit").lower()]
        v = np.asarray(values, dtype=np.float64)
        out = epoch + np.round(v * step).astype("int64").astype("timedelta64[ns]")
        return np.where(np.isfinite(v), out, np.datetime64("NaT"))
    if "unix" in text.lower():
        tt = time.tt2000_from_unix(np.asarray(values, dtype=np.float64))
        return np.asarray(time.tt2000_to_datetime64(tt))
    raise InputError(
        None, f"time variable {var.name!r}: cannot tell the time base of units {text!r} (dtype {var.dtype})"
    )


def _time_coord(d: ProductDefinition, data: ProductData, how: Decoding) -> tuple[Any, ...] | None:
    """The ``time`` coordinate as (dims, values, attrs), or None when the file has no time."""
    tv = d.time_variable
    if tv is None or tv not in data.variables:
        return None
    var = d.variable(tv)
    file_attrs = data.var_attrs.get(tv, {})
    units = file_attrs.get("units", var.units)
    attrs: dict[str, Any] = {
        "standard_name": "time",
        "magfw_source": tv,
        "time_convention": d.time_convention,
    }
    if d.cadence_s:
        attrs["cadence_s"] = d.cadence_s
    raw = np.asarray(data.variables[tv])
    if not per_variable(how.decode_times, "time", True):
        if data.format == "flatfile":  # the file stores ticks in its EPOCH
            from magfw.geometry.time import tt2000_to_flatfile

            epoch = str(data.global_attrs.get("EPOCH", "Y1966"))
            raw = np.asarray(tt2000_to_flatfile(raw, epoch), dtype=np.float64)
            units = f"s ({epoch} flat-file ticks, {file_attrs.get('FLATFILE_UNITS', 'SEC')})"
        elif data.format == "netcdf" and var.dtype == "tt2000" and units is not None:
            from magfw.io import netcdf_time  # the CF counts the file stores (read as TT2000)

            if netcdf_time.is_encoded(file_attrs):
                raw = netcdf_time.encode(raw, str(units))
        elif units is None and var.dtype == "tt2000":
            units = "ns (CDF TT2000, since J2000 in Terrestrial Time)"
        if units is not None:
            attrs["units"] = str(units)
        return ("time", raw, attrs)
    times = decode_time(raw, var, units, data.format)
    return ("time", times.astype(f"datetime64[{how.time_unit}]"), attrs)


def _fill_mask(arr: np.ndarray, var: Variable, file_attrs: dict[str, Any]) -> tuple[np.ndarray, float | None]:
    """Where ``arr`` holds a fill value (the definition's, or the file's own), and the fill."""
    fills: list[float] = []
    declared = expected_fill(var)
    if declared is not None:
        fills.append(float(declared))
    for key in ("FILLVAL", "_FillValue", "missing_value"):
        if key in file_attrs:
            try:
                fills.append(float(np.asarray(file_attrs[key]).reshape(-1)[0]))
            except (TypeError, ValueError):
                pass
    mask: np.ndarray = ~np.isfinite(arr)
    for f in fills:
        if abs(f) >= 1e30:  # stored as float32: compare with a tolerance
            mask |= np.isclose(arr, f, rtol=1e-6, atol=0.0)
        else:
            mask |= arr == np.asarray(f, dtype=arr.dtype)
    return mask, (fills[0] if fills else None)


def _var_attrs(var: Variable, definition: ProductDefinition) -> dict[str, Any]:
    attrs: dict[str, Any] = {"magfw_definition": definition.key}
    if var.units is not None:
        attrs["units"] = var.units
    if var.description:
        attrs["long_name"] = var.description
    if var.field_name:
        attrs["label"] = var.field_name
    if var.var_type != "data":
        attrs["var_type"] = var.var_type
    return attrs


def _values(
    var: Variable, data: ProductData, how: Decoding
) -> tuple[np.ndarray, dict[str, Any], dict[str, Any]]:
    """A variable's values, attributes and encoding, decoded as ``how`` says."""
    arr = np.asarray(data.variables[var.name])
    file_attrs = data.var_attrs.get(var.name, {})
    attrs: dict[str, Any] = {}
    encoding: dict[str, Any] = {}
    if arr.dtype.kind in "fc":
        mask, fill = _fill_mask(arr, var, file_attrs)
        if per_variable(how.mask_and_scale, var.name, True):
            arr = arr.astype(np.float64 if arr.dtype == np.float64 else arr.dtype, copy=True)
            arr[mask] = np.nan
            scale, offset = file_attrs.get("scale_factor"), file_attrs.get("add_offset")
            if scale is not None or offset is not None:
                arr = arr * (1.0 if scale is None else float(scale)) + (
                    0.0 if offset is None else float(offset)
                )
            if fill is not None:
                encoding["_FillValue"] = np.asarray(fill, dtype=arr.dtype)[()]
        elif fill is not None:
            attrs["_FillValue"] = np.asarray(fill, dtype=arr.dtype)[()]
    if per_variable(how.decode_timedelta, var.name, False) and str(var.units or "").lower() in _UNIT_NS:
        step = _UNIT_NS[str(var.units).lower()]
        arr = np.where(np.isfinite(arr), np.round(arr * step), np.iinfo(np.int64).min).astype(
            "timedelta64[ns]"
        )
    return arr, attrs, encoding


def _labels(var: Variable, data: ProductData, size: int) -> tuple[str, np.ndarray] | None:
    """(source, labels) of ``var``'s first non-record dimension: its LABL_PTR_1 variable, or
    its flat-file columns (source ``""``)."""
    ref = var.labl_ptr.get("LABL_PTR_1")
    if ref and ref in data.variables:
        labels = np.asarray(data.variables[ref]).reshape(-1)
        if labels.size == size:
            return ref, np.array([str(x).strip() for x in labels])
    cols = var.attrs.get("columns")
    if isinstance(cols, list) and len(cols) == size:
        return "", np.array([str(c) for c in cols])
    return None


def _contested(d: ProductDefinition) -> set[str]:
    """Dimensions that several variables label differently (by label variable or columns)."""
    seen: dict[str, set[str]] = {}
    for var in d.variables:
        dims = full_dims(d, var)
        if var.record_varying and len(dims) >= 2:
            ref = var.labl_ptr.get("LABL_PTR_1") or ",".join(map(str, var.attrs.get("columns") or []))
            if ref:
                seen.setdefault(dims[1], set()).add(ref)
    return {dim for dim, refs in seen.items() if len(refs) > 1}


@dataclass(kw_only=True)
class _Builder:
    """The dataset's coordinates and variables, collected variable by variable."""

    d: ProductDefinition
    data: ProductData
    how: Decoding
    nrec: int | None
    coords: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    vectors: dict[str, list[tuple[str, np.ndarray, dict[str, Any]]]] = field(default_factory=dict)

    def add(self, var: Variable, contested: set[str]) -> None:
        arr, extra, encoding = _values(var, self.data, self.how)
        attrs = {**_var_attrs(var, self.d), **extra}
        nrec = self.nrec
        rv = var.record_varying and nrec is not None and arr.ndim >= 1 and arr.shape[0] == nrec
        vec = var.attrs.get("vector")
        if rv and arr.ndim == 1 and isinstance(vec, list) and len(vec) == 2:
            self.vectors.setdefault(str(vec[0]), []).append((str(vec[1]), arr, attrs))
            return
        if rv:
            dims = ["time", *full_dims(self.d, var)[1:]]
        elif var.record_varying and arr.ndim >= 1:  # no time variable: keep the record dim
            dims = full_dims(self.d, var)
        else:
            dims = list(var.dims)
        if len(dims) != arr.ndim:
            dims = [f"{var.name}_dim{i}" for i in range(arr.ndim)]
        if rv and arr.ndim >= 2:
            dims[1] = self._labelled(var, dims[1], arr.shape[1], contested)
        self.variables[var.name] = xr.Variable(dims, arr, attrs, encoding=encoding)

    def _labelled(self, var: Variable, dim: str, size: int, contested: set[str]) -> str:
        """The dimension ``var``'s components go on, its labels set as its coordinate."""
        found = _labels(var, self.data, size) if self.how.decode_coords else None
        if found is None:
            return dim
        source, labels = found
        if dim in contested:
            dim = source or f"{var.name}_{dim}"
        if dim not in self.coords:
            self.coords[dim] = (dim, labels)
        return dim

    def stack_vectors(self) -> None:
        for vname, comps in self.vectors.items():
            labels = np.array([c for c, _, _ in comps])
            stacked = np.stack([a for _, a, _ in comps], axis=1)
            attrs = dict(comps[0][2])
            attrs["long_name"] = "; ".join(dict.fromkeys(str(a.get("long_name", "")) for _, _, a in comps))
            attrs["components"] = [c for c, _, _ in comps]
            attrs["magfw_variables"] = [
                v.name
                for v in self.d.variables
                if isinstance(v.attrs.get("vector"), list) and str(v.attrs["vector"][0]) == vname
            ]
            same = COMPONENT_DIM not in self.coords or list(self.coords[COMPONENT_DIM][1]) == list(labels)
            dim = COMPONENT_DIM if same else f"{vname}_component"
            self.coords.setdefault(dim, (dim, labels))
            self.variables[vname] = (["time", dim], stacked, attrs)


def product_dataset(data: ProductData, d: ProductDefinition, how: Decoding | None = None) -> xr.Dataset:
    """The dataset of a product file read with magfw's readers (see the module notes)."""
    how = how or Decoding()
    if data.format == "flatfile":  # columns: the definition's vectors come back whole
        from magfw.io.flatfile_product import as_definition

        data = as_definition(data, d)
    time = _time_coord(d, data, how)
    builder = _Builder(d=d, data=data, how=how, nrec=None if time is None else int(np.shape(time[1])[0]))
    if time is not None:
        builder.coords["time"] = time
    contested = _contested(d) if how.decode_coords else set()
    for var in d.variables:
        if var.name == d.time_variable or var.name in how.drop_variables or var.name not in data.variables:
            continue
        builder.add(var, contested)
    builder.stack_vectors()
    if how.decode_coords:  # else labels stay variables and no vector dimension gets labels
        for name in {r for v in d.variables for r in v.labl_ptr.values()}:
            builder.variables.pop(name, None)  # now coordinates
    ds = xr.Dataset(builder.variables, coords=builder.coords, attrs=_global_attrs(data.global_attrs))
    ds.attrs["magfw_definition"] = d.key
    if how.use_cftime and "time" in ds.coords and ds["time"].dtype.kind == "M":
        ds = ds.convert_calendar("standard", use_cftime=True)
    return ds


def _global_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in attrs.items():
        if isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


__all__ = ["COMPONENT_DIM", "Decoding", "decode_time", "per_variable", "product_dataset"]

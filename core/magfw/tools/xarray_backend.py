"""An xarray backend for every magfw product: ``xr.open_dataset(path, engine="magfw")``.

Registered as the entry point ``xarray.backends: magfw`` (pyproject.toml); nothing else in
magfw imports this module, so xarray is loaded only by xarray users.

The file is found among the registered missions' product definitions by its name
(:func:`magfw.plugin.definitions.find_definition`) and read with magfw's own readers
(:func:`magfw.io.products.read_product`: CDF, netCDF, UCLA flat files ``.ffh``/``.ffd``).
The dataset then has, whatever the mission or format:

- ``time``: the definition's time variable decoded to ``datetime64[ns]`` UTC (TT2000, CDF_EPOCH,
  flat-file ticks, or float seconds whose units say UNIX or CF "... since ...") as the
  coordinate of the record dimension, named ``time``; a leap second folds onto :59;
- vectors on one named dimension: a variable ``[N, k]`` keeps the definition's dimension name
  with its labels (``LABL_PTR_1`` variable, or the flat-file column names) as coordinate;
  variables a definition marks as components of one vector (``attrs: {vector: [NAME,
  COMPONENT]}``, e.g. Aditya's ``Bx_gse``, ``By_gse``, ``Bz_gse``) become ``NAME`` on a
  dimension ``component``;
- fill values (the definition's, the file's ``FILLVAL``/``_FillValue``, the flat-file flag) as
  NaN in float variables; integer flags stay integers, as variables of their own;
- the definition's units (``units``), description (``long_name``) and label (``label``:
  ``field_name``), with ``magfw_definition`` naming the definition; the file's global
  attributes.

Variables the definition does not declare are left out; ``drop_variables`` drops more.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from xarray.backends import BackendEntrypoint

from magfw.errors import InputError
from magfw.io.products import ProductData, expected_fill, full_dims, read_product
from magfw.plugin.definitions import ProductDefinition, Variable, find_definition

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


def definitions() -> list[ProductDefinition]:
    """Every product definition of the registered missions (and magfw's shipped ones)."""
    from magfw.plugin.manager import get_hooks

    return list(get_hooks().registry.definitions())


def definition_of(path: Path, defs: Iterable[ProductDefinition] | None = None) -> ProductDefinition:
    """The definition whose file name matches ``path`` (an InputError when none does)."""
    name = path.as_posix()  # templates may hold folders: the path's last components count
    if name.lower().endswith(".ffd"):  # a flat file's definition names its header
        name = name[:-4] + ".ffh"
    found = find_definition(name, definitions() if defs is None else defs)
    if found is None:
        raise InputError(
            path,
            "not a magfw product: no registered product definition matches "
            "its name (magfw missions lists them)",
        )
    return found[0]


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


def _fill_mask(arr: np.ndarray, var: Variable, file_attrs: dict[str, Any]) -> np.ndarray:
    """Where ``arr`` holds a fill value: the definition's, or the file's own."""
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
    return mask


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


def _labels(var: Variable, data: ProductData, dim: str, size: int) -> np.ndarray | None:
    """Labels of ``var``'s first non-record dimension: its LABL_PTR_1 variable, or its flat-file
    columns."""
    ref = var.labl_ptr.get("LABL_PTR_1")
    if ref and ref in data.variables:
        labels = np.asarray(data.variables[ref]).reshape(-1)
        if labels.size == size:
            return np.array([str(x).strip() for x in labels])
    cols = var.attrs.get("columns")
    if isinstance(cols, list) and len(cols) == size:
        return np.array([str(c) for c in cols])
    return None


def product_dataset(
    path: str | os.PathLike[str],
    *,
    definition: ProductDefinition | None = None,
    drop_variables: Iterable[str] | None = None,
) -> xr.Dataset:
    """The dataset of a magfw product file (see the module notes)."""
    path = Path(path)
    d = definition or definition_of(path)
    data = read_product(path)
    drop = set(drop_variables or ())
    tv = d.time_variable
    if data.format == "flatfile":  # columns: the definition's vectors come back whole
        data = _flatfile_as_definition(data, d)
    coords: dict[str, Any] = {}
    nrec: int | None = None
    if tv is not None and tv in data.variables:
        var = d.variable(tv)
        units = data.var_attrs.get(tv, {}).get("units", var.units)
        times = decode_time(data.variables[tv], var, units, data.format)
        coords["time"] = (
            "time",
            times,
            {
                "standard_name": "time",
                "magfw_source": tv,
                "time_convention": d.time_convention,
                **({"cadence_s": d.cadence_s} if d.cadence_s else {}),
            },
        )
        nrec = times.shape[0]
    variables: dict[str, Any] = {}
    vectors: dict[str, list[tuple[str, np.ndarray, dict[str, Any]]]] = {}
    for var in d.variables:
        name = var.name
        if name == tv or name in drop or name not in data.variables:
            continue
        arr = np.asarray(data.variables[name])
        if arr.dtype.kind in "fc":
            arr = arr.astype(np.float64 if arr.dtype == np.float64 else arr.dtype, copy=True)
            arr[_fill_mask(arr, var, data.var_attrs.get(name, {}))] = np.nan
        attrs = _var_attrs(var, d)
        rv = var.record_varying and nrec is not None and arr.ndim >= 1 and arr.shape[0] == nrec
        vec = var.attrs.get("vector")
        if rv and arr.ndim == 1 and isinstance(vec, list) and len(vec) == 2:
            vectors.setdefault(str(vec[0]), []).append((str(vec[1]), arr, attrs))
            continue
        if rv:
            dims = ["time", *full_dims(d, var)[1:]]
        elif var.record_varying and arr.ndim >= 1:  # no time variable: keep the record dim
            dims = full_dims(d, var)
        else:
            dims = list(var.dims)
        if len(dims) != arr.ndim:
            dims = [f"{name}_dim{i}" for i in range(arr.ndim)]
        for i, dim in enumerate(dims[1:], start=1):
            if dim not in coords and rv:
                labels = _labels(var, data, dim, arr.shape[i])
                if labels is not None:
                    coords[dim] = (dim, labels)
        variables[name] = (dims, arr, attrs)
    for vname, comps in vectors.items():
        labels = np.array([c for c, _, _ in comps])
        stacked = np.stack([a for _, a, _ in comps], axis=1)
        attrs = dict(comps[0][2])
        attrs["long_name"] = "; ".join(dict.fromkeys(str(a.get("long_name", "")) for _, _, a in comps))
        attrs["components"] = [c for c, _, _ in comps]
        attrs["magfw_variables"] = [
            v.name
            for v in d.variables
            if isinstance(v.attrs.get("vector"), list) and str(v.attrs["vector"][0]) == vname
        ]
        dim = (
            COMPONENT_DIM
            if COMPONENT_DIM not in coords or list(coords[COMPONENT_DIM][1]) == list(labels)
            else f"{vname}_component"
        )
        coords.setdefault(dim, (dim, labels))
        variables[vname] = (["time", dim], stacked, attrs)
    label_vars = {r for v in d.variables for r in v.labl_ptr.values()}
    for name in label_vars:
        variables.pop(name, None)  # now coordinates
    ds = xr.Dataset(variables, coords=coords, attrs=_global_attrs(data.global_attrs))
    ds.attrs["magfw_definition"] = d.key
    return ds


def _global_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in attrs.items():
        if isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


def _flatfile_as_definition(data: ProductData, d: ProductDefinition) -> ProductData:
    """A flat file's columns put back into the definition's variables (``attrs.columns``)."""
    from magfw.io.products import flatfile_layout

    time_var, time_name, layout = flatfile_layout(d, data.path)
    variables: dict[str, np.ndarray] = {}
    var_attrs: dict[str, dict[str, Any]] = {}
    if time_name in data.variables:
        variables[time_var.name] = data.variables[time_name]
        var_attrs[time_var.name] = data.var_attrs.get(time_name, {})
    for var, names in layout:
        if not all(n in data.variables for n in names):
            continue
        cols = [np.asarray(data.variables[n], dtype=np.float64) for n in names]
        variables[var.name] = (
            cols[0] if len(names) == 1 and var.attrs.get("columns") is None else np.stack(cols, axis=1)
        )
        var_attrs[var.name] = dict(data.var_attrs.get(names[0], {}))
    return ProductData(
        path=data.path,
        format=data.format,
        variables=variables,
        var_attrs=var_attrs,
        global_attrs=data.global_attrs,
        info=data.info,
    )


class MagfwBackendEntrypoint(BackendEntrypoint):
    """``xr.open_dataset(path, engine="magfw")``: any magfw product, any mission."""

    description = "magfw products (CDF, netCDF, UCLA flat files) with decoded time"
    open_dataset_parameters = ("filename_or_obj", "drop_variables")

    def open_dataset(
        self,
        filename_or_obj: Any,
        *,
        drop_variables: Iterable[str] | None = None,
    ) -> xr.Dataset:
        if not isinstance(filename_or_obj, str | os.PathLike):
            raise TypeError("engine='magfw' opens product files by path")
        return product_dataset(Path(os.fspath(filename_or_obj)), drop_variables=drop_variables)

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        """Flat files only (no other engine reads them); other products need engine='magfw'."""
        if not isinstance(filename_or_obj, str | os.PathLike):
            return False
        return Path(os.fspath(filename_or_obj)).suffix.lower() in (".ffh", ".ffd")

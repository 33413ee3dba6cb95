"""netCDF-4 product files (h5netcdf), written from a :class:`ProductDefinition` with CF/ACDD
attributes.

Dimensions come from ``definition.dims`` (the size-None one is unlimited, normally
``time``). Each variable gets ``long_name`` (its description), ``units``, ``_FillValue`` and
``valid_min``/``valid_max`` in its own dtype (the time variable has no ``_FillValue`` unless
its definition declares a fill), then its ``attrs`` verbatim. Globals are the
definition's ``global_attrs`` overridden by those passed in, with ``Conventions`` defaulting
to ``CF-1.8, ACDD-1.3``.

Time. A ``float64`` time variable (e.g. Aditya ``time`` in UNIX seconds) is written as
given, with the units the definition declares. A ``tt2000`` variable is written as a CF time,
int64 counts of UTC ``<unit> since <epoch>`` in the ``standard`` calendar
(:mod:`magfw.io.netcdf_time`: xarray and cftime decode it), and read back as TT2000.

Labels and support variables. A variable's ``labl_ptr`` targets (component labels) and its
``depend`` targets other than the time variable are written as CF auxiliary coordinates (its
``coordinates`` attribute, after any the definition's ``attrs`` give): CF's labels (section
6.1) are string-valued auxiliary coordinates.

Compression follows ``definition.compression`` (gzip level, 0 = none), chunks of about
1 MiB along the record dimension. Files are written atomically.

Reading: netCDF-4 files through h5netcdf; classic netCDF-3 files (e.g. NOAA DSCOVR) through
``scipy.io.netcdf_file`` when scipy is installed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import h5netcdf
import h5py
import numpy as np

from magfw.errors import DefinitionError, InputError
from magfw.io import netcdf_time
from magfw.io.atomic import atomic_path
from magfw.io.products import (
    ProductData,
    VarInfo,
    conform,
    expected_fill,
    full_dims,
    merged_globals,
    typed,
    writable_attrs,
)
from magfw.plugin.definitions import ProductDefinition, Variable

#: Comment given to TT2000 time variables.
TT2000_COMMENT = netcdf_time.COMMENT

_CHUNK_BYTES = 1 << 20
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_CLASSIC_MAGIC = (b"CDF\x01", b"CDF\x02", b"CDF\x05")


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def netcdf_fill(definition: ProductDefinition, var: Variable) -> Any:
    """The ``_FillValue`` of ``var``: as :func:`expected_fill`, except that the time variable
    gets none unless the definition declares one (CF coordinates have no missing values)."""
    if var.name == definition.time_variable and var.fill is None:
        return None
    return _stored(var, expected_fill(var))


def time_units(var: Variable) -> str:
    """The CF units a ``tt2000`` variable is written with: its definition's, or
    :data:`magfw.io.netcdf_time.DEFAULT_UNITS`."""
    return var.units if var.units is not None else netcdf_time.DEFAULT_UNITS


def _cf_attrs(definition: ProductDefinition, var: Variable) -> dict[str, Any]:
    """CF attributes of ``var`` from the definition (``_FillValue`` is set at creation)."""
    a: dict[str, Any] = {}
    if var.description:
        a["long_name"] = var.description
    if var.units is not None or var.dtype == "tt2000":
        a["units"] = time_units(var) if var.dtype == "tt2000" else var.units
    for key, value in (("valid_min", var.valid_min), ("valid_max", var.valid_max)):
        if value is not None:
            a[key] = _stored(var, typed(var, value))
    if var.dtype == "tt2000":
        a.update(calendar="standard", standard_name="time", comment=TT2000_COMMENT)
        a[netcdf_time.MARKER] = "tt2000"
    tv = definition.time_variable
    refs = [r for k, r in sorted(var.depend.items()) if not (k == "DEPEND_0" and r == tv)]
    refs += [r for _, r in sorted(var.labl_ptr.items())]
    given = str(var.attrs.get("coordinates", "")).split()
    coords = list(dict.fromkeys([*given, *refs]))
    if refs:
        a["coordinates"] = " ".join(coords)
    return a


def _stored(var: Variable, value: Any) -> Any:
    """A value of ``var`` as the file stores it (a ``tt2000`` value as its CF count)."""
    if var.dtype != "tt2000" or value is None:
        return value
    return netcdf_time.encode(np.asarray([value], dtype=np.int64), time_units(var))[0]


def _nc_value(var: Variable, key: str, value: Any) -> Any:
    """An attribute value netCDF can store; CF range/fill attributes in the variable's dtype."""
    if key in ("valid_min", "valid_max", "valid_range", "_FillValue", "missing_value", "flag_values") and (
        var.dtype != "str"
    ):
        return np.asarray(value, dtype=var.numpy_dtype)[()]
    if isinstance(value, bool | np.bool_):
        return int(value)
    return value


def write_netcdf(
    path: str | Path,
    definition: ProductDefinition,
    variables: Mapping[str, Any],
    global_attrs: Mapping[str, Any],
    variable_attrs: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Write ``variables`` as the netCDF-4 file ``definition`` describes; return ``path``.

    ``global_attrs`` override the definition's; ``variable_attrs`` add to or override a
    variable's attributes (None removes one). A mismatch with the definition is a
    :class:`DefinitionError`; a failed write leaves nothing on disk.
    """
    path = Path(path)
    arrays = conform(definition, variables, path)
    variable_attrs = dict(variable_attrs or {})
    stray = sorted(set(variable_attrs) - set(arrays))
    if stray:
        raise DefinitionError(path, f"variable_attrs for variables not written: {stray}")
    gattrs = merged_globals(definition, global_attrs)
    gattrs.setdefault("Conventions", "CF-1.8, ACDD-1.3")
    level = definition.compression

    used = {d for v in definition.variables if v.name in arrays for d in full_dims(definition, v)}
    with atomic_path(path) as tmp, h5netcdf.File(tmp, "w") as nc:
        nc.dimensions = {d: s for d, s in definition.dims.items() if d in used}
        for key, value in gattrs.items():
            nc.attrs[key] = value if not isinstance(value, bool) else int(value)
        unlimited = [d for d, s in nc.dimensions.items() if s.isunlimited()]
        nrec = {}
        for var in definition.variables:
            if var.name in arrays and var.record_varying:
                nrec[full_dims(definition, var)[0]] = arrays[var.name].shape[0]
        for d in unlimited:
            nc.resize_dimension(d, nrec.get(d, 0))
        for var in definition.variables:
            if var.name in arrays:
                _write_variable(
                    nc, definition, var, arrays[var.name], level, variable_attrs.get(var.name, {})
                )
    return path


def _write_variable(
    nc: h5netcdf.File,
    definition: ProductDefinition,
    var: Variable,
    arr: np.ndarray,
    level: int,
    extra: Mapping[str, Any],
) -> None:
    dims = tuple(full_dims(definition, var))
    kwargs: dict[str, Any] = {}
    if var.dtype == "str":
        dtype: Any = h5py.string_dtype()
        data: Any = arr.astype(object)
    else:
        dtype = np.dtype(var.numpy_dtype)
        data = netcdf_time.encode(arr, time_units(var)) if var.dtype == "tt2000" else arr
        fill = netcdf_fill(definition, var)
        if fill is not None:
            kwargs["fillvalue"] = fill
    if arr.ndim and arr.size:
        if var.record_varying:
            # about 1 MiB per chunk, evenly split so the last chunk wastes no space
            row = max(1, int(np.prod(arr.shape[1:])) * arr.itemsize)
            nchunks = -(-arr.shape[0] // max(1, _CHUNK_BYTES // row))
            kwargs["chunks"] = (-(-arr.shape[0] // nchunks), *arr.shape[1:])
        if level > 0 and var.dtype != "str":
            kwargs.update(compression="gzip", compression_opts=level)
    v = nc.create_variable(var.name, dims, dtype, **kwargs)
    if arr.size:
        v[...] = data
    attrs = _cf_attrs(definition, var)
    attrs.update({k: v for k, v in writable_attrs(var).items() if not (k == "coordinates" and k in attrs)})
    attrs.update(extra)
    for key, value in attrs.items():
        if key == "_FillValue":
            continue  # set at creation from the definition
        if value is None:
            continue
        v.attrs[key] = _nc_value(var, key, value)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """An attribute value as str / numpy scalar / list: bytes decoded, 1-element arrays
    unwrapped."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "SO":
            items = [_plain(v) for v in value.tolist()]
            return items[0] if len(items) == 1 else items
        if value.dtype.kind == "U":
            items = [str(v) for v in value.tolist()]
            return items[0] if len(items) == 1 else items
        if value.size == 1:
            return value.reshape(())[()]
    return value


def _native(arr: np.ndarray) -> np.ndarray:
    """``arr`` with text as a numpy str array and numbers in native byte order."""
    if arr.dtype.kind in "OS":
        flat = [
            v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in arr.ravel().tolist()
        ]
        return np.array(flat, dtype=str).reshape(arr.shape)
    if not arr.dtype.isnative:
        return arr.astype(arr.dtype.newbyteorder("="))
    return arr


def _type_name(arr: np.ndarray) -> str:
    return "str" if arr.dtype.kind in "OSU" else arr.dtype.name


def read_netcdf(path: str | Path, variables: list[str] | None = None) -> ProductData:
    """Read a netCDF file: raw arrays (fill not masked), attributes and storage info; a
    ``tt2000`` variable magfw wrote as a CF time is given back as TT2000 (int64 ns).

    ``info[name].data_type`` is the numpy dtype name (``str`` for text), ``dim_names`` the
    dimension names and ``record_varying`` whether the first dimension is unlimited. An
    unreadable or truncated file, or a requested variable that is missing, is a one-line
    :class:`InputError`.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such netCDF file")
    try:
        with open(path, "rb") as fh:
            magic = fh.read(8)
    except OSError as exc:
        raise InputError(path, f"not a readable netCDF: {exc}") from exc
    if magic.startswith(_CLASSIC_MAGIC):
        return _read_classic(path, variables)
    if magic != _HDF5_MAGIC:
        raise InputError(path, "not a readable netCDF: no netCDF-4/HDF5 or netCDF-3 signature")
    try:
        with h5netcdf.File(path, "r") as nc:
            names = list(nc.variables)
            if variables is not None:
                _require(path, variables, names)
                names = list(variables)
            unlimited = {d for d, dim in nc.dimensions.items() if dim.isunlimited()}
            out: dict[str, np.ndarray] = {}
            var_attrs: dict[str, dict[str, Any]] = {}
            info: dict[str, VarInfo] = {}
            for name in names:
                v = nc.variables[name]
                arr = _native(np.asarray(v[...]))
                attrs = {k: _plain(a) for k, a in v.attrs.items()}
                if netcdf_time.is_encoded(attrs):  # a TT2000 written as a CF time
                    arr = netcdf_time.decode(arr, str(attrs["units"]))
                rv = bool(v.dimensions) and v.dimensions[0] in unlimited
                out[name] = arr
                var_attrs[name] = attrs
                info[name] = _var_info(arr, rv, tuple(v.dimensions), attrs)
            gattrs = {k: _plain(a) for k, a in nc.attrs.items()}
    except InputError:
        raise
    except Exception as exc:  # h5py raises OSError, KeyError, ValueError for damaged files
        raise InputError(path, f"not a readable netCDF: {type(exc).__name__}: {exc}") from exc
    return ProductData(
        path=path, format="netcdf", variables=out, var_attrs=var_attrs, global_attrs=gattrs, info=info
    )


def _var_info(
    arr: np.ndarray, record_varying: bool, dim_names: tuple[str, ...], attrs: dict[str, Any]
) -> VarInfo:
    """How a variable read from a netCDF file (either reader) is stored."""
    return VarInfo(
        data_type=_type_name(arr),
        dims=tuple(arr.shape[1:] if record_varying else arr.shape),
        record_varying=record_varying,
        dim_names=dim_names,
        attr_types={k: np.asarray(a).dtype.name for k, a in attrs.items() if not isinstance(a, str | list)},
    )


def _require(path: Path, wanted: list[str], names: list[str]) -> None:
    for v in wanted:
        if v not in names:
            raise InputError(path, f"variable {v!r} not found (has: {', '.join(names)})")


def _read_classic(path: Path, variables: list[str] | None) -> ProductData:
    """A classic (netCDF-3) file through scipy.io, which h5netcdf cannot open."""
    try:
        from scipy.io import netcdf_file
    except ImportError as exc:
        raise InputError(path, "is a netCDF-3 (classic) file; reading it needs scipy") from exc
    try:
        with netcdf_file(path, "r", mmap=False, maskandscale=False) as nc:
            names = list(nc.variables)
            if variables is not None:
                _require(path, variables, names)
                names = list(variables)
            out: dict[str, np.ndarray] = {}
            var_attrs: dict[str, dict[str, Any]] = {}
            info: dict[str, VarInfo] = {}
            for name in names:
                v = nc.variables[name]
                arr = np.array(v.data, copy=True)
                if arr.dtype.kind == "S" and arr.ndim >= 1:  # char arrays: last dim is the string
                    arr = np.char.rstrip(
                        np.char.decode(arr.view(f"S{arr.shape[-1]}").reshape(arr.shape[:-1]), "latin-1"),
                        "\x00",
                    )
                arr = _native(arr)
                rv = bool(v.dimensions) and nc.dimensions[v.dimensions[0]] is None
                attrs = {k: _plain(a) for k, a in v._attributes.items()}
                out[name] = arr
                var_attrs[name] = attrs
                info[name] = _var_info(arr, rv, tuple(v.dimensions), attrs)
            gattrs = {k: _plain(a) for k, a in nc._attributes.items()}
    except InputError:
        raise
    except Exception as exc:
        raise InputError(path, f"not a readable netCDF: {type(exc).__name__}: {exc}") from exc
    return ProductData(
        path=path, format="netcdf", variables=out, var_attrs=var_attrs, global_attrs=gattrs, info=info
    )


__all__ = ["netcdf_fill", "read_netcdf", "write_netcdf"]

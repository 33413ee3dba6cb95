"""Write and read product files of any format, driven by their :class:`ProductDefinition`.

:func:`write_product` serialises a mission's in-memory :class:`~magfw.plugin.context.Product` with
the writer its definition's ``format`` names (CDF, netCDF, flat file, PNG or raw bytes);
:func:`read_product` opens any CDF, netCDF or flat file into one :class:`ProductData`.

Flat files: :mod:`magfw.io.flatfile_product` says how a definition maps onto columns.

The helpers here (:func:`conform`, :func:`expected_fill`, :func:`effective_depend`,
:func:`full_dims`) are shared by the writers and by ``magfw check`` so both read a definition
the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from magfw.errors import DefinitionError, InputError
from magfw.io.checksum import WrittenFile, seal, write_hashed

if TYPE_CHECKING:
    from magfw.plugin.context import Product
    from magfw.plugin.definitions import ProductDefinition, Variable

#: Keys of ``Variable.attrs`` that steer writers and are not written as attributes.
WRITER_KEYS = frozenset({"columns", "source", "CDF_DATA_TYPE", "vector"})

#: ISTP fill values by numpy dtype (used when a record-varying variable declares no fill).
ISTP_FILL: dict[str, int | float] = {
    "int8": -128,
    "int16": -32768,
    "int32": -2147483648,
    "int64": -9223372036854775808,
    "uint8": 255,
    "uint16": 65535,
    "uint32": 4294967295,
    "float32": -1e31,
    "float64": -1e31,
}

#: The flat-file fill flag.
FLATFILE_FILL = 1e34


def flatfile_layout(
    definition: ProductDefinition, where: str | Path | None = None
) -> tuple[Variable, str, list[tuple[Variable, list[str]]]]:
    """How a flat-file definition maps onto columns (:func:`magfw.io.flatfile_product.layout`)."""
    from magfw.io.flatfile_product import layout

    return layout(definition, where)


_NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf", ".h5")
_FLATFILE_SUFFIXES = (".ffh", ".ffd")


@dataclass(frozen=True, kw_only=True)
class VarInfo:
    """How a variable is stored.

    ``data_type`` is the CDF type name (``CDF_REAL4``) for CDF files and the numpy dtype name
    (``float32``, ``str``) otherwise. ``dims`` are the sizes of the non-record dimensions;
    ``dim_names`` all dimension names (netCDF only). ``num_elements`` is the string length of
    CDF_CHAR variables. ``attr_types`` maps numeric attribute names to their stored type.
    """

    data_type: str
    dims: tuple[int, ...]
    record_varying: bool
    dim_names: tuple[str, ...] = ()
    num_elements: int = 1
    attr_types: dict[str, str] = field(default_factory=dict)


@dataclass(kw_only=True)
class ProductData:
    """The content of a product file: raw arrays (fill not masked), attributes, storage info."""

    path: Path
    format: str  # "cdf", "netcdf" or "flatfile"
    variables: dict[str, np.ndarray]
    var_attrs: dict[str, dict[str, Any]]
    global_attrs: dict[str, Any]
    info: dict[str, VarInfo]


# ---------------------------------------------------------------------------------------------
# Reading a definition the same way everywhere
# ---------------------------------------------------------------------------------------------


def record_dim(definition: ProductDefinition) -> str:
    """The record (unlimited) dimension: the first declared dimension of size None."""
    for name, size in definition.dims.items():
        if size is None:
            return name
    return "time"


def full_dims(definition: ProductDefinition, var: Variable) -> list[str]:
    """All dimension names of ``var``, the record dimension first if it is record-varying.

    A record-varying variable may omit its record dimension from ``dims``; it is added here.
    """
    dims = list(var.dims)
    if var.record_varying:
        rec = record_dim(definition)
        if not dims or definition.dims.get(dims[0], 0) is not None:
            dims.insert(0, rec)
    return dims


def fixed_shape(definition: ProductDefinition, var: Variable) -> tuple[int | None, ...]:
    """Expected shape of ``var`` (None for the record dimension)."""
    return tuple(definition.dims.get(d) for d in full_dims(definition, var))


def expected_fill(var: Variable) -> Any:
    """The fill value of ``var`` as a numpy scalar of its dtype, or None.

    A record-varying numeric variable without a declared fill gets the ISTP fill of its type.
    """
    if var.dtype == "str":
        return None if var.fill is None else str(var.fill)
    npdt = np.dtype(var.numpy_dtype)
    value = var.fill
    if value is None:
        if not var.record_varying:
            return None
        value = ISTP_FILL[npdt.name]
    return npdt.type(value)


def typed(var: Variable, value: Any) -> Any:
    """``value`` (a fill, valid_min, ...) as a numpy scalar of ``var``'s dtype."""
    if value is None or var.dtype == "str":
        return value
    return np.dtype(var.numpy_dtype).type(value)


def effective_depend(definition: ProductDefinition, var: Variable) -> dict[str, str]:
    """``DEPEND_n`` of ``var``: as declared, plus ``DEPEND_0`` on the time variable for every
    record-varying variable other than the time variable itself."""
    dep = dict(var.depend)
    tv = definition.time_variable
    if var.record_varying and tv is not None and var.name != tv and "DEPEND_0" not in dep:
        dep["DEPEND_0"] = tv
    return dict(sorted(dep.items()))


def writable_attrs(var: Variable) -> dict[str, Any]:
    """``var.attrs`` without the writer-steering keys (:data:`WRITER_KEYS`)."""
    return {k: v for k, v in var.attrs.items() if k not in WRITER_KEYS}


#: A record-varying variable given lazily: a function yielding its records in chunks, in order.
LazyVariable = Callable[[], Iterable[np.ndarray]]


def materialise(variables: Mapping[str, Any]) -> dict[str, Any]:
    """``variables`` with every lazy variable (:data:`LazyVariable`) concatenated."""
    return {k: _concat(v) if callable(v) else v for k, v in variables.items()}


def _concat(lazy: LazyVariable) -> np.ndarray:
    parts = list(lazy())
    return np.concatenate(parts) if parts else np.empty(0)


def conform(
    definition: ProductDefinition, variables: Mapping[str, Any], where: str | Path
) -> dict[str, np.ndarray]:
    """Check ``variables`` against the definition and cast them to the declared dtypes.

    Returns the arrays in definition order, NaN in a float variable replaced by its declared
    fill. A missing required variable, an unknown one, a lossy cast (e.g. float to int) or a
    shape that contradicts the declared dimensions is a :class:`DefinitionError`; a missing
    optional variable is left out. Lazy variables are concatenated first.
    """
    variables = materialise(variables)
    check_names(definition, variables, where)
    out: dict[str, np.ndarray] = {}
    nrec: int | None = None
    for var in definition.variables:
        if var.name not in variables:
            continue
        arr = conform_one(definition, var, variables[var.name], where)
        if var.record_varying:
            nrec = check_records(var, arr, nrec, where)
        out[var.name] = arr
    return out


def check_names(definition: ProductDefinition, variables: Mapping[str, Any], where: str | Path) -> None:
    """Unknown variables, or missing required ones, are a :class:`DefinitionError`."""
    known = {v.name for v in definition.variables}
    unknown = sorted(set(variables) - known)
    if unknown:
        raise DefinitionError(where, f"variables {unknown} are not in definition {definition.key}")
    for var in definition.variables:
        if var.name not in variables and not var.optional:
            raise DefinitionError(where, f"required variable {var.name!r} is missing")


def check_records(var: Variable, arr: np.ndarray, nrec: int | None, where: str | Path) -> int:
    """The record count, checked against the other record-varying variables'."""
    if nrec is not None and arr.shape[0] != nrec:
        raise DefinitionError(where, f"variable {var.name!r} has {arr.shape[0]} records, others have {nrec}")
    return int(arr.shape[0])


def conform_one(definition: ProductDefinition, var: Variable, value: Any, where: str | Path) -> np.ndarray:
    """One variable checked and cast as :func:`conform` does."""
    arr = np.asarray(value)
    if var.dtype == "str":
        if arr.dtype.kind == "S":
            arr = np.char.decode(arr, "ascii")
        elif arr.dtype.kind != "U":
            arr = arr.astype(str)
    else:
        target = np.dtype(var.numpy_dtype)
        if arr.dtype != target:
            if not np.can_cast(arr.dtype, target, "same_kind"):
                raise DefinitionError(
                    where, f"variable {var.name!r} is {arr.dtype}, cannot be stored as {var.dtype}"
                )
            arr = arr.astype(target)
        if target.kind == "f" and var.fill is not None and np.isnan(arr).any():
            # missing values are NaN in magfw; on disk they are the definition's fill
            arr = np.where(np.isnan(arr), target.type(var.fill), arr)
    shape = fixed_shape(definition, var)
    if arr.ndim != len(shape) or any(
        s is not None and a != s for a, s in zip(arr.shape, shape, strict=False)
    ):
        want = "[" + ", ".join("N" if s is None else str(s) for s in shape) + "]"
        raise DefinitionError(
            where,
            f"variable {var.name!r} has shape {list(arr.shape)}, "
            f"expected {want} ({', '.join(full_dims(definition, var))})",
        )
    return np.ascontiguousarray(arr)


def merged_globals(definition: ProductDefinition, global_attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Definition global attributes overridden by ``global_attrs``; None values dropped."""
    merged = {**definition.global_attrs, **global_attrs}
    return {k: v for k, v in merged.items() if v is not None}


# ---------------------------------------------------------------------------------------------
# Dispatch
# ---------------------------------------------------------------------------------------------


def write_product(product: Product, target: Path, extra_attrs: Mapping[str, Any]) -> list[Path]:
    """Write ``product`` to ``target`` in its definition's format; return the files written.

    ``extra_attrs`` (provenance) override ``product.attrs``, which override the definition's
    global attributes. A flat file's ``target`` is its ``.ffh`` or ``.ffd``; both are written.
    """
    return [w.path for w in write_product_files(product, target, extra_attrs)]


def write_product_files(product: Product, target: Path, extra_attrs: Mapping[str, Any]) -> list[WrittenFile]:
    """:func:`write_product`, returning each file with the SHA-256 of what was written.

    Every file is on disk (fsynced) when this returns. Flat files, PNGs and byte payloads are
    written in one write each and hashed while written (:func:`magfw.io.checksum.write_hashed`);
    CDF and netCDF writers seek back into their files, so those are hashed from the page cache
    while they are flushed (:func:`magfw.io.checksum.seal`).
    """
    d = product.definition
    target = Path(target)
    attrs = {**product.attrs, **extra_attrs}
    if d.format == "cdf":
        from magfw.io.cdf import write_cdf

        return [seal(write_cdf(target, d, product.variables, attrs, product.variable_attrs))]
    if d.format == "netcdf":
        from magfw.io.netcdf import write_netcdf

        return [seal(write_netcdf(target, d, product.variables, attrs, product.variable_attrs))]
    if d.format == "flatfile":
        from magfw.io.flatfile_product import write_flatfile_product

        digests: dict[Path, str] = {}
        paths = write_flatfile_product(product, target, attrs, digests)
        return [WrittenFile(p, digests[p], p.stat().st_size) for p in paths]
    if d.format == "png":
        if product.plot is None:
            raise DefinitionError(target, f"png product {d.key} has no plot")
        from magfw.tools.plot import render_png

        return [_write_bytes(target, render_png(product.plot))]
    if d.format == "bytes":
        if product.stream is not None:
            from magfw.io.atomic import atomic_path

            with atomic_path(target) as tmp:
                product.stream(tmp)
            return [seal(target)]
        if product.payload is None:
            raise DefinitionError(target, f"bytes product {d.key} has no payload")
        return [_write_bytes(target, product.payload)]
    raise DefinitionError(target, f"unknown product format {d.format!r}")


def _write_bytes(target: Path, data: bytes) -> WrittenFile:
    """``data`` written atomically to ``target``, hashed while written."""
    from magfw.io.atomic import atomic_path

    with atomic_path(target) as tmp:
        written = write_hashed(tmp, data)
    return WrittenFile(target, written.sha256, written.size)


def read_product(path: str | Path, variables: list[str] | None = None) -> ProductData:
    """Read a CDF (``.cdf``), netCDF (``.nc``) or flat file (``.ffh``/``.ffd``) by extension."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".cdf":
        from magfw.io.cdf import read_cdf

        return read_cdf(path, variables)
    if suffix in _NETCDF_SUFFIXES:
        from magfw.io.netcdf import read_netcdf

        return read_netcdf(path, variables)
    if suffix in _FLATFILE_SUFFIXES:
        from magfw.io.flatfile_product import read_flatfile_product

        return read_flatfile_product(path, variables)
    raise InputError(path, f"unknown product file type {path.suffix!r} (expected .cdf, .nc, .ffh or .ffd)")

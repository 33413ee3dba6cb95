"""Write and read product files of any format, driven by their :class:`ProductDefinition`.

:func:`write_product` serialises a mission's in-memory :class:`~magfw.plugin.context.Product` with
the writer its definition's ``format`` names (CDF, netCDF, flat file, PNG or raw bytes);
:func:`read_product` opens any CDF, netCDF or flat file into one :class:`ProductData`.

Flat files. A flat-file definition's variables are its columns: the time variable (dtype
``tt2000``, or ``float64`` ticks already in seconds of ``definition.flatfile_epoch``) becomes
the ``T`` column, in seconds since ``definition.flatfile_epoch`` (name and units from the
variable; units default ``SEC``); every other record-varying numeric variable becomes one
``R`` (float32) column, or, if it is ``[N, k]``, ``k`` columns named by the variable's
``attrs["columns"]`` list (a 1-D variable may rename its column the same way; flat-file
names have at most 9 characters). A column's SOURCE is ``attrs["source"]`` or the mission
name. Fill values (the variable's ``fill``) and NaN become the flat-file flag 1e34.
Non-record-varying and text variables (labels) have no column. Integer flags are written as
float32, exact up to 2**24. Global attributes go into the abstract as ``KEY = value`` records
(upper-case keys that fit one record as aligned flat-file keywords, the rest as text lines).
Reading gives the time column as int64 TT2000 (``UNITS`` ``ns``).

The helpers here (:func:`conform`, :func:`expected_fill`, :func:`effective_depend`,
:func:`full_dims`) are shared by the writers and by ``magfw check`` so both read a definition
the same way.
"""

from __future__ import annotations

import re
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
        digests: dict[Path, str] = {}
        paths = _write_flatfile_product(product, target, attrs, digests)
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


def _column_names(var: Variable, width: int, where: str | Path | None) -> list[str]:
    names = var.attrs.get("columns")
    if names is None:
        if width != 1:
            raise DefinitionError(
                where, f"variable {var.name!r} has {width} columns but no attrs['columns'] naming them"
            )
        return [var.name]
    names = [str(n) for n in names]
    if len(names) != width:
        raise DefinitionError(
            where,
            f"variable {var.name!r}: attrs['columns'] names {len(names)} columns, the data have {width}",
        )
    return names


def flatfile_layout(
    definition: ProductDefinition, where: str | Path | None = None
) -> tuple[Variable, str, list[tuple[Variable, list[str]]]]:
    """How a flat-file definition maps onto columns: the time variable, its column name, and
    each data variable with its column names (see the module notes)."""
    tv = definition.time_variable
    if tv is None or definition.variable(tv).dtype not in ("tt2000", "float64"):
        raise DefinitionError(
            where, f"flat-file product {definition.key} needs a tt2000 (or float64 ticks) time variable"
        )
    time_var = definition.variable(tv)
    cols: list[tuple[Variable, list[str]]] = []
    for var in definition.variables:
        if var.name == tv or not var.record_varying:
            continue
        if var.dtype in ("str", "tt2000", "cdf_epoch"):
            continue
        width = int(np.prod([s or 1 for s in fixed_shape(definition, var)[1:]]))
        cols.append((var, _column_names(var, width, where)))
    return time_var, _column_names(time_var, 1, where)[0], cols


def _write_flatfile_product(
    product: Product, target: Path, attrs: Mapping[str, Any], digests: dict[Path, str] | None = None
) -> list[Path]:
    from magfw.io.flatfile import write_flatfile

    d = product.definition
    arrays = conform(d, product.variables, target)
    time_var, time_name, layout = flatfile_layout(d, target)
    columns: list[tuple[str, str, str]] = []
    blocks: list[np.ndarray] = []
    for var, names in layout:
        if var.name not in arrays:
            continue
        arr = arrays[var.name]
        # float32 stays float32 (the file's type): no round trip through float64
        block = arr.reshape(arr.shape[0], -1).astype(np.float32 if arr.dtype == np.float32 else np.float64)
        bad = ~np.isfinite(block)
        if var.fill is not None:
            bad |= block == float(typed(var, var.fill))
        block[bad] = FLATFILE_FILL
        source = str(var.attrs.get("source", d.mission)).strip()
        columns += [(name, (var.units or "").strip(), source) for name in names]
        blocks.append(block)
    time = arrays[time_var.name]
    if time_var.dtype == "float64":  # ticks: seconds in the definition's flat-file epoch
        from magfw.geometry.time import tt2000_from_flatfile

        time = np.asarray(tt2000_from_flatfile(time, d.flatfile_epoch), dtype=np.int64)
    data = np.concatenate(blocks, axis=1) if blocks else np.empty((time.shape[0], 0))
    keywords: dict[str, str] = {}
    abstract = [d.description] if d.description else []
    for key, value in merged_globals(d, attrs).items():
        text = _text(value)
        if (
            _FF_KEY.fullmatch(key)
            and key not in _FF_RESERVED
            and "=" not in text
            and (len(f"{key:<19}= {text}") <= 72 and text.isascii())
        ):
            keywords[key] = text
        else:
            abstract.append(f"{key} = {text}")
    ffh, ffd = write_flatfile(
        target,
        time,
        data,
        columns,
        epoch=d.flatfile_epoch,
        fill=FLATFILE_FILL,
        time_name=time_name,
        time_units=(time_var.units or "SEC").strip() or "SEC",
        abstract=abstract,
        keywords=keywords,
        digests=digests,
    )
    return [Path(ffh), Path(ffd)]


#: Attribute names the flat-file writer takes as header keywords (``KEY = value``, key padded).
_FF_KEY = re.compile(r"[A-Z][A-Z0-9 _.()/&-]*")
_FF_RESERVED = frozenset(
    {
        "DATA",
        "CDATE",
        "RECL",
        "NCOLS",
        "NROWS",
        "OPSYS",
        "EPOCH",
        "FIRST TIME",
        "LAST TIME",
        "MISSING DATA FLAG",
        "ERROR FLAG",
        "ABSTRACT",
        "END",
    }
)


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


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
        return _read_flatfile_product(path, variables)
    raise InputError(path, f"unknown product file type {path.suffix!r} (expected .cdf, .nc, .ffh or .ffd)")


def _read_flatfile_product(path: Path, variables: list[str] | None) -> ProductData:
    """A flat file as ProductData: the time column (int64 TT2000) and one variable per data
    column (values as stored, fill not masked), each with ``UNITS``, ``FILLVAL``,
    ``DEPEND_0`` on the time column; ``KEY = value`` abstract records become global
    attributes, after the header keywords."""
    from magfw.io.flatfile import read_flatfile

    ff = read_flatfile(path)
    tname = ff.time_column.name
    out: dict[str, np.ndarray] = {tname: np.asarray(ff.time, dtype=np.int64)}
    var_attrs: dict[str, dict[str, Any]] = {
        tname: {"UNITS": "ns", "VAR_TYPE": "support_data", "FLATFILE_UNITS": ff.time_column.units}
    }
    info: dict[str, VarInfo] = {tname: VarInfo(data_type="int64", dims=(), record_varying=True)}
    data = np.asarray(ff.data)
    for i, col in enumerate(ff.data_columns):
        values = data[:, i]
        out[col.name] = values
        var_attrs[col.name] = {
            "UNITS": col.units,
            "FILLVAL": values.dtype.type(ff.fill),
            "DEPEND_0": tname,
            "VAR_TYPE": "data",
            "SOURCE": col.source,
        }
        info[col.name] = VarInfo(data_type=values.dtype.name, dims=(), record_varying=True)
    if variables is not None:
        missing = [v for v in variables if v not in out]
        if missing:
            raise InputError(path, f"variable {missing[0]!r} not found (has: {', '.join(out)})")
        out = {k: v for k, v in out.items() if k in set(variables) | {tname}}
    gattrs: dict[str, Any] = dict(ff.keywords)
    for line in ff.abstract:
        key, sep, value = str(line).partition("=")
        if sep and key.strip():
            gattrs.setdefault(key.strip(), value.strip())
    gattrs.setdefault("EPOCH", ff.epoch)
    return ProductData(
        path=Path(path),
        format="flatfile",
        variables=out,
        var_attrs={k: var_attrs[k] for k in out},
        global_attrs=gattrs,
        info={k: info[k] for k in out},
    )

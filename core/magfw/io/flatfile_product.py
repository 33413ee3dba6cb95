"""Flat-file products: a definition's variables as flat-file columns, and back.

A flat-file definition's variables are its columns: the time variable (dtype ``tt2000``, or
``float64`` ticks already in seconds of ``definition.flatfile_epoch``) becomes the ``T``
column, in seconds since ``definition.flatfile_epoch`` (name and units from the variable;
units default ``SEC``); every other record-varying numeric variable becomes one ``R``
(float32) column, or, if it is ``[N, k]``, ``k`` columns named by the variable's
``attrs["columns"]`` list (a 1-D variable may rename its column the same way; flat-file names
have at most 9 characters). A column's SOURCE is ``attrs["source"]`` or the mission name. Fill
values (the variable's ``fill``) and NaN become the flat-file flag 1e34. Non-record-varying
and text variables (labels) have no column. Integer flags are written as float32, exact up to
2**24.

Global attributes go into the abstract, after the definition's description: upper-case names
as aligned flat-file keywords (``KEY<19>= value``), the others as ``Name = value`` lines; a list
is written comma-separated, a line break in a value as a blank. A long value goes on in
continuation records (:mod:`magfw.io.flatfile_header`) and reads back whole. Reading gives the
time column as int64 TT2000 (``UNITS`` ``ns``) and, as global attributes, the header keywords,
then every abstract line ``Name = value`` whose name is an attribute name (letters, digits,
blanks and ``_ . ( ) & -``, starting with a letter): free text that merely holds an ``=`` is
not one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from magfw.errors import DefinitionError, InputError
from magfw.io.flatfile_header import RESERVED
from magfw.io.products import FLATFILE_FILL, ProductData, VarInfo, conform, fixed_shape, merged_globals, typed

if TYPE_CHECKING:
    from magfw.plugin.context import Product
    from magfw.plugin.definitions import ProductDefinition, Variable

#: Attribute names the flat-file writer takes as header keywords (``KEY = value``, key padded).
_FF_KEY = re.compile(r"[A-Z][A-Z0-9 _.()/&-]*")
#: An abstract line read as a global attribute: ``Name = value``.
_ATTR_LINE = re.compile(r"\s*([A-Za-z][A-Za-z0-9 _.()&-]*?)\s*=\s*(.*)$")


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


def layout(
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


def _text(value: Any) -> str:
    """An attribute value as one line of header text."""
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value)
    return " ".join(str(value).splitlines()).strip()


def header_text(definition: ProductDefinition, attrs: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The keywords and abstract lines that carry ``definition``'s description and global
    attributes (see the module notes)."""
    keywords: dict[str, str] = {}
    abstract = [_text(definition.description)] if definition.description else []
    for key, value in merged_globals(definition, attrs).items():
        text = _text(value)
        if _FF_KEY.fullmatch(key) and key not in RESERVED and "=" not in text and text.isascii():
            keywords[key] = text
        else:
            abstract.append(f"{key} = {text}")
    return keywords, abstract


def _columns(
    definition: ProductDefinition, arrays: Mapping[str, np.ndarray], cols: list[tuple[Variable, list[str]]]
) -> tuple[list[tuple[str, str, str]], list[np.ndarray]]:
    """(name, units, source) of each data column and the float64 blocks holding them."""
    columns: list[tuple[str, str, str]] = []
    blocks: list[np.ndarray] = []
    for var, names in cols:
        if var.name not in arrays:
            continue
        arr = arrays[var.name]
        # float32 stays float32 (the file's type): no round trip through float64
        block = arr.reshape(arr.shape[0], -1).astype(np.float32 if arr.dtype == np.float32 else np.float64)
        bad = ~np.isfinite(block)
        if var.fill is not None:
            bad |= block == float(typed(var, var.fill))
        block[bad] = FLATFILE_FILL
        source = str(var.attrs.get("source", definition.mission)).strip()
        columns += [(name, (var.units or "").strip(), source) for name in names]
        blocks.append(block)
    return columns, blocks


def write_flatfile_product(
    product: Product, target: Path, attrs: Mapping[str, Any], digests: dict[Path, str] | None = None
) -> list[Path]:
    """Write ``product`` (a flat-file definition's) as ``target``'s .ffh and .ffd."""
    from magfw.io.flatfile_write import write_flatfile

    d = product.definition
    arrays = conform(d, product.variables, target)
    time_var, time_name, cols = layout(d, target)
    columns, blocks = _columns(d, arrays, cols)
    time = arrays[time_var.name]
    if time_var.dtype == "float64":  # ticks: seconds in the definition's flat-file epoch
        from magfw.geometry.time import tt2000_from_flatfile

        time = np.asarray(tt2000_from_flatfile(time, d.flatfile_epoch), dtype=np.int64)
    data = np.concatenate(blocks, axis=1) if blocks else np.empty((time.shape[0], 0))
    keywords, abstract = header_text(d, attrs)
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


def abstract_attrs(lines: list[str]) -> dict[str, str]:
    """The ``Name = value`` lines of an abstract (module notes), first of a name kept."""
    out: dict[str, str] = {}
    for line in lines:
        m = _ATTR_LINE.match(line)
        if m:
            out.setdefault(m.group(1), m.group(2).strip())
    return out


def read_flatfile_product(path: Path, variables: list[str] | None) -> ProductData:
    """A flat file as ProductData: the time column (int64 TT2000) and one variable per data
    column (values as stored, fill not masked), each with ``UNITS``, ``FILLVAL``,
    ``DEPEND_0`` on the time column; the header keywords and the abstract's attribute lines
    become global attributes."""
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
    for key, value in abstract_attrs(ff.abstract).items():
        gattrs.setdefault(key, value)
    gattrs.setdefault("EPOCH", ff.epoch)
    return ProductData(
        path=Path(path),
        format="flatfile",
        variables=out,
        var_attrs={k: var_attrs[k] for k in out},
        global_attrs=gattrs,
        info={k: info[k] for k in out},
    )


def as_definition(data: ProductData, definition: ProductDefinition) -> ProductData:
    """A flat file read by columns put back into its definition's variables: the time column
    under the time variable's name, each variable's columns (``attrs.columns``) stacked
    ``[N, k]`` as float64 (fill kept), with its first column's attributes."""
    time_var, time_name, cols = layout(definition, data.path)
    variables: dict[str, np.ndarray] = {}
    var_attrs: dict[str, dict[str, Any]] = {}
    info: dict[str, VarInfo] = {}
    if time_name in data.variables:
        variables[time_var.name] = data.variables[time_name]
        var_attrs[time_var.name] = data.var_attrs.get(time_name, {})
        info[time_var.name] = data.info[time_name]
    for var, names in cols:
        if not all(n in data.variables for n in names):
            continue
        columns = [np.asarray(data.variables[n], dtype=np.float64) for n in names]
        whole = len(names) == 1 and var.attrs.get("columns") is None
        variables[var.name] = columns[0] if whole else np.stack(columns, axis=1)
        attrs = dict(data.var_attrs.get(names[0], {}))
        attrs["DEPEND_0"] = time_var.name
        var_attrs[var.name] = attrs
        info[var.name] = VarInfo(
            data_type="float64", dims=() if whole else (len(names),), record_varying=True
        )
    return ProductData(
        path=data.path,
        format=data.format,
        variables=variables,
        var_attrs=var_attrs,
        global_attrs=data.global_attrs,
        info=info,
    )

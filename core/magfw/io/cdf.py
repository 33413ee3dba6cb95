"""CDF product files (cdflib), written from a :class:`ProductDefinition` with ISTP attributes.

The variables' CDF types and ISTP attributes are built in :mod:`magfw.io.cdf_attrs`; reading is
:mod:`magfw.io.cdf_read`; records given lazily are appended by :mod:`magfw.io.cdf_stream`.

Compression follows ``definition.compression`` (gzip level per variable; file-level
compression is never used, so attributes stay readable without inflating the whole file).
cdflib itself would compress every variable at level 6; magfw's default is 0 (none), the
definition's default. ``benchmarks/bench_io.py``, one day of 8 Hz ``[N, 4]`` float32 plus
TT2000 Epoch (691 200 records, 16.6 MB raw): level 0 writes in 0.007 s, reads in 0.01 s,
16.6 MB; level 6 writes in 0.60 s (~80x slower), reads in 0.06 s, 12.5 MB (25 % smaller;
level 1 gives 12.6 MB in 0.30 s). Calibrated float32 vectors carry noise in every mantissa
bit (they shrink only to ~87 %); most of the gain is the regular time variable. Uncompressed
writes keep reprocessing I/O-bound rather than CPU-bound; a product whose archive size
matters (or whose data compress well: counts, long fill runs) sets ``compression`` in its
definition.

Files are written atomically (:func:`magfw.io.atomic.atomic_path`). Only cdflib's public API is
used (``cdflib.cdfwrite.CDF``: ``write_globalattrs``, ``write_var``, ``close``; ``cdflib.CDF``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from cdflib.cdfwrite import CDF as CdfWriter

from magfw.errors import DefinitionError
from magfw.io.atomic import atomic_path
from magfw.io.cdf_attrs import (
    CDF_TYPES,
    EQUIVALENT,
    TYPE_CODES,
    TYPED_ATTRS,
    accepted_cdf_types,
    cdf_type,
    global_entries,
    istp_attrs,
    with_extra,
)
from magfw.io.cdf_read import check_cdf, read_cdf
from magfw.io.cdf_stream import append_records
from magfw.io.products import (
    ProductData,
    check_names,
    check_records,
    conform,
    conform_one,
    fixed_shape,
    materialise,
    merged_globals,
    writable_attrs,
)
from magfw.plugin.definitions import ProductDefinition, Variable

#: The shared read result; the name the CDF API was first specified with.
CdfData = ProductData


@dataclass(frozen=True)
class _Streamed:
    """A lazy variable declared without records: its chunks, appended after cdflib closes."""

    var: Variable
    chunks: Iterator[np.ndarray]


def write_cdf(
    path: str | Path,
    definition: ProductDefinition,
    variables: Mapping[str, Any],
    global_attrs: Mapping[str, Any],
    variable_attrs: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Write ``variables`` as the CDF ``definition`` describes; return ``path``.

    ``global_attrs`` override the definition's global attributes (``Logical_file_id``
    defaults to the file's stem); ``variable_attrs`` add to or override a variable's
    attributes (None removes one). A variable may be given lazily (a function yielding its
    record chunks): a record-varying numeric one is then declared by cdflib without records
    and its chunks are appended one by one once cdflib has closed the file
    (:func:`magfw.io.cdf_stream.append_records`), so a long product (a month of 8 Hz data) is
    held one chunk at a time. A product that does not match its definition is a
    :class:`DefinitionError`; nothing is left on disk when writing fails.
    """
    path = Path(path)
    check_names(definition, variables, path)
    eager = {k: v for k, v in variables.items() if not callable(v)}
    arrays: dict[str, Any] = conform(
        definition.model_copy(update={"variables": [v for v in definition.variables if v.name in eager]}),
        eager,
        path,
    )
    arrays.update({k: v for k, v in variables.items() if callable(v)})
    variable_attrs = dict(variable_attrs or {})
    stray = sorted(set(variable_attrs) - set(arrays))
    if stray:
        raise DefinitionError(path, f"variable_attrs for variables not written: {stray}")
    gattrs = merged_globals(definition, global_attrs)
    gattrs.setdefault("Logical_file_id", path.stem)

    with atomic_path(path) as tmp:
        # cdflib insists on a ".cdf" suffix; write there and rename onto the temporary
        cdf_tmp = tmp if tmp.suffix == ".cdf" else tmp.with_name(tmp.name + ".cdf")
        try:
            nrec, streamed = _write_with_cdflib(cdf_tmp, definition, arrays, gattrs, variable_attrs, path)
            for item in streamed:
                n = append_records(cdf_tmp, item.var.name, item.chunks, path)
                nrec = check_records(item.var, np.empty((n, 0)), nrec, path)  # shape only
            if cdf_tmp != tmp:
                os.replace(cdf_tmp, tmp)
        finally:
            if cdf_tmp != tmp:
                with contextlib.suppress(FileNotFoundError):
                    cdf_tmp.unlink()
    return path


def _write_with_cdflib(
    cdf_path: Path,
    definition: ProductDefinition,
    arrays: dict[str, Any],
    gattrs: Mapping[str, Any],
    variable_attrs: Mapping[str, Mapping[str, Any]],
    where: Path,
) -> tuple[int | None, list[_Streamed]]:
    """Write the global attributes and every variable through cdflib's public writer; lazy
    record-varying variables are declared without records and returned to be appended.
    Returns the record count seen so far and those variables."""
    nrec = next(
        (
            int(a.shape[0])
            for v in definition.variables
            if v.record_varying and not callable(a := arrays.get(v.name)) and a is not None
        ),
        None,
    )
    streamed: list[_Streamed] = []
    with CdfWriter(cdf_path, cdf_spec={"Compressed": 0, "Majority": "row_major"}) as cdf:
        cdf.write_globalattrs(global_entries(gattrs))
        for var in definition.variables:
            if var.name not in arrays:
                continue
            arr = arrays.pop(var.name)
            extra = variable_attrs.get(var.name, {})
            if callable(arr) and var.record_varying and var.dtype != "str":
                streamed.append(_declare_streamed(cdf, definition, var, arr, extra, where))
                continue
            if callable(arr):
                arr = conform_one(definition, var, materialise({"x": arr})["x"], where)
                if var.record_varying:
                    nrec = check_records(var, arr, nrec, where)
            _write_variable(cdf, definition, var, arr, definition.compression, extra)
            del arr
    return nrec, streamed


def _declare_streamed(
    cdf: CdfWriter,
    definition: ProductDefinition,
    var: Variable,
    lazy: Any,
    extra: Mapping[str, Any],
    where: Path,
) -> _Streamed:
    """Declare a lazy record-varying variable (no records, uncompressed) with its attributes.

    The record shape comes from the definition; where the definition leaves a dimension open,
    from the first non-empty chunk (held until its records are appended)."""
    ctype = cdf_type(var)
    shape = fixed_shape(definition, var)[1:]
    chunks: Iterator[np.ndarray] = (conform_one(definition, var, c, where) for c in lazy())
    if any(s is None for s in shape):
        first = next((c for c in chunks if c.shape[0]), None)
        if first is not None:
            shape = first.shape[1:]
            chunks = _prepend(first, chunks)
    attrs = istp_attrs(definition, var, ctype, 1)
    with_extra(attrs, writable_attrs(var), var, ctype)
    with_extra(attrs, extra, var, ctype)
    spec = {
        "Variable": var.name,
        "Data_Type": TYPE_CODES[ctype],
        "Num_Elements": 1,
        "Rec_Vary": True,
        "Dim_Sizes": [int(d or 1) for d in shape],
        "Compress": 0,
    }
    cdf.write_var(spec, var_attrs=attrs, var_data=None)
    return _Streamed(var, chunks)


def _prepend(first: np.ndarray, rest: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    """``first`` then ``rest``, lazily (a list would hold every chunk of the month at once)."""
    yield first
    del first
    yield from rest


def _write_variable(
    cdf: CdfWriter,
    definition: ProductDefinition,
    var: Variable,
    arr: np.ndarray,
    level: int,
    extra: Mapping[str, Any],
) -> None:
    ctype = cdf_type(var)
    rv = var.record_varying
    dim_sizes = list(arr.shape[1:] if rv else arr.shape)
    data: Any = arr
    str_len = 1
    if var.dtype == "str":
        str_len = max(1, int(np.char.str_len(arr).max())) if arr.size else 1
        data = str(arr) if arr.ndim == 0 else arr
    attrs = istp_attrs(definition, var, ctype, str_len)
    with_extra(attrs, writable_attrs(var), var, ctype)
    with_extra(attrs, extra, var, ctype)
    spec = {
        "Variable": var.name,
        "Data_Type": TYPE_CODES[ctype],
        "Num_Elements": str_len,
        "Rec_Vary": rv,
        "Dim_Sizes": dim_sizes,
        "Compress": level if arr.size else 0,
    }
    if rv and arr.shape[0] == 0:
        data = None  # no records: the variable exists with MaxRec -1
    cdf.write_var(spec, var_attrs=attrs, var_data=data)


__all__ = [
    "CDF_TYPES",
    "EQUIVALENT",
    "TYPED_ATTRS",
    "CdfData",
    "accepted_cdf_types",
    "cdf_type",
    "check_cdf",
    "read_cdf",
    "write_cdf",
]

"""CDF product files (cdflib), written from a :class:`ProductDefinition` with ISTP attributes.

Every variable's CDF type, dimensions, record variance and ISTP attributes (``CATDESC``,
``FIELDNAM``, ``VAR_TYPE``, ``UNITS``, ``FILLVAL``, ``VALIDMIN``/``VALIDMAX``, ``DEPEND_n``,
``LABL_PTR_n``, ``DISPLAY_TYPE``, ``FORMAT``) come from the definition. Attributes that must
match the variable's type (``FILLVAL``, ``VALIDMIN``, ``VALIDMAX``, ``SCALEMIN``,
``SCALEMAX``) are written with exactly that CDF type: cdflib otherwise picks CDF_DOUBLE or
CDF_INT8 for Python numbers (lasp/cdflib#272, #325), which ISTP checkers reject and which
turns a float32 FILLVAL of -1e31 into a double that no longer equals the stored fill.
``attrs["CDF_DATA_TYPE"]`` may pick an equivalent CDF type (``CDF_FLOAT`` for float32,
``CDF_REAL8`` for float64, ``CDF_BYTE`` for int8, ``CDF_UCHAR`` for text).

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

Files are written atomically (:func:`magfw.io.atomic.atomic_path`).
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cdflib
import numpy as np
from cdflib.cdfwrite import CDF as CdfWriter

from magfw.errors import DefinitionError, InputError
from magfw.io.atomic import atomic_path
from magfw.io.products import (
    ProductData,
    VarInfo,
    check_names,
    check_records,
    conform,
    conform_one,
    effective_depend,
    expected_fill,
    fixed_shape,
    materialise,
    merged_globals,
    typed,
    writable_attrs,
)
from magfw.plugin.definitions import ProductDefinition, Variable

#: The shared read result; the name the CDF API was first specified with.
CdfData = ProductData

#: CDF type of each definition dtype.
CDF_TYPES: dict[str, str] = {
    "int8": "CDF_INT1",
    "int16": "CDF_INT2",
    "int32": "CDF_INT4",
    "int64": "CDF_INT8",
    "uint8": "CDF_UINT1",
    "uint16": "CDF_UINT2",
    "uint32": "CDF_UINT4",
    "float32": "CDF_REAL4",
    "float64": "CDF_DOUBLE",
    "tt2000": "CDF_TIME_TT2000",
    "cdf_epoch": "CDF_EPOCH",
    "str": "CDF_CHAR",
}

#: CDF types that store the same values (either is accepted on reading/checking).
EQUIVALENT: dict[str, frozenset[str]] = {
    "CDF_REAL4": frozenset({"CDF_REAL4", "CDF_FLOAT"}),
    "CDF_DOUBLE": frozenset({"CDF_DOUBLE", "CDF_REAL8"}),
    "CDF_INT1": frozenset({"CDF_INT1", "CDF_BYTE"}),
    "CDF_CHAR": frozenset({"CDF_CHAR", "CDF_UCHAR"}),
}

_TYPE_CODES: dict[str, int] = {
    "CDF_INT1": 1,
    "CDF_INT2": 2,
    "CDF_INT4": 4,
    "CDF_INT8": 8,
    "CDF_UINT1": 11,
    "CDF_UINT2": 12,
    "CDF_UINT4": 14,
    "CDF_REAL4": 21,
    "CDF_REAL8": 22,
    "CDF_EPOCH": 31,
    "CDF_TIME_TT2000": 33,
    "CDF_BYTE": 41,
    "CDF_FLOAT": 44,
    "CDF_DOUBLE": 45,
    "CDF_CHAR": 51,
    "CDF_UCHAR": 52,
}

#: numpy dtype name -> CDF type, for attribute values given as numpy scalars/arrays.
_NUMPY_CDF = {k: v for k, v in CDF_TYPES.items() if k not in ("tt2000", "cdf_epoch", "str")}

#: Attributes written with the variable's own CDF type.
TYPED_ATTRS = ("FILLVAL", "VALIDMIN", "VALIDMAX", "SCALEMIN", "SCALEMAX")

_DEFAULT_FORMAT = {
    "float32": "E13.6",
    "float64": "E22.15",
    "cdf_epoch": "E22.15",
    "tt2000": "I20",
    "int8": "I4",
    "int16": "I6",
    "int32": "I11",
    "int64": "I20",
    "uint8": "I3",
    "uint16": "I5",
    "uint32": "I10",
}

_TIME_BIN = {"start": 0.0, "centre": 0.5, "end": 1.0}


def cdf_type(var: Variable) -> str:
    """The CDF type ``var`` is written as (its dtype's, or an equivalent from ``attrs``)."""
    base = CDF_TYPES[var.dtype]
    wanted = var.attrs.get("CDF_DATA_TYPE")
    if wanted is None:
        return base
    wanted = str(wanted).upper()
    if wanted not in accepted_cdf_types(var):
        raise DefinitionError(
            None,
            f"variable {var.name}: CDF_DATA_TYPE {wanted} cannot hold "
            f"dtype {var.dtype} (use one of {sorted(accepted_cdf_types(var))})",
        )
    return wanted


def accepted_cdf_types(var: Variable) -> frozenset[str]:
    """CDF types that correctly store ``var``'s dtype."""
    base = CDF_TYPES[var.dtype]
    return EQUIVALENT.get(base, frozenset({base}))


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _attr_entry(value: Any, ctype: str | None = None) -> Any:
    """An attribute value in cdflib's ``[value, 'CDF_TYPE']`` form with an explicit type."""
    if ctype is not None:
        if ctype in ("CDF_CHAR", "CDF_UCHAR"):
            return str(value)
        return [value, ctype]
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return list(value)
    arr = np.asarray(value)
    if arr.dtype.kind in "US":
        return str(value)
    if arr.dtype.kind == "f":
        ctype = _NUMPY_CDF.get(arr.dtype.name, "CDF_DOUBLE")
        arr = arr.astype(np.float64) if ctype == "CDF_DOUBLE" else arr
    elif arr.dtype.kind in "iu":
        if isinstance(value, (int, list, tuple)) and arr.dtype == np.int64:
            # a plain Python integer: CDF_INT4 when it fits, as ISTP tools expect
            fits = arr.size and arr.min() >= -(2**31) and arr.max() < 2**31
            ctype = "CDF_INT4" if fits else "CDF_INT8"
            arr = arr.astype(np.int32) if fits else arr
        else:
            ctype = _NUMPY_CDF[arr.dtype.name]
    else:
        return str(value)
    return [arr.item() if arr.ndim == 0 else arr.tolist(), ctype]


def _istp_attrs(definition: ProductDefinition, var: Variable, ctype: str, str_len: int) -> dict[str, Any]:
    """The ISTP attributes of ``var`` from the definition, typed for cdflib."""
    a: dict[str, Any] = {
        "CATDESC": var.description or var.name,
        "FIELDNAM": var.field_name or var.name,
        "VAR_TYPE": var.var_type,
    }
    if var.units is not None:
        a["UNITS"] = var.units
    elif var.dtype == "tt2000":
        a["UNITS"] = "ns"
    fill = expected_fill(var)
    if fill is not None:
        a["FILLVAL"] = _attr_entry(fill, ctype)
    for key, value in (("VALIDMIN", var.valid_min), ("VALIDMAX", var.valid_max)):
        if value is not None:
            a[key] = _attr_entry(typed(var, value), ctype)
    a.update(effective_depend(definition, var))
    a.update(dict(sorted(var.labl_ptr.items())))
    if var.display_type is not None:
        a["DISPLAY_TYPE"] = var.display_type
    a["FORMAT"] = f"A{str_len}" if var.dtype == "str" else _DEFAULT_FORMAT[var.dtype]
    if var.dtype == "tt2000":
        a["TIME_BASE"] = "J2000"
        a["TIME_SCALE"] = "Terrestrial Time"
        a["REFERENCE_POSITION"] = "Rotating Earth Geoid"
    if var.name == definition.time_variable and definition.time_convention in _TIME_BIN:
        a["BIN_LOCATION"] = [_TIME_BIN[definition.time_convention], "CDF_DOUBLE"]
    return a


def _with_extra(a: dict[str, Any], extra: Mapping[str, Any], var: Variable, ctype: str) -> None:
    """Add ``extra`` attributes to ``a``; type-sensitive ones get the variable's type."""
    for key, value in extra.items():
        if value is None:
            a.pop(key, None)
        elif key in TYPED_ATTRS and var.dtype != "str":
            a[key] = _attr_entry(typed(var, value), ctype)
        else:
            a[key] = _attr_entry(value)


def _global_entries(attrs: Mapping[str, Any]) -> dict[str, dict[int, Any]]:
    """Global attributes in cdflib's ``{name: {entry: value}}`` form; lists are entries."""
    out: dict[str, dict[int, Any]] = {}
    for name, value in attrs.items():
        if isinstance(value, (list, tuple)):
            out[name] = {i: _attr_entry(v) for i, v in enumerate(value)}
        else:
            out[name] = {0: _attr_entry(value)}
    return out


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
    record chunks): it is then read, written and dropped before the next variable, so a
    long product (a month of 8 Hz data) is held one variable at a time. A product that does
    not match its definition is a :class:`DefinitionError`; nothing is left on disk when
    writing fails.
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
    level = definition.compression

    with atomic_path(path) as tmp:
        # cdflib insists on a ".cdf" suffix; write there and rename onto the temporary
        cdf_tmp = tmp if tmp.suffix == ".cdf" else tmp.with_name(tmp.name + ".cdf")
        try:
            nrec = next(
                (
                    int(a.shape[0])
                    for v in definition.variables
                    if v.record_varying and not callable(a := arrays.get(v.name)) and a is not None
                ),
                None,
            )
            with CdfWriter(cdf_tmp, cdf_spec={"Compressed": 0, "Majority": "row_major"}) as cdf:
                cdf.write_globalattrs(_global_entries(gattrs))
                for var in definition.variables:
                    if var.name not in arrays:
                        continue
                    arr = arrays.pop(var.name)
                    extra = variable_attrs.get(var.name, {})
                    if callable(arr) and var.record_varying and var.dtype != "str":
                        n = _write_streamed(cdf, definition, var, arr, extra, path)
                        nrec = check_records(var, np.empty((n, 0)), nrec, path)  # shape only
                        continue
                    if callable(arr):
                        arr = conform_one(definition, var, materialise({"x": arr})["x"], path)
                        if var.record_varying:
                            nrec = check_records(var, arr, nrec, path)
                    _write_variable(cdf, definition, var, arr, level, extra)
                    del arr
            if cdf_tmp != tmp:
                os.replace(cdf_tmp, tmp)
        finally:
            if cdf_tmp != tmp:
                with contextlib.suppress(FileNotFoundError):
                    cdf_tmp.unlink()
    return path


#: Most bytes in one VVR of a variable written chunk by chunk: a reader of a record range (cdflib
#: reads the VVRs holding it whole) then reads a few MiB, not a day's or a month's records.
VVR_BYTES = 1 << 20


def _write_streamed(
    cdf: CdfWriter,
    definition: ProductDefinition,
    var: Variable,
    lazy: Any,
    extra: Mapping[str, Any],
    where: Path,
) -> int:
    """Write a lazy record-varying variable chunk by chunk, in VVRs of at most
    :data:`VVR_BYTES`, so a month of records never sits in memory; return its record count.

    cdflib writes a variable's records in one call; this follows its own uncompressed layout
    (VDR, then VVRs indexed by VXRs, a VXR tree when they are many) through its record-level
    methods, so the file is what cdflib would write with the records given at once, cut into
    several VVRs (the CDF format allows any number). Checked against cdflib's reader in the
    tests."""
    ctype = cdf_type(var)
    first: np.ndarray | None = None
    chunks = iter(lazy())
    for chunk in chunks:  # the first non-empty chunk fixes the record shape
        first = conform_one(definition, var, chunk, where)
        if first.shape[0]:
            break
    dims = list(fixed_shape(definition, var)[1:]) if first is None else list(first.shape[1:])
    attrs = _istp_attrs(definition, var, ctype, 1)
    _with_extra(attrs, writable_attrs(var), var, ctype)
    _with_extra(attrs, extra, var, ctype)
    spec = {
        "Variable": var.name,
        "Data_Type": _TYPE_CODES[ctype],
        "Num_Elements": 1,
        "Rec_Vary": True,
        "Dim_Sizes": [int(d or 1) for d in dims],
        "Compress": 0,
    }
    cdf.write_var(spec, var_attrs=attrs, var_data=None)
    num = cdf.zvars.index(var.name)
    vdr = cdf.zvarsinfo[num][1]
    values = cdf._num_values(True, num)
    per_vvr = max(1, VVR_BYTES // max(1, first.dtype.itemsize * values if first is not None else 8))
    rec = 0
    vxr = head = -1
    used = n_vxr = 0
    with cdf.path.open("rb+") as f:
        pending = [] if first is None or not first.shape[0] else [first]
        # chained lazily: a list here would hold every chunk of the month at once
        given = itertools.chain(pending, (conform_one(definition, var, c, where) for c in chunks))
        for chunk in (c[i : i + per_vvr] for c in given for i in range(0, int(c.shape[0]), per_vvr)):
            n = int(chunk.shape[0])
            f.seek(0, 2)
            _, data = cdf._convert_data(_TYPE_CODES[ctype], 1, values, chunk)
            offset = cdf._write_vvr(f, data)
            del data
            if vxr < 0:
                vxr = head = cdf._write_vxr(f)
                n_vxr = 1
                cdf._update_vdr_vxrheadtail(f, vdr, vxr)
            if used >= cdf.NUM_VXR_ENTRIES:  # a new VXR, chained after the full one
                full = vxr
                vxr = cdf._write_vxr(f)
                n_vxr += 1
                used = 0
                cdf._update_offset_value(f, full + 12, 8, vxr)  # VXR's VXRnext
                cdf._update_offset_value(f, vdr + 36, 8, vxr)  # VDR's VXRtail
            used = cdf._use_vxrentry(f, vxr, rec, rec + n - 1, offset)
            rec += n
        if n_vxr > cdf.NUM_VXRlvl_ENTRIES:
            new_head, new_tail = cdf._add_vxr_levels_r(f, head, n_vxr)
            cdf._update_offset_value(f, vdr + 28, 8, new_head)
            cdf._update_offset_value(f, vdr + 36, 8, new_tail)
        if rec:
            cdf._update_offset_value(f, vdr + 24, 4, rec - 1)  # VDR's MaxRec
    return rec


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
    attrs = _istp_attrs(definition, var, ctype, str_len)
    _with_extra(attrs, writable_attrs(var), var, ctype)
    _with_extra(attrs, extra, var, ctype)
    spec = {
        "Variable": var.name,
        "Data_Type": _TYPE_CODES[ctype],
        "Num_Elements": str_len,
        "Rec_Vary": rv,
        "Dim_Sizes": dim_sizes,
        "Compress": level if arr.size else 0,
    }
    if rv and arr.shape[0] == 0:
        data = None  # no records: the variable exists with MaxRec -1
    cdf.write_var(spec, var_attrs=attrs, var_data=data)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def _scalarise(value: Any) -> Any:
    """A one-element numeric array as its numpy scalar; anything else unchanged."""
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind not in "US":
        return value.reshape(()).item() if value.dtype == object else value.reshape(())[()]
    return value


def _truncation(path: Path) -> str | None:
    """What the header says about truncation: "truncated (N of M bytes)", or None.

    Uncompressed CDF 3 (the magic ``cdf30001``, ``0000ffff``): the CDR at byte 8 holds the
    GDR's offset; the GDR holds the file's end (``eof``). A few bytes are read, not the data.
    """
    with open(path, "rb") as fh:
        head = fh.read(28)
        if head[:4] != bytes.fromhex("cdf30001") or head[4:8] != bytes.fromhex("0000ffff"):
            return None
        fh.seek(int.from_bytes(head[20:28], "big") + 36)
        raw = fh.read(8)
    size = path.stat().st_size
    eof = int.from_bytes(raw, "big")
    if len(raw) < 8:
        return f"truncated ({size} bytes, header incomplete)"
    if 0 < size < eof:
        return f"truncated ({size} of {eof} bytes)"
    return None


def check_cdf(path: str | Path) -> None:
    """Refuse, with one :class:`InputError` line, a file that is not a CDF or whose header
    says it is truncated. Reads a few header bytes only (for tools that pass CDFs on
    without decoding them, e.g. a delivery zip)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            magic = fh.read(8)
        problem = _truncation(path)
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from exc
    if magic[:4] not in (bytes.fromhex("cdf30001"), bytes.fromhex("cdf26002"), bytes.fromhex("0000ffff")):
        raise InputError(path, "not a readable CDF: no CDF magic number")
    if problem:
        raise InputError(path, f"not a readable CDF: {problem}")


def _damage(path: Path, exc: Exception) -> InputError:
    """The one-line error for an unreadable CDF, naming truncation when that is the cause."""
    detail = f"{type(exc).__name__}: {exc}"
    try:
        detail = _truncation(path) or detail
    except OSError:
        pass
    return InputError(path, f"not a readable CDF: {detail}")


def read_cdf(
    path: str | Path, variables: list[str] | None = None, *, data: bool = True, attributes: bool = True
) -> ProductData:
    """Read a CDF: raw arrays (fill not masked; TT2000 as int64 ns, CDF_EPOCH as float64 ms),
    variable and global attributes, and each variable's CDF type, dims and record variance.

    ``variables`` limits what is read; ``data=False`` reads the attributes and storage
    information of every (or each named) variable but no records; ``attributes=False`` skips
    the variable attributes (cdflib reads them one by one: most of the time of a small
    file; the global attributes are always read). An unreadable or
    truncated file, or a requested variable that is missing, is a one-line
    :class:`InputError`.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such CDF file")
    try:
        cdf = cdflib.CDF(path)
        cinfo = cdf.cdf_info()
        names = list(cinfo.zVariables) + list(cinfo.rVariables)
    except Exception as exc:  # cdflib raises many types for a damaged file
        raise _damage(path, exc) from exc
    if variables is not None:
        for v in variables:
            if v not in names:
                raise InputError(path, f"variable {v!r} not found (has: {', '.join(names)})")
        names = list(variables)
    try:
        out: dict[str, np.ndarray] = {}
        var_attrs: dict[str, dict[str, Any]] = {}
        info: dict[str, VarInfo] = {}
        for name in names:
            vinq = cdf.varinq(name)
            dims = tuple(int(d) for d in vinq.Dim_Sizes)
            rv = bool(vinq.Rec_Vary)
            if data:
                arr = np.asarray(cdf.varget(name))
                if rv:
                    arr = arr.reshape((-1, *dims)) if arr.size or dims else arr.reshape(0)
                elif arr.ndim != len(dims):
                    arr = arr.reshape(dims)
                out[name] = arr
            attrs = {k: _scalarise(v) for k, v in (cdf.varattsget(name) or {}).items()} if attributes else {}
            attr_types = {
                k: cdf.attget(k, name).Data_Type for k, v in attrs.items() if not isinstance(v, str)
            }
            var_attrs[name] = attrs
            info[name] = VarInfo(
                data_type=vinq.Data_Type_Description,
                dims=dims,
                record_varying=rv,
                num_elements=int(vinq.Num_Elements),
                attr_types=attr_types,
            )
        gattrs: dict[str, Any] = {}
        for k, entries in (cdf.globalattsget() or {}).items():
            vals = [_scalarise(e) for e in entries]
            gattrs[k] = vals[0] if len(vals) == 1 else vals
    except Exception as exc:
        raise _damage(path, exc) from exc
    return ProductData(path, "cdf", out, var_attrs, gattrs, info)


__all__ = ["CDF_TYPES", "CdfData", "accepted_cdf_types", "cdf_type", "read_cdf", "write_cdf"]

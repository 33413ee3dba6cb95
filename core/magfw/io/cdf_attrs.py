"""CDF types and attributes of a product definition's variables, in cdflib's terms.

Every variable's CDF type and its ISTP attributes (``CATDESC``, ``FIELDNAM``, ``VAR_TYPE``,
``UNITS``, ``FILLVAL``, ``VALIDMIN``/``VALIDMAX``, ``DEPEND_n``, ``LABL_PTR_n``,
``DISPLAY_TYPE``, ``FORMAT``) come from the definition. Attributes that must match the
variable's type (:data:`TYPED_ATTRS`) are given with exactly that CDF type: cdflib otherwise
picks CDF_DOUBLE or CDF_INT8 for Python numbers (lasp/cdflib#272, #325), which ISTP checkers
reject and which turns a float32 FILLVAL of -1e31 into a double that no longer equals the
stored fill. ``attrs["CDF_DATA_TYPE"]`` may pick an equivalent CDF type (``CDF_FLOAT`` for
float32, ``CDF_REAL8`` for float64, ``CDF_BYTE`` for int8, ``CDF_UCHAR`` for text).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from magfw.errors import DefinitionError
from magfw.io.products import effective_depend, expected_fill, typed
from magfw.plugin.definitions import ProductDefinition, Variable

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

#: The CDF data type codes (CDF internal format description).
TYPE_CODES: dict[str, int] = {
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


def attr_entry(value: Any, ctype: str | None = None) -> Any:
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


def istp_attrs(definition: ProductDefinition, var: Variable, ctype: str, str_len: int) -> dict[str, Any]:
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
        a["FILLVAL"] = attr_entry(fill, ctype)
    for key, value in (("VALIDMIN", var.valid_min), ("VALIDMAX", var.valid_max)):
        if value is not None:
            a[key] = attr_entry(typed(var, value), ctype)
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


def with_extra(a: dict[str, Any], extra: Mapping[str, Any], var: Variable, ctype: str) -> None:
    """Add ``extra`` attributes to ``a``; type-sensitive ones get the variable's type."""
    for key, value in extra.items():
        if value is None:
            a.pop(key, None)
        elif key in TYPED_ATTRS and var.dtype != "str":
            a[key] = attr_entry(typed(var, value), ctype)
        else:
            a[key] = attr_entry(value)


def global_entries(attrs: Mapping[str, Any]) -> dict[str, dict[int, Any]]:
    """Global attributes in cdflib's ``{name: {entry: value}}`` form; lists are entries."""
    out: dict[str, dict[int, Any]] = {}
    for name, value in attrs.items():
        if isinstance(value, (list, tuple)):
            out[name] = {i: attr_entry(v) for i, v in enumerate(value)}
        else:
            out[name] = {0: attr_entry(value)}
    return out

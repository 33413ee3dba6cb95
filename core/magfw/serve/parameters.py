"""HAPI parameters from a product definition's variables.

Parameters are the definition's variables in file order (the time variable first, as the
``isotime`` parameter). float32/float64 are ``double``; int8..int32, uint8, uint16 are
``integer``; uint32 and int64 are ``double`` (exact below 2**53; HAPI integers are 32-bit
signed). ``coordinateSystemName`` is the ISTP ``COORDINATE_SYSTEM`` attribute's short name,
else a frame named in the description ("... in GSE frame"); ``vectorComponents`` follow for
vectors of 3 (x, y, z) or 4 with a magnitude (x, y, z, r), and for scalar components named
``Bx_...``/``x_...``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from magfw.plugin.definitions import ProductDefinition, Variable

TIME_SERIES_FORMATS = ("cdf", "netcdf", "flatfile")
_INTEGER = ("int8", "int16", "int32", "uint8", "uint16")
_FRAME = re.compile(
    r"\b(GSE|GSM|GEO|GEI|GSEQ|SM|MAG|RTN|HGRTN|HEEQ|HEE|HAE|HCI|SC|SRF)\b"
    r"(?:\s+(?:frame|coordinates))",
    re.IGNORECASE,
)
_COMPONENT = re.compile(r"^[Bb]?([xyzXYZ])(?:_|$)")
_MAGNITUDE_LABELS = ("BT", "BTOTAL", "|B|")


@dataclass(frozen=True, kw_only=True)
class Parameter:
    """One HAPI parameter: the definition's variable, how it is typed and written."""

    name: str
    variable: Variable | None  #: None for the time parameter
    hapi_type: str  #: isotime | double | integer
    size: tuple[int, ...] = ()  #: () for a scalar
    digits: int = 0  #: significant digits in csv/json (9 float32, 17 float64; 0: integer text)
    columns: tuple[str, ...] = ()  #: flat-file column names of the variable
    info: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def width(self) -> int:
        """Values per record (columns in csv and binary)."""
        n = 1
        for s in self.size:
            n *= s
        return n


def _frame(var: Variable) -> str | None:
    cs = var.attrs.get("COORDINATE_SYSTEM")
    if isinstance(cs, str) and cs.strip():
        return cs.split(">")[0].strip() or None
    m = _FRAME.search(var.description)
    return m.group(1).upper() if m else None


def _units(var: Variable) -> str | None:
    text = (var.units or "").strip()
    return text or None


def _fill_text(var: Variable, hapi_type: str) -> str | None:
    if var.fill is None or isinstance(var.fill, str):
        return None
    if hapi_type == "integer" or (var.dtype in ("uint32", "int64")):
        return str(int(var.fill))
    return repr(float(var.fill))


def _hapi_type(dtype: str) -> tuple[str, int]:
    """The HAPI type of a variable's dtype and its significant digits in csv/json (0: written
    as integer text)."""
    if dtype in _INTEGER:
        return "integer", 0
    if dtype in ("uint32", "int64"):
        return "double", 0
    return "double", 9 if dtype == "float32" else 17


def _size(d: ProductDefinition, var: Variable, columns: tuple[str, ...]) -> tuple[int, ...]:
    """Values per record by dimension: a flat file's columns of the variable (one column is a
    scalar), else the sizes of the variable's non-record dimensions."""
    if columns:
        return (len(columns),) if len(columns) > 1 else ()
    return tuple(int(d.dims[dim] or 0) for dim in var.dims[1:])


def _label(var: Variable, size: tuple[int, ...], columns: tuple[str, ...]) -> str | list[str] | None:
    """A label per column of a flat-file vector, else ``LABLAXIS`` or the field name."""
    if len(size) == 1 and len(columns) == size[0]:
        return list(columns)
    label = var.attrs.get("LABLAXIS") or var.field_name
    if isinstance(label, str) and label.strip():
        return label.strip()
    return None


def _vector_components(
    var: Variable, size: tuple[int, ...], columns: tuple[str, ...]
) -> str | list[str] | None:
    """x, y, z for a vector of 3; x, y, z, r for 4 whose last is the magnitude (said in the
    description or by its column label); the component of a scalar named ``Bx_...``/``x_...``."""
    if size == (3,):
        return ["x", "y", "z"]
    if size == (4,) and (
        "magnitude" in var.description.lower() or (columns and columns[-1].upper() in _MAGNITUDE_LABELS)
    ):
        return ["x", "y", "z", "r"]
    if not size:
        m = _COMPONENT.match(var.name)
        return m.group(1).lower() if m else None
    return None


def _parameter(d: ProductDefinition, var: Variable, columns: tuple[str, ...]) -> Parameter:
    """The parameter of one variable (``columns``: its flat-file columns, () in CDF/netCDF)."""
    size = _size(d, var, columns)
    hapi_type, digits = _hapi_type(var.dtype)
    info: dict[str, Any] = {
        "name": var.name,
        "type": hapi_type,
        "units": _units(var),
        "fill": _fill_text(var, hapi_type),
    }
    if size:
        info["size"] = list(size)
    if var.description:
        info["description"] = var.description
    label = _label(var, size, columns)
    if label is not None:
        info["label"] = label
    frame = _frame(var)
    if frame:
        info["coordinateSystemName"] = frame
        components = _vector_components(var, size, columns)
        if components is not None:
            info["vectorComponents"] = components
    return Parameter(
        name=var.name, variable=var, hapi_type=hapi_type, size=size, digits=digits, columns=columns, info=info
    )


def _is_series(d: ProductDefinition, var: Variable, time_name: str) -> bool:
    """A numeric variable with a value per record of the time variable and fixed other
    dimensions (metadata, support strings and times are not parameters)."""
    return not (
        var.name == time_name
        or not var.record_varying
        or not var.dims
        or var.dtype in ("str", "tt2000", "cdf_epoch")
        or var.var_type in ("metadata", "ignore_data")
        or d.dims.get(var.dims[0], 0) is not None
        or var.depend.get("DEPEND_0", time_name) != time_name
        or any(d.dims.get(dim) is None for dim in var.dims[1:])
    )


def time_digits(d: ProductDefinition) -> int:
    """Fraction digits of the time column: 9 (ns) for a CDF/netCDF TT2000 time, else 6 (µs)."""
    tv = d.variable(str(d.time_variable))
    return 9 if tv.dtype == "tt2000" and d.format != "flatfile" else 6


def time_series_parameters(d: ProductDefinition) -> tuple[Parameter, ...] | None:
    """The HAPI parameters of a definition (time first), or None if it is not a time series
    HAPI can serve."""
    if d.format not in TIME_SERIES_FORMATS or d.time_variable is None:
        return None
    tv = d.variable(d.time_variable)
    if tv.dtype not in ("tt2000", "cdf_epoch", "float64", "int64"):
        return None
    digits = time_digits(d)
    time = Parameter(
        name=tv.name,
        variable=None,
        hapi_type="isotime",
        size=(),
        digits=0,
        columns=(),
        info={"name": tv.name, "type": "isotime", "units": "UTC", "fill": None, "length": 21 + digits},
    )
    params: list[Parameter] = [time]
    if d.format == "flatfile":
        from magfw.errors import DefinitionError
        from magfw.io.products import flatfile_layout

        try:
            _, _, layout = flatfile_layout(d)
        except DefinitionError:
            return None
        params += [_parameter(d, var, tuple(names)) for var, names in layout]
    else:
        params += [_parameter(d, var, ()) for var in d.variables if _is_series(d, var, tv.name)]
    return tuple(params) if len(params) > 1 else None

"""Reading CDF product files (cdflib's public reader) and refusing damaged ones in one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cdflib
import numpy as np

from magfw.errors import InputError
from magfw.io.products import ProductData, VarInfo


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


def _variable(
    cdf: cdflib.CDF, name: str, *, data: bool, attributes: bool
) -> tuple[np.ndarray | None, dict[str, Any], VarInfo]:
    """One variable: its records (None without ``data``), its attributes, its storage."""
    vinq = cdf.varinq(name)
    dims = tuple(int(d) for d in vinq.Dim_Sizes)
    rv = bool(vinq.Rec_Vary)
    arr = None
    if data:
        arr = np.asarray(cdf.varget(name))
        if rv:
            arr = arr.reshape((-1, *dims)) if arr.size or dims else arr.reshape(0)
        elif arr.ndim != len(dims):
            arr = arr.reshape(dims)
    attrs = {k: _scalarise(v) for k, v in (cdf.varattsget(name) or {}).items()} if attributes else {}
    attr_types = {k: cdf.attget(k, name).Data_Type for k, v in attrs.items() if not isinstance(v, str)}
    info = VarInfo(
        data_type=vinq.Data_Type_Description,
        dims=dims,
        record_varying=rv,
        num_elements=int(vinq.Num_Elements),
        attr_types=attr_types,
    )
    return arr, attrs, info


def _global_attrs(cdf: cdflib.CDF) -> dict[str, Any]:
    """Global attributes: one entry as its value, several as a list."""
    out: dict[str, Any] = {}
    for k, entries in (cdf.globalattsget() or {}).items():
        vals = [_scalarise(e) for e in entries]
        out[k] = vals[0] if len(vals) == 1 else vals
    return out


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
            arr, var_attrs[name], info[name] = _variable(cdf, name, data=data, attributes=attributes)
            if arr is not None:
                out[name] = arr
        gattrs = _global_attrs(cdf)
    except Exception as exc:
        raise _damage(path, exc) from exc
    return ProductData(
        path=path, format="cdf", variables=out, var_attrs=var_attrs, global_attrs=gattrs, info=info
    )

"""Per-day quality figures of a product file, for the review pages, cached by SHA-256.

Generic over missions, from the file and its definition only:

- records, the records a full day holds at the definition's cadence, and the missing-data
  percentage (records with a fill or non-finite value in any data variable count as missing);
- flag counts: for each unsigned-integer variable (a status bit field such as STEREO's
  ``MAGFLAGUC``) the records with each bit set, the bits named from its ``VAR_NOTES``
  (``bits 0-3 error counter; 19 timestamp resync (1 s glitch fixed); ...``); for a flag
  variable with a handful of values (Aditya's ``Quality_flag_10s_data`` 0/1) the records of
  each value;
- numeric global attributes about quality (``missing_data_percentage``...), and the
  ``quality`` elements of an XML file the unit wrote beside it (Aditya's 1-10 quality factor).

Figures are cached as JSON in ``<tree>/.magfw/serve/quality/<sha256>.json`` (the tree's
state folder; a product with the same content has the same figures).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from magfw.plugin.definitions import ProductDefinition

_BITS = re.compile(r"(?:bits?\s+)?(\d+)(?:\s*-\s*(\d+))?\s+([^;]+)")
_QUALITY_ATTR = re.compile(r"quality|missing|percent|spike|glitch|gap", re.IGNORECASE)


def bit_names(notes: str) -> dict[int, str]:
    """Bit number -> meaning from a ``VAR_NOTES`` text (ranges name their first bit)."""
    out: dict[int, str] = {}
    for part in notes.split(";"):
        m = _BITS.search(part.strip())
        if m:
            first = int(m.group(1))
            last = int(m.group(2)) if m.group(2) else first
            label = m.group(3).strip()
            for b in range(first, last + 1):
                out[b] = label if first == last else f"{label} (bit {b})"
    return out


def figures(definition: ProductDefinition, path: Path) -> dict[str, Any]:
    """The quality figures of product file ``path`` (see the module notes)."""
    from magfw.io.products import read_product
    from magfw.tools.plot import _fill_mask

    data = read_product(path)
    tname = definition.time_variable
    out: dict[str, Any] = {"file": path.name}
    if tname is None or tname not in data.variables:
        return out
    n = int(np.asarray(data.variables[tname]).shape[0])
    out["records"] = n
    if definition.cadence_s:
        out["expected"] = int(round(86400 / definition.cadence_s))
    missing = np.zeros(n, dtype=bool)
    fills: dict[str, int] = {}
    flags: list[dict[str, Any]] = []
    for var in definition.variables:
        arr = data.variables.get(var.name)
        if arr is None or var.name == tname or not var.record_varying:
            continue
        arr = np.asarray(arr)
        if arr.ndim == 0 or arr.shape[0] != n:
            continue
        attrs = data.var_attrs.get(var.name, {})
        if var.var_type == "data" and arr.dtype.kind == "f":
            bad = _fill_mask(arr.astype(np.float64), attrs).reshape(n, -1).any(axis=1)
            missing |= bad
            fills[var.name] = int(bad.sum())
        if arr.dtype.kind == "u" and arr.ndim == 1:
            names = bit_names(str(var.attrs.get("VAR_NOTES", attrs.get("VAR_NOTES", ""))))
            fill = var.fill if isinstance(var.fill, (int, float)) else None
            valid = arr if fill is None else arr[arr != fill]
            bits = [(b, int(((valid >> np.uint64(b)) & 1).sum())) for b in range(arr.itemsize * 8)]
            flags.append(
                {
                    "variable": var.name,
                    "kind": "bits",
                    "counts": [{"bit": b, "name": names.get(b, ""), "records": c} for b, c in bits if c],
                }
            )
        elif "flag" in var.name.lower() or "quality" in var.name.lower():
            values, counts = np.unique(
                arr[np.isfinite(arr)] if arr.dtype.kind == "f" else arr, return_counts=True
            )
            if values.size <= 12:
                flags.append(
                    {
                        "variable": var.name,
                        "kind": "values",
                        "counts": [
                            {"value": _plain(v), "records": int(c)}
                            for v, c in zip(values, counts, strict=True)
                        ],
                    }
                )
    valid = n - int(missing.sum())
    expected = out.get("expected") or n
    out["valid"] = valid
    out["missing_pct"] = round(100.0 * (1 - valid / expected), 3) if expected else None
    out["fill_counts"] = fills
    out["flags"] = flags
    out["attributes"] = {
        k: _plain(v)
        for k, v in data.global_attrs.items()
        if _QUALITY_ATTR.search(k) and isinstance(v, (int, float, np.number))
    }
    return out


def xml_quality(path: Path) -> list[dict[str, str]]:
    """Attributes of the elements named like ``quality`` in an XML file (short values)."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError):
        return []
    found = []
    for el in root.iter():
        if "quality" in el.tag.lower():
            found.append({k: v for k, v in el.attrib.items() if len(v) <= 40})
    return found


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


def cached(cache_dir: Path | None, sha256: str, compute: Any) -> dict[str, Any]:
    """``compute()`` cached as ``cache_dir/<sha256>.json`` (not cached if unwritable)."""
    if cache_dir is not None:
        path = cache_dir / f"{sha256}.json"
        try:
            return dict(json.loads(path.read_text()))
        except (OSError, ValueError):
            pass
    value: dict[str, Any] = compute()
    if cache_dir is not None:
        try:
            from magfw.io.atomic import write_bytes_atomic

            write_bytes_atomic(cache_dir / f"{sha256}.json", json.dumps(value).encode())
        except OSError:
            pass
    return value

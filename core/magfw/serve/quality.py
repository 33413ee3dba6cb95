"""Quality figures of a unit's product files, for the review pages, cached by SHA-256.

Generic over missions, from the files and their definition only, over *every* file a unit
wrote for the product (Aditya writes several L1 files a day) and only the records inside the
unit's days (a file's spill-over past midnight is counted apart, as ``outside``):

- records, the records the unit's days hold at the cadence, and the missing-data percentage
  (a record with a fill or non-finite value in any ``data`` variable counts as missing);
- flags (:mod:`magfw.serve.flags`): each bit of a bit field that occurs, named, with its
  records and share of the records; each value of a value flag, with its meaning;
- numeric global attributes about quality (``missing_data_percentage``...), and the
  ``quality`` elements of an XML file the unit wrote beside it (Aditya's 1-10 quality factor).

Files are read chunk by chunk through :mod:`magfw.serve.records` (a month file costs a
chunk of memory); figures are cached per file and window in ``.magfw/serve/quality/``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from magfw.serve.cache import Cache
from magfw.serve.datasets import Dataset
from magfw.serve.files import OpenProduct, ProductFiles, window_ranges
from magfw.serve.flags import Flag, dataset_flags
from magfw.serve.holdings import ProductFile
from magfw.serve.parameters import Parameter
from magfw.serve.records import Records

_QUALITY_ATTR = re.compile(r"quality|missing|percent|spike|glitch|gap", re.IGNORECASE)
_CHUNK = 1 << 20
_VERSION = 2  #: of the cached figures' layout


def _flag_counts(flag: Flag, values: np.ndarray, into: dict[str, dict[Any, int]]) -> None:
    var = flag.param.variable
    assert var is not None
    fill = var.fill if isinstance(var.fill, (int, float)) else None
    v = values if fill is None else values[values != fill]
    if flag.kind == "bits":
        u = v.astype(np.uint64)
        for b in range(64 if var.dtype == "int64" else 8 * np.dtype(var.dtype).itemsize):
            c = int(((u >> np.uint64(b)) & np.uint64(1)).sum())
            if c:
                into[var.name][b] = into[var.name].get(b, 0) + c
        return
    vals, counts = np.unique(v[np.isfinite(v)] if v.dtype.kind == "f" else v, return_counts=True)
    for x, c in zip(vals.tolist(), counts.tolist(), strict=True):
        into[var.name][x] = into[var.name].get(x, 0) + int(c)


def file_figures(ds: Dataset, op: OpenProduct, t0: int, t1: int) -> dict[str, Any]:
    """The figures of one open product file for the records in [t0, t1) (TT2000)."""
    rec = op.records
    data = [
        p for p in ds.parameters[1:] if p.variable is not None and p.variable.var_type == "data" and p.digits
    ]
    flags = dataset_flags(ds)
    counts: dict[str, dict[Any, int]] = {f.param.name: {} for f in flags}
    records = missing = 0
    for a, b, keep in window_ranges(op, t0, t1, _CHUNK):
        n = (b - a) if keep is None else int(keep.sum())
        if n == 0:
            continue
        records += n
        missing += _missing_records(rec, data, a, b, keep, n)
        for f in flags:
            raw = rec.raw(f.param, a, b)
            _flag_counts(f, raw if keep is None else raw[keep], counts)
    return {
        "file": rec.path.name,
        "records": records,
        "outside": op.times.valid - records if op.times.clean else None,
        "missing": missing,
        "flags": {k: {str(x): c for x, c in v.items()} for k, v in counts.items()},
        "attributes": _quality_attributes(rec),
    }


def _missing_records(
    rec: Records, data: list[Parameter], a: int, b: int, keep: np.ndarray | None, n: int
) -> int:
    """How many of the ``n`` records [a, b) (those ``keep`` selects) have a fill or non-finite
    value in any of the ``data`` parameters."""
    bad = np.zeros(n, dtype=bool)
    for p in data:
        raw = rec.raw(p, a, b)
        raw = raw if keep is None else raw[keep]
        fill = rec.stored_fill(p)
        miss = ~np.isfinite(raw) if raw.dtype.kind == "f" else np.zeros(raw.shape, dtype=bool)
        if fill is not None:
            miss |= raw == np.asarray(fill, dtype=raw.dtype)
        bad |= miss.reshape(n, -1).any(axis=1)
    return int(bad.sum())


def _quality_attributes(rec: Records) -> dict[str, Any]:
    """The file's numeric global attributes about quality (``missing_data_percentage``...)."""
    return {
        k: v.item() if isinstance(v, np.generic) else v
        for k, v in rec.attributes().items()
        if _QUALITY_ATTR.search(k) and isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
    }


def _flag_rows(flags: list[Flag], counts: dict[str, dict[str, int]], records: int) -> list[dict[str, Any]]:
    """The flags of a unit as table rows: only the bits (values) that occur, with shares."""
    rows = []
    for f in flags:
        got = counts.get(f.param.name, {})
        items = []
        for key, c in sorted(got.items(), key=lambda kv: float(kv[0])):
            share = round(100.0 * c / records, 3) if records else None
            if f.kind == "bits":
                b = int(float(key))
                items.append({"bit": b, "name": f.bits.get(b, ""), "records": c, "share": share})
            else:
                v = float(key)
                label = f.meanings.get(v, "")
                items.append(
                    {"value": int(v) if v.is_integer() else v, "name": label, "records": c, "share": share}
                )
        if items:
            rows.append({"variable": f.param.name, "kind": f.kind, "counts": items})
    return rows


class UnitQuality:
    """Figures of units, cached per file (module notes)."""

    def __init__(self, files: ProductFiles, cache: Cache) -> None:
        self.files = files
        self.cache = cache

    def _file(self, ds: Dataset, product: ProductFile, t0: int, t1: int) -> dict[str, Any] | None:
        key = f"{product.main.sha256}-{t0}-{t1}-v{_VERSION}.json"
        hit = self.cache.read("quality", key)
        if hit is not None:
            try:
                return dict(json.loads(hit))
            except ValueError:
                pass
        op = self.files.open(ds, product)
        if op is None:
            return None
        with op:
            figures = file_figures(ds, op, t0, t1)
        self.cache.put("quality", key, json.dumps(figures).encode())
        return figures

    def unit(self, ds: Dataset, products: list[ProductFile], t0: int, t1: int) -> dict[str, Any]:
        """The figures of a unit's files of ``ds`` over [t0, t1), added up."""
        per_file: list[dict[str, Any]] = []
        errors: list[str] = []
        for pf in products:
            try:
                got = self._file(ds, pf, t0, t1)
            except Exception as exc:  # a damaged file is shown, not fatal to the page
                errors.append(f"{Path(pf.main.rel).name}: {type(exc).__name__}: {exc}")
                continue
            if got is not None:
                per_file.append(got)
        records = sum(f["records"] for f in per_file)
        missing = sum(f["missing"] for f in per_file)
        outside = sum(f["outside"] or 0 for f in per_file)
        expected = int(round((t1 - t0) / 1e9 / ds.cadence_s)) if ds.cadence_s else None
        counts: dict[str, dict[str, int]] = {}
        for f in per_file:
            for var, got in f["flags"].items():
                slot = counts.setdefault(var, {})
                for k, c in got.items():
                    slot[k] = slot.get(k, 0) + c
        out: dict[str, Any] = {
            "files": [f["file"] for f in per_file],
            "records": records,
            "outside": outside,
            "expected": expected,
            "valid": records - missing,
            "missing_pct": round(100.0 * (1 - (records - missing) / expected), 3) if expected else None,
            "coverage_pct": round(100.0 * records / expected, 2) if expected else None,
            "flags": _flag_rows(dataset_flags(ds), counts, records),
            "attributes": {f"{f['file']}: {k}": v for f in per_file for k, v in f["attributes"].items()},
        }
        if errors:
            out["error"] = "; ".join(errors)
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
        attrs = {k: v for k, v in el.attrib.items() if len(v) <= 40}
        if "quality" in el.tag.lower() and attrs:
            found.append(attrs)
    return found

"""STEREO L1 products stay what they were: five simulated days compared with a fingerprint.

``tests/data/stereo_l1_fingerprint.json`` was made from the products of STEREO-A
2024-01-01..03 (a listed-twice day, a burst day) and STEREO-B 2014-02-02..03 (a burst day)
by the code just before the speed work of issue 23 was merged (commit b3a86da), and is compared
with the products of the current code:

- every file is there, with nothing more;
- every variable of every CDF and every column of every flat file is identical to the bit
  (SHA-256 of its bytes), with every attribute except the creation time (``Generation_date``,
  the flat files' ``CDATE``);
- except in the RTN products, whose rotations come from an interpolation of the attitude
  (:mod:`magfw.geometry.frames`): there a value may differ by the interpolation tolerance,
  1e-7 rad of the vector (``INTERP_TOL_RAD``), plus half a float32 unit in the last place for
  the rounding of the stored float32 — checked on 32 rows spread over each file and on each
  column's sum, sum of squares, minimum and maximum; where every value sits (fill or not) is
  identical to the bit.

``MAGFW_WRITE_FINGERPRINT=1`` rewrites the file from the current code (only when the products
are meant to change: say why in the commit).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from magfw.io.products import read_product
from magfw.testing import make_hooks, run_level
from magfw_stereo import plugin

pytestmark = pytest.mark.slow  # five days end to end on the simulator

FINGERPRINT = Path(__file__).parent / "data" / "stereo_l1_fingerprint.json"
RUNS = [("A", "2024-01-01..2024-01-03"), ("B", "2014-02-02..2014-02-03")]
#: Attributes that hold the creation time.
CREATED = ("Generation_date", "CDATE")
#: Relative tolerance of a rotated vector (rad): frames.INTERP_TOL_RAD.
ROTATION_TOL = 1e-7
SAMPLES = 32


def _digest(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def _digest_json(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _jsonable(v: object) -> object:
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


def _rotated(rel: str) -> bool:
    return "rtn" in rel.lower()


def _stats(a: np.ndarray) -> dict[str, object]:
    """Per column: where the fill is (digest), and sums, sums of squares, extremes of the rest."""
    v = a.reshape(a.shape[0], -1).astype(np.float64)
    fill = ~np.isfinite(v) | (np.abs(v) >= 1e30)
    good = np.where(fill, 0.0, v)
    rows = np.linspace(0, max(v.shape[0] - 1, 0), SAMPLES).astype(np.int64) if v.shape[0] else []
    return {
        "fill": _digest(np.packbits(fill)),
        "sum": good.sum(axis=0).tolist(),
        "sumsq": (good * good).sum(axis=0).tolist(),
        "min": np.where(fill, np.inf, v).min(axis=0, initial=np.inf).tolist(),
        "max": np.where(fill, -np.inf, v).max(axis=0, initial=-np.inf).tolist(),
        "rows": v[rows].tolist(),
    }


def fingerprint(out: Path) -> dict[str, dict[str, object]]:
    """What the products of an output tree are, file by file, creation time aside."""
    prints: dict[str, dict[str, object]] = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file() and ".magfw" not in p.parts):
        rel = path.relative_to(out).as_posix()
        if path.suffix == ".ffh":
            records = path.read_bytes()
            recs = [records[i : i + 72].decode() for i in range(0, len(records), 72)]
            prints[rel] = {"header": _digest_json([r for r in recs if not r.startswith(CREATED)])}
            continue
        data = read_product(path)
        entry: dict[str, object] = {
            "globals": _digest_json(
                {k: _jsonable(v) for k, v in sorted(data.global_attrs.items()) if k not in CREATED}
            ),
            "variables": {},
        }
        for name, arr in data.variables.items():
            v = {
                "dtype": str(arr.dtype),
                "shape": list(arr.shape),
                "sha256": _digest(arr),
                "attrs": _digest_json({k: _jsonable(x) for k, x in sorted(data.var_attrs[name].items())}),
            }
            if _rotated(rel) and arr.dtype.kind == "f" and arr.ndim >= 1 and arr.size:
                v["stats"] = _stats(arr)
            entry["variables"][name] = v  # type: ignore[index]
        prints[rel] = entry
    return prints


@pytest.fixture(scope="module")
def current(tmp_path_factory) -> dict[str, dict[str, object]]:
    hooks = make_hooks(plugin, names=["stereo"])
    prints: dict[str, dict[str, object]] = {}
    for sc, period in RUNS:
        out = tmp_path_factory.mktemp(f"st{sc}")
        summary = run_level(hooks, "stereo", "l1", period, out, spacecraft=sc)
        assert summary.ok, [r.message for r in summary.results]
        prints.update({f"{sc}/{k}": v for k, v in fingerprint(out).items()})
    if os.environ.get("MAGFW_WRITE_FINGERPRINT") == "1":
        FINGERPRINT.write_text(json.dumps(prints, indent=0, sort_keys=True) + "\n")
    return prints


def _close(rel: str, name: str, got: dict, want: dict) -> None:
    """A rotated float variable: the fill to the bit, the values within the tolerance."""
    g, w = got["stats"], want["stats"]
    where = f"{rel} {name}"
    assert g["fill"] == w["fill"], f"{where}: the fill moved"
    rows_g, rows_w = np.array(g["rows"]), np.array(w["rows"])
    # a vector's components move together: the tolerance is of the row's largest component
    scale = np.nanmax(np.abs(np.where(np.abs(rows_w) >= 1e30, np.nan, rows_w)), axis=1, initial=0.0)
    tol = ROTATION_TOL * scale[:, None] + 0.5 * np.spacing(np.float32(np.abs(rows_w)).astype(np.float64))
    assert np.all(np.abs(rows_g - rows_w) <= tol), f"{where}: sampled rows differ beyond the tolerance"
    n = max(int(got["shape"][0]), 1)
    for key in ("sum", "min", "max"):
        a, b = np.array(g[key]), np.array(w[key])
        bound = ROTATION_TOL * np.maximum(np.abs(b), 1.0) * (n if key == "sum" else 1) + 1e-6
        assert np.all(np.abs(a - b) <= bound), f"{where}: column {key} differs beyond the tolerance"
    a, b = np.array(g["sumsq"]), np.array(w["sumsq"])
    assert np.all(np.abs(a - b) <= 4 * ROTATION_TOL * np.abs(b) + 1e-6), f"{where}: column power differs"


def test_products_are_identical_to_before(current):
    want = json.loads(FINGERPRINT.read_text())
    assert sorted(current) == sorted(want), "the set of product files changed"
    for rel, w in want.items():
        g = current[rel]
        if "header" in w:
            assert g == w, f"{rel}: the flat-file header changed"
            continue
        assert g["globals"] == w["globals"], f"{rel}: global attributes changed"
        assert sorted(g["variables"]) == sorted(w["variables"]), f"{rel}: the variables changed"
        for name, wv in w["variables"].items():
            gv = g["variables"][name]
            for key in ("dtype", "shape", "attrs"):
                assert gv[key] == wv[key], f"{rel} {name}: {key} changed"
            if gv["sha256"] != wv["sha256"]:
                assert "stats" in wv, f"{rel} {name}: the values changed (not a rotated variable)"
                _close(rel, name, gv, wv)

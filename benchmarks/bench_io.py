"""Write time and file size of one day of 8 Hz ``[N, 4]`` float32 vectors, compressed or not.

Run ``python benchmarks/bench_io.py [--repeat 3] [--out DIR]``. The data imitate calibrated
magnetometer vectors: a slowly wandering field (random walk, nT) plus 0.05 nT noise, and
their magnitude as the fourth component, so float32 mantissas are as busy as in real
products. Prints one line per format and compression level: best write time (s), read time
(s) and file size (MB). The result justifies the default ``compression: 0`` documented in
:mod:`magfw.io.cdf`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from magfw.io.cdf import read_cdf, write_cdf
from magfw.io.netcdf import read_netcdf, write_netcdf
from magfw.plugin.definitions import ProductDefinition

N_DAY_8HZ = 86_400 * 8
LEVELS = (0, 1, 6)
T0_TT2000 = 742_651_269_184_000_000  # 2023-07-15T00:00:00 UTC


def definition(fmt: str, compression: int) -> ProductDefinition:
    """A STEREO-like L1 layout: Epoch (tt2000) and BFIELD [N, 4] float32."""
    ext = "cdf" if fmt == "cdf" else "nc"
    return ProductDefinition.model_validate(
        {
            "id": "bench",
            "mission": "bench",
            "level": "l1",
            "format": fmt,
            "compression": compression,
            "filename": {
                "template": "bench_{version}." + ext,
                "fields": {"version": {"kind": "int", "width": 2}},
            },
            "dims": {"time": None, "comp": 4},
            "variables": [
                {"name": "Epoch", "dtype": "tt2000", "dims": ["time"], "var_type": "support_data"},
                {
                    "name": "BFIELD",
                    "dtype": "float32",
                    "dims": ["time", "comp"],
                    "units": "nT",
                    "fill": -1e31,
                    "valid_min": -1e4,
                    "valid_max": 1e4,
                },
            ],
        }
    )


def day_of_vectors(n: int = N_DAY_8HZ, seed: int = 1) -> dict[str, np.ndarray]:
    """Epoch (TT2000, 0.125 s step) and BFIELD (xyz + |B|, nT) for one day at 8 Hz."""
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(0.0, 0.02, (n, 3)), axis=0) + np.array([3.0, -2.0, 1.0])
    xyz = walk + rng.normal(0.0, 0.05, (n, 3))
    b = np.empty((n, 4), dtype=np.float32)
    b[:, :3] = xyz
    b[:, 3] = np.sqrt(np.sum(xyz * xyz, axis=1))
    epoch = T0_TT2000 + np.arange(n, dtype=np.int64) * 125_000_000
    return {"Epoch": epoch, "BFIELD": b}


def run(out: Path, repeat: int) -> list[tuple[str, int, float, float, int]]:
    """(format, level, write s, read s, bytes) for CDF and netCDF at each of LEVELS."""
    data = day_of_vectors()
    rows = []
    for fmt, write, read in (("cdf", write_cdf, read_cdf), ("netcdf", write_netcdf, read_netcdf)):
        for level in LEVELS:
            d = definition(fmt, level)
            target = out / f"bench_{fmt}_{level}.{'cdf' if fmt == 'cdf' else 'nc'}"
            best_w = best_r = float("inf")
            for _ in range(repeat):
                target.unlink(missing_ok=True)
                t = time.perf_counter()
                write(target, d, data, {})
                best_w = min(best_w, time.perf_counter() - t)
                t = time.perf_counter()
                back = read(target)
                best_r = min(best_r, time.perf_counter() - t)
            assert np.array_equal(back.variables["BFIELD"], data["BFIELD"])
            rows.append((fmt, level, best_w, best_r, target.stat().st_size))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None, help="directory for the files")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        rows = run(out, args.repeat)
    raw = N_DAY_8HZ * (4 * 4 + 8) / 1e6
    print(f"one day of 8 Hz [N,4] float32 + TT2000: {N_DAY_8HZ} records, {raw:.1f} MB raw")
    print(f"{'format':8} {'level':>5} {'write s':>8} {'read s':>7} {'MB':>7} {'ratio':>6}")
    for fmt, level, w, r, size in rows:
        print(f"{fmt:8} {level:5d} {w:8.3f} {r:7.3f} {size / 1e6:7.2f} {size / 1e6 / raw:6.2f}")


if __name__ == "__main__":
    main()

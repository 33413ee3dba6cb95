"""Aditya-L1 MAG: one L2 day made from L1, against the I/O floor, measured in the same run.

    python benchmarks/bench_aditya.py [--work DIR] [--repeat N]

Setup (not timed): simulate 2024-07-31..2024-08-01 and make their L1 files (three of them
touch 2024-08-01, ~1.35 M vectors). Then, best of N:

- L2: the whole 2024-08-01 L2 unit through the runner (fetch, read, dual magnetometer,
  median filter, GTI, SCCS -> GSE/GSM rotation of every sample, 10-s bins, positions, netCDF,
  XML and outreach PNG written), forced;
- floor: read the same L1 files completely (magfw.io.netcdf.read_netcdf) and write an L2
  netCDF of the same size (magfw.io.netcdf.write_netcdf), no processing.

Prints both times, vectors/s, and the ratio L2 / floor.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import magfw_aditya.plugin as aditya_plugin
from magfw.io.netcdf import read_netcdf, write_netcdf
from magfw.testing import make_hooks, run_level


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=None, help="working directory (default: temp)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_aditya_"))
    out = work / "out"
    hooks = make_hooks(aditya_plugin)
    t = time.perf_counter()
    s = run_level(hooks, "aditya", "l1", "2024-07-31..2024-08-01", out, source="simulated")
    assert s.ok, [r.message for r in s.results]
    print(f"setup (simulate 2 days + L1): {time.perf_counter() - t:.1f} s in {work}")

    l2_times, vectors = [], 0
    for _ in range(args.repeat):
        s = run_level(hooks, "aditya", "l2", "2024-08-01", out, source="simulated", force=True)
        r = [x for x in s.results if x.level == "l2"][0]
        assert r.status == "ok", r.message
        l2_times.append(r.duration_s)
        vectors = r.vectors
    l2_path = sorted(out.glob("L2_AL1_MAG_20240801_V*.nc"))[-1]
    l2_def = hooks.registry.get("aditya").product("l2")
    l2_data = read_netcdf(l2_path)
    xml = ET.parse(l2_path.with_name(l2_path.stem + "_provenance.xml")).getroot()
    inputs = [out / el.text for el in xml.find("inputs") if el.get("role") == "l1"]

    floor_times = []
    for k in range(args.repeat):
        t = time.perf_counter()
        for p in inputs:  # the L1 files the L2 unit read (its XML lists them)
            read_netcdf(p)
        write_netcdf(work / f"floor_{k}.nc", l2_def, l2_data.variables, l2_data.global_attrs)
        floor_times.append(time.perf_counter() - t)

    l2_s, floor_s = min(l2_times), min(floor_times)
    print(
        f"Aditya-L1 MAG L2 day 2024-08-01 from L1 ({vectors:,} vectors = both sensors), best of {args.repeat}"
    )
    print(f"{'case':<34}{'seconds':>10}{'vectors/s':>14}")
    print(f"{'L2 unit (all steps, 3 products)':<34}{l2_s:>10.2f}{vectors / l2_s:>14,.0f}")
    print(f"{'I/O floor (read L1 + write L2)':<34}{floor_s:>10.2f}{vectors / floor_s:>14,.0f}")
    print(f"ratio L2 / floor: {l2_s / floor_s:.2f}")


if __name__ == "__main__":
    main()

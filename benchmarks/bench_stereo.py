"""STEREO L1 throughput: one full day (8 Hz + a burst stretch) against the raw I/O floor, and a
month's wall time with 1 and N workers.

    python benchmarks/bench_stereo.py [--days 31] [--workers 2] [--repeat 3] [--keep DIR]

- The day is 2024-01-03 of the simulator (seed 0; a burst day), simulated beforehand (not timed).
- **Pipeline**: ``magfw run stereo l1 2024-01-03`` in-process (Runner, ``force``): fetch with
  checksums, kernel selection, read, timing, 31 ms averaging, burst fill, despike, offsets,
  SC -> RTN, 1 s and 1 min averages, writing 20 files, ledger.
- **Raw I/O floor**, measured in the same run: read the day's input CDFs (normal + burst) and
  write the same 20 output files from the raw arrays, with the same writers, no processing.
- The ratio pipeline / floor is printed (aim: <= 3); best of ``--repeat`` for both.
- **Month**: ``--days`` days of January 2024 simulated (not timed), then processed with 1 and with
  ``--workers`` workers (each run into a fresh output tree).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from magfw.context import Product
from magfw.io.products import write_product
from magfw.jobs import RunRequest
from magfw.period import parse_period
from magfw.runner import Runner
from magfw.testing import make_hooks
from magfw_stereo import layout, plugin
from magfw_stereo.averaging import average_1s_overlapped, average_bins
from magfw_stereo.berkeley import read_uv
from magfw_stereo.simulate import simulate

DAY = "2024-01-03"


def run(hooks, archive: Path, out: Path, period: str, workers: int = 1):
    req = RunRequest(mission="stereo", level="l1", period=parse_period(period), out_dir=out,
                     source=str(archive), spacecraft="A", force=True, workers=workers)
    t0 = time.perf_counter()
    summary = Runner(hooks).run(req)
    dt = time.perf_counter() - t0
    assert summary.ok, [r.message for r in summary.results if r.status == "failed"]
    return dt, summary


def floor(hooks, archive: Path, out: Path) -> tuple[float, int]:
    """Read the inputs and write the same products from the raw arrays; return (s, bytes)."""
    mission = hooks.registry.get("stereo")
    uv = archive / layout.uv_dir("A")
    t0 = time.perf_counter()
    normal = read_uv(uv / "STA_L1_MAG_20240103_V01.cdf", burst=False)
    burst = read_uv(uv / "STA_L1_MAGB_20240103_V01.cdf", burst=True)
    fields = {"sc": "A", "yyyy": 2024, "mm": 1, "dd": 3}
    attrs = {"Source_name": "Ahead>STEREO Ahead", "Logical_source": "x", "Parents": ["x"],
             "Software_version": "x", "Generation_date": "x", "Data_source": "x",
             "Calibration_version": "x", "SPICE_kernels": "x"}
    written = 0
    from magfw.time import tt2000_to_cdf_epoch

    day0 = int(normal.time[0])
    for series, mode in ((normal, "mag"), (burst, "magb")):
        b4 = np.column_stack([series.b, np.linalg.norm(series.b, axis=1)]).astype(np.float32)
        for frame in ("sc", "rtn"):
            d = mission.product(f"l1_{mode}_{frame}")
            p = Product(d, fields, {"Epoch": tt2000_to_cdf_epoch(series.time), "BFIELD": b4,
                                    "MAGFLAGUC": series.flags,
                                    "FILTER_VALUE": np.zeros(series.time.size, np.float32),
                                    "CART_LABL_1": np.array(["A", "B", "C", "D"])}, attrs)
            for f in write_product(p, out / d.filename.format(**fields, version=6), {}):
                written += f.stat().st_size
            d = mission.product(f"l1_{mode}_{frame}_ff")
            p = Product(d, fields, {"TIME": series.time, "B": b4})
            for f in write_product(p, out / d.filename.format(**fields, version=6), {}):
                written += f.stat().st_size
            if mode == "mag":
                for kind, avg in (("1s", average_1s_overlapped), ("1min", None)):
                    a = avg(series.time, series.b, day0, day0 + 86400 * 10**9) if avg else \
                        average_bins(series.time, series.b, day0, day0 + 86400 * 10**9, 60)
                    d = mission.product(f"l1_mag_{frame}_{kind}")
                    p = Product(d, fields, {"TIME": a.time, "B": np.column_stack(
                        [a.b, a.btotal]).astype(np.float32), "NPTS": a.npts.astype(np.float32)})
                    for f in write_product(p, out / d.filename.format(**fields, version=6), {}):
                        written += f.stat().st_size
    return time.perf_counter() - t0, written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=31, help="days of the month run (default 31)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, default=None, help="work directory to keep")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="magfw-bench-stereo-"))
    hooks = make_hooks(plugin, names=["stereo"])
    archive = work / "archive"
    try:
        t = time.perf_counter()
        simulate(parse_period(DAY), archive, "A", 0)
        print(f"simulated {DAY} in {time.perf_counter() - t:.1f} s (not timed below)")
        run(hooks, archive, work / "warm", DAY)  # warm caches (imports, kernels)
        pipe, fl, n_vec, size = [], [], 0, 0
        for i in range(args.repeat):
            dt, summary = run(hooks, archive, work / f"out{i}", DAY)
            pipe.append(dt)
            n_vec = summary.vectors
            out = work / f"floor{i}"
            ft, size = floor(hooks, archive, out)
            fl.append(ft)
        p, f = min(pipe), min(fl)
        print(f"one day {DAY} (STEREO-A, 8 Hz + burst): {n_vec:,} input vectors, "
              f"{size / 1e6:.1f} MB written by the floor")
        print(f"  pipeline   {p:6.2f} s  ({n_vec / p:,.0f} vectors/s)  runs: "
              + ", ".join(f"{x:.2f}" for x in pipe))
        print(f"  I/O floor  {f:6.2f} s  runs: " + ", ".join(f"{x:.2f}" for x in fl))
        print(f"  ratio      {p / f:6.2f} x  (aim <= 3)")

        period = f"2024-01-01..2024-01-{args.days:02d}"
        t = time.perf_counter()
        simulate(parse_period(period), archive, "A", 0)
        print(f"simulated {period} in {time.perf_counter() - t:.0f} s (not timed)")
        for w in sorted({1, args.workers}):
            shutil.rmtree(work / f"month{w}", ignore_errors=True)
            dt, summary = run(hooks, archive, work / f"month{w}", period, workers=w)
            print(f"month ({args.days} days) with {w} worker(s): {dt:6.1f} s wall, "
                  f"{summary.vectors / dt:,.0f} vectors/s")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""STEREO-A L1 month against the raw I/O floor, with 1 and 2 workers, and peak memory.

    python benchmarks/bench_stereo.py [--days 31] [--workers 2] [--keep DIR]

- ``--days`` days of January 2024 are simulated first (not timed).
- **Month**: ``magfw run stereo l1`` over them, with 1 worker and with ``--workers`` workers,
  each in its own process (for its peak memory) and into a fresh output tree: fetch with
  checksums, kernel selection, read, timing, 31 ms averaging, burst fill, despike, offsets,
  SC -> RTN, 1 s and 1 min averages, 20 files a day, commit, ledger.
- **Raw I/O floor**, measured in the same run the same way for every figure: numpy reads
  every input file the ledger recorded (``np.fromfile``) and writes as many files of the same
  sizes as the run committed (``ndarray.tofile``, each fsynced, as the run's are): what the
  month costs with no processing and no format at all.
- Printed: wall times, the ratios month / floor (aim: <= 3 with 1 worker) and the speed-up
  with 2 workers (aim: >= 1.8 on an idle machine), peak RSS of each run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from magfw.config import state_dir
from magfw.engine.ledger import Ledger
from magfw.period import parse_period
from magfw_stereo.simulate import simulate

CHILD = """
import json, sys, time
from pathlib import Path
from magfw.engine.jobs import RunRequest
from magfw.period import parse_period
from magfw.engine.process import peak_rss_mb
from magfw.engine.runner import Runner
archive, out, period, workers = sys.argv[1:5]
req = RunRequest(mission="stereo", level="l1", period=parse_period(period), out_dir=Path(out),
                 source=archive, spacecraft="A", workers=int(workers))
t0 = time.perf_counter()
s = Runner().run(req)
wall = time.perf_counter() - t0
print(json.dumps({"wall": wall, "vectors": s.vectors, "ok": s.ok,
                  "rss": max([peak_rss_mb()] + [r.peak_rss_mb for r in s.results])}))
"""


def run(archive: Path, out: Path, period: str, workers: int) -> dict[str, float]:
    shutil.rmtree(out, ignore_errors=True)
    res = subprocess.run(
        [sys.executable, "-c", CHILD, str(archive), str(out), period, str(workers)],
        capture_output=True,
        text=True,
        timeout=7200,
    )
    if res.returncode != 0:
        raise SystemExit(res.stderr[-3000:])
    result = json.loads(res.stdout.strip().splitlines()[-1])
    assert result["ok"], "a unit failed"
    return result


def raw_floor(archive: Path, out: Path, scratch: Path) -> tuple[float, int, int]:
    """Seconds for numpy to read every input and write the same output bytes; (s, in, out)."""
    entries = [e for e in Ledger(state_dir(out) / "ledger.sqlite").history() if e.status == "ok"]
    inputs = {}
    for e in entries:
        for i in e.inputs:
            path = archive / i["name"]
            if path.is_file():
                inputs[path] = i["size"]
    sizes = [o["size"] for e in entries for o in e.outputs]
    scratch.mkdir(parents=True, exist_ok=True)
    os.sync()
    t0 = time.perf_counter()
    for path in inputs:
        np.fromfile(path, dtype=np.uint8)
    for k, size in enumerate(sizes):
        target = scratch / f"f{k}.bin"
        with open(target, "wb") as fh:
            np.zeros(size, np.uint8).tofile(fh)
            fh.flush()
            os.fsync(fh.fileno())
    dt = time.perf_counter() - t0
    shutil.rmtree(scratch, ignore_errors=True)
    return dt, sum(inputs.values()), sum(sizes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=31)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", type=Path, default=None, help="work directory to keep")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="magfw-bench-stereo-"))
    archive = work / "archive"
    period = f"2024-01-01..2024-01-{args.days:02d}"
    try:
        t = time.perf_counter()
        simulate(parse_period(period), archive, "A", 0)
        print(f"simulated {period} in {time.perf_counter() - t:.0f} s (not timed)")
        one = run(archive, work / "one", period, 1)
        floor, n_in, n_out = raw_floor(archive, work / "one", work / "scratch")
        many = run(archive, work / "many", period, args.workers)
        print(
            f"STEREO-A L1, {args.days} days: {one['vectors']:,} vectors; inputs "
            f"{n_in / 1e9:.2f} GB, outputs {n_out / 1e9:.2f} GB"
        )
        print(f"  raw I/O floor (numpy)   {floor:7.1f} s")
        print(
            f"  1 worker                {one['wall']:7.1f} s  = {one['wall'] / floor:5.2f} x "
            f"floor (aim <= 3); {one['vectors'] / one['wall']:,.0f} vectors/s; peak "
            f"{one['rss']:.0f} MiB"
        )
        print(
            f"  {args.workers} workers               {many['wall']:7.1f} s  speed-up "
            f"{one['wall'] / many['wall']:4.2f} x (aim >= 1.8); peak {many['rss']:.0f} MiB "
            "per process"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""STEREO-A L1 month against the raw I/O floor measured in the same run: 1 and 2 workers,
each step's share of the wall time, peak memory.

    python benchmarks/bench_stereo.py [--days 31] [--workers 2] [--repeat 1] [--archive DIR]
                                      [--keep DIR] [--json]

- ``--days`` days of January 2024 are simulated first (not timed), unless ``--archive``
  names an archive simulated before (``magfw simulate stereo 2024-01 --out DIR``).
- **Month**: ``magfw run stereo l1`` over them, as the command does it (a fresh Python
  process: interpreter, imports, plugin loading, planning, every unit, commit, ledger,
  notifications), into a fresh output tree, with 1 worker and with ``--workers`` workers.
  The wall time is the child process's, start-up included.
- **Raw I/O floor**, measured in the same repeat, twice (after the 1-worker run, and after the
  two others: the disk is shared, its speed varies) and averaged: cdflib reads every
  input CDF the ledger recorded (``cdflib.CDF`` and ``varget`` of every variable), then numpy
  writes as many files of the same sizes as the run committed (``ndarray.tofile``, each
  fsynced, as the run's are): what the month costs with no processing and no product format.
  Its two parts (read, write) are printed.
- **Per step**: the seconds each step took over all units (``UnitResult.step_s``: fetch, read,
  ..., write, and ``stage`` for writing and hashing the files), as a share of the 1-worker
  wall time. With one worker the files of a unit are written by the staging thread while the
  next unit's steps run, so ``stage`` overlaps them; "the rest" is the wall time the steps in
  the main thread do not account for (start-up, planning, locks, commits, ledger, waiting for
  the last unit's files).
- ``--repeat N`` runs the three measurements N times (the machine is shared: compare the
  figures of one repeat, and the best repeat when the machine was busy).
- Printed: wall times, the ratio month / floor (aim: <= 3 with 1 worker), the speed-up with
  2 workers (aim: >= 1.8), peak RSS; ``--json`` prints everything as JSON too.
- **Staging in line**: the 1-worker run writes each unit's files in a staging thread while the
  next unit is computed, so it already keeps a second core partly busy; the month is run a
  third time with the files written in line (one core), the reference against which 2 workers
  show how the work divides between cores.
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

import cdflib
import numpy as np

from magfw.config import state_dir
from magfw.engine.ledger import Ledger
from magfw.period import parse_period

CHILD = """
import json, sys, time
from pathlib import Path
from magfw.engine.jobs import RunRequest
from magfw.engine.process import peak_rss_mb
from magfw.engine.runner import Runner
from magfw.period import parse_period
archive, out, period, workers, inline = sys.argv[1:6]
if inline == "1":  # the reference run on one core: the staging in line, not behind the next unit
    import functools
    import magfw.engine.runner as runner_module
    runner_module.process_unit_behind = functools.partial(
        runner_module.process_unit_behind, stage_behind=False
    )
req = RunRequest(mission="stereo", level="l1", period=parse_period(period), out_dir=Path(out),
                 source=archive, spacecraft="A", workers=int(workers))
t0 = time.perf_counter()
s = Runner().run(req)
steps = {}
for r in s.results:
    for k, v in r.step_s.items():
        steps[k] = steps.get(k, 0.0) + v
print(json.dumps({"run_s": time.perf_counter() - t0, "vectors": s.vectors, "ok": s.ok,
                  "units": len(s.results), "steps": steps,
                  "unit_s": sum(r.duration_s for r in s.results),
                  "rss": max([peak_rss_mb()] + [r.peak_rss_mb for r in s.results])}))
"""

STEPS = ("fetch", "read", "calibrate", "correct", "transform", "average", "quality", "write", "stage")


def run(archive: Path, out: Path, period: str, workers: int, inline: bool = False) -> dict:
    """One ``stereo l1`` run in a fresh process; its wall time includes the start-up."""
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-c", CHILD, str(archive), str(out), period, str(workers), str(int(inline))],
        capture_output=True,
        text=True,
        timeout=7200,
    )
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(res.stderr[-3000:])
    result = json.loads(res.stdout.strip().splitlines()[-1])
    assert result["ok"], "a unit failed"
    result["wall"] = wall
    return result


def raw_floor(archive: Path, out: Path, scratch: Path) -> dict:
    """Seconds for cdflib to read every input CDF and numpy to write the output bytes."""
    entries = [e for e in Ledger(state_dir(out) / "ledger.sqlite").history() if e.status == "ok"]
    cdfs: dict[Path, int] = {}
    for e in entries:
        for i in e.inputs:
            path = archive / i["name"]
            if path.suffix.lower() == ".cdf" and path.is_file():
                cdfs[path] = i["size"]
    sizes = [o["size"] for e in entries for o in e.outputs]
    scratch.mkdir(parents=True, exist_ok=True)
    os.sync()
    t0 = time.perf_counter()
    for path in cdfs:
        cdf = cdflib.CDF(path)
        for name in cdf.cdf_info().zVariables:
            cdf.varget(name)
    t1 = time.perf_counter()
    for k, size in enumerate(sizes):
        with open(scratch / f"f{k}.bin", "wb") as fh:
            np.zeros(size, np.uint8).tofile(fh)
            fh.flush()
            os.fsync(fh.fileno())
    t2 = time.perf_counter()
    shutil.rmtree(scratch, ignore_errors=True)
    return {
        "floor": t2 - t0,
        "read": t1 - t0,
        "write": t2 - t1,
        "in_bytes": sum(cdfs.values()),
        "in_files": len(cdfs),
        "out_bytes": sum(sizes),
        "out_files": len(sizes),
    }


def step_table(one: dict, floor: dict) -> list[tuple[str, float, float]]:
    """(what, seconds, share of the 1-worker wall) for each step, the rest, and the floor."""
    wall = one["wall"]
    rows = []
    for step in STEPS:
        took = one["steps"].get(step, 0.0)
        if took > 5e-3:
            label = "stage (behind the next unit)" if step == "stage" else step
            rows.append((label, took, took / wall))
    inside = sum(v for k, v in one["steps"].items() if k != "stage")
    rows.append(("the rest", wall - inside, (wall - inside) / wall))
    rows.append(("floor: cdflib read", floor["read"], floor["read"] / wall))
    rows.append(("floor: numpy write", floor["write"], floor["write"] / wall))
    return rows


def repeat(archive: Path, work: Path, period: str, workers: int) -> dict:
    one = run(archive, work / "one", period, 1)
    before = raw_floor(archive, work / "one", work / "scratch")
    many = run(archive, work / "many", period, workers)
    inline = run(archive, work / "inline", period, 1, inline=True)
    after = raw_floor(archive, work / "one", work / "scratch")
    # the disk is shared: the floor is measured twice, around the other runs, and averaged
    floor = {k: (before[k] + after[k]) / 2 for k in ("floor", "read", "write")}
    floor.update({k: before[k] for k in ("in_bytes", "in_files", "out_bytes", "out_files")})
    floor["each"] = [before["floor"], after["floor"]]
    return {
        "one": one,
        "many": many,
        "inline": inline,
        "floor": floor,
        "ratio": one["wall"] / floor["floor"],
        "speedup": one["wall"] / many["wall"],
        "speedup_inline": inline["wall"] / many["wall"],
        "load": os.getloadavg(),
    }


def report(r: dict, days: int, workers: int) -> None:
    one, many, floor = r["one"], r["many"], r["floor"]
    print(
        f"STEREO-A L1, {days} days: {one['vectors']:,} vectors; {floor['in_files']} input CDFs "
        f"{floor['in_bytes'] / 1e9:.2f} GB, {floor['out_files']} outputs {floor['out_bytes'] / 1e9:.2f} GB; "
        f"load average after {r['load'][0]:.1f}"
    )
    print(
        f"  raw I/O floor           {floor['floor']:7.1f} s  (cdflib read {floor['read']:.1f} s, "
        f"numpy write {floor['write']:.1f} s; the mean of {floor['each'][0]:.1f} s and "
        f"{floor['each'][1]:.1f} s, measured around the other runs)"
    )
    print(
        f"  1 worker                {one['wall']:7.1f} s  = {r['ratio']:5.2f} x floor (aim <= 3); "
        f"{one['vectors'] / one['wall']:,.0f} vectors/s; peak {one['rss']:.0f} MiB"
    )
    print(
        f"  {workers} workers               {many['wall']:7.1f} s  speed-up {r['speedup']:4.2f} x "
        f"(aim >= 1.8); peak {many['rss']:.0f} MiB per process"
    )
    inline = r["inline"]
    ratio = inline["wall"] / floor["floor"]
    print(
        f"  1 worker, staging in line {inline['wall']:5.1f} s  = {ratio:5.2f} x floor; "
        f"{workers} workers are {r['speedup_inline']:4.2f} x faster (one core against {workers})"
    )
    print(f"  {'step (1 worker)':30s} {'s':>7s} {'share of wall':>14s}")
    for what, s, share in step_table(one, floor):
        print(f"  {what:30s} {s:7.2f} {100 * share:13.1f} %")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=31)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--archive", type=Path, default=None, help="a simulated archive to reuse")
    ap.add_argument("--keep", type=Path, default=None, help="work directory to keep")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="magfw-bench-stereo-"))
    period = f"2024-01-01..2024-01-{args.days:02d}"
    try:
        archive = args.archive
        if archive is None:
            from magfw_stereo.simulate import simulate

            archive = work / "archive"
            t = time.perf_counter()
            simulate(parse_period(period), archive, "A", 0)
            print(f"simulated {period} in {time.perf_counter() - t:.0f} s (not timed)")
        runs = []
        for k in range(args.repeat):
            if args.repeat > 1:
                print(f"repeat {k + 1} of {args.repeat}")
            runs.append(repeat(archive, work, period, args.workers))
            report(runs[-1], args.days, args.workers)
        if args.repeat > 1:
            best = min(runs, key=lambda r: r["ratio"])
            print(
                f"best repeat: {best['ratio']:.2f} x floor, speed-up {best['speedup']:.2f} x; all: "
                + ", ".join(f"{r['ratio']:.2f} x / {r['speedup']:.2f} x" for r in runs)
            )
        if args.json:
            print(json.dumps(runs, indent=1))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""End-to-end throughput, I/O floor, memory and parallel speed-up, per mission and level.

For each implemented level whose mission has a simulator: simulate N days, then process them
with 1 worker, with W local workers and (if dask.distributed is installed) on a Dask
LocalCluster of W workers, each into a fresh output tree. Printed as a table and as JSON:

- vectors/s end to end (1 worker) and per core;
- the raw I/O floor measured in the same run: reading every input byte the ledger recorded and
  writing as many output bytes as the run wrote, with no processing (ratio = run / floor);
- peak resident memory of a one-worker run, for 1 day and for N days (it must not grow with
  the number of days);
- speed-up from 1 to W workers, local pool and Dask.

Usage: ``python benchmarks/bench_scale.py [--days 4] [--workers 2] [--only stereo/l1] [--json]``
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
from datetime import date
from pathlib import Path

from magfw.config import state_dir
from magfw.engine.ledger import Ledger
from magfw.engine.simulation import ensure_simulated
from magfw.period import parse_period
from magfw.plugin.manager import Hooks, build_plugin_manager

#: First simulated day per mission or level (inside each simulator's coverage: the Aditya
#: calibration starts in 2024, the simulated STEREO beacon files cover 2014-08..2015-11).
START = {"aditya": "2024-08-01", "stereo/beacon": "2015-01-01"}
DEFAULT_START = "2024-01-01"

#: Runs one measurement in a fresh process, so its peak RSS is that run's alone.
CHILD = """
import json, sys, time
from pathlib import Path
from magfw.period import parse_period
from magfw.engine.jobs import RunRequest
from magfw.engine.process import peak_rss_mb
from magfw.engine.runner import Runner
mission, level, period, out, workers, executor = sys.argv[1:7]
req = RunRequest(mission=mission, level=level, period=parse_period(period), out_dir=Path(out),
                 source="simulated", workers=int(workers), executor=executor)
t0 = time.perf_counter()
s = Runner().run(req)
wall = time.perf_counter() - t0
rss = max([peak_rss_mb()] + [r.peak_rss_mb for r in s.results])
print(json.dumps({"wall": wall, "vectors": s.vectors, "rss": rss, "ok": s.ok,
                  "failed": [r.message for r in s.results if r.status == "failed"][:3]}))
"""


def _levels(hooks: Hooks, only: list[str]) -> list[tuple[str, str]]:
    out = []
    for m in hooks.registry:
        if not hooks.can_simulate(m.id):
            continue
        for lvl in m.levels.values():
            key = f"{m.id}/{lvl.name}"
            if lvl.implemented and (not only or key in only):
                out.append((m.id, lvl.name))
    return out


def _floor(out: Path, sim_root: Path) -> float:
    """Seconds to read every recorded input byte and write as many output bytes."""
    entries = [e for e in Ledger(state_dir(out) / "ledger.sqlite").history() if e.status == "ok"]
    inputs = {i["name"] for e in entries for i in e.inputs}
    out_bytes = sum(o["size"] for e in entries for o in e.outputs)
    found: dict[str, Path] = {}
    for root in (sim_root, out):  # archive inputs, and other levels' products in the tree
        for p in root.rglob("*"):
            if p.is_file():
                for key in (p.relative_to(root).as_posix(), p.name):
                    if key in inputs:
                        found.setdefault(key, p)
    t0 = time.perf_counter()
    for p in set(found.values()):
        with open(p, "rb") as fh:
            while fh.read(1 << 22):
                pass
    with tempfile.TemporaryFile() as tmp:
        block = b"\0" * (1 << 22)
        left = out_bytes
        while left > 0:
            tmp.write(block[: min(left, len(block))])
            left -= len(block)
        tmp.flush()
        os.fsync(tmp.fileno())
    return time.perf_counter() - t0


def _run(
    mission: str, level: str, period: str, out: Path, workers: int, executor: str = "local"
) -> tuple[float, int, float, bool]:
    """(wall s, vectors, peak RSS MiB of the run's processes, all units ok), in a new process."""
    res = subprocess.run(
        [sys.executable, "-c", CHILD, mission, level, period, str(out), str(workers), executor],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if res.returncode != 0:
        raise RuntimeError(f"{mission} {level}: {res.stderr.strip().splitlines()[-1:]}")
    r = json.loads(res.stdout.strip().splitlines()[-1])
    if r["failed"]:
        print(f"{mission} {level}: failed units: {r['failed']}", file=sys.stderr)
    return r["wall"], r["vectors"], r["rss"], r["ok"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=4)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--only", nargs="*", default=[], help="mission/level to measure")
    ap.add_argument("--json", action="store_true", help="print JSON only")
    args = ap.parse_args()

    hooks = Hooks(build_plugin_manager())
    rows = []
    with tempfile.TemporaryDirectory(prefix="magfw-bench-") as tmp_s:
        tmp = Path(tmp_s)
        for mission, level in _levels(hooks, args.only):
            start = START.get(f"{mission}/{level}", START.get(mission, DEFAULT_START))
            first = parse_period(start).start
            period = f"{first}..{date.fromordinal(first.toordinal() + args.days - 1)}"
            m = hooks.registry.get(mission)
            sc = m.resolve_spacecraft(None)
            sim = tmp / f"sim-{mission}-{start}"
            t_sim = time.perf_counter()
            root = ensure_simulated(hooks, mission, parse_period(period), sim, sc, 0)
            t_sim = time.perf_counter() - t_sim

            def out_for(name: str, sim: Path = sim, mission: str = mission, level: str = level) -> Path:
                """A fresh output tree sharing the simulated archive (simulated once, untimed)."""
                out = tmp / f"{mission}-{level}-{name}"
                shutil.rmtree(out, ignore_errors=True)
                link = state_dir(out) / "simulated"
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(state_dir(sim) / "simulated")
                return out

            one_day = f"{first}..{first}"
            _, _, rss_1day, _ = _run(mission, level, one_day, out_for("d1"), 1)
            t1, vectors, rss_ndays, ok1 = _run(mission, level, period, out_for("w1"), 1)
            floor = _floor(tmp / f"{mission}-{level}-w1", root)
            tw, _, _, okw = _run(mission, level, period, out_for("wn"), args.workers)
            try:
                import distributed  # noqa: F401

                td, _, _, okd = _run(mission, level, period, out_for("dask"), args.workers, "dask")
            except ImportError:
                td, okd = float("nan"), False
            rows.append(
                {
                    "mission": mission,
                    "level": level,
                    "days": args.days,
                    "vectors": vectors,
                    "simulate_s": round(t_sim, 2),
                    "wall_1_s": round(t1, 3),
                    "vectors_per_s": round(vectors / t1),
                    "io_floor_s": round(floor, 3),
                    "ratio_to_floor": round(t1 / floor, 1) if floor > 0 else None,
                    "peak_rss_mb_1day": round(rss_1day),
                    "peak_rss_mb_ndays": round(rss_ndays),
                    "workers": args.workers,
                    "wall_n_s": round(tw, 3),
                    "speedup_local": round(t1 / tw, 2),
                    "wall_dask_s": round(td, 3),
                    "speedup_dask": round(t1 / td, 2) if td == td else None,
                    "all_ok": ok1 and okw and (okd or td != td),
                }
            )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    cols = [
        "mission",
        "level",
        "days",
        "vectors",
        "vectors_per_s",
        "wall_1_s",
        "io_floor_s",
        "ratio_to_floor",
        "peak_rss_mb_1day",
        "peak_rss_mb_ndays",
        "workers",
        "speedup_local",
        "speedup_dask",
        "all_ok",
    ]
    print(" | ".join(cols))
    for r in rows:
        print(" | ".join(str(r[c]) for c in cols))
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

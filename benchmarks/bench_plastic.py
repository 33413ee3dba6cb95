"""PLASTIC + MAG merge throughput and peak memory, level by level, against the I/O floor.

Simulates ``--days`` days (default 30, from ``--start``) of PLASTIC 1-min files and MAG L1 RTN
CDFs at ``--mag-rate`` Hz (default 8, the real L1 cadence), then measures, each run in a
process of its own (its peak resident memory is that run's alone, Linux VmHWM):

- the I/O floor: reading every input once with the same readers (cdflib for the MAG CDFs, the
  PLASTIC text reader) and doing nothing else;
- ``magfw run plastic l2 PERIOD``: every level (the days, their months, the year);
- ``magfw run plastic daily PERIOD --force``: the days alone, again (warm file cache);
- ``magfw run plastic l2 PERIOD --force``: the yearly products alone (the days and months are
  unchanged, so the ledger skips them; ``--force`` redoes the requested level only).

Prints MAG vectors/s and peak RSS of each. Usage::

    python benchmarks/bench_plastic.py [--days 30] [--mag-rate 8] [--start 2024-03-01] [--keep DIR]

(a year: ``--days 366 --start 2024-01-01 --mag-rate 1``, the rate the simulator uses by default.)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's peak resident memory (MiB), from /proc/self/status (VmHWM)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child(args: argparse.Namespace) -> None:
    """One measured run, in this process; prints a JSON line."""
    from magfw.api import RunRequest, parse_period
    from magfw.engine.runner import Runner
    from magfw.plugin.manager import get_hooks

    hooks = get_hooks()  # stereo's definitions are used if it loads; its l1 has no source here
    level = hooks.registry.get("plastic").level(args.level)
    request = RunRequest(
        mission="plastic",
        level=args.level,
        period=parse_period(args.period),
        out_dir=Path(args.out),
        source=args.archive,
        spacecraft="A",
        force=args.force,
        options={o.name: o.default for o in level.options},
    )
    t0 = time.perf_counter()
    summary = Runner(hooks).run(request)
    wall = time.perf_counter() - t0
    assert summary.ok, [r.message for r in summary.results if r.status == "failed"]
    by_level: dict[str, dict[str, float]] = {}
    for r in summary.results:
        d = by_level.setdefault(r.level, {"ok": 0, "skipped": 0, "seconds": 0.0, "rss_mb": 0.0})
        d[r.status] = d.get(r.status, 0) + 1
        d["seconds"] += r.duration_s
        d["rss_mb"] = max(d["rss_mb"], r.peak_rss_mb)  # this process's peak when it ended
    print(json.dumps({"wall_s": wall, "peak_rss_mb": peak_rss_mb(), "levels": by_level}))


def measure(archive: Path, out: Path, period: str, level: str, force: bool) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        "--archive",
        str(archive),
        "--out",
        str(out),
        "--period",
        period,
        "--level",
        level,
    ] + (["--force"] if force else [])
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{res.stdout}\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def floor(archive: Path, first: date, last: date) -> tuple[float, int, float, int]:
    """Read every input once: (seconds, MAG vectors, MAG MB, PLASTIC files)."""
    from magfw.api import read_cdf
    from magfw_plastic import simulate as sim
    from magfw_plastic.reader import read_plastic_ascii

    mag_def = sim.mag_definition()
    mag_files, pla_files = [], []
    d = first
    while d <= last:
        mag_files += sorted(archive.glob(mag_def.filename.glob(sc="A", yyyy=d.year, mm=d.month, dd=d.day)))
        pla_files += sorted((archive / f"ASCII/1min/A/{d.year}").glob(f"*_1min_{d:%Y%m%d}_*"))
        d += timedelta(days=1)
    t0 = time.perf_counter()
    n_vec = sum(read_cdf(f, variables=["BFIELD"]).variables["BFIELD"].shape[0] for f in mag_files)
    for f in pla_files:
        read_plastic_ascii(f)
    return (time.perf_counter() - t0, n_vec, sum(p.stat().st_size for p in mag_files) / 1e6, len(pla_files))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--mag-rate", type=float, default=8.0)
    ap.add_argument("--start", type=date.fromisoformat, default=date(2024, 3, 1))
    ap.add_argument("--keep", type=Path, default=None, help="work directory to keep (and reuse)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--archive", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--period", help=argparse.SUPPRESS)
    ap.add_argument("--level", help=argparse.SUPPRESS)
    ap.add_argument("--force", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    from magfw.api import Period
    from magfw_plastic import simulate as sim

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_plastic_"))
    first = args.start
    last = first + timedelta(days=args.days - 1)
    period = f"{first}..{last}"
    archive, out = work / "archive", work / "out"
    t0 = time.perf_counter()
    marker = archive / f".bench-{period}-{args.mag_rate:g}Hz"
    if not marker.exists():
        sim.simulate_archive(Period(first, last), archive, "A", seed=1, mag_rate_hz=args.mag_rate)
        marker.touch()
    t_sim = time.perf_counter() - t0
    t_floor, n_vec, size, n_pla = floor(archive, first, last)
    print(
        f"days {args.days} from {first}, MAG {args.mag_rate:g} Hz: {n_vec:,} MAG vectors "
        f"({size:,.0f} MB), {n_pla} PLASTIC files; simulated in {t_sim:.1f} s"
    )
    print(f"I/O floor (read inputs only):      {t_floor:7.2f} s  {n_vec / t_floor:12,.0f} vectors/s")
    shutil.rmtree(out, ignore_errors=True)
    runs = [
        ("l2 (every level)", "l2", False),
        ("daily --force (the days)", "daily", True),
        ("l2 --force (the year alone)", "l2", True),
    ]
    for label, level, force in runs:
        m = measure(archive, out, period, level, force)
        levels = ", ".join(
            f"{k} {v.get('ok', 0):.0f} ok/{v.get('skipped', 0):.0f} skipped {v['seconds']:.1f} s"
            for k, v in m["levels"].items()
        )
        rate = "" if label.startswith("l2 --force") else f"{n_vec / m['wall_s']:,.0f} vectors/s"
        print(
            f"run plastic {label:28s} {m['wall_s']:7.2f} s  {rate:>20s}  peak RSS "
            f"{m['peak_rss_mb']:6.0f} MiB  ({levels})"
        )
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""The monthly STEREO tools: ``stereo merge`` (peak memory) and ``stereo package`` (vs Info-ZIP).

    python benchmarks/bench_stereo_tools.py [--days 31] [--keep DIR]

- ``--days`` days of January 2024 are simulated and run through ``magfw run stereo l1``
  (not timed): full-size 8 Hz SC and RTN daily CDFs plus the burst days.
- **merge**: ``magfw run stereo merge 2024-01`` in its own process, for its wall time and peak
  resident memory (aim: <= 400 MB whatever the month's size: it streams day by day); its
  raw I/O floor measured the same way as ``bench_stereo.py`` (numpy reads every daily CDF the
  ledger recorded and writes as many fsynced bytes as the merge committed).
- **package**: ``magfw run stereo package 2024-01`` (the default traditional encryption, and
  ``--aes``) in its own process, against Info-ZIP ``zip -q -r -1 -P`` over the same files in
  the same run (aim: package <= 1.5 x zip). The password reaches ``zip`` on its command line
  only in this benchmark; magfw itself types it into a pseudo-terminal.

Every figure is a ratio measured in one run, so it survives a noisy machine.
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
from magfw_stereo.layout import INPUT_OFFSETS_DIR
from magfw_stereo.researcher import offsets_file_name
from magfw_stereo.simulate import simulate

PASSWORD = "bench-password"

CHILD = """
import json, sys, time
from pathlib import Path
from magfw.engine.jobs import RunRequest
from magfw.period import parse_period
from magfw.engine.process import peak_rss_mb
from magfw.engine.runner import Runner
archive, out, level, period, options = sys.argv[1:6]
options = json.loads(options)
force = bool(options.pop("force", False))
req = RunRequest(mission="stereo", level=level, period=parse_period(period), out_dir=Path(out),
                 source=archive, spacecraft="A", workers=1, options=options, force=force)
t0 = time.perf_counter()
s = Runner().run(req)
wall = time.perf_counter() - t0
own = [r for r in s.results if r.level == level]  # a shorter run: l1 fails the other days
print(json.dumps({"wall": wall, "ok": bool(own) and all(r.status != "failed" for r in own),
                  "failed": [f"{r.level} {r.unit.key}: {r.message}" for r in own
                             if r.status == "failed"],
                  "rss": max([peak_rss_mb()] + [r.peak_rss_mb for r in s.results])}))
"""


def run(
    archive: Path, out: Path, level: str, period: str, options: dict[str, object] | None = None
) -> dict[str, float]:
    env = dict(os.environ, MAGFW_ZIP_PASSWORD=PASSWORD)
    res = subprocess.run(
        [sys.executable, "-c", CHILD, str(archive), str(out), level, period, json.dumps(options or {})],
        capture_output=True,
        text=True,
        timeout=7200,
        env=env,
    )
    if res.returncode != 0:
        raise SystemExit(res.stderr[-3000:])
    result = json.loads(res.stdout.strip().splitlines()[-1])
    if not result["ok"]:
        raise SystemExit(f"{level}: " + "; ".join(result["failed"])[:3000])
    return result


def last_entry(out: Path, level: str):  # noqa: ANN201 - a LedgerEntry
    entries = [
        e
        for e in Ledger(state_dir(out) / "ledger.sqlite").history()
        if e.status == "ok" and f"/{level}/" in e.unit
    ]
    return entries[-1]


def merge_floor(out: Path, scratch: Path) -> tuple[float, int, int]:
    """Seconds for numpy to read the merge's inputs and write its output bytes; (s, in, out)."""
    e = last_entry(out, "merge")
    inputs = [out / i["name"] for i in e.inputs if (out / i["name"]).is_file()]
    sizes = [o["size"] for o in e.outputs]
    scratch.mkdir(parents=True, exist_ok=True)
    os.sync()
    t0 = time.perf_counter()
    n_in = sum(np.fromfile(p, dtype=np.uint8).size for p in inputs)
    for k, size in enumerate(sizes):
        with open(scratch / f"f{k}.bin", "wb") as fh:
            np.zeros(size, np.uint8).tofile(fh)
            fh.flush()
            os.fsync(fh.fileno())
    dt = time.perf_counter() - t0
    shutil.rmtree(scratch, ignore_errors=True)
    return dt, n_in, sum(sizes)


def info_zip(out: Path, scratch: Path) -> tuple[float, int]:
    """Seconds for Info-ZIP ``zip -q -r -1 -P`` over the files the package zipped; (s, bytes)."""
    e = last_entry(out, "package")
    files = [i["name"] for i in e.inputs if (out / i["name"]).is_file()]
    scratch.mkdir(parents=True, exist_ok=True)
    target = scratch / "same-files.zip"
    os.sync()
    t0 = time.perf_counter()
    subprocess.run(["zip", "-q", "-1", "-P", PASSWORD, str(target), *files], cwd=out, check=True)
    with open(target, "rb") as fh:
        os.fsync(fh.fileno())
    dt = time.perf_counter() - t0
    size = sum((out / f).stat().st_size for f in files)
    shutil.rmtree(scratch, ignore_errors=True)
    return dt, size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=31)
    ap.add_argument("--keep", type=Path, default=None, help="work directory to keep")
    args = ap.parse_args()
    if shutil.which("zip") is None:
        raise SystemExit("bench_stereo_tools: Info-ZIP zip is needed (apt-get install zip)")
    work = args.keep or Path(tempfile.mkdtemp(prefix="magfw-bench-tools-"))
    archive, out = work / "archive", work / "out"
    period = f"2024-01-01..2024-01-{args.days:02d}"
    try:
        t = time.perf_counter()
        simulate(parse_period(period), archive, "A", 0)
        # the researcher's offsets first, as the chain does: imported after l1 they would
        # make every day stale and the merge would redo the month's l1 (and be timed with it)
        table = archive / INPUT_OFFSETS_DIR / offsets_file_name("A", 2024, 1)
        subprocess.run(
            [sys.executable, "-m", "magfw", "stereo", "offsets", "import", str(table), "--out", str(out)],
            check=True,
            capture_output=True,
        )
        run(archive, out, "l1", period)
        os.sync()  # the month's l1 writes reach the disk before the merge is timed
        print(f"simulated and processed {period} in {time.perf_counter() - t:.0f} s (not timed)")
        merge = run(archive, out, "merge", "2024-01")
        floor, n_in, n_out = merge_floor(out, work / "scratch")
        pack = run(archive, out, "package", "2024-01")
        z_wall, z_bytes = info_zip(out, work / "scratch")
        aes = run(archive, out, "package", "2024-01", {"aes": True, "force": True})
        print(
            f"STEREO-A, {args.days} days: merge reads {n_in / 1e6:.0f} MB and writes "
            f"{n_out / 1e6:.0f} MB; the package zips {z_bytes / 1e6:.0f} MB"
        )
        print(
            f"  merge               {merge['wall']:7.1f} s = {merge['wall'] / floor:5.2f} x its "
            f"raw I/O floor ({floor:.1f} s); peak {merge['rss']:.0f} MiB (aim <= 400 MB)"
        )
        print(f"  Info-ZIP zip -1 -P  {z_wall:7.1f} s")
        print(
            f"  package (ZipCrypto) {pack['wall']:7.1f} s = {pack['wall'] / z_wall:5.2f} x "
            f"zip (aim <= 1.5); peak {pack['rss']:.0f} MiB"
        )
        print(
            f"  package --aes       {aes['wall']:7.1f} s = {aes['wall'] / z_wall:5.2f} x zip; "
            f"peak {aes['rss']:.0f} MiB"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

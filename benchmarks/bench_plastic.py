"""PLASTIC + MAG merge throughput: a simulated month merged, against the I/O floor.

Simulates ``--days`` days (default 30) of PLASTIC 1-min files and MAG L1 RTN CDFs at
``--mag-rate`` Hz (default 8, the real L1 cadence), then in the same run measures:

- the I/O floor: reading every input once with the same readers (cdflib for the MAG CDFs,
  the PLASTIC text reader) and doing nothing else;
- the merge: ``magfw run plastic l2`` on the same archive (fetch with checksums, read, bin,
  merge, derive, average, write daily/monthly/yearly/average products), twice: the first run
  and a forced rerun (warm file cache for both, as the floor is measured warm too).

Prints MAG vectors/s for both and their ratio. Usage::

    python benchmarks/bench_plastic.py [--days 30] [--mag-rate 8] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from magfw.io.cdf import read_cdf
from magfw.period import Period, parse_period
from magfw.plugins import get_hooks
from magfw.runner import Runner, RunRequest
from magfw_plastic import simulate as sim
from magfw_plastic.reader import read_plastic_ascii


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--mag-rate", type=float, default=8.0)
    ap.add_argument("--keep", type=Path, default=None, help="work directory to keep")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_plastic_"))
    first = date(2024, 3, 1)
    last = first + timedelta(days=args.days - 1)
    archive, out = work / "archive", work / "out"
    t0 = time.perf_counter()
    sim.simulate_archive(Period(first, last), archive, "A", seed=1, mag_rate_hz=args.mag_rate)
    t_sim = time.perf_counter() - t0

    mag_def = sim.mag_definition()
    mag_files = sorted(archive.glob(mag_def.filename.glob(sc="A", yyyy=2024).replace("**", "*")))
    pla_files = sorted((archive / "ASCII/1min/A/2024").glob("*.txt"))
    t0 = time.perf_counter()
    n_vec = 0
    for f in mag_files:
        n_vec += read_cdf(f).variables["BFIELD"].shape[0]
    for f in pla_files:
        read_plastic_ascii(f)
    t_floor = time.perf_counter() - t0

    hooks = get_hooks()  # stereo's definitions are needed; its l1 has no source here: not run
    timings = []
    for force in (False, True):
        request = RunRequest(mission="plastic", level="l2", period=parse_period(f"{first}..{last}"),
                             out_dir=out, source=str(archive), spacecraft="A", force=force)
        t0 = time.perf_counter()
        summary = Runner(hooks).run(request)
        timings.append(time.perf_counter() - t0)
        assert summary.ok, [r.message for r in summary.results]
    t_run = min(timings)
    size = sum(p.stat().st_size for p in mag_files) / 1e6
    print(f"days {args.days}, MAG {args.mag_rate:g} Hz: {n_vec:,} MAG vectors ({size:,.0f} MB), "
          f"{len(pla_files)} PLASTIC files; simulated in {t_sim:.1f} s")
    print(f"I/O floor (read inputs only): {t_floor:6.2f} s  {n_vec / t_floor:12,.0f} vectors/s")
    print(f"merge (magfw run plastic l2): {t_run:6.2f} s  {n_vec / t_run:12,.0f} vectors/s "
          f"(first {timings[0]:.2f} s, forced rerun {timings[1]:.2f} s)")
    print(f"merge / I/O floor: {t_run / t_floor:.2f}x the floor's time")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

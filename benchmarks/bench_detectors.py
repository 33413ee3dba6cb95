"""The STEREO detectors' cost per day: timing corrections and despiking (spikes and X glitches)
on a quiet and a disturbed simulated day, against a few plain numpy passes over the same
records (the budget the detectors are held to).

    python benchmarks/bench_detectors.py [--repeat 5]

- Days: STEREO-A 2024-01-03 (quiet, burst day) and 2024-05-10 (disturbed: the sheath, long
  1-s runs, collisions, stale stamps after both switches), simulated first (not timed).
- Timed, best of ``--repeat``, in this process: ``correct_timing`` on the day's normal file
  (file order, ~690,000 records), ``despike`` on its 8 Hz series (the scale, spikes, glitch
  candidates, templates, repairs), and, as the yardstick, one ``np.diff`` + ``np.abs`` +
  ``np.median`` pass over the (N, 3) records (a "numpy pass").
- Printed: seconds per day and per million records, and each detector in numpy passes.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from magfw.geometry.time import day_bounds_tt2000
from magfw.period import parse_period
from magfw_stereo.berkeley import read_uv
from magfw_stereo.counts import read_counts
from magfw_stereo.despike import despike
from magfw_stereo.simulate import simulate
from magfw_stereo.timing import correct_timing, normal_step, rate32_mask

DAYS = {"quiet": date(2024, 1, 3), "disturbed": date(2024, 5, 10)}


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for kind, day in DAYS.items():
            root = simulate(parse_period(day.isoformat()), Path(tmp) / kind, "A", 0)
            uv = sorted((root / "impact/misc/uv/ahead").glob(f"STA_L1_MAG_{day:%Y%m%d}_V*.cdf"))[-1]
            raw = read_uv(uv, burst=False)
            _, o = read_counts(next((root / "offsets").glob("*Counts.asc"))).for_day(day)
            t0, t1 = (int(x) for x in day_bounds_tt2000(day))
            c = correct_timing(raw.time, raw.b, raw.flags, t0, t1)
            r32 = rate32_mask(c.time)
            t, b = c.time[~r32], c.b[~r32] + o
            step = normal_step(t)
            n = raw.time.size
            timing_s = best(lambda: correct_timing(raw.time, raw.b, raw.flags, t0, t1), args.repeat)  # noqa: B023
            despike_s = best(lambda: despike(b, 8, t, step), args.repeat)  # noqa: B023
            numpy_s = best(lambda: np.median(np.abs(np.diff(b, axis=0)), axis=0), args.repeat)  # noqa: B023
            print(
                f"STEREO-A {day} ({kind}, {n:,} records): timing {timing_s:.3f} s "
                f"({timing_s / n * 1e6:.2f} s per M records, {timing_s / numpy_s:.1f} numpy passes); "
                f"despike {despike_s:.3f} s ({despike_s / n * 1e6:.2f} s per M, "
                f"{despike_s / numpy_s:.1f} numpy passes); one numpy pass {numpy_s * 1e3:.1f} ms"
            )


if __name__ == "__main__":
    main()

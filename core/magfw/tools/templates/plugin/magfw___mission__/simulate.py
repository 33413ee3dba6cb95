"""The simulated archive: raw inputs in the real layout, with the true field beside them.

Layout (what :func:`simulate` writes and ``L1.fetch`` reads)::

    raw/YYYY/__MISSION___RAW_YYYYMMDD.dat  big-endian records: int64 TT2000, 3 x int32 counts
    cal/__MISSION___CAL_Vnn.txt            "scale_nT_per_count offset_x offset_y offset_z"
    truth/__MISSION___TRUTH_YYYYMMDD.npz   the true field (time, B in nT) and the spike indices

Counts = round((truth + offset + noise) / scale), with 20 spikes of +500 nT a day.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np

from magfw.api import Period, time, write_bytes_atomic

RAW = np.dtype([("t", ">i8"), ("c", ">i4", (3,))])
SCALE_NT = 0.01  #: nT per count
OFFSET_NT = np.array([3.0, -2.0, 1.5])  #: zero offsets the calibration removes (nT)
NOISE_NT = 0.02
N_SPIKES = 20


def day_start(day: date) -> int:
    """TT2000 (ns) of the day's 00:00:00 UTC."""
    return int(time.tt2000_from_datetime64(np.datetime64(day.isoformat(), "ns")))


def simulate(period: Period, out_dir: Path, seed: int) -> Path:
    """Write the archive for ``period`` under ``out_dir``; each day depends only on
    (day, seed), so overlapping periods give identical files."""
    cal = f"{SCALE_NT} {OFFSET_NT[0]} {OFFSET_NT[1]} {OFFSET_NT[2]}\n"
    write_bytes_atomic(out_dir / "cal" / "__MISSION___CAL_V01.txt", cal.encode())
    for day in period.days():
        rng = np.random.default_rng([seed, day.toordinal()])
        n = 86400
        t = day_start(day) + np.arange(n, dtype=np.int64) * 1_000_000_000
        phase = np.linspace(0, 2 * np.pi, n)
        truth = np.stack([5 * np.cos(phase), 5 * np.sin(phase), 2 + 0 * phase], axis=1)
        measured = truth + OFFSET_NT + rng.normal(0, NOISE_NT, truth.shape)
        counts = np.round(measured / SCALE_NT).astype(np.int32)
        spikes = np.sort(rng.choice(n, N_SPIKES, replace=False))
        counts[spikes, 0] += 50_000  # +500 nT
        rec = np.empty(n, RAW)
        rec["t"], rec["c"] = t, counts
        write_bytes_atomic(out_dir / "raw" / f"{day:%Y}" / f"__MISSION___RAW_{day:%Y%m%d}.dat", rec.tobytes())
        truth_path = out_dir / "truth" / f"__MISSION___TRUTH_{day:%Y%m%d}.npz"
        truth_path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(truth_path, time=t, b=truth, spikes=spikes)
    return out_dir

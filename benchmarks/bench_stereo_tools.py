"""Monthly STEREO tools on full-size days: ``merge`` and ``package`` against the raw I/O floor.

Writes N synthetic full days (8 Hz SC and RTN daily CDFs, 691 200 records each, plus one hour
of 32 Hz burst) with the core writer and the shipped definitions, then measures in one run:

- the I/O floor: reading every daily file's bytes and writing the same number of bytes;
- ``merge_month`` (read every daily with the core reader, concatenate, write four CDFs);
- ``package_month`` (read-check every daily, SHA-256, AES-256 zip at deflate level 1), with
  and without encryption;
- the process's peak resident memory after the merge (the merge holds one product's month
  in memory; see the report).

Usage: ``python benchmarks/bench_stereo_tools.py [N_DAYS] [WORKDIR]`` (default 5 days).
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from magfw.context import Product
from magfw.io.products import write_product
from magfw.plugins import get_hooks
from magfw.time import day_bounds_tt2000, tt2000_to_cdf_epoch


def write_day(out: Path, mission, pid: str, day: date, n: int, step: float, start: float) -> Path:
    d = mission.product(pid)
    rng = np.random.default_rng(day.toordinal())
    t0, _ = day_bounds_tt2000(np.datetime64(day.isoformat(), "D"))
    tt = t0 + np.int64(start * 1e9) + ((np.arange(n) + 0.5) * step * 1e9).astype(np.int64)
    b = rng.normal(0, 3, (n, 3)).astype(np.float32)
    frame = "RTN" if "rtn" in pid else "SC"
    fields = {"sc": "A", "yyyy": day.year, "mm": day.month, "dd": day.day,
              "version": d.version.start}
    labels = ["BR", "BT", "BN", "BTotal"] if frame == "RTN" else ["BX", "BY", "BZ", "BTotal"]
    p = Product(d, fields, variables={
        "Epoch": tt2000_to_cdf_epoch(tt),
        "BFIELD": np.column_stack([b, np.linalg.norm(b, axis=1)]).astype(np.float32),
        "MAGFLAGUC": np.full(n, 1 << 16, np.uint32), "FILTER_VALUE": np.full(n, 500, np.float32),
        "CART_LABL_1": np.array(labels)},
        attrs={"Source_name": "Ahead>STEREO Ahead", "Logical_source": "STA_L1_MAG_" + frame,
               "Parents": ["bench"], "Software_version": "bench", "Generation_date": "-",
               "Calibration_version": ["bench"], "SPICE_kernels": ["bench"],
               "Data_source": "SIMULATED by magfw: not real data"})
    target = out / d.filename.format(**fields)
    write_product(p, target, {})
    return target


def main() -> None:
    n_days = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    work = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp(prefix="magfw-bench-"))
    out = work / "out"
    mission = get_hooks().registry.get("stereo")
    from magfw_stereo.merge import merge_month
    from magfw_stereo.offsets import format_offsets_file, import_offsets
    from magfw_stereo.package import package_month

    days = [date(2024, 1, d) for d in range(1, n_days + 1)]
    files = []
    for day in days:
        for pid in ("l1_mag_sc", "l1_mag_rtn"):
            files.append(write_day(out, mission, pid, day, 691_200, 0.125, 0.0))
        if day.day == 2:
            for pid in ("l1_magb_sc", "l1_magb_rtn"):
                files.append(write_day(out, mission, pid, day, 115_200, 0.03125, 3600.0))
    src = work / "STEREO_A_offset_2024jan_avg.txt"
    src.write_bytes(format_offsets_file("A", 2024, 1, {d: (22.0, -17.0, -30.0) for d in days}))
    import_offsets(mission, out, src)
    total = sum(f.stat().st_size for f in files)

    os.sync()
    t = time.perf_counter()
    for f in files:
        f.read_bytes()
    blob = np.zeros(total, np.uint8)
    with open(work / "floor.bin", "wb") as fh:
        fh.write(blob.tobytes())
        fh.flush()
        os.fsync(fh.fileno())
    floor = time.perf_counter() - t
    (work / "floor.bin").unlink()
    del blob

    t = time.perf_counter()
    merge_month(mission, out, 2024, 1, "A")
    t_merge = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    t = time.perf_counter()
    rep = package_month(mission, out, 2024, 1, ["A"], password="bench-password")
    t_pack = time.perf_counter() - t
    zsize = rep.path.stat().st_size
    t = time.perf_counter()
    package_month(mission, out, 2024, 1, ["A"], password=None)
    t_plain = time.perf_counter() - t

    print(f"{n_days} days, {len(files)} daily CDFs, {total / 1e6:.0f} MB")
    print(f"I/O floor (read + write the same bytes): {floor:.2f} s")
    print(f"merge:            {t_merge:.2f} s = {t_merge / floor:.1f} x floor; "
          f"peak RSS {rss:.0f} MB ({rss / (total / 1e6):.2f} x the input size)")
    print(f"package AES-256:  {t_pack:.2f} s = {t_pack / floor:.1f} x floor; "
          f"zip {zsize / 1e6:.0f} MB ({zsize / total:.0%} of input)")
    print(f"package plain:    {t_plain:.2f} s = {t_plain / floor:.1f} x floor")
    print(f"month of 31 days, extrapolated: merge ~{t_merge * 31 / n_days:.0f} s, "
          f"package ~{t_pack * 31 / n_days:.0f} s")
    if len(sys.argv) <= 2:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

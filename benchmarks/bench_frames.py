"""Throughput of magfw.geometry.frames on one day of 8 Hz magnetometer data (691,200 vectors).

Compares ``magfw.geometry.frames.rotate`` (exact SPICE rotations on a grid, interpolated) with the
per-sample ``spiceypy.pxform`` loop on the same synthetic kernels (those of
``tests/test_frames.py``: a STEREO-like heliocentric orbit and an Aditya-like L1 orbit, each
with a wobbling CK attitude at 1 Hz). The loop is timed on a subsample and scaled to the day,
as the output says.

``rotate``'s time splits into the grid (the exact SPICE evaluations at the nodes and cell
midpoints, a cost per day) and the evaluation at every sample (a cost per sample), printed
apart: the per-sample cost in ns and in "numpy passes", the time of one ``np.add`` over the
day's (N, 3) float64 vectors into a fresh array, measured in the same run. Run:

    python benchmarks/bench_frames.py [--json] [--loop-samples N]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import spiceypy as sp
from spiceypy import cyice

from magfw.geometry import frames, kernels
from magfw.geometry.time import tt2000_to_et

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import test_frames as synthetic  # noqa: E402  (the synthetic kernel builder of the tests)


def best_of(fn, repeat: int = 3) -> float:
    """Shortest wall time (s) of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument(
        "--loop-samples",
        type=int,
        default=20_000,
        help="samples timed in the per-sample pxform loop (scaled to the day)",
    )
    args = ap.parse_args()

    tt = synthetic.day_tt()
    n = tt.size
    vectors = np.random.default_rng(0).normal(size=(n, 3)) * 10.0
    with tempfile.TemporaryDirectory() as tmp:
        scenario = synthetic.build_scenario(Path(tmp))
        with kernels.kernel_pool(scenario.files) as pool:
            rtn = pool.rtn_frame(synthetic.STEREO)
            cases = [
                ("STEREO-like SC -> RTN", synthetic.STEREO_FRAME, "RTN", synthetic.STEREO, rtn),
                ("Aditya-like SC -> GSE", synthetic.ADITYA_FRAME, "GSE", None, "MAGFW_GSE"),
                ("Aditya-like SC -> GSM", synthetic.ADITYA_FRAME, "GSM", None, "GSM_FIXED2000"),
            ]
            sub = np.linspace(0, n - 1, args.loop_samples).astype(np.int64)
            t_pass = best_of(lambda: np.add(vectors, 1.0), 5)  # one numpy pass over the vectors
            et_sub = tt2000_to_et(tt[sub])
            results = []
            for label, a, b, obs, spice_b in cases:
                frames.rotate(vectors[:1000], tt[:1000], a, b, observer=obs)  # warm caches
                t_api = best_of(lambda a=a, b=b, obs=obs: frames.rotate(vectors, tt, a, b, observer=obs))
                t0 = time.perf_counter()
                loop = [sp.pxform(a, spice_b, e) for e in et_sub]
                t_loop = (time.perf_counter() - t0) * n / sub.size
                t_v = best_of(lambda a=a, b=spice_b: cyice.pxform_v(a, b, et_sub), 1) * n / sub.size
                build = best_of(lambda a=a, b=b, obs=obs: frames._rotation(tt, a, b, obs, None))
                plan = frames._rotation(tt, a, b, obs, None)
                per_sample = best_of(lambda plan=plan: plan.apply(vectors))
                m = frames.rotation_matrices(tt, a, b, observer=obs)
                exact = frames.rotation_matrices(tt[sub], a, b, observer=obs, grid_s=0)
                err = float(np.max(np.linalg.norm(m[sub] - exact, axis=(1, 2)) / np.sqrt(2)))
                del loop
                results.append(
                    {
                        "case": label,
                        "vectors": n,
                        "api_s": t_api,
                        "api_vectors_per_s": n / t_api,
                        "grid_s": build,
                        "per_sample_ns": per_sample / n * 1e9,
                        "per_sample_numpy_passes": per_sample / t_pass,
                        "pxform_loop_s_scaled": t_loop,
                        "pxform_loop_vectors_per_s": n / t_loop,
                        "pxform_v_vectors_per_s": n / t_v,
                        "speedup_vs_loop": t_loop / t_api,
                        "max_error_rad": err,
                        "loop_frame": f"{a} -> {spice_b}",
                    }
                )
    meta = {
        "numpy_pass_s": t_pass,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "spice": sp.tkvrsn("TOOLKIT"),
        "loop_samples": int(sub.size),
        "note": "pxform loop timed on loop_samples spread over the day, scaled to 691,200; "
        "the GSM loop uses the fixed-pole SPICE GSM frame of the Aditya plugin's "
        "kernel (same SPICE cost class, "
        "the IGRF GSM is not a SPICE frame); max_error_rad is the API against its "
        "exact per-sample evaluation at the loop samples",
    }
    if args.json:
        print(json.dumps({"meta": meta, "results": results}, indent=2))
        return 0
    print(
        f"magfw.geometry.frames benchmark: one day of 8 Hz data ({n:,} vectors), one core; "
        f"{meta['spice']}, Python {meta['python']}"
    )
    print(f"pxform loop timed on {sub.size:,} samples and scaled to the day")
    print(
        f"{'case':24s} {'API vec/s':>12s} {'API s':>7s} {'loop vec/s':>11s} {'loop s':>8s} "
        f"{'pxform_v vec/s':>15s} {'speed-up':>9s} {'max err rad':>12s}"
    )
    for r in results:
        print(
            f"{r['case']:24s} {r['api_vectors_per_s']:12,.0f} {r['api_s']:7.3f} "
            f"{r['pxform_loop_vectors_per_s']:11,.0f} {r['pxform_loop_s_scaled']:8.2f} "
            f"{r['pxform_v_vectors_per_s']:15,.0f} {r['speedup_vs_loop']:8.0f}x "
            f"{r['max_error_rad']:12.1e}"
        )
    print(f"{'case':24s} {'grid s':>7s} {'per sample ns':>14s} {'numpy passes':>13s}")
    for r in results:
        print(
            f"{r['case']:24s} {r['grid_s']:7.3f} {r['per_sample_ns']:14.1f} "
            f"{r['per_sample_numpy_passes']:13.1f}"
        )
    print(f"one numpy pass (np.add over the (N, 3) vectors): {t_pass * 1e3:.1f} ms")
    print("note:", meta["note"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Throughput of magfw.geometry.attitude on one day of 8 Hz magnetometer data (691,200 vectors)
rotated with an attitude given as quaternions at 1 Hz (86,401 samples, a coning spin).

Times building the series (sign continuity, checks), ``to_ref`` (slerp and the rotation, no
matrices) and ``matrices`` (slerp and ``q2m``), and, for scale, ``scipy``'s ``Slerp`` plus
``Rotation.apply`` on the same samples when scipy is installed. Run:

    python benchmarks/bench_attitude.py [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable

import numpy as np

from magfw.geometry import attitude

NS = 1_000_000_000


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """Shortest wall time (s) of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def coning(t_s: np.ndarray) -> np.ndarray:
    """ref -> body quaternions of a 12-s spin whose axis cones 3 deg around ref z every 10 min."""

    def about(axis: int, angle: np.ndarray) -> np.ndarray:
        q = np.zeros((angle.size, 4))
        q[:, 0], q[:, 1 + axis] = np.cos(angle / 2), np.sin(angle / 2)
        return q

    spin, precession = 2 * np.pi / 12, 2 * np.pi / 600
    body_to_ref = attitude.multiply(
        attitude.multiply(about(2, precession * t_s), about(0, np.full(t_s.size, np.radians(3)))),
        about(2, spin * t_s),
    )
    return attitude.conjugate(body_to_ref)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()

    t_att = np.arange(0, 86401, dtype=np.float64)
    q = coning(t_att)
    tt_att = (t_att * NS).astype(np.int64)
    tt = (np.arange(691_200) * (NS // 8)).astype(np.int64)
    b = np.random.default_rng(0).normal(size=(tt.size, 3)) * 2500.0
    series = attitude.QuaternionSeries.from_array(tt_att, q, scalar="first", maps="ref_to_body")
    results = {
        "vectors": int(tt.size),
        "attitude_samples": int(tt_att.size),
        "build_s": best_of(
            lambda: attitude.QuaternionSeries.from_array(tt_att, q, scalar="first", maps="ref_to_body")
        ),
        "to_ref_s": best_of(lambda: series.to_ref(b, tt)),
        "matrices_s": best_of(lambda: series.matrices(tt)),
        "error_bound_rad": series.error_bound_rad(),
    }
    try:
        from scipy.spatial.transform import Rotation, Slerp

        slerp = Slerp(t_att, Rotation.from_quat(q[:, [1, 2, 3, 0]]))
        t_s = tt / NS
        results["scipy_slerp_apply_s"] = best_of(lambda: slerp(t_s).inv().apply(b))
    except ImportError:
        pass
    results["to_ref_vectors_per_s"] = results["vectors"] / results["to_ref_s"]
    results["python"] = platform.python_version()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for key, value in results.items():
            shown = f"{value:,.3f}" if isinstance(value, float) and value >= 1e-3 else value
            print(f"{key:24} {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

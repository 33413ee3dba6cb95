"""Start-up of the ``magfw`` command against importing its own dependencies, in fresh processes.

    python benchmarks/bench_startup.py [--repeat 15] [--json]

Each command runs ``--repeat`` times, interleaved with the others so a busy machine slows them
alike; printed are the shortest wall time and the shortest CPU time (user + system, which a
loaded machine inflates less) of each, and the ratios to the reference,
``python -c "import typer, numpy, pydantic, pluggy, rich"`` (aims: ``magfw --help`` within 3x,
``magfw missions`` under 0.5 s), plus the modules each command imports.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

COMMANDS = {
    "reference": [sys.executable, "-c", "import typer, numpy, pydantic, pluggy, rich"],
    "import magfw.api": [sys.executable, "-c", "import magfw.api"],
    "magfw --help": [sys.executable, "-m", "magfw", "--help"],
    "magfw missions": [sys.executable, "-m", "magfw", "missions"],
}


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall s, CPU s of the child) of one run."""
    before = os.times()
    t0 = before.elapsed
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return after.elapsed - t0, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "MAGFW_LOG": os.path.join(tmp, "magfw.log")}
        best = {k: [float("inf"), float("inf")] for k in COMMANDS}
        for _ in range(args.repeat):
            for name, cmd in COMMANDS.items():
                wall, cpu = timed(cmd, env)
                best[name][0] = min(best[name][0], wall)
                best[name][1] = min(best[name][1], cpu)
    ref_wall, ref_cpu = best["reference"]
    load = os.getloadavg()[0]
    print(f"start-up, best of {args.repeat} fresh processes (load average {load:.1f})")
    print(f"{'command':20s} {'wall s':>7s} {'x ref':>6s} {'CPU s':>7s} {'x ref':>6s}")
    for name, (wall, cpu) in best.items():
        print(f"{name:20s} {wall:7.3f} {wall / ref_wall:6.2f} {cpu:7.3f} {cpu / ref_cpu:6.2f}")
    if args.json:
        print(json.dumps({"load": load, "best": best}))


if __name__ == "__main__":
    main()

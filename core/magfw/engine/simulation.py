"""Simulated archives: writing them through a mission's simulator, and knowing them again.

:func:`simulate_archive` runs the mission's ``simulate`` hook and leaves a marker file,
``MAGFW-SIMULATED.json``, at the archive root (mission, spacecraft, seed, period, software).
Fetch reads it (:meth:`magfw.fetch.Archive.is_simulated`), so products made from a simulated
archive say so whether it was given as ``--source simulated`` or as a path or URL.
``--source simulated`` keeps its archive inside the output tree (:func:`simulated_root`) and
simulates only the days not simulated before (:func:`ensure_simulated`).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from pathlib import Path

from magfw import __version__
from magfw.config import state_dir
from magfw.engine.locks import file_lock
from magfw.fetch import SIMULATED_MARKER
from magfw.io.atomic import write_bytes_atomic
from magfw.period import Period
from magfw.plugin.manager import Hooks

log = logging.getLogger("magfw.engine.simulation")


def simulate_archive(
    hooks: Hooks, mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int
) -> Path:
    """Simulate ``period`` into ``out_dir`` and mark the archive root as simulated."""
    root = hooks.simulate(mission, period, Path(out_dir), spacecraft, seed)
    marker = root / SIMULATED_MARKER
    record = {
        "mission": mission,
        "spacecraft": spacecraft,
        "seed": seed,
        "software": f"magfw {__version__}",
        "periods": [str(period)],
    }
    if marker.is_file():
        try:
            old = json.loads(marker.read_text())
            record["periods"] = sorted({*old.get("periods", []), str(period)})
        except (OSError, ValueError):
            pass
    record["written"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    write_bytes_atomic(marker, (json.dumps(record, indent=1) + "\n").encode())
    return root


def simulated_root(out_dir: Path, mission: str, spacecraft: str | None, seed: int) -> Path:
    """Where ``--source simulated`` keeps a mission's simulated archive in the output tree."""
    return state_dir(out_dir) / "simulated" / mission / (spacecraft or "all") / f"seed{seed}"


def ensure_simulated(
    hooks: Hooks, mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int
) -> Path:
    """Simulate the days of ``period`` not simulated before (a marker per day), in contiguous
    stretches; return the simulated archive's root. Runs sharing the tree take turns."""
    root = simulated_root(out_dir, mission, spacecraft, seed)
    markers = root / ".magfw-simulated"
    with file_lock(root.parent / f".{root.name}.lock"):
        todo = [d for d in period.days() if not (markers / d.isoformat()).exists()]
        stretches: list[list[date]] = []
        for d in todo:
            if stretches and (d - stretches[-1][-1]).days == 1:
                stretches[-1].append(d)
            else:
                stretches.append([d])
        for days in stretches:
            part = Period(days[0], days[-1])
            log.info("simulating %s %s into %s", mission, part, root)
            simulate_archive(hooks, mission, part, root, spacecraft, seed)
            markers.mkdir(parents=True, exist_ok=True)
            for d in days:
                (markers / d.isoformat()).touch()
    return root

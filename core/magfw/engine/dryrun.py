"""``magfw run --dry-run``: what a run would do, and why, unit by unit, with nothing processed
and nothing written.

For each planned unit (dependencies first) it runs the level's ``fetch`` (cheap by contract:
it finds and brings files, decodes nothing), reads the unit's last successful run from the
ledger, and asks :func:`magfw.engine.versioning.decide` (the one place where that is decided)
whether it would run, and why in words: ``new input version STA_L1_MAG_20240102_V02.cdf (was
STA_L1_MAG_20240102_V01.cdf)``, ``changed calibration 202401StereoACounts.asc (new content)``,
``new kernel ...``, ``new software (...)``, ``new product definition ...``, ``never
processed``. A unit whose fetch fails would fail (its one line); one whose fetch finds nothing
to do would be skipped (its reason); one that needs a unit that would run would run after it,
and is not fetched (its inputs are not made yet).

Nothing is written into the output tree: no staging, no ledger row, no lock, no recovery (an
interrupted commit is only mentioned), no simulation (``--source simulated`` days not yet
simulated are said to be made first), the ledger opened without leaving a file
(:func:`magfw.engine.ledger.traceless`), and downloads from an HTTP(S) source going into a
temporary cache that reuses the tree's cache without writing it (so with an HTTP source this
is the "check the site" step: what is new there, and what it would remake). The log goes to
the log outside the tree (``$MAGFW_LOG``).
"""

from __future__ import annotations

import dataclasses
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from magfw.config import state_dir
from magfw.engine.jobs import RunRequest, UnitJob, UnitResult
from magfw.engine.ledger import Ledger, LedgerEntry, traceless
from magfw.engine.plan import PlannedJob
from magfw.engine.process import open_context, unit_versions
from magfw.engine.simulation import simulated_root
from magfw.engine.steps import fetch_inputs
from magfw.engine.versioning import decide, outputs_intact
from magfw.errors import MagfwError
from magfw.plugin.manager import Hooks

#: What a dry run says a unit would do (``UnitResult.forecast``).
RUN, UNCHANGED, SKIP, FAIL = "run", "unchanged", "skip", "fail"


def _result(job: UnitJob, forecast: str, message: str, version: int | None = None) -> UnitResult:
    return UnitResult(
        unit=job.unit,
        status="skipped",  # nothing was processed
        message=message,
        mission=job.mission,
        level=job.level,
        spacecraft=job.spacecraft,
        version=version,
        forecast=forecast,
    )


def _unsimulated(job: UnitJob, request: RunRequest) -> bool:
    """Whether ``--source simulated`` still has days of this unit (within the request) to make."""
    markers = simulated_root(request.out_dir, job.mission, job.spacecraft, request.seed) / ".magfw-simulated"
    days = [d for d in request.period.days() if job.unit.start <= d <= job.unit.end]
    return any(not (markers / d.isoformat()).exists() for d in days)


def _when(entry: LedgerEntry) -> str:
    return datetime.fromtimestamp(entry.started, UTC).strftime("%Y-%m-%d %H:%M")


def _forecast_one(hooks: Hooks, job: UnitJob, cache: Path) -> UnitResult:
    """Fetch the unit and decide, as :func:`magfw.engine.process.process_unit` would."""
    previous = job.previous
    try:
        ctx = open_context(hooks, job, cache_dir=cache, read_cache=state_dir(job.out_dir) / "cache")
        who = hooks.plugin_version(job.mission)
        inputs = fetch_inputs(hooks.level_object(job.mission, job.level), ctx, who, {})
    except MagfwError as exc:
        return _result(job, FAIL, f"would fail: {exc}")
    if inputs.skip_reason:
        return _result(job, SKIP, f"would be skipped: {inputs.skip_reason}")
    decision = decide(
        previous,
        [f.record() for f in inputs.files],
        inputs.digest(),
        unit_versions(hooks, job, inputs),
        hooks.registry.get(job.mission).level_products(job.level),
        force=job.force,
        outputs_intact=previous is None or outputs_intact(job.out_dir, previous),
    )
    if not decision.run:
        assert previous is not None
        return _result(job, UNCHANGED, f"unchanged since {_when(previous)} UTC", decision.version)
    return _result(job, RUN, f"would run (v{decision.version}): {'; '.join(decision.why)}", decision.version)


def _label(job: UnitJob) -> str:
    sc = f" ST{job.spacecraft}" if job.spacecraft else ""
    return f"{job.mission} {job.level}{sc} {job.unit.key}"


def forecast(hooks: Hooks, request: RunRequest, graph: list[PlannedJob]) -> list[UnitResult]:
    """What each planned unit would do (module docstring), in plan order."""
    ledger = Ledger.reader(state_dir(Path(request.out_dir)) / "ledger.sqlite")
    out: list[UnitResult] = []
    with traceless(), tempfile.TemporaryDirectory(prefix="magfw-dry-run-") as tmp:
        pending = {c.unit for c in ledger.commits()} if ledger is not None else set()
        for planned in graph:
            job = planned.job
            previous = ledger.last_ok(job.unit_id) if ledger is not None else None
            job = dataclasses.replace(job, previous=previous)
            waits = [_label(graph[i].job) for i in planned.after if out[i].forecast == RUN]
            if waits:
                shown = ", ".join(waits[:3]) + (f" and {len(waits) - 3} more" if len(waits) > 3 else "")
                result = _result(job, RUN, f"would run after {shown} (its inputs would be made anew)")
            elif job.simulated and _unsimulated(job, request):
                what = "never processed" if previous is None else "its simulated inputs change"
                result = _result(job, RUN, f"would run: {what} (the simulated archive is made first)")
            else:
                result = _forecast_one(hooks, job, Path(tmp))
            if job.unit_id in pending:
                result.message += " (an interrupted commit of it would be recovered first)"
            out.append(result)
    return out


def tally(results: list[UnitResult]) -> str:
    """``dry run: 1 would run, 30 unchanged, 0 would be skipped, 0 would fail``."""
    n = {k: sum(r.forecast == k for r in results) for k in (RUN, UNCHANGED, SKIP, FAIL)}
    return (
        f"dry run: {n[RUN]} would run, {n[UNCHANGED]} unchanged, {n[SKIP]} would be skipped, "
        f"{n[FAIL]} would fail (nothing processed, nothing written)"
    )

"""The runner: plans units of work from a PERIOD and runs a mission's hooks on each.

For each unit: ``fetch`` → ledger check (skip if inputs and versions are unchanged, unless
forced) → ``read`` → ``calibrate`` → ``correct`` → ``transform`` → ``average`` → ``quality`` →
``write`` → the runner writes the products (staged, then renamed into place), adds provenance
and records the unit in the ledger. A failed unit is reported and does not stop the others.

Only the runner touches the output tree. :func:`process_unit` is a top-level function taking
picklable arguments so executors can run units in other processes.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from magfw import __version__
from magfw.config import state_dir
from magfw.context import Inputs, Product, UnitContext
from magfw.errors import MagfwError, UsageError
from magfw.io.checksum import sha256_file
from magfw.ledger import Ledger, LedgerEntry, describe_changes
from magfw.period import Period, Unit, plan_units
from magfw.plugins import Hooks, get_hooks, hooks_from_spec

log = logging.getLogger("magfw.runner")
Status = Literal["ok", "failed", "skipped"]
SIMULATED_SOURCE = "simulated"


@dataclass(frozen=True)
class RunRequest:
    """What ``magfw run`` asks for."""

    mission: str
    level: str
    period: Period
    out_dir: Path
    source: str | None = None
    spacecraft: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    force: bool = False
    dry_run: bool = False
    workers: int = 1
    seed: int = 0


@dataclass
class UnitResult:
    """How one unit ended."""

    unit: Unit
    status: Status
    message: str = ""
    outputs: list[Path] = field(default_factory=list)
    vectors: int = 0
    duration_s: float = 0.0
    entry: LedgerEntry | None = None


@dataclass
class RunSummary:
    """The end of a run: every unit's result and the totals."""

    results: list[UnitResult]
    wall_s: float

    def count(self, status: Status) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def vectors(self) -> int:
        return sum(r.vectors for r in self.results)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0

    @property
    def vectors_per_s(self) -> float:
        return self.vectors / self.wall_s if self.wall_s > 0 else 0.0


@dataclass(frozen=True)
class UnitJob:
    """Everything a (possibly remote) worker needs to process one unit; picklable."""

    mission: str
    level: str
    unit: Unit
    spacecraft: str | None
    source: str  # local directory or URL of the archive
    out_dir: Path
    options: dict[str, Any]
    simulated: bool
    force: bool
    previous: LedgerEntry | None
    unit_id: str


def unit_id(mission: str, level: str, spacecraft: str | None, unit: Unit) -> str:
    """The ledger key of a unit: ``mission/level/spacecraft/key``."""
    return f"{mission}/{level}/{spacecraft or '-'}/{unit.key}"


def simulated_root(out_dir: Path, mission: str, spacecraft: str | None, seed: int) -> Path:
    """Where ``--source simulated`` keeps a mission's simulated archive in the output tree."""
    return state_dir(out_dir) / "simulated" / mission / (spacecraft or "all") / f"seed{seed}"


def ensure_simulated(hooks: Hooks, request: RunRequest, spacecraft: str | None) -> Path:
    """Simulate the request's period once (a marker records each period done); return root."""
    root = simulated_root(request.out_dir, request.mission, spacecraft, request.seed)
    marker = root / ".magfw-simulated" / f"{request.period.start}..{request.period.end}"
    if not marker.exists():
        log.info("simulating %s %s into %s", request.mission, request.period, root)
        hooks.simulate(request.mission, request.period, root, spacecraft, request.seed)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    return root


def _versions(hooks: Hooks, job: UnitJob, inputs: Inputs) -> dict[str, Any]:
    mission = hooks.registry.get(job.mission)
    level = mission.level(job.level)
    affecting = {o.name for o in level.options if o.affects_output}
    return {
        "magfw": __version__,
        "plugin": hooks.plugin_version(job.mission),
        "definitions": {p.id: p.digest() for p in mission.level_products(job.level)},
        "options": {k: v for k, v in sorted(job.options.items()) if k in affecting},
        "tables": dict(sorted(inputs.versions.items())),
    }


def _outputs_intact(out_dir: Path, entry: LedgerEntry) -> bool:
    for o in entry.outputs:
        p = out_dir / o["path"]
        if not p.is_file() or p.stat().st_size != o["size"]:
            return False
    return True


def _provenance_attrs(ctx: UnitContext, product: Product, inputs: Inputs, hooks: Hooks
                      ) -> dict[str, Any]:
    names = product.definition.provenance
    attrs: dict[str, Any] = {}
    data_inputs = [f.name for f in inputs.files if f.role not in ("kernel", "calibration")]
    if names.inputs:
        attrs[names.inputs] = data_inputs or ["none"]
    if names.software:
        attrs[names.software] = f"magfw {__version__}; {hooks.plugin_version(ctx.mission.id)}"
    if names.created:
        attrs[names.created] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if names.calibration:
        cal = [f"{k}={v}" for k, v in sorted(inputs.versions.items()) if "kernel" not in k]
        cal += [f.name for f in inputs.by_role("calibration")]
        attrs[names.calibration] = cal or ["none"]
    if names.kernels:
        attrs[names.kernels] = [f.name for f in inputs.by_role("kernel")] or ["none"]
    if names.simulated:
        attrs[names.simulated] = ("SIMULATED by magfw: not real data" if ctx.simulated
                                  else "observed")
    if names.reason:
        attrs[names.reason] = ctx.reason or "first version"
    return attrs


def _write_products(ctx: UnitContext, products: list[Product], inputs: Inputs, hooks: Hooks
                    ) -> list[dict[str, Any]]:
    """Write every product into a staging directory, then move all into place together."""
    from magfw.io.products import write_product

    stage = state_dir(ctx.out_dir) / "staging" / uuid.uuid4().hex
    try:
        targets: list[tuple[Path, str]] = []
        for product in products:
            d = product.definition
            fields = dict(product.fields)
            if d.version.field in d.filename.fields:
                fields[d.version.field] = (ctx.version if d.version.policy == "increment"
                                           else d.version.start)
            rel = d.filename.format(**fields)
            written = write_product(product, stage / rel, _provenance_attrs(ctx, product, inputs,
                                                                            hooks))
            targets += [(p, d.id) for p in written]
        outputs = []
        for staged, product_id in targets:
            rel = staged.relative_to(stage)
            final = ctx.out_dir / rel
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, final)
            outputs.append({"path": rel.as_posix(), "product": product_id,
                            "sha256": sha256_file(final), "size": final.stat().st_size})
        return outputs
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def process_unit(job: UnitJob, hooks: Hooks | None = None) -> UnitResult:
    """Fetch, decide, process and write one unit. Never raises for a unit's own failure."""
    from magfw.fetch import open_archive

    hooks = hooks or get_hooks()
    t0 = time.perf_counter()
    started = time.time()
    mission = hooks.registry.get(job.mission)
    versions: dict[str, Any] = {}
    inputs = Inputs()
    ctx = None
    try:
        archive = open_archive(job.source, state_dir(job.out_dir) / "cache")
        ctx = UnitContext(mission=mission, level=job.level, unit=job.unit,
                          spacecraft=job.spacecraft, archive=archive, out_dir=job.out_dir,
                          cache_dir=state_dir(job.out_dir) / "cache", registry=hooks.registry,
                          options=dict(job.options), simulated=job.simulated)
        inputs = hooks.fetch(ctx)
        versions = _versions(hooks, job, inputs)
        records = [f.record() for f in inputs.files]
        digest = inputs.digest()
        if inputs.skip_reason:
            return _done(job, "skipped", inputs.skip_reason, t0, started, versions, records,
                         digest)
        prev = job.previous
        if prev is not None:
            reason = describe_changes(prev, records, versions)
            unchanged = reason is None and prev.inputs_digest == digest
            if unchanged and not job.force and _outputs_intact(job.out_dir, prev):
                when = datetime.fromtimestamp(prev.started, UTC).strftime("%Y-%m-%d %H:%M")
                return _done(job, "skipped", f"unchanged since {when} UTC", t0, started, versions,
                             records, digest, vectors=0, product_version=prev.product_version)
            base = prev.product_version if prev.product_version is not None else 0
            ctx.version = base + (1 if reason else 0)
            ctx.reason = reason or ("rerun forced" if job.force else "earlier outputs missing")
        else:
            starts = [p.version.start for p in mission.level_products(job.level)
                      if p.version.policy == "increment"]
            ctx.version = max(starts, default=0)

        data = hooks.read(ctx, inputs)
        for step in (hooks.calibrate, hooks.correct, hooks.transform, hooks.average,
                     hooks.quality):
            data = step(ctx, data)
        products = hooks.write(ctx, data)
        outputs = _write_products(ctx, products, inputs, hooks)
        msg = f"{len(outputs)} files" + (f" (v{ctx.version}: {ctx.reason})" if prev else "")
        return _done(job, "ok", msg, t0, started, versions, records, digest,
                     vectors=ctx.vectors, product_version=ctx.version, reason=ctx.reason,
                     outputs=outputs)
    except MagfwError as exc:
        log.debug("unit %s failed", job.unit_id, exc_info=True)
        return _done(job, "failed", str(exc), t0, started, versions,
                     [f.record() for f in inputs.files], None,
                     vectors=ctx.vectors if ctx else 0)
    except Exception as exc:  # a bug in a step: report it, keep the traceback in the log
        log.error("unit %s: internal error\n%s", job.unit_id, traceback.format_exc())
        return _done(job, "failed", f"unit {job.unit.key}: internal error {type(exc).__name__}: "
                     f"{exc} (traceback in the log)", t0, started, versions,
                     [f.record() for f in inputs.files], None)


def _process_in_worker(job: UnitJob, spec: tuple[tuple[str, object, str | None], ...]) -> UnitResult:
    """:func:`process_unit` in a worker process, over the caller's plugins."""
    return process_unit(job, hooks_from_spec(spec))


def _done(job: UnitJob, status: Status, message: str, t0: float, started: float,
          versions: dict[str, Any], inputs: list[dict[str, Any]], digest: str | None, *,
          vectors: int = 0, product_version: int | None = None, reason: str | None = None,
          outputs: list[dict[str, Any]] | None = None) -> UnitResult:
    duration = time.perf_counter() - t0
    entry = LedgerEntry(unit=job.unit_id, status=status, versions=versions, inputs=inputs,
                        outputs=outputs or [], inputs_digest=digest,
                        product_version=product_version, reason=reason,
                        error=message if status == "failed" else None, vectors=vectors,
                        started=started, duration_s=duration)
    paths = [job.out_dir / o["path"] for o in outputs or []]
    return UnitResult(job.unit, status, message, paths, vectors, duration, entry)


class Runner:
    """Plans and runs a request; records every unit in the ledger of the output tree."""

    def __init__(self, hooks: Hooks | None = None) -> None:
        self.hooks = hooks or get_hooks()

    def plan(self, request: RunRequest) -> tuple[list[UnitJob], str | None]:
        """The jobs of a request (and the resolved spacecraft); usage errors raise here."""
        mission = self.hooks.registry.get(request.mission)
        level = mission.level(request.level)
        spacecraft = mission.resolve_spacecraft(request.spacecraft)  # usage errors first
        if not level.implemented:
            raise MagfwError(None, f"{mission.id} {level.name}: not implemented yet")
        source, simulated = request.source, False
        if source is None:
            raise UsageError(None, f"no --source for {mission.id}: give an archive directory, "
                             "a URL, or 'simulated'")
        if source == SIMULATED_SOURCE:
            simulated = True
            source = str(simulated_root(request.out_dir, mission.id, spacecraft, request.seed))
        ledger = Ledger(state_dir(request.out_dir) / "ledger.sqlite")
        jobs = []
        for unit in plan_units(request.period, level.unit):
            uid = unit_id(mission.id, level.name, spacecraft, unit)
            jobs.append(UnitJob(mission.id, level.name, unit, spacecraft, source,
                                request.out_dir, dict(request.options), simulated, request.force,
                                ledger.last_ok(uid), uid))
        return jobs, spacecraft

    def run(self, request: RunRequest,
            on_result: Callable[[UnitResult], None] | None = None) -> RunSummary:
        t0 = time.perf_counter()
        jobs, spacecraft = self.plan(request)
        if request.dry_run:
            results = [UnitResult(j.unit, "skipped", "dry run: would process" if j.previous is None
                                  else "dry run: processed before, would check for changes")
                       for j in jobs]
            return RunSummary(results, time.perf_counter() - t0)
        if jobs and jobs[0].simulated:
            ensure_simulated(self.hooks, request, spacecraft)
        ledger = Ledger(state_dir(request.out_dir) / "ledger.sqlite")
        results: list[UnitResult] = []

        def finish(result: UnitResult) -> None:
            if result.entry is not None:
                ledger.record(result.entry)
            results.append(result)
            if on_result:
                on_result(result)

        if request.workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                finish(process_unit(job, self.hooks))
        else:
            with ProcessPoolExecutor(max_workers=request.workers) as pool:
                spec = self.hooks.plugin_spec()
                futures = {pool.submit(_process_in_worker, job, spec): job for job in jobs}
                for fut in as_completed(futures):
                    try:
                        finish(fut.result())
                    except Exception as exc:  # the worker process died
                        job = futures[fut]
                        finish(UnitResult(job.unit, "failed", f"unit {job.unit.key}: worker "
                                          f"died: {type(exc).__name__}: {exc}"))
        results.sort(key=lambda r: r.unit)
        return RunSummary(results, time.perf_counter() - t0)

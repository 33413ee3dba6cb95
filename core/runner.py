"""The runner: plans units of work from a PERIOD and runs a mission's hooks on each.

For each unit: ``fetch`` → ledger check (skip if inputs and versions are unchanged, unless
forced) → ``read`` → ``calibrate`` → ``correct`` → ``transform`` → ``average`` → ``quality`` →
``write`` → the runner writes the products (staged, then renamed into place), adds provenance
and records the unit in the ledger. A failed unit is reported and does not stop the others.

Only the runner touches the output tree. :func:`process_unit` is a top-level function taking
picklable arguments so executors can run units in other processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import resource
import shutil
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from magfw import __version__
from magfw.config import load_config, mission_setting, state_dir
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
    executor: str = "local"
    scheduler: str | None = None


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
    mission: str = ""
    level: str = ""
    peak_rss_mb: float = 0.0  # the processing process's peak resident memory so far


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


def ensure_simulated(hooks: Hooks, mission: str, period: Period, out_dir: Path,
                     spacecraft: str | None, seed: int) -> Path:
    """Simulate the days of ``period`` not simulated before (a marker per day), in contiguous
    stretches; return the simulated archive's root."""
    root = simulated_root(out_dir, mission, spacecraft, seed)
    markers = root / ".magfw-simulated"
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
        hooks.simulate(mission, part, root, spacecraft, seed)
        markers.mkdir(parents=True, exist_ok=True)
        for d in days:
            (markers / d.isoformat()).touch()
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
    if product.inputs is not None:  # the product says which of the unit's inputs it came from
        data_inputs = list(product.inputs)
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
        if inputs.notes:
            msg += "; " + "; ".join(inputs.notes)
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
    """:func:`process_unit` in a worker process, over the caller's plugins; the worker logs to
    the output tree's log like the coordinator."""
    logger = logging.getLogger("magfw")
    if not any(isinstance(h, logging.FileHandler) for h in logger.handlers):
        path = state_dir(job.out_dir) / "logs" / "magfw.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path)
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    return process_unit(job, hooks_from_spec(spec))


def peak_rss_mb() -> float:
    """This process's peak resident memory (MiB). Linux's VmHWM, which starts afresh in a new
    program; ``ru_maxrss`` would carry the parent's peak across fork and exec."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
    rss_mb = peak_rss_mb()
    return UnitResult(job.unit, status, message, paths, vectors, duration, entry, job.mission,
                      job.level, rss_mb)


@dataclass
class PlannedJob:
    """A job and the indices (in the plan) of the jobs it must wait for."""

    job: UnitJob
    after: list[int] = field(default_factory=list)


class Runner:
    """Plans and runs a request; records every unit in the ledger of the output tree.

    Levels a level ``needs`` (``mission/level``) are planned too, for the same spacecraft and
    period, and each unit waits for the needed units it overlaps (finished, whatever their
    status: a product with a missing day marks it as fill). Units already done are skipped by
    the ledger, so this costs little when the needed products exist.
    """

    def __init__(self, hooks: Hooks | None = None) -> None:
        self.hooks = hooks or get_hooks()

    def _source(self, mission_id: str, request: RunRequest) -> str | None:
        if mission_id == request.mission or request.source == SIMULATED_SOURCE:
            return request.source
        return (mission_setting(load_config(), mission_id, "source")
                or self.hooks.registry.get(mission_id).default_source)

    def plan(self, request: RunRequest) -> tuple[list[UnitJob], str | None]:
        """The jobs of the requested level alone (and the resolved spacecraft)."""
        graph, spacecraft = self.plan_graph(request)
        top = [p.job for p in graph if (p.job.mission, p.job.level) == (request.mission,
                                                                           request.level)]
        return top, spacecraft

    def plan_graph(self, request: RunRequest) -> tuple[list[PlannedJob], str | None]:
        """Every job of the request and of the levels it needs, dependencies first."""
        mission = self.hooks.registry.get(request.mission)
        level = mission.level(request.level)
        spacecraft = mission.resolve_spacecraft(request.spacecraft)  # usage errors first
        if not level.implemented:
            raise MagfwError(None, f"{mission.id} {level.name}: not implemented yet")
        if request.source is None:
            raise UsageError(None, f"no --source for {mission.id}: give an archive directory, "
                             "a URL, or 'simulated'")
        ledger = Ledger(state_dir(request.out_dir) / "ledger.sqlite")
        planned: list[PlannedJob] = []
        by_level: dict[tuple[str, str], list[int]] = {}

        def add(mission_id: str, level_name: str, chain: tuple[str, ...]) -> None:
            key = (mission_id, level_name)
            if key in by_level:
                return
            if f"{mission_id}/{level_name}" in chain:
                raise UsageError(None, f"levels need each other in a cycle: {' -> '.join(chain)}")
            m = self.hooks.registry.get(mission_id)
            lvl = m.level(level_name)
            source = self._source(mission_id, request)
            needed: list[int] = []
            for need in lvl.needs:
                dep_mission, _, dep_level = need.partition("/")
                if dep_mission not in self.hooks.registry:  # not installed/loaded: use files
                    log.info("%s %s needs %s, which is not loaded: existing products are used",
                             mission_id, level_name, need)
                    continue
                dep = self.hooks.registry.get(dep_mission).level(dep_level)
                if dep.implemented and self._source(dep_mission, request) is not None:
                    add(dep_mission, dep_level, (*chain, f"{mission_id}/{level_name}"))
                    needed += by_level.get((dep_mission, dep_level), [])
            if source is None:  # a needed level with no archive: use what is already there
                log.info("%s %s not planned: no source configured", mission_id, level_name)
                return
            simulated = source == SIMULATED_SOURCE
            sc = m.resolve_spacecraft(spacecraft if m.spacecraft else None)
            root = str(simulated_root(request.out_dir, mission_id, sc, request.seed)) if simulated \
                else source
            options = dict(request.options) if mission_id == request.mission else {}
            if mission_id == request.mission and level_name != request.level:
                options = {o.name: o.default for o in lvl.options}
            indices = []
            for unit in plan_units(request.period, lvl.unit):
                uid = unit_id(mission_id, level_name, sc, unit)
                after = [i for i in needed if planned[i].job.unit.start <= unit.end
                         and planned[i].job.unit.end >= unit.start]
                job = UnitJob(mission_id, level_name, unit, sc, root, request.out_dir, options,
                              simulated, request.force and key == (request.mission, request.level),
                              ledger.last_ok(uid), uid)
                indices.append(len(planned))
                planned.append(PlannedJob(job, after))
            by_level[key] = indices

        add(mission.id, level.name, ())
        return planned, spacecraft

    def run(self, request: RunRequest,
            on_result: Callable[[UnitResult], None] | None = None) -> RunSummary:
        t0 = time.perf_counter()
        graph, _ = self.plan_graph(request)
        if request.dry_run:
            results = [UnitResult(p.job.unit, "skipped", "dry run: would process"
                                  if p.job.previous is None else
                                  "dry run: processed before, would check for changes",
                                  mission=p.job.mission, level=p.job.level) for p in graph]
            return RunSummary(results, time.perf_counter() - t0)
        with run_lock(request.out_dir):
            return self._run_locked(request, graph, on_result, t0)

    def _run_locked(self, request: RunRequest, graph: list[PlannedJob],
                    on_result: Callable[[UnitResult], None] | None, t0: float) -> RunSummary:
        for mission_id, sc in dict.fromkeys((p.job.mission, p.job.spacecraft) for p in graph
                                            if p.job.simulated):
            ensure_simulated(self.hooks, mission_id, request.period, request.out_dir, sc,
                             request.seed)
        clean_stale_staging(request.out_dir)
        ledger = Ledger(state_dir(request.out_dir) / "ledger.sqlite")
        results: list[UnitResult] = []

        def finish(result: UnitResult) -> None:
            if result.entry is not None:
                ledger.record(result.entry)
            results.append(result)
            if on_result:
                on_result(result)

        if request.executor == "local" and (request.workers <= 1 or len(graph) <= 1):
            for p in graph:  # planned dependencies first
                finish(process_unit(p.job, self.hooks))
        else:
            _run_graph(graph, request, self.hooks.plugin_spec(), finish)
        results.sort(key=lambda r: (r.mission != request.mission or r.level != request.level,
                                    r.mission, r.level, r.unit))
        return RunSummary(results, time.perf_counter() - t0)


def _run_graph(graph: list[PlannedJob], request: RunRequest,
               spec: tuple[tuple[str, object, str | None], ...],
               finish: Callable[[UnitResult], None]) -> None:
    """Submit jobs whose dependencies have finished, and collect their results.

    A local worker that dies breaks the whole process pool, and every unit it held fails with
    it without telling which one killed it. Those units are retried once each, alone, in a
    one-worker pool: a bystander then succeeds and the culprit is reported. (On Dask the
    scheduler retries a unit whose worker died once, then raises ``KilledWorker``.)
    """
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    from magfw.executors import LocalPool, dask_executor

    done: set[int] = set()
    waiting = list(range(len(graph)))
    suspects: list[int] = []
    running: dict[Any, int] = {}
    isolated: dict[Any, int] = {}
    with contextlib.ExitStack() as stack:
        pool = alone = None
        if request.executor == "dask":
            executor = stack.enter_context(dask_executor(request.workers, request.scheduler))
        else:
            pool, alone = LocalPool(request.workers), LocalPool(1)
            stack.callback(pool.shutdown)
            stack.callback(alone.shutdown)
            executor = pool.executor

        def failed(i: int, why: str) -> UnitResult:
            job = graph[i].job
            return UnitResult(job.unit, "failed", f"unit {job.unit.key}: {why}",
                              mission=job.mission, level=job.level)

        while waiting or running or isolated or suspects:
            for i in [i for i in waiting if all(d in done for d in graph[i].after)]:
                waiting.remove(i)
                running[executor.submit(_process_in_worker, graph[i].job, spec)] = i
            if suspects and not isolated and alone is not None:
                i = suspects.pop(0)
                isolated[alone.executor.submit(_process_in_worker, graph[i].job, spec)] = i
            finished, _ = wait([*running, *isolated], return_when=FIRST_COMPLETED)
            broken = False
            for fut in finished:
                alone_run = fut in isolated
                i = isolated.pop(fut) if alone_run else running.pop(fut)
                try:
                    result = fut.result()
                except BrokenProcessPool:
                    if not alone_run:
                        broken = True
                        suspects.append(i)
                        continue
                    result = failed(i, "its worker process died (twice; the second time alone)")
                    alone.rebuild()  # type: ignore[union-attr]
                except Exception as exc:  # Dask: KilledWorker after its retry; a broken job
                    result = failed(i, f"worker died: {type(exc).__name__}: {exc}")
                done.add(i)
                finish(result)
            if broken and pool is not None:  # the pool is gone: its other units are suspects too
                suspects += [running.pop(f) for f in list(running)]
                executor = pool.rebuild()


def clean_stale_staging(out_dir: Path) -> None:
    """Remove staging folders left by killed runs (called under the run lock: none is live)."""
    staging = state_dir(out_dir) / "staging"
    if staging.is_dir():
        for d in staging.iterdir():
            shutil.rmtree(d, ignore_errors=True)


@contextlib.contextmanager
def run_lock(out_dir: Path) -> Iterator[None]:
    """Exclusive use of an output tree by one run (an OS lock: released if the run is killed)."""
    path = state_dir(out_dir) / "run.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            raise MagfwError(out_dir, f"another magfw run (pid {holder}) is writing this output "
                             "tree; wait for it or use another --out") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)

"""The runner: plans a request's units, runs each unit's steps, and commits what they write.

The runner is the only writer of an output tree. For each unit (in dependency order, in this
process or in worker processes): take the unit's lock (:mod:`magfw.engine.locks`), recover any commit
a dead run left for it, read its last successful run from the ledger, then in a worker
:func:`~magfw.engine.process.process_unit` fetches, decides (skip if unchanged), runs the level's
steps and stages the products; back in this process :func:`~magfw.engine.commit.commit_outputs`
moves them into place together and records the unit in the ledger, and the
``magfw_product_written`` hook is told of each file. After the last unit:
``magfw_run_finished``. A failed unit is reported and does not stop the others.

Several runs may share an output tree: units are locked one by one, so a run that wants a unit
another run is processing waits for it (then finds it done), and runs on different units go on
side by side.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from magfw.config import state_dir
from magfw.engine.commit import commit_outputs, recover
from magfw.engine.jobs import RunRequest, RunSummary, UnitJob, UnitResult
from magfw.engine.ledger import Ledger
from magfw.engine.locks import RunStage, UnitLock
from magfw.engine.plan import Plan, PlannedJob, kept_warnings, make_plan
from magfw.engine.process import Pending, process_unit, process_unit_behind
from magfw.engine.simulation import ensure_simulated
from magfw.engine.versioning import superseded
from magfw.errors import MagfwError
from magfw.plugin.manager import Hooks, PluginSpec, get_hooks, hooks_from_spec

log = logging.getLogger("magfw.engine.runner")

#: How often a run looks again at units another run holds (seconds).
POLL_S = 0.2


def _process_in_worker(job: UnitJob, spec: PluginSpec) -> UnitResult:
    """:func:`process_unit` in a worker process, over the caller's plugins; the worker logs to
    the output tree's log like the coordinator."""
    logger = logging.getLogger("magfw")
    if not any(isinstance(h, logging.FileHandler) for h in logger.handlers):
        path = state_dir(job.out_dir) / "logs" / "magfw.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path)
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s")
        )
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    return process_unit(job, hooks_from_spec(spec))


class _Coordinator:
    """Takes units' locks, commits their staged files, records them, and tells the hooks."""

    def __init__(
        self, hooks: Hooks, ledger: Ledger, stage: RunStage, on_result: Callable[[UnitResult], None] | None
    ) -> None:
        self.hooks = hooks
        self.ledger = ledger
        self.stage = stage
        self.on_result = on_result
        self.results: list[UnitResult] = []
        self.warnings: list[str] = []
        self._locks: dict[str, UnitLock] = {}

    def prepare(self, job: UnitJob, *, wait: bool) -> UnitJob | None:
        """Lock the unit and fill in its previous run; None if another run holds it."""
        lock = UnitLock(job.out_dir, job.unit_id)
        if not lock.acquire(wait=wait):
            return None
        self._locks[job.unit_id] = lock
        try:
            for line in recover(job.out_dir, self.ledger, job.unit_id):
                self.warnings.append(f"{job.unit_id}: {line}")
            previous = self.ledger.last_ok(job.unit_id)
        except Exception:
            self._release(job)
            raise
        return dataclasses.replace(job, previous=previous, run_id=self.stage.run_id, stage_dir=self.stage.dir)

    def _release(self, job: UnitJob) -> None:
        lock = self._locks.pop(job.unit_id, None)
        if lock is not None:
            lock.release()

    def finish(self, job: UnitJob, result: UnitResult) -> None:
        """Commit (or record) the unit's result and release its lock."""
        try:
            if result.status == "ok" and result.entry is not None:
                self._commit(job, result)
            elif result.entry is not None:
                self.ledger.record(result.entry)
        finally:
            self._release(job)
        self.results.append(result)
        sc = f" ST{job.spacecraft}" if job.spacecraft else ""
        self.warnings += [f"{job.mission} {job.level}{sc} {job.unit.key}: {w}" for w in result.warnings]
        if result.status == "ok" and result.entry is not None:
            info = _info(job, result)
            for out in result.entry.outputs:
                definition = self.hooks.registry.get(job.mission).product(out["product"])
                self.warnings += self.hooks.product_written(info, job.out_dir / out["path"], definition)
        if self.on_result:
            self.on_result(result)

    def _commit(self, job: UnitJob, result: UnitResult) -> None:
        assert result.entry is not None
        try:
            if result.commit_dir is not None and result.staged:
                commit_outputs(
                    job.out_dir,
                    self.ledger,
                    result.commit_dir,
                    result.staged,
                    result.entry,
                    self._retired(job, result),
                )
            else:  # a unit that legitimately wrote nothing
                self.ledger.record(result.entry)
        except MagfwError as exc:
            log.warning("unit %s: commit failed: %s", job.unit_id, exc, exc_info=True)
            result.status, result.message = "failed", str(exc)
            result.entry.status, result.entry.error = "failed", str(exc)
            result.entry.outputs = []
            self.ledger.record(result.entry)
            return
        result.outputs = [job.out_dir / o["path"] for o in result.entry.outputs]
        result.staged, result.commit_dir = [], None

    def _retired(self, job: UnitJob, result: UnitResult) -> list[str]:
        """Earlier outputs of the unit that the new commit supersedes without writing a newer
        version of the same file (:func:`magfw.engine.versioning.superseded`): they are
        removed with it."""
        if job.previous is None:
            return []
        mission = self.hooks.registry.get(job.mission)
        return superseded(
            job.previous.outputs,
            [(s.product, s.rel) for s in result.staged],
            {d.id: d for d in mission.products},
        )

    def release_all(self) -> None:
        for lock in self._locks.values():
            lock.release()
        self._locks.clear()


def _info(job: UnitJob, result: UnitResult) -> Any:
    from magfw.plugin.context import UnitInfo

    return UnitInfo(
        mission=job.mission,
        level=job.level,
        unit=job.unit,
        spacecraft=job.spacecraft,
        out_dir=job.out_dir,
        version=result.version or 0,
        reason=result.reason,
        simulated=result.simulated,
        run_id=job.run_id,
    )


class Runner:
    """Plans and runs a request; records every unit in the ledger of the output tree."""

    def __init__(self, hooks: Hooks | None = None) -> None:
        self.hooks = hooks or get_hooks()

    def plan(self, request: RunRequest) -> tuple[list[UnitJob], str | None]:
        """The jobs of the requested level alone (and the resolved spacecraft)."""
        graph, spacecraft = self.plan_graph(request)
        top = [p.job for p in graph if (p.job.mission, p.job.level) == (request.mission, request.level)]
        return top, spacecraft

    def plan_graph(self, request: RunRequest) -> tuple[list[PlannedJob], str | None]:
        """Every job of the request and of the levels it needs, dependencies first."""
        plan = self.make_plan(request)
        return plan.jobs, plan.spacecraft

    def make_plan(self, request: RunRequest) -> Plan:
        """The request's plan (:func:`magfw.engine.plan.make_plan`): its jobs and warnings."""
        return make_plan(self.hooks, request)

    def run(
        self,
        request: RunRequest,
        on_result: Callable[[UnitResult], None] | None = None,
        plan: Plan | None = None,
    ) -> RunSummary:
        """Run ``request``: its plan (from :meth:`make_plan`, made here when not given: a run
        is planned once), every unit, the commits and the notifications."""
        t0 = time.perf_counter()
        plan = plan or self.make_plan(request)
        graph = plan.jobs
        if request.dry_run:
            return RunSummary(
                results=self._dry_run(request, graph),
                wall_s=time.perf_counter() - t0,
                request=request,
                warnings=plan.warnings,
            )
        out_dir = Path(request.out_dir)
        ledger = Ledger(state_dir(out_dir) / "ledger.sqlite")
        warnings = [f"recovery: {line}" for line in recover(out_dir, ledger)]
        for mission_id, sc in dict.fromkeys(
            (p.job.mission, p.job.spacecraft) for p in graph if p.job.simulated
        ):
            ensure_simulated(self.hooks, mission_id, request.period, out_dir, sc, request.seed)
        with RunStage(out_dir) as stage:
            coord = _Coordinator(self.hooks, ledger, stage, on_result)
            try:
                if request.executor == "local" and (request.workers <= 1 or len(graph) <= 1):
                    _run_in_process(graph, coord, self.hooks)
                else:
                    _run_graph(graph, request, self.hooks.plugin_spec(), coord)
            finally:
                coord.release_all()
        results = sorted(
            coord.results,
            key=lambda r: (
                r.mission != request.mission or r.level != request.level,
                r.mission,
                r.level,
                r.unit,
            ),
        )
        warnings += plan.warnings + kept_warnings(results)
        summary = RunSummary(
            results=results,
            wall_s=time.perf_counter() - t0,
            request=request,
            warnings=warnings + coord.warnings,
        )
        summary.warnings += self.hooks.run_finished(summary)
        return summary

    def _dry_run(self, request: RunRequest, graph: list[PlannedJob]) -> list[UnitResult]:
        """What each unit would do, and why; nothing processed or written
        (:mod:`magfw.engine.dryrun`)."""
        from magfw.engine.dryrun import forecast

        return forecast(self.hooks, request, graph)


def _run_in_process(graph: list[PlannedJob], coord: _Coordinator, hooks: Hooks) -> None:
    """The units one after another in this process, dependencies first. Each unit's files are
    written and flushed to disk behind the computation of the next unit, and committed right
    after it (at once when the next unit needs it): the disk and the CPU work side by side."""
    behind: tuple[int, UnitJob, Pending] | None = None
    for i, p in enumerate(graph):
        if behind is not None and behind[0] in p.after:
            coord.finish(behind[1], behind[2].result())
            behind = None
        job = coord.prepare(p.job, wait=True)
        assert job is not None
        pending = process_unit_behind(job, hooks)
        if behind is not None:
            coord.finish(behind[1], behind[2].result())
        behind = (i, job, pending)
    if behind is not None:
        coord.finish(behind[1], behind[2].result())


def _run_graph(
    graph: list[PlannedJob],
    request: RunRequest,
    spec: PluginSpec,
    coord: _Coordinator,
) -> None:
    """Submit jobs whose dependencies have finished and whose units are free, and collect
    their results.

    A local worker that dies breaks the whole process pool, and every unit it held fails with
    it without telling which one killed it. Those units are retried once each, alone, in a
    one-worker pool: a bystander then succeeds and the culprit is reported. (On Dask the
    scheduler retries a unit whose worker died once, then raises ``KilledWorker``.)
    """
    from concurrent.futures import FIRST_COMPLETED, wait

    from magfw.engine.executors import LocalPool, dask_executor

    with contextlib.ExitStack() as stack:
        if request.executor == "dask":
            run = _GraphRun(
                graph, spec, coord, stack.enter_context(dask_executor(request.workers, request.scheduler))
            )
        else:
            pool, alone = LocalPool(request.workers), LocalPool(1)
            stack.callback(pool.shutdown)
            stack.callback(alone.shutdown)
            run = _GraphRun(graph, spec, coord, pool.executor, pool, alone)
        while run.waiting or run.running or run.isolated or run.suspects:
            held = run.submit_ready()
            run.submit_suspect()
            if not run.running and not run.isolated:
                time.sleep(POLL_S)
                continue
            finished, _ = wait(
                [*run.running, *run.isolated], return_when=FIRST_COMPLETED, timeout=POLL_S if held else None
            )
            run.collect(finished)


class _GraphRun:
    """The state of one graph run on a pool: which jobs wait, run, ran, or are suspected of
    having killed their pool."""

    def __init__(
        self,
        graph: list[PlannedJob],
        spec: PluginSpec,
        coord: _Coordinator,
        executor: Any,
        pool: Any = None,
        alone: Any = None,
    ) -> None:
        self.graph, self.spec, self.coord = graph, spec, coord
        self.executor, self.pool, self.alone = executor, pool, alone
        self.done: set[int] = set()
        self.waiting = list(range(len(graph)))
        self.suspects: list[int] = []
        self.running: dict[Any, int] = {}
        self.isolated: dict[Any, int] = {}
        self.jobs: dict[int, UnitJob] = {}

    def submit_ready(self) -> bool:
        """Submit every waiting job whose dependencies are done; True if another run holds
        one of their units (look again soon)."""
        held = False
        for i in [i for i in self.waiting if all(d in self.done for d in self.graph[i].after)]:
            job = self.coord.prepare(self.graph[i].job, wait=False)
            if job is None:
                held = True
                continue
            self.waiting.remove(i)
            self.jobs[i] = job
            self.running[self.executor.submit(_process_in_worker, job, self.spec)] = i
        return held

    def submit_suspect(self) -> None:
        """Retry one unit of a broken pool alone, if none is being retried."""
        if self.suspects and not self.isolated and self.alone is not None:
            i = self.suspects.pop(0)
            self.isolated[self.alone.executor.submit(_process_in_worker, self.jobs[i], self.spec)] = i

    def collect(self, finished: Any) -> None:
        """Finish the units whose futures are done; a broken pool makes its other units
        suspects and is rebuilt."""
        from concurrent.futures.process import BrokenProcessPool

        broken = False
        for fut in finished:
            alone_run = fut in self.isolated
            i = self.isolated.pop(fut) if alone_run else self.running.pop(fut)
            try:
                result = fut.result()
            except BrokenProcessPool:
                if not alone_run:
                    broken = True
                    self.suspects.append(i)
                    continue
                result = self._failed(i, "its worker process died (twice; the second time alone)")
                self.alone.rebuild()
            except Exception as exc:  # Dask: KilledWorker after its retry; a broken job
                result = self._failed(i, f"worker died: {type(exc).__name__}: {exc}")
            self.done.add(i)
            self.coord.finish(self.jobs[i], result)
        if broken and self.pool is not None:  # the pool is gone: its other units are suspects too
            self.suspects += [self.running.pop(f) for f in list(self.running)]
            self.executor = self.pool.rebuild()

    def _failed(self, i: int, why: str) -> UnitResult:
        job = self.graph[i].job
        return UnitResult(
            unit=job.unit,
            status="failed",
            message=f"unit {job.unit.key}: {why}",
            mission=job.mission,
            level=job.level,
            spacecraft=job.spacecraft,
        )

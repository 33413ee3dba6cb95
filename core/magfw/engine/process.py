"""Processing one unit (in whichever process runs it): fetch, decide, run the steps, stage.

:func:`process_unit` takes a picklable :class:`~magfw.engine.jobs.UnitJob` and returns a
:class:`~magfw.engine.jobs.UnitResult` whose files are *staged* (written and hashed in the run's
staging folder), never in the output tree: the coordinator commits them
(:mod:`magfw.engine.commit`), so a unit's products appear together or not at all, and the runner is
the only writer of the tree. It never raises for a unit's own failure.
"""

from __future__ import annotations

import contextlib
import logging
import resource
import time
import traceback
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from magfw import __version__
from magfw.config import state_dir
from magfw.engine.jobs import StagedFile, Status, UnitJob, UnitResult
from magfw.engine.ledger import LedgerEntry
from magfw.engine.plan import keep_last_options, kept_text
from magfw.engine.provenance import calibration_entries, provenance_attrs, software_text
from magfw.engine.steps import fetch_inputs, run_steps
from magfw.engine.versioning import decide, file_version, outputs_intact
from magfw.errors import MagfwError, os_error
from magfw.io.checksum import Flushes, WrittenFile, write_behind
from magfw.io.digests import use_store
from magfw.io.finder import date_fields
from magfw.plugin.context import Inputs, Product, UnitContext
from magfw.plugin.manager import Hooks, get_hooks

log = logging.getLogger("magfw.engine.runner")


def unit_versions(hooks: Hooks, job: UnitJob, inputs: Inputs) -> dict[str, Any]:
    """Everything that, changed, makes a unit's products different: the ledger's versions."""
    mission = hooks.registry.get(job.mission)
    level = mission.level(job.level)
    affecting = {o.name for o in level.options if o.affects_output}
    return {
        "magfw": __version__,
        "plugin": hooks.plugin_version(job.mission),
        "definitions": {p.id: p.digest() for p in mission.level_products(job.level)},
        "options": {k: v for k, v in sorted(job.options.items()) if k in affecting},
        **inputs.versions(),
    }


def stage_products(
    ctx: UnitContext, products: list[Product], inputs: Inputs, software: str, commit_dir: Path
) -> list[StagedFile]:
    """Write every product under ``commit_dir`` (its final relative path below it), with
    provenance; return the staged files with their digests."""
    from magfw.io.products import write_product_files

    written: list[tuple[WrittenFile, str]] = []  # each file and its product
    seen: dict[str, str] = {}
    dates = date_fields(ctx.unit.start)
    for product in products:
        if product.payload_from is not None:  # a file describing those staged before it
            before = {w.path.relative_to(commit_dir).as_posix(): w.path for w, _ in written}
            product = replace(product, payload=product.payload_from(before))
        d = product.definition
        fields = {k: v for k, v in dates.items() if k in d.filename.fields}
        fields.update(product.fields)
        if d.version.field in d.filename.fields:
            fields[d.version.field] = file_version(d, ctx.version)
        rel = d.filename.format(**fields)
        if rel in seen:
            raise MagfwError(rel, f"written twice in one unit (products {seen[rel]} and {d.id})")
        seen[rel] = d.id
        attrs = provenance_attrs(ctx, product, inputs, software)
        try:
            written += [(w, d.id) for w in write_product_files(product, commit_dir / rel, attrs)]
        except OSError as exc:  # disk full, a file-size limit: name the product, not staging
            raise os_error(exc, ctx.out_dir / rel) from exc
    # the digests last: a file's is computed while the next ones are written
    return [
        StagedFile(
            staged=w.path,
            rel=w.path.relative_to(commit_dir).as_posix(),
            product=pid,
            sha256=w.sha256,
            size=w.size,
        )
        for w, pid in written
    ]


def open_context(
    hooks: Hooks, job: UnitJob, cache_dir: Path | None = None, read_cache: Path | None = None
) -> UnitContext:
    """The unit's context: its archives opened, simulated if any archive says so. Downloads
    go to the tree's cache, or to ``cache_dir`` (reusing ``read_cache``'s copies: a dry run)."""
    from magfw.fetch import open_archive

    cache = cache_dir or state_dir(job.out_dir) / "cache"
    archive = open_archive(job.source, cache, read_cache=read_cache)
    archives = {role: open_archive(src, cache, read_cache=read_cache) for role, src in job.sources.items()}
    simulated = job.simulated or any(a.is_simulated() for a in (archive, *archives.values()))
    return UnitContext(
        mission=hooks.registry.get(job.mission),
        level=job.level,
        unit=job.unit,
        spacecraft=job.spacecraft,
        archive=archive,
        out_dir=job.out_dir,
        cache_dir=cache,
        registry=hooks.registry,
        options=dict(job.options),
        simulated=simulated,
        archives=archives,
        run_id=job.run_id,
    )


def process_unit(job: UnitJob, hooks: Hooks | None = None) -> UnitResult:
    """Fetch, decide, process and stage one unit, its files on disk when this returns. Never
    raises for a unit's own failure."""
    return process_unit_behind(job, hooks, stage_behind=False).result()


@dataclass
class Pending:
    """A unit whose steps have run and whose files may still be being written (staged in the
    staging thread, flushed by the helper thread): :meth:`result` waits for both."""

    job: UnitJob
    outcome: Future[tuple[UnitResult, Flushes]]

    def result(self) -> UnitResult:
        """The unit's result, its staged files on disk (:func:`durable`)."""
        return durable(self.job, *self.outcome.result())


_STAGER: ThreadPoolExecutor | None = None


def _stager() -> ThreadPoolExecutor:
    """The thread that writes units' files behind the computation (one per process)."""
    global _STAGER
    if _STAGER is None:
        _STAGER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="magfw-stage")
    return _STAGER


def _now(value: tuple[UnitResult, Flushes]) -> Future[tuple[UnitResult, Flushes]]:
    done: Future[tuple[UnitResult, Flushes]] = Future()
    done.set_result(value)
    return done


def _failed(job: UnitJob, exc: BaseException, commit_dir: Path, flushes: Flushes) -> tuple[Status, str]:
    """How a unit's own failure is reported: one line (the traceback of a bug in the log);
    whatever it staged is discarded."""
    _discard(commit_dir, flushes)
    if isinstance(exc, MagfwError):
        log.warning("unit %s failed: %s", job.unit_id, exc, exc_info=exc.__cause__ is not None)
        return "failed", str(exc)
    if isinstance(exc, OSError):  # disk full, a file-size limit, a read-only folder...
        line = str(os_error(exc))
        log.warning("unit %s failed: %s", job.unit_id, line, exc_info=True)
        return "failed", line
    log.error("unit %s: internal error\n%s", job.unit_id, traceback.format_exc())
    return "failed", f"unit {job.unit.key}: internal error {type(exc).__name__}: {exc} (traceback in the log)"


def process_unit_behind(job: UnitJob, hooks: Hooks | None = None, *, stage_behind: bool = True) -> Pending:
    """:func:`process_unit`, returning once the unit's steps have run: its products are then
    written by the staging thread and flushed by the helper thread while the caller computes
    the next unit (``stage_behind``; else they are written here). :meth:`Pending.result`
    waits for them."""
    flushes = Flushes()
    hooks = hooks or get_hooks()
    t0, started = time.perf_counter(), time.time()
    versions: dict[str, Any] = {}
    inputs = Inputs()
    ctx: UnitContext | None = None
    step_s: dict[str, float] = {}
    commit_dir = (job.stage_dir or state_dir(job.out_dir) / "staging" / "unowned") / uuid.uuid4().hex
    kept: dict[str, tuple[Any, Any]] = {}

    def made(status: Status, message: str, **kw: Any) -> UnitResult:
        if kept and status != "failed":
            message += f"; {kept_text(kept)}"
        return _result(
            job, status, message, t0, started, versions, inputs, ctx, step_s=step_s, kept_options=kept, **kw
        )

    def done(status: Status, message: str, **kw: Any) -> Pending:
        return Pending(job, _now((made(status, message, **kw), flushes)))

    try:
        job, kept = keep_last_options(job, hooks.registry.get(job.mission).level(job.level))
        use_store(state_dir(job.out_dir) / "cache" / "digests.sqlite")  # inputs hashed once
        ctx = open_context(hooks, job)
        level = hooks.level_object(job.mission, job.level)
        who = hooks.plugin_version(job.mission)
        inputs = fetch_inputs(level, ctx, who, step_s)
        ctx.simulated = ctx.simulated or inputs.simulated
        versions = unit_versions(hooks, job, inputs)
        if inputs.skip_reason:
            return done("skipped", inputs.skip_reason)
        prev = job.previous
        definitions = hooks.registry.get(job.mission).level_products(job.level)
        decision = decide(
            prev,
            [f.record() for f in inputs.files],
            inputs.digest(),
            versions,
            definitions,
            force=job.force,
            outputs_intact=prev is None or outputs_intact(job.out_dir, prev),
        )
        if not decision.run:
            assert prev is not None
            when = datetime.fromtimestamp(prev.started, UTC).strftime("%Y-%m-%d %H:%M")
            return done("skipped", f"unchanged since {when} UTC", product_version=decision.version)
        ctx.version, ctx.reason, ctx.revision = decision.version, decision.reason, decision.kind
        products = run_steps(level, ctx, inputs, who, step_s)
    except Exception as exc:
        return done(*_failed(job, exc, commit_dir, flushes))
    unit_ctx = ctx

    def stage() -> tuple[UnitResult, Flushes]:
        t_stage = time.perf_counter()
        try:
            software = software_text(__version__, who)
            with write_behind(flushes):
                staged = stage_products(unit_ctx, products, inputs, software, commit_dir)
        except Exception as exc:
            step_s["stage"] = time.perf_counter() - t_stage
            return made(*_failed(job, exc, commit_dir, flushes)), flushes
        step_s["stage"] = time.perf_counter() - t_stage
        msg = f"{len(staged)} files" + (f" (v{unit_ctx.version}: {unit_ctx.reason})" if job.previous else "")
        if inputs.notes or unit_ctx.notes:
            msg += "; " + "; ".join([*inputs.notes, *unit_ctx.notes])
        ok = made(
            "ok",
            msg,
            product_version=unit_ctx.version,
            reason=unit_ctx.reason,
            staged=staged,
            commit_dir=commit_dir,
        )
        return ok, flushes

    return Pending(job, _stager().submit(stage) if stage_behind else _now(stage()))


def durable(job: UnitJob, result: UnitResult, flushes: Flushes) -> UnitResult:
    """``result`` once its staged files are on disk. A flush that failed (EIO, a disk found full
    only now) fails the unit with one line naming the product, its staging discarded."""
    try:
        flushes.wait()
    except OSError as exc:
        line = str(os_error(exc, _final_path(job, result, exc.filename)))
        log.warning("unit %s failed: %s", job.unit_id, line, exc_info=True)
        if result.commit_dir is not None:
            _discard(result.commit_dir, flushes)
        result.status, result.message = "failed", line
        result.staged, result.commit_dir, result.version = [], None, None
        if result.entry is not None:
            result.entry.status, result.entry.error, result.entry.message = "failed", line, ""
            result.entry.outputs, result.entry.inputs_digest = [], None
    return result


def _final_path(job: UnitJob, result: UnitResult, failed: str | None) -> Path | None:
    """Where the file a flush failed on goes in the output tree: the staged file, or the one
    whose temporary (beside it, same suffix) it was."""
    if failed is None:
        return None
    f = Path(failed)
    for s in result.staged:
        if s.staged == f or (s.staged.parent == f.parent and s.staged.suffix == f.suffix):
            return job.out_dir / s.rel
    return None


def _discard(commit_dir: Path, flushes: Flushes) -> None:
    import shutil

    with contextlib.suppress(OSError):
        flushes.wait()  # nothing still writing into it
    shutil.rmtree(commit_dir, ignore_errors=True)


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


def _result(
    job: UnitJob,
    status: Status,
    message: str,
    t0: float,
    started: float,
    versions: dict[str, Any],
    inputs: Inputs,
    ctx: UnitContext | None,
    *,
    product_version: int | None = None,
    reason: str | None = None,
    staged: list[StagedFile] | None = None,
    commit_dir: Path | None = None,
    step_s: dict[str, float] | None = None,
    kept_options: dict[str, tuple[Any, Any]] | None = None,
) -> UnitResult:
    duration = time.perf_counter() - t0
    simulated = bool(ctx and ctx.simulated)
    entry = LedgerEntry(
        unit=job.unit_id,
        status=status,
        versions=versions,
        inputs=[f.record() for f in inputs.files],
        inputs_digest=inputs.digest() if status != "failed" else None,
        product_version=product_version,
        reason=reason,
        error=message if status == "failed" else None,
        vectors=ctx.vectors if ctx else 0,
        calibration=calibration_entries(inputs) if status == "ok" else [],
        started=started,
        duration_s=duration,
        simulated=simulated,
        run_id=job.run_id,
        message=message if status != "failed" else "",
    )
    return UnitResult(
        unit=job.unit,
        status=status,
        message=message,
        outputs=[],
        vectors=entry.vectors,
        duration_s=duration,
        entry=entry,
        mission=job.mission,
        level=job.level,
        peak_rss_mb=peak_rss_mb(),
        staged=staged or [],
        spacecraft=job.spacecraft,
        version=product_version,
        reason=reason,
        simulated=simulated,
        commit_dir=commit_dir,
        warnings=list(ctx.warnings) if ctx else [],
        step_s=dict(step_s or {}),
        kept_options=dict(kept_options or {}),
    )

"""Running levels from the command line: ``magfw run`` and :func:`run_level_command`, which
plugin commands use (resolve the output tree and sources, check the request, run with a
progress bar, print the summary)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from magfw import cli
from magfw.cli.app import app
from magfw.cli.logs import log_path, setup_logging
from magfw.config import (
    MissionSettings,
    load_config,
    mission_settings,
    resolve_out_dir,
    resolve_sources,
    state_dir,
)
from magfw.engine.jobs import RunRequest, RunSummary
from magfw.errors import MagfwError, UsageError
from magfw.period import Period, parse_period
from magfw.plugin.manager import get_hooks
from magfw.plugin.mission import AnyLevel, Mission


def output_tree(out_dir: Path | None) -> Path:
    """The output tree a command works on (``--out``, ``MAGFW_DATA``, ``magfw.toml``,
    ``./magfw-data``), with magfw's log inside it."""
    path = resolve_out_dir(out_dir)
    setup_logging(state_dir(path) / "logs" / "magfw.log")
    return path


def check_request(request: RunRequest) -> None:
    """Usage problems of a run that can be seen before it starts: an output tree that is a
    file, a source that does not exist or has an unknown URL scheme."""
    from magfw.engine.jobs import SIMULATED_SOURCE
    from magfw.fetch import open_archive

    out_path = Path(request.out_dir)
    if out_path.exists() and not out_path.is_dir():
        raise UsageError(out_path, "--out is a file, not an output tree (a directory)")
    for role, src in [("", request.source), *request.sources.items()]:
        if src is None or src == SIMULATED_SOURCE:
            continue
        try:
            open_archive(src, out_path / ".magfw" / "cache")  # validates; creates nothing
        except MagfwError as exc:
            what = f"--source {role}=" if role else "--source "
            raise UsageError(None, f"{what}{exc}") from None


def parse_level_options(mission: Mission, level: AnyLevel, args: list[str]) -> dict[str, Any]:
    """The options given as ``--name value`` / ``--name=value`` / ``--flag``, parsed and
    checked: the level's own and those of the levels of its mission it needs
    (:func:`~magfw.plugin.options.run_options`). Only what is given is returned; each planned
    level takes its defaults for the rest."""
    from magfw.plugin.options import run_options

    declared = {o.name: o for o in run_options(mission, level.name)}
    values: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--"):
            raise UsageError(None, f"unexpected argument {arg!r}")
        name, eq, text = arg[2:].partition("=")
        option = declared.get(name.replace("-", "_"))
        if option is None:
            known = ", ".join(f"--{o.flag}" for o in declared.values()) or "none"
            raise UsageError(
                None, f"no such option --{name} for {mission.id} {level.name} (level options: {known})"
            )
        if eq:
            values[option.name] = option.parse(text)
        elif option.type == "bool":
            values[option.name] = True
        else:
            if i + 1 >= len(args):
                raise UsageError(None, f"option --{option.flag} needs a value")
            i += 1
            values[option.name] = option.parse(args[i])
        i += 1
    return values


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run(
    ctx: typer.Context,
    mission: Annotated[str, typer.Argument(help="mission id (see `magfw missions`)")],
    level: Annotated[str, typer.Argument(help="processing level, e.g. l1")],
    period: Annotated[
        str | None,
        typer.Argument(
            help="YYYY, YYYY-MM, YYYY-MM-DD or START..END; default: the level's default period "
            "(e.g. stereo l1: the current month minus two), if it has one"
        ),
    ] = None,
    spacecraft: Annotated[str | None, typer.Option("--spacecraft", "-s")] = None,
    source: Annotated[
        list[str] | None,
        typer.Option(
            help="archive directory, URL, or 'simulated'; ROLE=DIR|URL adds a source for one "
            "role (repeatable), e.g. --source spice=https://..."
        ),
    ] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="output tree")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="worker processes (default: the number of cores)")
    ] = None,
    executor: Annotated[str, typer.Option(help="local (process pool) or dask")] = "local",
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (default: a LocalCluster)")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="redo the level's units even if unchanged (a new version of each)")
    ] = False,
    force_all: Annotated[
        bool, typer.Option(help="redo every planned unit, the needed levels' too (implies --force)")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            help="say what would run and why (fetch and compare with the ledger), process and write nothing"
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="simulator seed for --source simulated")] = 0,
) -> None:
    """Process MISSION LEVEL over PERIOD (or the level's default period). Level-specific
    options follow as --name value."""
    m = get_hooks().registry.get(mission)
    options = parse_level_options(m, m.level(level), list(ctx.args))
    run_level_command(
        mission,
        level,
        period,
        spacecraft=spacecraft,
        source=source,
        out_dir=out_dir,
        options=options,
        workers=workers,
        executor=executor,
        scheduler=scheduler,
        force=force,
        force_all=force_all,
        dry_run=dry_run,
        seed=seed,
    )


def default_period_of(mission: Mission, level: AnyLevel, settings: MissionSettings) -> tuple[Period, str]:
    """The period of ``magfw run MISSION LEVEL`` given without one: the level's
    :class:`~magfw.period.DefaultPeriod`, its lag from ``[missions.<id>.default_period]
    <level>`` in ``magfw.toml`` when set. A level without a rule needs a PERIOD (usage error)."""
    rule = level.default_period
    if rule is None:
        raise UsageError(
            None,
            f"{mission.id} {level.name} needs a PERIOD (YYYY, YYYY-MM, "
            "YYYY-MM-DD or START..END): the level has no default period",
        )
    lag = settings.default_period.get(level.name)  # validated with magfw.toml: an int >= 0
    return rule.period(lag=lag), rule.describe(lag) + (
        f" ([missions.{mission.id}.default_period] {level.name} = {lag})" if lag is not None else ""
    )


def run_level_command(
    mission: str,
    level: str,
    period: str | None,
    *,
    spacecraft: str | None = None,
    source: str | list[str] | None = None,
    out_dir: Path | None = None,
    options: dict[str, Any] | None = None,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    force: bool = False,
    force_all: bool = False,
    dry_run: bool = False,
    seed: int = 0,
    show_outputs: bool = False,
    nothing_fails: bool = False,
) -> Any:
    """What ``magfw run`` does, for plugin commands that run a level (``magfw stereo merge``):
    resolve the output tree and source, log into the tree, run with a progress bar, print the
    summary and warnings, and exit 1 if a unit failed. ``show_outputs`` also prints a
    ``wrote PATH`` line for each file of the requested level. ``nothing_fails`` (an analysis
    command): a run in which no unit of the level had anything to analyse (each skipped for
    want of inputs, not as unchanged) says so in one line and exits 1. ``period`` None: the
    level's default period (:func:`default_period_of`), said on the first line. ``options``:
    the values given, by option name (checked; each planned level takes its defaults for the
    rest); ``force`` redoes the level's units, ``force_all`` every planned unit. Returns the
    :class:`RunSummary`."""
    from magfw.engine.executors import validate
    from magfw.engine.runner import Runner

    hooks = get_hooks()
    m = hooks.registry.get(mission)
    lvl = m.level(level)
    options = dict(options or {})  # what is given; each planned level has its defaults
    config = load_config(registry=hooks.registry)
    settings = mission_settings(m, config)
    out_path = resolve_out_dir(out_dir, config)
    given = [source] if isinstance(source, str) else list(source or [])
    src, sources = resolve_sources(given, settings, m.id, m.default_source)
    if period is None:
        chosen, why = default_period_of(m, lvl, settings)
        cli.out.print(f"no PERIOD given: {m.id} {lvl.name} {chosen} ({why})", markup=False)
    else:
        chosen = parse_period(period)
    request = RunRequest(
        mission=m.id,
        level=lvl.name,
        period=chosen,
        out_dir=out_path,
        source=src,
        sources=sources,
        spacecraft=spacecraft,
        options=options,
        force=force or force_all,
        force_all=force_all,
        dry_run=dry_run,
        workers=workers or os.cpu_count() or 1,
        seed=seed,
        executor=validate(executor, scheduler),
        scheduler=scheduler,
    )
    # usage problems are found before anything is written (exit 2, no output tree made)
    check_request(request)
    runner = Runner(hooks)
    plan = runner.make_plan(request)  # the run's one plan (usage problems raise here)
    if dry_run:  # what would run, and why: nothing written into the tree (its log neither)
        setup_logging()
        summary = runner.run(request, plan=plan)
        _print_forecast(summary, request)
        for warning in summary.warnings:
            cli.err.print(f"magfw: warning: {warning}", markup=False)
        return summary
    setup_logging(state_dir(out_path) / "logs" / "magfw.log")
    summary = _run_with_progress(runner, request, plan)
    _print_summary(summary, request)
    log_file = log_path()
    if show_outputs:
        for r in summary.results:
            if (r.mission, r.level) == (request.mission, request.level):
                for path in r.outputs:
                    cli.out.print(f"wrote {path}", markup=False)
    for warning in summary.warnings:
        cli.err.print(f"magfw: warning: {warning}", markup=False)
    for failure in summary.failures:
        cli.err.print(f"magfw: {failure}", markup=False)
    if not summary.ok:
        if log_file is not None:
            cli.err.print(f"details of failures: {log_file}", markup=False)
        raise typer.Exit(1)
    if nothing_fails:
        _check_something_analysed(summary, request)
    return summary


def _check_something_analysed(summary: RunSummary, request: RunRequest) -> None:
    """One line and exit 1 when every unit of the level was skipped with no input at all (a
    unit skipped as unchanged had its inputs: it was analysed before)."""
    own = [r for r in summary.results if (r.mission, r.level) == (request.mission, request.level)]
    if any(r.status != "skipped" or (r.entry is not None and r.entry.inputs) for r in own):
        return
    first = own[0].message if own else "no unit planned"
    more = f" ({len(own) - 1} more units skipped alike)" if len(own) > 1 else ""
    raise MagfwError(
        None, f"{request.mission} {request.level} {request.period}: nothing to analyse: {first}{more}"
    )


def _run_with_progress(runner: Any, request: Any, plan: Any) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=cli.err,
        disable=not cli.err.is_terminal,
        transient=True,
    )
    with progress:
        task = progress.add_task(f"{request.mission} {request.level}", total=len(plan.jobs), rate="")
        state = {"vectors": 0, "done": 0, "failed": 0}
        t0 = time.perf_counter()

        def on_result(result: Any) -> None:
            state["vectors"] += result.vectors
            state["done"] += 1
            state["failed"] += result.status == "failed"
            rate = state["vectors"] / max(time.perf_counter() - t0, 1e-9)
            progress.update(
                task, completed=state["done"], rate=f"{rate:,.0f} vectors/s, {state['failed']} failed"
            )

        return runner.run(request, on_result=on_result, plan=plan)


def _print_forecast(summary: RunSummary, request: RunRequest) -> None:
    """A dry run's table: each unit, what it would do, and why; then the tally."""
    from magfw.engine.dryrun import tally

    table = Table(title=f"{request.mission} {request.level} {request.period} (dry run)", show_lines=False)
    for col in ("unit", "would", "why"):
        table.add_column(col)
    style = {"run": "green", "unchanged": "yellow", "skip": "yellow", "fail": "red"}
    for r in summary.results:
        own = (r.mission, r.level) == (request.mission, request.level)
        sc = f" ST{r.spacecraft}" if r.spacecraft and not own else ""
        label = r.unit.key if own else f"{r.mission} {r.level}{sc} {r.unit.key}"
        word = r.forecast or "?"
        head, colon, rest = r.message.partition(": ")
        why = rest if colon and head.startswith("would ") and "after" not in head else r.message
        table.add_row(label, f"[{style.get(word, 'white')}]{word}[/]", why, style=None)
    cli.out.print(table)
    cli.out.print(tally(summary.results), markup=False)


def _print_summary(summary: Any, request: Any) -> None:
    table = Table(title=f"{request.mission} {request.level} {request.period}", show_lines=False)
    for col in ("unit", "status", "vectors", "seconds", "detail"):
        table.add_column(col, justify="right" if col in ("vectors", "seconds") else "left")
    style = {"ok": "green", "failed": "red", "skipped": "yellow"}
    for r in summary.results:
        own = (r.mission, r.level) in (("", ""), (request.mission, request.level))
        label = r.unit.key if own else f"{r.mission} {r.level} {r.unit.key}"
        table.add_row(
            label, f"[{style[r.status]}]{r.status}[/]", f"{r.vectors:,}", f"{r.duration_s:.2f}", r.message
        )
    cli.out.print(table)
    cli.out.print(
        f"{summary.count('ok')} ok, {summary.count('failed')} failed, "
        f"{summary.count('skipped')} skipped; {summary.vectors:,} vectors in "
        f"{summary.wall_s:.1f} s ({summary.vectors_per_s:,.0f} vectors/s)"
    )
    for r in summary.results:
        if r.status == "failed":
            sc = f" ST{r.spacecraft}" if r.spacecraft else ""
            cli.err.print(f"magfw: {r.mission} {r.level}{sc} {r.unit.key}: {r.message}", markup=False)

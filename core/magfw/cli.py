"""The ``magfw`` command line: generic commands dispatched through the mission registry.

Exit codes: 0 success; 1 processing failure (bad or missing input, a unit failed); 2 usage
error. Every failure prints one line naming the file and the problem; tracebacks go to the log
(``<out>/.magfw/logs/magfw.log`` for runs, else ``$MAGFW_LOG`` or the user cache directory).
Plugins add sub-commands through the ``register_commands`` hook.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from magfw import __version__
from magfw.config import load_config, resolve_out_dir, resolve_sources, state_dir
from magfw.engine.jobs import RunRequest
from magfw.errors import MagfwError, UsageError
from magfw.period import Period, parse_period
from magfw.plugin.manager import get_hooks
from magfw.plugin.mission import AnyLevel, Mission

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)
log = logging.getLogger("magfw")


def default_log_path() -> Path:
    """Where commands without an output tree log: ``$MAGFW_LOG``, else
    ``$XDG_CACHE_HOME/magfw/magfw.log`` (``~/.cache/magfw/magfw.log``)."""
    env = os.environ.get("MAGFW_LOG")
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return Path(env) if env else cache / "magfw" / "magfw.log"


def setup_logging(path: Path | None = None) -> Path | None:
    """Send magfw's log (with tracebacks) to a file; return its path, or None when it cannot
    be written (then nothing is logged, and no logging error ever reaches the terminal)."""
    path = path or default_log_path()
    logging.raiseExceptions = False  # a log that fails mid-run must not print tracebacks
    for h in list(log.handlers):
        if isinstance(h, logging.FileHandler):
            log.removeHandler(h)
            h.close()
    log.setLevel(logging.DEBUG if os.environ.get("MAGFW_DEBUG") else logging.INFO)
    if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
        log.addHandler(logging.NullHandler())  # never Python's last-resort stderr handler
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        writable = os.access(path, os.W_OK) if path.exists() else os.access(path.parent, os.W_OK)
        if not writable:
            return None
        handler = logging.FileHandler(path, delay=True)  # created at the first record
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    return path


def log_path() -> Path | None:
    """The file magfw is logging to now, if any."""
    for h in log.handlers:
        if isinstance(h, logging.FileHandler):
            return Path(h.baseFilename)
    return None


def say(text: str) -> None:
    """Print a line of a command's output (stdout), no markup."""
    out.print(text, markup=False)


def warn(text: str) -> None:
    """Print ``magfw: warning: TEXT`` on stderr, no markup."""
    err.print(f"magfw: warning: {text}", markup=False)


def output_tree(out_dir: Path | None) -> Path:
    """The output tree a command works on (``--out``, ``MAGFW_DATA``, ``magfw.toml``,
    ``./magfw-data``), with magfw's log inside it."""
    path = resolve_out_dir(out_dir, load_config())
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


def parse_level_options(level: AnyLevel, args: list[str]) -> dict[str, Any]:
    """``--name value`` / ``--name=value`` / ``--flag`` against the level's declared options."""
    values = {o.name: o.default for o in level.options}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--"):
            raise UsageError(None, f"unexpected argument {arg!r}")
        name, eq, text = arg[2:].partition("=")
        option = level.option(name)
        if option is None:
            known = ", ".join(f"--{o.flag}" for o in level.options) or "none"
            raise UsageError(None, f"no such option --{name} for level {level.name} (level options: {known})")
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


app = typer.Typer(
    name="magfw",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    help="Turn spacecraft magnetometer telemetry into science products.",
)


def _version(value: bool) -> None:
    if value:
        out.print(f"magfw {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """magfw: mission-agnostic magnetometer processing."""


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
    force: Annotated[bool, typer.Option(help="redo units even if unchanged")] = False,
    dry_run: Annotated[bool, typer.Option(help="list the units, process nothing")] = False,
    seed: Annotated[int, typer.Option(help="simulator seed for --source simulated")] = 0,
) -> None:
    """Process MISSION LEVEL over PERIOD (or the level's default period). Level-specific
    options follow as --name value."""
    lvl = get_hooks().registry.get(mission).level(level)
    options = parse_level_options(lvl, list(ctx.args))
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
        dry_run=dry_run,
        seed=seed,
    )


def default_period_of(mission: Mission, level: AnyLevel, config: dict[str, Any]) -> tuple[Period, str]:
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
    table = config.get("missions", {}).get(mission.id, {}).get("default_period", {})
    lag = table.get(level.name) if isinstance(table, dict) else None
    if lag is not None and (not isinstance(lag, int) or isinstance(lag, bool) or lag < 0):
        raise UsageError(
            "magfw.toml",
            f"[missions.{mission.id}.default_period] {level.name} must be a whole number >= 0, not {lag!r}",
        )
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
    dry_run: bool = False,
    seed: int = 0,
    show_outputs: bool = False,
) -> Any:
    """What ``magfw run`` does, for plugin commands that run a level (``magfw stereo merge``):
    resolve the output tree and source, log into the tree, run with a progress bar, print the
    summary and warnings, and exit 1 if a unit failed. ``show_outputs`` also prints a
    ``wrote PATH`` line for each file of the requested level. ``period`` None: the level's
    default period (:func:`default_period_of`), said on the first line. Returns the
    :class:`RunSummary`."""
    from magfw.engine.executors import validate
    from magfw.engine.runner import Runner

    hooks = get_hooks()
    m = hooks.registry.get(mission)
    lvl = m.level(level)
    if options is None:
        options = {o.name: o.default for o in lvl.options}
    config = load_config()
    out_path = resolve_out_dir(out_dir, config)
    given = [source] if isinstance(source, str) else list(source or [])
    src, sources = resolve_sources(given, config, m.id, m.default_source)
    if period is None:
        chosen, why = default_period_of(m, lvl, config)
        out.print(f"no PERIOD given: {m.id} {lvl.name} {chosen} ({why})", markup=False)
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
        force=force,
        dry_run=dry_run,
        workers=workers or os.cpu_count() or 1,
        seed=seed,
        executor=validate(executor, scheduler),
        scheduler=scheduler,
    )
    # usage problems are found before anything is written (exit 2, no output tree made)
    check_request(request)
    runner = Runner(hooks)
    graph, _ = runner.plan_graph(request)  # the run's one plan
    setup_logging(state_dir(out_path) / "logs" / "magfw.log")
    summary = _run_with_progress(runner, request, graph)
    _print_summary(summary, request)
    log_file = log_path()
    if show_outputs:
        for r in summary.results:
            if (r.mission, r.level) == (request.mission, request.level):
                for path in r.outputs:
                    out.print(f"wrote {path}", markup=False)
    for warning in summary.warnings:
        err.print(f"magfw: warning: {warning}", markup=False)
    if not summary.ok:
        if log_file is not None:
            err.print(f"details of failures: {log_file}", markup=False)
        raise typer.Exit(1)
    return summary


def _run_with_progress(runner: Any, request: Any, graph: list[Any]) -> Any:
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
        console=err,
        disable=not err.is_terminal,
        transient=True,
    )
    with progress:
        task = progress.add_task(f"{request.mission} {request.level}", total=len(graph), rate="")
        state = {"vectors": 0, "done": 0, "failed": 0}
        import time

        t0 = time.perf_counter()

        def on_result(result: Any) -> None:
            state["vectors"] += result.vectors
            state["done"] += 1
            state["failed"] += result.status == "failed"
            rate = state["vectors"] / max(time.perf_counter() - t0, 1e-9)
            progress.update(
                task, completed=state["done"], rate=f"{rate:,.0f} vectors/s, {state['failed']} failed"
            )

        return runner.run(request, on_result=on_result, graph=graph)


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
    out.print(table)
    out.print(
        f"{summary.count('ok')} ok, {summary.count('failed')} failed, "
        f"{summary.count('skipped')} skipped; {summary.vectors:,} vectors in "
        f"{summary.wall_s:.1f} s ({summary.vectors_per_s:,.0f} vectors/s)"
    )
    for r in summary.results:
        if r.status == "failed":
            sc = f" ST{r.spacecraft}" if r.spacecraft else ""
            err.print(f"magfw: {r.mission} {r.level}{sc} {r.unit.key}: {r.message}", markup=False)


@app.command()
def simulate(
    mission: Annotated[str, typer.Argument(help="mission id")],
    period: Annotated[str, typer.Argument(help="YYYY, YYYY-MM, YYYY-MM-DD or START..END")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="archive directory to write")],
    spacecraft: Annotated[str | None, typer.Option("--spacecraft", "-s")] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
) -> None:
    """Write a simulated raw-input archive (with its truth) for MISSION over PERIOD."""
    from magfw.engine.simulation import simulate_archive

    hooks = get_hooks()
    m = hooks.registry.get(mission)
    sc = m.resolve_spacecraft(spacecraft)
    root = simulate_archive(hooks, m.id, parse_period(period), out_dir, sc, seed)
    out.print(f"simulated {m.id} {period} into {root}")


@app.command()
def missions() -> None:
    """List missions, their levels and products, and the plugin behind each."""
    hooks = get_hooks()
    table = Table(title="magfw missions")
    for col in ("mission", "title", "plugin", "spacecraft", "level", "unit", "products"):
        table.add_column(col)
    for m in hooks.registry:
        for i, lvl in enumerate(m.levels.values()):
            products = ", ".join(lvl.products) or "-"
            if not lvl.implemented:
                products = "not implemented yet"
            table.add_row(
                m.id if i == 0 else "",
                m.title if i == 0 else "",
                m.plugin if i == 0 else "",
                "/".join(m.spacecraft) if i == 0 else "",
                lvl.name,
                lvl.unit,
                products,
            )
    if not len(hooks.registry):
        out.print("no missions installed")
        return
    out.print(table)


@app.command()
def plugins() -> None:
    """List plugins (distribution, version, module, the hooks each implements) and, under
    each, its missions' levels: the level object's class and the steps it implements."""
    from rich.tree import Tree

    hooks = get_hooks()
    tree = Tree("magfw plugins")
    for info in hooks.plugin_infos():
        dist = f"{info.distribution} {info.version or ''}".strip() if info.distribution else "no distribution"
        branch = tree.add(f"[bold]{info.name}[/bold] ({dist}; {info.module})")
        branch.add(f"hooks: {', '.join(info.hooks) or '-'}")
        for lvl in info.levels:
            branch.add(f"{lvl.mission} {lvl.level} ({lvl.unit}) {lvl.cls}: {', '.join(lvl.steps)}")
    out.print(tree, soft_wrap=False)


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(help="product files to validate")],
) -> None:
    """Check product files against their magfw product definitions: file name, variables,
    types and shapes, the ISTP (CDF) or CF (netCDF) variable attributes the definition
    declares, fill and valid ranges, time order, required global attributes and provenance.
    A file no definition matches (a foreign file) is reported as such: no general ISTP/CF
    rules are run on it."""
    from magfw.tools.check import check_file, format_report

    definitions = get_hooks().registry.definitions()
    bad = 0
    for path in files:
        report = check_file(path, definitions)
        out.print(format_report(report))
        bad += not report.ok
    if bad:
        raise typer.Exit(1)


@app.command()
def plot(
    file: Annotated[Path, typer.Argument(help="product file")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="PNG to write")] = None,
) -> None:
    """Write a quicklook PNG of a product file: the panels its product definition names
    (quicklook block), else B components and |B| against time; the title says SIMULATED for
    a file made from simulated inputs."""
    from magfw.plugin.definitions import find_definition
    from magfw.tools.plot import quicklook

    definitions = get_hooks().registry.definitions()
    found = find_definition(file.resolve().as_posix(), definitions)
    png = quicklook(file, output or file.with_suffix(".png"), definition=found[0] if found else None)
    out.print(f"wrote {png}")


@app.command()
def publish(
    mission: Annotated[str, typer.Argument(help="mission id")],
    level: Annotated[str, typer.Argument(help="processing level")],
    period: Annotated[str, typer.Argument(help="YYYY, YYYY-MM, YYYY-MM-DD or START..END")],
    to: Annotated[Path, typer.Option("--to", help="web-serving tree to copy into")],
    spacecraft: Annotated[str | None, typer.Option("--spacecraft", "-s")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="output tree")] = None,
    formats: Annotated[
        list[str] | None, typer.Option("--format", help="product formats to copy (repeatable)")
    ] = None,
    products: Annotated[
        list[str] | None,
        typer.Option(
            "--product",
            help="only these product ids (repeatable); may name a product of a level this level needs",
        ),
    ] = None,
    all_levels: Annotated[
        bool, typer.Option("--all-levels", help="also the products of the levels this level needs")
    ] = False,
    from_dir: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="take paths relative to this folder of the output tree (files outside it are left out)",
        ),
    ] = None,
) -> None:
    """Copy a level's products into DIR, in the layout their definitions declare (e.g. Aditya
    into the PRADAN folders), else its flat files: only newer, never delete. E.g. the seed's
    monthly PLASTIC copy: magfw publish plastic l2 2024-01 --product merged_monthly_ff
    --from monthly_flatfile --to /mnt/MissionRepo/stereo_public/L2/MP/MONTHLY"""
    from magfw.handoff.publish import publish as do_publish

    m = get_hooks().registry.get(mission)
    report = do_publish(
        m,
        level,
        parse_period(period),
        spacecraft,
        resolve_out_dir(out_dir),
        to,
        tuple(formats) if formats else None,
        products=tuple(products or ()),
        all_levels=all_levels,
        from_dir=from_dir,
    )
    out.print(f"copied {len(report.copied)} files, {len(report.up_to_date)} already up to date")
    if report.units_missing:
        err.print(f"magfw: not processed yet, nothing to publish: {', '.join(report.units_missing)}")


@app.command()
def serve(
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="output tree")] = None,
    host: Annotated[str, typer.Option(help="address to bind (loopback by default)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port")] = 8765,
    base_path: Annotated[str, typer.Option(help="path of the HAPI endpoints")] = "/hapi",
    root_path: Annotated[
        str, typer.Option(help="prefix a reverse proxy serves this under, e.g. /magfw")
    ] = "",
    timeout: Annotated[float, typer.Option(min=1, help="seconds a request may take")] = 600.0,
    max_streams: Annotated[int, typer.Option(min=1, help="data streams and plots at once")] = 4,
    max_records: Annotated[
        int, typer.Option(min=1, help="most records a /data request may span")
    ] = 32_000_000,
) -> None:
    """Serve the output tree read-only: HAPI 3.3 at BASE_PATH, the monthly review site at /.
    MAGFW_SERVE_TOKEN, if set, is required as a bearer token (docs/serve.md)."""
    from magfw.serve import ServeSettings
    from magfw.serve import serve as run_server

    path = output_tree(out_dir)
    settings = ServeSettings.from_env(
        path,
        host=host,
        port=port,
        base_path=base_path,
        root_path=root_path.rstrip("/"),
        timeout_s=timeout,
        max_streams=max_streams,
        max_records=max_records,
    )
    if host not in ("127.0.0.1", "localhost", "::1") and not settings.token:
        warn(
            f"serving {path} on {host} without MAGFW_SERVE_TOKEN: anyone who reaches it can read the products"
        )
    out.print(
        f"serving {path} at http://{host}:{port}{settings.base_path} (HAPI) and "
        f"http://{host}:{port}/ (review); Ctrl-C stops",
        markup=False,
    )
    run_server(settings)


@app.command("new-plugin")
def new_plugin(
    name: Annotated[str, typer.Argument(help="mission id of the new plugin, e.g. acme")],
    directory: Annotated[Path, typer.Option("--dir", help="folder to create it in")] = Path("."),
) -> None:
    """Write a working mission plugin package NAME (a level, a product definition, a
    simulator and tests) to start a mission from: pip install -e NAME && pytest NAME."""
    from magfw.tools.scaffold import new_plugin as make

    path = make(name, directory)
    out.print(
        f"wrote {path}: pip install -e {path} && pytest {path}; then "
        f"magfw run {name} l1 2024-01-01 --source simulated",
        markup=False,
    )


def _plugin_warning(text: str) -> None:
    """A plugin left out: one line on the terminal and in the log."""
    log.warning("%s", text)
    warn(text)


def build_app() -> typer.Typer:
    """The CLI: magfw's own commands and the sub-commands of the plugins loaded now (a fresh
    command tree each time, so the plugins of each call, not of the first, are there)."""
    tree = typer.Typer(
        name=app.info.name,
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
        help=app.info.help,
    )
    tree.registered_callback = app.registered_callback
    tree.registered_commands = list(app.registered_commands)
    tree.registered_groups = list(app.registered_groups)
    get_hooks().register_commands(tree)
    return tree


def main(argv: list[str] | None = None) -> int:
    """Entry point: one line per failure on stderr, exit 0/1/2, tracebacks to the log.

    The log is :func:`default_log_path` from the start (plugin loading included); a command
    that works on an output tree moves it to ``<out>/.magfw/logs/magfw.log``."""
    setup_logging()
    try:
        get_hooks(warn=_plugin_warning)
        command = typer.main.get_command(build_app())
        rv = command.main(args=argv, prog_name="magfw", standalone_mode=False)
        code = rv if isinstance(rv, int) else 0
    except MagfwError as exc:
        log.warning("error: %s", exc, exc_info=exc.__cause__ is not None)
        err.print(f"magfw: error: {exc}", markup=False)
        code = exc.exit_code
    except typer.Exit as exc:
        code = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        err.print("magfw: interrupted; rerun to resume (finished units are kept)")
        code = 130
    except Exception as exc:
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # a usage error found by the parser
            exc.show(file=sys.stderr)
            return int(exc.exit_code)
        log.exception("internal error")
        path = log_path()
        where = f"traceback in {path}" if path else "the log cannot be written"
        err.print(f"magfw: internal error: {type(exc).__name__}: {exc} ({where})", markup=False)
        code = 1
    return code


if __name__ == "__main__":
    sys.exit(main())

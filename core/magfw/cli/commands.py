"""magfw's own commands besides ``run`` and ``publish``: simulate, missions, plugins, check,
plot, serve, new-plugin."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from magfw import cli
from magfw.cli.app import app
from magfw.period import parse_period
from magfw.plugin.manager import get_hooks


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
    cli.out.print(f"simulated {m.id} {period} into {root}")


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
        cli.out.print("no missions installed")
        return
    cli.out.print(table)


@app.command()
def options(
    mission: Annotated[str, typer.Argument(help="mission id (see `magfw missions`)")],
    level: Annotated[str | None, typer.Argument(help="one level (default: every level)")] = None,
) -> None:
    """The options `magfw run MISSION LEVEL` takes: the level's own and those of the levels of
    its mission it needs (a value reaches every planned level declaring that name)."""
    from magfw.plugin.options import declared_options, describe_bounds

    m = get_hooks().registry.get(mission)
    for name in [m.level(level).name] if level is not None else list(m.levels):
        declared = declared_options(m, name)
        cli.say(f"{m.id} {name}:" + ("" if declared else " no options"))
        for by, o in declared:
            where = "" if by == name else f", from {by}"
            output = "" if o.affects_output else ", does not change the products"
            cli.say(
                f"  --{o.flag} {o.type.upper()} (default {o.default!r}; {describe_bounds(o)}{where}{output})"
            )
            if o.help:
                cli.say(f"      {o.help}")


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
    cli.out.print(tree, soft_wrap=False)


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
        cli.out.print(format_report(report))
        bad += not report.ok
    if bad:
        raise typer.Exit(1)


@app.command()
def plot(
    file: Annotated[Path, typer.Argument(help="product file")],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="PNG to write (default: ./<name>.quicklook.png)"),
    ] = None,
) -> None:
    """Write a quicklook PNG of a product file: the panels its product definition names
    (quicklook block), else B components and |B| against time; the title says SIMULATED for
    a file made from simulated inputs. It never writes a product: the default name is
    ``<name>.quicklook.png`` in the current folder, and an ``-o`` naming the input or a
    product recorded in an output tree's ledger is refused (exit 2)."""
    from magfw.io.identify import by_name
    from magfw.tools.plot import quicklook, quicklook_target

    definitions = get_hooks().registry.definitions()
    target = quicklook_target(file, output)
    png = quicklook(file, target, definition=by_name(file.resolve(), definitions))
    cli.out.print(f"wrote {png}")


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
    max_streams: Annotated[int, typer.Option(min=1, help="data streams at once")] = 4,
    max_records: Annotated[
        int, typer.Option(min=1, help="most records a /data request may span")
    ] = 32_000_000,
    queue_wait: Annotated[
        float, typer.Option(min=0, help="seconds a data request waits for a stream slot (then 503)")
    ] = 30.0,
    cache_gib: Annotated[
        float, typer.Option(min=0, help="most GiB the caches in .magfw/serve may hold")
    ] = 20.0,
) -> None:
    """Serve the output tree read-only: HAPI 3.3 at BASE_PATH, the monthly review site at /.
    MAGFW_SERVE_TOKEN, if set, is required as a bearer token (docs/serve.md)."""
    from magfw.cli.logs import setup_logging
    from magfw.config import resolve_out_dir, state_dir
    from magfw.serve import ServeSettings, create_app
    from magfw.serve import serve as run_server

    path = resolve_out_dir(out_dir)
    settings = ServeSettings.from_env(
        path,
        host=host,
        port=port,
        base_path=base_path,
        root_path=root_path.rstrip("/"),
        timeout_s=timeout,
        max_streams=max_streams,
        max_records=max_records,
        queue_wait_s=queue_wait,
        cache_gib=cache_gib,
    )
    server = create_app(settings)  # the ledger is checked first: nothing is written before
    setup_logging(state_dir(path) / "logs" / "magfw.log")
    if host not in ("127.0.0.1", "localhost", "::1") and not settings.token:
        cli.warn(
            f"serving {path} on {host} without MAGFW_SERVE_TOKEN: anyone who reaches it can read the products"
        )
    cli.out.print(
        f"serving {path} at http://{host}:{port}{settings.base_path} (HAPI) and "
        f"http://{host}:{port}/ (review); Ctrl-C stops",
        markup=False,
    )
    run_server(settings, server)


@app.command("new-plugin")
def new_plugin(
    name: Annotated[str, typer.Argument(help="mission id of the new plugin, e.g. acme")],
    directory: Annotated[Path, typer.Option("--dir", help="folder to create it in")] = Path("."),
) -> None:
    """Write a working mission plugin package NAME (a level, a product definition, a
    simulator and tests) to start a mission from: pip install -e NAME && pytest NAME."""
    from magfw.tools.scaffold import new_plugin as make

    path = make(name, directory, installed=[m.id for m in get_hooks().registry])
    cli.out.print(
        f"wrote {path}: pip install -e {path} && pytest {path}; then "
        f"magfw run {name} l1 2024-01-01 --source simulated",
        markup=False,
    )

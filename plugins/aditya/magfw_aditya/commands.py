"""``magfw aditya ...``: the calibration work of the MAG team (MAG manual sections 7 and 8),
added to the CLI by ``magfw_register_commands``. Each runs a level through the runner (the only
writer of the output tree), as ``magfw run aditya LEVEL PERIOD`` would:

- ``magfw aditya calibrate rotations PERIOD``: level ``calibrate``: offsets from the rotation
  manoeuvres of the period's days, written as a new caldb revision in the tree;
- ``magfw aditya monitor PERIOD``: level ``monitor``: quiet-time offset and gain drift of both
  sensors per day, its trend over the period and a plot;
- ``magfw aditya compare PERIOD --upstream DIR``: level ``compare``: Aditya L2 against
  DSCOVR or ACE 1-min files, per-component differences and their trend.

``--source`` makes the levels these need (l1, l2) run first where they are out of date. With
nothing to analyse in the period (no L1, no L2 or upstream file, no manoeuvre) each says so and
exits 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from magfw.api import hookimpl, run_level_command

MISSION = "aditya"

aditya_app = typer.Typer(
    name=MISSION,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Aditya-L1 MAG calibration tools: rotations, monitoring, comparison.",
)
calibrate_app = typer.Typer(
    name="calibrate",
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Derive calibration from spacecraft manoeuvres.",
)
aditya_app.add_typer(calibrate_app, name="calibrate")

OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="output tree")]
SourceOption = Annotated[
    list[str] | None,
    typer.Option(
        help="archive (directory, URL or 'simulated') to run the needed levels from first; "
        "ROLE=DIR adds a source for one role"
    ),
]
PeriodArg = Annotated[str, typer.Argument(help="YYYY, YYYY-MM, YYYY-MM-DD or START..END")]


@hookimpl
def magfw_register_commands(app: typer.Typer) -> None:
    """Add ``magfw aditya ...``."""
    app.add_typer(aditya_app, name=MISSION)


@calibrate_app.command("rotations")
def rotations_cmd(
    period: PeriodArg,
    out: OutOption = None,
    source: SourceOption = None,
    seed: Annotated[int, typer.Option(help="simulator seed")] = 0,
) -> None:
    """Offsets of both sensors from the rotation manoeuvres of PERIOD (the calibration
    operations record): a new caldb revision valid from each manoeuvre's day, and a report."""
    run_level_command(
        MISSION,
        "calibrate",
        period,
        out_dir=out,
        source=source,
        seed=seed,
        show_outputs=True,
        nothing_fails=True,
    )


@aditya_app.command("compare")
def compare_cmd(period: PeriodArg, out: OutOption = None, source: SourceOption = None) -> None:
    """Aditya L2 of each month of PERIOD (already in the tree) against the DSCOVR and ACE files
    under dscovr/ and ace/ of --source (or --source upstream=DIR): differences and trend."""
    run_level_command(
        MISSION, "compare", period, out_dir=out, source=source, show_outputs=True, nothing_fails=True
    )


@aditya_app.command("monitor")
def monitor_cmd(period: PeriodArg, out: OutOption = None) -> None:
    """Quiet-time monitoring of both sensors for each month of PERIOD from the L1 files in the
    tree: per-day differential offset and gain ratio, their trend, and a plot."""
    run_level_command(MISSION, "monitor", period, out_dir=out, show_outputs=True, nothing_fails=True)

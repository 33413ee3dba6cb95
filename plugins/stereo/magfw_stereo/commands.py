"""``magfw stereo ...``: the monthly STEREO tools, added to the CLI by ``magfw_register_commands``.

Each runs a level through the runner (the only writer of the output tree), exactly as
``magfw run stereo LEVEL MONTH`` would, so its products are committed whole, locked against
other runs and recorded in the ledger:

- ``magfw stereo offsets import FILE``: level ``offsets`` for the file's month and spacecraft;
- ``magfw stereo offsets estimate YYYY-MM [--to FILE]``: level ``estimate`` (a proposal, never
  applied), copied to FILE if asked;
- ``magfw stereo merge YYYY-MM``: level ``merge`` (the monthly review CDFs);
- ``magfw stereo package YYYY-MM``: level ``package`` (the delivery zip);
- ``magfw stereo offsets table YYYY [--to FILE]``: the year's offsets table, printed or
  exported (it reads products; it writes nothing into the tree).

``--source`` makes the levels these need run first where they are out of date (``merge
--source simulated`` runs ``l1`` for the month); without it they use what the tree holds.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Annotated

import typer

from magfw.api import UsageError, hookimpl, output_tree, run_level_command, say, write_bytes_atomic

MISSION = "stereo"

stereo_app = typer.Typer(
    name=MISSION,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="STEREO IMPACT/MAG monthly tools: offsets, merge, package.",
)
offsets_app = typer.Typer(
    name="offsets",
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Zero offsets: import the researcher's file, or estimate one.",
)
stereo_app.add_typer(offsets_app, name="offsets")

OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="output tree")]
ScOption = Annotated[str | None, typer.Option("--spacecraft", "-s", help="A or B")]
SourceOption = Annotated[
    str | None,
    typer.Option(help="archive (directory, URL or 'simulated') to run the needed levels from first"),
]
MonthArg = Annotated[str, typer.Argument(help="the month, YYYY-MM")]


@hookimpl
def magfw_register_commands(app: typer.Typer) -> None:
    """Add ``magfw stereo ...``."""
    app.add_typer(stereo_app, name=MISSION)


def _month(text: str) -> str:
    m = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if m is None or not 1 <= int(m[2]) <= 12:
        raise UsageError(None, f"month {text!r} is not YYYY-MM")
    return text.strip()


@stereo_app.command("merge")
def merge_cmd(
    month: MonthArg, spacecraft: ScOption = None, out: OutOption = None, source: SourceOption = None
) -> None:
    """Merge the month's daily L1 CDFs into review CDFs (MAG/MAGB x SC/RTN), data only."""
    run_level_command(
        MISSION, "merge", _month(month), spacecraft=spacecraft, out_dir=out, source=source, show_outputs=True
    )


@stereo_app.command("package")
def package_cmd(
    month: MonthArg,
    spacecraft: ScOption = None,
    out: OutOption = None,
    source: SourceOption = None,
    aes: Annotated[
        bool,
        typer.Option(
            "--aes",
            help="WinZip AES-256 instead of the traditional PKWARE encryption "
            "(which a standard `unzip -P` opens)",
        ),
    ] = False,
) -> None:
    """Build the delivery zip stereo_MAG_MAGB_CDF_{yyyy}{mmm}.zip of every spacecraft with
    data, encrypted when MAGFW_ZIP_PASSWORD is set: by default with the traditional PKWARE
    encryption the seed's `zip -er` makes (opens with `unzip -P`), with --aes as AES-256. An
    empty password, or one the encryption cannot take, is refused before anything runs (the
    level's preflight)."""
    run_level_command(
        MISSION,
        "package",
        _month(month),
        spacecraft=spacecraft,
        out_dir=out,
        source=source,
        options={"aes": aes},
        show_outputs=True,
    )


@offsets_app.command("import")
def offsets_import_cmd(
    file: Annotated[Path, typer.Argument(help="the researcher's monthly offsets file")],
    spacecraft: ScOption = None,
    out: OutOption = None,
    k_from: Annotated[
        Path | None,
        typer.Option(
            "--k-from",
            help="Counts table to take K (nT/count) from (its last row); default: the "
            "newest imported table of an earlier month, else the 2018 STEREO-A "
            "values",
        ),
    ] = None,
) -> None:
    """Import the researcher's offsets file as the month's Counts table (a new revision)."""
    from magfw_stereo.tables import month_of_file

    if not file.is_file():
        raise UsageError(file, "no such file")
    sc, year, month = month_of_file(file, spacecraft)
    run_level_command(
        MISSION,
        "offsets",
        f"{year:04d}-{month:02d}",
        spacecraft=sc,
        source=str(file.resolve().parent),
        out_dir=out,
        options={"file": str(file.resolve()), "k_from": str(k_from.resolve()) if k_from else None},
        show_outputs=True,
    )


@offsets_app.command("estimate")
def offsets_estimate_cmd(
    month: MonthArg,
    spacecraft: ScOption = None,
    out: OutOption = None,
    source: SourceOption = None,
    to: Annotated[Path | None, typer.Option("--to", help="also copy the proposal to this file")] = None,
) -> None:
    """Propose a month's offsets from the 1-s prep averages (Davis-Smith method), as a
    researcher's offsets file to review (OUT/input_offsets/...); nothing is applied."""
    summary = run_level_command(
        MISSION,
        "estimate",
        _month(month),
        spacecraft=spacecraft,
        out_dir=out,
        source=source,
        show_outputs=True,
    )
    proposals = [p for r in summary.results if r.level == "estimate" for p in r.outputs]
    if to is not None and proposals:
        to.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(proposals[0], to)
        say(f"copied {proposals[0].name} to {to}")


@offsets_app.command("table")
def offsets_table_cmd(
    year: Annotated[int, typer.Argument(help="the year, YYYY")],
    spacecraft: ScOption = None,
    out: OutOption = None,
    to: Annotated[
        Path | None, typer.Option("--to", help="write it to this file (atomically) instead of printing it")
    ] = None,
) -> None:
    """The year's offsets table (the newest imported revision of each month, in the Counts
    layout): printed, or written with --to."""
    from magfw.api import mission_registry
    from magfw_stereo.counts import format_counts
    from magfw_stereo.tables import yearly_table

    mission = mission_registry().get(MISSION)
    sc = mission.resolve_spacecraft(spacecraft) or "A"
    text = format_counts(yearly_table(mission, output_tree(out), sc, year))
    if to is not None:
        write_bytes_atomic(to, text)
        say(f"wrote {to}")
        return
    say(text.decode("ascii").rstrip("\n"))

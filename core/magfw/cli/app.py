"""The ``magfw`` command tree (typer) and its root options; the commands register on it."""

from __future__ import annotations

from typing import Annotated

import typer

from magfw import __version__

app = typer.Typer(
    name="magfw",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    help="Turn spacecraft magnetometer telemetry into science products.",
)


def _version(value: bool) -> None:
    if value:
        from magfw import cli

        cli.out.print(f"magfw {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """magfw: mission-agnostic magnetometer processing."""

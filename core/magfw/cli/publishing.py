"""``magfw publish``: a level's products copied into a web-serving tree (see
:mod:`magfw.handoff.publish`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from magfw import cli
from magfw.cli.app import app
from magfw.config import resolve_out_dir
from magfw.period import parse_period
from magfw.plugin.manager import get_hooks


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
    into the PRADAN folders), else its flat files: only newer, never delete, each unit's
    files all or none, and only files whose size and SHA-256 the ledger recorded. E.g. the seed's
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
    cli.out.print(f"copied {len(report.copied)} files, {len(report.up_to_date)} already up to date")
    if report.units_missing:
        cli.err.print(f"magfw: not processed yet, nothing to publish: {', '.join(report.units_missing)}")
    for line in report.refused:
        cli.err.print(f"magfw: error: {line}", markup=False)
    if report.refused:
        raise typer.Exit(1)

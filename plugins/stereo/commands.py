"""``magfw stereo ...``: the monthly STEREO tools, added to the CLI by ``register_commands``.

- ``magfw stereo offsets import FILE``: the researcher's monthly offsets file → the month's
  Counts table (``counts_table``), a new revision in the output tree where ``magfw run
  stereo l1`` finds it.
- ``magfw stereo offsets estimate YYYY-MM``: a proposed offsets file from the month's 1-s
  averages (``prep_1s``), for the researcher to review; never applied by itself.
- ``magfw stereo merge YYYY-MM``: the monthly review CDFs (``monthly_review``).
- ``magfw stereo package YYYY-MM``: the delivery zip (``delivery_zip``), AES-encrypted when
  ``MAGFW_ZIP_PASSWORD`` is set.

Every command works on the output tree (``--out``, else ``MAGFW_DATA``, ``magfw.toml``,
``./magfw-data``), finds products through their definitions, writes atomically and reports a
user error as one line (exit 1; 2 for usage).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from magfw import hookimpl
from magfw.errors import UsageError
from magfw.mission import Mission

MISSION = "stereo"

stereo_app = typer.Typer(name=MISSION, no_args_is_help=True, rich_markup_mode=None,
                         help="STEREO IMPACT/MAG monthly tools: offsets, merge, package.")
offsets_app = typer.Typer(name="offsets", no_args_is_help=True, rich_markup_mode=None,
                          help="Zero offsets: import the researcher's file, or estimate one.")
stereo_app.add_typer(offsets_app, name="offsets")

OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="output tree")]
ScOption = Annotated[str | None, typer.Option("--spacecraft", "-s", help="A or B")]
MonthArg = Annotated[str, typer.Argument(help="the month, YYYY-MM")]


@hookimpl
def register_commands(app: typer.Typer) -> None:
    """Add ``magfw stereo ...``."""
    app.add_typer(stereo_app, name=MISSION)


# ---------------------------------------------------------------------------------------------
# Shared plumbing
# ---------------------------------------------------------------------------------------------


def _mission() -> Mission:
    from magfw.plugins import get_hooks

    return get_hooks().registry.get(MISSION)


def _plugin_version() -> str:
    from magfw.plugins import get_hooks

    return get_hooks().plugin_version(MISSION)


def _month(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if m is None or not 1 <= int(m[2]) <= 12:
        raise UsageError(None, f"month {text!r} is not YYYY-MM")
    return int(m[1]), int(m[2])


def _setup(out: Path | None) -> Path:
    """The output tree, with magfw's log inside it."""
    from magfw.cli import setup_logging
    from magfw.config import load_config, resolve_out_dir, state_dir

    out_dir = resolve_out_dir(out, load_config())
    setup_logging(state_dir(out_dir) / "logs" / "magfw.log")
    return out_dir


def _say(text: str) -> None:
    from magfw import cli

    cli.out.print(text, markup=False)


def _warn(text: str) -> None:
    from magfw import cli

    cli.err.print(f"magfw: warning: {text}", markup=False)


# ---------------------------------------------------------------------------------------------
# merge
# ---------------------------------------------------------------------------------------------


@stereo_app.command("merge")
def merge_cmd(month: MonthArg, spacecraft: ScOption = None, out: OutOption = None) -> None:
    """Merge the month's daily L1 CDFs into review CDFs (MAG/MAGB x SC/RTN), data only."""
    import logging

    from magfw_stereo.merge import day_ranges, merge_month

    year, mm = _month(month)
    mission = _mission()
    sc = mission.resolve_spacecraft(spacecraft) or "A"
    out_dir = _setup(out)
    report = merge_month(mission, out_dir, year, mm, sc, _plugin_version())
    log = logging.getLogger("magfw.stereo")
    for p in report.products:
        if p.path is None:
            if p.burst:
                _say(f"ST{sc} MAG{p.burst} {p.frame}: no burst files this month")
            continue
        _say(f"wrote {p.path} ({p.records:,} records from {len(p.days)} day(s))")
        log.info("merge %s: %s records from %s days", p.path.name, p.records, len(p.days))
    for product_id, days in report.missing_days.items():
        text = day_ranges(days)
        _warn(f"{product_id}: {len(days)} day(s) of {year:04d}-{mm:02d} missing, "
              f"merged the rest: {text}")
        log.warning("merge %s: missing days %s", product_id, text)


# ---------------------------------------------------------------------------------------------
# offsets
# ---------------------------------------------------------------------------------------------


@offsets_app.command("import")
def offsets_import_cmd(
    file: Annotated[Path, typer.Argument(help="the researcher's monthly offsets file")],
    spacecraft: ScOption = None,
    out: OutOption = None,
    k_from: Annotated[Path | None, typer.Option(
        "--k-from", help="Counts table to take K (nT/count) from (its last row); default: the "
                         "newest imported table up to this month, else the 2018 STEREO-A "
                         "values")] = None,
) -> None:
    """Import the researcher's offsets file as the month's Counts table (a new revision)."""
    import logging

    from magfw_stereo.merge import day_ranges
    from magfw_stereo.offsets import import_offsets

    mission = _mission()
    sc = mission.resolve_spacecraft(spacecraft) if spacecraft else None
    out_dir = _setup(out)
    res = import_offsets(mission, out_dir, file, sc, _plugin_version(), k_from)
    of = res.offsets
    month = f"{of.year:04d}-{of.month:02d}"
    log = logging.getLogger("magfw.stereo")
    if res.written:
        _say(f"wrote {res.path} (ST{of.spacecraft} {month}: {len(of.days)} days; "
             f"{res.k_source})")
        log.info("offsets import %s -> %s", file, res.path)
    else:
        _say(f"unchanged: {res.path} already holds these offsets (ST{of.spacecraft} {month})")
    if res.rounded:
        _warn(f"{file}: offsets rounded to 0.001 nT, the precision of the Counts table")
    if res.missing_days:
        _warn(f"{file}: no offsets for {len(res.missing_days)} day(s) of {month}: "
              f"{day_ranges(res.missing_days)} (magfw run stereo l1 refuses those days)")


@offsets_app.command("table")
def offsets_table_cmd(
    year: Annotated[int, typer.Argument(help="the year, YYYY")],
    spacecraft: ScOption = None,
    out: OutOption = None,
    to: Annotated[Path | None, typer.Option("--to", help="write it to this file (atomically) "
                                                         "instead of printing it")] = None,
) -> None:
    """The year's offsets table (the newest imported revision of each month, in the Counts
    layout): printed, or written with --to."""
    from magfw.io.atomic import write_bytes_atomic
    from magfw_stereo.counts import format_counts
    from magfw_stereo.offsets import yearly_table

    mission = _mission()
    sc = mission.resolve_spacecraft(spacecraft) or "A"
    out_dir = _setup(out)
    text = format_counts(yearly_table(mission, out_dir, sc, year))
    if to is not None:
        write_bytes_atomic(to, text)
        _say(f"wrote {to}")
        return
    from magfw import cli

    cli.out.print(text.decode("ascii"), markup=False, end="")


# ---------------------------------------------------------------------------------------------
# package
# ---------------------------------------------------------------------------------------------


@stereo_app.command("package")
def package_cmd(month: MonthArg, spacecraft: ScOption = None, out: OutOption = None) -> None:
    """Build the delivery zip stereo_MAG_MAGB_CDF_{yyyy}{mmm}.zip (AES-encrypted when
    MAGFW_ZIP_PASSWORD is set)."""
    import logging

    from magfw_stereo.merge import day_ranges
    from magfw_stereo.package import PASSWORD_ENV, package_month, password_from_env

    year, mm = _month(month)
    mission = _mission()
    sc = [mission.resolve_spacecraft(spacecraft)] if spacecraft else None
    password = password_from_env()
    out_dir = _setup(out)
    report = package_month(mission, out_dir, year, mm, sc, password, _plugin_version())
    n_cdf = sum(e.endswith(".cdf") for e in report.entries)
    state = "AES-256 encrypted" if report.encrypted else "NOT encrypted"
    _say(f"wrote {report.path} ({state}; ST{'+ST'.join(report.spacecraft)}: {n_cdf} CDFs, "
         f"Counts table, checksum list)")
    logging.getLogger("magfw.stereo").info("package %s: %s entries, %s", report.path,
                                           len(report.entries), state)
    if not report.encrypted:
        _warn(f"{PASSWORD_ENV} is not set: the zip is not encrypted")
    for what, days in report.missing_days.items():
        _warn(f"{what}: {len(days)} day(s) of {year:04d}-{mm:02d} missing, packaged the rest: "
              f"{day_ranges(days)}")
    for what, days in report.other_table.items():
        _warn(f"{what}: {len(days)} day(s) were processed with another offsets table than the "
              f"one packaged: {day_ranges(days)}; rerun `magfw run stereo l1` for them")


@offsets_app.command("estimate")
def offsets_estimate_cmd(
    month: MonthArg,
    spacecraft: ScOption = None,
    out: OutOption = None,
    to: Annotated[Path | None, typer.Option(
        "--to", help="file to write (default: OUT/input_offsets/STEREO_{sc}_offset_"
                     "{yyyy}{mon}_estimate.txt)")] = None,
) -> None:
    """Propose a month's offsets from the 1-s prep averages (Davis-Smith method), as a
    researcher's offsets file to review; nothing is applied."""
    import logging

    from magfw.errors import InputError
    from magfw.io.atomic import write_bytes_atomic
    from magfw_stereo.offsets import estimate_month, format_estimate, offsets_file_name

    year, mm = _month(month)
    mission = _mission()
    sc = mission.resolve_spacecraft(spacecraft) or "A"
    out_dir = _setup(out)
    est = estimate_month(mission, out_dir, sc, year, mm)
    proposed = est.proposed()
    if not proposed:
        m = est.month_estimate
        raise InputError(est.inputs[0].parent, f"no offsets can be proposed for ST{sc} "
                         f"{year:04d}-{mm:02d}: too few Alfvenic intervals ({m.windows} selected, "
                         f"condition {m.condition:.3f})")
    target = to or out_dir / "input_offsets" / offsets_file_name(sc, year, mm, "estimate")
    write_bytes_atomic(target, format_estimate(est))
    m = est.month_estimate
    n_day = sum(src == "day" for _, src in proposed.values())
    _say(f"wrote {target}: proposed offsets for {len(proposed)} of {len(est.days)} days "
         f"({n_day} from their own intervals); month O = "
         f"({', '.join(f'{v:+.3f}' for v in m.offsets)}) nT +- "
         f"({', '.join(f'{v:.3f}' for v in m.sigma)}) from {m.windows} intervals. "
         "Not applied: review it, then `magfw stereo offsets import` it.")
    logging.getLogger("magfw.stereo").info("offsets estimate %s -> %s", month, target)
    missing = [d for d in est.days if d not in proposed]
    if missing:
        from magfw_stereo.merge import day_ranges

        _warn(f"no proposal for {day_ranges(missing)}: the researcher must supply these days")

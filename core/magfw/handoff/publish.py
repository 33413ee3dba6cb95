"""Publishing: copy a level's products into a web-serving tree, only what is newer.

``magfw publish MISSION LEVEL PERIOD --to DIR`` copies the outputs the ledger recorded for the
period's units (the newest run of each) under DIR, like ``cp -pu``: a file is copied when the
destination is missing, older than the source or of another size; modification times are
preserved and nothing is ever deleted. A file is copied only if its size and SHA-256 are the
ones the ledger recorded (a product overwritten outside the runner is refused, with one line,
and its unit left as it is in DIR). A unit's files go in together, all or none
(:mod:`magfw.handoff.install`): a full disk or a read-only folder leaves DIR's earlier copy of
the unit (a flat-file pair, say) whole, never the new header beside the old data.

Which files and where: a product whose definition declares a ``publish`` folder template
(e.g. Aditya's ``mag/level2/{yyyy}/{mm}/{dd}``, the ISSDC PRADAN layout) goes into that folder;
by default every such product of the level is published. A level whose definitions declare
none publishes its flat files at their paths in the output tree. ``--format`` picks formats
instead. A selection narrows or widens that:

- ``--product ID`` (repeatable): only those products; a product of a level the requested level
  needs (same mission) is taken from that level's units in the period (``magfw publish plastic
  l2 2024 --product merged_monthly_ff`` publishes the monthly flat files of 2024);
- ``--all-levels``: the level and every level of the mission it needs (everything the run
  made);
- ``--from SUBDIR``: paths are taken relative to SUBDIR of the output tree (files outside it
  are left out), so a web tree that lacks magfw's top folder is served as it is
  (``--from monthly_flatfile --to /web/MONTHLY`` puts ``monthly_flatfile/Afgy2024/jan_...`` at
  ``/web/MONTHLY/Afgy2024/jan_...``). A product with a publish layout keeps its layout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from magfw.config import state_dir
from magfw.engine.ledger import Ledger, LedgerEntry
from magfw.errors import MagfwError, UsageError, os_error
from magfw.handoff.install import FileCopy, Refused, install_together
from magfw.period import Period, plan_units
from magfw.plugin.definitions import ProductDefinition
from magfw.plugin.mission import Mission


@dataclass
class PublishReport:
    """What a publish did: files copied, files already there, units not processed yet, and one
    line for each unit refused (a file not what the ledger recorded)."""

    copied: list[Path] = field(default_factory=list)
    up_to_date: list[Path] = field(default_factory=list)
    units_missing: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def _levels(mission: Mission, level: str) -> list[str]:
    """``level`` and the levels of the same mission it needs, transitively, nearest first."""
    order, todo = [], [level]
    while todo:
        name = todo.pop(0)
        if name in order:
            continue
        order.append(name)
        todo += [n.split("/", 1)[1] for n in mission.level(name).needs if n.split("/", 1)[0] == mission.id]
    return order


def publish(
    mission: Mission,
    level: str,
    period: Period,
    spacecraft: str | None,
    out_dir: Path,
    to: Path,
    formats: tuple[str, ...] | None = None,
    *,
    products: tuple[str, ...] = (),
    all_levels: bool = False,
    from_dir: str | None = None,
) -> PublishReport:
    """Copy the newer products of ``mission level period`` from ``out_dir`` to ``to`` (the
    selection in the module docstring; ``formats`` None: the products with a publish layout,
    else the flat files)."""
    from magfw.engine.jobs import unit_id

    mission.level(level)
    _check_target(to)
    for pid in products:
        mission.product(pid)  # an unknown product id is a usage error
    sc = mission.resolve_spacecraft(spacecraft)
    defs = {p.id: p for p in mission.products}
    chosen = _chosen_levels(mission, level, products, all_levels)
    wanted = _wanted_products(mission, chosen, products, formats, defs)
    prefix = Path(from_dir.strip("/")) if from_dir else None
    ledger_path = state_dir(out_dir) / "ledger.sqlite"
    if not ledger_path.exists():
        raise MagfwError(out_dir, "no ledger here: nothing has been processed into this tree")
    ledger = Ledger(ledger_path)
    report = PublishReport()
    for name in chosen:
        lvl = mission.level(name)
        unit_sc = sc if lvl.per_spacecraft else None
        for unit in plan_units(period, lvl.unit):
            _publish_unit(
                ledger.last_ok(unit_id(mission.id, name, unit_sc, unit)),
                unit.key,
                name == chosen[0],
                out_dir,
                to,
                wanted,
                defs,
                prefix,
                report,
            )
    return report


def _chosen_levels(mission: Mission, level: str, products: tuple[str, ...], all_levels: bool) -> list[str]:
    """The levels whose units are published, ``level`` first: with ``--product``, those of
    ``level`` and the levels it needs that make one of them (a usage error when none does);
    else ``level``, or with ``--all-levels`` it and every level it needs."""
    chain = _levels(mission, level)
    if not products:
        return chain if all_levels else [level]
    chosen = [n for n in chain if set(mission.level(n).products) & set(products)]
    if not chosen:
        raise UsageError(
            None,
            f"{', '.join(products)}: not made by {mission.id} {level} "
            f"or the levels it needs ({', '.join(chain)})",
        )
    return chosen


def _wanted_products(
    mission: Mission,
    chosen: list[str],
    products: tuple[str, ...],
    formats: tuple[str, ...] | None,
    defs: Mapping[str, ProductDefinition],
) -> set[str]:
    """The ids of the products published: those given (of the ``formats`` given); else the
    products of ``formats``; else those of the chosen levels with a publish layout, or where
    none has one, their flat files."""
    if products:
        if formats is None:
            return set(products)
        return {p for p in products if defs[p].format in formats}
    if formats is not None:
        return {p.id for p in mission.products if p.format in formats}
    made = [p for n in chosen for p in mission.level_products(n)]
    laid_out = {p.id for p in made if p.publish is not None}
    return laid_out or {p.id for p in made if p.format == "flatfile"}


def _check_target(to: Path) -> None:
    """``--to`` must be a folder, or a path one can be made at (usage error otherwise)."""
    existing = next((p for p in (to, *to.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        what = "--to" if existing == to else f"--to {to}: {existing}"
        raise UsageError(to if existing == to else None, f"{what} is a file, not a folder")


def _publish_unit(
    entry: LedgerEntry | None,
    key: str,
    own: bool,
    out_dir: Path,
    to: Path,
    wanted: set[str],
    defs: Mapping[str, ProductDefinition],
    prefix: Path | None,
    report: PublishReport,
) -> None:
    """Install the unit's newer files together (or refuse the unit with one line)."""
    if entry is None:
        if own:
            report.units_missing.append(key)
        return
    todo: list[FileCopy] = []
    for o in entry.outputs:
        if o["product"] not in wanted:
            continue
        laid_out = defs[o["product"]].publish_path(o["path"])
        rel = Path(laid_out if laid_out is not None else o["path"])
        if prefix is not None and laid_out is None:
            if rel.parts[: len(prefix.parts)] != prefix.parts:
                continue
            rel = Path(*rel.parts[len(prefix.parts) :])
        src, dst = out_dir / o["path"], to / rel
        if not src.is_file():
            raise MagfwError(src, "recorded in the ledger but missing: rerun the level")
        if _up_to_date(src, dst, int(o["size"])):
            report.up_to_date.append(dst)
        else:
            todo.append(FileCopy(src=src, dst=dst, size=int(o["size"]), sha256=str(o["sha256"])))
    if not todo:
        return
    try:
        install_together(todo)
    except Refused as exc:
        report.refused.append(f"{exc}: not published; {key} left as it was in {to} (rerun the level)")
        return
    except OSError as exc:
        where = exc.filename or todo[0].dst
        done = f" ({len(report.copied)} files published before it)" if report.copied else ""
        raise MagfwError(
            None, f"{os_error(exc, where, 'publishing to')}: {key} left as it was{done}"
        ) from exc
    report.copied += [c.dst for c in todo]


def _up_to_date(src: Path, dst: Path, size: int) -> bool:
    """``cp -pu``: the copy is there, as new as the source, and of the recorded size."""
    try:
        st = dst.stat()
    except (FileNotFoundError, NotADirectoryError):  # a file in the way: install says so
        return False
    return st.st_size == size and st.st_mtime_ns >= src.stat().st_mtime_ns

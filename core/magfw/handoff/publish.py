"""Publishing: copy a level's products into a web-serving tree, only what is newer.

``magfw publish MISSION LEVEL PERIOD --to DIR`` copies the outputs the ledger recorded for the
period's units (the newest run of each) under DIR, like ``cp -pu``: a file is copied when the
destination is missing or older than the source, modification times are preserved, nothing is
ever deleted, and each copy is atomic.

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

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from magfw.config import state_dir
from magfw.engine.ledger import Ledger, LedgerEntry
from magfw.errors import MagfwError, UsageError
from magfw.io.atomic import atomic_path
from magfw.period import Period, plan_units
from magfw.plugin.definitions import ProductDefinition
from magfw.plugin.mission import Mission


@dataclass
class PublishReport:
    copied: list[Path] = field(default_factory=list)
    up_to_date: list[Path] = field(default_factory=list)
    units_missing: list[str] = field(default_factory=list)


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
    for pid in products:
        mission.product(pid)  # an unknown product id is a usage error
    sc = mission.resolve_spacecraft(spacecraft)
    defs = {p.id: p for p in mission.products}
    chain = _levels(mission, level)
    if products:
        chosen = [n for n in chain if set(mission.level(n).products) & set(products)]
        if not chosen:
            raise UsageError(
                None,
                f"{', '.join(products)}: not made by {mission.id} {level} "
                f"or the levels it needs ({', '.join(chain)})",
            )
    else:
        chosen = chain if all_levels else [level]
    if products:
        wanted = set(products) if formats is None else {p for p in products if defs[p].format in formats}
    elif formats is None:
        made = [p for n in chosen for p in mission.level_products(n)]
        laid_out = {p.id for p in made if p.publish is not None}
        wanted = laid_out or {p.id for p in made if p.format == "flatfile"}
    else:
        wanted = {p.id for p in mission.products if p.format in formats}
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
    if entry is None:
        if own:
            report.units_missing.append(key)
        return
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
        if dst.exists() and dst.stat().st_mtime >= src.stat().st_mtime:
            report.up_to_date.append(dst)
            continue
        with atomic_path(dst) as tmp:
            shutil.copy2(src, tmp)
        os.utime(dst, ns=(src.stat().st_atime_ns, src.stat().st_mtime_ns))
        report.copied.append(dst)

"""Publishing: copy a level's products into a web-serving tree, only what is newer.

``magfw publish MISSION LEVEL PERIOD --to DIR`` copies the outputs the ledger recorded for the
period's units (the newest run of each) under DIR, like ``cp -pu``: a file is copied when the
destination is missing or older than the source, modification times are preserved, nothing is
ever deleted, and each copy is atomic.

Which files and where: a product whose definition declares a ``publish`` folder template
(e.g. Aditya's ``mag/level2/{yyyy}/{mm}/{dd}``, the ISSDC PRADAN layout) goes into that folder;
by default every such product of the level is published. A level whose definitions declare
none publishes its flat files at their paths in the output tree. ``--format`` picks formats
instead.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from magfw.config import state_dir
from magfw.errors import MagfwError
from magfw.io.atomic import atomic_path
from magfw.ledger import Ledger
from magfw.mission import Mission
from magfw.period import Period, plan_units


@dataclass
class PublishReport:
    copied: list[Path] = field(default_factory=list)
    up_to_date: list[Path] = field(default_factory=list)
    units_missing: list[str] = field(default_factory=list)


def publish(mission: Mission, level: str, period: Period, spacecraft: str | None, out_dir: Path,
            to: Path, formats: tuple[str, ...] | None = None) -> PublishReport:
    """Copy the newer products of ``mission level period`` from ``out_dir`` to ``to``
    (``formats`` None: the products with a publish layout, else the flat files)."""
    from magfw.jobs import unit_id

    lvl = mission.level(level)
    sc = mission.resolve_spacecraft(spacecraft)
    defs = {p.id: p for p in mission.products}
    laid_out = {p.id for p in mission.level_products(level) if p.publish is not None}
    if formats is None:
        wanted = laid_out if laid_out else {p.id for p in mission.products
                                            if p.format == "flatfile"}
    else:
        wanted = {p.id for p in mission.products if p.format in formats}
    ledger_path = state_dir(out_dir) / "ledger.sqlite"
    if not ledger_path.exists():
        raise MagfwError(out_dir, "no ledger here: nothing has been processed into this tree")
    ledger = Ledger(ledger_path)
    report = PublishReport()
    for unit in plan_units(period, lvl.unit):
        entry = ledger.last_ok(unit_id(mission.id, lvl.name, sc, unit))
        if entry is None:
            report.units_missing.append(unit.key)
            continue
        for o in entry.outputs:
            if o["product"] not in wanted:
                continue
            d = defs[o["product"]]
            src, dst = out_dir / o["path"], to / (d.publish_path(o["path"]) or o["path"])
            if not src.is_file():
                raise MagfwError(src, "recorded in the ledger but missing: rerun the level")
            if dst.exists() and dst.stat().st_mtime >= src.stat().st_mtime:
                report.up_to_date.append(dst)
                continue
            with atomic_path(dst) as tmp:
                shutil.copy2(src, tmp)
            os.utime(dst, ns=(src.stat().st_atime_ns, src.stat().st_mtime_ns))
            report.copied.append(dst)
    return report

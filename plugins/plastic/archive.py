"""Where the merge finds its inputs: PLASTIC ASCII in the archive, MAG L1 RTN products (output
tree first, then the archive), and earlier merged daily products in the output tree.

PLASTIC layout under the ``--source`` root (the SSC tree ``.../plastic/level2/Protons/
Derived_from_1D_Maxwellian/`` is such a root; research/stereo.md 3.2)::

    ASCII/{1min,10min,1hr}/{A,B}/YYYY/ST{A,B}_L2_PLA_1DMax_{res}_YYYYMMDD_DDD_Vnn.txt

and, as a second place, the seed's copy ``unh/1DMax_ascii/{A,B}/YYYY/`` (give
``--source .../unh/1DMax_ascii``): ``{A,B}/YYYY/ST..._1min_...txt``. The highest version of a
day wins; ``--vnum N`` takes version N only (a day without it is a missing day).

MAG L1 RTN is found through the stereo mission's definition ``l1_mag_rtn`` (the registry's,
else the shipped YAML): the newest version in the output tree, else in the archive at the
definition's relative path. Nothing here imports the STEREO plugin.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from magfw.context import UnitContext
from magfw.errors import MagfwError
from magfw.fetch import Archive
from magfw.products import ProductDefinition, shipped_definitions
from magfw_plastic.reader import ASCII_NAME

MAG_MISSION, MAG_PRODUCT = "stereo", "l1_mag_rtn"


def plastic_dirs(sc: str, res: str, year: int) -> list[str]:
    """Archive directories that may hold a year of PLASTIC files, in the order searched."""
    return [f"ASCII/{res}/{sc}/{year:04d}", f"{sc}/{year:04d}"]


def find_plastic(archive: Archive, sc: str, days: list[date], vnum: int | None,
                 res: str = "1min") -> dict[date, str]:
    """The PLASTIC file (archive-relative path) of each day that has one: highest version, or
    version ``vnum``. One directory listing per year and layout."""
    wanted = {d.strftime("%Y%m%d"): d for d in days}
    best: dict[date, tuple[int, str]] = {}
    for year in sorted({d.year for d in days}):
        for folder in plastic_dirs(sc, res, year):
            for name in archive.list(folder):
                m = ASCII_NAME.match(name)
                if m is None or m.group("sc") != sc or m.group("res") != res:
                    continue
                day = wanted.get(m.group("yyyy") + m.group("mm") + m.group("dd"))
                if day is None:
                    continue
                version = int(m.group("version"))
                if vnum is not None and version != vnum:
                    continue
                cur = best.get(day)
                if cur is None or version > cur[0]:
                    best[day] = (version, f"{folder}/{name}")
            if best and all(d in best for d in days if d.year == year):
                break
    return {d: best[d][1] for d in sorted(best)}


def mag_definition(ctx: UnitContext) -> ProductDefinition:
    """The MAG L1 RTN definition: the registered stereo mission's, else the shipped YAML."""
    if MAG_MISSION in ctx.registry:
        return ctx.registry.get(MAG_MISSION).product(MAG_PRODUCT)
    for d in shipped_definitions(MAG_MISSION):
        if d.id == MAG_PRODUCT:
            return d
    raise MagfwError(None, f"no product definition {MAG_MISSION}/{MAG_PRODUCT} installed")


def _version(definition: ProductDefinition, rel: str) -> int:
    parsed = definition.filename.parse(rel) or {}
    v = parsed.get(definition.version.field, 0)
    return int(v) if isinstance(v, int) else 0


def _day_fields(sc: str, day: date) -> dict[str, object]:
    return {"sc": sc, "yyyy": day.year, "mm": day.month, "dd": day.day}


def find_mag_in_tree(ctx: UnitContext, definition: ProductDefinition, sc: str, day: date
                     ) -> Path | None:
    """The newest MAG L1 RTN product of ``day`` in the output tree, or None."""
    fields = _day_fields(sc, day)
    if MAG_MISSION in ctx.registry:
        found = ctx.find_products(MAG_MISSION, MAG_PRODUCT, **fields)
    else:
        pattern = definition.filename.glob(**fields)
        found = sorted((p for p in ctx.out_dir.glob(pattern)
                        if definition.filename.parse(p.relative_to(ctx.out_dir).as_posix())),
                       key=lambda p: (_version(definition, p.relative_to(ctx.out_dir).as_posix()),
                                      p.name))
    return found[-1] if found else None


def find_mag_in_archive(archive: Archive, definition: ProductDefinition, sc: str, day: date
                        ) -> str | None:
    """The newest MAG L1 RTN file of ``day`` in the archive (same relative layout), or None."""
    pattern = definition.filename.glob(**_day_fields(sc, day))
    folder, _, name = pattern.rpartition("/")
    if "*" in folder:  # a directory field other than sc/yyyy/mm/dd: cannot be listed
        return None
    hits = [h for h in archive.glob(folder, name) if definition.filename.parse(h)]
    if not hits:
        return None
    return max(hits, key=lambda h: (_version(definition, h), h))


def find_merged_dailies(ctx: UnitContext, sc: str, year: int) -> dict[date, Path]:
    """The merged daily CDFs of ``year`` already in the output tree (newest version per day).

    Lists the product's folder and parses names with the definition (``ctx.find_products``
    cannot be used for a whole year: its glob puts two wildcards side by side, ``2024**``,
    which pathlib rejects)."""
    d = ctx.product("merged_daily")
    folder = d.filename.glob(sc=sc, yyyy=year, mm=1, dd=1).rpartition("/")[0]
    root = ctx.out_dir / folder
    best: dict[date, tuple[int, Path]] = {}
    if not root.is_dir():
        return {}
    for p in sorted(root.iterdir()):
        fields = d.filename.parse(p.relative_to(ctx.out_dir).as_posix())
        if not fields or fields.get("sc") != sc or fields.get("yyyy") != year:
            continue
        day = date(fields["yyyy"], fields["mm"], fields["dd"])
        v = int(fields.get(d.version.field, 0))
        if day not in best or v > best[day][0]:
            best[day] = (v, p)
    return {k: v[1] for k, v in sorted(best.items())}

"""Where the merge finds its inputs: PLASTIC ASCII in the archive, MAG L1 RTN products (output
tree first, then the archive), and the merged daily products in the output tree.

PLASTIC layout under the ``--source`` root (the SSC tree ``.../plastic/level2/Protons/
Derived_from_1D_Maxwellian/`` is such a root; research/stereo.md 3.2)::

    ASCII/{1min,10min,1hr}/{A,B}/YYYY/ST{A,B}_L2_PLA_1DMax_{res}_YYYYMMDD_DDD_Vnn.txt

and, as a second place, the seed's copy ``unh/1DMax_ascii/{A,B}/YYYY/`` (give
``--source .../unh/1DMax_ascii``): ``{A,B}/YYYY/ST..._1min_...txt``. The highest version of a
day wins; ``--vnum N`` takes version N only (a day without it is a missing day).

MAG L1 RTN is the stereo mission's product ``l1_mag_rtn``: the newest version in the output
tree, found through the registry (``ctx.newest_products``; the shipped stereo definition when
the stereo mission is not loaded), else the archive at the definition's relative path (the
PLASTIC simulator writes MAG there). Nothing here imports the STEREO plugin.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta

from magfw.api import (
    Archive,
    FoundProduct,
    MagfwError,
    ProductDefinition,
    UnitContext,
    highest,
    newest_products,
    shipped_definitions,
)
from magfw_plastic.reader import ASCII_NAME

MAG_MISSION, MAG_PRODUCT = "stereo", "l1_mag_rtn"
#: The MAG daily flat file (8 Hz RTN) the seed merges from (``l1_final_flat``).
MAG_FLAT_PRODUCT = "l1_mag_rtn_ff"


def plastic_dirs(sc: str, res: str, year: int) -> list[str]:
    """Archive directories that may hold a year of PLASTIC files, in the order searched."""
    return [f"ASCII/{res}/{sc}/{year:04d}", f"{sc}/{year:04d}"]


def find_plastic(
    archive: Archive, sc: str, days: list[date], vnum: int | None, res: str = "1min"
) -> dict[date, str]:
    """The PLASTIC file (archive-relative path) of each day that has one: highest version, or
    version ``vnum``. One directory listing per year and layout."""
    wanted = {d.strftime("%Y%m%d"): d for d in days}
    found: dict[date, str] = {}
    for year in sorted({d.year for d in days}):
        for folder in plastic_dirs(sc, res, year):
            files: dict[str, tuple[date, int]] = {}
            for name in archive.list(folder):
                m = ASCII_NAME.match(name)
                if m is None or m.group("sc") != sc or m.group("res") != res:
                    continue
                day = wanted.get(m.group("yyyy") + m.group("mm") + m.group("dd"))
                if day is not None and (vnum is None or int(m.group("version")) == vnum):
                    files[f"{folder}/{name}"] = (day, int(m.group("version")))
            best = highest(
                files.items(), key=lambda it: it[1][0], version=lambda it: it[1][1], tie=lambda it: it[0]
            )
            found.update({d: it[0] for d, it in best.items() if d not in found})
            if found and all(d in found for d in days if d.year == year):
                break
    return dict(sorted(found.items()))


def plastic_version(rel: str) -> str | None:
    """``V11`` from a PLASTIC file's name, or None."""
    m = ASCII_NAME.match(rel.rsplit("/", 1)[-1])
    return f"V{m['version']}" if m else None


def neighbours(day: date) -> list[date]:
    """The day before, the day, the day after (edge cycles cross midnight)."""
    return [day - timedelta(days=1), day, day + timedelta(days=1)]


@functools.cache
def shipped_mag_definition(product: str = MAG_PRODUCT) -> ProductDefinition:
    """A MAG L1 definition shipped with magfw (loaded once per process)."""
    for d in shipped_definitions(MAG_MISSION):
        if d.id == product:
            return d
    raise MagfwError(None, f"no product definition {MAG_MISSION}/{product} installed")


def mag_definition(ctx: UnitContext, product: str = MAG_PRODUCT) -> ProductDefinition:
    """A MAG L1 definition: the registered stereo mission's, else the shipped YAML."""
    if MAG_MISSION in ctx.registry:
        return ctx.registry.get(MAG_MISSION).product(product)
    return shipped_mag_definition(product)


def _day_fields(sc: str, day: date) -> dict[str, object]:
    return {"sc": sc, "yyyy": day.year, "mm": day.month, "dd": day.day}


def find_mag_in_tree(ctx: UnitContext, sc: str, day: date, product: str = MAG_PRODUCT) -> FoundProduct | None:
    """The newest MAG L1 RTN product (``product``) of ``day`` in the output tree, or None."""
    fields = _day_fields(sc, day)
    if MAG_MISSION in ctx.registry:
        found = ctx.newest_products(MAG_MISSION, product, **fields)
    else:  # the stereo plugin is not loaded: its shipped definition names the files
        found = newest_products(ctx.out_dir, mag_definition(ctx, product), **fields)
    return max(found, key=lambda f: (f.version, f.rel)) if found else None


def _version(definition: ProductDefinition, rel: str) -> int:
    parsed = definition.filename.parse(rel) or {}
    v = parsed.get(definition.version.field, 0)
    return int(v) if isinstance(v, int) else 0


def find_mag_in_archive(archive: Archive, definition: ProductDefinition, sc: str, day: date) -> str | None:
    """The newest MAG L1 RTN file of ``day`` in the archive (same relative layout), or None."""
    pattern = definition.filename.glob(**_day_fields(sc, day))
    folder, _, name = pattern.rpartition("/")
    if "*" in folder:  # a directory field other than sc/yyyy/mm/dd: cannot be listed
        return None
    hits = [h for h in archive.glob(folder, name) if definition.filename.parse(h)]
    best = highest(hits, key=lambda h: day, version=lambda h: _version(definition, h), tie=lambda h: h)
    return best.get(day)


def find_dailies(ctx: UnitContext, sc: str, product_id: str) -> dict[date, FoundProduct]:
    """The merged daily products ``product_id`` (``merged_daily`` or ``merged_daily_ff``) of
    the unit's month or year in the output tree: the highest version of each day, by day."""
    fields: dict[str, object] = {"sc": sc, "yyyy": ctx.unit.start.year}
    if ctx.unit.kind == "month":
        fields["mm"] = ctx.unit.start.month
    found = ctx.newest_products(ctx.mission.id, product_id, **fields)
    out: dict[date, FoundProduct] = {}
    for f in found:
        day = f.day
        if day is None or not ctx.unit.start <= day <= ctx.unit.end:
            continue
        cur = out.get(day)
        if cur is None or (f.version, f.rel) > (cur.version, cur.rel):
            out[day] = f
    return dict(sorted(out.items()))

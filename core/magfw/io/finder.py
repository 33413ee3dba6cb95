"""Finding products in an output tree, and the one "highest version wins" rule.

Every part of magfw that looks for product files (a level reading another level's products,
the monthly merge and package, publish, serve) goes through :func:`find_products`: files are
found and parsed through their definition's file name (directory and template), never by a
hard-coded path. :func:`highest` is the single rule for picking the newest of several versions,
used here and by :func:`magfw.fetch.pick_highest_version` for archive listings.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from magfw.period import MONTH_ABBR
from magfw.plugin.definitions import ProductDefinition

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

#: File-name fields that give a product's date (the runner fills them from the unit).
DATE_FIELDS = ("yyyy", "yy", "mm", "mmm", "dd", "doy")


def highest(
    items: Iterable[T], key: Callable[[T], K], version: Callable[[T], int], tie: Callable[[T], str] = str
) -> dict[K, T]:
    """For each ``key``, the item with the highest ``version``; equal versions are decided by
    the smallest ``tie`` text, so the result never depends on listing order. Ordered by key
    where keys are comparable."""
    best: dict[K, T] = {}
    for item in items:
        k = key(item)
        cur = best.get(k)
        if (
            cur is None
            or version(item) > version(cur)
            or (version(item) == version(cur) and tie(item) < tie(cur))
        ):
            best[k] = item
    try:
        return {k: best[k] for k in sorted(best)}  # type: ignore[type-var]
    except TypeError:
        return best


@dataclass(frozen=True)
class FoundProduct:
    """A product file in the output tree, with its parsed file-name fields."""

    path: Path
    rel: str  # path relative to the output tree, "/"-separated
    fields: dict[str, Any] = field(hash=False)
    version: int | None  # the version field's value (None when the name has none)

    @property
    def day(self) -> date | None:
        """The file's date from ``yyyy``/``mm``/``dd`` (or ``doy``), if its name has them."""
        f = self.fields
        try:
            year = int(f["yyyy"]) if "yyyy" in f else 2000 + int(f["yy"])
            if "mm" in f and "dd" in f:
                return date(year, int(f["mm"]), int(f["dd"]))
            if "doy" in f:
                return date.fromordinal(date(year, 1, 1).toordinal() + int(f["doy"]) - 1)
        except (KeyError, ValueError):
            return None
        return None


def find_products(out_dir: Path, definition: ProductDefinition, **given: Any) -> list[FoundProduct]:
    """Every file of ``definition`` under ``out_dir`` whose name fields match ``given``
    (all versions), sorted by path. Hidden files and temporaries are ignored."""
    out_dir = Path(out_dir)
    fn = definition.filename
    vf = definition.version.field
    found: list[FoundProduct] = []
    for path in out_dir.glob(fn.glob(**given)):
        if path.name.startswith(".") or not path.is_file():
            continue
        rel = path.relative_to(out_dir).as_posix()
        fields = fn.parse(rel)
        if fields is None or any(fields.get(k) != _norm(fn, k, v) for k, v in given.items()):
            continue
        version = fields.get(vf)
        found.append(FoundProduct(path, rel, fields, int(version) if isinstance(version, int) else None))
    return sorted(found, key=lambda f: f.rel)


def _norm(fn: Any, name: str, value: Any) -> Any:
    return int(value) if name in fn.fields and fn.fields[name].kind == "int" else value


def newest_products(out_dir: Path, definition: ProductDefinition, **given: Any) -> list[FoundProduct]:
    """The highest version of each product of ``definition`` matching ``given`` (one file per
    combination of the other name fields), sorted by path."""
    vf = definition.version.field
    best = highest(
        find_products(out_dir, definition, **given),
        key=lambda f: tuple(sorted((k, str(v)) for k, v in f.fields.items() if k != vf)),
        version=_version,
        tie=lambda f: f.rel,
    )
    return sorted(best.values(), key=lambda f: f.rel)


def _version(f: FoundProduct) -> int:
    return -1 if f.version is None else f.version


def newest_by_day(out_dir: Path, definition: ProductDefinition, **given: Any) -> dict[date, FoundProduct]:
    """The highest version of each day's file of ``definition`` (names with a date), by day."""
    return highest(
        (f for f in find_products(out_dir, definition, **given) if f.day is not None),
        key=lambda f: f.day,  # type: ignore[arg-type, return-value]
        version=_version,
        tie=lambda f: f.rel,
    )


def date_fields(day: date) -> dict[str, Any]:
    """The date fields of a file name for ``day`` (``yyyy yy mm mmm dd doy``)."""
    return {
        "yyyy": day.year,
        "yy": day.year % 100,
        "mm": day.month,
        "mmm": MONTH_ABBR[day.month - 1],
        "dd": day.day,
        "doy": day.timetuple().tm_yday,
    }

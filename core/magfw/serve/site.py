"""What the review pages show of a mission's levels: which datasets stand for a level and
spacecraft, the units of a month, the months with data, each day's quality and coverage, and
the month figure (made and cached here, drawn by :mod:`magfw.serve.monthfigure`).

A level and spacecraft is shown through its time-series datasets, CDF and netCDF before flat
files (a flat file stands for a level only when it has nothing else), one per frame: the
first dataset of each set of month-figure panels (STEREO L1 gives ``STA_L1_MAG_SC`` and
``STA_L1_MAG_RTN``; the burst and flat-file copies of the same frames are not drawn twice).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from magfw.geometry.time import day_bounds_tt2000
from magfw.plugin.mission import AnyLevel, Mission
from magfw.serve import monthfigure as mf
from magfw.serve.cache import Cache
from magfw.serve.calendars import month_last, months_between
from magfw.serve.datasets import Dataset
from magfw.serve.files import ProductFiles
from magfw.serve.holdings import Holdings, ProductFile, UnitKey
from magfw.serve.metadata import Metadata
from magfw.serve.quality import UnitQuality, xml_quality


def day_span(first: date, last: date) -> tuple[int, int]:
    """TT2000 of the start of ``first`` and of the day after ``last``."""
    return int(day_bounds_tt2000(first)[0]), int(day_bounds_tt2000(last)[1])


class Site:
    """The review site's view of the tree (module notes)."""

    def __init__(
        self,
        holdings: Holdings,
        catalog: dict[str, Dataset],
        missions: list[Mission],
        files: ProductFiles,
        meta: Metadata,
        cache: Cache,
    ) -> None:
        self.h = holdings
        self.catalog = catalog
        self.missions = {m.id: m for m in missions}
        self.files = files
        self.meta = meta
        self.cache = cache
        self.quality = UnitQuality(files, cache)

    def levels(self, mission: Mission) -> Iterator[tuple[AnyLevel, str | None]]:
        for level in mission.levels.values():
            for sc in mission.spacecraft if level.per_spacecraft and mission.spacecraft else [None]:
                yield level, sc

    def datasets(self, mission: str, level: str, sc: str | None) -> list[Dataset]:
        """The datasets standing for the level and spacecraft (module notes)."""
        mine = [
            ds
            for ds in self.catalog.values()
            if ds.mission == mission and level in ds.levels and ds.spacecraft == sc
        ]
        mine.sort(key=lambda ds: ds.definition.format == "flatfile")
        if any(ds.definition.format != "flatfile" for ds in mine):
            mine = [ds for ds in mine if ds.definition.format != "flatfile"]
        chosen: dict[tuple[str, ...], Dataset] = {}
        for ds in mine:
            key = tuple(p.label for p in mf.month_panels(ds)) or (ds.id,)
            chosen.setdefault(key, ds)
        return list(chosen.values())

    def units_in(self, mission: str, level: str, sc: str | None, first: date) -> list[UnitKey]:
        """The level's units overlapping the month starting ``first``."""
        last = month_last(first)
        return [u for u in self.h.units(mission, level, sc) if u.start <= last and u.end >= first]

    def months(self, mission: Mission) -> list[str]:
        """``YYYY-MM`` of every month with a unit of a day or month level, or with records of
        a year level (a year unit counts only the months its records fall in); blocking."""
        months: set[str] = set()
        for level, sc in self.levels(mission):
            units = self.h.units(mission.id, level.name, sc)
            if level.unit != "year":
                months |= {f"{u.start:%Y-%m}" for u in units}
                continue
            for ds in self.datasets(mission.id, level.name, sc) if units else []:
                cov = self.meta.coverage(ds)
                if cov is not None:
                    lo, hi = (day_of(t) for t in (cov.first, cov.last))
                    months |= set(months_between(lo, hi))
        return sorted(months)

    # -- quality -------------------------------------------------------------------------

    def unit_quality(self, ds: Dataset, unit: UnitKey) -> dict[str, Any]:
        """The quality figures of all the unit's files of ``ds``, over the unit's days;
        blocking."""
        products = self.h.unit_products(ds, unit)
        if not products:
            return {}
        t0, t1 = day_span(unit.start, unit.end)
        return self.quality.unit(ds, products, t0, t1)

    def unit_xml(self, unit: UnitKey) -> list[dict[str, str]]:
        """The ``quality`` elements of the XML files the unit's latest successful run wrote."""
        e = self.h.current(unit.unit)
        out: list[dict[str, str]] = []
        for o in e.outputs if e is not None else []:
            rec = self.h.recorded(o["path"]) if o["path"].lower().endswith(".xml") else None
            if rec is not None:
                out += xml_quality(self.h.path(rec[0]))
        return out

    # -- the month figure ----------------------------------------------------------------

    def month_products(self, ds: Dataset, first: date) -> list[ProductFile]:
        units = self.units_in(ds.mission, ds.levels[0], ds.spacecraft, first)
        return [pf for u in units for pf in self.h.unit_products(ds, u)]

    def month_figure_key(self, datasets: list[Dataset], first: date) -> str | None:
        shas = [pf.main.sha256 for ds in datasets for pf in self.month_products(ds, first)]
        if not shas:
            return None
        h = hashlib.sha256(f"{mf.VERSION}:{first}:{[d.id for d in datasets]}".encode())
        for s in shas:
            h.update(s.encode())
        return h.hexdigest() + ".png"

    def _summary(self, ds: Dataset, pf: ProductFile, panels: list[mf.Panel], m0: int, m1: int) -> Any:
        key = f"{pf.main.sha256}-{m0}-{mf.panels_digest(panels)}-{mf.SUMMARY_VERSION}.npz"
        hit = self.cache.read("minutes", key)
        if hit is not None:
            try:
                return mf.from_bytes(hit)
            except (ValueError, OSError, KeyError):
                pass
        op = self.files.open(ds, pf)
        if op is None:
            return None
        with op:
            summary = mf.summarise(ds, op, panels, m0, m1)
        self.cache.put("minutes", key, mf.to_bytes(summary))
        return summary

    def month_png(self, mission: Mission, level: str, sc: str | None, first: date) -> bytes | None:
        """The month figure of the level and spacecraft (cached); None if nothing to draw;
        blocking."""
        datasets = self.datasets(mission.id, level, sc)
        key = self.month_figure_key(datasets, first)
        if key is None:
            return None
        hit = self.cache.read("months", key)
        if hit is not None:
            return hit
        m0, m1 = day_span(first, month_last(first))
        all_panels: list[mf.Panel] = []
        parts: list[Any] = []
        for ds in datasets:
            panels = mf.month_panels(ds)
            sums = [self._summary(ds, pf, panels, m0, m1) for pf in self.month_products(ds, first)]
            total = mf.add([s for s in sums if s is not None])
            if total is None:
                continue
            all_panels += panels
            parts.append(total)
        merged = _stack(parts)
        sc_text = f" {sc}" if sc else ""
        names = ", ".join(ds.id for ds in datasets)
        title = f"{mission.title}{sc_text}, level {level}: {first:%B %Y}, 1-min means ({names})"
        png = mf.render(title, all_panels, merged, m0, m1)
        self.cache.put("months", key, png)
        return png


def _stack(parts: list[Any]) -> Any:
    """Several datasets' month totals as one (series stacked in panel order, hours added)."""
    import numpy as np

    if not parts:
        return None
    return {
        "sums": np.concatenate([p["sums"] for p in parts]),
        "counts": np.concatenate([p["counts"] for p in parts]),
        "total": parts[0]["total"],
        "flagged": parts[0]["flagged"],
        "flags": parts[0]["flags"],
    }


def day_of(tt: int) -> date:
    from magfw.geometry.time import utc_day_of

    d: date = utc_day_of(tt).astype("datetime64[D]").item()
    return d


def next_month(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)

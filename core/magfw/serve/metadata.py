"""A dataset's HAPI ``info`` from its definition and its data.

- ``startDate``/``stopDate``: the first and last valid record of the dataset's committed
  products (the first units' and last units' files are read once, through their time index:
  :mod:`magfw.serve.timeindex`), written as the data stream writes times;
- ``sampleStartDate``/``sampleStopDate``: from the first record, :data:`SAMPLE_RECORDS`
  records at the cadence, at least 10 minutes and at most a day, never past the last record:
  a short window that holds data;
- ``cadence``: the definition's, for a merged product its source's (:mod:`.datasets`), else
  the median step of the first file's records; ``maxRequestDuration`` is ``max_records``
  records at that cadence (1408 beyond);
- requests may span the units that hold the products (a monthly product's month, a yearly
  one's year) and the UTC days of the records (a file's records past midnight); 1405
  outside. A client asking for whole days or the unit gets every record held, and nothing
  outside the records exists to be sent.

Computed on the first request of a dataset after the ledger changed, in a worker thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request

from magfw.geometry.time import day_bounds_tt2000, utc_day_of
from magfw.serve.datasets import Dataset
from magfw.serve.files import ProductFiles
from magfw.serve.holdings import Holdings, ProductFile, UnitKey
from magfw.serve.parameters import Parameter
from magfw.serve.settings import ServeSettings
from magfw.serve.status import HAPI_VERSION, status
from magfw.serve.timefmt import format_hapi_time

#: Records a sample window spans at the cadence (bounded to 10 minutes .. a day).
SAMPLE_RECORDS = 1000
_NS = 1_000_000_000
_LOCATION = {"start": "begin", "centre": "center", "end": "end", "instant": "center"}


@dataclass(frozen=True, kw_only=True)
class Coverage:
    """What a dataset holds: TT2000 of its first and last valid records, and more."""

    first: int
    last: int
    modified: float  #: UNIX seconds of the newest commit
    simulated: bool  #: any product made from simulated inputs
    cadence_s: float | None
    units: tuple[date, date]  #: the first and last day of the units holding the products

    @property
    def allowed(self) -> tuple[int, int]:
        """The span requests may have: the units held (a month product's month) and the UTC
        days of the first and last records."""
        lo = int(day_bounds_tt2000(utc_day_of(self.first).astype("datetime64[D]"))[0])
        hi = int(day_bounds_tt2000(utc_day_of(self.last).astype("datetime64[D]"))[1])
        return min(lo, int(day_bounds_tt2000(self.units[0])[0])), max(
            hi, int(day_bounds_tt2000(self.units[1])[1])
        )


def iso_duration(seconds: float) -> str:
    """An ISO 8601 duration: ``PT0.125S``, ``PT1M``, ``P1D``, ``P46DT7H...``."""
    if seconds <= 0:
        return "PT0S"
    days, rest = divmod(seconds, 86400.0)
    hours, rest = divmod(rest, 3600.0)
    minutes, secs = divmod(rest, 60.0)
    out = "P" + (f"{int(days)}D" if days else "")
    tpart = (f"{int(hours)}H" if hours else "") + (f"{int(minutes)}M" if minutes else "")
    if secs:
        tpart += f"{secs:.9f}".rstrip("0").rstrip(".") + "S"
    return out + ("T" + tpart if tpart else "") if (days or tpart) else "PT0S"


class Metadata:
    """Coverage and ``info`` of the datasets of a tree (module notes)."""

    def __init__(self, settings: ServeSettings, holdings: Holdings, files: ProductFiles) -> None:
        self.settings = settings
        self.holdings = holdings
        self.files = files
        self._cache: dict[str, tuple[int, Coverage | None]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def _ends(
        self, ds: Dataset, units: list[tuple[UnitKey, list[ProductFile]]]
    ) -> tuple[int, int, int] | None:
        """(first, last, step) of the records, reading only the first and last units' files
        (the unit next to the last one too: its files may run later)."""
        first = step = None
        for _, files in units:
            for pf in files:
                ft = self.files.times(ds, pf)
                if ft is not None and ft.first is not None:
                    first = ft.first if first is None else min(first, ft.first)
                    step = step or ft.step_ns
            if first is not None:
                break
        last, found_at = None, None
        for i in range(len(units) - 1, -1, -1):
            if found_at is not None and i < found_at - 1:
                break
            for pf in units[i][1]:
                ft = self.files.times(ds, pf)
                if ft is not None and ft.last is not None:
                    last = ft.last if last is None else max(last, ft.last)
                    found_at = i if found_at is None else found_at
        if first is None or last is None:
            return None
        return first, last, int(step or 0)

    def coverage(self, ds: Dataset) -> Coverage | None:
        """The dataset's coverage (None: no committed product holds a record), cached per
        ledger state; blocking (reads files the first time)."""
        last_id = self.holdings.last_id
        with self._lock:
            hit = self._cache.get(ds.id)
            if hit is not None and hit[0] == last_id:
                return hit[1]
            lock = self._locks.setdefault(ds.id, threading.Lock())
        with lock:
            hit = self._cache.get(ds.id)
            if hit is not None and hit[0] == last_id:
                return hit[1]
            value = self._compute(ds)
            self._cache[ds.id] = (last_id, value)
            return value

    def _compute(self, ds: Dataset) -> Coverage | None:
        ledger = self.holdings.coverage(ds)
        if ledger is None:
            return None
        ends = self._ends(ds, list(self.holdings.dataset_units(ds)))
        if ends is None:
            return None
        first, last, step = ends
        cadence = ds.cadence_s or (step / _NS if step else None)
        return Coverage(
            first=first,
            last=last,
            modified=ledger[2],
            simulated=ledger[3],
            cadence_s=cadence,
            units=(ledger[0], ledger[1]),
        )

    def known(self, ds: Dataset) -> Coverage | None:
        """The coverage if computed for the current ledger state (nothing is read)."""
        hit = self._cache.get(ds.id)
        return hit[1] if hit is not None and hit[0] == self.holdings.last_id else None

    def max_duration(self, ds: Dataset, cov: Coverage | None) -> float:
        """Longest request span (s) for the dataset."""
        limit = self.settings.max_span_days * 86400.0
        cadence = cov.cadence_s if cov is not None else ds.cadence_s
        return min(limit, self.settings.max_records * cadence) if cadence else limit

    def sample(self, ds: Dataset, cov: Coverage) -> tuple[int, int]:
        """The sample window (TT2000, stop exclusive) of the module notes."""
        span = SAMPLE_RECORDS * (cov.cadence_s or 1.0)
        span_ns = int(min(86400.0, max(600.0, span)) * _NS)
        resolution = 1 if ds.time_digits == 9 else 1000
        return cov.first, min(cov.first + span_ns, cov.last + resolution)

    def info(self, ds: Dataset, cov: Coverage, params: list[Parameter], request: Request) -> dict[str, Any]:
        """The ``info`` response body (``params``: the parameters asked for)."""
        d = ds.definition
        digits = ds.time_digits
        body: dict[str, Any] = {"HAPI": HAPI_VERSION, "status": status(1200)}
        body["parameters"] = [dict(p.info) for p in params]
        body["startDate"] = format_hapi_time(cov.first, digits)
        body["stopDate"] = format_hapi_time(cov.last, digits)
        s0, s1 = self.sample(ds, cov)
        body["sampleStartDate"] = format_hapi_time(s0, digits)
        body["sampleStopDate"] = format_hapi_time(s1, digits)
        body["timeStampLocation"] = _LOCATION[d.time_convention]
        if cov.cadence_s:
            body["cadence"] = iso_duration(cov.cadence_s)
        body["maxRequestDuration"] = iso_duration(self.max_duration(ds, cov))
        if d.description:
            body["description"] = d.description
        body["resourceURL"] = str(request.url_for("review_dataset", dataset=ds.id))
        body["modificationDate"] = datetime.fromtimestamp(cov.modified, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if cov.simulated:
            body["warning"] = "products made from SIMULATED inputs (magfw simulators): not real data"
        body["x_magfw"] = {
            "mission": ds.mission,
            "product": d.id,
            "levels": list(ds.levels),
            "spacecraft": ds.spacecraft,
            "fields": ds.fields,
            "format": d.format,
            "definition_digest": d.digest(),
            "version_policy": d.version.policy,
        }
        return body

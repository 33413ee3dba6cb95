"""The HAPI 3.3 endpoints: ``hapi``, ``about``, ``capabilities``, ``catalog``, ``info``, ``data``.

Parameters are checked by :mod:`magfw.serve.request`, metadata made by
:mod:`magfw.serve.metadata`, the data stream by :mod:`magfw.serve.stream`. ``1201`` is told
when no file holds a record of the range (``X-HAPI-Status`` on an empty csv or binary body),
or, with a header, when no record was found before the header had to go. ``ETag`` (the request
and the SHA-256 of every file it reads) and ``Last-Modified`` (the newest commit among them)
come from the ledger; ``If-None-Match``/``If-Modified-Since`` give 304. At most
``max_streams`` data streams run at once; a request waits ``queue_wait_s`` for a slot, then
is told 1500 with HTTP 503 and ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from html import escape
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse

from magfw.geometry.time import utc_day_of
from magfw.serve.datasets import Dataset
from magfw.serve.encode import FORMATS, MEDIA_TYPES, Encoder
from magfw.serve.files import ProductFiles
from magfw.serve.holdings import Holdings, ProductFile
from magfw.serve.metadata import Coverage, Metadata, iso_duration
from magfw.serve.request import (
    DATA_PARAMS,
    catalog_depth,
    check_params,
    chosen_parameters,
    data_query,
    dataset_name,
    resolve_references,
)
from magfw.serve.settings import ServeSettings
from magfw.serve.status import CORS, HAPI_VERSION, HapiError, status
from magfw.serve.stream import Streamer, StreamPlan, etag_of, stream_body
from magfw.serve.timefmt import format_hapi_time


def _if_none_match(request: Request) -> list[str]:
    return [t.strip() for t in request.headers.get("if-none-match", "").split(",") if t.strip()]


def _http_date(ts: float) -> str:
    return format_datetime(datetime.fromtimestamp(math.floor(ts), UTC), usegmt=True)


def _not_modified(request: Request, etag: str, modified: float) -> bool:
    tags = _if_none_match(request)
    if tags:
        return etag in tags or "*" in tags
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return math.floor(modified) <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False
    return False


class Hapi:
    """The HAPI endpoints over a :class:`Holdings` and a catalog of datasets."""

    def __init__(
        self,
        settings: ServeSettings,
        holdings: Holdings,
        catalog: dict[str, Dataset],
        files: ProductFiles,
        limiter: anyio.CapacityLimiter,
    ) -> None:
        self.settings = settings
        self.holdings = holdings
        self.catalog = catalog
        self.files = files
        self.meta = Metadata(settings, holdings, files)
        self.limiter = limiter

    # -- helpers ---------------------------------------------------------------------------

    def _json(self, body: dict[str, Any], request: Request, modified: float | None = None) -> Response:
        text = json.dumps(body, indent=1).encode()
        etag = '"' + hashlib.sha256(text).hexdigest()[:32] + '"'
        headers = {**CORS, "ETag": etag, "Cache-Control": "no-cache"}
        headers["Last-Modified"] = _http_date(modified if modified is not None else self._newest())
        if etag in _if_none_match(request):
            return Response(status_code=304, headers=headers)
        return Response(text, media_type="application/json", headers=headers)

    def _newest(self) -> float:
        """The newest commit of the tree (UNIX s)."""
        return max((e.started + e.duration_s for e in self.holdings.currents()), default=0.0)

    async def coverage(self, ds: Dataset) -> Coverage | None:
        """The dataset's coverage, computed in a worker thread when not known yet."""
        known = self.meta.known(ds)
        return known if known is not None else await anyio.to_thread.run_sync(self.meta.coverage, ds)

    def listed(self) -> list[Dataset]:
        """Datasets with a committed product, in catalog order (the ledger alone says so;
        one whose files all hold no record is listed, and its ``info`` is 1406)."""
        self.holdings.refresh()
        return [ds for ds in self.catalog.values() if self.holdings.has_products(ds)]

    async def served(self) -> list[tuple[Dataset, Coverage]]:
        """Datasets with at least one record in a committed product, with their coverage."""
        out = []
        for ds in self.listed():
            cov = await self.coverage(ds)
            if cov is not None:
                out.append((ds, cov))
        return out

    async def _dataset(self, q: dict[str, str]) -> tuple[Dataset, Coverage]:
        ds = self.catalog.get(dataset_name(q))
        if ds is None or not self.holdings.has_products(ds):
            raise HapiError(1406)
        cov = await self.coverage(ds)
        if cov is None:
            raise HapiError(1406, "no record of this dataset is held")
        return ds, cov

    # -- endpoints ------------------------------------------------------------------------

    async def landing(self, request: Request) -> Response:
        check_params(request, set())
        base = request.scope.get("root_path", "") + self.settings.base_path
        home = request.scope.get("root_path", "") + "/"
        base, home = escape(base), escape(home)
        rows = "".join(
            f'<li><a href="{base}/info?dataset={escape(ds.id)}">{escape(ds.id)}</a> {escape(ds.title)}</li>'
            for ds in self.listed()
        )
        return HTMLResponse(
            f"<!doctype html><html><head><meta charset='utf-8'><title>magfw HAPI</title>"
            f"<link rel='icon' href='data:,'></head><body><h1>magfw HAPI 3.3 server</h1>"
            f"<p>Endpoints: <a href='{base}/about'>about</a>, "
            f"<a href='{base}/capabilities'>capabilities</a>, <a href='{base}/catalog'>catalog"
            f"</a>, info, data. The monthly review site is at <a href='{home}'>{home}</a>.</p>"
            f"<ul>{rows}</ul></body></html>"
        )

    async def about(self, request: Request) -> Response:
        check_params(request, set())
        body = {
            "HAPI": HAPI_VERSION,
            "status": status(1200),
            "id": self.settings.server_id,
            "title": "magfw magnetometer products",
            "contact": self.settings.contact,
            "description": "Products of a magfw output tree (ledger-complete, newest "
            "version of each unit), served read-only.",
        }
        return self._json(body, request)

    async def capabilities(self, request: Request) -> Response:
        check_params(request, set())
        body = {
            "HAPI": HAPI_VERSION,
            "status": status(1200),
            "outputFormats": list(FORMATS),
            "catalogDepthOptions": ["dataset", "all"],
        }
        return self._json(body, request)

    async def catalog_endpoint(self, request: Request) -> Response:
        q = check_params(request, {"depth", "resolve_references"})
        resolve_references(q)
        depth = catalog_depth(q)
        entries: list[dict[str, Any]] = []
        if depth == "dataset":
            entries = [{"id": ds.id, "title": ds.title} for ds in self.listed()]
        for ds, cov in await self.served() if depth == "all" else []:
            info = self.meta.info(ds, cov, list(ds.parameters), request)
            info.pop("HAPI")
            info.pop("status")
            entries.append({"id": ds.id, "title": ds.title, "info": info})
        return self._json({"HAPI": HAPI_VERSION, "status": status(1200), "catalog": entries}, request)

    async def info_endpoint(self, request: Request) -> Response:
        q = check_params(request, {"dataset", "id", "parameters", "resolve_references"})
        resolve_references(q)
        self.holdings.refresh()
        ds, cov = await self._dataset(q)
        params = chosen_parameters(ds, q.get("parameters"))
        return self._json(self.meta.info(ds, cov, params, request), request, cov.modified)

    def _products(self, ds: Dataset, start: int, stop: int) -> list[ProductFile]:
        first_day: date = utc_day_of(start).astype("datetime64[D]").item()
        last_day: date = utc_day_of(stop - 1).astype("datetime64[D]").item()
        margin = timedelta(days=0 if ds.daily else 1)
        units = self.holdings.dataset_units(ds, first_day - margin, last_day)
        return [f for _, files in units for f in files]

    def _holds_none(self, ds: Dataset, products: list[ProductFile], start: int, stop: int) -> bool:
        """True if the products' known time indexes show no record in the range."""
        for p in products:
            ft = self.files.known_times(ds, p)
            if ft is None or (
                ft.first is not None and ft.last is not None and ft.first < stop and ft.last >= start
            ):
                return False
        return True

    def _check_span(self, ds: Dataset, cov: Coverage, start: int, stop: int) -> None:
        lo, hi = cov.allowed
        if start < lo or stop > hi:
            digits = ds.time_digits
            raise HapiError(
                1405,
                f"records from {format_hapi_time(cov.first, digits)} to "
                f"{format_hapi_time(cov.last, digits)}; requests may span "
                f"{format_hapi_time(lo, digits)} to {format_hapi_time(hi, digits)}",
            )
        limit = self.meta.max_duration(ds, cov)
        if (stop - start) / 1e9 > limit:
            raise HapiError(
                1408,
                f"at most {iso_duration(limit)} of {ds.id} per request "
                f"({self.settings.max_records:,} records at its cadence); split the request",
            )

    async def data(self, request: Request) -> Response:
        q = check_params(request, DATA_PARAMS)
        self.holdings.refresh()
        ds, cov = await self._dataset(q)
        dq = data_query(q)
        params = chosen_parameters(ds, q.get("parameters"))
        self._check_span(ds, cov, dq.start, dq.stop)
        products = self._products(ds, dq.start, dq.stop)
        etag = etag_of(ds.id, q, products)
        modified = max((f.committed for f in products), default=cov.modified)
        headers = {**CORS, "ETag": etag, "Last-Modified": _http_date(modified), "Cache-Control": "no-cache"}
        if _not_modified(request, etag, modified):
            return Response(status_code=304, headers=headers)
        info = {**self.meta.info(ds, cov, params, request), "format": dq.fmt}
        media = MEDIA_TYPES[dq.fmt]
        if not products or self._holds_none(ds, products, dq.start, dq.stop):
            info["status"] = status(1201)
            headers["X-HAPI-Status"] = "1201 OK - no data for time range"
            encoder = Encoder(dq.fmt, params, int(params[0].info["length"]))
            body = (encoder.header(info) + encoder.footer()) if dq.include_header else b""
            return Response(body, media_type=media, headers=headers)
        if request.method == "HEAD":
            return Response(b"", media_type=media, headers=headers)
        token = object()
        with anyio.move_on_after(self.settings.queue_wait_s):
            await self.limiter.acquire_on_behalf_of(token)
        if token not in self.limiter.statistics().borrowers:
            raise HapiError(1500, "busy: every data stream slot is taken; retry later", http=503)
        plan = StreamPlan(
            ds=ds,
            params=params,
            fmt=dq.fmt,
            header=dq.include_header,
            info=info,
            products=products,
            start=dq.start,
            stop=dq.stop,
            chunk_bytes=self.settings.chunk_mib << 20,
        )
        pieces = Streamer(plan, self.files).pieces()
        stream = stream_body(pieces, self.limiter, token)
        return StreamingResponse(stream, media_type=media, headers=headers)


__all__ = ["Hapi", "iso_duration"]

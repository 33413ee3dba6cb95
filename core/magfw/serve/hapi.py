"""The HAPI 3.3 endpoints: ``hapi``, ``about``, ``capabilities``, ``catalog``, ``info``, ``data``.

Request parameters are checked strictly (HAPI 3.3 section 3.1): an unknown one is ``1401``;
the 3.x names (``dataset``, ``start``, ``stop``) and the 2.x ones (``id``, ``time.min``,
``time.max``) are both accepted, not mixed. Errors are the spec's status codes with their HTTP
codes (``1406``/``1407`` are 404, the other 14xx 400, 1500 500), as a JSON HAPI header, never
echoing the offending value. ``data`` streams day by day (each unit's file read, verified
against the ledger, encoded block by block in a worker thread) so memory stays flat and the
first bytes leave after the first file; ``1201`` is told when no file overlaps the request,
or, with a header, when no record was found before the header had to go. ``ETag`` (request
and the SHA-256 of every file it reads) and ``Last-Modified`` (the newest commit among them)
come from the ledger; ``If-None-Match``/``If-Modified-Since`` give 304.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from magfw.geometry.time import day_bounds_tt2000, utc_day_of
from magfw.serve.datasets import Dataset, Parameter
from magfw.serve.encode import FORMATS, MEDIA_TYPES, Encoder
from magfw.serve.holdings import Holdings, ProductFile
from magfw.serve.reader import Block, read_block
from magfw.serve.settings import ServeSettings
from magfw.serve.timefmt import HapiTimeError, day_start_iso, format_hapi_time, parse_hapi_time

HAPI_VERSION = "3.3"
MESSAGES = {
    1200: "OK",
    1201: "OK - no data for time range",
    1400: "Bad request - user input error",
    1401: "Bad request - unknown API parameter name",
    1402: "Bad request - syntax error in start time",
    1403: "Bad request - syntax error in stop time",
    1404: "Bad request - start equal to or after stop",
    1405: "Bad request - start < startDate and/or stop > stopDate",
    1406: "Bad request - unknown dataset id",
    1407: "Bad request - unknown dataset parameter",
    1408: "Bad request - too much time or data requested",
    1409: "Bad request - unsupported output format",
    1410: "Bad request - unsupported include value",
    1411: "Bad request - out-of-order or duplicate parameters",
    1412: "Bad request - unsupported resolve_references value",
    1500: "Internal server error",
    1501: "Internal server error - upstream request error",
}
HTTP_OF = {1200: 200, 1201: 200, 1406: 404, 1407: 404, 1500: 500, 1501: 500}
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD",
    "Access-Control-Allow-Headers": "Content-Type, Authorization",
}


class HapiError(Exception):
    """A request HAPI answers with an error status."""

    def __init__(self, code: int, detail: str = "") -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def status(code: int, detail: str = "") -> dict[str, Any]:
    message = MESSAGES[code] + (f": {detail}" if detail else "")
    return {"code": code, "message": message}


def error_response(code: int, detail: str = "", http: int | None = None) -> JSONResponse:
    """A JSON HAPI header with only the status (what every error returns)."""
    return JSONResponse(
        {"HAPI": HAPI_VERSION, "status": status(code, detail)},
        status_code=http or HTTP_OF.get(code, 400),
        headers=CORS,
    )


def _json(body: dict[str, Any], request: Request) -> Response:
    text = json.dumps(body, indent=1).encode()
    etag = '"' + hashlib.sha256(text).hexdigest()[:32] + '"'
    headers = {**CORS, "ETag": etag, "Cache-Control": "no-cache"}
    if etag in _if_none_match(request):
        return Response(status_code=304, headers=headers)
    return Response(text, media_type="application/json", headers=headers)


def _if_none_match(request: Request) -> list[str]:
    return [t.strip() for t in request.headers.get("if-none-match", "").split(",") if t.strip()]


def _check_params(request: Request, allowed: set[str]) -> dict[str, str]:
    """The query parameters (one value each); unknown or repeated ones are errors."""
    got: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key not in allowed:
            raise HapiError(1401, "see the HAPI specification for this endpoint's parameters")
        if key in got:
            raise HapiError(1400, f"parameter {key} given twice")
        got[key] = value
    return got


def _alias(q: dict[str, str], new: str, old: str) -> str | None:
    if new in q and old in q:
        raise HapiError(1400, f"give {new} or {old} (HAPI 2), not both")
    return q.get(new, q.get(old))


@dataclass(frozen=True)
class Coverage:
    start: date
    stop: date  #: exclusive
    modified: float
    simulated: bool


class Hapi:
    """The HAPI endpoints over a :class:`Holdings` and a catalog of datasets."""

    def __init__(
        self,
        settings: ServeSettings,
        holdings: Holdings,
        catalog: dict[str, Dataset],
        limiter: anyio.CapacityLimiter,
    ) -> None:
        self.settings = settings
        self.holdings = holdings
        self.catalog = catalog
        self.limiter = limiter
        self._coverage: dict[str, tuple[int, Coverage | None]] = {}

    # -- metadata ------------------------------------------------------------------------

    def coverage(self, ds: Dataset) -> Coverage | None:
        """First and last day (exclusive) the ledger holds for the dataset, cached per
        ledger state."""
        last = self.holdings.last_id
        cached = self._coverage.get(ds.id)
        if cached is not None and cached[0] == last:
            return cached[1]
        cov = self.holdings.coverage(ds)
        value = None if cov is None else Coverage(cov[0], cov[1] + timedelta(days=1), cov[2], cov[3])
        self._coverage[ds.id] = (last, value)
        return value

    def served(self) -> list[Dataset]:
        """Datasets with at least one ledger-complete file, in catalog order."""
        return [ds for ds in self.catalog.values() if self.coverage(ds) is not None]

    def max_duration(self, ds: Dataset) -> float:
        """Longest request span (s) for the dataset."""
        cad = ds.definition.cadence_s
        limit = self.settings.max_span_days * 86400.0
        return min(limit, self.settings.max_records * cad) if cad else limit

    def info(self, ds: Dataset, params: list[Parameter], request: Request) -> dict[str, Any]:
        cov = self.coverage(ds)
        assert cov is not None
        d = ds.definition
        body: dict[str, Any] = {"HAPI": HAPI_VERSION, "status": status(1200)}
        body["parameters"] = [dict(p.info) for p in params]
        body["startDate"] = day_start_iso(cov.start)
        body["stopDate"] = day_start_iso(cov.stop)
        loc = {"start": "begin", "centre": "center", "end": "end", "instant": "center"}
        body["timeStampLocation"] = loc[d.time_convention]
        if d.cadence_s:
            body["cadence"] = iso_duration(d.cadence_s)
        body["maxRequestDuration"] = iso_duration(self.max_duration(ds))
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

    # -- endpoints ------------------------------------------------------------------------

    async def landing(self, request: Request) -> Response:
        _check_params(request, set())
        base = self.settings.base_path
        rows = "".join(
            f'<li><a href="{base}/info?dataset={ds.id}">{ds.id}</a> {ds.title}</li>' for ds in self.served()
        )
        return HTMLResponse(
            f"<!doctype html><html><head><meta charset='utf-8'><title>magfw HAPI</title>"
            f"<link rel='icon' href='data:,'></head><body><h1>magfw HAPI 3.3 server</h1>"
            f"<p>Endpoints: <a href='{base}/about'>about</a>, "
            f"<a href='{base}/capabilities'>capabilities</a>, <a href='{base}/catalog'>catalog"
            f"</a>, info, data. The monthly review site is at <a href='/'>/</a>.</p>"
            f"<ul>{rows}</ul></body></html>"
        )

    async def about(self, request: Request) -> Response:
        _check_params(request, set())
        return _json(
            {
                "HAPI": HAPI_VERSION,
                "status": status(1200),
                "id": self.settings.server_id,
                "title": "magfw magnetometer products",
                "contact": self.settings.contact,
                "description": "Products of a magfw output tree (ledger-complete, newest "
                "version of each day), served read-only.",
            },
            request,
        )

    async def capabilities(self, request: Request) -> Response:
        _check_params(request, set())
        return _json(
            {
                "HAPI": HAPI_VERSION,
                "status": status(1200),
                "outputFormats": list(FORMATS),
                "catalogDepthOptions": ["dataset", "all"],
            },
            request,
        )

    async def catalog_endpoint(self, request: Request) -> Response:
        q = _check_params(request, {"depth", "resolve_references"})
        _resolve(q)
        depth = q.get("depth", "dataset")
        if depth not in ("dataset", "all"):
            raise HapiError(1400, "unsupported depth value (dataset or all)")
        self.holdings.refresh()
        entries = []
        for ds in self.served():
            entry: dict[str, Any] = {"id": ds.id, "title": ds.title}
            if depth == "all":
                info = self.info(ds, list(ds.parameters), request)
                info.pop("HAPI")
                info.pop("status")
                entry["info"] = info
            entries.append(entry)
        return _json({"HAPI": HAPI_VERSION, "status": status(1200), "catalog": entries}, request)

    def _dataset(self, q: dict[str, str]) -> Dataset:
        name = _alias(q, "dataset", "id")
        if name is None or not name:
            raise HapiError(1400, "dataset is required")
        ds = self.catalog.get(name)
        if ds is None or self.coverage(ds) is None:
            raise HapiError(1406)
        return ds

    def _parameters(self, ds: Dataset, text: str | None) -> list[Parameter]:
        if text is None or text.strip() == "":
            return list(ds.parameters)
        names = [n.strip() for n in text.split(",")]
        order = {p.name: i for i, p in enumerate(ds.parameters)}
        if any(n not in order for n in names):
            raise HapiError(1407)
        idx = [order[n] for n in names]
        if len(set(idx)) != len(idx) or idx != sorted(idx):
            raise HapiError(1411)
        chosen = [ds.parameters[i] for i in idx]
        if chosen[0] is not ds.parameters[0]:
            chosen.insert(0, ds.parameters[0])  # the time parameter is always there
        return chosen

    async def info_endpoint(self, request: Request) -> Response:
        q = _check_params(request, {"dataset", "id", "parameters", "resolve_references"})
        _resolve(q)
        self.holdings.refresh()
        ds = self._dataset(q)
        params = self._parameters(ds, q.get("parameters"))
        return _json(self.info(ds, params, request), request)

    async def data(self, request: Request) -> Response:
        q = _check_params(
            request,
            {"dataset", "id", "start", "stop", "time.min", "time.max", "parameters", "include", "format"},
        )
        self.holdings.refresh()
        ds = self._dataset(q)
        start_text = _alias(q, "start", "time.min")
        stop_text = _alias(q, "stop", "time.max")
        if not start_text:
            raise HapiError(1402, "start is required")
        if not stop_text:
            raise HapiError(1403, "stop is required")
        try:
            start = parse_hapi_time(start_text)
        except HapiTimeError:
            raise HapiError(1402) from None
        try:
            stop = parse_hapi_time(stop_text)
        except HapiTimeError:
            raise HapiError(1403) from None
        if start >= stop:
            raise HapiError(1404)
        params = self._parameters(ds, q.get("parameters"))
        fmt = q.get("format", "csv") or "csv"
        if fmt not in FORMATS:
            raise HapiError(1409, "csv, binary or json")
        include = q.get("include")
        if include not in (None, "header"):
            raise HapiError(1410, "only include=header")
        if fmt == "json":
            include = "header"
        cov = self.coverage(ds)
        assert cov is not None
        lo = int(day_bounds_tt2000(cov.start)[0])
        hi = int(day_bounds_tt2000(cov.stop)[0])
        if start < lo or stop > hi:
            raise HapiError(
                1405, f"this dataset holds {day_start_iso(cov.start)} to {day_start_iso(cov.stop)}"
            )
        span_s = (stop - start) / 1e9
        limit = self.max_duration(ds)
        if span_s > limit:
            raise HapiError(
                1408,
                f"at most {iso_duration(limit)} of {ds.id} per request "
                f"({self.settings.max_records:,} records at its cadence); "
                f"split the request",
            )
        first_day = utc_day_of(start).astype("datetime64[D]").item()
        last_day = utc_day_of(stop - 1).astype("datetime64[D]").item()
        margin = timedelta(days=0 if ds.daily else 1)
        products = [
            (u, f)
            for u, files in self.holdings.dataset_units(ds, first_day - margin, last_day)
            for f in files
        ]
        etag = _etag(ds, q, products)
        modified = max((f.committed for _, f in products), default=cov.modified)
        headers = {**CORS, "ETag": etag, "Last-Modified": _http_date(modified), "Cache-Control": "no-cache"}
        if _not_modified(request, etag, modified):
            return Response(status_code=304, headers=headers)
        info = self.info(ds, params, request)
        info["format"] = fmt
        media = MEDIA_TYPES[fmt]
        if not products:
            info["status"] = status(1201)
            headers["X-HAPI-Status"] = "1201 OK - no data for time range"
            encoder = Encoder(fmt, params, ds.time_digits)
            body = (encoder.header(info) + encoder.footer()) if include == "header" else b""
            return Response(body, media_type=media, headers=headers)
        if request.method == "HEAD":
            return Response(b"", media_type=media, headers=headers)
        stream = self._stream(ds, params, fmt, include == "header", info, products, start, stop)
        return StreamingResponse(stream, media_type=media, headers=headers)

    async def _stream(
        self,
        ds: Dataset,
        params: list[Parameter],
        fmt: str,
        header: bool,
        info: dict[str, Any],
        products: list[tuple[Any, ProductFile]],
        start: int,
        stop: int,
    ) -> AsyncIterator[bytes]:
        """The response body: each product read and encoded in a worker thread while the
        previous one is being sent (one product ahead: memory stays two days at most)."""
        encoder = Encoder(fmt, params, ds.time_digits)
        data_params = params[1:]
        state = {"last": -(2**63)}
        pending_header = header

        def work(product: ProductFile) -> tuple[int, list[bytes]]:
            block = self._read(ds, product, data_params, start, stop)
            if block is None or len(block) == 0:
                return 0, []
            # a file that begins before the end of the previous one (spill-over, a margin
            # day) gives only its later records: times never go back
            block = block.select(block.time > state["last"])
            if len(block) == 0:
                return 0, []
            state["last"] = int(block.time[-1])
            return len(block), encoder.encode(block)

        loop = asyncio.get_running_loop()
        async with self.limiter:
            ahead = None
            for i in range(len(products)):
                current = ahead if ahead is not None else loop.run_in_executor(None, work, products[i][1])
                n, parts = await current
                ahead = (
                    loop.run_in_executor(None, work, products[i + 1][1]) if i + 1 < len(products) else None
                )
                if n and pending_header:
                    pending_header = False
                    yield encoder.header(info)
                for part in parts:
                    yield part
        if pending_header:  # no record at all: say so in the header
            info = {**info, "status": status(1201)}
            yield encoder.header(info)
        tail = encoder.footer()
        if tail:
            yield tail

    def _read(
        self, ds: Dataset, product: ProductFile, params: list[Parameter], start: int, stop: int
    ) -> Block | None:
        return self.holdings.read_product(ds, product, lambda path: read_block(ds, path, params, start, stop))


def _resolve(q: dict[str, str]) -> None:
    value = q.get("resolve_references")
    if value is not None and value not in ("true", "false"):
        raise HapiError(1412, "true or false")


def _etag(ds: Dataset, q: dict[str, str], products: list[tuple[Any, ProductFile]]) -> str:
    h = hashlib.sha256(ds.id.encode())
    h.update(json.dumps(sorted(q.items())).encode())
    for _, p in products:
        for f in p.files:
            h.update(f"{f.rel}:{f.sha256}".encode())
    return '"' + h.hexdigest()[:32] + '"'


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


__all__ = ["Hapi", "HapiError", "error_response", "format_hapi_time", "iso_duration"]

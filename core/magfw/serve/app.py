"""The ASGI application of ``magfw serve``: HAPI under ``base_path``, the review site at ``/``.

Security and limits, as pure ASGI middleware (nothing buffers a stream):

- read-only: only GET and HEAD (405 otherwise; the login form's POST only sets a cookie);
- optional bearer token (``MAGFW_SERVE_TOKEN``): every page and endpoint but ``/login``,
  ``/static`` and ``/favicon.ico`` wants ``Authorization: Bearer <token>`` or the cookie the
  login form sets (compared in constant time); without it HAPI answers 401 with a HAPI
  status, pages redirect to the form;
- a time-out per request (a whole data stream included): before the response started it is
  a 503 with HAPI 1500, after, the stream is cut (HAPI 3.7.5: clients treat a truncated stream
  as an error);
- bounded concurrency: at most ``max_streams`` data streams (a request waits ``queue_wait_s``
  for a slot, then 503 with HAPI 1500) and ``max_renders`` figure drawings run at once;
  uvicorn refuses connections beyond ``max_connections`` with 503;
- behind a proxy prefix (``root_path``), every check is made on the path below it;
- gzip when the client asks (``Accept-Encoding``), CORS headers on HAPI responses, and
  ``nosniff``/CSP headers on pages.
"""

from __future__ import annotations

import hmac
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from magfw.plugin.manager import get_hooks
from magfw.serve.cache import Cache
from magfw.serve.datasets import build_catalog
from magfw.serve.files import ProductFiles
from magfw.serve.hapi import Hapi
from magfw.serve.holdings import Holdings
from magfw.serve.review import Review
from magfw.serve.settings import ServeSettings
from magfw.serve.status import HapiError, error_response

log = logging.getLogger("magfw.serve")
HERE = Path(__file__).parent
COOKIE = "magfw_token"
OPEN_PATHS = ("/login", "/static/", "/favicon.ico")


def route_path(scope: Scope) -> str:
    """The request's path below the proxy prefix (uvicorn's ``root_path``), as routed."""
    path: str = scope["path"]
    prefix: str = scope.get("root_path", "")
    return path[len(prefix) :] or "/" if prefix and path.startswith(prefix) else path


class Guard:
    """Read-only methods, the token, the time-out and security headers (module notes)."""

    def __init__(self, app: ASGIApp, settings: ServeSettings) -> None:
        self.app = app
        self.settings = settings
        self.starlette: Starlette | None = None
        self.warm: Any = lambda: None  #: learns the datasets' coverage (see :func:`warm_up`)

    def _authorised(self, scope: Scope) -> bool:
        token = self.settings.token
        if not token:
            return True
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get("authorization", "")
        if given.lower().startswith("bearer ") and hmac.compare_digest(
            given[7:].strip().encode(), token.encode()
        ):
            return True
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE and hmac.compare_digest(value.encode(), token.encode()):
                return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        prefix: str = scope.get("root_path", "")
        path = route_path(scope)
        base = self.settings.base_path
        is_hapi = path == base or path.startswith(base + "/")
        method = scope["method"]
        if method not in ("GET", "HEAD") and not (path == "/login" and method == "POST"):
            await Response("read-only server: GET and HEAD only", 405, headers={"Allow": "GET, HEAD"})(
                scope, receive, send
            )
            return
        if not path.startswith(OPEN_PATHS) and not self._authorised(scope):
            if is_hapi:
                resp: Response = error_response(1400, "authorization required (bearer token)", http=401)
                resp.headers["WWW-Authenticate"] = 'Bearer realm="magfw"'
            else:
                query = scope.get("query_string", b"").decode("latin-1")
                target = prefix + path + (f"?{query}" if query else "")
                resp = RedirectResponse(f"{prefix}/login?next={quote(target)}", 303)
            await resp(scope, receive, send)
            return
        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers += [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
                if not is_hapi:
                    headers.append(
                        (
                            b"content-security-policy",
                            b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
                        )
                    )
                message = {**message, "headers": headers}
            await send(message)

        with anyio.move_on_after(self.settings.timeout_s) as scope_timer:
            await self.app(scope, receive, guarded_send)
        if scope_timer.cancelled_caught:
            log.warning("request %s timed out after %.0f s", path, self.settings.timeout_s)
            if not started:
                await error_response(1500, f"time-out after {self.settings.timeout_s:.0f} s", http=503)(
                    scope, receive, send
                )
            else:
                raise RuntimeError("time-out: stream cut")


def create_app(settings: ServeSettings, missions: list[Any] | None = None) -> Guard:
    """The application over the tree ``settings.out_dir`` and the installed missions (or
    ``missions``, for tests): the Starlette app inside the :class:`Guard` (``.starlette``).
    The tree's ledger is checked first (:mod:`magfw.serve.ledger`): a bad one is a
    :class:`~magfw.errors.MagfwError` naming it."""
    holdings = Holdings(settings.out_dir)
    registry_missions = list(missions if missions is not None else get_hooks().registry)
    catalog = build_catalog(registry_missions)
    cache = Cache(holdings.out_dir, int(settings.cache_gib * (1 << 30)))
    files = ProductFiles(holdings, cache)
    hapi = Hapi(settings, holdings, catalog, files, anyio.CapacityLimiter(settings.max_streams))
    review = Review(settings, holdings, catalog, registry_missions, hapi, cache)
    base = settings.base_path

    def wrap(endpoint: Any) -> Any:
        async def handler(request: Request) -> Response:
            try:
                return await endpoint(request)  # type: ignore[no-any-return]
            except HapiError as exc:
                return error_response(exc.code, exc.detail, exc.http)
            except Exception:
                log.exception("HAPI %s failed", request.url.path)
                return error_response(1500, "see the server log")

        return handler

    async def trailing(request: Request) -> Response:
        url = request.url
        target = url.path.rstrip("/") + (f"?{url.query}" if url.query else "")
        return RedirectResponse(target, 301)

    async def unknown(request: Request) -> Response:
        return error_response(1400, "unknown endpoint")

    g = ["GET", "HEAD"]
    hapi_routes = [
        Route(base, wrap(hapi.landing), methods=g),
        Route(base + "/about", wrap(hapi.about), methods=g),
        Route(base + "/capabilities", wrap(hapi.capabilities), methods=g),
        Route(base + "/catalog", wrap(hapi.catalog_endpoint), methods=g),
        Route(base + "/info", wrap(hapi.info_endpoint), methods=g),
        Route(base + "/data", wrap(hapi.data), methods=g),
        Route(base + "/{rest:path}/", trailing, methods=g),
        Route(base + "/", trailing, methods=g),
        Route(base + "/{rest:path}", unknown, methods=g),
    ]
    routes = [
        *hapi_routes,
        *review.routes(),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(GZipMiddleware, minimum_size=1024, compresslevel=3)],
        exception_handlers={404: review.not_found, 405: review.not_allowed, 500: review.server_error},
    )
    app.state.holdings = holdings
    app.state.catalog = catalog
    app.state.settings = settings
    guarded = Guard(app, settings)
    guarded.starlette = app
    guarded.warm = lambda: warm_up(hapi)
    return guarded


def warm_up(hapi: Hapi) -> None:
    """Learn every served dataset's coverage (the first and last files' time indexes), so
    that the first ``info`` of each answers at once."""
    for ds in hapi.catalog.values():
        try:
            if hapi.holdings.has_products(ds):
                hapi.meta.coverage(ds)
        except Exception:  # noted, and tried again by the first request for it
            log.exception("coverage of %s", ds.id)


def serve(settings: ServeSettings, app: Guard | None = None) -> None:
    """Run the server (``app``, or one made for ``settings``) with uvicorn until
    interrupted, once every dataset's first and last records are known (:func:`warm_up`:
    the first files read then, their indexes cached by content for the next start), so that
    no metadata request waits for a file."""
    import uvicorn

    app = app or create_app(settings)
    app.warm()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        root_path=settings.root_path,
        limit_concurrency=settings.max_connections,
        log_level="info",
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        timeout_keep_alive=5,
    )

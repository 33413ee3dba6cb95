"""The review site: per mission and month, what the monthly review needs on one page.

- ``/``: the missions with the months they have data in, and the datasets served;
- ``/review/MISSION``: every month with its day counts by state;
- ``/review/MISSION/YYYY-MM``: for each level and spacecraft the month figure (1-min means of
  the field in each frame, data gaps shaded, flagged fraction per hour; :mod:`.site`) with
  the calibration tables the month used beside it (STEREO's Counts table of offsets), the
  coverage calendar (each day's state and coverage, linking to the day), the days to look at,
  quality day by day, the units of monthly and yearly levels with their files, and the
  version history;
- ``/day/MISSION/LEVEL/SC/YYYY-MM-DD``: the day figure and quality from all the unit's files,
  its files, runs, calibration and, for each dataset, HAPI links for the day.

Figures are drawn on request in a worker thread (at most ``max_renders`` at once) and cached
under ``.magfw/serve``. Files are served only if they are outputs of a unit's latest
successful run, verified against the ledger (:meth:`Holdings.open_recorded`). An unknown
mission, level, day or month, or a malformed one, is a 404 page; every link carries the proxy
prefix (``root_path``).
"""

from __future__ import annotations

import hmac
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import anyio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from magfw.plugin.mission import Mission
from magfw.serve import dayfigure, ledgerviews
from magfw.serve.cache import Cache
from magfw.serve.calendars import STATES, build_calendar, month_last, parse_day, parse_month, unit_state, when
from magfw.serve.datasets import Dataset
from magfw.serve.downloads import recorded_file
from magfw.serve.hapi import Hapi
from magfw.serve.holdings import Holdings, UnitKey
from magfw.serve.settings import ServeSettings
from magfw.serve.site import Site

HERE = Path(__file__).parent
_PNG = {"Cache-Control": "max-age=3600"}


class Review:
    """The review pages and the recorded-file downloads."""

    def __init__(
        self,
        settings: ServeSettings,
        holdings: Holdings,
        catalog: dict[str, Dataset],
        missions: list[Mission],
        hapi: Hapi,
        cache: Cache,
    ) -> None:
        self.settings = settings
        self.h = holdings
        self.catalog = catalog
        self.missions = {m.id: m for m in missions}
        self.hapi = hapi
        self.cache = cache
        self.site = Site(holdings, catalog, missions, hapi.files, hapi.meta, cache)
        self.renders = anyio.CapacityLimiter(settings.max_renders)
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.globals["STATES"] = STATES

    def routes(self) -> list[BaseRoute]:
        g = ["GET", "HEAD"]
        return [
            Route("/", self.index, name="review_index", methods=g),
            Route("/favicon.ico", self.favicon, methods=g),
            Route("/login", self.login, name="login", methods=["GET", "HEAD", "POST"]),
            Route("/review/{mission}", self.mission_page, name="review_mission", methods=g),
            Route("/review/{mission}/{month}", self.month_page, name="review_month", methods=g),
            Route("/day/{mission}/{level}/{sc}/{day}", self.day_page, name="review_day", methods=g),
            Route(
                "/plot/{mission}/{level}/{sc}/{day}/{product}.png", self.plot, name="review_plot", methods=g
            ),
            Route("/figure/{mission}/{level}/{sc}/{month}.png", self.figure, name="review_figure", methods=g),
            Route("/datasets/{dataset}", self.dataset_page, name="review_dataset", methods=g),
            Route("/files/{path:path}", self.file, name="review_file", methods=g),
        ]

    def render(self, request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
        context.setdefault("base", request.scope.get("root_path", "") + self.settings.base_path)
        return self.templates.TemplateResponse(request, name, context, status_code=status_code)

    def _not_found(self, request: Request, text: str) -> Response:
        return self.render(request, "error.html", status_code=404, message=text)

    async def not_found(self, request: Request, exc: Exception) -> Response:
        return self._not_found(request, "no such page")

    async def not_allowed(self, request: Request, exc: Exception) -> Response:
        return Response("read-only server: GET and HEAD only", 405, headers={"Allow": "GET, HEAD"})

    async def server_error(self, request: Request, exc: Exception) -> Response:
        return Response("internal error: see the server log", 500, media_type="text/plain")

    async def _drawn(self, fn: Any, *args: Any) -> Any:
        async with self.renders:
            return await anyio.to_thread.run_sync(fn, *args)

    # -- pages -------------------------------------------------------------------------------

    async def favicon(self, request: Request) -> Response:
        return Response(status_code=204)

    async def login(self, request: Request) -> Response:
        prefix = request.scope.get("root_path", "")
        nxt = request.query_params.get("next", prefix + "/")
        if not nxt.startswith("/") or nxt.startswith("//"):
            nxt = prefix + "/"
        if request.method == "POST":
            body = (await request.body())[:4096].decode("utf-8", "replace")
            token = (parse_qs(body).get("token") or [""])[0]
            if self.settings.token and hmac.compare_digest(token.encode(), self.settings.token.encode()):
                resp = RedirectResponse(nxt, 303)
                resp.set_cookie("magfw_token", token, httponly=True, samesite="strict", path=prefix + "/")
                return resp
            return self.render(request, "login.html", next=nxt, failed=True)
        return self.render(request, "login.html", next=nxt, failed=False)

    async def index(self, request: Request) -> Response:
        self.h.refresh()
        missions = []
        for mid in self.h.missions_with_units():
            m = self.missions.get(mid)
            months = await anyio.to_thread.run_sync(self.site.months, m) if m else []
            missions.append(
                {"id": mid, "title": m.title if m else mid, "months": months[-6:][::-1], "n": len(months)}
            )
        return self.render(
            request, "index.html", missions=missions, datasets=self.hapi.listed(), tree=str(self.h.out_dir)
        )

    async def mission_page(self, request: Request) -> Response:
        self.h.refresh()
        m = self.missions.get(request.path_params["mission"])
        if m is None:
            return self._not_found(request, "no such mission")
        months = []
        for month in (await anyio.to_thread.run_sync(self.site.months, m))[::-1]:
            first = parse_month(month)
            assert first is not None
            counts: dict[str, int] = {}
            for level, sc in self.site.levels(m):
                if level.unit == "day":
                    for u in self.site.units_in(m.id, level.name, sc, first):
                        state = unit_state(self.h, u.unit)[0]
                        counts[state] = counts.get(state, 0) + 1
            months.append({"month": month, "counts": counts})
        return self.render(request, "mission.html", mission=m, months=months)

    def _section(
        self, request: Request, m: Mission, level: Any, sc: str | None, first: date
    ) -> dict[str, Any] | None:
        units = self.site.units_in(m.id, level.name, sc, first)
        if not units:
            return None
        datasets = self.site.datasets(m.id, level.name, sc)
        section: dict[str, Any] = {
            "level": level.name,
            "sc": sc or "-",
            "unit": level.unit,
            "figure": None,
            "calibration": ledgerviews.calibration(self.h, units),
            "history": ledgerviews.history(self.h, units),
            "datasets": [ds.id for ds in datasets],
        }
        if datasets and self.site.month_figure_key(datasets, first) is not None:
            section["figure"] = str(
                request.url_for(
                    "review_figure", mission=m.id, level=level.name, sc=sc or "-", month=f"{first:%Y-%m}"
                )
            )
        if level.unit != "day":
            section["units"] = [
                {
                    "unit": u.key,
                    **dict(zip(("state", "reason", "serving"), unit_state(self.h, u.unit), strict=True)),
                    "files": ledgerviews.files(self.h, request, u),
                }
                for u in units
            ]
            return section
        quality = []
        coverage: dict[date, float] = {}
        for u in units:
            if datasets and self.h.current(u.unit) is not None:
                q = self.site.unit_quality(datasets[0], u)
                entry = self.h.current(u.unit)
                message = entry.message if entry is not None else ""
                quality.append({"day": u.key, **q, "xml_quality": self.site.unit_xml(u), "message": message})
                if q.get("coverage_pct") is not None:
                    coverage[u.start] = q["coverage_pct"]

        def link(d: date) -> str:
            return str(
                request.url_for("review_day", mission=m.id, level=level.name, sc=sc or "-", day=d.isoformat())
            )

        section["calendar"] = build_calendar(self.h, units, level.name, sc or "-", first, link, coverage)
        section["quality"] = quality
        return section

    async def month_page(self, request: Request) -> Response:
        self.h.refresh()
        m = self.missions.get(request.path_params["mission"])
        first = parse_month(request.path_params["month"])
        if m is None or first is None:
            return self._not_found(request, "no such mission or month (YYYY-MM)")
        sections = []
        for level, sc in self.site.levels(m):
            section = await anyio.to_thread.run_sync(self._section, request, m, level, sc, first)
            if section is not None:
                sections.append(section)
        prev_m = (first - timedelta(days=1)).strftime("%Y-%m")
        next_m = (month_last(first) + timedelta(days=1)).strftime("%Y-%m")
        return self.render(
            request,
            "month.html",
            mission=m,
            month=f"{first:%Y-%m}",
            title=first.strftime("%B %Y"),
            sections=sections,
            prev_month=prev_m,
            next_month=next_m,
        )

    def _unit(self, p: dict[str, str]) -> tuple[Mission, Any, UnitKey] | None:
        m = self.missions.get(p["mission"])
        day = parse_day(p["day"])
        if m is None or p["level"] not in m.levels or day is None or m.levels[p["level"]].unit != "day":
            return None
        if (p["sc"] == "-") != (not (m.spacecraft and m.levels[p["level"]].per_spacecraft)):
            return None
        if p["sc"] != "-" and p["sc"] not in m.spacecraft:
            return None
        u = UnitKey.parse(f"{m.id}/{p['level']}/{p['sc']}/{day.isoformat()}")
        return None if u is None else (m, m.levels[p["level"]], u)

    async def day_page(self, request: Request) -> Response:
        self.h.refresh()
        found = self._unit(dict(request.path_params))
        if found is None:
            return self._not_found(request, "no such mission, level, spacecraft or day")
        m, level, u = found
        sc = None if u.spacecraft == "-" else u.spacecraft
        state, reason, serving = unit_state(self.h, u.unit)
        datasets = [ds for ds in self.site.datasets(m.id, level.name, sc) if self.h.unit_products(ds, u)]
        plots = [
            {
                "product": ds.definition.id,
                "dataset": ds.id,
                "url": str(
                    request.url_for(
                        "review_plot",
                        mission=m.id,
                        level=level.name,
                        sc=u.spacecraft,
                        day=u.key,
                        product=ds.definition.id,
                    )
                ),
            }
            for ds in datasets
        ]
        figures = await anyio.to_thread.run_sync(self.site.unit_quality, datasets[0], u) if datasets else {}
        current = self.h.current(u.unit)
        xml = self.site.unit_xml(u)
        start, stop = f"{u.start}T00:00:00Z", f"{u.start + timedelta(days=1)}T00:00:00Z"
        base = request.scope.get("root_path", "") + self.settings.base_path
        links = []
        for ds in self.catalog.values():
            if (
                ds.mission == m.id
                and level.name in ds.levels
                and ds.spacecraft == sc
                and self.h.unit_products(ds, u)
            ):
                q = f"dataset={ds.id}&start={start}&stop={stop}"
                links.append(
                    {
                        "id": ds.id,
                        "info": f"{base}/info?dataset={ds.id}",
                        "csv": f"{base}/data?{q}",
                        "json": f"{base}/data?{q}&format=json",
                        "page": str(request.url_for("review_dataset", dataset=ds.id)),
                    }
                )
        runs = ledgerviews.history(self.h, [u])
        return self.render(
            request,
            "day.html",
            mission=m,
            level=level,
            sc=u.spacecraft,
            day=u.key,
            month=u.key[:7],
            state=state,
            reason=reason,
            serving=serving,
            plots=plots,
            links=links,
            quality=figures,
            xml_quality=xml,
            message=current.message if current else "",
            runs=runs,
            files=ledgerviews.files(self.h, request, u),
            calibration=ledgerviews.calibration(self.h, [u]),
        )

    async def plot(self, request: Request) -> Response:
        self.h.refresh()
        p = dict(request.path_params)
        found = self._unit(p)
        ds = None
        if found is not None:
            m, level, u = found
            sc = None if u.spacecraft == "-" else u.spacecraft
            ds = next(
                (d for d in self.site.datasets(m.id, level.name, sc) if d.definition.id == p["product"]), None
            )
        products = self.h.unit_products(ds, u) if ds is not None and found is not None else []
        if ds is None or not products:
            return Response("no such product", 404, media_type="text/plain")
        refs = [f for pf in products for f in pf.files]
        key = dayfigure.cache_key([r.sha256 for r in refs])
        data = self.cache.read("plots", key)
        if data is None:

            def draw() -> bytes:
                paths = [self.h.path(pf.main) for pf in products]
                got = self.h.read_verified(tuple(refs), lambda: dayfigure.day_png(ds.definition, paths))
                if got is None:
                    raise RuntimeError(f"{products[0].main.rel} changed while drawing; reload")
                self.cache.put("plots", key, got)
                return got

            data = await self._drawn(draw)
        return Response(data, media_type="image/png", headers={"ETag": f'"{key[:32]}"', **_PNG})

    async def figure(self, request: Request) -> Response:
        self.h.refresh()
        p = request.path_params
        m = self.missions.get(p["mission"])
        first = parse_month(p["month"])
        if m is None or first is None or p["level"] not in m.levels:
            return Response("no such figure", 404, media_type="text/plain")
        sc = None if p["sc"] == "-" else p["sc"]
        png = await self._drawn(self.site.month_png, m, p["level"], sc, first)
        if png is None:
            return Response("nothing to draw for this month", 404, media_type="text/plain")
        return Response(png, media_type="image/png", headers=_PNG)

    async def dataset_page(self, request: Request) -> Response:
        self.h.refresh()
        ds = self.catalog.get(request.path_params["dataset"])
        if ds is None:
            return self._not_found(request, "no such dataset")
        cov = await self.hapi.coverage(ds) if self.h.has_products(ds) else None
        units = []
        for u, files in self.h.dataset_units(ds):
            refs = [
                {"path": f.rel, "size": f.size, "url": str(request.url_for("review_file", path=f.rel))}
                for pf in files
                for f in pf.files
            ]
            units.append({"unit": u.key, "files": refs, "version": files[0].product_version})
        return self.render(
            request,
            "dataset.html",
            ds=ds,
            coverage=cov,
            units=units[::-1][:400],
            n_units=len(units),
            first=_text(ds, cov.first) if cov else "",
            last=_text(ds, cov.last) if cov else "",
            committed=when(cov.modified) if cov else "",
        )

    async def file(self, request: Request) -> Response:
        return await recorded_file(self.h, request)


def _text(ds: Dataset, tt: int) -> str:
    from magfw.serve.timefmt import format_hapi_time

    return format_hapi_time(tt, ds.time_digits)

"""The review site: per mission and month, what the monthly review needs in one page.

- a coverage calendar per level and spacecraft: each day ok, failed (with the ledger's one-line
  reason), missing input (a failed run that got no input), skipped (with its reason) or not
  processed; a day whose latest run failed but which has older products says which version is
  still served;
- per-day quality figures of the level's first time-series product (:mod:`magfw.serve.quality`);
- the calibration tables the month's units used (role ``calibration`` in the ledger; a table
  that is itself a recorded output of the tree, such as STEREO's imported Counts table, shown
  in full);
- the version history of every unit, with the ledger's reasons;
- a day page: quicklook (drawn by :mod:`magfw.tools.plot` on demand, cached in
  ``<tree>/.magfw/serve/plots``), quality, files, runs, and HAPI links for each dataset.

Files are served only if they are outputs of a unit's latest successful run, verified against
the ledger (:meth:`Holdings.open_recorded`); no URL names a path on disk otherwise.
"""

from __future__ import annotations

import calendar
import hmac
import html
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from magfw.config import state_dir
from magfw.plugin.mission import Level, Mission
from magfw.serve import quality
from magfw.serve.datasets import TIME_SERIES_FORMATS, Dataset
from magfw.serve.hapi import Hapi
from magfw.serve.holdings import Holdings, UnitKey
from magfw.serve.settings import ServeSettings

HERE = Path(__file__).parent
STATES = {
    "ok": "ok",
    "failed": "failed",
    "missing": "missing input",
    "skipped": "skipped",
    "none": "not processed",
}


@dataclass
class DayCell:
    day: date
    state: str  #: ok | failed | missing | skipped | none
    reason: str = ""
    serving: str = ""  #: "serving V06 of 2024-02-03" when a failed rerun left older products
    link: str = ""

    @property
    def short(self) -> str:
        """The reason with a leading absolute path cut to its file name (for the cell)."""
        return short_reason(self.reason)


def short_reason(text: str) -> str:
    m = re.match(r"(?:/[^:]*)?/([^/:]+): (.*)", text)
    return f"{m.group(1)}: {m.group(2)}" if m else text


@dataclass
class Calendar:
    level: str
    spacecraft: str
    weeks: list[list[DayCell | None]] = field(default_factory=list)
    problems: list[DayCell] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def unit_state(h: Holdings, unit: str) -> tuple[str, str, str]:
    """(state, reason, serving) of a unit from its latest run and latest successful run."""
    latest, current = h.latest(unit), h.current(unit)
    serving = ""
    if current is not None and latest is not None and latest.id != current.id:
        v = "" if current.product_version is None else f"V{current.product_version:02d} "
        serving = f"serving {v}of {_when(current.started)}"
    if latest is None:
        return "none", "", ""
    if latest.status == "ok":
        return "ok", latest.message, ""
    if latest.status == "skipped":
        if current is not None and latest.message.startswith("unchanged since"):
            return "ok", current.message, ""
        return "skipped", latest.message, serving
    reason = latest.error or latest.message or "failed"
    return ("missing" if not latest.inputs else "failed"), reason, serving


def _primary(mission: Mission, level: Level) -> list[str]:
    """The level's time-series products, CDF and netCDF first (the first is the primary)."""
    defs = [mission.product(p) for p in level.products]
    ts = [d for d in defs if d.format in TIME_SERIES_FORMATS and d.time_variable is not None]
    ts.sort(key=lambda d: d.format == "flatfile")
    return [d.id for d in ts]


class Review:
    """The review pages and the recorded-file downloads."""

    def __init__(
        self,
        settings: ServeSettings,
        holdings: Holdings,
        catalog: dict[str, Dataset],
        missions: list[Mission],
        hapi: Hapi,
        cache: Any,
    ) -> None:
        self.settings = settings
        self.h = holdings
        self.catalog = catalog
        self.missions = {m.id: m for m in missions}
        self.hapi = hapi
        self.limiter = anyio.CapacityLimiter(settings.max_renders)
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.globals["STATES"] = STATES
        cache = state_dir(holdings.out_dir) / "serve"
        self.plot_dir = cache / "plots"
        self.quality_dir = cache / "quality"

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
            Route("/datasets/{dataset}", self.dataset_page, name="review_dataset", methods=g),
            Route("/files/{path:path}", self.file, name="review_file", methods=g),
        ]

    def render(self, request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
        context.setdefault("base", request.scope.get("root_path", "") + self.settings.base_path)
        return self.templates.TemplateResponse(request, name, context, status_code=status_code)

    # -- pages -------------------------------------------------------------------------------

    async def favicon(self, request: Request) -> Response:
        return Response(status_code=204)

    async def login(self, request: Request) -> Response:
        nxt = request.query_params.get("next", "/")
        if not nxt.startswith("/") or nxt.startswith("//"):
            nxt = "/"
        if request.method == "POST":
            from urllib.parse import parse_qs

            body = (await request.body())[:4096].decode("utf-8", "replace")
            token = (parse_qs(body).get("token") or [""])[0]
            if self.settings.token and hmac.compare_digest(token.encode(), self.settings.token.encode()):
                resp = RedirectResponse(nxt, 303)
                resp.set_cookie("magfw_token", token, httponly=True, samesite="strict")
                return resp
            return self.render(request, "login.html", next=nxt, failed=True)
        return self.render(request, "login.html", next=nxt, failed=False)

    async def index(self, request: Request) -> Response:
        self.h.refresh()
        missions = []
        for mid in self.h.missions_with_units():
            m = self.missions.get(mid)
            months = self._months(mid)
            missions.append(
                {
                    "id": mid,
                    "title": m.title if m else mid,
                    "months": months[-6:][::-1],
                    "n_months": len(months),
                }
            )
        served = [ds for ds, _ in await self.hapi.served()]
        return self.render(
            request, "index.html", missions=missions, datasets=served, tree=str(self.h.out_dir)
        )

    def _months(self, mission: str) -> list[str]:
        m = self.missions.get(mission)
        months: set[str] = set()
        for level in m.levels if m else {}:
            for sc in [*(m.spacecraft if m else []), None]:
                for u in self.h.units(mission, level, sc):
                    d = u.start
                    while d <= u.end and len(months) < 100_000:
                        months.add(f"{d:%Y-%m}")
                        d = (d.replace(day=1) + timedelta(days=32)).replace(day=1)
        return sorted(months)

    async def mission_page(self, request: Request) -> Response:
        self.h.refresh()
        mission = request.path_params["mission"]
        if mission not in self.missions:
            return self._not_found(request, f"no mission {mission!r}")
        months = []
        for month in self._months(mission)[::-1]:
            counts: dict[str, int] = {}
            for cal in self._calendars(request, mission, month):
                for k, v in cal.counts.items():
                    counts[k] = counts.get(k, 0) + v
            months.append({"month": month, "counts": counts})
        return self.render(request, "mission.html", mission=self.missions[mission], months=months)

    def _levels(self, mission: Mission) -> Iterator[tuple[Level, str | None]]:
        for level in mission.levels.values():
            for sc in mission.spacecraft if level.per_spacecraft and mission.spacecraft else [None]:
                yield level, sc

    def _calendars(self, request: Request, mission: str, month: str) -> list[Calendar]:
        m = self.missions[mission]
        y, mo = int(month[:4]), int(month[5:7])
        out = []
        for level, sc in self._levels(m):
            if level.unit != "day":
                continue
            units = {
                u.start: u
                for u in self.h.units(mission, level.name, sc)
                if u.start.year == y and u.start.month == mo
            }
            if not units:
                continue
            cal = Calendar(level.name, sc or "-")
            for week in calendar.Calendar(firstweekday=0).monthdatescalendar(y, mo):
                row: list[DayCell | None] = []
                for d in week:
                    if d.month != mo:
                        row.append(None)
                        continue
                    u = units.get(d)
                    if u is None:
                        cell = DayCell(d, "none")
                    else:
                        state, reason, serving = unit_state(self.h, u.unit)
                        cell = DayCell(
                            d,
                            state,
                            reason,
                            serving,
                            str(
                                request.url_for(
                                    "review_day",
                                    mission=mission,
                                    level=level.name,
                                    sc=sc or "-",
                                    day=d.isoformat(),
                                )
                            ),
                        )
                    cal.counts[cell.state] = cal.counts.get(cell.state, 0) + 1
                    if cell.state in ("failed", "missing", "skipped"):
                        cal.problems.append(cell)
                    row.append(cell)
                cal.weeks.append(row)
            out.append(cal)
        return out

    async def month_page(self, request: Request) -> Response:
        self.h.refresh()
        mission, month = request.path_params["mission"], request.path_params["month"]
        if mission not in self.missions or not _is_month(month):
            return self._not_found(request, "no such mission or month (YYYY-MM)")
        m = self.missions[mission]
        y, mo = int(month[:4]), int(month[5:7])
        first = date(y, mo, 1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        calendars = self._calendars(request, mission, month)
        sections = []
        for cal in calendars:
            level = m.level(cal.level)
            sc = None if cal.spacecraft == "-" else cal.spacecraft
            units = [u for u in self.h.units(mission, level.name, sc) if first <= u.start <= last]
            figures = await anyio.to_thread.run_sync(self._month_quality, m, level, units)
            sections.append(
                {
                    "calendar": cal,
                    "quality": figures,
                    "calibration": self._calibration(units),
                    "history": self._history(units),
                }
            )
        others = []  # month- and year-unit levels overlapping the month
        for level, sc in self._levels(m):
            if level.unit == "day":
                continue
            for u in self.h.units(mission, level.name, sc):
                if u.start <= last and u.end >= first:
                    state, reason, serving = unit_state(self.h, u.unit)
                    others.append(
                        {
                            "level": level.name,
                            "sc": sc or "-",
                            "unit": u.key,
                            "state": state,
                            "reason": reason,
                            "serving": serving,
                            "files": self._files(request, u),
                        }
                    )
        prev_m = (first - timedelta(days=1)).strftime("%Y-%m")
        next_m = (last + timedelta(days=1)).strftime("%Y-%m")
        return self.render(
            request,
            "month.html",
            mission=m,
            month=month,
            title=first.strftime("%B %Y"),
            sections=sections,
            others=others,
            prev_month=prev_m,
            next_month=next_m,
        )

    def _month_quality(self, m: Mission, level: Level, units: list[UnitKey]) -> list[dict[str, Any]]:
        rows = []
        products = _primary(m, level)
        for u in units:
            e = self.h.current(u.unit)
            if e is None or not products:
                continue
            rows.append({"day": u.key, **self._unit_quality(m, products[0], u)})
        return rows

    def _unit_quality(self, m: Mission, product_id: str, u: UnitKey) -> dict[str, Any]:
        e = self.h.current(u.unit)
        if e is None:
            return {}
        d = m.product(product_id)
        out: dict[str, Any] = {}
        for o in e.outputs:
            if o["product"] == d.id and out == {}:
                ref = self.h.recorded(o["path"])
                if ref is None:
                    continue
                path = self.h.path(ref[0])
                if _writable(self.quality_dir.parent.parent):
                    self.quality_dir.mkdir(parents=True, exist_ok=True)
                try:
                    out = quality.cached(
                        self.quality_dir if self.quality_dir.is_dir() else None,
                        ref[0].sha256,
                        lambda p=path: quality.figures(d, p),
                    )
                except Exception as exc:  # a damaged file is shown, not fatal to the page
                    out = {"error": f"{type(exc).__name__}: {exc}"}
        xml = []
        for o in e.outputs:
            if o["path"].lower().endswith(".xml"):
                rec = self.h.recorded(o["path"])
                if rec is not None:
                    xml += quality.xml_quality(self.h.path(rec[0]))
        if xml:
            out["xml_quality"] = xml
        out["message"] = e.message
        return out

    def _calibration(self, units: list[UnitKey]) -> list[dict[str, Any]]:
        tables: dict[tuple[str, str], dict[str, Any]] = {}
        for u in units:
            e = self.h.current(u.unit)
            if e is None:
                continue
            for i in e.inputs:
                if i["role"] != "calibration":
                    continue
                key = (i["name"], i["sha256"])
                t = tables.setdefault(
                    key,
                    {
                        "name": i["name"],
                        "sha256": i["sha256"],
                        "version": i.get("version"),
                        "days": [],
                        "content": None,
                    },
                )
                t["days"].append(u.key)
        for (name, sha), t in tables.items():
            rec = self.h.recorded(name)
            if rec is not None and rec[0].sha256 == sha and rec[0].size < 512 * 1024:
                try:
                    text = self.h.path(rec[0]).read_text(errors="replace")
                except OSError:
                    continue
                t["content"] = _table(text)
                t["in_tree"] = True
        return list(tables.values())

    def _history(self, units: list[UnitKey]) -> list[dict[str, Any]]:
        rows = []
        for u in units:
            for r in self.h.runs(u.unit):
                rows.append(
                    {
                        "day": u.key,
                        "when": _when(r.started),
                        "status": r.status,
                        "version": r.product_version,
                        "reason": r.reason or "",
                        "message": r.error or r.message,
                        "simulated": r.simulated,
                    }
                )
        return rows

    def _files(self, request: Request, u: UnitKey) -> list[dict[str, Any]]:
        e = self.h.current(u.unit)
        if e is None:
            return []
        return [
            {
                "path": o["path"],
                "product": o["product"],
                "size": o["size"],
                "url": str(request.url_for("review_file", path=o["path"])),
            }
            for o in sorted(e.outputs, key=lambda o: o["path"])
        ]

    async def day_page(self, request: Request) -> Response:
        self.h.refresh()
        p = request.path_params
        mission, level_name, sc, day_text = p["mission"], p["level"], p["sc"], p["day"]
        m = self.missions.get(mission)
        if m is None or level_name not in m.levels or not _is_day(day_text):
            return self._not_found(request, "no such mission, level or day")
        unit = f"{mission}/{level_name}/{sc}/{day_text}"
        u = UnitKey.parse(unit)
        assert u is not None
        level = m.level(level_name)
        state, reason, serving = unit_state(self.h, unit)
        current = self.h.current(unit)
        written = {o["product"] for o in current.outputs} if current is not None else set()
        products = [pid for pid in _primary(m, level) if pid in written]
        plots = [
            {
                "product": pid,
                "url": str(
                    request.url_for(
                        "review_plot", mission=mission, level=level_name, sc=sc, day=day_text, product=pid
                    )
                ),
            }
            for pid in products
        ]
        day = date.fromisoformat(day_text)
        start, stop = f"{day.isoformat()}T00:00:00Z", f"{day + timedelta(days=1)}T00:00:00Z"
        links = []
        for ds in self.catalog.values():
            if (
                ds.mission == mission
                and level_name in ds.levels
                and (ds.spacecraft or "-") == sc
                and self.h.unit_products(ds, u)
            ):
                base = self.settings.base_path
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
        figures = await anyio.to_thread.run_sync(self._unit_quality, m, products[0], u) if products else {}
        runs = [
            {
                "when": _when(r.started),
                "status": r.status,
                "version": r.product_version,
                "reason": r.reason or "",
                "message": r.error or r.message,
            }
            for r in self.h.runs(unit)
        ]
        return self.render(
            request,
            "day.html",
            mission=m,
            level=level,
            sc=sc,
            day=day_text,
            month=day_text[:7],
            state=state,
            reason=reason,
            serving=serving,
            plots=plots,
            links=links,
            quality=figures,
            runs=runs,
            files=self._files(request, u),
            calibration=self._calibration([u]),
        )

    async def plot(self, request: Request) -> Response:
        self.h.refresh()
        p = request.path_params
        m = self.missions.get(p["mission"])
        unit = f"{p['mission']}/{p['level']}/{p['sc']}/{p['day']}"
        e = self.h.current(unit)
        if m is None or e is None or not _is_day(p["day"]):
            return Response("no such product", 404, media_type="text/plain")
        out = next((o for o in e.outputs if o["product"] == p["product"]), None)
        if out is None:
            return Response("no such product", 404, media_type="text/plain")
        rec = self.h.recorded(out["path"])
        if rec is None:
            return Response("no such product", 404, media_type="text/plain")
        ref = rec[0]
        png = self.plot_dir / f"{ref.sha256}.png"
        if not png.is_file():
            async with self.limiter:
                data = await anyio.to_thread.run_sync(self._render, ref)
        else:
            data = png.read_bytes()
        return Response(
            data,
            media_type="image/png",
            headers={"ETag": f'"{ref.sha256[:32]}"', "Cache-Control": "max-age=3600"},
        )

    def _render(self, ref: Any) -> bytes:
        from magfw.tools.plot import quicklook_spec, render_png

        def draw(path: Path) -> bytes:
            return render_png(quicklook_spec(path, size_px=(1000, 560)))

        data = self.h.read_verified((ref,), lambda: draw(self.h.path(ref)))
        if data is None:
            raise RuntimeError(f"{ref.rel} changed while drawing; reload")
        if _writable(self.plot_dir.parent.parent):
            try:
                from magfw.io.atomic import write_bytes_atomic

                self.plot_dir.mkdir(parents=True, exist_ok=True)
                write_bytes_atomic(self.plot_dir / f"{ref.sha256}.png", data)
            except OSError:
                pass
        return data

    async def dataset_page(self, request: Request) -> Response:
        self.h.refresh()
        ds = self.catalog.get(request.path_params["dataset"])
        if ds is None:
            return self._not_found(request, "no such dataset")
        cov = await self.hapi.coverage(ds)
        units = []
        for u, files in self.h.dataset_units(ds):
            units.append(
                {
                    "unit": u.key,
                    "files": [
                        {
                            "path": f.rel,
                            "size": f.size,
                            "url": str(request.url_for("review_file", path=f.rel)),
                        }
                        for pf in files
                        for f in pf.files
                    ],
                    "version": files[0].product_version,
                }
            )
        return self.render(
            request, "dataset.html", ds=ds, coverage=cov, units=units[::-1][:400], n_units=len(units)
        )

    async def file(self, request: Request) -> Response:
        rel = request.path_params["path"]
        opened = await anyio.to_thread.run_sync(self.h.open_recorded, rel)
        if opened is None:
            return Response("not a recorded output of this tree", 404, media_type="text/plain")
        ref, fh = opened
        headers = {
            "ETag": f'"{ref.sha256[:32]}"',
            "Content-Length": str(ref.size),
            "Content-Disposition": f'attachment; filename="{Path(ref.rel).name}"',
        }
        if request.method == "HEAD":
            fh.close()
            return Response(b"", media_type="application/octet-stream", headers=headers)

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while True:
                    data = await anyio.to_thread.run_sync(fh.read, 1 << 20)
                    if not data:
                        break
                    yield data
            finally:
                fh.close()

        return StreamingResponse(chunks(), media_type="application/octet-stream", headers=headers)

    def _not_found(self, request: Request, text: str) -> Response:
        return self.render(request, "error.html", status_code=404, message=text)

    async def not_found(self, request: Request, exc: Exception) -> Response:
        return self._not_found(request, "no such page")

    async def not_allowed(self, request: Request, exc: Exception) -> Response:
        return Response("read-only server: GET and HEAD only", 405, headers={"Allow": "GET, HEAD"})

    async def server_error(self, request: Request, exc: Exception) -> Response:
        return Response("internal error: see the server log", 500, media_type="text/plain")


def _is_month(text: str) -> bool:
    try:
        datetime.strptime(text, "%Y-%m")
    except ValueError:
        return False
    return len(text) == 7


def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _writable(path: Path) -> bool:
    import os

    return os.access(path, os.W_OK)


def _table(text: str) -> dict[str, Any]:
    """A text table: a comment header line (``%``/``#``) naming the columns, rows of numbers."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    head: list[str] = []
    rows: list[list[str]] = []
    for ln in lines:
        if ln.lstrip().startswith(("%", "#")):
            names = [html.unescape(c.strip()) for c in ln.lstrip("%# ").split(",")]
            if len(names) > 1:
                head = names
            continue
        rows.append(ln.split())
    if head and rows and all(len(r) == len(head) for r in rows):
        return {"columns": head, "rows": rows}
    return {"text": text}

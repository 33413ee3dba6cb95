"""The review site and HAPI on a real STEREO tree (simulated archive, the runner), in a real
headless browser: Debian's Chromium driven by Playwright. A January with the researcher's
offsets imported, three L1 days, the second day's input truncated so its unit fails, and the
month's review merge.

The browser checks what a reviewer sees, served directly and behind a reverse proxy under a
prefix (``--root-path /magfw``, with the token and its login form): the failed day marked
failed with its reason, the month figure of each level and the quicklook loaded, the Counts
table beside the figure, every link, image and form of the pages under the prefix and
answering, no console error; screenshots are saved beside the test's temporary files (the
path is printed)."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from serve_helpers import prefix_proxy, running_server, validate

from magfw.api import parse_period
from magfw.engine.simulation import ensure_simulated, simulated_root
from magfw.geometry.time import tt2000_from_cdf_epoch
from magfw.io.cdf import read_cdf
from magfw.plugin.manager import get_hooks
from magfw.serve.timefmt import TimeWriter
from magfw.testing import run_level

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
CHROMIUM = os.environ.get("MAGFW_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "review-s3cret"


@pytest.fixture(scope="session")
def stereo_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("stereo") / "out"
    hooks = get_hooks()
    period = "2024-01-01..2024-01-03"
    ensure_simulated(hooks, "stereo", parse_period(period), out, "A", 0)
    root = simulated_root(out, "stereo", "A", 0)
    researcher = next(root.rglob("STEREO_A_offset_2024jan_avg.txt"))
    s = run_level(hooks, "stereo", "offsets", period, out, spacecraft="A", options={"file": str(researcher)})
    assert s.ok, [r.message for r in s.results]
    day2 = sorted((root / "impact/misc/uv/ahead").glob("STA_L1_MAG_20240102_V*.cdf"))[-1]
    data = day2.read_bytes()
    day2.write_bytes(data[: len(data) // 2])  # a truncated download: the unit fails
    run_level(hooks, "stereo", "l1", period, out, spacecraft="A", workers=2)
    run_level(hooks, "stereo", "merge", period, out, spacecraft="A")
    return out


def _app(tree: Path, **kw):
    from magfw.serve import ServeSettings, create_app

    return create_app(ServeSettings(out_dir=tree, **kw))


@pytest.fixture(scope="session")
def stereo_server(stereo_tree):
    with running_server(_app(stereo_tree)) as url:
        yield url


def _records(tree: Path, pattern: str) -> np.ndarray:
    times = [
        tt2000_from_cdf_epoch(read_cdf(p, ["Epoch"]).variables["Epoch"]) for p in sorted(tree.glob(pattern))
    ]
    return np.concatenate(times)


def test_stereo_datasets_over_hapi_match_the_cdf(stereo_server, stereo_tree, tmp_path):
    from hapiclient import hapi

    catalog = httpx.get(stereo_server + "/hapi/catalog").json()
    validate("catalog", catalog)
    ids = {d["id"] for d in catalog["catalog"]}
    assert {
        "STA_L1_MAG_RTN",
        "STA_L1_MAG_SC",
        "STA_L1_MAG_RTN_1MIN",
        "STA_L1_MAG_RTN_1S",
        "STA_L1_MAG_RTN_FF",
        "STA_L1_MAG_RTN_REVIEW",
    } <= ids
    info = httpx.get(stereo_server + "/hapi/info?dataset=STA_L1_MAG_RTN").json()
    validate("info", info)
    tt = _records(stereo_tree, "l1_final_cdf/rtn/Afgy2024/STA_L1_MAG_RTN_2024010*_V*.cdf")
    first, last = (bytes(r).decode() for r in TimeWriter(6).format(tt[[0, -1]]))
    assert (info["startDate"], info["stopDate"]) == (first, last)  # the records, not the days
    assert info["sampleStartDate"] == first and info["cadence"] == "PT0.125S"
    data, _ = hapi(
        stereo_server + "/hapi",
        "STA_L1_MAG_RTN",
        "BFIELD,MAGFLAGUC",
        "2024-01-03T00:00:00Z",
        "2024-01-04T00:00:00Z",
        format="binary",
        cache=False,
        usecache=False,
        cachedir=str(tmp_path),
        logging=False,
    )
    (path,) = stereo_tree.glob("l1_final_cdf/rtn/Afgy2024/STA_L1_MAG_RTN_20240103_V*.cdf")
    cdf = read_cdf(path, ["Epoch", "BFIELD", "MAGFLAGUC"])
    times = [bytes(r).decode() for r in TimeWriter(6).format(tt2000_from_cdf_epoch(cdf.variables["Epoch"]))]
    assert len(data) == len(times) == 691200
    assert [t.decode() for t in data["Epoch"]] == times
    b = cdf.variables["BFIELD"].astype(np.float64)
    b[cdf.variables["BFIELD"] == np.float32(-1e31)] = -1e31
    np.testing.assert_array_equal(data["BFIELD"], b)
    np.testing.assert_array_equal(data["MAGFLAGUC"], cdf.variables["MAGFLAGUC"])
    # the failed day keeps serving nothing (it never succeeded): no records for it
    day2 = httpx.get(
        stereo_server + "/hapi/data?dataset=STA_L1_MAG_RTN_1MIN&start=2024-01-02&stop=2024-01-03"
    )
    assert day2.status_code == 200 and day2.text == ""


def test_the_month_merge_is_served_with_its_sources_cadence(stereo_server, stereo_tree):
    """The merged product's definition has no cadence (8 Hz or 32 Hz by its burst field): its
    datasets take their source's, so 1408 applies to them too; their records are the merged
    days' (the same times as the daily files)."""
    for dataset, cadence, limit in [
        ("STA_L1_MAG_RTN_REVIEW", "PT0.125S", "P46DT7H6M40S"),
        ("STA_L1_MAGB_RTN_REVIEW", "PT0.03125S", "P11DT13H46M40S"),
    ]:
        info = httpx.get(f"{stereo_server}/hapi/info?dataset={dataset}").json()
        validate("info", info)
        assert (info["cadence"], info["maxRequestDuration"]) == (cadence, limit)
    tt = _records(stereo_tree, "l1_final_cdf/rtn/Afgy2024/STA_L1_MAG_RTN_2024010*_V*.cdf")
    info = httpx.get(f"{stereo_server}/hapi/info?dataset=STA_L1_MAG_RTN_REVIEW").json()
    first, last = (bytes(r).decode() for r in TimeWriter(6).format(tt[[0, -1]]))
    assert (info["startDate"], info["stopDate"]) == (first, last)
    r = httpx.get(
        f"{stereo_server}/hapi/data?dataset=STA_L1_MAG_RTN_REVIEW&parameters=BFIELD&format=binary"
        "&start=2024-01-03T05:00:00Z&stop=2024-01-03T06:00:00Z",
        timeout=120,
    )
    rec = np.frombuffer(r.content, dtype=[("t", "S27"), ("b", "<f8", (4,))])
    want = tt[(tt >= tt2000_of("2024-01-03T05:00:00")) & (tt < tt2000_of("2024-01-03T06:00:00"))]
    assert [t.decode() for t in rec["t"]] == [bytes(x).decode() for x in TimeWriter(6).format(want)]
    too_long = httpx.get(f"{stereo_server}/hapi/info?dataset=STA_L1_MAGB_RTN_REVIEW").json()
    assert too_long["maxRequestDuration"] == "P11DT13H46M40S"


def tt2000_of(iso: str) -> int:
    from magfw.geometry.time import tt2000_from_iso

    return int(tt2000_from_iso(iso))


def test_data_streams_beyond_the_limit_wait_then_get_503(stereo_tree):
    """At most ``max_streams`` data streams run at once: with one slot taken by a client that
    does not read, the next request waits ``queue_wait_s`` and is told 1500 with HTTP 503."""
    with running_server(_app(stereo_tree, max_streams=1, queue_wait_s=0.5)) as url:
        q = f"{url}/hapi/data?dataset=STA_L1_MAG_RTN&format=binary&start=2024-01-01&stop=2024-01-02"
        with httpx.Client(timeout=60) as slow, slow.stream("GET", q) as held:
            assert held.status_code == 200
            time.sleep(0.5)  # the slot is held while the socket is full
            busy = httpx.get(q, timeout=60)
            assert busy.status_code == 503 and busy.json()["status"]["code"] == 1500
            assert busy.headers["retry-after"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # once the slow client went, the slot is free again
            again = httpx.get(q.replace("2024-01-02", "2024-01-01T00:10"), timeout=60)
            if again.status_code == 200:
                break
            time.sleep(0.2)
        assert again.status_code == 200 and len(again.content) == 4800 * (27 + 4 * 8 + 8 + 8)


def _playwright():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    return sync_api


@pytest.fixture(params=["", "/magfw"], ids=["direct", "behind-prefix"], scope="module")
def site(request, stereo_tree):
    """(the site's URL, prefix): the server alone, or with the token behind a proxy prefix."""
    prefix = request.param
    if not prefix:
        with running_server(_app(stereo_tree)) as url:
            yield url, ""
        return
    with running_server(_app(stereo_tree, token=TOKEN, root_path=prefix), root_path=prefix) as upstream:
        with prefix_proxy(upstream, prefix) as url:
            yield url, prefix


def _links(page) -> list[str]:
    return list(
        page.eval_on_selector_all(
            "a[href], img[src], link[href], form[action]",
            "els => els.map(e => e.href || e.src || e.action).filter(u => u.startsWith('http'))",
        )
    )


def test_review_month_in_a_browser(site, tmp_path_factory):
    url, prefix = site
    sync_api = _playwright()
    shots = tmp_path_factory.mktemp("screenshots")
    home = url + "/"
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)

        page.goto(home)
        if prefix:  # the token: the login form, under the prefix, then back where we were
            assert page.url.startswith(f"{url}/login?next=")
            assert page.eval_on_selector("form", "f => f.action").startswith(url + "/login")
            page.fill("input[name=token]", TOKEN)
            page.click("button[type=submit]")
            page.wait_for_url(home)
        page.click("text=2024-01")
        assert page.url == f"{url}/review/stereo/2024-01"
        cell = page.locator('table.calendar[data-level="l1"] td[data-day="2024-01-02"]')
        assert cell.get_attribute("data-state") == "failed"
        reason = cell.locator(".reason").inner_text()
        assert "truncated" in reason or "not a readable CDF" in reason, reason
        for day in ("2024-01-01", "2024-01-03"):
            ok = page.locator(f'table.calendar[data-level="l1"] td[data-day="{day}"]')
            assert ok.get_attribute("data-state") == "ok" and float(ok.get_attribute("data-coverage")) > 99
        assert "2024-01-02" in page.locator("ul.problems li.failed").inner_text()
        for level in ("l1", "merge"):  # the month figure of each level, the offsets beside it
            img = page.locator(f'section[data-level="{level}"] img.month-figure')
            img.wait_for()
            img.evaluate("i => i.decode()")
            assert img.evaluate("i => i.naturalWidth") == 1400
        assert page.locator('section[data-level="l1"] aside.calibration table.offsets').count() >= 1
        assert "202401StereoACounts.asc" in page.content()
        assert page.locator("table.quality ul.bits li").count() > 0
        month_shot = shots / f"review-stereo-2024-01{prefix.replace('/', '-')}.png"
        page.screenshot(path=str(month_shot), full_page=True)
        links = _links(page)

        page.click('table.calendar[data-level="l1"] td[data-day="2024-01-01"] a')
        img = page.locator("img.quicklook")
        img.wait_for()
        img.evaluate("i => i.decode()")
        assert img.evaluate("i => i.naturalWidth") == 1000
        assert page.locator("p.status").get_attribute("data-state") == "ok"
        page.screenshot(
            path=str(shots / f"review-stereo-2024-01-01{prefix.replace('/', '-')}.png"), full_page=True
        )
        links += _links(page)
        page.goto(url + "/hapi")
        links += _links(page)
        missing = page.request.fetch(url + "/nothing/here")
        assert missing.status == 404 and "<h1>Not found</h1>" in missing.text()

        assert all(u.startswith(url + "/") for u in links), [u for u in links if not u.startswith(url + "/")]
        for link in sorted(set(links)):
            method = "HEAD" if "/hapi/data" in link or "/files/" in link else "GET"
            resp = page.request.fetch(link, method=method)
            assert resp.status < 400, (link, resp.status)
        browser.close()
    print(f"\nscreenshots: {shots}")
    assert month_shot.stat().st_size > 10_000
    assert not errors, errors


def test_the_token_guards_the_site_behind_the_prefix(stereo_tree):
    """Without the token the proxy's visitor is sent to the login form under the prefix (303),
    HAPI answers 401; the trailing-slash redirect keeps the prefix."""
    with running_server(_app(stereo_tree, token=TOKEN, root_path="/magfw"), root_path="/magfw") as upstream:
        with prefix_proxy(upstream, "/magfw") as url:
            r = httpx.get(f"{url}/review/stereo/2024-01", follow_redirects=False)
            assert r.status_code == 303
            assert r.headers["location"] == "/magfw/login?next=/magfw/review/stereo/2024-01"
            assert httpx.get(f"{url}/hapi/catalog").status_code == 401
            auth = {"Authorization": f"Bearer {TOKEN}"}
            slash = httpx.get(
                f"{url}/hapi/info/?dataset=STA_L1_MAG_RTN", headers=auth, follow_redirects=False
            )
            assert slash.status_code == 301 and slash.headers["location"].startswith("/magfw/hapi/info?")
            landing = httpx.get(f"{url}/hapi", headers=auth).text
            assert "href='/magfw/hapi/about'" in landing and "href='/magfw/'" in landing
            info = httpx.get(f"{url}/hapi/info?dataset=STA_L1_MAG_RTN", headers=auth).json()
            assert info["resourceURL"] == f"{url}/datasets/STA_L1_MAG_RTN"


def test_a_whole_month_stream_does_not_wait_for_the_month(stereo_tree):
    """The first bytes of a month request leave before the month is read (the stream is
    made piece by piece in its own thread while the event loop sends)."""
    with running_server(_app(stereo_tree)) as url:
        q = f"{url}/hapi/data?dataset=STA_L1_MAG_RTN_REVIEW&format=binary&start=2024-01-01&stop=2024-02-01"
        got = threading.Event()
        with httpx.stream("GET", q, timeout=120) as r:
            for _ in r.iter_raw():
                got.set()
                break
        assert got.is_set()

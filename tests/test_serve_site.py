"""The review site and HAPI on a real STEREO tree (simulated archive, the runner), in a real
headless browser: Debian's Chromium driven by Playwright. A January with the researcher's
offsets imported, three L1 days, the second day's input truncated so its unit fails.

The browser checks what a reviewer sees: the failed day marked failed with its reason, the
quicklook image loaded, every link and image of the pages answering, no console error; a
screenshot of the month is saved beside the test's temporary files (the path is printed)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from serve_helpers import running_server, validate

from magfw.api import parse_period
from magfw.engine.simulation import ensure_simulated, simulated_root
from magfw.io.cdf import read_cdf
from magfw.plugin.manager import get_hooks
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
    return out


@pytest.fixture(scope="session")
def stereo_server(stereo_tree):
    from magfw.serve import ServeSettings, create_app

    with running_server(create_app(ServeSettings(out_dir=stereo_tree))) as url:
        yield url


def test_stereo_datasets_over_hapi_match_the_cdf(stereo_server, stereo_tree, tmp_path):
    import httpx
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
    } <= ids
    info = httpx.get(stereo_server + "/hapi/info?dataset=STA_L1_MAG_RTN").json()
    validate("info", info)
    assert info["startDate"] == "2024-01-01T00:00:00.000Z"
    assert info["stopDate"] == "2024-01-04T00:00:00.000Z"
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
    from magfw.geometry.time import tt2000_from_cdf_epoch
    from magfw.serve.timefmt import TimeWriter

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


def _playwright():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    return sync_api


def test_review_month_in_a_browser(stereo_server, stereo_tree, tmp_path_factory):
    sync_api = _playwright()
    shots = tmp_path_factory.mktemp("screenshots")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)

        page.goto(stereo_server + "/")
        page.click("text=2024-01")
        assert page.url.endswith("/review/stereo/2024-01")
        cell = page.locator('table.calendar[data-level="l1"] td[data-day="2024-01-02"]')
        assert cell.get_attribute("data-state") == "failed"
        reason = cell.locator(".reason").inner_text()
        assert "truncated" in reason or "not a readable CDF" in reason, reason
        assert cell.locator(".state").inner_text() == "failed"
        for day in ("2024-01-01", "2024-01-03"):
            ok = page.locator(f'table.calendar[data-level="l1"] td[data-day="{day}"]')
            assert ok.get_attribute("data-state") == "ok"
        problems = page.locator("ul.problems li.failed").inner_text()
        assert "2024-01-02" in problems and "failed" in problems
        assert page.locator("table.offsets").count() >= 1  # the imported Counts table
        assert "202401StereoACounts.asc" in page.content()
        assert page.locator("table.quality td").count() > 0
        month_shot = shots / "review-stereo-2024-01.png"
        page.screenshot(path=str(month_shot), full_page=True)
        month_links = _links(page)

        page.click('table.calendar[data-level="l1"] td[data-day="2024-01-01"] a')
        img = page.locator("img.quicklook")
        img.wait_for()
        img.evaluate("i => i.decode()")  # resolves once the image is loaded and decoded
        assert img.evaluate("i => i.naturalWidth") == 1000
        assert page.locator("p.status").get_attribute("data-state") == "ok"
        page.screenshot(path=str(shots / "review-stereo-2024-01-01.png"), full_page=True)
        day_links = _links(page)

        for url in sorted(set(month_links + day_links)):
            resp = page.request.fetch(
                url, method="HEAD" if "/hapi/data" in url or "/files/" in url else "GET"
            )
            assert resp.status < 400, (url, resp.status)
        browser.close()
    print(f"\nscreenshots: {shots}")
    assert month_shot.stat().st_size > 10_000
    assert not errors, errors


def _links(page) -> list[str]:
    return [
        u
        for u in page.eval_on_selector_all(
            "a[href], img[src], link[href]",
            "els => els.map(e => e.href || e.src).filter(u => u.startsWith('http'))",
        )
    ]

"""``magfw serve`` over HAPI, against a real server (uvicorn on a free loopback port) on a tree
the runner wrote with the small ``tiny`` mission (tests/serveplugin.py): every JSON answer
validated with the official HAPI 3.3 schema, the real client (hapiclient) compared value by
value and time by time with the files, csv/binary/json compared with each other, each error
code, caching headers, gzip, the token, file downloads, and data requested while a run
rewrites the tree."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from serve_helpers import running_server, validate
from serveplugin import Tiny, day_values

from magfw.engine.ledger import Ledger
from magfw.geometry.time import tt2000_from_iso
from magfw.io.cdf import read_cdf
from magfw.testing import make_hooks, run_level

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """X: 2024-03-01..03 ok, 03-04 failed (bad input), 03-05 skipped; Y: 03-01 and 03-03 ok,
    03-02 missing input."""
    out = tmp_path_factory.mktemp("tiny") / "out"
    archive = out.parent / "archive"
    hooks = make_hooks(Tiny(), names=["tiny"])
    from magfw.api import parse_period

    Tiny().magfw_simulate("tiny", parse_period("2024-03-01..2024-03-05"), archive, "X", 0)
    Tiny().magfw_simulate("tiny", parse_period("2024-03-01..2024-03-03"), archive, "Y", 0)
    (archive / "X/2024-03-04.txt").write_text("bad")
    (archive / "X/2024-03-05.txt").write_text("skip")
    (archive / "Y/2024-03-02.txt").unlink()
    run_level(hooks, "tiny", "l1", "2024-03-01..2024-03-05", out, source=str(archive), spacecraft="X")
    run_level(hooks, "tiny", "l1", "2024-03-01..2024-03-03", out, source=str(archive), spacecraft="Y")
    return out


@pytest.fixture(scope="module")
def missions():
    return list(make_hooks(Tiny(), names=["tiny"]).registry)


def make_app(tree: Path, missions, **kw):
    from magfw.serve import ServeSettings, create_app

    return create_app(ServeSettings(out_dir=tree, **kw), missions=missions)


@pytest.fixture(scope="module")
def server(tree, missions):
    with running_server(make_app(tree, missions)) as url:
        yield url


def get(url: str, **kw) -> httpx.Response:
    return httpx.get(url, timeout=60, **kw)


def cdf_path(tree: Path, sc: str, day: str) -> Path:
    (p,) = tree.glob(f"tiny/{sc}/2024/TINY_{sc}_MAG_{day.replace('-', '')}_V*.cdf")
    return p


def test_json_answers_validate_against_the_hapi_schema(server):
    for kind, path in [
        ("about", "/hapi/about"),
        ("capabilities", "/hapi/capabilities"),
        ("catalog", "/hapi/catalog"),
        ("catalog", "/hapi/catalog?depth=all"),
        ("info", "/hapi/info?dataset=TINY_X_MAG"),
        ("info", "/hapi/info?id=TINY_X_MAG_NC"),
        ("info", "/hapi/info?dataset=TINY_X_MAG_1MIN&parameters=B"),
        ("info", "/hapi/info?dataset=TINY_Y_MAG&resolve_references=false"),
    ]:
        r = get(server + path)
        assert r.status_code == 200, (path, r.text)
        assert r.headers["content-type"].startswith("application/json")
        validate(kind, r.json())
    ids = [d["id"] for d in get(server + "/hapi/catalog").json()["catalog"]]
    assert ids == [
        "TINY_X_MAG",
        "TINY_Y_MAG",
        "TINY_X_MAG_NC",
        "TINY_Y_MAG_NC",
        "TINY_X_MAG_1MIN",
        "TINY_Y_MAG_1MIN",
    ]
    r = get(server + "/hapi/data?dataset=TINY_X_MAG&start=2024-03-01&stop=2024-03-01T00:03Z&format=json")
    body = r.json()
    data = body.pop("data")
    body.pop("format")
    validate("info", body)
    assert len(data) == 3


def test_info_is_built_from_the_definition_and_the_ledger(server):
    info = get(server + "/hapi/info?dataset=TINY_X_MAG").json()
    assert [p["name"] for p in info["parameters"]] == ["Epoch", "B", "BMAG", "FLAG", "STATUS"]
    t, b, bmag, flag, status = info["parameters"]
    assert t == {"name": "Epoch", "type": "isotime", "units": "UTC", "fill": None, "length": 30}
    assert b["size"] == [3] and b["units"] == "nT" and b["fill"] == "-1e+31"
    assert b["coordinateSystemName"] == "GSE" and b["vectorComponents"] == ["x", "y", "z"]
    assert bmag["type"] == "double" and flag["type"] == "integer" and flag["fill"] == "255"
    assert status["type"] == "double" and status["fill"] == "4294967295"
    # the first and last records of days 1..3 (the failed 4th and skipped 5th hold nothing)
    assert (info["startDate"], info["stopDate"]) == (
        "2024-03-01T00:00:30.000000000Z",
        "2024-03-03T23:59:30.000000000Z",
    )
    # a sample window with data: 1000 records at the cadence from the first
    assert (info["sampleStartDate"], info["sampleStopDate"]) == (
        "2024-03-01T00:00:30.000000000Z",
        "2024-03-01T16:40:30.000000000Z",
    )
    assert info["cadence"] == "PT1M" and info["timeStampLocation"] == "center"
    assert info["resourceURL"].endswith("/datasets/TINY_X_MAG")
    nc = get(server + "/hapi/info?dataset=TINY_X_MAG_NC").json()
    assert nc["parameters"][1]["vectorComponents"] == "x"
    assert nc["parameters"][0]["length"] == 27
    sub = get(server + "/hapi/info?dataset=TINY_X_MAG&parameters=BMAG,STATUS").json()
    assert [p["name"] for p in sub["parameters"]] == ["Epoch", "BMAG", "STATUS"]


def _expected(tree: Path, sc: str, days: list[str]):
    """Times (ISO, microseconds... as the server writes them) and values read from the CDFs."""
    from magfw.serve.timefmt import TimeWriter

    tt, b, bmag, flag = [], [], [], []
    for day in days:
        d = read_cdf(cdf_path(tree, sc, day))
        tt.append(d.variables["Epoch"])
        bb = d.variables["B"].astype(np.float64)
        bb[d.variables["B"] == np.float32(-1e31)] = -1e31
        b.append(bb)
        bmag.append(d.variables["BMAG"])
        flag.append(d.variables["FLAG"])
    t = np.concatenate(tt)
    text = [bytes(r).decode() for r in TimeWriter(9).format(t)]
    return t, text, np.concatenate(b), np.concatenate(bmag), np.concatenate(flag)


@pytest.mark.parametrize("fmt", ["binary", "csv"])
def test_hapiclient_reads_what_the_cdfs_hold(server, tree, tmp_path, fmt):
    from hapiclient import hapi

    opts = {"format": fmt, "cache": False, "usecache": False, "cachedir": str(tmp_path), "logging": False}
    data, meta = hapi(
        server + "/hapi", "TINY_X_MAG", "B,BMAG,FLAG", "2024-03-01T00:00:00Z", "2024-03-03T00:00:00Z", **opts
    )
    t, text, b, bmag, flag = _expected(tree, "X", ["2024-03-01", "2024-03-02"])
    assert len(data) == len(t) == 2 * 1440
    assert [x.decode() if isinstance(x, bytes) else str(x) for x in data["Epoch"]] == text
    np.testing.assert_array_equal(tt2000_from_iso(np.array(text)), t)  # every time exact
    if fmt == "binary":  # every value as the double of the stored float32, the fill -1e31
        np.testing.assert_array_equal(data["B"], b)
    else:  # csv writes float32 with 9 digits: the same float32 again
        np.testing.assert_array_equal(data["B"].astype(np.float32), b.astype(np.float32))
        np.testing.assert_array_equal(data["B"] == -1e31, b == -1e31)
    np.testing.assert_array_equal(data["BMAG"], bmag)  # float64: 17 digits, exact
    np.testing.assert_array_equal(data["FLAG"], flag)
    assert (data["B"] == -1e31).any()
    assert [p["name"] for p in meta["parameters"]] == ["Epoch", "B", "BMAG", "FLAG"]


@pytest.mark.slow  # imports pySPEDAS (seconds)
def test_pyspedas_hapi_loads_what_the_cdfs_hold(server, tree):
    """pySPEDAS's generic HAPI loader (the route docs/serve.md gives its users): tplot
    variables with the CDFs' times (Unix seconds, float64: to the microsecond) and values,
    the fill as NaN as pySPEDAS does."""
    pyspedas = pytest.importorskip("pyspedas")
    from pyspedas import get_data

    names = pyspedas.hapi(
        trange=["2024-03-01", "2024-03-03"],
        server=server + "/hapi",
        dataset="TINY_X_MAG",
        parameters="B,BMAG",
        prefix="magfw_",
        quiet=True,
    )
    assert sorted(names) == ["magfw_B", "magfw_BMAG"]
    _, text, b, bmag, _ = _expected(tree, "X", ["2024-03-01", "2024-03-02"])
    unix = np.array([x.rstrip("Z") for x in text], dtype="datetime64[ns]").astype(np.int64) / 1e9
    got_b, got_bmag = get_data("magfw_B"), get_data("magfw_BMAG")
    np.testing.assert_allclose(got_b.times, unix, rtol=0, atol=1e-6)
    for got, raw in ((got_b.y, b), (got_bmag.y, bmag)):
        want = np.where(raw == -1e31, np.nan, raw)
        assert np.isnan(want).any()
        np.testing.assert_array_equal(got, want)  # NaN in the same places, the rest exact


def _parse_csv(text: str) -> tuple[list[str], np.ndarray]:
    rows = [ln.split(",") for ln in text.splitlines() if ln]
    return [r[0] for r in rows], np.array([[float(v) for v in r[1:]] for r in rows])


def _parse_binary(raw: bytes, widths: list[tuple[str, int]], tlen: int):
    fields = [("t", f"S{tlen}")] + [
        (f"p{i}", "<i4" if k == "i" else "<f8", (n,) if n > 1 else ()) for i, (k, n) in enumerate(widths)
    ]
    rec = np.frombuffer(raw, dtype=np.dtype(fields))
    cols = [rec[f"p{i}"].reshape(len(rec), -1).astype(np.float64) for i in range(len(widths))]
    return [t.decode() for t in rec["t"]], np.concatenate(cols, axis=1)


@pytest.mark.parametrize(
    "dataset,widths,tlen",
    [
        ("TINY_X_MAG", [("f", 3), ("f", 1), ("i", 1), ("f", 1)], 30),
        ("TINY_X_MAG_NC", [("f", 1), ("f", 1), ("f", 1)], 27),
        ("TINY_X_MAG_1MIN", [("f", 3)], 27),
    ],
)
def test_csv_binary_and_json_carry_the_same_records(server, dataset, widths, tlen):
    q = f"{server}/hapi/data?dataset={dataset}&start=2024-03-01T12:00Z&stop=2024-03-02T06:00Z"
    t_csv, v_csv = _parse_csv(get(q).text)
    t_bin, v_bin = _parse_binary(get(q + "&format=binary").content, widths, tlen)
    js = get(q + "&format=json").json()
    t_js = [r[0] for r in js["data"]]
    v_js = np.array(
        [[x for v in r[1:] for x in (v if isinstance(v, list) else [v])] for r in js["data"]],
        dtype=np.float64,
    )
    assert t_csv == t_bin == t_js and len(t_csv) == 18 * 60
    assert t_csv[0] == ("2024-03-01T12:00:30.000000000Z" if tlen == 30 else "2024-03-01T12:00:30.000000Z")
    # float32 values are written with 9 digits: they read back to the same float32
    np.testing.assert_array_equal(v_csv.astype(np.float32), v_bin.astype(np.float32))
    np.testing.assert_array_equal(v_js, v_csv)
    fill = -9999.0 if dataset.endswith("_NC") else -1e31
    fills = v_bin == fill
    assert fills.any() and np.array_equal(fills, v_csv == fill)


def test_include_header_and_parameter_subsets(server):
    q = (
        f"{server}/hapi/data?dataset=TINY_X_MAG&start=2024-03-01&stop=2024-03-01T00:02Z"
        "&parameters=Epoch,BMAG,STATUS&include=header"
    )
    text = get(q).text
    head = "".join(ln[1:] + "\n" for ln in text.splitlines() if ln.startswith("#"))
    info = json.loads(head)
    assert info["format"] == "csv" and [p["name"] for p in info["parameters"]] == ["Epoch", "BMAG", "STATUS"]
    rows = [ln.split(",") for ln in text.splitlines() if not ln.startswith("#")]
    assert [len(r) for r in rows] == [3, 3]
    assert rows[0][2] in ("0", "8")  # STATUS as an integer text
    raw = get(q.replace("include=header", "include=header&format=binary")).content
    assert raw.startswith(b"#{") and b'"format": "binary"' in raw
    only_time = get(
        f"{server}/hapi/data?dataset=TINY_X_MAG&start=2024-03-01&stop=2024-03-01T00:02Z&parameters=Epoch"
    ).text
    assert only_time.splitlines() == ["2024-03-01T00:00:30.000000000Z", "2024-03-01T00:01:30.000000000Z"]


@pytest.mark.parametrize(
    "query,code,http",
    [
        ("capabilities?x=1", 1401, 400),
        ("info", 1400, 400),
        ("info?dataset=NOPE", 1406, 404),
        ("info?dataset=TINY_X_MAG&parameters=B,NOPE", 1407, 404),
        ("info?dataset=TINY_X_MAG&parameters=BMAG,B", 1411, 400),
        ("info?dataset=TINY_X_MAG&parameters=B,B", 1411, 400),
        ("info?dataset=TINY_X_MAG&resolve_references=maybe", 1412, 400),
        ("catalog?depth=everything", 1413, 400),
        ("data?dataset=TINY_X_MAG&start=2024-03-01&stop=2024-03-02&avg=5s", 1401, 400),
        ("data?dataset=TINY_X_MAG&start=2024-13-01&stop=2024-03-02", 1402, 400),
        ("data?dataset=TINY_X_MAG&start=2024-03-01&stop=tomorrow", 1403, 400),
        ("data?dataset=TINY_X_MAG&start=2024-03-02&stop=2024-03-01", 1404, 400),
        ("data?dataset=TINY_X_MAG&start=2024-03-02&stop=2024-03-02", 1404, 400),
        ("data?dataset=TINY_X_MAG&start=2024-02-01&stop=2024-03-02", 1405, 400),
        ("data?dataset=TINY_X_MAG&start=2024-03-01&stop=2024-03-06", 1405, 400),
        ("data?dataset=NOPE&start=2024-03-01&stop=2024-03-02", 1406, 404),
        ("data?dataset=TINY_X_MAG&start=2024-03-01&stop=2024-03-02&parameters=Q", 1407, 404),
        ("data?dataset=TINY_X_MAG&start=2024-03-01&stop=2024-03-02&format=xml", 1409, 400),
        ("data?dataset=TINY_X_MAG&start=2024-03-01&stop=2024-03-02&include=all", 1410, 400),
        ("data?dataset=TINY_X_MAG&start=2024-03-01&stop=2024-03-02&parameters=FLAG,B", 1411, 400),
        ("data?dataset=TINY_X_MAG&id=TINY_X_MAG&start=2024-03-01&stop=2024-03-02", 1400, 400),
        ("data?dataset=TINY_X_MAG&start=2024-03-01&time.max=2024-03-02", 1400, 400),  # mixed 3.x/2.x
        ("data?id=TINY_X_MAG&time.min=2024-03-01&stop=2024-03-02", 1400, 400),
        ("data?dataset=TINY_X_MAG&start=2024-03-01&stop=2024-03-02&format=csv&format=csv", 1411, 400),
        ("info?dataset=TINY_X_MAG&dataset=TINY_X_MAG", 1411, 400),  # a repeated request parameter
        ("data?dataset=TINY_X_MAG&start=2024-02-29T23:59:59&stop=2024-03-02", 1405, 400),
        ("data?dataset=TINY_X_MAG&start=2024-03-03&stop=2024-03-04T00:00:01", 1405, 400),
        ("data?dataset=TINY_X_MAG&stop=2024-03-02", 1402, 400),
        ("nosuchendpoint", 1400, 400),
    ],
)
def test_error_codes(server, query, code, http):
    r = get(f"{server}/hapi/{query}")
    assert r.status_code == http, r.text
    body = r.json()
    if code != 1413:  # in the 3.3.1 specification's table, not in the schema's status enum
        validate("error", body)
    assert body["status"]["code"] == code
    assert "tomorrow" not in body["status"]["message"]  # bad values are not echoed


def test_requests_span_the_days_of_the_records(server):
    """startDate is the first record (00:00:30), stopDate the last (03-03 23:59:30); a request
    for whole days from the first day's start to the last day's end is answered whole."""
    r = get(f"{server}/hapi/data?dataset=TINY_X_MAG&start=2024-03-01&stop=2024-03-04&parameters=BMAG")
    assert r.status_code == 200 and len(r.text.splitlines()) == 3 * 1440


def test_too_long_a_request_is_1408_with_the_limit_said(tree, missions):
    with running_server(make_app(tree, missions, max_records=1000)) as url:
        r = get(f"{url}/hapi/data?dataset=TINY_X_MAG&start=2024-03-01&stop=2024-03-02")
        assert r.status_code == 400 and r.json()["status"]["code"] == 1408
        assert "PT16H40M" in r.json()["status"]["message"]
        info = get(f"{url}/hapi/info?dataset=TINY_X_MAG").json()
        assert info["maxRequestDuration"] == "PT16H40M"
        assert (
            get(f"{url}/hapi/data?dataset=TINY_X_MAG&start=2024-03-01&stop=2024-03-01T16Z").status_code == 200
        )


def test_no_data_is_1201(server):
    base = f"{server}/hapi/data?dataset=TINY_Y_MAG&start=2024-03-02&stop=2024-03-03"
    r = get(base)
    assert r.status_code == 200 and r.content == b""
    assert r.headers["x-hapi-status"].startswith("1201")
    js = get(base + "&format=json").json()
    assert js["status"]["code"] == 1201 and js["data"] == []
    head = get(base + "&include=header").text
    assert json.loads("".join(ln[1:] for ln in head.splitlines()))["status"]["code"] == 1201


def test_2x_names_time_forms_and_trailing_slash(server):
    a = get(f"{server}/hapi/data?id=TINY_X_MAG&time.min=2024-061T00:00Z&time.max=2024-061T00:02Z")
    b = get(f"{server}/hapi/data?dataset=TINY_X_MAG&start=2024-03-01&stop=2024-03-01T00:02")
    assert a.status_code == 200 and a.text == b.text and len(a.text.splitlines()) == 2
    r = httpx.get(f"{server}/hapi/info/?dataset=TINY_X_MAG", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"].endswith("/hapi/info?dataset=TINY_X_MAG")
    assert httpx.post(f"{server}/hapi/info?dataset=TINY_X_MAG").status_code == 405


def test_etag_last_modified_head_and_gzip(server):
    url = f"{server}/hapi/data?dataset=TINY_X_MAG&start=2024-03-01&stop=2024-03-03"
    r = get(url, headers={"Accept-Encoding": "identity"})
    etag, modified = r.headers["etag"], r.headers["last-modified"]
    assert r.headers.get("content-encoding") is None
    assert get(url, headers={"If-None-Match": etag}).status_code == 304
    assert get(url, headers={"If-Modified-Since": modified}).status_code == 304
    h = httpx.head(url)
    assert h.status_code == 200 and h.headers["etag"] == etag
    z = httpx.get(url, headers={"Accept-Encoding": "gzip"}, timeout=60)
    assert z.headers["content-encoding"] == "gzip" and z.content == r.content
    info = get(f"{server}/hapi/info?dataset=TINY_X_MAG")
    assert (
        get(
            f"{server}/hapi/info?dataset=TINY_X_MAG", headers={"If-None-Match": info.headers["etag"]}
        ).status_code
        == 304
    )
    assert r.headers["access-control-allow-origin"] == "*"


def test_files_only_ledger_recorded_outputs(server, tree):
    rel = cdf_path(tree, "X", "2024-03-01").relative_to(tree).as_posix()
    r = get(f"{server}/files/{rel}")
    assert r.status_code == 200 and r.content == (tree / rel).read_bytes()
    for bad in [
        ".magfw/ledger.sqlite",
        "../../../../etc/passwd",
        "%2e%2e/%2e%2e/etc/passwd",
        "tiny/X/2024/../../../.magfw/ledger.sqlite",
        "/etc/passwd",
        "tiny/X/2024",
    ]:
        assert get(f"{server}/files/{bad}").status_code == 404, bad


def test_token_guards_data_and_pages(tree, missions, monkeypatch):
    with running_server(make_app(tree, missions, token="s3cret")) as url:
        r = get(f"{url}/hapi/catalog")
        assert r.status_code == 401 and r.json()["status"]["code"] == 1400
        validate("error", r.json())
        ok = get(f"{url}/hapi/catalog", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        assert get(f"{url}/hapi/catalog", headers={"Authorization": "Bearer nope"}).status_code == 401
        page = httpx.get(f"{url}/review/tiny/2024-03", follow_redirects=False)
        assert page.status_code == 303 and "/login" in page.headers["location"]
        with httpx.Client(base_url=url) as client:
            client.post("/login?next=/review/tiny/2024-03", data={"token": "s3cret"})
            assert client.get("/review/tiny/2024-03").status_code == 200


@pytest.mark.slow  # over half a second: the whole suite runs it
def test_review_month_of_the_tiny_mission(server):
    html = get(f"{server}/review/tiny/2024-03").text
    assert 'data-day="2024-03-04" data-state="failed"' in html
    assert "corrupt record 12 (deliberately)" in html
    assert 'data-day="2024-03-05" data-state="skipped"' in html
    assert "nothing observed that day" in html
    assert 'data-day="2024-03-02" data-state="missing"' in html  # Y
    assert "bit 3 (timing glitch fixed)" in html or "timing glitch fixed" in html
    assert "TINY_CAL_V01.txt" in html and "quality factor=" in html
    assert 'data-coverage="100.0"' in html  # a full day: 1440 of 1440 records
    assert "/figure/tiny/l1/X/2024-03.png" in html and "/figure/tiny/l1/Y/2024-03.png" in html
    fig = get(f"{server}/figure/tiny/l1/X/2024-03.png")
    assert fig.status_code == 200 and fig.content[:8] == b"\x89PNG\r\n\x1a\n"
    day = get(f"{server}/day/tiny/l1/X/2024-03-01")
    assert day.status_code == 200 and "/plot/tiny/l1/X/2024-03-01/mag.png" in day.text
    png = get(f"{server}/plot/tiny/l1/X/2024-03-01/mag.png")
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "path",
    [
        "/review/tiny/2024-3",
        "/review/tiny/9999-12",
        "/review/tiny/0000-01",
        "/review/tiny/2024-13",
        "/review/nope",
        "/review/nope/2024-03",
        "/day/tiny/l1/X/2024-02-30",
        "/day/tiny/l1/Z/2024-03-01",
        "/day/tiny/l1/-/2024-03-01",
        "/day/tiny/l9/X/2024-03-01",
        "/day/tiny/l1/X/99999-01-01",
        "/datasets/NOPE",
        "/no/such/page",
        "/plot/tiny/l1/X/2024-03-01/nope.png",
        "/figure/tiny/l1/X/9999-13.png",
    ],
)
def test_unknown_or_malformed_pages_are_404(server, path):
    r = get(server + path)
    assert r.status_code == 404, (path, r.status_code)


@pytest.mark.slow
def test_data_during_a_run_is_always_one_complete_version(tmp_path, missions):
    """A run regenerates three days again and again (new seed, new version each time) while
    clients read them: every answer is complete and each day's records all come from one
    version (the values of one seed), never an error or a mixture."""
    from magfw.api import parse_period

    out, archive = tmp_path / "out", tmp_path / "archive"
    hooks = make_hooks(Tiny(), names=["tiny"])
    Tiny().magfw_simulate("tiny", parse_period("2024-03-01..2024-03-03"), archive, "X", 0)
    run_level(hooks, "tiny", "l1", "2024-03-01..2024-03-03", out, source=str(archive), spacecraft="X")
    stop = threading.Event()
    seeds_written = {0}

    def writer() -> None:
        seed = 0
        while not stop.is_set():
            seed += 1
            for day in (1, 2, 3):
                (archive / f"X/2024-03-0{day}.txt").write_text(str(day + 100 * seed))
            seeds_written.add(seed)
            run_level(hooks, "tiny", "l1", "2024-03-01..2024-03-03", out, source=str(archive), spacecraft="X")

    starts = {day: int(tt2000_from_iso(f"2024-03-0{day}T00:00:00")) for day in (1, 2, 3)}
    answers = 0
    with running_server(make_app(out, missions)) as url:
        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 12
            while time.monotonic() < deadline:
                for fmt in ("binary", "csv"):
                    r = get(
                        f"{url}/hapi/data?dataset=TINY_X_MAG&start=2024-03-01&stop=2024-03-04"
                        f"&parameters=B&format={fmt}"
                    )
                    assert r.status_code == 200
                    if fmt == "binary":
                        rec = np.frombuffer(r.content, dtype=[("t", "S30"), ("b", "<f8", (3,))])
                        b = rec["b"]
                    else:
                        b = np.array(
                            [[float(x) for x in ln.split(",")[1:]] for ln in r.text.splitlines()]
                        ).astype(np.float32)
                    assert b.shape == (3 * 1440, 3)
                    for i, day in enumerate((1, 2, 3)):
                        got = b[i * 1440 : (i + 1) * 1440].astype(np.float32)
                        ok = False
                        for seed in sorted(seeds_written) + [max(seeds_written) + 1]:
                            _, want = day_values(starts[day], day + 100 * seed)
                            want = np.where(np.isnan(want), np.float32(-1e31), want)
                            if np.array_equal(got, want):
                                ok = True
                                break
                        assert ok, f"day {day}: records of no single version"
                    answers += 1
        finally:
            stop.set()
            thread.join(timeout=120)
    versions = {e.product_version for e in Ledger(out / ".magfw/ledger.sqlite").history()}
    assert answers >= 5 and len(versions) >= 3, (answers, versions)


def test_a_request_over_its_time_limit_is_cut(tree, missions):
    """Past the time-out a stream is cut (HAPI 3.7.5: the client sees an error, never a short
    answer that looks complete); before anything was sent it would be a 503 with 1500."""
    with running_server(make_app(tree, missions, timeout_s=0.000001)) as url:
        try:
            r = get(f"{url}/hapi/data?dataset=TINY_X_MAG&start=2024-03-01&stop=2024-03-04&format=binary")
        except (httpx.RemoteProtocolError, httpx.ReadError):
            return
        assert r.status_code == 503 and r.json()["status"]["code"] == 1500


def test_the_core_does_not_import_the_server_at_start_up():
    import subprocess
    import sys

    code = (
        "import sys, magfw.cli; from magfw.cli import build_app; build_app(); "
        "print('magfw.serve' in sys.modules, 'starlette' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "False"], out.stderr[-2000:]

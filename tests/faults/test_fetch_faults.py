"""Downloads from a server that dribbles: each file has a total deadline (``[fetch]
deadline_s``), every try and back-off included, besides the per-read time-out; past it the
day fails with one line, its partial download is removed, the other days go on.

Seen before: a server sending 1 byte every 2 s kept a run alive past 150 s with no end (each
read returned within the time-out; the deadline was per request and not there at all while
the headers came). The server here is a loopback one that drips its headers or its body, or
answers each request too late (time-outs that are retried).
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from magfw.errors import FetchError
from magfw.fetch import HttpArchive
from magfw.io.atomic import TMP_PREFIX
from magfw.period import parse_period
from magfw.testing import run_cli

pytestmark = pytest.mark.timeout(60)
DRIP_S = 0.1  # the server's pause between bytes


class _Dribbler(http.server.SimpleHTTPRequestHandler):
    """Files, except ``/drip-head/...`` (headers a byte at a time, for ever), ``/drip-body/...``
    (a byte at a time of a body that never ends), ``/late/...`` (each answer after 1 s) and the
    paths containing one of ``drip`` (as ``drip-head``)."""

    drip: tuple[str, ...] = ()

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._answer()

    def do_HEAD(self) -> None:
        self._answer()

    def _answer(self) -> None:
        try:
            if self.path.startswith("/drip-head/") or any(d in self.path for d in self.drip):
                self.wfile.write(b"HTTP/1.0 200 OK\r\nX-Slow: ")
                for _ in range(10_000):
                    self.wfile.write(b"z")
                    time.sleep(DRIP_S)
            elif self.path.startswith("/drip-body/"):
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", "1000000")
                self.end_headers()
                for _ in range(10_000 if self.command == "GET" else 0):
                    self.wfile.write(b"z")
                    time.sleep(DRIP_S)
            elif self.path.startswith("/late/"):
                time.sleep(1.0)
                self.send_error(503)
            else:
                super().do_GET() if self.command == "GET" else super().do_HEAD()
        except (BrokenPipeError, ConnectionResetError):
            pass


def serve(root: Path, drip: tuple[str, ...] = ()) -> Iterator[str]:
    handler = type("Dribbler", (_Dribbler,), {"drip": drip})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(root))
    )
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def base(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "served").mkdir()
    yield from serve(tmp_path / "served")


def _cache(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


@pytest.mark.slow  # over half a second: the whole suite runs it
@pytest.mark.parametrize("route", ["drip-head", "drip-body"])
def test_a_dribbling_server_stops_at_the_files_deadline(route, base, tmp_path):
    archive = HttpArchive(base + route + "/", tmp_path / "cache", timeout_s=2.0, retries=3, deadline_s=0.6)
    t0 = time.monotonic()
    with pytest.raises(FetchError) as info:
        archive.get("x.cdf", size=1_000_000)  # a size given: no HEAD first, the GET drips
    took = time.monotonic() - t0
    assert 0.55 < took < 1.5, took  # the deadline, not the per-read time-out or the retries
    text = str(info.value)
    assert text.startswith(f"{base}{route}/x.cdf: did not finish within 0.6 s (") and "\n" not in text
    assert "[fetch] deadline_s" in text
    assert _cache(tmp_path) == []  # the partial download is removed


@pytest.mark.slow  # over half a second: the whole suite runs it
@pytest.mark.parametrize("call", ["exists", "list", "get"])
def test_every_request_has_the_deadline(call, base, tmp_path):
    """A HEAD (``exists``, the cache check of ``get``) and a listing drip as much as a GET."""
    archive = HttpArchive(base + "drip-head/", tmp_path / "cache", timeout_s=2.0, deadline_s=0.5)
    t0 = time.monotonic()
    with pytest.raises(FetchError, match=r"did not finish within 0.5 s"):
        getattr(archive, call)("x.cdf")
    assert time.monotonic() - t0 < 1.5


@pytest.mark.slow  # over half a second: the whole suite runs it
def test_the_deadline_spans_every_try_and_wait(base, tmp_path):
    """Time-outs are retried, but all the tries of a file share its deadline: 10 tries of a
    1-s answer with a 0.3-s time-out would take 3 s and more; the deadline ends it at 1 s."""
    archive = HttpArchive(
        base + "late/", tmp_path / "cache", timeout_s=0.3, retries=10, backoff_s=0.05, deadline_s=1.0
    )
    t0 = time.monotonic()
    with pytest.raises(FetchError) as info:
        archive.get("x.cdf", size=10)
    assert time.monotonic() - t0 < 1.5
    assert re.search(r"did not finish within 1 s \([2-4] tries", str(info.value)), str(info.value)


@pytest.mark.slow  # a three-day run that waits for a deadline (3 s)
def test_the_dribbling_day_fails_with_one_line_and_the_others_go_on(example_hooks, tmp_path, monkeypatch):
    """A run over HTTP whose 2nd day's raw file dribbles its headers (the existence check and
    the download alike): that day fails at the configured
    deadline with one line naming the file, the 1st and 3rd are made, nothing partial is in
    the cache, and the run ends in seconds."""
    root = tmp_path / "served"
    example_hooks.simulate("example", parse_period("2024-03-01..2024-03-03"), root, None, 0)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    (work / "magfw.toml").write_text("[fetch]\ntimeout_s = 2.0\nretries = 2\ndeadline_s = 1.0\n")
    gen = serve(root, drip=("EXAMPLE_RAW_20240302",))
    url = next(gen)
    out = tmp_path / "out"
    t0 = time.monotonic()
    res = run_cli(
        ["run", "example", "l1", "2024-03-01..2024-03-03", "--source", url, "--out", str(out)], example_hooks
    )
    took = time.monotonic() - t0
    gen.close()
    assert res.exit_code == 1, res.stdout + res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("magfw: example l1")]
    assert len(lines) == 1 and "2024-03-02" in lines[0], res.stderr
    assert "EXAMPLE_RAW_20240302.dat: did not finish within 1 s" in lines[0], lines[0]
    made = sorted(p.name for p in out.rglob("EXAMPLE_L1_*.cdf"))
    assert made == ["EXAMPLE_L1_MAG_20240301_V00.cdf", "EXAMPLE_L1_MAG_20240303_V00.cdf"]
    cache = out / ".magfw" / "cache"
    assert not [p for p in cache.rglob("*") if "20240302" in p.name or p.name.startswith(TMP_PREFIX)]
    assert took < 15, took

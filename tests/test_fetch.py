"""Tests for magfw.fetch against a real loopback HTTP server and a local directory tree."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from magfw.errors import FetchError, MissingInputError, UsageError
from magfw.fetch import (
    FetchedFile,
    HttpArchive,
    LocalArchive,
    open_archive,
    parse_index,
    pick_highest_version,
)
from magfw.io.atomic import TMP_PREFIX

pytestmark = pytest.mark.timeout(60)

DAY_DIR = "impact/misc/uv/ahead/2024"
STA = f"{DAY_DIR}/STA_L1_MAG_20240101_V06.cdf"
SLOW_SLEEP_S = 1.0  # server side; the client time-out in the tests is 0.3 s


def _content(name: str, size: int) -> bytes:
    seed = hashlib.sha256(name.encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


FILES = {
    f"{DAY_DIR}/STA_L1_MAG_20240101_V05.cdf": _content("v05", 3000),
    STA: _content("v06", 70_000),  # more than one read chunk
    f"{DAY_DIR}/STA_L1_MAG_20240102_V05.cdf": _content("0102", 1234),
    f"{DAY_DIR}/notes with space.txt": b"magfw test notes\n",
    f"{DAY_DIR}/extra/readme.txt": b"extra\n",
    "a/b.cdf": _content("ab", 5000),
}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def one_line(err: pytest.ExceptionInfo[BaseException], needle: str) -> str:
    """The error's text, checked to be one line that names ``needle``."""
    text = str(err.value)
    assert "\n" not in text
    assert needle in text, text
    return text


def cache_files(cache: Path) -> list[Path]:
    return sorted(p for p in cache.rglob("*") if p.is_file()) if cache.exists() else []


# --------------------------------------------------------------------------- server


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type) -> None:
        super().__init__(address, handler)
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self.counts: dict[str, int] = {}

    def record(self, method: str, path: str) -> int:
        with self.lock:
            self.requests.append((method, path))
            self.counts[path] = self.counts.get(path, 0) + 1
            return self.counts[path]

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.counts.clear()

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that time out on /slow/ break the pipe on purpose


class _Handler(SimpleHTTPRequestHandler):
    """The stdlib file server plus routes that misbehave on purpose."""

    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if not self._misbehave():
            super().do_GET()

    def do_HEAD(self) -> None:
        if not self._misbehave():
            super().do_HEAD()

    def _misbehave(self) -> bool:
        """Handle the special routes; True if the response has been sent."""
        n = self.server.record(self.command, self.path)
        head, _, rest = self.path.lstrip("/").partition("/")
        if head == "err500":
            self.send_error(500)
        elif head == "403":
            self.send_error(403)
        elif head == "flaky" and n <= 2:
            self.send_error(500)
        elif head == "trunc":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(b"x" * 100)
            self.close_connection = True
        elif head == "chunked":  # chunked body cut short: http.client raises IncompleteRead
            self.protocol_version = "HTTP/1.1"
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(b"64\r\n" + b"y" * 40)
            self.close_connection = True
        elif head == "drip":  # a few bytes a second: each read is quick, the whole never ends
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            if self.command == "GET":
                try:
                    for _ in range(200):
                        self.wfile.write(b"z" * 8)
                        self.wfile.flush()
                        time.sleep(0.05)
                except (BrokenPipeError, ConnectionResetError):
                    pass
            self.close_connection = True
        elif head == "nohead" and self.command == "HEAD":
            self.send_error(405)
        elif head in ("flaky", "slow", "nohead"):
            if head == "slow":
                time.sleep(SLOW_SLEEP_S)
            self.path = "/" + rest
            return False
        else:
            return False
        return True


@dataclass
class Http:
    server: _Server
    base: str
    cache: Path
    archives: list[HttpArchive] = field(default_factory=list)

    def archive(self, prefix: str = "", **kw: object) -> HttpArchive:
        kw = {"timeout_s": 5.0, "retries": 3, "backoff_s": 0.01, **kw}
        return HttpArchive(self.base + prefix, self.cache, **kw)  # type: ignore[arg-type]

    def requests(self, method: str | None = None) -> list[str]:
        return [p for m, p in self.server.requests if method is None or m == method]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Server]:
    root = tmp_path_factory.mktemp("served")
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    srv = _Server(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


@pytest.fixture
def http(server: _Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Http:
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)
    server.reset()
    host, port = server.server_address[:2]
    return Http(server, f"http://{host}:{port}/", tmp_path / "cache")


# --------------------------------------------------------------------------- listing


def test_list_reads_the_directory_index(http: Http) -> None:
    arc = http.archive()
    assert arc.list(DAY_DIR) == [
        "STA_L1_MAG_20240101_V05.cdf",
        "STA_L1_MAG_20240101_V06.cdf",
        "STA_L1_MAG_20240102_V05.cdf",
        "extra",
        "notes with space.txt",
    ]
    assert arc.list("") == ["a", "impact"]
    assert arc.list(DAY_DIR + "/") == arc.list(DAY_DIR)
    assert arc.list("no/such/dir") == []
    assert arc.list(STA) == []  # a file is not a directory
    before = len(http.requests())
    arc.list(DAY_DIR)  # cached per instance
    assert len(http.requests()) == before


def test_parse_index_of_apache_and_nginx_pages() -> None:
    apache = """<html><head><title>Index of /pub/stereo</title></head><body>
    <table><tr><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Modified</a></th></tr>
    <tr><td><a href="/pub/">Parent Directory</a></td></tr>
    <tr><td><a href="2024/">2024/</a></td></tr>
    <tr><td><a href="2024/">2024/</a></td></tr>
    <tr><td><a href="STA%20L1.cdf">STA L1.cdf</a></td></tr>
    <tr><td><a href="/pub/stereo/abs.cdf">abs.cdf</a></td></tr>
    <tr><td><a href="a&amp;b.cdf">a&amp;b.cdf</a></td></tr>
    <tr><td><a href="http://elsewhere.example/x.cdf">x</a></td></tr>
    <tr><td><a href="file.cdf?download=1">q</a></td></tr>
    <tr><td><a href="#top">top</a></td></tr>
    </table></body></html>"""
    assert parse_index(apache, "http://h.example/pub/stereo/") == [
        "2024",
        "STA L1.cdf",
        "a&b.cdf",
        "abs.cdf",
    ]
    nginx = '<html><body><pre><a href="../">../</a>\n<a href="V06/">V06/</a> 01-Jan-2024\n'
    nginx += '<a href="x_1.cdf">x_1.cdf</a> 01-Jan-2024 12:00 1234\n</pre></body></html>'
    assert parse_index(nginx, "https://h.example/data") == ["V06", "x_1.cdf"]


def test_glob_returns_sorted_relative_paths(http: Http) -> None:
    arc = http.archive()
    assert arc.glob(DAY_DIR, "STA_L1_MAG_*_V*.cdf") == [
        f"{DAY_DIR}/STA_L1_MAG_20240101_V05.cdf",
        f"{DAY_DIR}/STA_L1_MAG_20240101_V06.cdf",
        f"{DAY_DIR}/STA_L1_MAG_20240102_V05.cdf",
    ]
    assert arc.glob(DAY_DIR, "*.CDF") == []  # case-sensitive
    assert arc.glob("a", "*.cdf") == ["a/b.cdf"]
    assert arc.glob("missing", "*") == []


def test_exists(http: Http) -> None:
    arc = http.archive()
    assert arc.exists(STA)
    assert arc.exists(DAY_DIR)
    assert not arc.exists(f"{DAY_DIR}/STA_L1_MAG_20991231_V01.cdf")


# --------------------------------------------------------------------------- get


def test_get_downloads_into_the_cache_then_reuses_it(http: Http) -> None:
    arc = http.archive()
    port = http.server.server_address[1]
    data = FILES[STA]
    got = arc.get(STA)
    assert isinstance(got, FetchedFile)
    assert got.path == http.cache / f"127.0.0.1_{port}" / STA
    assert got.path.read_bytes() == data
    assert (got.name, got.sha256, got.size) == (STA, sha(data), len(data))
    assert got.source == http.base + STA
    assert http.requests("GET") == ["/" + STA]

    # No checksum given: a HEAD request confirms the cached size; no new GET.
    again = http.archive().get(STA)
    assert again == got
    assert http.requests("GET") == ["/" + STA]
    assert http.requests("HEAD") == ["/" + STA]

    # Checksum or size given and matching: no request at all.
    n = len(http.requests())
    assert arc.get(STA, sha256=sha(data).upper()) == got
    assert arc.get(STA, size=len(data)) == got
    assert len(http.requests()) == n
    assert not [p for p in cache_files(http.cache) if p.name.startswith(TMP_PREFIX)]


def test_get_replaces_a_stale_cached_copy(http: Http) -> None:
    arc = http.archive()
    data = FILES["a/b.cdf"]
    stale = arc.cache_path("a/b.cdf")
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old partial copy")
    got = arc.get("a/b.cdf")  # HEAD says 5000 bytes, cache has 16: download again
    assert got.path.read_bytes() == data
    assert http.requests("GET") == ["/a/b.cdf"]
    stale.write_bytes(data[:-1] + b"?")  # same size, wrong content
    assert arc.get("a/b.cdf", sha256=sha(data)).path.read_bytes() == data
    assert http.requests("GET") == ["/a/b.cdf", "/a/b.cdf"]


def test_checksum_mismatch_is_a_fetch_error(http: Http) -> None:
    arc = http.archive()
    with pytest.raises(FetchError) as err:
        arc.get("a/b.cdf", sha256="0" * 64)
    text = one_line(err, http.base + "a/b.cdf")
    assert "sha256 mismatch" in text and sha(FILES["a/b.cdf"]) in text
    assert cache_files(http.cache) == []


def test_size_mismatch_is_a_fetch_error(http: Http) -> None:
    arc = http.archive()
    with pytest.raises(FetchError) as err:
        arc.get("a/b.cdf", size=4999)
    text = one_line(err, http.base + "a/b.cdf")
    assert "size mismatch" in text and "4999" in text and "5000" in text
    assert cache_files(http.cache) == []


def test_404_is_a_missing_input_without_retry(http: Http) -> None:
    arc = http.archive()
    with pytest.raises(MissingInputError) as err:
        arc.get("a/nothing.cdf")
    assert one_line(err, http.base + "a/nothing.cdf").endswith("HTTP 404 File not found")
    assert http.requests() == ["/a/nothing.cdf"]
    assert cache_files(http.cache) == []


def test_403_is_a_fetch_error_without_retry(http: Http) -> None:
    arc = http.archive("403/")
    with pytest.raises(FetchError) as err:
        arc.get("a/b.cdf")
    assert one_line(err, http.base + "403/a/b.cdf").endswith("HTTP 403 Forbidden")
    assert http.requests() == ["/403/a/b.cdf"]


def test_500_is_retried_with_backoff_then_fails(http: Http) -> None:
    arc = http.archive("err500/", retries=3, backoff_s=0.01)
    t0 = time.monotonic()
    with pytest.raises(FetchError) as err:
        arc.get("a/b.cdf")
    elapsed = time.monotonic() - t0
    url = http.base + "err500/a/b.cdf"
    assert one_line(err, url) == f"{url}: HTTP 500 Internal Server Error after 3 tries"
    assert http.requests() == ["/err500/a/b.cdf"] * 3
    assert elapsed >= 0.01 + 0.02  # back-off 0.01 s, then 0.02 s
    assert cache_files(http.cache) == []


def test_flaky_server_succeeds_on_third_try(http: Http) -> None:
    got = http.archive("flaky/").get("a/b.cdf")
    assert got.path.read_bytes() == FILES["a/b.cdf"]
    assert http.requests("GET") == ["/flaky/a/b.cdf"] * 3


@pytest.mark.slow  # over half a second: the whole suite runs it
def test_timeout_is_retried_then_fails(http: Http) -> None:
    arc = http.archive("slow/", timeout_s=0.3, retries=3)
    t0 = time.monotonic()
    with pytest.raises(FetchError) as err:
        arc.get("a/b.cdf")
    elapsed = time.monotonic() - t0
    url = http.base + "slow/a/b.cdf"
    assert one_line(err, url) == f"{url}: timed out after 0.3 s (3 tries)"
    assert len(http.requests()) == 3
    assert 0.9 <= elapsed < 3.0
    assert cache_files(http.cache) == []


def test_truncated_body_is_retried_and_leaves_nothing(http: Http) -> None:
    arc = http.archive("trunc/", retries=2)
    with pytest.raises(FetchError) as err:
        arc.get("a/b.cdf")
    text = one_line(err, http.base + "trunc/a/b.cdf")
    assert "truncated body: got 100 of 1000 bytes after 2 tries" in text
    assert http.requests() == ["/trunc/a/b.cdf"] * 2
    assert cache_files(http.cache) == []  # neither the file nor a temporary


def test_connection_closed_mid_chunk_is_retried_and_leaves_nothing(http: Http) -> None:
    arc = http.archive("chunked/", retries=2)
    with pytest.raises(FetchError) as err:
        arc.get("a/b.cdf")
    text = one_line(err, http.base + "chunked/a/b.cdf")
    assert "truncated body: connection closed after" in text and text.endswith("after 2 tries")
    assert http.requests() == ["/chunked/a/b.cdf"] * 2
    assert cache_files(http.cache) == []


def test_cached_copy_is_fetched_again_when_head_is_refused(http: Http) -> None:
    arc = http.archive("nohead/")
    first = arc.get("a/b.cdf")
    assert arc.get("a/b.cdf") == first
    assert http.requests("GET") == ["/nohead/a/b.cdf"] * 2
    assert http.requests("HEAD") == ["/nohead/a/b.cdf"]  # 405: not retried


def test_connection_refused_is_a_fetch_error(http: Http, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    arc = HttpArchive(f"http://127.0.0.1:{port}/", tmp_path / "c", retries=2, backoff_s=0.01)
    with pytest.raises(FetchError) as err:
        arc.get("a/b.cdf")
    assert one_line(err, f"http://127.0.0.1:{port}/a/b.cdf").endswith("after 2 tries")


def test_credentials_never_shown_or_stored(http: Http) -> None:
    host, port = http.server.server_address[:2]
    arc = HttpArchive(f"http://mag:s3cret@{host}:{port}/", http.cache, backoff_s=0.01)
    assert "s3cret" not in arc.root and "mag@" not in repr(arc)
    got = arc.get("a/b.cdf")
    assert "s3cret" not in got.source and "s3cret" not in str(got.path)
    with pytest.raises(MissingInputError) as err:
        arc.get("a/none.cdf")
    assert "s3cret" not in one_line(err, f"http://{host}:{port}/a/none.cdf")


def test_relpath_cannot_escape_the_archive(http: Http, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        http.archive().get("../secret.cdf")
    one_line(err, "../secret.cdf")
    with pytest.raises(UsageError):
        LocalArchive(tmp_path).get("a/../../x")


def test_cache_layout_separates_servers(tmp_path: Path) -> None:
    a = HttpArchive("http://127.0.0.1:8765/", tmp_path)
    b = HttpArchive("http://127.0.0.1:8766/", tmp_path)
    c = HttpArchive("https://data.example/pub/stereo", tmp_path)
    assert a.cache_path("x/y.cdf") == tmp_path / "127.0.0.1_8765" / "x" / "y.cdf"
    assert b.cache_path("x/y.cdf") == tmp_path / "127.0.0.1_8766" / "x" / "y.cdf"
    assert c.cache_path("y.cdf") == tmp_path / "data.example_443" / "pub" / "stereo" / "y.cdf"
    assert c.url("2024/a b.cdf") == "https://data.example/pub/stereo/2024/a%20b.cdf"


# --------------------------------------------------------------------------- local


@pytest.fixture
def local_root(tmp_path: Path) -> Path:
    root = tmp_path / "archive"
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def test_local_archive_get_list_glob(local_root: Path) -> None:
    arc = LocalArchive(local_root)
    path = local_root / STA
    before = (path.stat().st_mtime_ns, path.read_bytes())
    got = arc.get(STA, sha256=sha(FILES[STA]), size=len(FILES[STA]))
    assert got == FetchedFile(
        path=path, name=STA, sha256=sha(FILES[STA]), size=len(FILES[STA]), source=str(path)
    )
    with pytest.raises(FetchError) as err:
        arc.get(STA, sha256="f" * 64)
    one_line(err, str(path))
    with pytest.raises(FetchError):
        arc.get(STA, size=1)
    assert (path.stat().st_mtime_ns, path.read_bytes()) == before  # never modified
    assert arc.list(DAY_DIR)[-2:] == ["extra", "notes with space.txt"]
    assert arc.list("nope") == [] and arc.list(STA) == []
    assert arc.glob(DAY_DIR, "*_20240101_*") == [
        f"{DAY_DIR}/STA_L1_MAG_20240101_V05.cdf",
        STA,
    ]
    assert arc.exists(STA) and arc.exists(DAY_DIR) and not arc.exists("x.cdf")
    assert arc.root == str(local_root)


def test_local_archive_missing_file(local_root: Path) -> None:
    arc = LocalArchive(local_root)
    with pytest.raises(MissingInputError) as err:
        arc.get("a/missing.cdf")
    one_line(err, str(local_root / "a" / "missing.cdf"))
    with pytest.raises(MissingInputError) as err:
        arc.get("a")
    one_line(err, "is a directory")


# --------------------------------------------------------------------------- open_archive


def test_open_archive_dispatch(local_root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert isinstance(open_archive("http://127.0.0.1:8765/data/", cache), HttpArchive)
    assert isinstance(open_archive("HTTPS://data.example/pub", cache), HttpArchive)
    assert isinstance(open_archive(local_root, cache), LocalArchive)
    assert isinstance(open_archive(str(local_root), cache), LocalArchive)
    missing = tmp_path / "no-such-dir"
    with pytest.raises(UsageError) as err:
        open_archive(missing, cache)
    one_line(err, str(missing))
    with pytest.raises(UsageError) as err:
        open_archive(str(local_root / STA), cache)
    one_line(err, "is not a directory")
    with pytest.raises(UsageError) as err:
        open_archive("ftp://mag:s3cret@data.example/pub", cache)
    assert "s3cret" not in one_line(err, "ftp://data.example/pub")
    assert not cache.exists()  # nothing is created until a file is fetched


# --------------------------------------------------------------------------- versions


def test_pick_highest_version() -> None:
    rx = re.compile(r"STA_L1_MAG_(?P<key>\d{8})_V(?P<version>\d+)\.cdf$")
    names = [
        "STA_L1_MAG_20240102_V05.cdf",
        "STA_L1_MAG_20240101_V06.cdf",
        "STA_L1_MAG_20240101_V10.cdf",  # 10 > 6 numerically, not as text
        "STA_L1_MAG_20240101_V05.cdf",
        "STA_L1_MAG_20240102_V05.cdf",  # listed twice
        "2024/STA_L1_MAG_20240103_V01.cdf",  # relative path: matched on its last part
        "notes with space.txt",
    ]
    picked = pick_highest_version(names, rx)
    assert picked == {
        "20240101": "STA_L1_MAG_20240101_V10.cdf",
        "20240102": "STA_L1_MAG_20240102_V05.cdf",
        "20240103": "2024/STA_L1_MAG_20240103_V01.cdf",
    }
    assert list(picked) == sorted(picked)
    assert pick_highest_version(list(reversed(names)), rx) == picked
    # Same key and version under two names: the choice does not depend on order.
    twins = ["b/STA_L1_MAG_20240101_V06.cdf", "a/STA_L1_MAG_20240101_V06.cdf"]
    assert pick_highest_version(twins, rx) == {"20240101": twins[1]}
    assert pick_highest_version(twins[::-1], rx) == {"20240101": twins[1]}
    assert pick_highest_version([], rx) == {}
    with pytest.raises(ValueError):
        pick_highest_version(names, re.compile(r"(?P<key>\d{8})"))


def test_pick_highest_version_key_groups_date_and_product() -> None:
    rx = re.compile(r"(?P<key>(?P<product>L1|L2)_\d{8})_v(?P<version>\d+)")
    names = ["L1_20240101_v1.cdf", "L2_20240101_v3.cdf", "L1_20240101_v2.cdf"]
    assert pick_highest_version(names, rx) == {
        "L1_20240101": "L1_20240101_v2.cdf",
        "L2_20240101": "L2_20240101_v3.cdf",
    }


def test_local_file_untouched_after_failed_checks(local_root: Path) -> None:
    path = local_root / "a" / "b.cdf"
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    arc = LocalArchive(local_root)
    arc.get("a/b.cdf")
    with pytest.raises(FetchError):
        arc.get("a/b.cdf", sha256="0" * 64)
    assert path.stat().st_mtime_ns == 1_700_000_000_000_000_000
    assert path.read_bytes() == FILES["a/b.cdf"]


def test_an_interrupted_download_leaves_a_temporary_that_the_next_run_removes(tmp_path):
    """A download killed mid-way leaves ``.magfw-tmp-<pid>-...`` in the cache; the next run's
    recovery removes it (its process is dead) but never a live process's."""
    import subprocess
    import sys

    from magfw.engine.commit import recover
    from magfw.engine.ledger import Ledger

    out = tmp_path / "out"
    cache = out / ".magfw" / "cache" / "host_80" / "x"
    cache.mkdir(parents=True)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    stale = cache / f"{TMP_PREFIX}{dead}-abc.cdf"
    stale.write_bytes(b"partial")
    live = cache / f"{TMP_PREFIX}{os.getpid()}-def.cdf"
    live.write_bytes(b"being written")
    recover(out, Ledger(out / ".magfw" / "ledger.sqlite"))
    assert not stale.exists() and live.exists()


@pytest.mark.slow  # over half a second: the whole suite runs it
def test_a_dripping_server_fails_at_the_total_deadline_with_one_line(http):
    """Each read returns within the per-read time-out, but the whole download never ends:
    the total deadline stops it, with one line, and nothing is left in the cache."""
    archive = http.archive(timeout_s=2.0, deadline_s=0.5)
    t0 = time.monotonic()
    with pytest.raises(FetchError) as info:
        archive.get("drip/x.cdf")
    assert time.monotonic() - t0 < 3.0
    assert "did not finish within 0.5 s" in str(info.value) and "\n" not in str(info.value)
    assert http.server.counts.get("/drip/x.cdf") == 1  # not retried
    assert not cache_files(http.cache)


def test_fetch_settings_come_from_magfw_toml(tmp_path, monkeypatch):
    from magfw.errors import UsageError
    from magfw.fetch import open_archive

    monkeypatch.chdir(tmp_path)
    (tmp_path / "magfw.toml").write_text("[fetch]\ndeadline_s = 42\nretries = 5\n")
    archive = open_archive("http://127.0.0.1:9/x/", tmp_path / "cache")
    assert (archive.deadline_s, archive.retries) == (42.0, 5)  # type: ignore[attr-defined]
    (tmp_path / "magfw.toml").write_text("[fetch]\ndeadline_s = 'soon'\n")
    with pytest.raises(UsageError, match="deadline_s"):
        open_archive("http://127.0.0.1:9/x/", tmp_path / "cache")

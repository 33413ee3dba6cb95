"""Fetch services: how mission plugins find and bring their inputs.

Mission plugins never open URLs themselves; their ``fetch`` hook receives an :class:`Archive`
(from :func:`open_archive`) and calls :meth:`Archive.list`, :meth:`Archive.glob`,
:meth:`Archive.exists` and :meth:`Archive.get`.

* :class:`LocalArchive` serves files from a directory tree in place and never modifies them.
* :class:`HttpArchive` reads Apache/nginx-style HTML directory indexes and downloads files into
  a cache (``cache_dir/<host>_<port>/<base path>/<relpath>``) with retries, back-off,
  Content-Length and checksum verification, and atomic renames: the cache never holds a
  partial file or a left-over temporary.

Errors are :mod:`magfw.errors` exceptions whose ``str()`` is one line naming the file or URL:
:class:`~magfw.errors.MissingInputError` when a file is absent (HTTP 404/410),
:class:`~magfw.errors.FetchError` for transfer problems and checksum/size mismatches,
:class:`~magfw.errors.UsageError` for a source that is neither a URL nor a directory.
"""

from __future__ import annotations

import abc
import builtins
import fnmatch
import hashlib
import http.client
import logging
import os
import re
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from importlib import metadata
from pathlib import Path
from typing import TypeVar

from magfw.errors import FetchError, MagfwError, MissingInputError, UsageError
from magfw.io.atomic import atomic_path
from magfw.io.checksum import sha256_file

__all__ = [
    "Archive",
    "FetchedFile",
    "HttpArchive",
    "LocalArchive",
    "cache_key",
    "open_archive",
    "parse_index",
    "pick_highest_version",
]

log = logging.getLogger(__name__)

CHUNK = 1 << 16
_T = TypeVar("_T")


def _magfw_version() -> str:
    try:
        return metadata.version("magfw")
    except metadata.PackageNotFoundError:  # pragma: no cover - source tree without install
        return "0+unknown"


DEFAULT_USER_AGENT = f"magfw/{_magfw_version()}"


@dataclass(frozen=True)
class FetchedFile:
    """A file made available locally by an :class:`Archive`."""

    path: Path  # inside the archive (LocalArchive) or in the cache (HttpArchive)
    name: str  # relative path in the archive, "/"-separated
    sha256: str  # lowercase hex digest
    size: int  # bytes
    source: str  # absolute local path or URL (never with credentials)


def _split_relpath(relpath: str) -> builtins.list[str]:
    """Split an archive-relative path into parts; refuse ``..`` (no escaping the archive)."""
    parts = [p for p in str(relpath).replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UsageError(relpath, "archive paths must not contain '..'")
    return parts


class Archive(abc.ABC):
    """Where a mission's inputs live: a local directory tree or an HTTP(S) server."""

    root: str  # printable description: directory or base URL

    @abc.abstractmethod
    def list(self, relpath: str = "") -> builtins.list[str]:
        """Sorted names (files and subdirectories, no trailing slash) in directory ``relpath``.

        Returns ``[]`` when the directory does not exist.
        """

    def glob(self, relpath: str, pattern: str) -> builtins.list[str]:
        """Sorted relative paths of the entries of directory ``relpath`` matching ``pattern``.

        ``pattern`` is an :mod:`fnmatch` pattern (case-sensitive) applied to the names in that
        one directory; it does not descend into subdirectories.
        """
        prefix = "/".join(_split_relpath(relpath))
        names = [n for n in self.list(relpath) if fnmatch.fnmatchcase(n, pattern)]
        return sorted(f"{prefix}/{n}" if prefix else n for n in names)

    @abc.abstractmethod
    def exists(self, relpath: str) -> bool:
        """True if ``relpath`` (a file or directory) exists in the archive."""

    @abc.abstractmethod
    def get(
        self, relpath: str, *, sha256: str | None = None, size: int | None = None
    ) -> FetchedFile:
        """Make file ``relpath`` available locally, verifying ``sha256``/``size`` if given.

        Raises MissingInputError if the file is absent, FetchError on transfer problems or a
        checksum/size mismatch.
        """

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.root!r})"


def _check_expected(
    where: str, sha256: str | None, size: int | None, got_sha: str | None, got_size: int
) -> None:
    """Raise FetchError if the file's size or digest differs from what was expected."""
    if size is not None and got_size != size:
        raise FetchError(where, f"size mismatch: expected {size} bytes, got {got_size}")
    if sha256 is not None and got_sha is not None and got_sha != sha256.lower():
        raise FetchError(where, f"sha256 mismatch: expected {sha256.lower()}, got {got_sha}")


# --------------------------------------------------------------------------- local


class LocalArchive(Archive):
    """An archive that is a directory tree; files are returned in place, never modified."""

    def __init__(self, root: Path) -> None:
        self.directory = Path(root).absolute()
        self.root = str(self.directory)

    def _path(self, relpath: str) -> Path:
        return self.directory.joinpath(*_split_relpath(relpath))

    def list(self, relpath: str = "") -> builtins.list[str]:
        """Sorted names in directory ``relpath``; ``[]`` if it does not exist."""
        path = self._path(relpath)
        try:
            with os.scandir(path) as entries:
                return sorted(e.name for e in entries)
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as exc:
            raise FetchError(path, f"cannot list directory: {exc.strerror or exc}") from exc

    def exists(self, relpath: str) -> bool:
        """True if ``relpath`` exists under the root."""
        return self._path(relpath).exists()

    def get(
        self, relpath: str, *, sha256: str | None = None, size: int | None = None
    ) -> FetchedFile:
        """Return the file in place with its sha256 (read only; the file is not touched)."""
        path = self._path(relpath)
        if not path.exists():
            raise MissingInputError(path, f"not found in archive {self.root}")
        if not path.is_file():
            raise MissingInputError(path, "is a directory, not a file")
        try:
            got_size = path.stat().st_size
            _check_expected(str(path), None, size, None, got_size)
            digest = sha256_file(path)
        except OSError as exc:
            raise FetchError(path, f"cannot read: {exc.strerror or exc}") from exc
        _check_expected(str(path), sha256, None, digest, got_size)
        name = "/".join(_split_relpath(relpath))
        return FetchedFile(path=path, name=name, sha256=digest, size=got_size, source=str(path))


# --------------------------------------------------------------------------- HTTP


class _IndexParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: builtins.list[str] = []

    def handle_starttag(self, tag: str, attrs: builtins.list[tuple[str, str | None]]) -> None:
        if tag.lower() == "a":
            for key, value in attrs:
                if key.lower() == "href" and value:
                    self.hrefs.append(value.strip())


def parse_index(html: str, dir_url: str) -> builtins.list[str]:
    """Names of the direct children listed in an HTML directory index at ``dir_url``.

    Keeps ``<a href>`` links that resolve to an entry directly inside ``dir_url``; drops the
    parent link, sort/query links (``?C=N;O=D``), fragments and links elsewhere. Names are
    URL-unquoted, without trailing slash, de-duplicated and sorted.
    """
    if not dir_url.endswith("/"):
        dir_url += "/"
    base = urllib.parse.urlsplit(dir_url)
    base_path = urllib.parse.unquote(base.path)
    parser = _IndexParser()
    parser.feed(html)
    parser.close()
    names: set[str] = set()
    for href in parser.hrefs:
        if href.startswith(("?", "#")):
            continue
        target = urllib.parse.urlsplit(urllib.parse.urljoin(dir_url, href))
        if target.query or target.scheme != base.scheme or target.netloc != base.netloc:
            continue
        path = urllib.parse.unquote(target.path)
        if not path.startswith(base_path):
            continue
        name = path[len(base_path) :].rstrip("/")
        if name and "/" not in name and name not in (".", ".."):
            names.add(name)
    return sorted(names)


def cache_key(url: str) -> str:
    """Cache directory name for the server of ``url``: ``host_port`` (e.g. ``127.0.0.1_8765``)."""
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "unknown").replace(":", "_")
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower(), 0)
    return f"{host}_{port}"


class _Retryable(Exception):
    """One attempt failed in a way worth trying again (time-out, 5xx, 429, truncation...)."""

    def __init__(self, problem: str, *, timed_out: bool = False) -> None:
        super().__init__(problem)
        self.problem = problem
        self.timed_out = timed_out

    def final(self, tries: int) -> str:
        if self.timed_out:
            return f"{self.problem} ({tries} {'try' if tries == 1 else 'tries'})"
        return f"{self.problem} after {tries} {'try' if tries == 1 else 'tries'}"


class HttpArchive(Archive):
    """An archive on an HTTP(S) server with HTML directory indexes, cached on disk.

    ``retries`` is the total number of attempts per request (1 = no retry); the wait before
    attempt *n* + 1 is ``backoff_s * 2**(n - 1)``. Time-outs, connection errors, HTTP 5xx and
    429, and truncated bodies are retried; 404/410 raise MissingInputError at once, other 4xx
    raise FetchError at once. Credentials in ``base_url`` (``https://user:pw@host/``) are used
    for HTTP basic auth and removed from ``root``, ``source``, messages, logs and the cache path.
    """

    def __init__(
        self,
        base_url: str,
        cache_dir: Path,
        *,
        timeout_s: float = 30.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        parts = urllib.parse.urlsplit(base_url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(_redact(base_url), "not an http:// or https:// URL")
        if retries < 1:
            raise ValueError(f"retries must be >= 1, got {retries}")
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        if parts.port is not None:
            netloc += f":{parts.port}"
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        self.base_url = urllib.parse.urlunsplit((scheme, netloc, path, "", ""))
        self.root = self.base_url
        self.cache_dir = Path(cache_dir)
        self._cache_root = self.cache_dir / cache_key(self.base_url)
        self._cache_root = self._cache_root.joinpath(*_split_relpath(urllib.parse.unquote(path)))
        self.timeout_s = float(timeout_s)
        self.retries = int(retries)
        self.backoff_s = float(backoff_s)
        self.user_agent = user_agent
        self._listings: dict[str, builtins.list[str]] = {}
        handlers: builtins.list[urllib.request.BaseHandler] = []
        if parts.username is not None:
            passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            passwords.add_password(
                None,
                self.base_url,
                urllib.parse.unquote(parts.username),
                urllib.parse.unquote(parts.password or ""),
            )
            handlers.append(urllib.request.HTTPBasicAuthHandler(passwords))
        self._opener = urllib.request.build_opener(*handlers)

    # -- paths ------------------------------------------------------------------------------

    def url(self, relpath: str) -> str:
        """The URL of ``relpath`` (credentials never included)."""
        return self.base_url + "/".join(urllib.parse.quote(p) for p in _split_relpath(relpath))

    def cache_path(self, relpath: str) -> Path:
        """Where ``relpath`` is cached: ``cache_dir/<host>_<port>/<base path>/<relpath>``."""
        parts = _split_relpath(relpath)
        if not parts:
            raise UsageError(self.base_url, "an empty path names no file")
        return self._cache_root.joinpath(*parts)

    # -- one request, with retries ----------------------------------------------------------

    def _translate(self, exc: BaseException, url: str) -> BaseException | None:
        """Map a urllib/http.client/socket failure to MagfwError or _Retryable (None: unknown)."""
        if isinstance(exc, (MagfwError, _Retryable)):
            return exc
        if isinstance(exc, urllib.error.HTTPError):
            problem = f"HTTP {exc.code} {exc.reason or ''}".strip()
            exc.close()
            if exc.code in (404, 410):
                return MissingInputError(url, problem)
            if exc.code == 429 or exc.code >= 500:
                return _Retryable(problem)
            return FetchError(url, problem)
        if isinstance(exc, urllib.error.URLError):
            if not isinstance(exc.reason, BaseException):
                return FetchError(url, str(exc.reason))
            exc = exc.reason
        if isinstance(exc, TimeoutError):
            return _Retryable(f"timed out after {self.timeout_s:g} s", timed_out=True)
        if isinstance(exc, ssl.SSLError):
            return FetchError(url, f"TLS error: {exc}")
        if isinstance(exc, http.client.IncompleteRead):
            return _Retryable(f"truncated body: connection closed after {len(exc.partial)} bytes")
        if isinstance(exc, (http.client.HTTPException, ConnectionError)):
            return _Retryable(f"connection error: {exc or type(exc).__name__}")
        if isinstance(exc, OSError):
            return _Retryable(f"connection failed: {exc.strerror or exc}")
        return None

    def _open(self, url: str, method: str) -> http.client.HTTPResponse:
        request = urllib.request.Request(
            url, method=method, headers={"User-Agent": self.user_agent}
        )
        try:
            return self._opener.open(request, timeout=self.timeout_s)
        except Exception as exc:
            translated = self._translate(exc, url)
            if translated is None:
                raise
            raise translated from exc

    def _read(self, response: http.client.HTTPResponse, url: str, amount: int) -> bytes:
        try:
            return response.read(amount)
        except Exception as exc:
            translated = self._translate(exc, url)
            if translated is None:
                raise
            raise translated from exc

    def _retrying(self, url: str, attempt: Callable[[], _T]) -> _T:
        """Run ``attempt`` up to ``self.retries`` times, backing off between retryable failures."""
        for n in range(1, self.retries + 1):
            try:
                return attempt()
            except _Retryable as exc:
                if n == self.retries:
                    raise FetchError(url, exc.final(n)) from exc
                wait = self.backoff_s * 2 ** (n - 1)
                log.warning(
                    "%s: %s; retrying in %.3g s (try %d of %d)",
                    url,
                    exc.problem,
                    wait,
                    n + 1,
                    self.retries,
                )
                time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _content_length(response: http.client.HTTPResponse) -> int | None:
        value = response.headers.get("Content-Length")
        try:
            return int(value) if value is not None else None
        except ValueError:
            return None

    def _read_all(self, response: http.client.HTTPResponse, url: str) -> bytes:
        length = self._content_length(response)
        chunks = []
        got = 0
        while chunk := self._read(response, url, CHUNK):
            chunks.append(chunk)
            got += len(chunk)
        if length is not None and got < length:
            raise _Retryable(f"truncated body: got {got} of {length} bytes")
        return b"".join(chunks)

    def _head_length(self, url: str) -> int | None:
        """Content-Length the server reports for ``url`` (HEAD request)."""

        def attempt() -> int | None:
            with self._open(url, "HEAD") as response:
                return self._content_length(response)

        return self._retrying(url, attempt)

    # -- Archive API ------------------------------------------------------------------------

    def list(self, relpath: str = "") -> builtins.list[str]:
        """Names in the server's directory index for ``relpath`` (cached per instance).

        ``[]`` if the server answers 404/410 or the answer is not an HTML page.
        """
        key = "/".join(_split_relpath(relpath))
        if key in self._listings:
            return builtins.list(self._listings[key])
        url = self.url(key)
        if key:
            url += "/"

        def attempt() -> builtins.list[str]:
            with self._open(url, "GET") as response:
                content_type = response.headers.get_content_type()
                if content_type not in ("text/html", "application/xhtml+xml"):
                    return []
                body = self._read_all(response, url)
                charset = response.headers.get_content_charset() or "utf-8"
                return parse_index(body.decode(charset, errors="replace"), response.geturl())

        try:
            names = self._retrying(url, attempt)
        except MissingInputError:
            names = []
        self._listings[key] = names
        return builtins.list(names)

    def exists(self, relpath: str) -> bool:
        """True if a HEAD request for ``relpath`` succeeds, False on 404/410.

        Other failures (403, 5xx after the retries, time-outs) raise FetchError.
        """
        url = self.url(relpath)
        try:
            self._head_length(url)
        except MissingInputError:
            return False
        return True

    def get(
        self, relpath: str, *, sha256: str | None = None, size: int | None = None
    ) -> FetchedFile:
        """Download ``relpath`` into the cache (or reuse a cached copy) and verify it.

        A cached copy is reused without download when it matches ``sha256``/``size`` if one is
        given, or else when its size equals the Content-Length of a HEAD request.
        """
        name = "/".join(_split_relpath(relpath))
        url = self.url(name)
        target = self.cache_path(name)
        expected_sha = sha256.lower() if sha256 is not None else None

        if target.is_file():
            try:
                cached = self._reusable(url, target, expected_sha, size)
            except OSError as exc:
                raise FetchError(target, f"cannot read the cache: {exc.strerror or exc}") from exc
            if cached is not None:
                digest, got_size = cached
                log.debug("%s: reusing cached %s", url, target)
                return FetchedFile(target, name, digest, got_size, url)

        def attempt() -> tuple[str, int]:
            return self._download_once(url, target, expected_sha, size)

        log.info("downloading %s", url)
        try:
            digest, got_size = self._retrying(url, attempt)
        except OSError as exc:  # network failures are translated above; this is the cache
            raise FetchError(target, f"cannot write to the cache: {exc.strerror or exc}") from exc
        return FetchedFile(target, name, digest, got_size, url)

    def _reusable(
        self, url: str, target: Path, sha256: str | None, size: int | None
    ) -> tuple[str, int] | None:
        """(sha256, size) of the cached copy if it can be reused, else None."""
        got_size = target.stat().st_size
        if size is not None and got_size != size:
            return None
        if sha256 is None and size is None:
            try:
                reported = self._head_length(url)
            except MissingInputError:
                raise
            except FetchError as exc:  # e.g. a server that refuses HEAD: download again
                log.debug("%s: cannot confirm the cached copy (%s)", url, exc.problem)
                return None
            if reported != got_size:
                return None
        digest = sha256_file(target)
        if sha256 is not None and digest != sha256:
            return None
        return digest, got_size

    def _download_once(
        self, url: str, target: Path, sha256: str | None, size: int | None
    ) -> tuple[str, int]:
        """One GET into a temporary beside ``target``, renamed into place only if verified."""
        with self._open(url, "GET") as response:
            final = response.geturl()
            if final.endswith("/") and not url.endswith("/"):
                raise MissingInputError(url, "is a directory, not a file")
            length = self._content_length(response)
            if size is not None and length is not None and length != size:
                raise FetchError(
                    url, f"size mismatch: expected {size} bytes, server reports {length}"
                )
            with atomic_path(target) as tmp:
                digest = hashlib.sha256()
                got = 0
                with open(tmp, "wb") as fh:
                    while chunk := self._read(response, url, CHUNK):
                        fh.write(chunk)
                        digest.update(chunk)
                        got += len(chunk)
                    fh.flush()
                    os.fsync(fh.fileno())
                if length is not None and got < length:
                    raise _Retryable(f"truncated body: got {got} of {length} bytes")
                hexdigest = digest.hexdigest()
                _check_expected(url, sha256, size, hexdigest, got)
        return hexdigest, got


def _redact(source: str) -> str:
    """``source`` with any ``user:password@`` removed (safe to print)."""
    parts = urllib.parse.urlsplit(source)
    if parts.username is None and parts.password is None:
        return source
    netloc = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def open_archive(source: str | Path, cache_dir: Path) -> Archive:
    """The archive for ``source``: an http(s) URL (cached in ``cache_dir``) or a directory.

    Raises UsageError naming the source if it is neither.
    """
    text = str(source)
    if isinstance(source, str) and re.match(r"^https?://", text, re.IGNORECASE):
        return HttpArchive(text, cache_dir)
    if isinstance(source, str) and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text):
        raise UsageError(
            _redact(text), "unsupported URL scheme (use http://, https:// or a directory)"
        )
    path = Path(source)
    if path.is_dir():
        return LocalArchive(path)
    problem = "is not a directory" if path.exists() else "no such directory"
    raise UsageError(text, f"{problem}; expected an http(s) URL or an existing directory")


def pick_highest_version(
    names: builtins.list[str], pattern: re.Pattern[str] | str
) -> dict[str, str]:
    """Keep, for each key, the name with the highest version ("highest version of a day wins").

    ``pattern`` must have the named groups ``key`` (what identifies one product, e.g. the date
    and product name) and ``version`` (decimal digits, compared as int). It is searched
    (``re.search``) in the last path component of each name, so names may be bare file names
    or relative paths; names that do not match are ignored. A name listed twice counts once;
    if different names share the same key and version, the lexicographically smallest wins, so
    the result does not depend on listing order.

    Returns ``{key: name}`` ordered by key::

        >>> rx = re.compile(r"STA_L1_MAG_(?P<key>\\d{8})_V(?P<version>\\d+)\\.cdf$")
        >>> pick_highest_version(
        ...     ["STA_L1_MAG_20240102_V05.cdf", "STA_L1_MAG_20240101_V06.cdf",
        ...      "STA_L1_MAG_20240101_V05.cdf", "STA_L1_MAG_20240101_V06.cdf"], rx)
        {'20240101': 'STA_L1_MAG_20240101_V06.cdf', '20240102': 'STA_L1_MAG_20240102_V05.cdf'}
    """
    rx = re.compile(pattern) if isinstance(pattern, str) else pattern
    if not {"key", "version"} <= set(rx.groupindex):
        raise ValueError(f"pattern {rx.pattern!r} needs named groups 'key' and 'version'")
    best: dict[str, tuple[int, str]] = {}
    for name in set(names):
        match = rx.search(name.rsplit("/", 1)[-1])
        if match is None or match.group("key") is None or match.group("version") is None:
            continue
        key, version = match.group("key"), int(match.group("version"))
        current = best.get(key)
        if current is None or version > current[0] or (version == current[0] and name < current[1]):
            best[key] = (version, name)
    return {key: best[key][1] for key in sorted(best)}

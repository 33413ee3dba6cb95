"""HTTP(S) archives: Apache/nginx-style HTML directory indexes, downloads into a cache.

:class:`HttpArchive` downloads files into a cache (``cache_dir/<host>_<port>/<base
path>/<relpath>``) with retries, back-off, Content-Length and checksum verification, and
atomic renames: the cache never holds a partial file or a left-over temporary.
"""

from __future__ import annotations

import builtins
import hashlib
import http.client
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import TypeVar

from magfw.config.sections import DEFAULT_BACKOFF_S, DEFAULT_DEADLINE_S, DEFAULT_RETRIES, DEFAULT_TIMEOUT_S
from magfw.errors import FetchError, MagfwError, MissingInputError, UsageError
from magfw.fetch.archive import Archive, FetchedFile, _check_expected, _split_relpath
from magfw.fetch.deadline import current as current_deadline
from magfw.fetch.deadline import deadline as within
from magfw.fetch.deadline import handlers as deadline_handlers
from magfw.fetch.failures import Retryable, translate
from magfw.fetch.index import parse_index
from magfw.fetch.urls import cache_key, redact
from magfw.io.atomic import atomic_path
from magfw.io.digests import input_digest

log = logging.getLogger("magfw.fetch")

CHUNK = 1 << 16
_T = TypeVar("_T")


def _magfw_version() -> str:
    try:
        return metadata.version("magfw")
    except metadata.PackageNotFoundError:  # pragma: no cover - source tree without install
        return "0+unknown"


DEFAULT_USER_AGENT = f"magfw/{_magfw_version()}"


class HttpArchive(Archive):
    """An archive on an HTTP(S) server with HTML directory indexes, cached on disk.

    ``retries`` is the total number of attempts per request (1 = no retry); the wait before
    attempt *n* + 1 is ``backoff_s * 2**(n - 1)``. Time-outs, connection errors, HTTP 5xx and
    429, and truncated bodies are retried; 404/410 raise MissingInputError at once, other 4xx
    raise FetchError at once. Credentials in ``base_url`` (``https://user:pw@host/``) are used
    for HTTP basic auth and removed from ``root``, ``source``, messages, logs and the cache path.

    ``timeout_s`` bounds each wait for the server (connect, each read); ``deadline_s`` bounds a
    whole download, listing or existence check, every try and back-off included
    (:mod:`magfw.fetch.deadline`), so a server that sends a few bytes a second, in its headers
    or its body, cannot hold a unit for ever: past it the file fails with one line and its
    partial copy is removed.

    ``read_cache``: another cache (laid out alike) whose copies are reused as they are and
    never written, e.g. the output tree's cache for a dry run that downloads into a temporary
    one.
    """

    def __init__(
        self,
        base_url: str,
        cache_dir: Path,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retries: int = DEFAULT_RETRIES,
        backoff_s: float = DEFAULT_BACKOFF_S,
        deadline_s: float = DEFAULT_DEADLINE_S,
        user_agent: str = DEFAULT_USER_AGENT,
        read_cache: Path | None = None,
    ) -> None:
        parts = urllib.parse.urlsplit(base_url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(redact(base_url), "not an http:// or https:// URL")
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
        self._read_root = (
            None if read_cache is None else Path(read_cache) / self._cache_root.relative_to(self.cache_dir)
        )
        if deadline_s <= 0:
            raise ValueError(f"deadline_s must be > 0, got {deadline_s}")
        self.timeout_s = float(timeout_s)
        self.deadline_s = float(deadline_s)
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
        self._opener = urllib.request.build_opener(*handlers, *deadline_handlers())

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
        """:func:`~magfw.fetch.failures.translate`; past the deadline, whatever failed is the
        deadline's (its timer shut the socket)."""
        if isinstance(exc, (MagfwError, Retryable)):
            return exc
        guard = current_deadline()
        if guard is not None and guard.expired:
            return self._too_slow(url)
        return translate(exc, url, self.timeout_s)

    def _open(self, url: str, method: str) -> http.client.HTTPResponse:
        request = urllib.request.Request(url, method=method, headers={"User-Agent": self.user_agent})
        guard = current_deadline()
        if guard is not None:
            guard.tries += 1
        try:
            response: http.client.HTTPResponse = self._opener.open(request, timeout=self.timeout_s)
        except Exception as exc:
            translated = self._translate(exc, url)
            if translated is None:
                raise
            raise translated from exc
        if guard is not None and guard.expired:  # headers cut short by the deadline
            response.close()
            raise self._too_slow(url)
        return response

    def _read(self, response: http.client.HTTPResponse, url: str, amount: int) -> bytes:
        """Up to ``amount`` bytes, as soon as some have arrived (``read1``: a slow server is
        seen at once, so the download's deadline can stop it)."""
        try:
            data = response.read1(amount)
        except Exception as exc:
            translated = self._translate(exc, url)
            if translated is None:
                raise
            raise translated from exc
        guard = current_deadline()
        if guard is not None:
            guard.received += len(data)
            if guard.expired:
                raise self._too_slow(url)
        return data

    def _retrying(self, url: str, attempt: Callable[[], _T]) -> _T:
        """Run ``attempt`` up to ``self.retries`` times, backing off between retryable failures."""
        for n in range(1, self.retries + 1):
            try:
                return attempt()
            except Retryable as exc:
                if n == self.retries:
                    raise FetchError(url, exc.final(n)) from exc
                wait = self.backoff_s * 2 ** (n - 1)
                guard = current_deadline()
                if guard is not None and guard.remaining() <= wait:  # no time for another try
                    tries = f"{n} {'try' if n == 1 else 'tries'}"
                    raise self._too_slow(url, f"{tries}, the last: {exc.problem}") from exc
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

    def _too_slow(self, url: str, detail: str | None = None) -> FetchError:
        """The one line of a download past its deadline."""
        guard = current_deadline()
        got, tries = (guard.received, guard.tries) if guard is not None else (0, 1)
        why = (
            detail
            or f"{tries} {'try' if tries == 1 else 'tries'}, {got} bytes received; the server is too slow"
        )
        limit = "[fetch] deadline_s in magfw.toml sets the limit"
        return FetchError(url, f"did not finish within {self.deadline_s:g} s ({why}): {limit}")

    def _read_all(self, response: http.client.HTTPResponse, url: str) -> bytes:
        length = self._content_length(response)
        chunks = []
        got = 0
        while chunk := self._read(response, url, CHUNK):
            chunks.append(chunk)
            got += len(chunk)
        self._check_deadline(url)  # the end may be the deadline's shutting the socket
        if length is not None and got < length:
            raise Retryable(f"truncated body: got {got} of {length} bytes")
        return b"".join(chunks)

    def _check_deadline(self, url: str) -> None:
        guard = current_deadline()
        if guard is not None and guard.expired:
            raise self._too_slow(url)

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
            with within(self.deadline_s):
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
            with within(self.deadline_s):
                self._head_length(url)
        except MissingInputError:
            return False
        return True

    def get(self, relpath: str, *, sha256: str | None = None, size: int | None = None) -> FetchedFile:
        """Download ``relpath`` into the cache (or reuse a cached copy) and verify it.

        A cached copy is reused without download when it matches ``sha256``/``size`` if one is
        given, or else when its size equals the Content-Length of a HEAD request. The whole
        (check, tries, back-off) has ``deadline_s``.
        """
        with within(self.deadline_s):
            return self._get(relpath, sha256, size)

    def _get(self, relpath: str, sha256: str | None, size: int | None) -> FetchedFile:
        name = "/".join(_split_relpath(relpath))
        url = self.url(name)
        target = self.cache_path(name)
        expected_sha = sha256.lower() if sha256 is not None else None

        shared = self._read_root.joinpath(*_split_relpath(name)) if self._read_root else None
        for copy in (target, shared):
            if copy is None or not copy.is_file():
                continue
            try:
                cached = self._reusable(url, copy, expected_sha, size)
            except OSError as exc:
                raise FetchError(copy, f"cannot read the cache: {exc.strerror or exc}") from exc
            if cached is not None:
                digest, got_size = cached
                log.debug("%s: reusing cached %s", url, copy)
                return FetchedFile(path=copy, name=name, sha256=digest, size=got_size, source=url)

        def attempt() -> tuple[str, int]:
            return self._download_once(url, target, expected_sha, size)

        log.info("downloading %s", url)
        try:
            digest, got_size = self._retrying(url, attempt)
        except OSError as exc:  # network failures are translated above; this is the cache
            raise FetchError(target, f"cannot write to the cache: {exc.strerror or exc}") from exc
        return FetchedFile(path=target, name=name, sha256=digest, size=got_size, source=url)

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
        digest, _ = input_digest(target)
        if sha256 is not None and digest != sha256:
            return None
        return digest, got_size

    def _download_once(self, url: str, target: Path, sha256: str | None, size: int | None) -> tuple[str, int]:
        """One GET into a temporary beside ``target``, renamed into place only if verified."""
        with self._open(url, "GET") as response:
            final = response.geturl()
            if final.endswith("/") and not url.endswith("/"):
                raise MissingInputError(url, "is a directory, not a file")
            length = self._content_length(response)
            if size is not None and length is not None and length != size:
                raise FetchError(url, f"size mismatch: expected {size} bytes, server reports {length}")
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
                self._check_deadline(url)  # the end may be the deadline's shutting the socket
                if length is not None and got < length:
                    raise Retryable(f"truncated body: got {got} of {length} bytes")
                hexdigest = digest.hexdigest()
                _check_expected(url, sha256, size, hexdigest, got)
        return hexdigest, got

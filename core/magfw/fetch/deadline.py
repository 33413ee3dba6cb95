"""A total deadline for an HTTP download, however the server dribbles.

The per-read time-out of a socket bounds each wait, not the whole: a server that sends a byte
every few seconds (in its headers or its body) keeps a download alive for ever. A
:class:`Deadline` covers one file (or listing) from its first request to its last byte, every
try and back-off included: a timer shuts the sockets of that download when the time is up, so
the read blocked in them returns at once, and the download fails with one line (its partial
file removed by the atomic write around it).

The sockets are those of the connections urllib opens in this thread while the deadline is
current (:func:`handlers` gives urllib the connection classes that report them); redirects
are covered too.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

_current = threading.local()


class Deadline:
    """``seconds`` from now for one download; :meth:`watch` the sockets it opens."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.received = 0  #: body bytes received so far (for the message)
        self.tries = 0  #: requests made so far
        self._expired = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    @property
    def expired(self) -> bool:
        return self._expired.is_set() or time.monotonic() >= self.ends

    def remaining(self) -> float:
        return max(0.0, self.ends - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` when the deadline passes (at once if it has)."""
        with self._lock:
            self._sockets.append(sock)
        if self._expired.is_set():
            _shut(sock)

    def _expire(self) -> None:
        self._expired.set()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    """Wake whatever reads ``sock`` (the plain socket's shutdown, under TLS too: the TLS
    object's own would change its state under the reading thread)."""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Make a :class:`Deadline` current in this thread for the duration (an enclosing one
    stays in force: the inner work is part of the same download)."""
    outer: Deadline | None = getattr(_current, "deadline", None)
    if outer is not None:
        yield outer
        return
    guard = Deadline(seconds)
    _current.deadline = guard
    guard.start()
    try:
        yield guard
    finally:
        guard.cancel()
        _current.deadline = None


def current() -> Deadline | None:
    """The deadline in force in this thread, if any."""
    found: Deadline | None = getattr(_current, "deadline", None)
    return found


def _watched(sock: socket.socket | None) -> None:
    guard = current()
    if guard is not None and sock is not None:
        guard.watch(sock)


class _HTTPConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _watched(self.sock)


class _HTTPSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _watched(self.sock)


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPConnection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(context=context)
        self.tls = context

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_HTTPSConnection, req, context=self.tls)


def handlers() -> list[Any]:
    """urllib handlers whose connections report their sockets to the current deadline."""
    return [_HTTPHandler(), _HTTPSHandler(ssl.create_default_context())]

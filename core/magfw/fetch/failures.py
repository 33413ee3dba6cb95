"""What an HTTP failure means: worth another try (:class:`Retryable`: time-outs, 5xx, 429,
truncated bodies, dropped connections) or final (404/410 a missing input, other 4xx and TLS
errors a fetch error)."""

from __future__ import annotations

import http.client
import ssl
import urllib.error

from magfw.errors import FetchError, MissingInputError


class Retryable(Exception):
    """One attempt failed in a way worth trying again (time-out, 5xx, 429, truncation...)."""

    def __init__(self, problem: str, *, timed_out: bool = False) -> None:
        super().__init__(problem)
        self.problem = problem
        self.timed_out = timed_out

    def final(self, tries: int) -> str:
        if self.timed_out:
            return f"{self.problem} ({tries} {'try' if tries == 1 else 'tries'})"
        return f"{self.problem} after {tries} {'try' if tries == 1 else 'tries'}"


def translate(exc: BaseException, url: str, timeout_s: float) -> BaseException | None:
    """Map a urllib/http.client/socket failure to a MagfwError (final) or :class:`Retryable`
    (None: not a network failure)."""
    if isinstance(exc, urllib.error.HTTPError):
        problem = f"HTTP {exc.code} {exc.reason or ''}".strip()
        exc.close()
        if exc.code in (404, 410):
            return MissingInputError(url, problem)
        if exc.code == 429 or exc.code >= 500:
            return Retryable(problem)
        return FetchError(url, problem)
    if isinstance(exc, urllib.error.URLError):
        if not isinstance(exc.reason, BaseException):
            return FetchError(url, str(exc.reason))
        exc = exc.reason
    if isinstance(exc, TimeoutError):
        return Retryable(f"timed out after {timeout_s:g} s", timed_out=True)
    if isinstance(exc, ssl.SSLError):
        return FetchError(url, f"TLS error: {exc}")
    if isinstance(exc, http.client.IncompleteRead):
        return Retryable(f"truncated body: connection closed after {len(exc.partial)} bytes")
    if isinstance(exc, (http.client.HTTPException, ConnectionError)):
        return Retryable(f"connection error: {exc or type(exc).__name__}")
    if isinstance(exc, OSError):
        return Retryable(f"connection failed: {exc.strerror or exc}")
    return None

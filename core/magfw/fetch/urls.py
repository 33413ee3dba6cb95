"""URLs as magfw shows and caches them: the cache folder of a server, credentials removed."""

from __future__ import annotations

import urllib.parse


def cache_key(url: str) -> str:
    """Cache directory name for the server of ``url``: ``host_port`` (e.g. ``127.0.0.1_8765``)."""
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "unknown").replace(":", "_")
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower(), 0)
    return f"{host}_{port}"


def redact(source: str) -> str:
    """``source`` with any ``user:password@`` removed (safe to print)."""
    parts = urllib.parse.urlsplit(source)
    if parts.username is None and parts.password is None:
        return source
    netloc = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))

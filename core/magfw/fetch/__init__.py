"""Fetch services: how mission plugins find and bring their inputs.

:class:`Archive` is the interface a level's ``fetch`` uses; :func:`open_archive` gives a
:class:`LocalArchive` (a directory) or an :class:`HttpArchive` (a web server, cached).
:func:`pick_highest_version` keeps the highest version of each file of a listing.
"""

from typing import TYPE_CHECKING, Any

from magfw.fetch.archive import (
    SIMULATED_MARKER,
    Archive,
    FetchedFile,
    LocalArchive,
    open_archive,
    pick_highest_version,
)

if TYPE_CHECKING:
    from magfw.fetch.http import HttpArchive, cache_key, parse_index

_HTTP = ("HttpArchive", "cache_key", "parse_index")


def __getattr__(name: str) -> Any:
    """The HTTP archive's names, imported on first use (http.client, ssl and certifi are
    not needed to read a local archive)."""
    if name in _HTTP:
        from magfw.fetch import http

        return getattr(http, name)
    raise AttributeError(f"module 'magfw.fetch' has no attribute {name!r}")


__all__ = [
    "SIMULATED_MARKER",
    "Archive",
    "FetchedFile",
    "HttpArchive",
    "LocalArchive",
    "cache_key",
    "open_archive",
    "parse_index",
    "pick_highest_version",
]

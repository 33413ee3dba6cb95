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
    from magfw.fetch.http import HttpArchive
    from magfw.fetch.index import parse_index
    from magfw.fetch.urls import cache_key

#: The HTTP archive's names, imported on first use (http.client, ssl and certifi are not needed
#: to read a local archive): name -> module.
_HTTP = {
    "HttpArchive": "magfw.fetch.http",
    "cache_key": "magfw.fetch.urls",
    "parse_index": "magfw.fetch.index",
}


def __getattr__(name: str) -> Any:
    if name in _HTTP:
        import importlib

        return getattr(importlib.import_module(_HTTP[name]), name)
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

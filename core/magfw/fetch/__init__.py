"""Fetch services: how mission plugins find and bring their inputs.

:class:`Archive` is the interface a level's ``fetch`` uses; :func:`open_archive` gives a
:class:`LocalArchive` (a directory) or an :class:`HttpArchive` (a web server, cached).
:func:`pick_highest_version` keeps the highest version of each file of a listing.
"""

from magfw.fetch.archive import (
    SIMULATED_MARKER,
    Archive,
    FetchedFile,
    LocalArchive,
    open_archive,
    pick_highest_version,
)
from magfw.fetch.http import HttpArchive
from magfw.fetch.index import parse_index
from magfw.fetch.urls import cache_key

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

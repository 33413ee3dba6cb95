"""SHA-256 of input files, computed once: one digest cache on (path, size, mtime_ns).

The archives (:mod:`magfw.fetch`), the kernels (:mod:`magfw.geometry.kernels`) and local inputs
all ask :func:`input_digest`, so a kernel or table that many units use is read once per process.
A run also keeps the digests it computed in its output tree (:func:`use_store`:
``<out>/.magfw/cache/digests.sqlite``), so a rerun, which must see whether any input changed,
reads again only the files that did. A stored digest is trusted only for a file whose size and
mtime are unchanged and whose mtime was at least ``RACY_S`` older than the moment it was hashed
(git's "racy" rule: a file rewritten within the file system's clock tick keeps its mtime).
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

from magfw.io.checksum import sha256_file

#: A digest is stored for reuse only if the file was this much older than its hashing (s).
RACY_S = 2.0

_DIGESTS: dict[tuple[str, int, int], str] = {}
_STORE: dict[str, Any] = {"path": None, "db": None}


def use_store(path: str | os.PathLike[str] | None) -> None:
    """Keep (and look up) digests in the SQLite file ``path`` from now on (None: memory only).
    A store that cannot be opened or written is ignored: digests are then computed."""
    new = None if path is None else str(path)
    if new != _STORE["path"]:
        if _STORE["db"] is not None:
            with contextlib.suppress(Exception):
                _STORE["db"].close()
        _STORE.update(path=new, db=None)


def _db() -> Any:
    """The store's connection (made on first use; None when there is no usable store)."""
    if _STORE["db"] is None and _STORE["path"] is not None:
        import sqlite3

        try:
            Path(_STORE["path"]).parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(_STORE["path"], timeout=10, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")  # a cache: a lost row is only hashed again
            db.execute(
                "CREATE TABLE IF NOT EXISTS digests (path TEXT PRIMARY KEY, size INTEGER,"
                " mtime_ns INTEGER, sha256 TEXT, hashed_ns INTEGER)"
            )
        except (sqlite3.Error, OSError):
            _STORE["path"] = None  # unusable: memory only
            return None
        _STORE["db"] = db
    return _STORE["db"]


def _store_get(key: tuple[str, int, int]) -> str | None:
    db = _db()
    if db is None:
        return None
    import sqlite3

    try:
        row = db.execute(
            "SELECT sha256 FROM digests WHERE path=? AND size=? AND mtime_ns=? AND hashed_ns>?",
            (key[0], key[1], key[2], key[2] + int(RACY_S * 1e9)),
        ).fetchone()
    except sqlite3.Error:
        return None
    return None if row is None else str(row[0])


def _store_put(key: tuple[str, int, int], digest: str, hashed_ns: int) -> None:
    if hashed_ns - key[2] <= RACY_S * 1e9:  # modified just before: not trusted later
        return
    db = _db()
    if db is None:
        return
    import sqlite3

    with contextlib.suppress(sqlite3.Error):
        db.execute("INSERT OR REPLACE INTO digests VALUES (?,?,?,?,?)", (*key, digest, hashed_ns))


def input_digest(path: str | os.PathLike[str]) -> tuple[str, int]:
    """(SHA-256, size) of an input file, cached on (resolved path, size, mtime_ns): a file is
    read again only when it changed (in this process, or since a run kept its digest)."""
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns)
    digest = _DIGESTS.get(key)
    if digest is None:
        digest = _store_get(key)
    if digest is None:
        hashed_ns = time.time_ns()
        digest = sha256_file(p)
        _store_put(key, digest, hashed_ns)
    _DIGESTS[key] = digest
    return digest, st.st_size

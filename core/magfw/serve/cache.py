"""The server's caches in the tree's state folder, ``<tree>/.magfw/serve/<kind>/``.

What is cached is derived from a product file whose content the ledger records (its SHA-256
names the entry): time indexes and the times as fixed-width text (``times``), quality figures
(``quality``), day and month figures (``plots``, ``months``) and per-file minute summaries
(``minutes``). Entries are written whole or not at all (a temporary renamed into place), so a
reader sees a complete entry or none. Without write access to ``.magfw`` nothing is cached
and everything is made on each request. The folder is kept under ``limit_bytes``: past it the
entries used least recently (by modification time, touched on use at most hourly) go first.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from magfw.config import state_dir

_TOUCH_S = 3600.0


class Cache:
    """The cache folder of one output tree (module notes)."""

    def __init__(self, out_dir: Path, limit_bytes: int) -> None:
        self.root = state_dir(Path(out_dir)) / "serve"
        self.limit = limit_bytes
        self.enabled = os.access(self.root if self.root.exists() else self.root.parent, os.W_OK)
        self._lock = threading.Lock()
        self._size: int | None = None
        if self.enabled:
            self._drop_stale_temporaries()

    def _drop_stale_temporaries(self) -> None:
        """Remove the temporaries of writes that never finished (a killed server)."""
        now = time.time()
        for tmp in self.root.glob("*/.tmp-*") if self.root.is_dir() else []:
            try:
                if now - tmp.stat().st_mtime > _TOUCH_S:
                    tmp.unlink()
            except OSError:
                pass

    def path(self, kind: str, name: str) -> Path:
        return self.root / kind / name

    def get(self, kind: str, name: str) -> Path | None:
        """The entry's path if it exists (and marks it used)."""
        p = self.path(kind, name)
        try:
            st = p.stat()
        except OSError:
            return None
        if self.enabled and time.time() - st.st_mtime > _TOUCH_S:
            try:
                os.utime(p)
            except OSError:
                pass
        return p

    def read(self, kind: str, name: str) -> bytes | None:
        p = self.get(kind, name)
        if p is None:
            return None
        try:
            return p.read_bytes()
        except OSError:
            return None

    def put(self, kind: str, name: str, data: bytes) -> None:
        """Store ``data`` as the entry (nothing when the cache is disabled or unwritable)."""
        with self.writing(kind, name) as fh:
            if fh is not None:
                fh.write(data)

    @contextmanager
    def writing(self, kind: str, name: str) -> Iterator[BinaryIO | None]:
        """A file to write the entry into, renamed into place when the block ends without an
        error (None when the cache is disabled): for entries written piece by piece."""
        if not self.enabled:
            yield None
            return
        folder = self.root / kind
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
        except OSError:
            yield None
            return
        ok = False
        try:
            with os.fdopen(fd, "wb") as fh:
                yield fh
            os.replace(tmp, folder / name)
            ok = True
            self._grew(os.path.getsize(folder / name))
        except OSError:
            pass
        finally:
            if not ok:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass

    def _entries(self) -> list[tuple[float, int, Path]]:
        out: list[tuple[float, int, Path]] = []
        if not self.root.is_dir():
            return out
        for kind in self.root.iterdir():
            if not kind.is_dir():
                continue
            for e in os.scandir(kind):
                if e.is_file() and not e.name.startswith(".tmp-"):
                    st = e.stat()
                    out.append((st.st_mtime, st.st_size, Path(e.path)))
        return out

    def _grew(self, nbytes: int) -> None:
        with self._lock:
            if self._size is None:
                self._size = sum(s for _, s, _ in self._entries())
            else:
                self._size += nbytes
            if self._size <= self.limit:
                return
            entries = sorted(self._entries())
            total = sum(s for _, s, _ in entries)
            for _, size, p in entries:
                if total <= self.limit * 0.9:
                    break
                try:
                    p.unlink()
                    total -= size
                except OSError:
                    pass
            self._size = total

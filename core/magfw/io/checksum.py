"""SHA-256 of files: of inputs once per process, of outputs while they are written.

- **Inputs** (:func:`input_digest`): one digest cache on (path, size, mtime_ns) shared by the
  archives (:mod:`magfw.fetch`), the kernels (:mod:`magfw.geometry.kernels`) and local inputs,
  so a kernel or table that many units use is read once per process.
- **Outputs**: :func:`write_hashed` writes a buffer in one write, flushes it to disk (fsync)
  and computes its digest meanwhile in a helper thread (``hashlib`` releases the GIL), so the
  digest costs no time beside the disk's; :func:`seal` does the same for a file a seeking
  writer (cdflib, h5py) has just closed, hashing it from the page cache through a memory map
  (no read copies) while it is flushed. Either way the product is on disk before its commit.
"""

from __future__ import annotations

import hashlib
import mmap
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHUNK = 1 << 20

_HASHER: ThreadPoolExecutor | None = None
_DIGESTS: dict[tuple[str, int, int], str] = {}


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 digest of the file at ``path`` (streamed, never whole in memory)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes | memoryview) -> str:
    """Hex SHA-256 digest of an in-memory buffer (what is about to be written)."""
    return hashlib.sha256(data).hexdigest()


def input_digest(path: str | os.PathLike[str]) -> tuple[str, int]:
    """(SHA-256, size) of an input file, cached on (resolved path, size, mtime_ns): a file
    is read again only when it changed."""
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns)
    digest = _DIGESTS.get(key)
    if digest is None:
        digest = _DIGESTS[key] = sha256_file(p)
    return digest, st.st_size


@dataclass(frozen=True)
class WrittenFile:
    """A file a writer produced, with the SHA-256 and size of what it wrote."""

    path: Path
    sha256: str
    size: int

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> WrittenFile:
        """Hash a file just written and make it durable (:func:`seal`)."""
        return seal(path)


def _meanwhile(fn: Callable[[], str]) -> Future[str]:
    """Run ``fn`` in the helper thread (one per process, made on first use)."""
    global _HASHER
    if _HASHER is None:
        _HASHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="magfw-sha256")
    return _HASHER.submit(fn)


def _view(data: Any) -> memoryview:
    return memoryview(data).cast("B") if not isinstance(data, bytes) else memoryview(data)


def write_hashed(path: str | os.PathLike[str], data: Any) -> WrittenFile:
    """Write ``data`` (bytes, or any C-contiguous buffer such as a numpy array) to a new file
    ``path`` in one buffered write, flush it to disk, and return its digest, computed in the
    helper thread while the write and the flush run."""
    view = _view(data)
    digest = _meanwhile(lambda: hashlib.sha256(view).hexdigest())
    try:
        with open(path, "wb") as fh:
            fh.write(view)
            fh.flush()
            os.fsync(fh.fileno())
    finally:
        sha = digest.result()
    return WrittenFile(Path(path), sha, view.nbytes)


def _mapped_sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return hashlib.sha256(b"").hexdigest()
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return hashlib.sha256(mm).hexdigest()


def seal(path: str | os.PathLike[str]) -> WrittenFile:
    """Flush a file a seeking writer has just closed to disk and return its digest, hashed
    meanwhile in the helper thread from the page cache (a memory map: no read copies)."""
    p = Path(path)
    digest = _meanwhile(lambda: _mapped_sha256(p))
    try:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
    finally:
        sha = digest.result()
    return WrittenFile(p, sha, size)

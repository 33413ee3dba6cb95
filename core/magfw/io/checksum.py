"""SHA-256 of files: of outputs while they are written.

- **Inputs**: :func:`magfw.io.digests.input_digest` (one digest cache on path, size and
  mtime, kept across runs in the output tree).
- **Outputs**: :func:`write_hashed` writes a buffer in one write, flushes it to disk (fsync)
  and computes its digest meanwhile in a helper thread (``hashlib`` releases the GIL), so the
  digest costs no time beside the disk's; :func:`seal` does the same for a file a seeking
  writer (cdflib, h5py) has just closed, hashing it from the page cache through a memory map
  (no read copies) while it is flushed. Either way the product is on disk before its commit.
- **Write-behind**: inside :func:`write_behind` the flushes are left to a second helper thread
  and collected in a :class:`Flushes`, which the runner waits for just before it commits the
  files: the disk writes one unit's products while the next unit is computed.
"""

from __future__ import annotations

import hashlib
import mmap
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHUNK = 1 << 20

_HELPERS: dict[str, ThreadPoolExecutor] = {}


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


@dataclass(frozen=True)
class WrittenFile:
    """A file a writer produced, with the SHA-256 and size of what it wrote. ``digest`` may
    still be being computed (written inside :func:`write_behind`): ``sha256`` waits for it."""

    path: Path
    digest: str | Future[str]
    size: int

    @property
    def sha256(self) -> str:
        """The hex SHA-256 digest (waiting for it if it is still being computed)."""
        return self.digest if isinstance(self.digest, str) else self.digest.result()

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> WrittenFile:
        """Hash a file just written and make it durable (:func:`seal`)."""
        return seal(path)


def _helper(name: str) -> ThreadPoolExecutor:
    """One helper thread per purpose ("sha256", "fsync") and process, made on first use."""
    if name not in _HELPERS:
        _HELPERS[name] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"magfw-{name}")
    return _HELPERS[name]


def _meanwhile(fn: Callable[[], str]) -> Future[str]:
    """Run ``fn`` in the hashing thread."""
    return _helper("sha256").submit(fn)


@dataclass
class Flushes:
    """The flushes (fsyncs) of files written inside :func:`write_behind`, still under way."""

    pending: list[tuple[Path, Future[None]]] = field(default_factory=list)

    def wait(self) -> None:
        """Return once every file is on disk; an OSError (EIO, a full disk found late) names
        the file it struck."""
        failed: tuple[Path, OSError] | None = None
        for path, future in self.pending:
            try:
                future.result()
            except OSError as exc:
                failed = failed or (path, exc)
        self.pending.clear()
        if failed is not None:
            where, error = failed
            raise OSError(error.errno, error.strerror, str(where)) from error


_BEHIND: ContextVar[Flushes | None] = ContextVar("magfw_write_behind", default=None)


@contextmanager
def write_behind(flushes: Flushes | None = None) -> Iterator[Flushes]:
    """Files written inside are flushed to disk by a helper thread: wait for them with the
    :class:`Flushes` (``flushes``, or a new one, yielded) before relying on them."""
    flushes = Flushes() if flushes is None else flushes
    token = _BEHIND.set(flushes)
    try:
        yield flushes
    finally:
        _BEHIND.reset(token)


def _fsync_close(fd: int) -> None:
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _flush(fd: int, path: Path) -> None:
    """fsync the file open on ``fd`` (a descriptor this takes over), now or in write-behind."""
    flushes = _BEHIND.get()
    if flushes is None:
        _fsync_close(fd)
    else:
        flushes.pending.append((path, _helper("fsync").submit(_fsync_close, fd)))


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
            _flush(os.dup(fh.fileno()), Path(path))
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
    meanwhile in the helper thread from the page cache (a memory map: no read copies). Inside
    :func:`write_behind` this returns at once: the digest and the flush follow."""
    p = Path(path)
    digest = _meanwhile(lambda: _mapped_sha256(p))
    try:
        fd = os.open(p, os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
        except BaseException:
            os.close(fd)
            raise
        _flush(fd, p)
    except BaseException:
        digest.result()
        raise
    if _BEHIND.get() is None:
        return WrittenFile(p, digest.result(), size)
    return WrittenFile(p, digest, size)

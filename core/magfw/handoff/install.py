"""Copying a group of files into a tree together: all of them, or none.

What ``magfw publish`` does with a unit's files (a UCLA flat-file pair ``.ffh``/``.ffd`` at
least): each file is copied to a temporary name beside its destination (hashed as it is read,
so a source that is not what the ledger recorded is refused, and flushed to disk); only when
every copy is whole are they renamed into place, one after the other, in microseconds. A
failure before that (a full disk, a read-only folder) removes the temporaries and leaves every
destination as it was; a rename that fails puts the earlier ones back (the previous files are
kept under a second name, a hard link, until all renames are done). A kill leaves only
temporaries, which the next publish into that folder removes.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from magfw.errors import MagfwError
from magfw.io.atomic import TMP_PREFIX, clean_stale_temporaries

CHUNK = 1 << 20


@dataclass(frozen=True)
class FileCopy:
    """One file to install: from ``src`` to ``dst``, which must have ``size`` bytes and SHA-256
    ``sha256`` (what the ledger recorded when the runner wrote it)."""

    src: Path
    dst: Path
    size: int
    sha256: str


class Refused(MagfwError):
    """A source is not the file the ledger recorded (changed outside the runner)."""


def _temporary(dst: Path, tag: str = "") -> Path:
    return dst.parent / f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}{tag}{dst.suffix}"


def _make_folder(folder: Path) -> None:
    """``folder`` and its parents; one that exists as a file is said so."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocking = next(p for p in (folder, *folder.parents) if p.exists() and not p.is_dir())
        raise MagfwError(blocking, "is a file, not a folder: nothing can be put under it") from None


def _copy_checked(item: FileCopy, tmp: Path) -> None:
    """Copy ``item.src`` to ``tmp`` (mode and times kept, flushed to disk), hashing what is
    read; a source whose size or SHA-256 differs from the record is :class:`Refused`."""
    digest, size = hashlib.sha256(), 0
    with open(item.src, "rb") as fin, open(tmp, "xb") as fout:
        while chunk := fin.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            fout.write(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    if size != item.size:
        raise Refused(item.src, f"has {size} bytes, the ledger recorded {item.size} (changed since its run)")
    if digest.hexdigest() != item.sha256:
        raise Refused(item.src, "its SHA-256 is not the one the ledger recorded (changed since its run)")
    shutil.copystat(item.src, tmp)


@dataclass(frozen=True)
class _Previous:
    """What was at a destination before: nothing, or a file kept under a second name (a hard
    link; None where the file system has none: it cannot be put back)."""

    existed: bool
    kept: Path | None = None

    def restore(self, dst: Path) -> None:
        if self.kept is not None:
            os.replace(self.kept, dst)
        elif not self.existed:
            dst.unlink()


def _keep(dst: Path) -> _Previous:
    if not dst.exists():
        return _Previous(False)
    kept = _temporary(dst, ".old")
    try:
        os.link(dst, kept)
    except OSError as exc:
        if exc.errno in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            return _Previous(True)
        raise
    return _Previous(True, kept)


@contextlib.contextmanager
def _naming(dst: Path) -> Iterator[None]:
    """An OSError about a temporary (or with no file) names the destination instead."""
    try:
        yield
    except OSError as exc:
        if exc.errno is None or exc.filename == str(dst):
            raise
        raise OSError(exc.errno, exc.strerror, str(dst)) from exc


def install_together(items: Sequence[FileCopy]) -> None:
    """Put every ``items[i].src`` at its ``dst``, all or none (module docstring). Raises
    :class:`Refused` for a source that is not what was recorded, OSError for the rest; either
    way every destination is as it was."""
    for folder in dict.fromkeys(item.dst.parent for item in items):
        _make_folder(folder)
        clean_stale_temporaries(folder, recursive=False)  # what a killed publish left
    staged: list[tuple[Path, Path]] = []
    previous: list[_Previous] = []
    placed = 0
    try:
        for item in items:
            tmp = _temporary(item.dst)
            staged.append((tmp, item.dst))
            with _naming(item.dst):
                _copy_checked(item, tmp)
        for _, dst in staged:
            with _naming(dst):
                previous.append(_keep(dst))
        for tmp, dst in staged:
            with _naming(dst):
                os.replace(tmp, dst)
            placed += 1
    except BaseException:
        for (_, dst), before in zip(staged[:placed], previous, strict=False):
            with contextlib.suppress(OSError):
                before.restore(dst)
        raise
    finally:
        left = [tmp for tmp, _ in staged[placed:]] + [p.kept for p in previous if p.kept is not None]
        for path in left:
            with contextlib.suppress(OSError):  # never made (a read-only folder), or gone
                path.unlink()

"""SHA-256 of files, streamed (no whole-file reads into memory)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 digest of the file at ``path``."""
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
    """A file a writer produced, with the SHA-256 and size of what it wrote."""

    path: Path
    sha256: str
    size: int

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> WrittenFile:
        """Hash a file just written (by a writer that seeks, so cannot hash as it goes)."""
        p = Path(path)
        return cls(p, sha256_file(p), p.stat().st_size)

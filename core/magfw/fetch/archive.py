"""Archives: where a mission's inputs live, and how a level's ``fetch`` reads them.

Mission plugins never open URLs themselves; their ``fetch`` hook receives an :class:`Archive`
(from :func:`open_archive`) and calls :meth:`Archive.list`, :meth:`Archive.glob`,
:meth:`Archive.exists` and :meth:`Archive.get`. :class:`LocalArchive` serves a directory tree
in place and never modifies it; :class:`magfw.fetch.http.HttpArchive` a web server.

Errors are :mod:`magfw.errors` exceptions whose ``str()`` is one line naming the file or URL:
:class:`~magfw.errors.MissingInputError` when a file is absent, :class:`~magfw.errors.FetchError`
for transfer problems and checksum/size mismatches, :class:`~magfw.errors.UsageError` for a
source that is neither a URL nor a directory.
"""

from __future__ import annotations

import abc
import builtins
import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path

from magfw.errors import FetchError, MissingInputError, UsageError
from magfw.io.digests import input_digest

#: The file a magfw simulator leaves at the root of a simulated archive.
SIMULATED_MARKER = "MAGFW-SIMULATED.json"


@dataclass(frozen=True, kw_only=True)
class FetchedFile:
    """A file made available locally by an :class:`Archive`."""

    path: Path  # inside the archive (LocalArchive) or in the cache (HttpArchive)
    name: str  # relative path in the archive, "/"-separated
    sha256: str  # lowercase hex digest
    size: int  # bytes
    source: str  # absolute local path or URL (never with credentials)


def _split_relpath(relpath: str) -> builtins.list[str]:
    """Split an archive-relative path into parts; refuse ``..`` (no escaping the archive)."""
    parts = [p for p in str(relpath).replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UsageError(relpath, "archive paths must not contain '..'")
    return parts


class Archive(abc.ABC):
    """Where a mission's inputs live: a local directory tree or an HTTP(S) server."""

    root: str  # printable description: directory or base URL

    @abc.abstractmethod
    def list(self, relpath: str = "") -> builtins.list[str]:
        """Sorted names (files and subdirectories, no trailing slash) in directory ``relpath``.

        Returns ``[]`` when the directory does not exist.
        """

    def glob(self, relpath: str, pattern: str) -> builtins.list[str]:
        """Sorted relative paths of the entries of directory ``relpath`` matching ``pattern``.

        ``pattern`` is an :mod:`fnmatch` pattern (case-sensitive) applied to the names in that
        one directory; it does not descend into subdirectories.
        """
        prefix = "/".join(_split_relpath(relpath))
        names = [n for n in self.list(relpath) if fnmatch.fnmatchcase(n, pattern)]
        return sorted(f"{prefix}/{n}" if prefix else n for n in names)

    @abc.abstractmethod
    def exists(self, relpath: str) -> bool:
        """True if ``relpath`` (a file or directory) exists in the archive."""

    @abc.abstractmethod
    def get(self, relpath: str, *, sha256: str | None = None, size: int | None = None) -> FetchedFile:
        """Make file ``relpath`` available locally, verifying ``sha256``/``size`` if given.

        Raises MissingInputError if the file is absent, FetchError on transfer problems or a
        checksum/size mismatch.
        """

    def is_simulated(self) -> bool:
        """Whether the archive root holds the marker a magfw simulator leaves
        (``MAGFW-SIMULATED.json``): products made from it are then marked simulated."""
        return self.exists(SIMULATED_MARKER)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.root!r})"


def _check_expected(
    where: str, sha256: str | None, size: int | None, got_sha: str | None, got_size: int
) -> None:
    """Raise FetchError if the file's size or digest differs from what was expected."""
    if size is not None and got_size != size:
        raise FetchError(where, f"size mismatch: expected {size} bytes, got {got_size}")
    if sha256 is not None and got_sha is not None and got_sha != sha256.lower():
        raise FetchError(where, f"sha256 mismatch: expected {sha256.lower()}, got {got_sha}")


class LocalArchive(Archive):
    """An archive that is a directory tree; files are returned in place, never modified."""

    def __init__(self, root: Path) -> None:
        self.directory = Path(root).absolute()
        self.root = str(self.directory)

    def _path(self, relpath: str) -> Path:
        return self.directory.joinpath(*_split_relpath(relpath))

    def list(self, relpath: str = "") -> builtins.list[str]:
        """Sorted names in directory ``relpath``; ``[]`` if it does not exist."""
        path = self._path(relpath)
        try:
            with os.scandir(path) as entries:
                return sorted(e.name for e in entries)
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as exc:
            raise FetchError(path, f"cannot list directory: {exc.strerror or exc}") from exc

    def exists(self, relpath: str) -> bool:
        """True if ``relpath`` exists under the root."""
        return self._path(relpath).exists()

    def get(self, relpath: str, *, sha256: str | None = None, size: int | None = None) -> FetchedFile:
        """Return the file in place with its sha256 (read only; the file is not touched)."""
        path = self._path(relpath)
        if not path.exists():
            raise MissingInputError(path, f"not found in archive {self.root}")
        if not path.is_file():
            raise MissingInputError(path, "is a directory, not a file")
        try:
            got_size = path.stat().st_size
            _check_expected(str(path), None, size, None, got_size)
            digest, got_size = input_digest(path)  # cached: hashed once per process
        except OSError as exc:
            raise FetchError(path, f"cannot read: {exc.strerror or exc}") from exc
        _check_expected(str(path), sha256, None, digest, got_size)
        name = "/".join(_split_relpath(relpath))
        return FetchedFile(path=path, name=name, sha256=digest, size=got_size, source=str(path))


def open_archive(source: str | Path, cache_dir: Path, *, read_cache: Path | None = None) -> Archive:
    """The archive for ``source``: an http(s) URL (cached in ``cache_dir``, reusing what
    ``read_cache`` holds without writing there) or a directory.

    Raises UsageError naming the source if it is neither.
    """
    from magfw.fetch.http import HttpArchive
    from magfw.fetch.urls import redact

    text = str(source)
    if isinstance(source, str) and re.match(r"^https?://", text, re.IGNORECASE):
        from magfw.config import load_config

        return HttpArchive(text, cache_dir, read_cache=read_cache, **load_config().fetch.model_dump())
    if isinstance(source, str) and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text):
        raise UsageError(redact(text), "unsupported URL scheme (use http://, https:// or a directory)")
    path = Path(source)
    if path.is_dir():
        return LocalArchive(path)
    problem = "is not a directory" if path.exists() else "no such directory"
    raise UsageError(text, f"{problem}; expected an http(s) URL or an existing directory")


def pick_highest_version(names: builtins.list[str], pattern: re.Pattern[str] | str) -> dict[str, str]:
    """Keep, for each key, the name with the highest version ("highest version of a day wins").

    ``pattern`` must have the named groups ``key`` (what identifies one product, e.g. the date
    and product name) and ``version`` (decimal digits, compared as int). It is searched
    (``re.search``) in the last path component of each name, so names may be bare file names
    or relative paths; names that do not match are ignored. A name listed twice counts once;
    if different names share the same key and version, the lexicographically smallest wins, so
    the result does not depend on listing order.

    Returns ``{key: name}`` ordered by key::

        >>> rx = re.compile(r"STA_L1_MAG_(?P<key>\\d{8})_V(?P<version>\\d+)\\.cdf$")
        >>> pick_highest_version(
        ...     ["STA_L1_MAG_20240102_V05.cdf", "STA_L1_MAG_20240101_V06.cdf",
        ...      "STA_L1_MAG_20240101_V05.cdf", "STA_L1_MAG_20240101_V06.cdf"], rx)
        {'20240101': 'STA_L1_MAG_20240101_V06.cdf', '20240102': 'STA_L1_MAG_20240102_V05.cdf'}
    """
    from magfw.io.finder import highest

    rx = re.compile(pattern) if isinstance(pattern, str) else pattern
    if not {"key", "version"} <= set(rx.groupindex):
        raise ValueError(f"pattern {rx.pattern!r} needs named groups 'key' and 'version'")
    matches = {}
    for name in set(names):
        match = rx.search(name.rsplit("/", 1)[-1])
        if match is not None and match.group("key") is not None and match.group("version") is not None:
            matches[name] = (match.group("key"), int(match.group("version")))
    best = highest(matches, key=lambda n: matches[n][0], version=lambda n: matches[n][1], tie=lambda n: n)
    return dict(best)

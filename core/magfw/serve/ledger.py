"""The tree's ledger (``.magfw/ledger.sqlite``), checked and opened read-only before anything
is served.

The server never writes the ledger and never creates one: a missing tree, a missing ledger, a
zero-byte, garbage or truncated file, or an SQLite database that is not a magfw ledger is one
line naming the ledger and the problem (a :class:`~magfw.errors.MagfwError`, exit 1), raised
before the server says it is serving. The checks write nothing: the header is read as bytes
(an SQLite file starts with ``SQLite format 3``, and its header gives the page size and count,
so a truncated copy is seen without SQLite), then the structure is checked through an
``immutable`` read-only connection (no lock, ``-wal`` or ``-shm`` file is made), and only then
is the ledger opened for reading (``mode=ro``), as :class:`~magfw.engine.ledger.Ledger`
``(read_only=True)``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from magfw.config import state_dir
from magfw.engine.ledger import Ledger
from magfw.errors import MagfwError

_MAGIC = b"SQLite format 3\x00"
_TABLES = {"runs", "inputs", "outputs"}


def ledger_path(out_dir: Path) -> Path:
    return state_dir(Path(out_dir)) / "ledger.sqlite"


def _header_problem(path: Path) -> str | None:
    """What the first 100 bytes say is wrong with the file, or None."""
    size = path.stat().st_size
    if size == 0:
        return "empty file (zero bytes): not a magfw ledger"
    with open(path, "rb") as fh:
        head = fh.read(100)
    if not head.startswith(_MAGIC):
        return "not a magfw ledger: not an SQLite database (no SQLite header)"
    if len(head) < 100:
        return f"truncated: {size} bytes, shorter than an SQLite header"
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    pages = int.from_bytes(head[28:32], "big")
    header_valid = head[92:96] == head[24:28]  # the page count is valid for this version
    if page < 512 or page & (page - 1):
        return "not a readable magfw ledger: damaged SQLite header (page size)"
    if size % page or (header_valid and size < pages * page):
        want = f" of {pages * page}" if header_valid else ""
        return f"truncated: {size}{want} bytes (copied or written incompletely?)"
    return None


def _structure_problem(path: Path) -> str | None:
    """What an immutable read-only look at the database finds wrong, or None."""
    uri = path.resolve().as_uri() + "?mode=ro&immutable=1"
    try:
        db = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        return f"cannot be opened: {exc}"
    try:
        verdict = db.execute("PRAGMA quick_check").fetchone()
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        return f"not a readable magfw ledger: {exc}"
    finally:
        db.close()
    if verdict is None or verdict[0] != "ok":
        return f"not a readable magfw ledger: {verdict[0] if verdict else 'check failed'}"
    missing = sorted(_TABLES - tables)
    if missing:
        wal = path.with_name(path.name + "-wal")
        if wal.is_file() and wal.stat().st_size:  # a ledger created moments ago: tables in its WAL
            return None
        return f"not a magfw ledger: no {', '.join(missing)} table"
    return None


def open_ledger(out_dir: Path) -> Ledger:
    """The ledger of the tree ``out_dir``, checked (module notes) and opened read-only."""
    out_dir = Path(out_dir)
    path = ledger_path(out_dir)
    if not out_dir.exists():
        raise MagfwError(path, f"no ledger: there is no output tree at {out_dir}")
    if not out_dir.is_dir():
        raise MagfwError(path, f"no ledger: {out_dir} is not a folder (an output tree is)")
    if not path.exists():
        raise MagfwError(path, "no ledger here: nothing has been processed into this tree")
    if not path.is_file():
        raise MagfwError(path, "not a file: the ledger must be an SQLite file")
    try:
        problem = _header_problem(path) or _structure_problem(path)
    except OSError as exc:
        raise MagfwError(path, f"cannot be read: {exc.strerror or exc}") from exc
    if problem:
        raise MagfwError(path, problem)
    return Ledger(path, read_only=True)


def ledger_error(out_dir: Path, exc: sqlite3.Error) -> MagfwError:
    """A failure of the open ledger as one line naming it."""
    return MagfwError(ledger_path(out_dir), f"cannot be read: {type(exc).__name__}: {exc}")

"""The run ledger: an SQLite record of every unit processed in an output tree.

For each unit run it keeps the inputs (name, role, SHA-256), the outputs (path, SHA-256), the
versions in force (software, plugin, product definitions, calibration, kernels, options), the
product version given, the status and the duration. The runner asks it whether a unit is
unchanged since its last success (then it is skipped) and which product version comes next.

The database lives at ``<out>/.magfw/ledger.sqlite`` (WAL mode; only the coordinating process
writes to it, workers return their records).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    unit TEXT NOT NULL,             -- mission/level/spacecraft/unit-key
    status TEXT NOT NULL,           -- ok | failed | skipped
    inputs_digest TEXT,
    versions TEXT NOT NULL,         -- JSON object
    product_version INTEGER,
    reason TEXT,
    error TEXT,
    vectors INTEGER NOT NULL DEFAULT 0,
    started REAL NOT NULL,          -- UNIX seconds
    duration_s REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_unit ON runs(unit, id);
CREATE TABLE IF NOT EXISTS inputs (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    role TEXT NOT NULL, name TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    version TEXT
);
CREATE TABLE IF NOT EXISTS outputs (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    path TEXT NOT NULL,             -- relative to the output tree
    product TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL
);
"""


@dataclass
class LedgerEntry:
    """One run of one unit."""

    unit: str
    status: str
    versions: dict[str, Any]
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    inputs_digest: str | None = None
    product_version: int | None = None
    reason: str | None = None
    error: str | None = None
    vectors: int = 0
    started: float = field(default_factory=time.time)
    duration_s: float = 0.0
    id: int | None = None


class Ledger:
    """Read and append run records in ``path`` (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=60)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            with db:  # one transaction
                yield db
        finally:
            db.close()

    def record(self, entry: LedgerEntry) -> int:
        """Append a run record with its inputs and outputs; return its id."""
        with self._connect() as db:
            cur = db.execute(
                "INSERT INTO runs (unit, status, inputs_digest, versions, product_version, reason,"
                " error, vectors, started, duration_s) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (entry.unit, entry.status, entry.inputs_digest,
                 json.dumps(entry.versions, sort_keys=True), entry.product_version, entry.reason,
                 entry.error, entry.vectors, entry.started, entry.duration_s),
            )
            run_id = int(cur.lastrowid or 0)
            db.executemany(
                "INSERT INTO inputs VALUES (?,?,?,?,?,?)",
                [(run_id, i["role"], i["name"], i["sha256"], i["size"], i.get("version"))
                 for i in entry.inputs],
            )
            db.executemany(
                "INSERT INTO outputs VALUES (?,?,?,?,?)",
                [(run_id, o["path"], o["product"], o["sha256"], o["size"]) for o in entry.outputs],
            )
        entry.id = run_id
        return run_id

    def _entry(self, db: sqlite3.Connection, row: tuple[Any, ...]) -> LedgerEntry:
        (run_id, unit, status, digest, versions, pver, reason, error, vectors, started, dur) = row
        inputs = [dict(zip(("role", "name", "sha256", "size", "version"), r, strict=True))
                  for r in db.execute("SELECT role, name, sha256, size, version FROM inputs"
                                      " WHERE run_id=?", (run_id,))]
        outputs = [dict(zip(("path", "product", "sha256", "size"), r, strict=True))
                   for r in db.execute("SELECT path, product, sha256, size FROM outputs"
                                       " WHERE run_id=?", (run_id,))]
        return LedgerEntry(unit=unit, status=status, versions=json.loads(versions), inputs=inputs,
                           outputs=outputs, inputs_digest=digest, product_version=pver,
                           reason=reason, error=error, vectors=vectors, started=started,
                           duration_s=dur, id=run_id)

    _COLS = ("id, unit, status, inputs_digest, versions, product_version, reason, error,"
             " vectors, started, duration_s")

    def last_ok(self, unit: str) -> LedgerEntry | None:
        """The unit's most recent successful run, or None."""
        with self._connect() as db:
            row = db.execute(f"SELECT {self._COLS} FROM runs WHERE unit=? AND status='ok'"
                             " ORDER BY id DESC LIMIT 1", (unit,)).fetchone()
            return None if row is None else self._entry(db, row)

    def history(self, unit: str | None = None) -> list[LedgerEntry]:
        """Every run (of one unit, or all), oldest first."""
        with self._connect() as db:
            if unit is None:
                rows = db.execute(f"SELECT {self._COLS} FROM runs ORDER BY id").fetchall()
            else:
                rows = db.execute(f"SELECT {self._COLS} FROM runs WHERE unit=? ORDER BY id",
                                  (unit,)).fetchall()
            return [self._entry(db, r) for r in rows]


def describe_changes(
    previous: LedgerEntry, inputs: list[dict[str, Any]], versions: dict[str, Any]
) -> str | None:
    """A one-line reason for regenerating a unit, or None if nothing changed."""
    parts: list[str] = []
    old = {(i["role"], i["name"]): i["sha256"] for i in previous.inputs}
    new = {(i["role"], i["name"]): i["sha256"] for i in inputs}
    added = sorted(n for (_, n) in new.keys() - old.keys())
    gone = sorted(n for (_, n) in old.keys() - new.keys())
    changed = sorted(k[1] for k in new.keys() & old.keys() if old[k] != new[k])
    if added:
        parts.append("new input " + ", ".join(added))
    if gone:
        parts.append("input no longer used " + ", ".join(gone))
    if changed:
        parts.append("input changed " + ", ".join(changed))
    for key in sorted(set(versions) | set(previous.versions)):
        a, b = previous.versions.get(key), versions.get(key)
        if a != b:
            parts.append(f"{key} {_short(a)} -> {_short(b)}")
    return "; ".join(parts) or None


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "..."

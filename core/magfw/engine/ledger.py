"""The run ledger: an SQLite record of every unit processed in an output tree.

For each unit run it keeps the inputs (name, role, SHA-256), the outputs (path, SHA-256), the
versions in force (software, plugin, product definitions, calibration, kernels, options), the
product version given, whether the inputs were simulated, the status and the duration. A
unit's last success, read from it, is what :mod:`magfw.engine.versioning` compares a new run
with: whether the unit is skipped, which product version comes next and why.

It also holds the commit journal (table ``commits``): a unit's files are moved into place only
after a journal row says which, and the row is marked done in the same transaction that
records the run, so a commit is either wholly in the ledger or rolled back on the next start
(:mod:`magfw.engine.commit`).

The database lives at ``<out>/.magfw/ledger.sqlite`` (WAL mode). Only coordinating processes
write to it (workers return their records); several runs on one tree share it safely.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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
    duration_s REAL NOT NULL,
    simulated INTEGER NOT NULL DEFAULT 0,
    run_id TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',  -- the unit's one-line summary (notes, missing days)
    calibration TEXT NOT NULL DEFAULT '[]'  -- JSON list: the calibration its products carry
);
CREATE INDEX IF NOT EXISTS runs_unit ON runs(unit, id);
CREATE TABLE IF NOT EXISTS inputs (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    role TEXT NOT NULL, name TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    version TEXT
);
CREATE INDEX IF NOT EXISTS inputs_run ON inputs(run_id);
CREATE TABLE IF NOT EXISTS outputs (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    path TEXT NOT NULL,             -- relative to the output tree
    product TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outputs_run ON outputs(run_id);
CREATE INDEX IF NOT EXISTS outputs_path ON outputs(path);
CREATE TABLE IF NOT EXISTS commits (
    id TEXT PRIMARY KEY,            -- the staging folder of the commit
    unit TEXT NOT NULL,
    state TEXT NOT NULL,            -- pending | done
    plan TEXT NOT NULL,             -- JSON: the moves (see magfw.engine.commit)
    created REAL NOT NULL
);
"""

#: Columns added after the first release, with their definitions (migrated on open).
_ADDED = {
    "runs": {
        "simulated": "INTEGER NOT NULL DEFAULT 0",
        "run_id": "TEXT NOT NULL DEFAULT ''",
        "message": "TEXT NOT NULL DEFAULT ''",
        "calibration": "TEXT NOT NULL DEFAULT '[]'",
    }
}


_TRACELESS: ContextVar[bool] = ContextVar("magfw_ledger_traceless", default=False)


@contextmanager
def traceless() -> Iterator[None]:
    """Within it, read-only ledgers leave no file behind (see :class:`Ledger`): for a dry run,
    which must not write into the output tree, in the one process that runs it."""
    token = _TRACELESS.set(True)
    try:
        yield
    finally:
        _TRACELESS.reset(token)


@dataclass(kw_only=True)
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
    simulated: bool = False
    run_id: str = ""
    message: str = ""
    id: int | None = None
    #: the calibration entries the unit's products carry (their calibration attribute),
    #: inherited by the products made from them (:meth:`Ledger.output_record`)
    calibration: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class OutputRecord:
    """What the ledger knows of one file of the output tree, from the run that wrote it."""

    sha256: str
    size: int
    simulated: bool
    calibration: tuple[str, ...]  #: the calibration entries of that run's products


@dataclass(kw_only=True)
class PendingCommit:
    """A journal row: a unit commit that began and has not been cleaned up."""

    id: str
    unit: str
    state: str
    plan: dict[str, Any]
    created: float


class Ledger:
    """Read and append run records in ``path`` (created on first use).

    ``read_only`` (:meth:`reader`): only read (SQLite's ``mode=ro``: no folder, no schema),
    for the readers of a run (a level's ``fetch`` asking what another unit recorded) and for
    ``magfw serve``: nothing is created, migrated or written. Inside
    :func:`traceless` (``magfw run --dry-run``) it leaves no trace either: without a writer's
    ``-wal`` file present it opens the database ``immutable`` (``mode=ro`` would leave
    ``-wal``/``-shm`` files behind)."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA)
            for table, cols in _ADDED.items():
                have = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
                for name, decl in cols.items():
                    if name not in have:
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")

    @classmethod
    def reader(cls, path: Path) -> Ledger | None:
        """The ledger at ``path`` opened read-only, or None when there is none."""
        return cls(path, read_only=True) if Path(path).is_file() else None

    @contextmanager
    def _connect(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction; ``durable`` ones are on disk when it ends (fsynced)."""
        if self.read_only:
            live = Path(f"{self.path}-wal").exists()  # a writer's WAL: read it too, with locks
            mode = "immutable=1" if _TRACELESS.get() and not live else "mode=ro"
            db = sqlite3.connect(f"{self.path.absolute().as_uri()}?{mode}", uri=True, timeout=60)
            try:
                yield db
            finally:
                db.close()
            return
        db = sqlite3.connect(self.path, timeout=60)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            db.execute("PRAGMA foreign_keys=ON")
            with db:  # one transaction
                yield db
        finally:
            db.close()

    # -- runs --------------------------------------------------------------------------------

    def _insert(self, db: sqlite3.Connection, entry: LedgerEntry) -> int:
        cur = db.execute(
            "INSERT INTO runs (unit, status, inputs_digest, versions, product_version, reason,"
            " error, vectors, started, duration_s, simulated, run_id, message, calibration)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                entry.unit,
                entry.status,
                entry.inputs_digest,
                json.dumps(entry.versions, sort_keys=True),
                entry.product_version,
                entry.reason,
                entry.error,
                entry.vectors,
                entry.started,
                entry.duration_s,
                int(entry.simulated),
                entry.run_id,
                entry.message,
                json.dumps(entry.calibration),
            ),
        )
        run_id = int(cur.lastrowid or 0)
        db.executemany(
            "INSERT INTO inputs VALUES (?,?,?,?,?,?)",
            [(run_id, i["role"], i["name"], i["sha256"], i["size"], i.get("version")) for i in entry.inputs],
        )
        db.executemany(
            "INSERT INTO outputs VALUES (?,?,?,?,?)",
            [(run_id, o["path"], o["product"], o["sha256"], o["size"]) for o in entry.outputs],
        )
        entry.id = run_id
        return run_id

    def record(self, entry: LedgerEntry) -> int:
        """Append a run record with its inputs and outputs; return its id."""
        with self._connect() as db:
            return self._insert(db, entry)

    @staticmethod
    def _from_row(
        row: tuple[Any, ...], inputs: list[dict[str, Any]], outputs: list[dict[str, Any]]
    ) -> LedgerEntry:
        """A runs row (in :attr:`_COLS` order) with its inputs and outputs as an entry."""
        rid, unit, status, digest, versions, pver, reason, error, vectors, started, dur, sim, run = row[:13]
        msg, cal = row[13:]
        return LedgerEntry(
            unit=unit,
            status=status,
            versions=json.loads(versions),
            inputs=inputs,
            outputs=outputs,
            inputs_digest=digest,
            product_version=pver,
            reason=reason,
            error=error,
            vectors=vectors,
            started=started,
            duration_s=dur,
            simulated=bool(sim),
            run_id=run,
            message=msg,
            id=rid,
            calibration=list(json.loads(cal or "[]")),
        )

    def _entry(self, db: sqlite3.Connection, row: tuple[Any, ...]) -> LedgerEntry:
        run_id = row[0]
        inputs = [
            dict(zip(("role", "name", "sha256", "size", "version"), r, strict=True))
            for r in db.execute(
                "SELECT role, name, sha256, size, version FROM inputs WHERE run_id=?", (run_id,)
            )
        ]
        outputs = [
            dict(zip(("path", "product", "sha256", "size"), r, strict=True))
            for r in db.execute("SELECT path, product, sha256, size FROM outputs WHERE run_id=?", (run_id,))
        ]
        return self._from_row(row, inputs, outputs)

    _COLS = (
        "id, unit, status, inputs_digest, versions, product_version, reason, error,"
        " vectors, started, duration_s, simulated, run_id, message, calibration"
    )

    def last_ok(self, unit: str) -> LedgerEntry | None:
        """The unit's most recent successful run, or None."""
        with self._connect() as db:
            row = db.execute(
                f"SELECT {self._COLS} FROM runs WHERE unit=? AND status='ok' ORDER BY id DESC LIMIT 1",
                (unit,),
            ).fetchone()
            return None if row is None else self._entry(db, row)

    def history(self, unit: str | None = None) -> list[LedgerEntry]:
        """Every run (of one unit, or all), oldest first."""
        with self._connect() as db:
            if unit is None:
                rows = db.execute(f"SELECT {self._COLS} FROM runs ORDER BY id").fetchall()
            else:
                rows = db.execute(
                    f"SELECT {self._COLS} FROM runs WHERE unit=? ORDER BY id", (unit,)
                ).fetchall()
            return [self._entry(db, r) for r in rows]

    def current(self, prefix: str = "") -> list[LedgerEntry]:
        """The latest successful run of every unit whose id starts with ``prefix``: what the
        output tree holds now."""
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {self._COLS} FROM runs WHERE id IN (SELECT MAX(id) FROM runs"
                " WHERE status='ok' AND unit LIKE ? ESCAPE '\\' GROUP BY unit) ORDER BY unit",
                (prefix.replace("%", "\\%").replace("_", "\\_") + "%",),
            ).fetchall()
            return [self._entry(db, r) for r in rows]

    def runs_after(self, run_id: int = 0) -> list[LedgerEntry]:
        """Every run with an id above ``run_id`` (all statuses), oldest first, with inputs and
        outputs, in three queries whatever their number: how a reader that keeps its own
        index of the tree (``magfw serve``) catches up with the runs recorded since it last
        looked."""
        with self._connect() as db:
            rows = db.execute(f"SELECT {self._COLS} FROM runs WHERE id > ? ORDER BY id", (run_id,)).fetchall()
            if not rows:
                return []
            inputs: dict[int, list[dict[str, Any]]] = {}
            for rid, *rest in db.execute(
                "SELECT run_id, role, name, sha256, size, version FROM inputs WHERE run_id > ?", (run_id,)
            ):
                inputs.setdefault(rid, []).append(
                    dict(zip(("role", "name", "sha256", "size", "version"), rest, strict=True))
                )
            outputs: dict[int, list[dict[str, Any]]] = {}
            for rid, *rest in db.execute(
                "SELECT run_id, path, product, sha256, size FROM outputs WHERE run_id > ?", (run_id,)
            ):
                outputs.setdefault(rid, []).append(
                    dict(zip(("path", "product", "sha256", "size"), rest, strict=True))
                )
        return [self._from_row(row, inputs.get(row[0], []), outputs.get(row[0], [])) for row in rows]

    def output_record(self, rel_path: str) -> OutputRecord | None:
        """``rel_path`` as the run that last wrote it recorded it (SHA-256, size, simulated,
        the calibration its products carry), or None if no run did."""
        with self._connect() as db:
            row = db.execute(
                "SELECT o.sha256, o.size, r.simulated, r.calibration FROM outputs o JOIN runs r"
                " ON r.id = o.run_id WHERE o.path=? AND r.status='ok'"
                " ORDER BY r.id DESC LIMIT 1",
                (rel_path,),
            ).fetchone()
        if row is None:
            return None
        cal = tuple(str(c) for c in json.loads(row[3] or "[]"))
        return OutputRecord(sha256=str(row[0]), size=int(row[1]), simulated=bool(row[2]), calibration=cal)

    # -- commit journal ----------------------------------------------------------------------

    def begin_commit(self, commit_id: str, unit: str, plan: dict[str, Any]) -> None:
        """Journal a commit before any file moves (state ``pending``)."""
        with self._connect() as db:
            db.execute(
                "INSERT INTO commits VALUES (?,?,?,?,?)",
                (commit_id, unit, "pending", json.dumps(plan), time.time()),
            )

    def finish_commit(self, commit_id: str, entry: LedgerEntry) -> int:
        """The commit point: record the run and mark its journal row done, in one
        transaction. Returns the run id."""
        with self._connect() as db:
            run_id = self._insert(db, entry)
            cur = db.execute("UPDATE commits SET state='done' WHERE id=? AND state='pending'", (commit_id,))
            if cur.rowcount != 1:
                raise RuntimeError(f"commit {commit_id} is not pending in {self.path}")
            return run_id

    def forget_commit(self, commit_id: str) -> None:
        """Drop a journal row once its commit is rolled forward or back. Not waited onto the
        disk: a row a crash brings back is only rolled forward (or back) again, a no-op."""
        with self._connect(durable=False) as db:
            db.execute("DELETE FROM commits WHERE id=?", (commit_id,))

    def commits(self) -> list[PendingCommit]:
        """Every journal row (commits in progress, or interrupted)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, unit, state, plan, created FROM commits ORDER BY created"
            ).fetchall()
        return [PendingCommit(id=i, unit=u, state=s, plan=json.loads(p), created=c) for i, u, s, p, c in rows]

"""Committing a unit's files into the output tree: all of them, or none.

A unit's products are written into the run's staging folder first (hashed while written).
:func:`commit_outputs` then moves them into place under the unit's lock, journalled in the
ledger so that a failure or a kill at any moment leaves either the unit's previous files or
its new ones, never a mixture:

1. journal: a ``pending`` row in the ledger's ``commits`` table lists every move;
2. back up: each file about to be replaced, and each earlier output of the unit that the new
   version no longer has, is renamed to ``.magfw-old-<commit>-<name>`` beside it (the same
   folder, so always a rename);
3. place: each staged file is renamed to its final path (copied, then renamed, when the
   product folder is on another file system);
4. record: the run is inserted into the ledger and the journal row marked ``done`` in one
   SQLite transaction -- the commit point;
5. clean: the backups and the journal row are removed.

:func:`recover` finishes what a dead run left: a ``pending`` commit is rolled back (backups
renamed back, new files removed), a ``done`` one rolled forward (backups removed). It runs at
the start of every run and before each unit is processed, for commits whose run is dead.

Which earlier outputs a commit *retires* (removes with it) is decided by
:func:`magfw.engine.versioning.superseded`: an earlier version of a file stays beside its
newer version, any other earlier output the new commit does not rewrite goes, so that the
newest version of a unit is always one complete set.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import signal
from pathlib import Path
from typing import Any

from magfw.config import state_dir
from magfw.engine.jobs import StagedFile
from magfw.engine.ledger import Ledger, LedgerEntry, PendingCommit
from magfw.engine.locks import UnitLock, clean_dead_staging, owner_alive
from magfw.errors import os_error
from magfw.io.atomic import clean_stale_temporaries

log = logging.getLogger("magfw.engine.commit")

#: Test hook: ``MAGFW_FAULT_COMMIT=<point>[:<n>]`` kills the process (SIGKILL) when the commit
#: reaches ``<point>`` for the ``n``-th time (1 by default). Points: ``journalled``,
#: ``backed_up``, ``placed``, ``recorded``, ``cleaned``. Used by the kill-at-every-point test.
FAULT_ENV = "MAGFW_FAULT_COMMIT"
_fault_counts: dict[str, int] = {}


def _checkpoint(point: str) -> None:
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    name, _, nth = spec.partition(":")
    if name != point:
        return
    _fault_counts[point] = _fault_counts.get(point, 0) + 1
    if _fault_counts[point] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def commit_outputs(
    out_dir: Path,
    ledger: Ledger,
    commit_dir: Path,
    staged: list[StagedFile],
    entry: LedgerEntry,
    retired: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Move a unit's staged files into place and record ``entry`` (see the module notes).

    ``commit_dir`` is the unit's folder inside the run's staging folder; ``retired`` the
    relative paths of the unit's earlier outputs that the new commit supersedes without
    rewriting (removed with it). Returns the output records (path, product, sha256, size) now
    in the ledger. On failure everything is rolled back and a :class:`MagfwError` names the
    file and the problem.
    """
    out_dir = Path(out_dir)
    tag = commit_dir.name[:12]
    new_rels = {s.rel for s in staged}
    moves: list[dict[str, Any]] = [
        {
            "staged": s.staged.relative_to(out_dir).as_posix(),
            "final": s.rel,
            "backup": _backup_name(s.rel, tag),
            "sha256": s.sha256,
            "size": s.size,
        }
        for s in staged
    ]
    retire: list[dict[str, Any]] = [
        {"final": rel, "backup": _backup_name(rel, tag)} for rel in retired or [] if rel not in new_rels
    ]
    plan: dict[str, list[dict[str, Any]]] = {"moves": moves, "retire": retire}
    commit_id = commit_dir.relative_to(out_dir).as_posix()
    ledger.begin_commit(commit_id, entry.unit, plan)
    _checkpoint("journalled")
    try:
        for item in [*moves, *retire]:
            final = out_dir / item["final"]
            if final.exists():
                os.replace(final, out_dir / item["backup"])  # same folder: a rename
        _checkpoint("backed_up")
        parents: set[Path] = set()
        for m in moves:
            final = out_dir / m["final"]
            final.parent.mkdir(parents=True, exist_ok=True)
            _place(out_dir / m["staged"], final)
            parents.add(final.parent)
            _checkpoint("placed")
        for p in parents:
            _fsync_dir(p)
        outputs = [{"path": s.rel, "product": s.product, "sha256": s.sha256, "size": s.size} for s in staged]
        entry.outputs = outputs
        ledger.finish_commit(commit_id, entry)
    except BaseException as exc:
        _roll_back(out_dir, plan)
        ledger.forget_commit(commit_id)
        shutil.rmtree(commit_dir, ignore_errors=True)
        if isinstance(exc, OSError):
            raise os_error(exc, None, "committing") from exc
        raise
    _checkpoint("recorded")
    _remove_backups(out_dir, plan)
    shutil.rmtree(commit_dir, ignore_errors=True)
    ledger.forget_commit(commit_id)
    _checkpoint("cleaned")
    return outputs


#: Prefix of the backups a commit keeps beside the files it replaces until its commit point.
BACKUP_PREFIX = ".magfw-old-"


def _backup_name(rel: str, tag: str) -> str:
    """Where a file the commit replaces waits: beside it (same folder, same file system, so
    moving it there is always a rename), hidden, named for the commit."""
    folder, _, name = rel.rpartition("/")
    backup = f"{BACKUP_PREFIX}{tag}-{name}"
    return f"{folder}/{backup}" if folder else backup


def _place(staged: Path, final: Path) -> None:
    """Move a staged file to its final path: a rename, or, when the product folder is on
    another file system (a folder mounted or linked elsewhere), a copy into a temporary
    beside the final path, then a rename there."""
    try:
        os.replace(staged, final)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        from magfw.io.atomic import atomic_path

        with atomic_path(final) as tmp:
            shutil.copyfile(staged, tmp)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        staged.unlink()


def _remove_backups(out_dir: Path, plan: dict[str, Any]) -> None:
    for item in [*plan["moves"], *plan["retire"]]:
        with contextlib.suppress(FileNotFoundError):
            (out_dir / item["backup"]).unlink()


def _roll_back(out_dir: Path, plan: dict[str, Any]) -> None:
    """Undo the moves of a commit that did not reach its commit point."""
    for item in reversed([*plan["moves"], *plan["retire"]]):
        final, backup = out_dir / item["final"], out_dir / item["backup"]
        try:
            if backup.exists():
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(backup, final)
            elif (
                "sha256" in item
                and final.exists()
                and final.stat().st_size == item["size"]
                and not (out_dir / item["staged"]).exists()
            ):
                final.unlink()  # placed by this commit, with nothing before it
        except OSError as exc:  # leave it for the next recovery; say where
            log.error("rollback of %s: %s", final, exc)


def recover(out_dir: Path, ledger: Ledger, unit: str | None = None) -> list[str]:
    """Roll back or forward the commits of dead runs; return a line for each, for the log.

    With ``unit``, the caller holds that unit's lock and only its commits are recovered.
    Without, every dead run's commit whose unit lock can be taken is recovered (a unit held by
    a live run is left to it), then staging folders of dead runs without journalled commits
    are removed. Commits of live runs are never touched.
    """
    out_dir = Path(out_dir)
    done: list[str] = []
    for c in ledger.commits():
        if unit is not None and c.unit != unit:
            continue
        if owner_alive(out_dir / Path(c.id).parent):
            continue
        if unit is not None:
            done.append(_recover_one(out_dir, ledger, c))
            continue
        lock = UnitLock(out_dir, c.unit)
        if lock.acquire(wait=False):
            try:
                done.append(_recover_one(out_dir, ledger, c))
            finally:
                lock.release()
    if unit is None:
        keep = {Path(c.id).parts[-2] for c in ledger.commits()}
        clean_dead_staging(out_dir, keep)
        # downloads and simulations interrupted by a kill leave temporaries in the cache
        clean_stale_temporaries(state_dir(out_dir))
    return done


def _recover_one(out_dir: Path, ledger: Ledger, c: PendingCommit) -> str:
    if c.state == "done":
        _remove_backups(out_dir, c.plan)
        what = f"commit of {c.unit} completed (backups removed)"
    else:
        _roll_back(out_dir, c.plan)
        what = f"interrupted commit of {c.unit} rolled back"
    shutil.rmtree(out_dir / c.id, ignore_errors=True)
    ledger.forget_commit(c.id)
    log.warning("recovery: %s", what)
    return what

"""Who may write what in an output tree: unit locks and staging folders owned by live runs.

Several runs may work in one output tree at once (a month's ``stereo merge`` while ``magfw
run`` processes another month). What keeps them apart:

- **Unit locks**: a run holds an OS lock (``flock``) on ``.magfw/locks/<unit>.lock`` from the
  moment it decides what to do with a unit until that unit is committed. A second run that
  wants the same unit waits for it, then finds it done in the ledger. An OS lock is released
  when its process dies, however it dies.
- **Run staging**: each run writes its files under ``.magfw/staging/<run>/`` and holds an OS
  lock on ``.magfw/staging/<run>/.owner`` while it lives. Clean-up removes only folders
  whose owner lock can be taken, i.e. whose run is dead.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from magfw.config import state_dir

log = logging.getLogger("magfw.engine.locks")

OWNER = ".owner"
#: A staging folder without an owner file is left alone this long (it may be being created).
YOUNG_S = 60.0


def _try_lock(fh: IO[str]) -> bool:
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class UnitLock:
    """An exclusive OS lock on one unit of an output tree (see the module notes)."""

    def __init__(self, out_dir: Path, unit_id: str) -> None:
        self.unit_id = unit_id
        digest = hashlib.sha1(unit_id.encode()).hexdigest()[:20]
        self.path = state_dir(out_dir) / "locks" / f"{digest}.lock"
        self._fh: IO[str] | None = None

    def acquire(self, wait: bool = True) -> bool:
        """Take the lock (waiting for another run if ``wait``); False if not taken."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")  # noqa: SIM115 - held until release()
        if not _try_lock(fh):
            if not wait:
                fh.close()
                return False
            log.info(
                "unit %s is being processed by another run (%s): waiting",
                self.unit_id,
                self.holder() or "unknown",
            )
            fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()} {self.unit_id}\n")
        fh.flush()
        self._fh = fh
        return True

    def holder(self) -> str:
        """What the lock file says about its holder (pid and unit), for messages."""
        try:
            return self.path.read_text().strip()
        except OSError:
            return ""

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> UnitLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def staging_root(out_dir: Path) -> Path:
    return state_dir(out_dir) / "staging"


class RunStage:
    """This run's staging folder, owned (OS lock) for as long as the run lives."""

    def __init__(self, out_dir: Path) -> None:
        self.run_id = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.dir = staging_root(out_dir) / self.run_id
        self.dir.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] | None = open(self.dir / OWNER, "a+")  # noqa: SIM115
        fcntl.flock(self._fh, fcntl.LOCK_EX)
        self._fh.write(f"{os.getpid()}\n")
        self._fh.flush()

    def close(self) -> None:
        """Remove the folder (whatever is left in it is uncommitted) and release it."""
        shutil.rmtree(self.dir, ignore_errors=True)
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> RunStage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def owner_alive(stage_dir: Path) -> bool:
    """Whether the run owning staging folder ``stage_dir`` is alive (holds its owner lock).

    A folder without an owner file counts as alive while it is young (being created)."""
    owner = stage_dir / OWNER
    try:
        fh = open(owner)  # noqa: SIM115
    except FileNotFoundError:
        try:
            return time.time() - stage_dir.stat().st_mtime < YOUNG_S
        except FileNotFoundError:
            return False
    with fh:
        if _try_lock(fh):
            fcntl.flock(fh, fcntl.LOCK_UN)
            return False
        return True


def clean_dead_staging(out_dir: Path, keep: set[str] | None = None) -> int:
    """Remove staging folders whose run is dead (never a live run's); return how many.

    ``keep`` names run folders to leave (those with journalled commits not yet recovered)."""
    root = staging_root(out_dir)
    n = 0
    if not root.is_dir():
        return 0
    for d in root.iterdir():
        if not d.is_dir() or d.name in (keep or set()) or owner_alive(d):
            continue
        shutil.rmtree(d, ignore_errors=True)
        n += 1
    return n


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive OS lock on ``path`` for the duration (waits for other holders)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)

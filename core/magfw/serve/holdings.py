"""What the output tree holds, as the ledger records it: the only way a request reaches a file.

:class:`Holdings` keeps an index of the ledger (every unit's latest run and latest successful
run, with its outputs), caught up with :meth:`~magfw.engine.ledger.Ledger.runs_after` before each
request (three indexed queries, nothing read when nothing changed). A dataset's files are the
outputs of its units' latest successful runs, so only products whose commit completed are
served, and only the newest version of each unit's (an older version a regeneration left in
the tree is no longer an output of the unit's latest run). File paths come from the ledger,
never from a URL: a request names a dataset and a time range, or a relative path that must
be exactly one of the recorded outputs.

Consistency while a run commits into the same tree: a commit moves a unit's files into place
(the previous version is briefly absent or already replaced) and records the run only then.
:func:`verified` therefore opens a file, checks its size and SHA-256 against the ledger's
record through the open descriptor (a verified inode is remembered, so a file is hashed once)
and, after the reader has opened it by name, that the name still points to that inode; on a
mismatch the caller catches up with the ledger and tries again, so what is served is always
a complete file the ledger lists.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import BinaryIO, TypeVar

from magfw.engine.ledger import LedgerEntry
from magfw.errors import MagfwError
from magfw.serve.datasets import Dataset
from magfw.serve.ledger import ledger_error, open_ledger

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class UnitKey:
    """A ledger unit id split into its parts, with the UTC days it covers (inclusive)."""

    unit: str
    mission: str
    level: str
    spacecraft: str  #: "-" for none
    key: str
    start: date
    end: date

    @classmethod
    def parse(cls, unit: str) -> UnitKey | None:
        parts = unit.rsplit("/", 3)
        if len(parts) != 4:
            return None
        mission, level, sc, key = parts
        try:
            if len(key) == 10:
                start = end = date.fromisoformat(key)
            elif len(key) == 7:
                start = date(int(key[:4]), int(key[5:7]), 1)
                end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            elif len(key) == 4:
                start, end = date(int(key), 1, 1), date(int(key), 12, 31)
            else:
                return None
        except ValueError:
            return None
        return cls(unit=unit, mission=mission, level=level, spacecraft=sc, key=key, start=start, end=end)


@dataclass(frozen=True)
class FileRef:
    """A recorded output file: path relative to the tree, SHA-256, size."""

    rel: str
    sha256: str
    size: int


@dataclass(frozen=True, kw_only=True)
class ProductFile:
    """One product of a dataset in a unit: its file(s) (a flat file is .ffh + .ffd)."""

    unit: UnitKey
    main: FileRef
    companions: tuple[FileRef, ...]
    run_id: int
    committed: float  #: UNIX seconds the run ended (its commit)
    product_version: int | None
    simulated: bool

    @property
    def files(self) -> tuple[FileRef, ...]:
        return (self.main, *self.companions)


@dataclass(kw_only=True)
class _State:
    last_id: int = 0
    latest: dict[str, LedgerEntry] = field(default_factory=dict)
    current: dict[str, LedgerEntry] = field(default_factory=dict)
    keys: dict[str, UnitKey] = field(default_factory=dict)
    by_level: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)
    outputs: dict[str, tuple[FileRef, str, str]] = field(default_factory=dict)  # rel -> (ref, unit, product)
    runs: dict[str, list[LedgerEntry]] = field(default_factory=dict)


class Holdings:
    """The ledger of the tree ``out_dir`` as an index (thread-safe; see the module notes)."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir).resolve()
        self.ledger = open_ledger(self.out_dir)
        self._lock = threading.Lock()
        self._state = _State()
        self._verified: dict[tuple[str, int, int, int, int], str] = {}
        try:
            self.refresh()
        except sqlite3.Error as exc:
            raise ledger_error(self.out_dir, exc) from exc

    # -- the index -------------------------------------------------------------------------

    def refresh(self) -> int:
        """Catch up with the runs recorded since the last look; return the last run id."""
        with self._lock:
            st = self._state
            for e in self.ledger.runs_after(st.last_id):
                assert e.id is not None
                st.last_id = max(st.last_id, e.id)
                key = st.keys.get(e.unit) or UnitKey.parse(e.unit)
                if key is None:
                    continue
                if e.unit not in st.keys:
                    st.keys[e.unit] = key
                    bucket = st.by_level.setdefault((key.mission, key.level, key.spacecraft), [])
                    bucket.append(e.unit)
                    bucket.sort(key=lambda u: st.keys[u].start)
                st.latest[e.unit] = e
                slim = LedgerEntry(
                    unit=e.unit,
                    status=e.status,
                    versions={},
                    inputs=[i for i in e.inputs if i["role"] == "calibration"],
                    outputs=[],
                    product_version=e.product_version,
                    reason=e.reason,
                    error=e.error,
                    started=e.started,
                    duration_s=e.duration_s,
                    simulated=e.simulated,
                    message=e.message,
                    id=e.id,
                )
                st.runs.setdefault(e.unit, []).append(slim)
                if e.status == "ok":
                    old = st.current.get(e.unit)
                    if old is not None:
                        for o in old.outputs:
                            st.outputs.pop(o["path"], None)
                    st.current[e.unit] = e
                    for o in e.outputs:
                        st.outputs[o["path"]] = (
                            FileRef(o["path"], o["sha256"], int(o["size"])),
                            e.unit,
                            o["product"],
                        )
            return st.last_id

    @property
    def last_id(self) -> int:
        return self._state.last_id

    def units(self, mission: str, level: str, spacecraft: str | None) -> list[UnitKey]:
        """The units of ``mission level spacecraft`` the ledger knows, by start day."""
        st = self._state
        with self._lock:
            return [st.keys[u] for u in st.by_level.get((mission, level, spacecraft or "-"), [])]

    def latest(self, unit: str) -> LedgerEntry | None:
        """The unit's latest run, whatever its status."""
        return self._state.latest.get(unit)

    def current(self, unit: str) -> LedgerEntry | None:
        """The unit's latest successful run (what the tree holds)."""
        return self._state.current.get(unit)

    def runs(self, unit: str) -> list[LedgerEntry]:
        """Every run of the unit, oldest first (calibration inputs only, no outputs)."""
        with self._lock:
            return list(self._state.runs.get(unit, []))

    def recorded(self, rel: str) -> tuple[FileRef, str, str] | None:
        """(file, unit, product id) if ``rel`` is an output of a unit's latest successful run."""
        return self._state.outputs.get(rel)

    def missions_with_units(self) -> list[str]:
        with self._lock:
            return sorted({k[0] for k in self._state.by_level})

    # -- datasets --------------------------------------------------------------------------

    def unit_products(self, ds: Dataset, unit: UnitKey) -> list[ProductFile]:
        """The dataset's files in the unit's latest successful run, ordered by path."""
        e = self.current(unit.unit)
        if e is None:
            return []
        fn = ds.definition.filename
        given = ds.fields
        paths = {o["path"]: o for o in e.outputs if o["product"] == ds.definition.id}
        out: list[ProductFile] = []
        for rel, o in sorted(paths.items()):
            fields = fn.parse(rel)
            if fields is None or any(str(fields.get(k)) != v for k, v in given.items()):
                continue
            companions: list[FileRef] = []
            if ds.definition.format == "flatfile":
                ffd = paths.get(rel[:-4] + ".ffd")
                if ffd is None:
                    continue
                companions.append(FileRef(ffd["path"], ffd["sha256"], int(ffd["size"])))
            out.append(
                ProductFile(
                    unit=unit,
                    main=FileRef(rel, o["sha256"], int(o["size"])),
                    companions=tuple(companions),
                    run_id=int(e.id or 0),
                    committed=e.started + e.duration_s,
                    product_version=e.product_version,
                    simulated=e.simulated,
                )
            )
        return out

    def dataset_units(
        self, ds: Dataset, first: date | None = None, last: date | None = None
    ) -> Iterator[tuple[UnitKey, list[ProductFile]]]:
        """Units (overlapping [first, last] when given) with the dataset's files, in order."""
        for level in ds.levels:
            for unit in self.units(ds.mission, level, ds.spacecraft):
                if (first is not None and unit.end < first) or (last is not None and unit.start > last):
                    continue
                files = self.unit_products(ds, unit)
                if files:
                    yield unit, files

    def has_products(self, ds: Dataset) -> bool:
        """Whether any unit's latest successful run wrote a file of the dataset."""
        return next(self.dataset_units(ds), None) is not None

    def currents(self) -> list[LedgerEntry]:
        """Every unit's latest successful run."""
        with self._lock:
            return list(self._state.current.values())

    def coverage(self, ds: Dataset) -> tuple[date, date, float, bool] | None:
        """(first day, last day, last commit time, any simulated) of the dataset's holdings."""
        first: date | None = None
        last: date | None = None
        committed, simulated = 0.0, False
        for unit, files in self.dataset_units(ds):
            first = unit.start if first is None else min(first, unit.start)
            last = unit.end if last is None else max(last, unit.end)
            committed = max([committed, *(f.committed for f in files)])
            simulated = simulated or any(f.simulated for f in files)
        if first is None or last is None:
            return None
        return first, last, committed, simulated

    # -- reading consistently --------------------------------------------------------------

    def path(self, ref: FileRef) -> Path:
        """The file's path in the tree (from the ledger's record, checked to stay inside)."""
        p = (self.out_dir / ref.rel).resolve()
        if self.out_dir not in p.parents:
            raise MagfwError(ref.rel, "recorded path leaves the output tree")
        return p

    def _verify(self, ref: FileRef) -> tuple[int, int] | None:
        """(device, inode) of the file if its content is the recorded one, else None."""
        try:
            fd = os.open(self.path(ref), os.O_RDONLY)
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if st.st_size != ref.size:
                return None
            key = (ref.rel, st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
            if self._verified.get(key) != ref.sha256:
                h = hashlib.sha256()
                with os.fdopen(os.dup(fd), "rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        h.update(chunk)
                if h.hexdigest() != ref.sha256:
                    return None
                if len(self._verified) > 100_000:
                    self._verified.clear()
                self._verified[key] = ref.sha256
            return st.st_dev, st.st_ino
        finally:
            os.close(fd)

    def read_verified(self, refs: tuple[FileRef, ...], reader: Callable[[], T]) -> T | None:
        """``reader()`` if every file of ``refs`` holds what the ledger recorded before and
        still is the same file after; None otherwise (the caller refreshes and retries)."""
        inodes = [self._verify(r) for r in refs]
        if any(i is None for i in inodes):
            return None
        result = reader()
        for ref, inode in zip(refs, inodes, strict=True):
            try:
                st = os.stat(self.path(ref))
            except OSError:
                st = None
            if st is None or (st.st_dev, st.st_ino) != inode:
                close = getattr(result, "close", None)
                if callable(close):  # an opened file that turned out stale is let go
                    close()
                return None
        return result

    def open_verified(
        self,
        ds: Dataset,
        product: ProductFile,
        opener: Callable[[ProductFile, Path], T],
        timeout_s: float = 10.0,
    ) -> T | None:
        """``opener(product, path)`` once every file of the product holds what the ledger
        recorded, checked again after it returned: what it keeps open (or read) is that
        content, whatever a commit renames meanwhile (module notes). A newer commit that
        replaced the product gives the newer one; None if the unit no longer has one; a file
        that stays unlike its record is a :class:`MagfwError`."""
        deadline = time.monotonic() + timeout_s
        pause = 0.02
        current: ProductFile | None = product
        while current is not None:
            chosen = current
            main = self.path(chosen.main)

            def run(path: Path = main, pf: ProductFile = chosen) -> T:
                return opener(pf, path)

            got = self.read_verified(chosen.files, run)
            if got is not None:
                return got
            if time.monotonic() > deadline:
                raise MagfwError(
                    chosen.main.rel,
                    "does not match its ledger record (size or SHA-256): changed outside magfw?",
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.5)
            self.refresh()
            current = next(
                (p for p in self.unit_products(ds, product.unit) if p.main.rel == product.main.rel), None
            )
            if current is None:  # the commit retired or renamed it: the newer files are used
                newer = self.unit_products(ds, product.unit)
                if newer and newer[0].main.rel != product.main.rel:
                    current = newer[0]
        return None

    def open_recorded(self, rel: str, timeout_s: float = 10.0) -> tuple[FileRef, BinaryIO] | None:
        """A recorded output opened for reading, its content checked against the ledger (the
        open file is the verified inode whatever a commit renames meanwhile); None if ``rel``
        is not an output of a unit's latest successful run."""
        deadline = time.monotonic() + timeout_s
        while True:
            self.refresh()
            rec = self.recorded(rel)
            if rec is None:
                return None
            ref = rec[0]
            inode = self._verify(ref)
            if inode is not None:
                try:
                    fh = open(self.path(ref), "rb")  # noqa: SIM115 (returned open)
                except OSError:
                    fh = None
                if fh is not None:
                    st = os.fstat(fh.fileno())
                    if (st.st_dev, st.st_ino) == inode:
                        return ref, fh
                    fh.close()
            if time.monotonic() > deadline:
                raise MagfwError(rel, "does not match its ledger record (size or SHA-256)")
            time.sleep(0.05)

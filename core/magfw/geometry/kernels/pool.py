"""The SPICE kernel pool, owned for one unit of work.

The pool is global state of the process. :func:`kernel_pool` owns it for the time of one
unit: it loads magfw's generic kernels and the unit's own, answers ``provenance()`` for
product metadata, and clears the pool on exit, also after an exception. A process-wide lock
makes concurrent use from threads serialise (a second thread waits) and nested use in one
thread fail loudly. Process pools and Dask workers have their own SPICE state: each worker
opens its own ``kernel_pool`` per unit (a forked child starts unlocked and empty)."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import spiceypy as sp
from numpy.typing import NDArray

from magfw.errors import KernelError
from magfw.geometry.kernels.files import RTN_FRAME_ID0, KernelFile, Kind, _as_kernel, generic_kernels
from magfw.geometry.kernels.selection import _ck_windows, _merge_windows, _spk_windows, body_code
from magfw.geometry.kernels.spice_errors import spice_error_text
from magfw.geometry.kernels.writers import fk_lines, rtn_frame_definition

_LOCK = threading.Lock()
_OWNER: list[int | None] = [None]  # thread ident holding the SPICE pool
_ACTIVE: list[KernelPool | None] = [None]


def _after_fork_in_child() -> None:
    """A forked child gets a fresh lock and an empty SPICE pool (its parent's state is void)."""
    global _LOCK
    _LOCK = threading.Lock()
    _OWNER[0] = None
    _ACTIVE[0] = None
    with contextlib.suppress(Exception):
        sp.kclear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@dataclass(kw_only=True)
class KernelPool:
    """The kernels loaded for one unit of work, in load order, and caches tied to them."""

    files: list[KernelFile]
    _windows: dict[tuple[str, int], NDArray[np.float64]] = field(default_factory=dict)
    _rtn: dict[int, str] = field(default_factory=dict)
    _objects: dict[tuple[str, Path], frozenset[int]] = field(default_factory=dict)
    cache: dict[Any, Any] = field(default_factory=dict)

    def provenance(self) -> list[dict[str, str]]:
        """Every loaded kernel as ``{"name", "sha256", "kind"}``, in load order."""
        return [{"name": k.name, "sha256": k.sha256, "kind": k.kind} for k in self.files]

    def kernels(self, kind: Kind | None = None) -> list[KernelFile]:
        """Loaded kernels, optionally of one kind."""
        return [k for k in self.files if kind is None or k.kind == kind]

    def load(self, more: Iterable[str | os.PathLike[str] | KernelFile]) -> list[KernelFile]:
        """Load further kernels into the active pool (after the ones already there)."""
        _check_owner("KernelPool.load")
        added = [_as_kernel(m) for m in more]
        for k in added:
            _furnsh(k)
        self.files += added
        self._windows.clear()
        self.cache.clear()
        return added

    def windows(self, code: int, kind: Literal["spk", "ck"]) -> NDArray[np.float64]:
        """Merged coverage of ``code`` over the loaded SPKs or CKs (CK: interpolation
        intervals), as an (M, 2) array of ET [start, end]."""
        key = (kind, int(code))
        if key not in self._windows:
            reader = _spk_windows if kind == "spk" else _ck_windows
            parts = [w for k in self.kernels(kind) for w in reader(k.path, [code]).values()]
            self._windows[key] = _merge_windows(np.concatenate(parts)) if parts else np.empty((0, 2))
        return self._windows[key]

    def files_with(self, code: int, kind: Literal["spk", "ck"]) -> list[str]:
        """Names of loaded SPKs or CKs that hold data for ``code``."""
        obj = sp.spkobj if kind == "spk" else sp.ckobj
        names = []
        for k in self.kernels(kind):
            key = (kind, k.path)
            if key not in self._objects:
                self._objects[key] = frozenset(int(x) for x in obj(str(k.path)))
            if int(code) in self._objects[key]:
                names.append(k.name)
        return names

    def rtn_frame(self, observer: str | int) -> str:
        """Name of the heliographic RTN frame of ``observer``, defined in the pool on first use
        (the STAHGRTN definition of stereo_rtn.tf with the observer as target)."""
        code = body_code(observer)
        if code not in self._rtn:
            name = f"MAGFW_RTN_{'M' if code < 0 else 'P'}{abs(code)}"
            frame_id = RTN_FRAME_ID0 + len(self._rtn)
            sp.lmpool(fk_lines(rtn_frame_definition(name, frame_id, code)))
            self._rtn[code] = name
        return self._rtn[code]


def _furnsh(k: KernelFile) -> None:
    try:
        sp.furnsh(str(k.path))
    except sp.utils.exceptions.SpiceyError as exc:
        raise KernelError(k.path, f"{k.kind.upper()} cannot be loaded: {spice_error_text(exc)}") from exc


def _check_owner(where: str) -> KernelPool:
    pool = _ACTIVE[0]
    if pool is None or _OWNER[0] != threading.get_ident():
        raise KernelError(
            where,
            "no kernel pool is active in this thread: wrap the call in "
            "`with magfw.geometry.kernels.kernel_pool(...)`",
        )
    return pool


def active_pool() -> KernelPool | None:
    """The kernel pool active in the calling thread, or None."""
    return _ACTIVE[0] if _OWNER[0] == threading.get_ident() else None


def require_pool(where: str = "magfw.geometry.frames") -> KernelPool:
    """The calling thread's active pool; KernelError when there is none."""
    return _check_owner(where)


@contextlib.contextmanager
def _locked(timeout: float | None) -> Iterator[None]:
    me = threading.get_ident()
    if _OWNER[0] == me:
        raise KernelError(
            "kernel_pool", "nested use in one thread: the SPICE kernel pool is already held by this thread"
        )
    if not _LOCK.acquire(timeout=-1 if timeout is None else timeout):
        raise KernelError("kernel_pool", f"SPICE kernel pool still held by another thread after {timeout} s")
    _OWNER[0] = me
    try:
        yield
    finally:
        _OWNER[0] = None
        _ACTIVE[0] = None
        _LOCK.release()


@contextlib.contextmanager
def kernel_pool(
    kernels: Iterable[str | os.PathLike[str] | KernelFile] = (),
    *,
    generic: bool = True,
    timeout: float | None = None,
    clear_foreign: bool = False,
) -> Iterator[KernelPool]:
    """Load magfw's generic kernels (unless ``generic=False``) and ``kernels`` in that order;
    yield the :class:`KernelPool`; clear the SPICE pool on exit, also after an exception.

    Another thread entering meanwhile waits (up to ``timeout`` s, then KernelError); the same
    thread entering again raises KernelError at once. Kernels loaded outside magfw make entry
    fail, unless ``clear_foreign`` allows clearing them.
    """
    with _locked(timeout):
        foreign = sp.ktotal("ALL")
        if foreign and not clear_foreign:
            raise KernelError(
                "kernel_pool",
                f"{foreign} SPICE kernel(s) were loaded outside "
                "magfw; unload them or pass clear_foreign=True",
            )
        sp.kclear()
        try:
            kfs = (generic_kernels() if generic else []) + [_as_kernel(k) for k in kernels]
            for k in kfs:
                _furnsh(k)
            pool = KernelPool(files=kfs)
            _ACTIVE[0] = pool
            yield pool
        finally:
            sp.kclear()


@contextlib.contextmanager
def _spice_session(extra: Sequence[KernelFile]) -> Iterator[None]:
    """Make ``extra`` (plus the LSK) available for a short SPICE computation.

    Inside an active pool of this thread, kernels not yet loaded are added and unloaded
    afterwards; otherwise a private pool is taken under the lock and cleared afterwards.
    """
    if active_pool() is not None:
        loaded = {str(Path(sp.kdata(i, "ALL")[0]).resolve()) for i in range(sp.ktotal("ALL"))}
        new = [k for k in extra if str(k.path) not in loaded]
        for k in new:
            _furnsh(k)
        try:
            yield
        finally:
            for k in new:
                sp.unload(str(k.path))
    else:
        with kernel_pool(list(extra), generic=True):
            yield

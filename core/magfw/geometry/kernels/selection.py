"""Choosing the kernels of a unit: coverage windows of SPKs and CKs, and the newest kernel of
each series that covers a time span."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import spiceypy as sp
from numpy.typing import NDArray

from magfw.errors import KernelError
from magfw.geometry.kernels.files import (
    _LOAD_ORDER,
    DEFAULT_PREDICTIVE_PATTERN,
    DEFAULT_VERSION_PATTERN,
    KernelFile,
    _as_kernel,
)
from magfw.geometry.kernels.spice_errors import SpiceyError, spice_error_text


def kernel_series(
    name: str, version_pattern: str | re.Pattern[str] = DEFAULT_VERSION_PATTERN
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
    return stem[: m.start()] + "_*" + stem[m.end() :] + dot + rest, v


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


def _covers(windows: list[NDArray[np.float64]], start: float, end: float) -> bool:
    """Whether the union of ``windows`` covers [start, end] without a gap."""
    if not windows:
        return False
    merged = _merge_windows(np.concatenate(windows))
    return bool(np.any((merged[:, 0] <= start) & (merged[:, 1] >= end)))


def body_code(body: str | int) -> int:
    """NAIF ID code of a body given by name or code (KernelError when unknown)."""
    if isinstance(body, (int, np.integer)):
        return int(body)
    code = sp.bods2c(str(body)) if _name_known(str(body)) else None
    if code is None:
        raise KernelError(
            str(body), "unknown body name (not built into SPICE and not defined by a loaded kernel)"
        )
    return int(code)


def _name_known(name: str) -> bool:
    try:
        sp.bods2c(name)
        return True
    except sp.utils.exceptions.NotFoundError:
        return False


def _newest_per_series(kfs: list[KernelFile], version_pattern: str | re.Pattern[str]) -> list[KernelFile]:
    """The highest version of each series (same kind, same name apart from the version)."""
    best: dict[tuple[str, str], tuple[int, KernelFile]] = {}
    for k in kfs:
        series, version = kernel_series(k.name, version_pattern)
        key = (k.kind, series)
        if key not in best or version > best[key][0]:
            best[key] = (version, k)
    return [k for _, k in best.values()]


@dataclass(kw_only=True)
class _Coverage:
    """What the readable SPKs and CKs of a selection hold: the kept kernels, the kernels SPICE
    could not read (with what it said) and, per (kind, object), the coverage windows."""

    start: float
    end: float
    keep: list[KernelFile] = field(default_factory=list)
    unreadable: list[tuple[KernelFile, str]] = field(default_factory=list)
    windows: dict[tuple[str, int], list[NDArray[np.float64]]] = field(default_factory=dict)

    def consider(self, k: KernelFile, read: Any, ids: set[int] | None) -> None:
        """Keep ``k`` when its windows for ``ids`` overlap the span; note it if unreadable."""
        try:
            windows = read(k.path, ids)
        except SpiceyError as exc:
            self.unreadable.append((k, spice_error_text(exc)))
            return
        if any(bool(np.any((w[:, 0] <= self.end) & (w[:, 1] >= self.start))) for w in windows.values()):
            self.keep.append(k)
            for code, w in windows.items():
                self.windows.setdefault((k.kind, code), []).append(w)

    def complete(self, kind: str, wanted: set[int] | None, span: tuple[float, float]) -> bool:
        """Whether the readable kernels of ``kind`` cover ``span`` for every wanted object."""
        return bool(wanted) and all(
            _covers(self.windows.get((kind, code), []), span[0], span[1]) for code in wanted or ()
        )


def _load_order(version_pattern: str | re.Pattern[str], predictive_pattern: str | re.Pattern[str]) -> Any:
    """Sort key of the load order: kind, then predictive before definitive, series, version."""
    pred = (
        re.compile(predictive_pattern, re.IGNORECASE)
        if isinstance(predictive_pattern, str)
        else predictive_pattern
    )

    def order(k: KernelFile) -> tuple[int, int, str, int]:
        series, version = kernel_series(k.name, version_pattern)
        return (_LOAD_ORDER[k.kind], 0 if pred.search(k.name) else 1, series, version)

    return order


def _read_coverage(
    chosen: list[KernelFile], wanted: dict[str, set[int] | None], start: float, end: float
) -> _Coverage:
    """The coverage of the chosen SPKs and CKs (CKs read with the SCLKs and FKs loaded); the
    other kinds are kept as they are."""
    from magfw.geometry.kernels.pool import _spice_session  # (pool imports this module)

    cov = _Coverage(start=start, end=end)
    cov.keep += [k for k in chosen if k.kind not in ("spk", "ck")]
    for k in chosen:
        if k.kind == "spk":
            cov.consider(k, _spk_windows, wanted["spk"])
    cks = [k for k in chosen if k.kind == "ck"]
    if cks:
        with _spice_session([k for k in chosen if k.kind in ("sclk", "fk")]):
            for k in cks:
                cov.consider(k, _ck_windows, wanted["ck"])
    return cov


def select_kernels(
    candidates: Sequence[str | os.PathLike[str] | KernelFile],
    start_et: float,
    end_et: float,
    *,
    bodies: Iterable[str | int] = (),
    ck_ids: Iterable[int] = (),
    required: tuple[float, float] | None = None,
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

    A candidate SPICE cannot read (a damaged file, a CK whose SCLK is missing) is left out
    when the readable kernels cover ``required`` (ET [start, end]; default the whole span)
    for the wanted objects without it; otherwise a :class:`KernelError` names that file and
    what SPICE said, in one line. So a damaged kernel fails only the units that need it: a
    day whose own kernels cover it is not failed by a neighbour's damaged kernel that would
    only have added the margin around it (``required`` = the day, the span = the day and
    its margin).
    """
    chosen = _newest_per_series([_as_kernel(c) for c in candidates], version_pattern)
    wanted = {"spk": {body_code(b) for b in bodies} or None, "ck": {int(i) for i in ck_ids} or None}
    cov = _read_coverage(chosen, wanted, start_et, end_et)
    span = required if required is not None else (start_et, end_et)
    for k, why in cov.unreadable:
        if not cov.complete(k.kind, wanted[k.kind], span):
            hint = " (no SCLK kernel for it?)" if k.kind == "ck" and "SCLK" in why.upper() else ""
            raise KernelError(k.path, f"SPICE cannot read this {k.kind.upper()}{hint}: {why}")
    return sorted(cov.keep, key=_load_order(version_pattern, predictive_pattern))

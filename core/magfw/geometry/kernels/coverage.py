"""Coverage checks: which samples a loaded SPK or CK covers, and one line naming the first
gap when it does not."""

from __future__ import annotations

import contextlib
from typing import Literal

import numpy as np
import spiceypy as sp
from numpy.typing import ArrayLike, NDArray

from magfw.errors import KernelError
from magfw.geometry.kernels.pool import KernelPool
from magfw.geometry.kernels.selection import body_code
from magfw.geometry.time import tt2000_to_et, tt2000_to_iso


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


def all_covered(windows: NDArray[np.float64], et: NDArray[np.float64]) -> bool:
    """Whether every time of ``et`` lies inside one of the (M, 2) [start, end] windows, as
    ``covered_mask(windows, et).all()``; for sorted ``et`` found from the gaps between the
    windows (a few binary searches, not one per sample)."""
    if et.size == 0:
        return True
    if windows.size == 0:
        return False
    if not np.all(et[1:] >= et[:-1]):
        return bool(covered_mask(windows, et).all())
    w = windows[np.argsort(windows[:, 0], kind="stable")]
    ends = np.maximum.accumulate(w[:, 1])  # the union's end so far
    gap = w[1:, 0] > ends[:-1]  # a gap between the union so far and the next window
    lo = np.r_[-np.inf, ends[:-1][gap], ends[-1]]  # uncovered: lo < t < hi
    hi = np.r_[w[0, 0], w[1:, 0][gap], np.inf]
    inside = np.searchsorted(et, hi, side="left") - np.searchsorted(et, lo, side="right")
    return not bool(np.any(inside > 0))


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

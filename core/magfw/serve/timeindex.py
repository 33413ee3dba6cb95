"""What a product file's times are, learnt once per file: the index a request is located with.

:class:`FileTimes` holds a file's record count, its first and last valid times (a dataset's
``startDate``/``stopDate`` and sample window come from them), the median step of its first
records (a cadence for datasets whose definition gives none), whether every time is valid and
strictly increasing (``clean``, as magfw writes products) and, for a clean file, the time of
every :data:`STRIDE`-th record. With those, the records of a time range are found by reading
at most a stride of times at each end (:func:`first_at_or_after`); nothing else of the file is
read to locate a request.

It is built in one pass over the time variable, chunk by chunk (:func:`scan`), which also
writes the times of a clean file as the fixed-width text the data stream sends (27 or 30
bytes a record, :class:`~magfw.serve.timefmt.TimeWriter`): the stream then copies a record
range of that text instead of converting and formatting the times again. Both are cached by
the file's SHA-256 in ``.magfw/serve/times/`` (:mod:`magfw.serve.cache`) and in memory (the
index only: a few KiB even for a month of 8 Hz records).
"""

from __future__ import annotations

import io
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from magfw.serve.cache import Cache
from magfw.serve.records import Records
from magfw.serve.timefmt import TimeWriter

#: Records between two sampled times of the index.
STRIDE = 8192
_MEMORY_ENTRIES = 20_000


@dataclass(frozen=True, kw_only=True)
class FileTimes:
    """The times of one product file (module notes); TT2000 ns."""

    n: int  #: records in the file
    valid: int  #: records with a valid time
    first: int | None  #: first (smallest) valid time
    last: int | None  #: last (largest) valid time
    step_ns: int  #: median step of the first records (0: fewer than two)
    clean: bool  #: every time valid and strictly increasing
    samples: npt.NDArray[np.int64]  #: times of records 0, STRIDE, 2 STRIDE... (clean files)
    text: Path | None = None  #: the cached time text (clean files, when the cache is writable)

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        head = [self.n, self.valid, self.first or 0, self.last or 0, self.step_ns, int(self.clean)]
        head.append(int(self.first is not None))
        np.savez(buf, head=np.array(head, dtype=np.int64), samples=self.samples)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, text: Path | None) -> FileTimes:
        with np.load(io.BytesIO(data)) as z:
            n, valid, first, last, step, clean, has = (int(v) for v in z["head"])
            samples = np.asarray(z["samples"], dtype=np.int64)
        return cls(
            n=n,
            valid=valid,
            first=first if has else None,
            last=last if has else None,
            step_ns=step,
            clean=bool(clean),
            samples=samples,
            text=text,
        )


def scan(records: Records, chunk: int, text_out: BinaryIO | None, digits: int) -> FileTimes:
    """Read the file's times chunk by chunk (``chunk`` a multiple of :data:`STRIDE`) into a
    :class:`FileTimes`, writing their text to ``text_out`` as it goes (useful only if the
    file turns out clean)."""
    n = records.n
    writer = TimeWriter(digits)
    valid, clean = 0, True
    first: int | None = None
    last: int | None = None
    prev: int | None = None
    step = 0
    samples: list[np.ndarray] = []
    for lo in range(0, n, chunk):
        tt, ok = records.times(lo, min(n, lo + chunk))
        valid += int(ok.sum())
        good = tt[ok]
        if good.size < tt.size or (good.size > 1 and bool((np.diff(good) <= 0).any())):
            clean = False
        if good.size:
            if prev is not None and good[0] <= prev:
                clean = False
            if first is None and good.size > 1:
                d = np.diff(good[:10_001])
                step = int(np.median(d[d > 0])) if (d > 0).any() else 0
            lo_t, hi_t = int(good.min()), int(good.max())
            first = lo_t if first is None else min(first, lo_t)
            last = hi_t if last is None else max(last, hi_t)
            prev = int(good[-1])
        samples.append(tt[::STRIDE])
        if text_out is not None and clean:
            text_out.write(writer.format(tt).tobytes())
    kept = np.concatenate(samples) if (samples and clean) else np.empty(0, dtype=np.int64)
    return FileTimes(
        n=n, valid=valid, first=first, last=last, step_ns=step, clean=clean, samples=kept.astype(np.int64)
    )


def first_at_or_after(ft: FileTimes, records: Records, t: int) -> int:
    """Index of the first record of a clean file whose time is >= ``t`` (``n`` if none),
    reading at most a stride of times."""
    j = int(np.searchsorted(ft.samples, t, side="left"))
    if j == 0:
        return 0
    lo, hi = (j - 1) * STRIDE, min(ft.n, j * STRIDE)
    tt, _ = records.times(lo, hi)
    return lo + int(np.searchsorted(tt, t, side="left"))


def read_text(ft: FileTimes, lo: int, hi: int, length: int) -> npt.NDArray[np.uint8] | None:
    """The cached text of records ``lo`` to ``hi`` as an (N, ``length``) byte array, or None
    when it is not cached (or its file is not whole)."""
    if ft.text is None:
        return None
    try:
        fd = os.open(ft.text, os.O_RDONLY)
    except OSError:
        return None
    try:
        want = (hi - lo) * length
        data = os.pread(fd, want, lo * length)
    finally:
        os.close(fd)
    if len(data) != want:
        return None
    return np.frombuffer(data, dtype=np.uint8).reshape(hi - lo, length)


class TimesStore:
    """:class:`FileTimes` by file content, in memory and in the cache, built once per file
    under a lock (concurrent requests for a new file wait for the one scan)."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self._mem: OrderedDict[str, FileTimes] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[str, threading.Lock] = {}

    @staticmethod
    def key(sha256: str, digits: int) -> str:
        return f"{sha256}-{digits}"

    def cached(self, sha256: str, digits: int) -> FileTimes | None:
        """The index if it is known already (memory or disk), else None."""
        key = self.key(sha256, digits)
        with self._lock:
            hit = self._mem.get(key)
            if hit is not None:
                self._mem.move_to_end(key)
                return hit
        data = self.cache.read("times", key + ".npz")
        if data is None:
            return None
        try:
            ft = FileTimes.from_bytes(data, self.cache.get("times", key + ".txt"))
        except (ValueError, KeyError, OSError):
            return None
        self._remember(key, ft)
        return ft

    def _remember(self, key: str, ft: FileTimes) -> None:
        with self._lock:
            self._mem[key] = ft
            while len(self._mem) > _MEMORY_ENTRIES:
                self._mem.popitem(last=False)

    def build(self, sha256: str, digits: int, scanner: Callable[[BinaryIO | None], FileTimes]) -> FileTimes:
        """The index of the file with content ``sha256``: cached, or ``scanner(text_out)``
        (which reads the verified file) run once and cached."""
        key = self.key(sha256, digits)
        with self._lock:
            lock = self._building.setdefault(key, threading.Lock())
        try:
            with lock:
                hit = self.cached(sha256, digits)
                if hit is not None:
                    return hit
                with self.cache.writing("times", key + ".txt") as text_out:
                    ft = scanner(text_out)
                    if not ft.clean and text_out is not None:
                        raise _NotClean  # the partial text is discarded
                text = self.cache.get("times", key + ".txt") if ft.clean else None
                ft = FileTimes(**{**ft.__dict__, "text": text})
                self.cache.put("times", key + ".npz", ft.to_bytes())
                self._remember(key, ft)
                return ft
        finally:
            with self._lock:
                self._building.pop(key, None)


class _NotClean(OSError):
    """Raised inside the text writer to drop the text of a file that is not clean."""

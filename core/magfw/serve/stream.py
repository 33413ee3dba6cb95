"""The ``/data`` stream: the records of a time range, read chunk by chunk, encoded piece by
piece, sent as they are made.

For each product file overlapping the range (in unit order), its time index says which records
fall in the range (:func:`~magfw.serve.timeindex.first_at_or_after`: a stride of times read at
each end); those records are read at once when they take at most :data:`WHOLE_BYTES` (a day's
file), else :func:`~magfw.serve.records.chunk_records` at a time (about ``chunk_mib`` MiB as
read: a month or a year file), their times copied from the cached text (or formatted, when the
cache is not there), their values packed column by column, and the chunk encoded in pieces of
64 Ki records. A file whose times are not all valid and increasing is read whole, chunk by
chunk, and filtered. A file that begins before the end of the previous one (spill-over, a
margin day) gives only its later records: times never go back. Peak memory per request is a
few chunks, whatever the span and whatever the size of the files (a day, a month or a year).

The reading and encoding run in a thread of the stream's own, two pieces ahead of the sending
(the thread makes the next pieces while the event loop sends this one); all of a stream's
memory comes from that one thread, so it is reused from piece to piece.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import numpy as np
import numpy.typing as npt

from magfw.serve.datasets import Dataset
from magfw.serve.encode import Chunk, Encoder
from magfw.serve.files import OpenProduct, ProductFiles
from magfw.serve.holdings import ProductFile
from magfw.serve.parameters import Parameter
from magfw.serve.records import chunk_records, record_bytes
from magfw.serve.status import status
from magfw.serve.timefmt import TimeWriter
from magfw.serve.timeindex import STRIDE, first_at_or_after, read_text

_NEVER = -(2**63)
#: A file whose records of the range take at most this much as read is read at once (a day of
#: 8 Hz vectors is 17 MB: one read of each variable); longer ranges go chunk by chunk.
WHOLE_BYTES = 64 << 20
log = logging.getLogger("magfw.serve")


@dataclass(frozen=True, kw_only=True)
class StreamPlan:
    """What one ``/data`` answer sends."""

    ds: Dataset
    params: list[Parameter]  #: time first
    fmt: str
    header: bool  #: the info header goes first (include=header, json)
    info: dict[str, Any]
    products: list[ProductFile]
    start: int  #: TT2000, inclusive
    stop: int  #: TT2000, exclusive
    chunk_bytes: int


class Streamer:
    """Makes the pieces of a :class:`StreamPlan` (module notes)."""

    def __init__(self, plan: StreamPlan, files: ProductFiles) -> None:
        self.plan = plan
        self.files = files
        self.data_params = plan.params[1:]
        self.length = int(plan.params[0].info["length"])
        self.writer = TimeWriter(plan.ds.time_digits)
        self.encoder = Encoder(plan.fmt, plan.params, self.length)
        self.chunk = chunk_records(plan.ds, self.data_params, plan.chunk_bytes, STRIDE)
        self.per_record = record_bytes(plan.ds, self.data_params)
        self.last = _NEVER

    def _step(self, n: int) -> int:
        """Records read at once from a range of ``n`` records."""
        return max(1, n) if n * self.per_record <= WHOLE_BYTES else self.chunk

    def _skip(self, product: ProductFile) -> bool:
        """True when the product's known index says it holds nothing more for the range."""
        ft = self.files.known_times(self.plan.ds, product)
        return ft is not None and (
            ft.first is None or ft.first >= self.plan.stop or ft.last is None or ft.last < self.plan.start
        )

    def _clean_chunks(self, op: OpenProduct) -> Iterator[Chunk]:
        ft, rec = op.times, op.records
        t0, t1 = max(self.plan.start, self.last + 1), self.plan.stop
        assert ft.first is not None and ft.last is not None
        lo = 0 if ft.first >= t0 else first_at_or_after(ft, rec, t0)
        hi = ft.n if ft.last < t1 else first_at_or_after(ft, rec, t1)
        if lo >= hi:
            return
        fills = [rec.stored_fill(p) for p in self.data_params]
        step = self._step(hi - lo)
        for a in range(lo, hi, step):
            b = min(hi, a + step)

            def text(i: int, j: int, a: int = a) -> npt.NDArray[np.uint8]:
                got = read_text(ft, a + i, a + j, self.length)
                return got if got is not None else self.writer.format(rec.times(a + i, a + j)[0])

            yield Chunk(b - a, text, [rec.raw(p, a, b) for p in self.data_params], fills)
        self.last = ft.last if hi == ft.n else int(rec.times(hi - 1, hi)[0][0])

    def _filtered_chunks(self, op: OpenProduct) -> Iterator[Chunk]:
        rec = op.records
        fills = [rec.stored_fill(p) for p in self.data_params]
        step = self._step(rec.n)
        for a in range(0, rec.n, step):
            b = min(rec.n, a + step)
            tt, ok = rec.times(a, b)
            keep = ok & (tt >= self.plan.start) & (tt < self.plan.stop)
            running = np.maximum.accumulate(np.where(keep, tt, _NEVER))  # the latest time so far
            keep &= tt > np.concatenate(([self.last], running[:-1])).clip(min=self.last)
            if not keep.any():
                continue
            t = tt[keep]

            def text(i: int, j: int, t: npt.NDArray[np.int64] = t) -> npt.NDArray[np.uint8]:
                return self.writer.format(t[i:j])

            yield Chunk(t.size, text, [rec.raw(p, a, b)[keep] for p in self.data_params], fills)
            self.last = int(t[-1])

    def pieces(self) -> Iterator[bytes | memoryview]:
        """The body: (header,) pieces of records (, footer)."""
        plan = self.plan
        pending_header = plan.header
        for product in plan.products:
            if self._skip(product):
                continue
            op = self.files.open(plan.ds, product)
            if op is None:
                continue
            with op:
                ft = op.times
                if ft.first is None or ft.last is None or ft.first >= plan.stop or ft.last < plan.start:
                    continue
                chunks = self._clean_chunks(op) if ft.clean else self._filtered_chunks(op)
                for chunk in chunks:
                    for piece in self.encoder.encode(chunk):
                        if pending_header:
                            pending_header = False
                            yield self.encoder.header(plan.info)
                        yield piece
        if pending_header:  # no record at all: say so in the header
            yield self.encoder.header({**plan.info, "status": status(1201)})
        tail = self.encoder.footer()
        if tail:
            yield tail


class _Producer(threading.Thread):
    """Makes a stream's pieces in one thread of its own (all its memory comes from one arena
    and is reused piece after piece), at most ``ahead`` pieces before the sending."""

    def __init__(
        self, pieces: Iterator[bytes | memoryview], loop: asyncio.AbstractEventLoop, ahead: int
    ) -> None:
        super().__init__(name="magfw-stream", daemon=True)
        self.pieces = pieces
        self.loop = loop
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.slots = threading.Semaphore(ahead)
        self.stopped = threading.Event()

    def _send(self, kind: str, value: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, (kind, value))
        except RuntimeError:  # the event loop is gone: nobody listens any more
            self.stopped.set()

    def run(self) -> None:
        try:
            for piece in self.pieces:
                while not self.slots.acquire(timeout=0.5):
                    if self.stopped.is_set():
                        return
                if self.stopped.is_set():
                    return
                self._send("piece", piece)
            self._send("end", None)
        except BaseException as exc:  # handed to the sending side, which logs it and cuts
            self._send("error", exc)
        finally:
            close = getattr(self.pieces, "close", None)
            if close is not None:
                close()


async def stream_body(
    pieces: Iterator[bytes | memoryview],
    limiter: anyio.CapacityLimiter,
    token: object,
    ahead: int = 2,
) -> AsyncIterator[bytes | memoryview]:
    """``pieces`` made in a thread of their own, ``ahead`` pieces before the sending; the
    stream's slot of ``limiter`` (held by ``token``) is given back at the end, also when the
    client goes."""
    producer = _Producer(pieces, asyncio.get_running_loop(), ahead)
    producer.start()
    try:
        while True:
            kind, value = await producer.queue.get()
            if kind == "end":
                break
            if kind == "error":
                log.error(
                    "data stream failed: cut (HAPI 3.7.5: the client sees a truncated stream)", exc_info=value
                )
                raise value
            producer.slots.release()
            yield value
    finally:
        producer.stopped.set()
        producer.slots.release()
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(producer.join)
            limiter.release_on_behalf_of(token)


def etag_of(ds_id: str, query: dict[str, str], products: list[ProductFile]) -> str:
    """The ETag of an answer: the request and the SHA-256 of every file it reads."""
    import hashlib
    import json

    h = hashlib.sha256(ds_id.encode())
    h.update(json.dumps(sorted(query.items())).encode())
    for p in products:
        for f in p.files:
            h.update(f"{f.rel}:{f.sha256}".encode())
    return '"' + h.hexdigest()[:32] + '"'

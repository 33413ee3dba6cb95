"""A dataset's product files as the server reads them: opened only once verified against the
ledger (:meth:`Holdings.open_verified`), with their time index (:mod:`magfw.serve.timeindex`)
learnt on first use."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from magfw.serve.cache import Cache
from magfw.serve.datasets import Dataset
from magfw.serve.holdings import Holdings, ProductFile
from magfw.serve.records import Records, open_records
from magfw.serve.timeindex import STRIDE, FileTimes, TimesStore, first_at_or_after, scan

#: Bytes of times read at once when a file's index is made.
SCAN_BYTES = 4 << 20


@dataclass
class OpenProduct:
    """A verified, open product file and its time index (close it when done)."""

    product: ProductFile
    records: Records
    times: FileTimes

    def close(self) -> None:
        self.records.close()

    def __enter__(self) -> OpenProduct:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ProductFiles:
    """Opening product files and knowing their times (module notes)."""

    def __init__(self, holdings: Holdings, cache: Cache) -> None:
        self.holdings = holdings
        self.store = TimesStore(cache)

    def _index(self, ds: Dataset, product: ProductFile, records: Records) -> FileTimes:
        chunk = max(STRIDE, (SCAN_BYTES // 8) // STRIDE * STRIDE)

        def scanner(text_out: BinaryIO | None) -> FileTimes:
            return scan(records, chunk, text_out, ds.time_digits)

        return self.store.build(product.main.sha256, ds.time_digits, scanner)

    def open(self, ds: Dataset, product: ProductFile) -> OpenProduct | None:
        """The product opened (or the newer one a commit put in its place), with its index;
        None if its unit no longer holds one."""

        def opener(pf: ProductFile, path: Path) -> OpenProduct:
            records = open_records(ds, path)
            try:
                return OpenProduct(pf, records, self._index(ds, pf, records))
            except BaseException:
                records.close()
                raise

        return self.holdings.open_verified(ds, product, opener)

    def times(self, ds: Dataset, product: ProductFile) -> FileTimes | None:
        """The product's time index (cached, else made by reading the verified file)."""
        hit = self.store.cached(product.main.sha256, ds.time_digits)
        if hit is not None:
            return hit
        opened = self.open(ds, product)
        if opened is None:
            return None
        with opened:
            return opened.times

    def known_times(self, ds: Dataset, product: ProductFile) -> FileTimes | None:
        """The index if it is known already (nothing is read)."""
        return self.store.cached(product.main.sha256, ds.time_digits)


def window_ranges(
    op: OpenProduct, t0: int, t1: int, chunk: int
) -> Iterator[tuple[int, int, np.ndarray | None]]:
    """(lo, hi, keep) for reading the records of [t0, t1) chunk by chunk: ranges of a clean
    file (keep None: every record of the range is in), chunks with a mask otherwise."""
    ft, rec = op.times, op.records
    if ft.clean and ft.first is not None and ft.last is not None:
        lo = 0 if ft.first >= t0 else first_at_or_after(ft, rec, t0)
        hi = ft.n if ft.last < t1 else first_at_or_after(ft, rec, t1)
        for a in range(lo, hi, chunk):
            yield a, min(hi, a + chunk), None
        return
    for a in range(0, rec.n, chunk):
        b = min(rec.n, a + chunk)
        tt, ok = rec.times(a, b)
        yield a, b, ok & (tt >= t0) & (tt < t1)

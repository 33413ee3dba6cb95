"""UCLA/IGPP flat files: a ``.ffh`` ASCII header and a ``.ffd`` big-endian binary data file.

The header (72-character records: keywords, column table, abstract, ``END``; long values in
continuation records) is read and written by :mod:`magfw.io.flatfile_header`; files are
written by :func:`magfw.io.flatfile_write.write_flatfile`; this module reads them.

- ``.ffd``: NROWS records of RECL bytes; column *i* is at byte LOC *i*; TYPE ``T``/``D`` is a
  big-endian float64, ``R`` a big-endian float32. The time column is the first ``T`` column,
  otherwise column 0; its ticks count seconds in the time base named by EPOCH (default Y1966,
  see :func:`magfw.geometry.time.tt2000_from_flatfile`).

Reader choices
    Files pair by base name; the DATA keyword is informational and often wrong. Anything after
    ``END`` is ignored. Non-monotonic times are not an error (see :attr:`FlatFile.is_monotonic`).
    The unrelated ``FLAT FILE VERSION=3.0`` dialect (little-endian, MJD time) and little-endian
    UCLA files are rejected with a clear error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
from numpy.lib import recfunctions

from magfw.errors import InputError, MissingInputError, UsageError
from magfw.geometry.time import FLATFILE_EPOCHS, tt2000_from_flatfile, tt2000_to_flatfile
from magfw.io.flatfile_header import (
    DEFAULT_FILL,
    FORMAT,
    FlatFileColumn,
    format_abstract_time,
    int_key,
    pair,
    parse_abstract_time,
    parse_header,
)
from magfw.io.flatfile_write import write_flatfile

__all__ = [
    "DEFAULT_FILL",
    "FlatFile",
    "FlatFileColumn",
    "FlatFileRecords",
    "flatfile_records",
    "format_abstract_time",
    "parse_abstract_time",
    "read_flatfile",
    "write_flatfile",
]

_MAX_PLAUSIBLE_TICK = 1e11  # s; ~3000 years: beyond this the byte order is wrong


@dataclass(kw_only=True)
class FlatFile:
    """A decoded flat file.

    ``time`` is int64 TT2000 ns (fill where a tick is not a time); ``data`` holds every column
    except the time column, in table order, shape (N, ncols - 1): float32 when all of them are
    ``R``, float64 otherwise. Fill values are kept as stored (use :meth:`column` for NaN).
    ``abstract`` holds the abstract's lines, continuation records joined.
    """

    columns: list[FlatFileColumn]
    time: np.ndarray
    data: np.ndarray
    epoch: str = "Y1966"
    fill: float = DEFAULT_FILL
    keywords: dict[str, str] = field(default_factory=dict)
    abstract: list[str] = field(default_factory=list)
    path: Path | None = None  #: the .ffh it came from, for messages
    raw_ticks: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def time_index(self) -> int:
        """Index in :attr:`columns` of the time column (first ``T``, otherwise 0)."""
        return _time_index(self.columns)

    @property
    def time_column(self) -> FlatFileColumn:
        return self.columns[self.time_index]

    @property
    def data_columns(self) -> list[FlatFileColumn]:
        """The columns of :attr:`data`, in order."""
        return [c for i, c in enumerate(self.columns) if i != self.time_index]

    @property
    def names(self) -> list[str]:
        """Column names, time column included, in table order."""
        return [c.name for c in self.columns]

    @property
    def ticks(self) -> np.ndarray:
        """The raw time column (float64 s in :attr:`epoch`)."""
        if self.raw_ticks is not None:
            return self.raw_ticks
        return np.asarray(tt2000_to_flatfile(self.time, self.epoch), dtype=np.float64)

    @property
    def is_monotonic(self) -> bool:
        """True if the times never decrease (equal neighbours allowed)."""
        return bool(np.all(np.diff(self.time) >= 0))

    def fill_mask(self, values: npt.ArrayLike) -> np.ndarray:
        """Where ``values`` equal the fill value (it is stored as float32, so compared to 1e-6)."""
        v = np.asarray(values, dtype=np.float64)
        if self.fill == 0:
            return np.asarray(v == 0)
        return np.asarray(np.abs(v - self.fill) <= 1e-6 * abs(self.fill))

    def column(self, name: str, fill_to_nan: bool = True) -> np.ndarray:
        """Values of column ``name``: the raw ticks for the time column, else a copy of the data
        column with fill values replaced by NaN (unless ``fill_to_nan`` is false)."""
        try:
            i = self.names.index(name)
        except ValueError:
            raise UsageError(self.path, f"no column {name!r}; columns are {', '.join(self.names)}") from None
        if i == self.time_index:
            return self.ticks.copy()
        values = self.data[:, i if i < self.time_index else i - 1].copy()
        if fill_to_nan:
            values[self.fill_mask(values)] = np.nan
        return values


def _time_index(columns: list[FlatFileColumn]) -> int:
    return next((i for i, c in enumerate(columns) if c.type == "T"), 0)


def _record_dtype(columns: list[FlatFileColumn], recl: int, ffh: Path) -> np.dtype:
    order = sorted(range(len(columns)), key=lambda i: columns[i].loc)
    for a, b in zip(order, order[1:], strict=False):
        if columns[a].loc + columns[a].width > columns[b].loc:
            raise InputError(
                ffh, f"columns {columns[a].name!r} and {columns[b].name!r} overlap (LOC "
                f"{columns[a].loc} + {columns[a].width} > {columns[b].loc})"
            )  # fmt: skip
    needed = max(c.loc + c.width for c in columns)
    if recl < needed:
        raise InputError(ffh, f"RECL = {recl} but the column table needs {needed} bytes per record")
    return np.dtype({
        "names": [f"c{i}" for i in range(len(columns))],
        "formats": [FORMAT[c.type] for c in columns],
        "offsets": [c.loc for c in columns],
        "itemsize": recl,
    })  # fmt: skip


def _plausible(ticks: np.ndarray) -> bool:
    """First and last ticks look like times: finite, under ~3000 years and not denormal-tiny
    (a float64 read in the wrong byte order is almost always huge, tiny or NaN)."""
    ends = np.abs(ticks[[0, -1]])
    ok = np.isfinite(ends) & (ends < _MAX_PLAUSIBLE_TICK) & ((ends == 0) | (ends > 1e-3))
    return bool(np.all(ok))


def _rows(ffh: Path, ffd: Path, recl: int, nrows: int | None, needed: int) -> int:
    """The number of records of ``ffd``, checked against RECL and NROWS."""
    size = ffd.stat().st_size
    if nrows is not None and size != nrows * recl:
        if recl != needed and size == nrows * needed:
            raise InputError(
                ffh, f"RECL = {recl} disagrees with {ffd.name}, which holds NROWS = {nrows} "
                f"records of {needed} bytes as the column table implies"
            )  # fmt: skip
        if size % recl:
            raise InputError(
                ffd, f"size {size} bytes is not a multiple of RECL = {recl} (truncated?); "
                f"{ffh.name} says NROWS = {nrows}"
            )  # fmt: skip
        raise InputError(ffd, f"holds {size // recl} records but {ffh.name} says NROWS = {nrows}")
    if size % recl:
        raise InputError(ffd, f"size {size} bytes is not a multiple of RECL = {recl} (truncated?)")
    return size // recl


@dataclass(frozen=True, kw_only=True)
class FlatFileRecords:
    """A flat file's header facts and record layout, checked against the ``.ffd`` size, for
    reading all or a range of its records (:meth:`read`): a month of 8 Hz records need not be
    read to serve an hour of it. ``dtype`` is the big-endian record (fields ``c0``, ``c1``...
    in table order)."""

    ffh: Path
    ffd: Path
    columns: list[FlatFileColumn]
    keywords: dict[str, str]
    abstract: list[str]
    epoch: str
    fill: float
    recl: int
    nrows: int  #: records in the .ffd
    dtype: np.dtype[np.void]

    @property
    def time_index(self) -> int:
        return _time_index(self.columns)

    def read(self, start: int = 0, stop: int | None = None, fh: BinaryIO | None = None) -> np.ndarray:
        """Records ``start`` to ``stop`` (exclusive) as a structured array, read from ``fh``
        (an open ``.ffd``) or from the ``.ffd`` by name."""
        stop = self.nrows if stop is None else min(stop, self.nrows)
        count = max(0, stop - start)
        if fh is None:
            return np.fromfile(self.ffd, dtype=self.dtype, count=count, offset=start * self.recl)
        fh.seek(start * self.recl)
        raw = fh.read(count * self.recl)
        if len(raw) != count * self.recl:
            raise InputError(self.ffd, f"ends early: record {start + len(raw) // self.recl} of {self.nrows}")
        return np.frombuffer(raw, dtype=self.dtype, count=count)

    def times(self, records: np.ndarray) -> np.ndarray:
        """int64 TT2000 of the records' time column."""
        ticks = records[f"c{self.time_index}"].astype(np.float64)
        return np.asarray(tt2000_from_flatfile(ticks, self.epoch), dtype=np.int64)


def flatfile_records(path: str | os.PathLike[str]) -> FlatFileRecords:
    """The layout of the flat file ``x.ffh``/``x.ffd``/``x`` (header read and checked, no
    record read); the errors of :func:`read_flatfile`."""
    ffh, ffd = pair(path)
    if not ffh.is_file():
        raise MissingInputError(ffh, "flat-file header (.ffh) not found")
    if not ffd.is_file():
        raise MissingInputError(ffd, f"flat-file data (.ffd) not found (header {ffh.name} exists)")
    header = parse_header(ffh)
    keys, columns = header.keywords, header.columns
    recl = int_key(keys, "RECL", ffh, required=True)
    assert recl is not None
    epoch = keys.get("EPOCH", "Y1966").strip().upper() or "Y1966"
    if epoch not in FLATFILE_EPOCHS:
        raise InputError(ffh, f"EPOCH = {epoch!r} is unknown; expected {', '.join(FLATFILE_EPOCHS)}")
    dtype = _record_dtype(columns, recl, ffh)
    needed = max(c.loc + c.width for c in columns)
    rows = _rows(ffh, ffd, recl, int_key(keys, "NROWS", ffh, required=False), needed)
    return FlatFileRecords(
        ffh=ffh,
        ffd=ffd,
        columns=columns,
        keywords=keys,
        abstract=header.abstract,
        epoch=epoch,
        fill=header.fill,
        recl=recl,
        nrows=rows,
        dtype=dtype,
    )


def read_flatfile(path: str | os.PathLike[str]) -> FlatFile:
    """Read a UCLA/IGPP flat file given as ``x.ffh``, ``x.ffd`` or the base name ``x``.

    Raises :class:`~magfw.errors.InputError` (one line, naming the file) for a missing half,
    a malformed header, an unknown TYPE or EPOCH, a RECL/NROWS/size mismatch or a truncated
    ``.ffd``, the VERSION=3.0 dialect, or little-endian data.
    """
    layout = flatfile_records(path)
    columns, ffd, rows = layout.columns, layout.ffd, layout.nrows
    records = layout.read()
    t_index = layout.time_index
    t_field = f"c{t_index}"
    ticks = records[t_field].astype(np.float64)
    if rows and not _plausible(ticks):
        swapped = np.ascontiguousarray(records[t_field]).view(records[t_field].dtype.newbyteorder())
        if _plausible(swapped.astype(np.float64)):
            raise InputError(ffd, "time column decodes as little-endian; only big-endian "
                             "(SUN/IEEE) flat files are supported")  # fmt: skip
    data_fields = [f"c{i}" for i in range(len(columns)) if i != t_index]
    data_types = [c.type for i, c in enumerate(columns) if i != t_index]
    out_dtype = np.float32 if all(t == "R" for t in data_types) else np.float64
    if data_fields:
        data = recfunctions.structured_to_unstructured(records[data_fields], dtype=out_dtype)
    else:
        data = np.empty((rows, 0), dtype=out_dtype)
    time = np.asarray(tt2000_from_flatfile(ticks, layout.epoch), dtype=np.int64)
    return FlatFile(
        columns=columns,
        time=time,
        data=data,
        epoch=layout.epoch,
        fill=layout.fill,
        keywords=layout.keywords,
        abstract=layout.abstract,
        path=layout.ffh,
        raw_ticks=ticks,
    )

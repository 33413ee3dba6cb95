"""Ranges of a product file's records, whatever its size: only the records asked for are read.

:func:`open_records` opens a product file of a dataset (CDF, netCDF-4 or flat file) and keeps
it open; :meth:`Records.times` and :meth:`Records.values` read the records ``lo`` to ``hi``
(exclusive) of the time variable and of the requested parameters:

- CDF through cdflib's record-range reading (``CDF.varget(name, startrec=, endrec=)``, which
  reads the VVRs holding those records: magfw's streamed monthly CDFs are written in VVRs of
  a few MiB, its daily ones in one per variable);
- netCDF-4 through h5py slicing of the variable (``dataset[lo:hi]``, reading the chunks that
  hold the range);
- flat files through their fixed-length records (:class:`magfw.io.flatfile.FlatFileRecords`).

The reader never reads a whole variable to cut it; how many records a caller asks for at once
is its chunk size (:func:`chunk_records`), which bounds the memory a request holds.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from magfw.errors import InputError
from magfw.serve.datasets import Dataset
from magfw.serve.parameters import Parameter
from magfw.serve.reader import decode_times

TimeArrays = tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]


class Records(ABC):
    """An open product file: ``n`` records of the dataset's time and parameters."""

    n: int = 0
    path: Path

    @abstractmethod
    def times(self, lo: int, hi: int) -> TimeArrays:
        """(TT2000, valid) of records ``lo`` to ``hi``."""

    @abstractmethod
    def raw(self, p: Parameter, lo: int, hi: int) -> np.ndarray:
        """The stored values of one parameter for records ``lo`` to ``hi``, (N, *size)."""

    def stored_fill(self, p: Parameter) -> float | None:
        """The value the file stores for missing data of ``p`` (None: none)."""
        var = p.variable
        assert var is not None
        return var.fill if var.fill is not None and not isinstance(var.fill, str) else None

    def attributes(self) -> dict[str, Any]:
        """The file's global attributes (flat files: the header's keywords)."""
        return {}

    def close(self) -> None:  # noqa: B027  (a reader without an open file has nothing to release)
        """Release the open file(s)."""

    def __enter__(self) -> Records:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CdfRecords(Records):
    def __init__(self, ds: Dataset, path: Path) -> None:
        import cdflib

        self.ds, self.path = ds, path
        self.tname = str(ds.definition.time_variable)
        try:
            self.cdf: Any = cdflib.CDF(path)
            inq = self.cdf.varinq(self.tname)
        except Exception as exc:  # cdflib raises many types for a damaged file
            raise InputError(path, f"not a readable CDF: {type(exc).__name__}: {exc}") from exc
        self.n = int(inq.Last_Rec) + 1
        self.time_type = str(inq.Data_Type_Description)
        self._dims: dict[str, tuple[int, ...]] = {}

    def _get(self, name: str, lo: int, hi: int) -> np.ndarray:
        if name not in self._dims:
            self._dims[name] = tuple(int(d) for d in self.cdf.varinq(name).Dim_Sizes)
        if hi <= lo:
            return np.empty((0, *self._dims[name]))
        try:
            arr = np.asarray(self.cdf.varget(name, startrec=lo, endrec=hi - 1))
        except Exception as exc:
            raise InputError(self.path, f"records {lo}-{hi} of {name}: {type(exc).__name__}: {exc}") from exc
        return arr.reshape((hi - lo, *self._dims[name]))

    def times(self, lo: int, hi: int) -> TimeArrays:
        attrs: dict[str, Any] = {}
        if self.time_type not in ("CDF_EPOCH", "CDF_TIME_TT2000"):
            attrs = dict(self.cdf.varattsget(self.tname) or {})
        return decode_times(self.ds, self._get(self.tname, lo, hi), self.time_type, attrs)

    def raw(self, p: Parameter, lo: int, hi: int) -> np.ndarray:
        return self._get(p.name, lo, hi)

    def attributes(self) -> dict[str, Any]:
        out = {}
        for k, entries in (self.cdf.globalattsget() or {}).items():
            vals = list(entries) if isinstance(entries, list) else [entries]
            out[k] = vals[0] if len(vals) == 1 else vals
        return out

    def close(self) -> None:
        self.cdf = None  # cdflib closes its file when the reader goes


class NetcdfRecords(Records):
    def __init__(self, ds: Dataset, path: Path) -> None:
        import h5py

        self.ds, self.path = ds, path
        self.tname = str(ds.definition.time_variable)
        try:
            self.h5: Any = h5py.File(path, "r")
            tvar = self.h5[self.tname]
        except Exception as exc:  # h5py raises OSError, KeyError... for a damaged file
            raise InputError(path, f"not a readable netCDF-4 file: {type(exc).__name__}: {exc}") from exc
        self.n = int(tvar.shape[0]) if tvar.shape else 0
        # units and magfw_dtype: a TT2000 written as a CF time (magfw.io.netcdf_time) decodes back
        self.time_attrs = {
            k: v.decode() if isinstance(v, bytes) else str(v)
            for k, v in tvar.attrs.items()
            if k in ("units", "magfw_dtype")
        }

    def _get(self, name: str, lo: int, hi: int) -> np.ndarray:
        try:
            arr = np.asarray(self.h5[name][lo:hi])
        except Exception as exc:
            raise InputError(self.path, f"records {lo}-{hi} of {name}: {type(exc).__name__}: {exc}") from exc
        return arr if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("="))

    def times(self, lo: int, hi: int) -> TimeArrays:
        raw = self._get(self.tname, lo, hi)
        return decode_times(self.ds, raw, raw.dtype.name, self.time_attrs)

    def raw(self, p: Parameter, lo: int, hi: int) -> np.ndarray:
        arr = self._get(p.name, lo, hi)
        return arr.reshape(-1, *p.size) if p.size and arr.ndim == 1 else arr

    def attributes(self) -> dict[str, Any]:
        return {k: v.decode() if isinstance(v, bytes) else v for k, v in self.h5.attrs.items()}

    def close(self) -> None:
        self.h5.close()


class FlatRecords(Records):
    def __init__(self, ds: Dataset, path: Path) -> None:
        from magfw.io.flatfile import flatfile_records

        self.ds, self.path = ds, path
        self.layout = flatfile_records(path)
        self.n = self.layout.nrows
        self.fh: BinaryIO = open(self.layout.ffd, "rb")  # noqa: SIM115 (kept open; see close)
        self.names = [c.name for c in self.layout.columns]
        self._chunk: tuple[int, int, np.ndarray] | None = None

    def _records(self, lo: int, hi: int) -> np.ndarray:
        if self._chunk is None or self._chunk[:2] != (lo, hi):
            self._chunk = (lo, hi, self.layout.read(lo, hi, self.fh))
        return self._chunk[2]

    def times(self, lo: int, hi: int) -> TimeArrays:
        tt = self.layout.times(self._records(lo, hi))
        return tt, tt > np.iinfo(np.int64).min + 1

    def raw(self, p: Parameter, lo: int, hi: int) -> np.ndarray:
        rec = self._records(lo, hi)
        try:
            fields = [f"c{self.names.index(c)}" for c in p.columns]
        except ValueError as exc:
            raise InputError(self.path, f"flat file lacks a column of {p.name}: {exc}") from exc
        if not p.size:
            return rec[fields[0]]
        kind = np.result_type(*[rec.dtype[f] for f in fields]).newbyteorder("=")
        out = np.empty((hi - lo, len(fields)), dtype=kind)  # the stored type: fill compares exactly
        for k, f in enumerate(fields):
            out[:, k] = rec[f]
        return out

    def stored_fill(self, p: Parameter) -> float | None:
        return float(self.layout.fill)

    def attributes(self) -> dict[str, Any]:
        return dict(self.layout.keywords)

    def close(self) -> None:
        self.fh.close()


def open_records(ds: Dataset, path: Path) -> Records:
    """The records of product file ``path`` of dataset ``ds``, opened (close it, or use it as
    a context manager)."""
    fmt = ds.definition.format
    if fmt == "cdf":
        return CdfRecords(ds, path)
    if fmt == "netcdf":
        return NetcdfRecords(ds, path)
    if fmt == "flatfile":
        return FlatRecords(ds, path)
    raise InputError(path, f"format {fmt!r} holds no records to serve")


def record_bytes(ds: Dataset, params: list[Parameter]) -> int:
    """Bytes a record of the time and ``params`` takes as read (8 a time; 8 a value, the
    widest type read)."""
    return 8 + 8 * sum(p.width for p in params)


def chunk_records(ds: Dataset, params: list[Parameter], chunk_bytes: int, stride: int) -> int:
    """Records read at once for ``params`` so that a chunk holds about ``chunk_bytes`` as read
    (a multiple of ``stride``, at least one stride)."""
    n = max(1, chunk_bytes // record_bytes(ds, params))
    return max(stride, n - n % stride)

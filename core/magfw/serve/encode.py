"""HAPI data stream formats: csv, binary and json, one chunk of records at a time.

- ``binary``: each record is the time (``length`` ASCII bytes, fixed width) followed by each
  parameter's values, little-endian float64 for ``double`` and int32 for ``integer``, array
  parameters unrolled; built as one packed structured array per piece, filled column by
  column (the time text copied in, each parameter's stored values converted on assignment).
- ``csv``: RFC 4180 lines, array parameters unrolled into columns; numbers as
  :mod:`magfw.serve.numfmt` writes them.
- ``json``: the info header with ``"data": [...]``, each record ``["time", v, [v, v], ...]``;
  NaN and infinities (not JSON) are ``null``.

With ``include=header`` csv and binary start with the info header, each line prefixed ``#``.
A chunk is encoded in pieces of :data:`PIECE_RECORDS` records, each sent as it is made
(memory bounded whatever the request's length; a piece of 8 Hz vectors is about 4 MB).
No loop runs over records in Python.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from magfw.serve.numfmt import Text, fixed, format_floats, format_ints, join_rows
from magfw.serve.parameters import Parameter
from magfw.serve.reader import output_dtype, put_values

FORMATS = ("csv", "binary", "json")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "binary": "application/octet-stream",
    "json": "application/json",
}
#: Records encoded into one piece of the stream.
PIECE_RECORDS = 16_384


@dataclass
class Chunk:
    """Records to send: their times as fixed-width text (``text(lo, hi)``: an (n, length)
    ASCII array of rows ``lo`` to ``hi``, made or read piece by piece), and each parameter's
    stored values."""

    n: int
    text: Callable[[int, int], npt.NDArray[np.uint8]]
    raw: list[np.ndarray]  #: one per data parameter, (N, *size), as stored
    fills: list[float | None]  #: each parameter's stored fill

    def __len__(self) -> int:
        return self.n


class Encoder:
    """Encodes chunks of records of ``params`` (time first) in ``fmt``."""

    def __init__(self, fmt: str, params: list[Parameter], time_length: int) -> None:
        self.fmt = fmt
        self.params = params
        self.data_params = params[1:]
        self.length = time_length
        self.first = True
        fields: list[tuple[str, Any] | tuple[str, Any, tuple[int, ...]]] = [("t", f"S{time_length}")]
        for i, p in enumerate(self.data_params):
            base = "<i4" if p.hapi_type == "integer" else "<f8"
            fields.append((f"p{i}", base, p.size) if p.size else (f"p{i}", base))
        self.binary_dtype = np.dtype(fields)

    def header(self, info: dict[str, Any]) -> bytes:
        """What precedes the records: the ``#`` header (csv/binary with include=header; pass
        ``info`` with its ``format``) or the json object up to ``"data":[``."""
        if self.fmt == "json":
            text = json.dumps(info, indent=1)
            return (text[: text.rindex("}")].rstrip() + ',\n"data":[').encode()
        lines = json.dumps(info, indent=1).splitlines()
        return ("".join(f"#{line}\n" for line in lines)).encode()

    def footer(self) -> bytes:
        return b"\n]\n}\n" if self.fmt == "json" else b""

    def encode(self, chunk: Chunk) -> Iterator[bytes | memoryview]:
        """The records of ``chunk`` in this format, piece by piece (json: with the separator
        before them)."""
        for lo in range(0, len(chunk), PIECE_RECORDS):
            hi = min(len(chunk), lo + PIECE_RECORDS)
            yield self._binary(chunk, lo, hi) if self.fmt == "binary" else self._text(chunk, lo, hi)

    def _binary(self, chunk: Chunk, lo: int, hi: int) -> memoryview:
        rec = np.empty(hi - lo, dtype=self.binary_dtype)
        rec["t"] = np.ascontiguousarray(chunk.text(lo, hi)).view(f"S{self.length}")[:, 0]
        for i, p in enumerate(self.data_params):
            put_values(p, rec[f"p{i}"], chunk.raw[i][lo:hi], chunk.fills[i])
        return memoryview(rec.view(np.uint8).data)

    def _columns(self, p: Parameter, raw: np.ndarray, fill: float | None) -> list[Text]:
        n = raw.shape[0]
        values = np.empty((n, *p.size), dtype=output_dtype(p))
        put_values(p, values, raw, fill)
        flat = values.reshape(n, -1)
        out = []
        for k in range(flat.shape[1]):
            col = flat[:, k]
            if p.digits == 0:
                out.append(format_ints(col))
            else:
                text = format_floats(col, p.digits)
                if self.fmt == "json":
                    _json_nulls(text, col)
                out.append(text)
        return out

    def _text(self, chunk: Chunk, lo: int, hi: int) -> bytes:
        times = fixed(np.ascontiguousarray(chunk.text(lo, hi)))
        columns = [
            self._columns(p, chunk.raw[i][lo:hi], chunk.fills[i]) for i, p in enumerate(self.data_params)
        ]
        items: list[Text | bytes] = []
        if self.fmt == "csv":
            items.append(times)
            for cols in columns:
                for col in cols:
                    items += [b",", col]
            items.append(b"\n")
            return join_rows(items)
        items += [b',\n["', times, b'"']
        for p, cols in zip(self.data_params, columns, strict=True):
            if p.size:
                items.append(b",[")
                for k, col in enumerate(cols):
                    items += [b"," if k else b"", col]
                items.append(b"]")
            else:
                items += [b",", cols[0]]
        items.append(b"]")
        text = join_rows(items)
        if self.first:
            self.first = False
            text = text[1:]  # no separator before the first record
        return text


def _json_nulls(text: Text, col: np.ndarray) -> None:
    """NaN and infinities as ``null`` (JSON has no such numbers)."""
    bad = ~np.isfinite(col)
    if bad.any():
        chars, start, length = text
        chars[bad, :4] = np.frombuffer(b"null", dtype=np.uint8)
        start[bad], length[bad] = 0, 4

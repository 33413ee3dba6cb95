"""HAPI data stream formats: csv, binary and json, one block of records at a time.

- ``binary``: each record is the time (``length`` ASCII bytes, fixed width) followed by each
  parameter's values, little-endian float64 for ``double`` and int32 for ``integer``, array
  parameters unrolled; built as one packed structured array per block.
- ``csv``: RFC 4180 lines, array parameters unrolled into columns; numbers as
  :mod:`magfw.serve.numfmt` writes them.
- ``json``: the info header with ``"data": [...]``, each record ``["time", v, [v, v], ...]``;
  NaN and infinities (not JSON) are ``null``.

With ``include=header`` csv and binary start with the info header, each line prefixed ``#``.
Blocks are encoded independently (bounded memory whatever the request's length).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from magfw.serve.datasets import Parameter
from magfw.serve.numfmt import Text, fixed, format_floats, format_ints, join_rows
from magfw.serve.reader import Block
from magfw.serve.timefmt import TimeWriter

FORMATS = ("csv", "binary", "json")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "binary": "application/octet-stream",
    "json": "application/json",
}
#: Records encoded at once (about 4 MB of csv for 4-vectors).
BLOCK_RECORDS = 65_536


class Encoder:
    """Encodes blocks of records of ``params`` (time first) in ``fmt``."""

    def __init__(self, fmt: str, params: list[Parameter], time_digits: int) -> None:
        self.fmt = fmt
        self.params = params
        self.data_params = params[1:]
        self.time = TimeWriter(time_digits)
        self.first = True
        fields: list[tuple[str, Any] | tuple[str, Any, tuple[int, ...]]] = [("t", self.time.dtype)]
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

    def encode(self, block: Block) -> list[bytes]:
        """The records of ``block`` in this format, in pieces of :data:`BLOCK_RECORDS`
        records (json: with the separator before them)."""
        parts = []
        for lo in range(0, len(block), BLOCK_RECORDS):
            part = block.select(slice(lo, lo + BLOCK_RECORDS))
            if self.fmt == "binary":
                parts.append(self._binary(part))
            else:
                parts.append(self._text(part))
        return parts

    def _binary(self, block: Block) -> bytes:
        rec = np.empty(len(block), dtype=self.binary_dtype)
        self.time.fill(rec["t"], block.time)
        for i, values in enumerate(block.values):
            rec[f"p{i}"] = values
        return rec.tobytes()

    def _columns(self, p: Parameter, values: np.ndarray) -> list[Text]:
        flat = values.reshape(values.shape[0], -1)
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

    def _text(self, block: Block) -> bytes:
        times = fixed(self.time.format(block.time))
        items: list[Text | bytes] = []
        if self.fmt == "csv":
            items.append(times)
            for p, values in zip(self.data_params, block.values, strict=True):
                for col in self._columns(p, values):
                    items += [b",", col]
            items.append(b"\n")
            return join_rows(items)
        items += [b',\n["', times, b'"']
        for p, values in zip(self.data_params, block.values, strict=True):
            cols = self._columns(p, values)
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

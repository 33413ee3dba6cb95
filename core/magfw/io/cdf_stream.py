"""Records of a CDF variable appended chunk by chunk, written from the CDF format description.

cdflib writes a variable's records in one call. A monthly product (a month of 8 Hz data) must
not be held whole, so :func:`magfw.io.cdf.write_cdf` lets cdflib's public writer declare such a
variable with no records, closes the file, and :func:`append_records` then adds the records
itself, one chunk at a time, following the *CDF Internal Format Description* (version 3):

- the CDR at byte 8 holds the GDR's offset (CDR +12) and the data encoding (CDR +28);
- the GDR holds the head of the zVDR chain (GDR +20) and the end of file ``eof`` (GDR +36);
- a zVDR holds the next zVDR (+12), the data type (+20), ``MaxRec`` (+24), the heads of its
  VXR list (``VXRhead`` +28, ``VXRtail`` +36), the number of elements (+64), the name (+84,
  256 bytes) and its dimensions (``zNumDims`` +340, ``zDimSizes`` from +344);
- a VVR is ``RecordSize`` (8 bytes), ``RecordType`` 7 (4) and the records, in the file's
  encoding, row-major;
- a VXR is ``RecordSize`` (8), ``RecordType`` 6 (4), ``VXRnext`` (8), ``Nentries`` (4),
  ``NusedEntries`` (4), then ``First`` (4 each), ``Last`` (4 each) and ``Offset`` (8 each) of
  the VVRs it indexes.

Every integer of these records is big-endian whatever the data encoding. Each chunk becomes
one VVR at the end of the file (the format allows any number); after the last, VXRs of at most
ten entries each (the NASA CDF library's limit) index them, chained by ``VXRnext``, so only
three integers per chunk are kept while writing. No private cdflib
method is used: the file cdflib closed is a complete CDF, and these records extend it as the
format describes (checked value by value against cdflib's public reader and the NASA CDF
library in tests/test_io_cdf.py).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np

from magfw.errors import DefinitionError

_VVR, _VXR, _ZVDR = 7, 6, 8
_BIG = frozenset({1, 2, 5, 7, 9, 11, 12, 18})  # NETWORK SUN SGi IBMRS PPC HP NeXT ARM_BIG
_LITTLE = frozenset({4, 6, 13, 16, 17})  # DECSTATION IBMPC ALPHAOSF1 ALPHAVMSi ARM_LITTLE
#: Bytes per value of each CDF data type code that can be streamed (numbers and times).
#: Entries per VXR: the NASA CDF library refuses a VXR of more than 10 ("corrupted").
VXR_ENTRIES = 10
_SIZES = {1: 1, 2: 2, 4: 4, 8: 8, 11: 1, 12: 2, 14: 4, 21: 4, 22: 8, 31: 8, 33: 8, 41: 1, 44: 4, 45: 8}


def _read_int(f: BinaryIO, offset: int, size: int) -> int:
    f.seek(offset)
    return int.from_bytes(f.read(size), "big", signed=True)


def _write_int(f: BinaryIO, offset: int, size: int, value: int) -> None:
    f.seek(offset)
    f.write(int(value).to_bytes(size, "big", signed=True))


def _byte_order(f: BinaryIO, where: Path) -> Literal["<", ">"]:
    """``<`` or ``>``: how the file's data values are stored (its CDR's encoding)."""
    encoding = _read_int(f, 8 + 28, 4)
    if encoding in _LITTLE:
        return "<"
    if encoding in _BIG:
        return ">"
    raise DefinitionError(where, f"CDF encoding {encoding} is not IEEE big- or little-endian")


def find_zvdr(f: BinaryIO, name: str, where: Path) -> int:
    """The offset of the zVDR of variable ``name`` (walking the GDR's zVDR chain)."""
    gdr = _read_int(f, 8 + 12, 8)
    vdr = _read_int(f, gdr + 20, 8)
    while vdr:
        if _read_int(f, vdr + 8, 4) != _ZVDR:
            raise DefinitionError(where, f"record at {vdr} is not a zVDR")
        f.seek(vdr + 84)
        if f.read(256).split(b"\0", 1)[0].decode("ascii", "replace") == name:
            return vdr
        vdr = _read_int(f, vdr + 12, 8)
    raise DefinitionError(where, f"variable {name!r} was not declared in the CDF")


def _record_layout(f: BinaryIO, vdr: int) -> tuple[int, tuple[int, ...], int]:
    """(data type code, dimension sizes, number of elements) of a zVDR."""
    code = _read_int(f, vdr + 20, 4)
    ndims = _read_int(f, vdr + 340, 4)
    f.seek(vdr + 344)
    dims = struct.unpack(f">{ndims}i", f.read(4 * ndims)) if ndims else ()
    return code, tuple(int(d) for d in dims), _read_int(f, vdr + 64, 4)


def _vxr(entries: list[tuple[int, int, int]], successor: int) -> bytes:
    """A VXR indexing ``entries`` (first record, last record, VVR offset); ``successor`` is the
    next VXR's offset (0: none)."""
    n = len(entries)
    head = struct.pack(">qiqii", 28 + 16 * n, _VXR, successor, n, n)
    firsts = struct.pack(f">{n}i", *(e[0] for e in entries))
    lasts = struct.pack(f">{n}i", *(e[1] for e in entries))
    offsets = struct.pack(f">{n}q", *(e[2] for e in entries))
    return head + firsts + lasts + offsets


def _vxr_chain(f: BinaryIO, entries: list[tuple[int, int, int]]) -> tuple[int, int]:
    """Write VXRs of at most :data:`VXR_ENTRIES` entries each, chained by ``VXRnext``, at the
    end of the file; return the offsets of the first and the last."""
    groups = [entries[i : i + VXR_ENTRIES] for i in range(0, len(entries), VXR_ENTRIES)]
    offset = first = f.seek(0, 2)
    last = offset
    for k, group in enumerate(groups):
        last = offset
        offset += 28 + 16 * len(group)
        f.write(_vxr(group, offset if k + 1 < len(groups) else 0))
    return first, last


#: Most bytes in one VVR: a reader of a record range (cdflib reads the VVRs holding it whole)
#: then reads a few MiB, not a day's or a month's records.
VVR_BYTES = 1 << 20


def append_records(path: Path, name: str, chunks: Iterable[np.ndarray], where: Path) -> int:
    """Append the records of the declared, still empty, variable ``name`` to the closed CDF at
    ``path``, in VVRs of at most :data:`VVR_BYTES` (one or more per non-empty chunk); return
    the number of records written.

    Each chunk is ``[n, *dims]`` of the variable's numpy dtype; it is written and released
    before the next is asked for."""
    with open(path, "rb+") as f:
        order = _byte_order(f, where)
        vdr = find_zvdr(f, name, where)
        code, dims, elements = _record_layout(f, vdr)
        if code not in _SIZES or elements != 1:
            raise DefinitionError(where, f"variable {name!r}: CDF type {code} cannot be streamed")
        if _read_int(f, vdr + 24, 4) != -1:
            raise DefinitionError(where, f"variable {name!r} already has records")
        entries: list[tuple[int, int, int]] = []
        rec = 0
        f.seek(0, 2)
        for chunk in chunks:
            n = int(chunk.shape[0])
            if n == 0:
                continue
            if tuple(chunk.shape[1:]) != dims or chunk.dtype.itemsize != _SIZES[code]:
                raise DefinitionError(
                    where,
                    f"variable {name!r}: a chunk of shape {list(chunk.shape)} and type {chunk.dtype} "
                    f"does not fit records of {list(dims)} values of {_SIZES[code]} bytes",
                )
            per_vvr = max(1, VVR_BYTES // max(1, chunk[:1].nbytes))
            for i in range(0, n, per_vvr):
                data = np.ascontiguousarray(chunk[i : i + per_vvr], dtype=chunk.dtype.newbyteorder(order))
                offset = f.tell()
                f.write(struct.pack(">qi", 12 + data.nbytes, _VVR))
                f.write(data.data)  # the buffer itself: no copy
                m = int(data.shape[0])
                del data
                entries.append((rec, rec + m - 1, offset))
                rec += m
        if entries:
            head, tail = _vxr_chain(f, entries)
            _write_int(f, vdr + 28, 8, head)  # VXRhead
            _write_int(f, vdr + 36, 8, tail)  # VXRtail
            _write_int(f, vdr + 24, 4, rec - 1)  # MaxRec
        eof = f.seek(0, 2)
        _write_int(f, _read_int(f, 8 + 12, 8) + 36, 8, eof)  # the GDR's eof
    return rec

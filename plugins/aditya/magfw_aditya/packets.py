"""Declarative CCSDS packet layouts: load the YAML description, decode and encode vectorised.

The layout of each packet type (fields, types, shapes, bit fields, expected values, checksum,
engineering conversions) lives in ``data/l0_packets.yaml``; this module holds no offsets. A
file of fixed-length packets is viewed as a numpy structured array in one call
(``np.frombuffer``), so a day of 1.35 million vectors decodes without a Python loop over
packets. The simulator encodes with the same description.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import ArrayLike

from magfw.api import DefinitionError, InputError

DEFAULT_LAYOUT = Path(__file__).parent / "data" / "l0_packets.yaml"


@dataclass(frozen=True, kw_only=True)
class Field:
    """One field of a packet: numpy type, shape, bit sub-fields, expectations, conversion."""

    name: str
    type: str
    shape: tuple[int, ...] = ()
    bits: dict[str, tuple[int, int]] = field(default_factory=dict)
    expect: Any = None
    checksum: str | None = None
    poly: tuple[float, ...] | None = None
    units: str = ""

    @property
    def nbits(self) -> int:
        return np.dtype(self.type).itemsize * 8


@dataclass(frozen=True, kw_only=True)
class PacketType:
    """A fixed-length packet type and its fields; ``dtype`` is the packet as a numpy record."""

    name: str
    length: int
    fields: tuple[Field, ...]
    byte_order: str
    extra: dict[str, Any]

    @functools.cached_property
    def dtype(self) -> np.dtype:
        bo = ">" if self.byte_order == "big" else "<"
        return np.dtype(
            [(f.name, bo + f.type, f.shape) if f.shape else (f.name, bo + f.type) for f in self.fields]
        )

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def bit_owner(self, sub: str) -> Field:
        for f in self.fields:
            if sub in f.bits:
                return f
        raise KeyError(sub)


@dataclass(frozen=True, kw_only=True)
class Layout:
    """The whole L0 description: packet types, OBT convention, time-correlation table."""

    path: Path
    packets: dict[str, PacketType]
    obt: dict[str, Any]
    time_correlation: dict[str, Any]

    def obt_seconds(self, rec: np.ndarray) -> np.ndarray:
        """OBT (float64 s) of decoded records, from the coarse and fine fields."""
        coarse = rec[self.obt["coarse"]].astype(np.float64)
        fine = rec[self.obt["fine"]].astype(np.float64)
        out: np.ndarray = coarse + fine / float(self.obt["fine_per_second"])
        return out

    def obt_fields(self, obt_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(coarse, fine) integers of OBT seconds, fine rounded to the nearest tick."""
        per = int(self.obt["fine_per_second"])
        ticks = np.round(np.asarray(obt_s, dtype=np.float64) * per).astype(np.int64)
        return ticks // per, ticks % per


def _field(raw: dict[str, Any], where: str) -> Field:
    try:
        np.dtype(raw["type"])
    except (KeyError, TypeError) as exc:
        raise DefinitionError(where, f"field {raw.get('name')!r}: bad or missing type") from exc
    bits = {k: (int(v[0]), int(v[1])) for k, v in (raw.get("bits") or {}).items()}
    conv = raw.get("conversion") or {}
    return Field(
        name=str(raw["name"]),
        type=str(raw["type"]),
        shape=tuple(raw.get("shape") or ()),
        bits=bits,
        expect=raw.get("expect"),
        checksum=raw.get("checksum"),
        poly=tuple(float(c) for c in conv["poly"]) if "poly" in conv else None,
        units=str(raw.get("units", "")),
    )


@functools.lru_cache(maxsize=8)
def load_layout(path: str | Path = DEFAULT_LAYOUT) -> Layout:
    """Read and check a packet-layout YAML (lengths must equal the sum of the field sizes)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError(path, f"cannot read packet layout: {exc}") from exc
    bo = raw.get("byte_order", "big")
    packets = {}
    for name, p in raw["packets"].items():
        fields = tuple(_field(f, str(path)) for f in p["fields"])
        extra = {k: v for k, v in p.items() if k not in ("fields", "length")}
        pt = PacketType(name=name, length=int(p["length"]), fields=fields, byte_order=bo, extra=extra)
        if pt.dtype.itemsize != pt.length:
            raise DefinitionError(
                path, f"packet {name}: fields add up to {pt.dtype.itemsize} bytes, length says {pt.length}"
            )
        packets[name] = pt
    return Layout(
        path=path, packets=packets, obt=raw["obt"], time_correlation=raw.get("time_correlation", {})
    )


@dataclass(kw_only=True)
class Decoded:
    """Decoded packets of one file: the valid records and how many were dropped, and why."""

    records: np.ndarray
    dropped: dict[str, int]

    @property
    def n_dropped(self) -> int:
        return sum(self.dropped.values())


def _sum16(packed: np.ndarray, length: int) -> np.ndarray:
    """Sum of the first ``length - 2`` bytes of each packet, modulo 65536."""
    out: np.ndarray = (packed[:, : length - 2].sum(axis=1, dtype=np.uint64) % 65536).astype(np.uint16)
    return out


def bit_value(pt: PacketType, rec: np.ndarray, sub: str) -> np.ndarray:
    """A bit sub-field of decoded records (vectorised shift and mask)."""
    owner = pt.bit_owner(sub)
    first, width = owner.bits[sub]
    word = rec[owner.name].astype(np.uint64)
    return ((word >> np.uint64(owner.nbits - first - width)) & np.uint64((1 << width) - 1)).astype(np.int64)


def engineering(pt: PacketType, rec: np.ndarray, name: str) -> np.ndarray:
    """A field in engineering units (its ``conversion`` polynomial applied)."""
    f = pt.field(name)
    raw = rec[name].astype(np.float64)
    if f.poly is None:
        return raw
    return np.polynomial.polynomial.polyval(raw, f.poly)


class TruncatedPackets(InputError):
    """A packet file whose size is not a whole number of packets: cut short, always an error."""


def decode(pt: PacketType, blob: bytes, where: str | Path) -> Decoded:
    """Decode a file of ``pt`` packets. A size that is not a whole number of packets is an
    InputError (truncated file); packets with a bad checksum or an unexpected header value are
    dropped and counted; a file with no valid packet is an InputError."""
    if len(blob) == 0:
        raise InputError(where, f"empty {pt.name} packet file")
    if len(blob) % pt.length:
        raise TruncatedPackets(
            where, f"truncated: {len(blob)} bytes is not a whole number of {pt.length}-byte {pt.name} packets"
        )
    packed = np.frombuffer(blob, dtype=np.uint8).reshape(-1, pt.length)
    rec = packed.view(pt.dtype).reshape(-1)
    good = np.ones(rec.size, dtype=bool)
    dropped: dict[str, int] = {}
    for f in pt.fields:
        bad = np.zeros(rec.size, dtype=bool)
        if f.checksum == "sum16":
            bad = rec[f.name] != _sum16(packed, pt.length)
        elif f.checksum is not None:
            raise DefinitionError(where, f"unknown checksum {f.checksum!r}")
        if isinstance(f.expect, dict):
            for sub, value in f.expect.items():
                bad |= bit_value(pt, rec, sub) != int(value)
        elif f.expect is not None:
            bad |= rec[f.name] != f.expect
        n = int(np.count_nonzero(bad & good))
        if n:
            dropped[f.name] = n
        good &= ~bad
    if not good.any():
        raise InputError(where, f"no valid {pt.name} packet among {rec.size} (failed: {', '.join(dropped)})")
    return Decoded(records=rec[good], dropped=dropped)


def encode(pt: PacketType, values: Mapping[str, ArrayLike], n: int) -> bytes:
    """Pack ``n`` packets: bit sub-fields and fields from ``values``, ``expect`` values where
    not given, checksums computed. Used by the simulator (and tests)."""
    rec = np.zeros(n, dtype=pt.dtype)
    for f in pt.fields:
        if f.bits:
            word = np.zeros(n, dtype=np.uint64)
            for sub, (first, width) in f.bits.items():
                v: ArrayLike | None = values.get(sub)
                if v is None and isinstance(f.expect, dict):
                    v = f.expect.get(sub)
                if v is None:
                    v = 0
                shift = np.uint64(f.nbits - first - width)
                word |= (np.asarray(v, dtype=np.uint64) & np.uint64((1 << width) - 1)) << shift
            rec[f.name] = word
        elif f.name in values:
            rec[f.name] = values[f.name]
        elif f.expect is not None and not f.checksum:
            rec[f.name] = f.expect
    for f in pt.fields:
        if f.checksum == "sum16":
            packed = rec.view(np.uint8).reshape(n, pt.length)
            rec[f.name] = _sum16(packed, pt.length)
    return rec.tobytes()


__all__ = [
    "DEFAULT_LAYOUT",
    "Decoded",
    "Field",
    "Layout",
    "PacketType",
    "bit_value",
    "decode",
    "encode",
    "engineering",
    "load_layout",
]

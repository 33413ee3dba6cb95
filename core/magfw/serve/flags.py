"""Quality flags of a dataset, found from its definition alone (no mission is named).

- **bit fields**: unsigned-integer variables whose notes (``VAR_NOTES``, else the description)
  name their bits (``bits 0-3 error counter; 19 timestamp resync (1 s glitch fixed); ...``),
  such as STEREO's ``MAGFLAGUC`` or PLASTIC's ``Quality_Flag``; a range names its first bit;
- **value flags**: a variable named like ``flag``/``quality`` with a handful of values
  (Aditya's ``Quality_flag_10s_data``), named by its CF ``flag_values``/``flag_meanings``.

What counts as *flagged* (the month figure's flagged fraction): a value flag whose meaning is
not "valid"/"good", or, without meanings, a value other than the file's most common one; a bit
field with a single-bit flag set that fewer than half of the samples have (a bit set in nearly
every sample is a state, such as the range or the calibration in force, not a flag; bits of a
named range, ``bits 4-7 command counter``, are a number, not flags).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from magfw.serve.datasets import Dataset
from magfw.serve.parameters import Parameter

_BITS = re.compile(r"(?:bits?\s+)?(\d+)(?:\s*-\s*(\d+))?\s+([^;]+)")
_GOOD = re.compile(r"\b(valid|good|ok|nominal)\b", re.IGNORECASE)
_BAD = re.compile(r"\b(bad|invalid|missing|not)\b", re.IGNORECASE)


def bit_names(notes: str) -> dict[int, str]:
    """Bit number -> meaning from a notes text (ranges name each bit ``label (bit n)``)."""
    out: dict[int, str] = {}
    for part in notes.split(";"):
        m = _BITS.search(part.strip())
        if m:
            first = int(m.group(1))
            last = int(m.group(2)) if m.group(2) else first
            label = m.group(3).strip()
            if last > 63 or first > last:
                continue
            for b in range(first, last + 1):
                out[b] = label if first == last else f"{label} (bit {b})"
    return out


@dataclass(frozen=True, kw_only=True)
class Flag:
    """One flag variable of a dataset."""

    param: Parameter
    kind: str  #: bits | values
    bits: dict[int, str] = field(default_factory=dict)  #: bit -> name (bit fields)
    counters: int = 0  #: mask of the bits that belong to a named range of bits (a number)
    meanings: dict[float, str] = field(default_factory=dict)  #: value -> meaning (value flags)

    def good_values(self) -> set[float] | None:
        """Values that mean valid data (value flags with meanings), else None."""
        good = {v for v, m in self.meanings.items() if _GOOD.search(m) and not _BAD.search(m)}
        return good or None


def _meanings(attrs: dict[str, object]) -> dict[float, str]:
    values, names = attrs.get("flag_values"), attrs.get("flag_meanings")
    if values is None or not isinstance(names, str):
        return {}
    vals = [float(v) for v in np.atleast_1d(np.asarray(values, dtype=np.float64))]
    words = names.split()
    return dict(zip(vals, [w.replace("_", " ") for w in words], strict=False))


def dataset_flags(ds: Dataset) -> list[Flag]:
    """The flag variables of ``ds`` (module notes), in parameter order."""
    out: list[Flag] = []
    for p in ds.parameters[1:]:
        var = p.variable
        if var is None or p.size:
            continue
        notes = str(var.attrs.get("VAR_NOTES") or "")
        named = re.search(r"flag|quality|status", var.name, re.IGNORECASE) is not None
        if var.dtype in ("uint8", "uint16", "uint32", "int64"):
            described = named and re.search(r"\bbits?\b", var.description, re.IGNORECASE)
            bits = bit_names(notes) or (bit_names(var.description) if described else {})
            if bits or (named and var.dtype != "uint8"):
                counters = sum(1 << b for b, name in bits.items() if name.endswith(f"(bit {b})"))
                out.append(Flag(param=p, kind="bits", bits=bits, counters=counters))
                continue
        if named:
            out.append(Flag(param=p, kind="values", meanings=_meanings(var.attrs)))
    return out


def flagged(flag: Flag, values: np.ndarray, valid: np.ndarray, common: float | int | None) -> np.ndarray:
    """Which samples are flagged (module notes); ``common``: for bit fields the mask of the
    bits most samples of the file have, for value flags without meanings the most common
    value."""
    if flag.kind == "bits":
        rare = ~np.uint64(int(common or 0) | flag.counters)
        hit: np.ndarray = valid & ((values.astype(np.uint64) & rare) != 0)
        return hit
    good = flag.good_values()
    if good is not None:
        return valid & ~np.isin(values, list(good))
    return valid & (values != common) if common is not None else np.zeros(values.shape, dtype=bool)


def common_of(flag: Flag, counts: dict[int, int], value_counts: dict[float, int], total: int) -> float | int:
    """The ``common`` of :func:`flagged` from a file's bit counts or value counts."""
    if flag.kind == "bits":
        return sum(1 << b for b, c in counts.items() if total and c * 2 >= total)
    return max(value_counts, key=lambda v: value_counts[v]) if value_counts else 0

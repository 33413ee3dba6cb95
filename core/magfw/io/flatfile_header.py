"""The ``.ffh`` header of a UCLA/IGPP flat file: its 72-character records, the keywords, the
column table, the abstract, and the long values that run over several records.

Format summary (``shared/research/flatfile.md``): fixed 72-character records laid end to end
with no line terminators: ``KEY = value`` records (DATA, CDATE, RECL, NCOLS, NROWS, OPSYS,
EPOCH), a column table whose heading holds the tokens ``# NAME UNITS SOURCE TYPE LOC``, an
``ABSTRACT`` record, free abstract text (with ``FIRST TIME``, ``LAST TIME``, ``MISSING DATA
FLAG``/``ERROR FLAG`` records), and ``END``.

Long lines
    The format has no continuation rule: text longer than a record "simply runs on into the
    next record, even mid-word" (research 1.1), so a reader cannot tell one long value from two
    lines. magfw writes an abstract line longer than a record over several (:func:`wrap_line`),
    as FITS continues a long string: every record but the last ends with ``&``, and each
    continuation record starts with :data:`INDENT` blanks (under the value column of ``KEY<19>=
    value``). Lines are broken after a blank where one falls in the record (so no word is cut),
    otherwise after a ``/`` (a long path), otherwise at the record's end. :func:`join_continued`
    undoes exactly that: a record ending with ``&`` followed by a record whose first
    :data:`INDENT` characters are blank and whose rest is not joins it, without the ``&`` and
    the indent. Trailing blanks of a line are not
    kept (records are blank-padded). No real UCLA sample holds such a pair, so their reading is
    unchanged; a program that does not know the rule sees the value on several lines.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from magfw.errors import InputError
from magfw.geometry.time import TimeError, tt2000_breakdown

RECORD = 72  #: characters per header record
DEFAULT_FILL = 1e34  #: fill value when the header names none (fflib's default)
MAX_NAME = 9  #: longest NAME/UNITS that fflib reads back intact
MAX_SOURCE = 25
INDENT = 21  #: blanks that open a continuation record (the value column of ``KEY<19>= ``)
CONTINUED = "&"  #: last character of a record whose line goes on in the next record
WIDTH = {"T": 8, "D": 8, "R": 4}  #: bytes of a column of each TYPE
FORMAT = {"T": ">f8", "D": ">f8", "R": ">f4"}  #: numpy format of a column of each TYPE
RESERVED = frozenset({"DATA", "CDATE", "RECL", "NCOLS", "NROWS", "OPSYS", "EPOCH", "FIRST TIME",
                      "LAST TIME", "MISSING DATA FLAG", "ERROR FLAG", "ABSTRACT", "END"})  # fmt: skip
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_TABLE_TOKENS = {"#", "NAME", "UNITS", "SOURCE", "TYPE", "LOC"}
_ABSTRACT_KEY = re.compile(r"([A-Z][A-Z0-9 _.()/&-]*?)\s*=(?!.*=)\s*(.*)$")


@dataclass(kw_only=True)
class FlatFileColumn:
    """One row of the column table: LOC is the byte offset inside a ``.ffd`` record."""

    name: str
    units: str
    source: str
    type: Literal["T", "D", "R"]
    loc: int

    @property
    def width(self) -> int:
        """Bytes the column occupies (8 for T/D, 4 for R)."""
        return WIDTH[self.type]


@dataclass(frozen=True)
class Header:
    """A parsed header: keywords (abstract ``KEY = value`` records after the table's), columns
    in table order, abstract lines (continuations joined) and the fill value."""

    keywords: dict[str, str]
    columns: list[FlatFileColumn]
    abstract: list[str]
    fill: float


def pair(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """(.ffh, .ffd) for ``x.ffh``, ``x.ffd`` or the base name ``x``: files pair by base name."""
    p = Path(path)
    if p.suffix.lower() in (".ffh", ".ffd"):
        p = p.with_suffix("")
    return p.parent / (p.name + ".ffh"), p.parent / (p.name + ".ffd")


# ------------------------------------------------------------------------------ long lines


def wrap_line(line: str) -> list[str]:
    """The records of one line (no line break in it; see the module notes on long lines)."""
    out: list[str] = []
    rest = line.rstrip()
    while True:
        prefix = " " * INDENT if out else ""
        room = RECORD - len(prefix)
        if len(rest) <= room:
            out.append(prefix + rest)
            return out
        room -= len(CONTINUED)
        out.append(prefix + rest[: (cut := _break(rest, room))] + CONTINUED)
        rest = rest[cut:]


def _break(text: str, room: int) -> int:
    """Where to end a record of ``text`` holding at most ``room`` characters: after the last
    blank that fits, else (one word longer than a record, e.g. a path) after its last ``/``,
    else at ``room``."""
    for mark in (" ", "/"):
        cut = text.rfind(mark, 0, room) + 1
        if cut > 0 and text[:cut].strip():
            return cut
    return room


def join_continued(records: list[str]) -> list[str]:
    """Abstract records as lines: continuation records joined (module notes), right-trimmed."""
    lines: list[str] = []
    for rec in records:
        if lines and lines[-1].endswith(CONTINUED) and not rec[:INDENT].strip() and rec[INDENT:].strip():
            lines[-1] = lines[-1][: -len(CONTINUED)] + rec[INDENT:].rstrip()
        else:
            lines.append(rec.rstrip())
    return lines


# -------------------------------------------------------------------------------- reading


def split_records(raw: bytes, ffh: Path) -> list[str]:
    """Header bytes as records.

    A header that contains line breaks is accepted (each line one record, lines longer than 72
    characters cut into 72-character records), since the text is unambiguous; fflib itself
    cannot read such headers and magfw never writes them. Without line breaks the size must be
    a multiple of 72."""
    if b"\0" in raw:
        raise InputError(ffh, "header contains binary (NUL) bytes; not a flat-file header")
    text = raw.decode("latin-1")
    first = text.splitlines()[0][:RECORD] if text else ""
    if re.match(r"\s*(FLAT\s*FILE\s*)?VERSION\s*=", first, re.I):
        raise InputError(
            ffh,
            f"{first.strip()!r}: this is the unrelated 'FLAT FILE VERSION=3.0' dialect "
            "(little-endian, MJD time), not a UCLA/IGPP flat file; not supported",
        )
    if "\n" in text or "\r" in text:
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return [ln[i : i + RECORD] for ln in lines for i in range(0, max(len(ln), 1), RECORD)]
    if len(raw) % RECORD:
        raise InputError(
            ffh,
            f"header is {len(raw)} bytes, not a whole number of {RECORD}-character records "
            "(truncated, or not a flat-file header)",
        )
    return [text[i : i + RECORD] for i in range(0, len(text), RECORD)]


def int_key(keys: Mapping[str, str], key: str, ffh: Path, required: bool) -> int | None:
    """The integer keyword ``key`` (RECL, NCOLS, NROWS), or None when absent and optional."""
    if key not in keys:
        if required:
            raise InputError(ffh, f"no {key} keyword before the column table")
        return None
    try:
        value = int(keys[key].split()[0])
    except (ValueError, IndexError):
        raise InputError(ffh, f"{key} = {keys[key]!r} is not an integer") from None
    if value < 0 or (key == "RECL" and value == 0):
        raise InputError(ffh, f"{key} = {value} is out of range")
    return value


def _parse_row(rec: str, pos: Mapping[str, int], ffh: Path) -> tuple[int, FlatFileColumn]:
    parts = rec.rstrip().rsplit(None, 2)
    number = int(rec.split()[0])
    if len(parts) < 3 or len(rec.split()) < 3:
        raise InputError(ffh, f"column table row {rec.strip()!r} lacks TYPE and LOC")
    head, typ, loc = parts
    name = head[pos["NAME"] : pos["UNITS"]].strip()
    units = head[pos["UNITS"] : pos["SOURCE"]].strip()
    source = head[pos["SOURCE"] :].strip()
    if typ.upper() not in WIDTH:
        raise InputError(
            ffh,
            f"column {number} ({name}) has unknown TYPE {typ!r}; "
            "only T, D (float64) and R (float32) are defined",
        )
    try:
        offset = int(loc)
    except ValueError:
        raise InputError(ffh, f"column {number} ({name}) has LOC {loc!r}, not an integer") from None
    if offset < 0:
        raise InputError(ffh, f"column {number} ({name}) has negative LOC {offset}")
    return number, FlatFileColumn(name=name, units=units, source=source, type=typ.upper(), loc=offset)  # type: ignore[arg-type]


def _parse_table(heading: str, rows: list[str], ffh: Path) -> list[FlatFileColumn]:
    pos = {tok: heading.index(tok) for tok in ("NAME", "UNITS", "SOURCE")}
    columns = sorted((_parse_row(rec, pos, ffh) for rec in rows), key=lambda nc: nc[0])
    return [c for _, c in columns]


def _fill_value(abstract_keys: Mapping[str, str], ffh: Path) -> float:
    text = abstract_keys.get("ERROR FLAG", abstract_keys.get("MISSING DATA FLAG"))
    if text is None:
        return DEFAULT_FILL
    try:
        return float(text.split()[0].replace("D", "E").replace("d", "e"))
    except (ValueError, IndexError):
        raise InputError(ffh, f"fill value {text!r} is not a number") from None


def _table(records: list[str], ffh: Path) -> tuple[int, int]:
    """Index of the column table's heading and of the first record after its rows."""
    heading = next((i for i, r in enumerate(records) if set(r.split()) == _TABLE_TOKENS), None)
    if heading is None:
        raise InputError(ffh, "no column table (heading '# NAME UNITS SOURCE TYPE LOC') before END")
    n = heading + 1
    while n < len(records) and re.match(r"\s*\d+\s", records[n]):
        n += 1
    return heading, n


def parse_header(ffh: Path) -> Header:
    """Keywords, columns, abstract lines and fill value of the header file ``ffh``."""
    records = split_records(ffh.read_bytes(), ffh)
    end = next((i for i, r in enumerate(records) if r.strip() == "END"), None)
    if end is None:
        raise InputError(ffh, "no END record (truncated header?)")
    records = records[:end]
    heading, n = _table(records, ffh)
    keys: dict[str, str] = {}
    for rec in records[:heading]:
        if "=" in rec:
            key, value = rec.split("=", 1)
            keys.setdefault(key.strip().upper(), value.strip())
    columns = _parse_table(records[heading], records[heading + 1 : n], ffh)
    ncols = int_key(keys, "NCOLS", ffh, required=False)
    if ncols is not None and ncols != len(columns):
        raise InputError(ffh, f"NCOLS = {ncols} but the column table has {len(columns)} rows")
    if not columns:
        raise InputError(ffh, "the column table has no rows")
    rest = records[n:]
    if rest and rest[0].split()[:1] == ["ABSTRACT"]:
        title = rest.pop(0).strip()[len("ABSTRACT") :].strip()
        if title:  # e.g. "ABSTRACT MMSFGML22FF jfc3 3-12-2018"
            keys.setdefault("ABSTRACT", title)
    abstract = join_continued(rest)
    abstract_keys: dict[str, str] = {}
    for line in abstract:
        m = _ABSTRACT_KEY.match(line)
        if m:
            abstract_keys.setdefault(m.group(1), m.group(2).strip())
    fill = _fill_value(abstract_keys, ffh)
    for key, value in abstract_keys.items():
        keys.setdefault(key, value)
    return Header(keys, columns, abstract, fill)


# ------------------------------------------------------------------------- abstract times


def format_abstract_time(tt: int | np.integer) -> str:
    """FIRST/LAST TIME text of TT2000, ``2024 061 Mar 01 00:00:00.000`` (UTC, rounded to ms)."""
    y, mo, d, h, mi, s, ms = (int(v) for v in tt2000_breakdown(np.int64(tt), 1_000_000)[:7])
    doy = (_dt.date(y, mo, d) - _dt.date(y, 1, 1)).days + 1
    return f"{y:04d} {doy:03d} {MONTHS[mo - 1].title()} {d:02d} {h:02d}:{mi:02d}:{s:02d}.{ms:03d}"


def parse_abstract_time(text: str) -> np.int64:
    """TT2000 of a FIRST/LAST TIME value: legacy ``77 314 NOV 10  13:30:02.501`` (years since
    1900) or ``2015 289 Oct 16 09:32:34.697``. The day of year must agree with the date."""
    from magfw.geometry.time import tt2000_from_iso

    m = re.fullmatch(r"\s*(\d+)\s+(\d+)\s+([A-Za-z]{3})\s+(\d+)\s+(\d+:\d+:\d+(?:\.\d*)?)\s*", text)
    if not m or m.group(3).upper() not in MONTHS:
        raise TimeError(None, f"not a flat-file time 'YYYY DDD Mon DD hh:mm:ss.fff': {text!r}")
    year = int(m.group(1))
    year += 1900 if year < 1000 else 0
    month, day = MONTHS.index(m.group(3).upper()) + 1, int(m.group(4))
    try:
        doy = (_dt.date(year, month, day) - _dt.date(year, 1, 1)).days + 1
    except ValueError:
        raise TimeError(None, f"not a calendar date: {text!r}") from None
    if doy != int(m.group(2)):
        raise TimeError(None, f"day of year {m.group(2)} disagrees with the date in {text!r}")
    hh, mm, ss = m.group(5).split(":")
    si, _, frac = ss.partition(".")
    clock = f"{int(hh):02d}:{int(mm):02d}:{int(si):02d}" + (f".{frac}" if frac else "")
    return np.int64(tt2000_from_iso(f"{year:04d}-{month:02d}-{day:02d}T{clock}"))

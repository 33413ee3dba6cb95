"""UCLA/IGPP flat files: a ``.ffh`` ASCII header and a ``.ffd`` big-endian binary data file.

Format summary (``shared/research/flatfile.md``):

- ``.ffh``: fixed 72-character records laid end to end with no line terminators: ``KEY = value``
  records (DATA, CDATE, RECL, NCOLS, NROWS, OPSYS, EPOCH), a column table whose heading holds
  the tokens ``# NAME UNITS SOURCE TYPE LOC``, an ``ABSTRACT`` record, free abstract text (with
  ``FIRST TIME``, ``LAST TIME``, ``MISSING DATA FLAG``/``ERROR FLAG`` records), and ``END``.
- ``.ffd``: NROWS records of RECL bytes; column *i* is at byte LOC *i*; TYPE ``T``/``D`` is a
  big-endian float64, ``R`` a big-endian float32. The time column is the first ``T`` column,
  otherwise column 0; its ticks count seconds in the time base named by EPOCH (default Y1966,
  see :func:`magfw.geometry.time.tt2000_from_flatfile`).

Reader choices
    Files pair by base name; the DATA keyword is informational and often wrong. A header that
    contains line breaks is accepted (each line one record, lines longer than 72 characters cut
    into 72-character records), since the text is unambiguous; fflib itself cannot read such
    headers and :func:`write_flatfile` never writes them. Without line breaks the size must be a
    multiple of 72. Anything after ``END`` is ignored. Non-monotonic times are not an error (see
    :attr:`FlatFile.is_monotonic`). The unrelated ``FLAT FILE VERSION=3.0`` dialect (little-endian,
    MJD time) and little-endian UCLA files are rejected with a clear error.

Writer choices
    The legacy fixed layout of the 1990s UCLA files (field positions 0/4/14/24/50, LOC
    right-justified ending at column 58), big-endian ``>f8`` time + ``>f4`` data, CDATE in UTC.
    Names and units are limited to 9 characters because fflib reads those fields one place to
    the left. Y1966/Y1970 ticks cannot show a leap second: samples inside 23:59:60 get the ticks
    of 23:59:59.x (as fflib's datetimes do), so they read back one second earlier; Y2000/J2000
    count leap seconds and round-trip exactly.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
from numpy.lib import recfunctions

from magfw.errors import InputError, MissingInputError, UsageError
from magfw.geometry.time import (
    FLATFILE_EPOCHS,
    TT2000_FILL,
    TimeError,
    tt2000_breakdown,
    tt2000_from_flatfile,
    tt2000_to_flatfile,
)
from magfw.io.atomic import atomic_path
from magfw.io.checksum import write_hashed

__all__ = [
    "DEFAULT_FILL",
    "FlatFile",
    "FlatFileColumn",
    "format_abstract_time",
    "parse_abstract_time",
    "read_flatfile",
    "write_flatfile",
]

RECORD = 72  #: characters per header record
DEFAULT_FILL = 1e34  #: fill value when the header names none (fflib's default)
MAX_NAME = 9  #: longest NAME/UNITS that fflib reads back intact
MAX_SOURCE = 25
_TABLE_TOKENS = {"#", "NAME", "UNITS", "SOURCE", "TYPE", "LOC"}
_WIDTH = {"T": 8, "D": 8, "R": 4}
_FORMAT = {"T": ">f8", "D": ">f8", "R": ">f4"}
_ABSTRACT_KEY = re.compile(r"([A-Z][A-Z0-9 _.()/&-]*?)\s*=(?!.*=)\s*(.*)$")
_RESERVED = {"DATA", "CDATE", "RECL", "NCOLS", "NROWS", "OPSYS", "EPOCH", "FIRST TIME",
             "LAST TIME", "MISSING DATA FLAG", "ERROR FLAG", "ABSTRACT", "END"}  # fmt: skip
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_MAX_PLAUSIBLE_TICK = 1e11  # s; ~3000 years: beyond this the byte order is wrong


@dataclass
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
        return _WIDTH[self.type]


@dataclass
class FlatFile:
    """A decoded flat file.

    ``time`` is int64 TT2000 ns (fill where a tick is not a time); ``data`` holds every column
    except the time column, in table order, shape (N, ncols - 1): float32 when all of them are
    ``R``, float64 otherwise. Fill values are kept as stored (use :meth:`column` for NaN).
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


def _time_index(columns: Sequence[FlatFileColumn]) -> int:
    return next((i for i, c in enumerate(columns) if c.type == "T"), 0)


# ------------------------------------------------------------------------------------- paths


def _pair(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """(.ffh, .ffd) for ``x.ffh``, ``x.ffd`` or the base name ``x``."""
    p = Path(path)
    if p.suffix.lower() in (".ffh", ".ffd"):
        p = p.with_suffix("")
    return p.parent / (p.name + ".ffh"), p.parent / (p.name + ".ffd")


# ------------------------------------------------------------------------------------ reading


def _records(raw: bytes, ffh: Path) -> list[str]:
    """Split header bytes into records (see module notes on line breaks)."""
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


def _int_key(keys: Mapping[str, str], key: str, ffh: Path, required: bool) -> int | None:
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


def _parse_table(heading: str, rows: list[str], ffh: Path) -> list[FlatFileColumn]:
    pos = {tok: heading.index(tok) for tok in ("NAME", "UNITS", "SOURCE")}
    columns: list[tuple[int, FlatFileColumn]] = []
    for rec in rows:
        parts = rec.rstrip().rsplit(None, 2)
        number = int(rec.split()[0])
        if len(parts) < 3 or len(rec.split()) < 3:
            raise InputError(ffh, f"column table row {rec.strip()!r} lacks TYPE and LOC")
        head, typ, loc = parts
        name = head[pos["NAME"] : pos["UNITS"]].strip()
        units = head[pos["UNITS"] : pos["SOURCE"]].strip()
        source = head[pos["SOURCE"] :].strip()
        if typ.upper() not in _WIDTH:
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
        columns.append((number, FlatFileColumn(name, units, source, typ.upper(), offset)))  # type: ignore[arg-type]
    columns.sort(key=lambda nc: nc[0])
    return [c for _, c in columns]


def _fill_value(abstract_keys: Mapping[str, str], ffh: Path) -> float:
    text = abstract_keys.get("ERROR FLAG", abstract_keys.get("MISSING DATA FLAG"))
    if text is None:
        return DEFAULT_FILL
    try:
        return float(text.split()[0].replace("D", "E").replace("d", "e"))
    except (ValueError, IndexError):
        raise InputError(ffh, f"fill value {text!r} is not a number") from None


def _parse_header(ffh: Path) -> tuple[dict[str, str], list[FlatFileColumn], list[str], float]:
    """Keywords, columns, abstract records and fill value of a header."""
    records = _records(ffh.read_bytes(), ffh)
    end = next((i for i, r in enumerate(records) if r.strip() == "END"), None)
    if end is None:
        raise InputError(ffh, "no END record (truncated header?)")
    records = records[:end]
    heading = next((i for i, r in enumerate(records) if set(r.split()) == _TABLE_TOKENS), None)
    if heading is None:
        raise InputError(ffh, "no column table (heading '# NAME UNITS SOURCE TYPE LOC') before END")
    keys: dict[str, str] = {}
    for rec in records[:heading]:
        if "=" in rec:
            key, value = rec.split("=", 1)
            keys.setdefault(key.strip().upper(), value.strip())
    n = heading + 1
    while n < len(records) and re.match(r"\s*\d+\s", records[n]):
        n += 1
    columns = _parse_table(records[heading], records[heading + 1 : n], ffh)
    ncols = _int_key(keys, "NCOLS", ffh, required=False)
    if ncols is not None and ncols != len(columns):
        raise InputError(ffh, f"NCOLS = {ncols} but the column table has {len(columns)} rows")
    if not columns:
        raise InputError(ffh, "the column table has no rows")
    abstract: list[str] = []
    abstract_keys: dict[str, str] = {}
    rest = records[n:]
    if rest and rest[0].split()[:1] == ["ABSTRACT"]:
        title = rest.pop(0).strip()[len("ABSTRACT") :].strip()
        if title:  # e.g. "ABSTRACT MMSFGML22FF jfc3 3-12-2018"
            keys.setdefault("ABSTRACT", title)
    for rec in rest:
        abstract.append(rec.rstrip())
        m = _ABSTRACT_KEY.match(rec.rstrip())
        if m:
            abstract_keys.setdefault(m.group(1), m.group(2).strip())
    fill = _fill_value(abstract_keys, ffh)
    for key, value in abstract_keys.items():
        keys.setdefault(key, value)
    return keys, columns, abstract, fill


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
        "formats": [_FORMAT[c.type] for c in columns],
        "offsets": [c.loc for c in columns],
        "itemsize": recl,
    })  # fmt: skip


def _plausible(ticks: np.ndarray) -> bool:
    """First and last ticks look like times: finite, under ~3000 years and not denormal-tiny
    (a float64 read in the wrong byte order is almost always huge, tiny or NaN)."""
    ends = np.abs(ticks[[0, -1]])
    ok = np.isfinite(ends) & (ends < _MAX_PLAUSIBLE_TICK) & ((ends == 0) | (ends > 1e-3))
    return bool(np.all(ok))


def read_flatfile(path: str | os.PathLike[str]) -> FlatFile:
    """Read a UCLA/IGPP flat file given as ``x.ffh``, ``x.ffd`` or the base name ``x``.

    Raises :class:`~magfw.errors.InputError` (one line, naming the file) for a missing half,
    a malformed header, an unknown TYPE or EPOCH, a RECL/NROWS/size mismatch or a truncated
    ``.ffd``, the VERSION=3.0 dialect, or little-endian data.
    """
    ffh, ffd = _pair(path)
    if not ffh.is_file():
        raise MissingInputError(ffh, "flat-file header (.ffh) not found")
    if not ffd.is_file():
        raise MissingInputError(ffd, f"flat-file data (.ffd) not found (header {ffh.name} exists)")
    keys, columns, abstract, fill = _parse_header(ffh)
    recl = _int_key(keys, "RECL", ffh, required=True)
    assert recl is not None
    nrows = _int_key(keys, "NROWS", ffh, required=False)
    epoch = keys.get("EPOCH", "Y1966").strip().upper() or "Y1966"
    if epoch not in FLATFILE_EPOCHS:
        raise InputError(ffh, f"EPOCH = {epoch!r} is unknown; expected {', '.join(FLATFILE_EPOCHS)}")
    dtype = _record_dtype(columns, recl, ffh)
    needed = max(c.loc + c.width for c in columns)
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
    rows = size // recl
    records = np.fromfile(ffd, dtype=dtype, count=rows)
    t_index = _time_index(columns)
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
    time = np.asarray(tt2000_from_flatfile(ticks, epoch), dtype=np.int64)
    return FlatFile(columns, time, data, epoch, fill, keys, abstract, ffh, ticks)


# ------------------------------------------------------------------------- abstract times


def format_abstract_time(tt: int | np.integer) -> str:
    """FIRST/LAST TIME text of TT2000, ``2024 061 Mar 01 00:00:00.000`` (UTC, rounded to ms)."""
    y, mo, d, h, mi, s, ms = (int(v) for v in tt2000_breakdown(np.int64(tt), 1_000_000)[:7])
    doy = (_dt.date(y, mo, d) - _dt.date(y, 1, 1)).days + 1
    return f"{y:04d} {doy:03d} {_MONTHS[mo - 1].title()} {d:02d} {h:02d}:{mi:02d}:{s:02d}.{ms:03d}"


def parse_abstract_time(text: str) -> np.int64:
    """TT2000 of a FIRST/LAST TIME value: legacy ``77 314 NOV 10  13:30:02.501`` (years since
    1900) or ``2015 289 Oct 16 09:32:34.697``. The day of year must agree with the date."""
    from magfw.geometry.time import tt2000_from_iso

    m = re.fullmatch(r"\s*(\d+)\s+(\d+)\s+([A-Za-z]{3})\s+(\d+)\s+(\d+:\d+:\d+(?:\.\d*)?)\s*", text)
    if not m or m.group(3).upper() not in _MONTHS:
        raise TimeError(None, f"not a flat-file time 'YYYY DDD Mon DD hh:mm:ss.fff': {text!r}")
    year = int(m.group(1))
    year += 1900 if year < 1000 else 0
    month, day = _MONTHS.index(m.group(3).upper()) + 1, int(m.group(4))
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


# ------------------------------------------------------------------------------------ writing


def _ascii(text: str, what: str, where: Path) -> str:
    if not text.isascii() or not text.isprintable():
        raise UsageError(where, f"{what} {text!r} must be printable ASCII on one line")
    return text


def _fill_text(fill: float) -> str:
    text = f"{fill: .6E}"
    return text if float(text) == fill else f" {fill!r}"


def _wrap(line: str) -> list[str]:
    return [line[i : i + RECORD] for i in range(0, len(line), RECORD)] or [""]


def _write_ffd(path: Path, records: np.ndarray) -> str:
    """Write the records in one write, flushed to disk, hashed while written; the digest."""
    return write_hashed(path, np.ascontiguousarray(records)).sha256


def _write_ffh(path: Path, header: bytes) -> str:
    return write_hashed(path, header).sha256


def write_flatfile(
    base_path: str | os.PathLike[str],
    time_tt2000: npt.ArrayLike,
    data: npt.ArrayLike,
    columns: Sequence[tuple[str, str, str] | FlatFileColumn],
    epoch: str = "Y1966",
    fill: float = DEFAULT_FILL,
    time_name: str = "TIME",
    time_units: str = "SEC",
    abstract: Iterable[str] = (),
    keywords: Mapping[str, str] | None = None,
    *,
    time_source: str = "",
    created: _dt.datetime | None = None,
    digests: dict[Path, str] | None = None,
) -> tuple[Path, Path]:
    """Write ``base.ffh`` and ``base.ffd`` (legacy UCLA layout, big-endian) and return both paths.

    ``time_tt2000``: int64 TT2000 (N,); ``data``: (N, k) (or (N,)) values, written as float32 with
    NaN as ``fill``; ``columns``: (name, units, source) of the k data columns (or
    :class:`FlatFileColumn` objects, whose type and loc are ignored). ``abstract`` lines
    follow FIRST TIME, LAST TIME, MISSING DATA FLAG and ``keywords`` (``KEY = value`` records);
    lines longer than 72 characters run on into further records. ``created`` sets CDATE (UTC;
    default now). The ``.ffd`` is renamed into place first, then the ``.ffh``; on any failure
    neither file is created or changed. Raises :class:`~magfw.errors.UsageError` for bad input.
    """
    ffh, ffd = _pair(base_path)
    where = ffh.with_suffix("")
    time = np.asarray(time_tt2000)
    if time.ndim != 1 or time.dtype.kind not in "iu":
        raise UsageError(where, f"time must be 1-D int64 TT2000, got {time.dtype} shape {time.shape}")
    time = time.astype(np.int64, copy=False)
    values = np.asarray(data)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[0] != time.shape[0] or values.dtype.kind not in "iuf":
        raise UsageError(where, f"data must be real, shape (N, k) with N = {time.shape[0]}; "
                         f"got {values.dtype} {values.shape}")  # fmt: skip
    if len(columns) != values.shape[1]:
        raise UsageError(where, f"{len(columns)} column descriptions for {values.shape[1]} data columns")
    if np.any(time == TT2000_FILL):
        raise UsageError(where, "time holds fill values; every record needs a time")
    if not np.isfinite(fill) or not np.isfinite(np.float32(fill)):
        raise UsageError(where, f"fill value {fill!r} is not a finite float32")
    try:
        ticks = np.asarray(tt2000_to_flatfile(time, epoch), dtype=np.float64)
        epoch = epoch.strip().upper()
    except TimeError as exc:
        raise UsageError(where, exc.problem) from None
    described = [(time_name, time_units, time_source)] + [
        (c.name, c.units, c.source) if isinstance(c, FlatFileColumn) else tuple(c) for c in columns
    ]
    for entry in described:
        if len(entry) != 3:
            raise UsageError(where, f"column description {entry!r} is not (name, units, source)")
        name, units, source = (str(x) for x in entry)
        for what, text, limit in (("name", name, MAX_NAME), ("units", units, MAX_NAME),
                                  ("source", source, MAX_SOURCE)):  # fmt: skip
            _ascii(text, f"column {what}", where)
            if len(text) > limit or text != text.strip():
                raise UsageError(where, f"column {what} {text!r}: at most {limit} characters, no "
                                 "leading/trailing blanks (fflib reads longer ones truncated)")  # fmt: skip
        if not name:
            raise UsageError(where, "column names must not be empty")

    with np.errstate(over="ignore", invalid="ignore"):
        values32 = values.astype(np.float32)
    if values.dtype != np.float32 and np.any(np.isinf(values32) & np.isfinite(values)):
        raise UsageError(where, "data values exceed the float32 range")
    values32[np.isnan(values32)] = np.float32(fill)
    n, k = values32.shape
    recl = 8 + 4 * k
    records = np.empty(n, dtype=np.dtype([("t", ">f8"), ("d", ">f4", (k,))]))
    records["t"] = ticks
    records["d"] = values32

    created = created or _dt.datetime.now(_dt.UTC)
    recs = [
        f"DATA  = {ffd.name}"[:RECORD],
        f"CDATE = {created:%Y %j} {_MONTHS[created.month - 1].title()} {created:%d %H:%M:%S}",
        f"RECL  = {recl:5d}",
        f"NCOLS = {k + 1:5d}",
        f"NROWS = {n:10d}",
        "OPSYS = SUN/UNIX",
        f"EPOCH = {epoch}",
        f"{'#':>3} {'NAME':<10}{'UNITS':<10}{'SOURCE':<26}{'TYPE':<6}LOC",
    ]
    for i, (name, units, source) in enumerate(described):
        typ, loc = ("T", 0) if i == 0 else ("R", 8 + 4 * (i - 1))
        recs.append(f"{i + 1:03d} {name:<10}{units:<10}{source:<26}{typ}{loc:8d}")
    recs.append("ABSTRACT")
    if n:
        back = tt2000_from_flatfile(ticks[[0, -1]], epoch)  # what a reader will decode
        recs.append(f"{'FIRST TIME':<19}= {format_abstract_time(back[0])}")
        recs.append(f"{'LAST TIME':<19}= {format_abstract_time(back[1])}")
    recs.append(f"{'MISSING DATA FLAG':<19}= {_fill_text(fill)}")
    for key, value in (keywords or {}).items():
        key, value = str(key).strip(), str(value).strip()
        if key.upper() in _RESERVED or not re.fullmatch(r"[A-Z][A-Z0-9 _.()/&-]*", key) or "=" in value:
            raise UsageError(where, f"keyword {key!r}: must be upper-case, not one magfw writes "
                             "itself, and its value must not contain '='")  # fmt: skip
        rec = f"{key:<19}= {_ascii(value, 'keyword value', where)}"
        if len(rec) > RECORD:
            raise UsageError(where, f"keyword record {rec!r} is longer than {RECORD} characters")
        recs.append(rec)
    for line in abstract:
        for part in str(line).splitlines() or [""]:
            recs.extend(_wrap(_ascii(part.rstrip(), "abstract line", where)))
    recs.append("END")
    header = "".join(r.ljust(RECORD) for r in recs).encode("ascii")

    with atomic_path(ffh) as tmp_h:
        head = _write_ffh(tmp_h, header)
        with atomic_path(ffd) as tmp_d:
            body = _write_ffd(tmp_d, records)
        # the .ffd is in place; the .ffh follows when this block ends
    if digests is not None:  # hashed from the buffers as they were written, not read back
        digests[Path(ffh)] = head
        digests[Path(ffd)] = body
    return ffh, ffd

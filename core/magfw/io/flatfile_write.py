"""Writing UCLA/IGPP flat files (:func:`write_flatfile`).

Writer choices
    The legacy fixed layout of the 1990s UCLA files (field positions 0/4/14/24/50, LOC
    right-justified ending at column 58), big-endian ``>f8`` time + ``>f4`` data, CDATE in UTC.
    Names and units are limited to 9 characters because fflib reads those fields one place to
    the left. Y1966/Y1970 ticks cannot show a leap second: samples inside 23:59:60 get the ticks
    of 23:59:59.x (as fflib's datetimes do), so they read back one second earlier; Y2000/J2000
    count leap seconds and round-trip exactly. Keyword values and abstract lines longer than a
    record go on in continuation records (:mod:`magfw.io.flatfile_header`), so they read back
    whole.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from magfw.errors import UsageError
from magfw.geometry.time import TT2000_FILL, TimeError, tt2000_from_flatfile, tt2000_to_flatfile
from magfw.io.atomic import atomic_path
from magfw.io.checksum import write_hashed
from magfw.io.flatfile_header import (
    DEFAULT_FILL,
    MAX_NAME,
    MAX_SOURCE,
    MONTHS,
    RECORD,
    RESERVED,
    FlatFileColumn,
    format_abstract_time,
    pair,
    wrap_line,
)

_KEYWORD = re.compile(r"[A-Z][A-Z0-9 _.()/&-]*")


def _ascii(text: str, what: str, where: Path) -> str:
    if not text.isascii() or not text.isprintable():
        raise UsageError(where, f"{what} {text!r} must be printable ASCII on one line")
    return text


def _fill_text(fill: float) -> str:
    text = f"{fill: .6E}"
    return text if float(text) == fill else f" {fill!r}"


def _write_ffd(path: Path, records: np.ndarray) -> str:
    """Write the records in one write (``write``, not numpy's ``tofile``: a full disk is then an
    OSError with its errno, ENOSPC), flushed to disk, hashed while written; the digest."""
    return write_hashed(path, np.ascontiguousarray(records)).sha256


def _write_ffh(path: Path, header: bytes) -> str:
    return write_hashed(path, header).sha256


def _checked_time(time_tt2000: npt.ArrayLike, where: Path) -> np.ndarray:
    time = np.asarray(time_tt2000)
    if time.ndim != 1 or time.dtype.kind not in "iu":
        raise UsageError(where, f"time must be 1-D int64 TT2000, got {time.dtype} shape {time.shape}")
    if np.any(time == TT2000_FILL):
        raise UsageError(where, "time holds fill values; every record needs a time")
    return time.astype(np.int64, copy=False)


def _checked_values(data: npt.ArrayLike, n: int, ncols: int, fill: float, where: Path) -> np.ndarray:
    """``data`` as (N, k) float32 with NaN replaced by ``fill``."""
    values = np.asarray(data)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[0] != n or values.dtype.kind not in "iuf":
        raise UsageError(
            where, f"data must be real, shape (N, k) with N = {n}; got {values.dtype} {values.shape}"
        )
    if ncols != values.shape[1]:
        raise UsageError(where, f"{ncols} column descriptions for {values.shape[1]} data columns")
    if not np.isfinite(fill) or not np.isfinite(np.float32(fill)):
        raise UsageError(where, f"fill value {fill!r} is not a finite float32")
    with np.errstate(over="ignore", invalid="ignore"):
        values32 = values.astype(np.float32)
    if values.dtype != np.float32 and np.any(np.isinf(values32) & np.isfinite(values)):
        raise UsageError(where, "data values exceed the float32 range")
    values32[np.isnan(values32)] = np.float32(fill)
    return values32


def _described(
    time: tuple[str, str, str], columns: Sequence[tuple[str, str, str] | FlatFileColumn], where: Path
) -> list[tuple[str, str, str]]:
    """(name, units, source) of the time column and each data column, checked."""
    entries = [time] + [
        (c.name, c.units, c.source) if isinstance(c, FlatFileColumn) else tuple(c) for c in columns
    ]
    out: list[tuple[str, str, str]] = []
    for entry in entries:
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
        out.append((name, units, source))
    return out


def _keyword_records(keywords: Mapping[str, str], where: Path) -> list[str]:
    """``KEY<19>= value`` records; a long value goes on in continuation records."""
    out: list[str] = []
    for key, value in keywords.items():
        key, value = str(key).strip(), str(value).strip()
        if key.upper() in RESERVED or not _KEYWORD.fullmatch(key) or "=" in value:
            raise UsageError(where, f"keyword {key!r}: must be upper-case, not one magfw writes "
                             "itself, and its value must not contain '='")  # fmt: skip
        out.extend(wrap_line(f"{key:<19}= {_ascii(value, 'keyword value', where)}"))
    return out


def _header(
    *,
    ffd_name: str,
    created: _dt.datetime,
    n: int,
    described: list[tuple[str, str, str]],
    epoch: str,
    ticks: np.ndarray,
    fill: float,
    body: list[str],
) -> bytes:
    """The header records, each padded to 72 characters, laid end to end."""
    k = len(described) - 1
    recs = [
        f"DATA  = {ffd_name}"[:RECORD],
        f"CDATE = {created:%Y %j} {MONTHS[created.month - 1].title()} {created:%d %H:%M:%S}",
        f"RECL  = {8 + 4 * k:5d}",
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
    recs += body
    recs.append("END")
    return "".join(r.ljust(RECORD) for r in recs).encode("ascii")


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
    a keyword or line longer than 72 characters goes on in continuation records and reads back
    whole. ``created`` sets CDATE (UTC; default now). The ``.ffd`` is renamed into place first,
    then the ``.ffh``; on any failure neither file is created or changed. Raises
    :class:`~magfw.errors.UsageError` for bad input.
    """
    ffh, ffd = pair(base_path)
    where = ffh.with_suffix("")
    time = _checked_time(time_tt2000, where)
    values32 = _checked_values(data, time.shape[0], len(columns), fill, where)
    try:
        ticks = np.asarray(tt2000_to_flatfile(time, epoch), dtype=np.float64)
        epoch = epoch.strip().upper()
    except TimeError as exc:
        raise UsageError(where, exc.problem) from None
    described = _described((time_name, time_units, time_source), columns, where)
    body = _keyword_records(keywords or {}, where)
    for line in abstract:
        for part in str(line).splitlines() or [""]:
            body.extend(wrap_line(_ascii(part.rstrip(), "abstract line", where)))
    n, k = values32.shape
    records = np.empty(n, dtype=np.dtype([("t", ">f8"), ("d", ">f4", (k,))]))
    records["t"] = ticks
    records["d"] = values32
    header = _header(
        ffd_name=ffd.name,
        created=created or _dt.datetime.now(_dt.UTC),
        n=n,
        described=described,
        epoch=epoch,
        ticks=ticks,
        fill=fill,
        body=body,
    )
    with atomic_path(ffh) as tmp_h:
        head = _write_ffh(tmp_h, header)
        with atomic_path(ffd) as tmp_d:
            data_digest = _write_ffd(tmp_d, records)
        # the .ffd is in place; the .ffh follows when this block ends
    if digests is not None:  # hashed from the buffers just written, not read back
        digests[Path(ffh)] = head
        digests[Path(ffd)] = data_digest
    return ffh, ffd

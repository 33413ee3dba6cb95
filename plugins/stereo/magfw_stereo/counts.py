"""The public monthly Counts table ``{yyyy}{mm}Stereo{A|B}Counts.asc``: reader and writer.

Layout (research note 4.1, the SolarSoft ``stereo/impact/calibration/`` files):

.. code-block:: text

    % year, Day, Kx (Range 0), O1 (nT), Counts @ O, Ky (Range 0), O2 (nT), Counts @ O, ...
    2018    1.5   0.0146328    22.000    -1503   0.0144910   -17.000     1173   0.0142581 ...

(one header line naming the eleven columns, rows cut here at the Y axis)

- one ``%`` comment line (the header), then one whitespace-separated row per day;
- ``Day`` is the day of year + 0.5 (noon of the day the row holds);
- per axis: K, the range-0 scale factor in nT/count; O, the zero offset in nT; "Counts @ O",
  the same offset in counts (O = -K x Counts to within one count).

How magfw applies it (documented choice, docs/stereo.md): Berkeley's unvalidated L1 ``B_SC`` is
already in nT (K x counts, no zero offset), so the L1 chain adds O per axis,
``B = B_unvalidated + O``; K is read, checked (finite, > 0) and recorded with the table's
revision, but not re-applied. "Counts @ O" is written as ``round(-O / K)`` and only checked for
being a number when read.

:func:`read_counts` rejects a malformed file with one :class:`~magfw.errors.InputError` line
(file, line number, problem); :meth:`CountsTable.for_day` raises
:class:`~magfw.errors.MissingInputError` for a day without a row: a day with no offsets is an
error, never zeros.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from magfw.api import InputError, MissingInputError

HEADER = (
    "% year, Day, Kx (Range 0), O1 (nT), Counts @ O, Ky (Range 0), O2 (nT), Counts @ O, "
    "Kz (Range 0), O3 (nT), Counts @ O"
)
N_COLUMNS = 11


def counts_file_name(sc: str, year: int, month: int) -> str:
    """The public name: ``202401StereoACounts.asc``."""
    return f"{year:04d}{month:02d}Stereo{sc}Counts.asc"


@dataclass(kw_only=True)
class CountsTable:
    """Daily calibration rows: K (nT/count), O (nT) and counts at O, per SC axis X, Y, Z."""

    days: list[date]
    k: np.ndarray  # [n, 3] nT/count (range 0)
    offsets: np.ndarray  # [n, 3] nT, added to the unvalidated field
    counts: np.ndarray  # [n, 3] the offsets in counts
    path: Path | None = None

    def __post_init__(self) -> None:
        self.k = np.asarray(self.k, dtype=np.float64).reshape(-1, 3)
        self.offsets = np.asarray(self.offsets, dtype=np.float64).reshape(-1, 3)
        if self.counts is None:
            self.counts = counts_at(self.k, self.offsets)
        self.counts = np.asarray(self.counts, dtype=np.float64).reshape(-1, 3)
        if not len(self.days) == len(self.k) == len(self.offsets) == len(self.counts):
            raise ValueError("days, K, O and counts must have one row per day")

    @classmethod
    def of(cls, days: list[date], k: np.ndarray, offsets: np.ndarray) -> CountsTable:
        """A table of K and O per day, the counts at O computed (``round(-O / K)``)."""
        k = np.asarray(k, dtype=np.float64).reshape(-1, 3)
        offsets = np.asarray(offsets, dtype=np.float64).reshape(-1, 3)
        return cls(days=days, k=k, offsets=offsets, counts=counts_at(k, offsets))

    def for_day(self, day: date) -> tuple[np.ndarray, np.ndarray]:
        """(K[3] nT/count, O[3] nT) of ``day``; MissingInputError when the table has no row."""
        for i, d in enumerate(self.days):
            if d == day:
                return self.k[i].copy(), self.offsets[i].copy()
        where = self.path if self.path is not None else "counts table"
        raise MissingInputError(
            where, f"no offsets for {day.isoformat()} (a day without offsets is an error, not zeros)"
        )

    def __contains__(self, day: object) -> bool:
        return day in self.days


def counts_at(k: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """ "Counts @ O": the offset in counts, ``round(-O / K)``."""
    return np.round(-np.asarray(offsets, dtype=np.float64) / np.asarray(k, dtype=np.float64))


def _row_day(year: float, day: float) -> date:
    if year != int(year) or not 1 <= year <= 9999:
        raise ValueError(f"year {year:g} is not a whole year")
    doy = day - 0.5
    if doy != int(doy):
        raise ValueError(f"Day {day:g} is not day-of-year + 0.5")
    first = date(int(year), 1, 1)
    d = first + timedelta(days=int(doy) - 1)
    if int(doy) < 1 or d.year != first.year:
        raise ValueError(f"Day {day:g} is outside year {int(year)}")
    return d


def read_ascii(path: Path, what: str) -> str:
    """The text of an ASCII table (the Counts table, a researcher's offsets file); unreadable or
    non-ASCII is one InputError naming the file, and the line of the first bad byte."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read the {what}: {exc.strerror or exc}") from exc
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(path, f"line {line}: not ASCII text (byte {raw[exc.start]:#04x})") from None


def read_counts(path: str | Path) -> CountsTable:
    """Read a Counts table; a malformed one is one InputError naming the line and the problem."""
    path = Path(path)
    return parse_counts(read_ascii(path, "Counts table"), path)


def parse_counts(text: str, path: Path | str) -> CountsTable:
    """A Counts table from its text (``path`` names it in errors)."""
    days: list[date] = []
    rows: list[list[float]] = []
    seen: dict[date, int] = {}
    header = False
    for lineno, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s:
            continue
        if s.startswith("%"):
            header = True
            continue
        parts = s.split()
        if len(parts) != N_COLUMNS:
            raise InputError(
                path,
                f"line {lineno}: expected {N_COLUMNS} columns (year, Day, then "
                f"K, O, Counts @ O per axis), found {len(parts)}",
            )
        try:
            values = [float(p) for p in parts]
        except ValueError:
            bad = next(p for p in parts if not _is_float(p))
            raise InputError(path, f"line {lineno}: {bad!r} is not a number") from None
        if not all(math.isfinite(v) for v in values):
            raise InputError(path, f"line {lineno}: values must be finite numbers")
        try:
            day = _row_day(values[0], values[1])
        except ValueError as exc:
            raise InputError(path, f"line {lineno}: {exc}") from None
        k = values[2::3]
        if any(x <= 0 for x in k):
            raise InputError(path, f"line {lineno}: K must be > 0 nT/count, got {k}")
        if day in seen:
            raise InputError(path, f"line {lineno}: {day} is listed twice (also line {seen[day]})")
        seen[day] = lineno
        days.append(day)
        rows.append(values)
    if not header:
        raise InputError(path, "no '% year, Day, Kx ...' header line: not a Counts table")
    if not rows:
        raise InputError(path, "no data rows")
    arr = np.array(rows, dtype=np.float64)
    order = np.argsort(np.array([d.toordinal() for d in days]), kind="stable")
    return CountsTable(
        days=[days[i] for i in order],
        k=arr[order][:, 2::3],
        offsets=arr[order][:, 3::3],
        counts=arr[order][:, 4::3],
        path=Path(path),
    )


def _is_float(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def format_counts(table: CountsTable) -> bytes:
    """The table in the public layout (header line, one row per day in date order)."""
    lines = [HEADER]
    for i in np.argsort([d.toordinal() for d in table.days], kind="stable"):
        d = table.days[i]
        doy = d.timetuple().tm_yday
        cols = [f"{d.year:4d}", f"{doy + 0.5:6.1f}"]
        for axis in range(3):
            k, o, c = table.k[i, axis], table.offsets[i, axis], table.counts[i, axis]
            if not (math.isfinite(k) and k > 0 and math.isfinite(o) and math.isfinite(c)):
                raise ValueError(f"{d}: axis {axis}: K must be finite and > 0, O and counts finite")
            cols += [f"{k:11.7f}", f"{o:10.3f}", f"{int(c):8d}"]
        lines.append(" ".join(cols))
    return ("\n".join(lines) + "\n").encode("ascii")


__all__ = [
    "HEADER",
    "CountsTable",
    "counts_at",
    "counts_file_name",
    "format_counts",
    "parse_counts",
    "read_counts",
]

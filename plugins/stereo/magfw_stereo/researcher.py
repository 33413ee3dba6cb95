"""The researcher's monthly offsets file: the layouts it may have, a strict reader, a writer.

The UCLA chain today: after the 1-s averages of a month exist, the offsets researcher writes
``STEREO_A_offset_{yyyy}{mon}_avg.txt`` (``mon`` = ``jan`` ... ``dec``) and the processing
turns it into the yearly table and the public ``{yyyy}{mm}StereoACounts.asc``. The layout of
that file was never published, so the reader accepts what a person would plausibly write and
detects which it is from the first data row (:data:`LAYOUTS`):

=========  =========================================  =====================================
layout     a data row                                  notes
=========  =========================================  =====================================
date       ``2024-01-05  22.13  -17.02  -30.10``       DATE as YYYY-MM-DD, YYYY/MM/DD,
                                                       YYYYMMDD or YYYY-DDD (day of year)
year-doy   ``2024  5  22.13  -17.02  -30.10``           DOY an integer, or DOY.5 (noon, as
                                                       the Counts table's ``Day``)
counts     ``2024 5.5 0.0146 22.13 -1512 ...``          the Counts layout itself: year, Day,
                                                       then K, O, Counts@O for X, Y, Z
=========  =========================================  =====================================

- Columns are separated by spaces, tabs or commas (one of them, the same in every row).
- Comments: blank lines, and lines starting with ``#``, ``%``, ``;`` or ``!``; the rest of a
  line after ``#`` is a comment too. One header line (the first non-comment line, holding no
  number where the layout wants one, e.g. ``date,Ox,Oy,Oz``) is allowed and skipped.
- Offsets are in nT, spacecraft (SC) axes, and are *added* to the unvalidated field,
  ``B = B_unvalidated + O`` (the Counts table's convention, ``B = K * counts + O``).
- Two optional comment keys are understood: ``# spacecraft: A|B`` and ``# month: YYYY-MM``;
  when present they must agree with the rows (and with ``--spacecraft``).
- Every row's date lies in one calendar month (the ``month:`` key, else the month of the file
  name, else the month of the first row); no date appears twice; offsets are finite decimal
  numbers (``nan``/``inf`` are refused). Rows need not be sorted; days of the month without a
  row are allowed but reported (``magfw run stereo l1`` refuses a day without offsets).
- The month and spacecraft may also come from the seed's file name,
  ``STEREO_{A|B}_offset_{yyyy}{mon}[_avg|_estimate].txt``.

:func:`read_offsets_file` rejects a file it cannot read with one :class:`~magfw.errors.InputError`
line naming the file, the line number, the problem and the layouts it accepts;
:func:`format_offsets_file` writes the ``date`` layout with magfw's header (the simulator
writes the researcher's file with it, ``offsets estimate`` its proposal).
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from magfw.api import MONTH_ABBR, InputError

LAYOUT_LINE = "# magfw STEREO researcher offsets file, layout 1"
_NAME = re.compile(
    r"STEREO_(?P<sc>[AB])_offset_(?P<yyyy>\d{4})(?P<mon>[a-z]{3})(?:_\w+)?\.txt", re.IGNORECASE
)
_KEY = re.compile(r"#\s*(?P<key>spacecraft|month)\s*:\s*(?P<value>\S+)\s*$", re.IGNORECASE)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def offsets_file_name(sc: str, year: int, month: int, kind: str = "avg") -> str:
    """The seed's name of a researcher file: ``STEREO_A_offset_2024jan_avg.txt``."""
    return f"STEREO_{sc}_offset_{year:04d}{MONTH_ABBR[month - 1]}_{kind}.txt"


@dataclass(kw_only=True)
class OffsetsFile:
    """A researcher's offsets file, validated: one spacecraft, one month, daily offsets."""

    path: Path
    spacecraft: str
    year: int
    month: int
    days: list[date]
    offsets: np.ndarray  # [n_days, 3] float64, nT, added to the unvalidated field
    comments: list[str] = field(default_factory=list)
    layout: str = "date"  #: which of :data:`LAYOUTS` the file was in

    @property
    def missing_days(self) -> list[date]:
        """Days of the month with no row."""
        n = calendar.monthrange(self.year, self.month)[1]
        have = set(self.days)
        return [
            date(self.year, self.month, d)
            for d in range(1, n + 1)
            if date(self.year, self.month, d) not in have
        ]

    def by_day(self) -> dict[date, np.ndarray]:
        return {d: self.offsets[i] for i, d in enumerate(self.days)}


def _month_text(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


#: The layouts the reader accepts, as the one-line error states them.
LAYOUTS = (
    "'DATE O_X O_Y O_Z' (DATE YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD or YYYY-DDD), "
    "'YEAR DOY O_X O_Y O_Z' (DOY or DOY.5), or the Counts layout 'year Day Kx O1 C1 Ky "
    "O2 C2 Kz O3 C3'; separated by spaces, tabs or commas; #, %, ; or ! comments; one "
    "header line"
)
_COMMENT = ("#", "%", ";", "!")
_DATES = (
    (re.compile(r"(\d{4})-(\d{2})-(\d{2})"), "ymd"),
    (re.compile(r"(\d{4})/(\d{2})/(\d{2})"), "ymd"),
    (re.compile(r"(\d{4})(\d{2})(\d{2})"), "ymd"),
    (re.compile(r"(\d{4})-(\d{3})"), "yd"),
)
_INT = re.compile(r"\d{1,3}(?:\.[05]0*)?")


class _Bad(Exception):
    """A row problem (the reader adds the file, the line and the accepted layouts)."""


def _parse_date(token: str) -> date:
    for pattern, kind in _DATES:
        m = pattern.fullmatch(token)
        if m is None:
            continue
        try:
            if kind == "ymd":
                return date(int(m[1]), int(m[2]), int(m[3]))
            return _from_doy(int(m[1]), m[2])
        except ValueError:
            break
    raise _Bad(f"bad date {token!r} (expected a real day as YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD or YYYY-DDD)")


def _from_doy(year: int, doy_text: str) -> date:
    doy = float(doy_text)
    if doy != int(doy) and doy - int(doy) != 0.5:
        raise ValueError
    n = int(doy)
    if not 1 <= n <= (366 if calendar.isleap(year) else 365):
        raise ValueError
    return date(year, 1, 1) + timedelta(days=n - 1)


def _number(col: str, token: str) -> float:
    if not _NUMBER.fullmatch(token):
        raise _Bad(f"{col} {token!r} is not a number")
    return float(token)


#: layout -> (columns, description of a row, positions of O_X O_Y O_Z)
_SHAPES: dict[str, tuple[int, str, tuple[int, int, int]]] = {
    "date": (4, "date O_X O_Y O_Z", (1, 2, 3)),
    "year-doy": (5, "YEAR DOY O_X O_Y O_Z", (2, 3, 4)),
    "counts": (11, "year Day Kx O1 C1 Ky O2 C2 Kz O3 C3", (3, 6, 9)),
}


def _detect(parts: list[str]) -> str | None:
    """The layout a first data row is in, or None (a header line)."""
    first = parts[0]
    if any(p.fullmatch(first) for p, _ in _DATES) and len(parts) == 4:
        return "date"
    if re.fullmatch(r"\d{4}", first) and len(parts) >= 2 and _INT.fullmatch(parts[1]):
        return "counts" if len(parts) == 11 else "year-doy"
    if any(p.fullmatch(first) for p, _ in _DATES):
        return "date"
    if not any(_NUMBER.fullmatch(p) for p in parts):
        return None  # a header: no number in it
    return "date" if re.fullmatch(r"[\d/-]+", first) else None


def _row(layout: str, parts: list[str]) -> tuple[date, tuple[float, float, float]]:
    n, what, pos = _SHAPES[layout]
    if len(parts) != n:
        raise _Bad(f"expected {n} columns ({what}), found {len(parts)}")
    if layout == "date":
        day = _parse_date(parts[0])
    else:
        if not re.fullmatch(r"\d{4}", parts[0]) or not _INT.fullmatch(parts[1]):
            raise _Bad(f"bad year and day of year {parts[0]!r} {parts[1]!r} (expected YYYY and DOY or DOY.5)")
        try:
            day = _from_doy(int(parts[0]), parts[1])
        except ValueError:
            raise _Bad(f"bad day of year {parts[1]!r} for {parts[0]}") from None
        if layout == "counts":
            for col, i in (("Kx", 2), ("Ky", 5), ("Kz", 8), ("C1", 4), ("C2", 7), ("C3", 10)):
                _number(col, parts[i])
    values = [_number(col, parts[i]) for col, i in zip(("O_X", "O_Y", "O_Z"), pos, strict=True)]
    if not all(math.isfinite(v) for v in values):
        raise _Bad("offsets must be finite numbers")
    return day, (values[0], values[1], values[2])


def _split(line: str) -> list[str]:
    if "," in line:
        return [p.strip() for p in line.split(",")]
    return line.split()


@dataclass(kw_only=True)
class _Parsed:
    """What the lines of an offsets file say, before the parts are checked against each other."""

    rows: list[tuple[int, date, tuple[float, float, float]]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    layout: str | None = None
    sc_key: tuple[str, int] | None = None  #: (spacecraft, line) of a ``spacecraft:`` key
    month_key: tuple[int, int, int] | None = None  #: (year, month, line) of a ``month:`` key


def _comment_key(path: Path, lineno: int, text: str, parsed: _Parsed) -> None:
    """A ``# spacecraft: A`` or ``# month: 2024-01`` comment line, checked."""
    m = _KEY.fullmatch(text)
    if m is None:
        return
    if m["key"].lower() == "spacecraft":
        value = m["value"].upper()
        if value not in ("A", "B"):
            raise InputError(path, f"line {lineno}: spacecraft {m['value']!r} is not A or B")
        parsed.sc_key = (value, lineno)
        return
    mm = re.fullmatch(r"(\d{4})-(\d{2})", m["value"])
    if mm is None or not 1 <= int(mm[2]) <= 12:
        raise InputError(path, f"line {lineno}: month {m['value']!r} is not YYYY-MM")
    parsed.month_key = (int(mm[1]), int(mm[2]), lineno)


def _parse_lines(path: Path, text: str) -> _Parsed:
    """Comments (and their keys) and data rows; the layout from the first data row (a header
    line before it is skipped)."""
    parsed = _Parsed()
    header_seen = False
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(_COMMENT):
            parsed.comments.append(stripped)
            _comment_key(path, lineno, stripped, parsed)
            continue
        parts = _split(stripped.split("#", 1)[0].strip())
        if parsed.layout is None:
            parsed.layout = _detect(parts)
            if parsed.layout is None:
                if header_seen or parsed.rows:
                    raise InputError(
                        path,
                        f"line {lineno}: cannot tell the layout of "
                        f"{stripped[:60]!r}; accepted layouts: {LAYOUTS}",
                    )
                header_seen = True
                continue
        try:
            day, values = _row(parsed.layout, parts)
        except _Bad as exc:
            raise InputError(
                path,
                f"line {lineno}: {exc} (layout {parsed.layout!r} from the first row); "
                f"accepted layouts: {LAYOUTS}",
            ) from None
        parsed.rows.append((lineno, day, values))
    if not parsed.rows:
        raise InputError(path, f"no data rows; accepted layouts: {LAYOUTS}")
    return parsed


def _agreed_spacecraft(
    path: Path, given: str | None, key: tuple[str, int] | None, from_name: str | None
) -> str:
    """--spacecraft, the file's key and its name must agree (A when none says)."""
    said = [
        (s, w)
        for s, w in (
            (given, "--spacecraft"),
            (key[0] if key else None, f"line {key[1]}" if key else ""),
            (from_name, "the file name"),
        )
        if s
    ]
    if len({s for s, _ in said}) > 1:
        detail = ", ".join(f"{w} says {s}" for s, w in said)
        raise InputError(path, f"spacecraft disagree: {detail}")
    return said[0][0] if said else "A"


def _agreed_month(path: Path, parsed: _Parsed, from_name: tuple[int, int] | None) -> tuple[int, int]:
    """The file's month: its key, else its name, else its first row; every row in it, once."""
    rows, key = parsed.rows, parsed.month_key
    if key is not None:
        year, month = key[0], key[1]
        if from_name is not None and from_name != (year, month):
            raise InputError(
                path,
                f"line {key[2]}: month {_month_text(year, month)} "
                f"disagrees with the file name ({_month_text(*from_name)})",
            )
        where = f"the month {_month_text(year, month)} (line {key[2]})"
    elif from_name is not None:
        year, month = from_name
        where = f"the month {_month_text(year, month)} of the file name"
    else:
        year, month = rows[0][1].year, rows[0][1].month
        where = f"the month {_month_text(year, month)} of the first row"
    seen: dict[date, int] = {}
    for lineno, day, _ in rows:
        if (day.year, day.month) != (year, month):
            raise InputError(path, f"line {lineno}: date {day} is outside {where}")
        if day in seen:
            raise InputError(path, f"line {lineno}: date {day} is listed twice (also line {seen[day]})")
        seen[day] = lineno
    return year, month


def read_offsets_file(path: str | Path, spacecraft: str | None = None) -> OffsetsFile:
    """Read and validate a researcher's offsets file (layouts in the module docstring).

    The layout is detected from the first data row (a header line before it is skipped).
    ``spacecraft`` (``--spacecraft``) must agree with the file's ``spacecraft:`` key or name
    when those say one. Returns the rows sorted by date, and the layout in ``layout``.
    Anything wrong is one :class:`InputError` naming the file, the line, the problem and the
    layouts accepted.
    """
    from magfw_stereo.counts import read_ascii

    path = Path(path)
    parsed = _parse_lines(path, read_ascii(path, "offsets file"))
    name = _NAME.fullmatch(path.name)
    month_name: tuple[int, int] | None = None
    if name and name["mon"].lower() in MONTH_ABBR:
        month_name = (int(name["yyyy"]), MONTH_ABBR.index(name["mon"].lower()) + 1)
    sc = _agreed_spacecraft(path, spacecraft, parsed.sc_key, name["sc"].upper() if name else None)
    year, month = _agreed_month(path, parsed, month_name)
    rows, comments, layout = parsed.rows, parsed.comments, parsed.layout
    rows.sort(key=lambda r: r[1])
    return OffsetsFile(
        path=path,
        spacecraft=sc,
        year=year,
        month=month,
        days=[r[1] for r in rows],
        offsets=np.array([r[2] for r in rows], dtype=np.float64).reshape(-1, 3),
        comments=comments,
        layout=layout or "date",
    )


def format_offsets_file(
    spacecraft: str,
    year: int,
    month: int,
    offsets: Mapping[date, Sequence[float] | np.ndarray],
    comments: Sequence[str] = (),
    decimals: int = 3,
) -> bytes:
    """A researcher's offsets file (layout 1) for ``offsets`` = {day: (O_X, O_Y, O_Z) nT}.

    ``comments`` become ``#`` lines after the header (method, uncertainties...). ``decimals``
    defaults to 3, the precision of the Counts table (0.001 nT). Raises
    ValueError for a day outside the month or a non-finite offset: the writer never produces
    a file the reader would refuse.
    """
    if spacecraft not in ("A", "B"):
        raise ValueError(f"spacecraft {spacecraft!r} is not A or B")
    lines = [LAYOUT_LINE, f"# spacecraft: {spacecraft}", f"# month: {_month_text(year, month)}"]
    lines += [f"# {c}" if not c.startswith("#") else c for c in comments]
    lines.append(f"# {'date':<12}{'O_X_nT':>12}{'O_Y_nT':>12}{'O_Z_nT':>12}")
    for day in sorted(offsets):
        if (day.year, day.month) != (year, month):
            raise ValueError(f"day {day} is outside {_month_text(year, month)}")
        values = [float(v) for v in offsets[day]]
        if len(values) != 3 or not all(math.isfinite(v) for v in values):
            raise ValueError(f"day {day}: offsets must be three finite numbers, got {values}")
        lines.append(f"{day.isoformat():<14}" + "".join(f"{v:>12.{decimals}f}" for v in values))
    return ("\n".join(lines) + "\n").encode("ascii")

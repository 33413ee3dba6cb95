"""The researcher's monthly offsets file: its layout, a strict reader and a writer.

The UCLA chain today: after the 1-s averages of a month exist, the offsets researcher writes
``STEREO_A_offset_{yyyy}{mon}_avg.txt`` (``mon`` = ``jan`` ... ``dec``) and the processing
turns it into the yearly table and the public ``{yyyy}{mm}StereoACounts.asc``. The layout of
that file was never published, so magfw defines it here (documented choice, layout 1):

.. code-block:: text

    # magfw STEREO researcher offsets file, layout 1
    # spacecraft: A
    # month: 2024-01
    # date         O_X_nT     O_Y_nT     O_Z_nT
    2024-01-01    22.1300   -17.0200   -30.1000
    2024-01-02    22.1310   -17.0150   -30.0990
    ...

- Plain ASCII text, one data row per UTC day: the date ``YYYY-MM-DD`` then the three zero
  offsets ``O_X O_Y O_Z`` in nT, spacecraft (SC) axes, separated by spaces or tabs.
- Sign: O is *added* to the unvalidated field, ``B = B_unvalidated + O``, the convention of
  the public Counts table (``B = K * counts + O``).
- Lines that are blank or start with ``#`` are comments. Two optional comment keys are
  understood: ``# spacecraft: A|B`` and ``# month: YYYY-MM``; when present they must agree
  with the rows (and with ``--spacecraft``).
- Every row's date lies in one calendar month (the ``month:`` key, else the month of the
  first row); no date appears twice; offsets are finite decimal numbers (``nan``/``inf`` are
  refused). Rows need not be sorted; days of the month without a row are allowed but
  reported (``magfw run stereo l1`` refuses a day without offsets).
- The month and spacecraft may also come from the seed's file name,
  ``STEREO_{A|B}_offset_{yyyy}{mon}[_avg|_estimate].txt``.

:func:`read_offsets_file` rejects a bad file with one :class:`~magfw.errors.InputError` line
naming the file, the line number and the problem; :func:`format_offsets_file` writes the
layout (the simulator writes the researcher's file with it, ``offsets estimate`` its
proposal).
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from magfw.api import InputError

#: Three-letter lower-case month names as the seed's file names use them.
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

LAYOUT_LINE = "# magfw STEREO researcher offsets file, layout 1"
_NAME = re.compile(r"STEREO_(?P<sc>[AB])_offset_(?P<yyyy>\d{4})(?P<mon>[a-z]{3})(?:_\w+)?\.txt",
                   re.IGNORECASE)
_KEY = re.compile(r"#\s*(?P<key>spacecraft|month)\s*:\s*(?P<value>\S+)\s*$", re.IGNORECASE)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def offsets_file_name(sc: str, year: int, month: int, kind: str = "avg") -> str:
    """The seed's name of a researcher file: ``STEREO_A_offset_2024jan_avg.txt``."""
    return f"STEREO_{sc}_offset_{year:04d}{MONTHS[month - 1]}_{kind}.txt"


@dataclass
class OffsetsFile:
    """A researcher's offsets file, validated: one spacecraft, one month, daily offsets."""

    path: Path
    spacecraft: str
    year: int
    month: int
    days: list[date]
    offsets: np.ndarray  # [n_days, 3] float64, nT, added to the unvalidated field
    comments: list[str] = field(default_factory=list)

    @property
    def missing_days(self) -> list[date]:
        """Days of the month with no row."""
        n = calendar.monthrange(self.year, self.month)[1]
        have = set(self.days)
        return [date(self.year, self.month, d) for d in range(1, n + 1)
                if date(self.year, self.month, d) not in have]

    def by_day(self) -> dict[date, np.ndarray]:
        return {d: self.offsets[i] for i, d in enumerate(self.days)}


def _month_text(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def read_offsets_file(path: str | Path, spacecraft: str | None = None) -> OffsetsFile:
    """Read and validate a researcher's offsets file (layout in the module docstring).

    ``spacecraft`` (``--spacecraft``) must agree with the file's ``spacecraft:`` key or name
    when those say one. Returns the rows sorted by date. Anything wrong is one
    :class:`InputError` naming the file, the line and the problem.
    """
    from magfw_stereo.counts import read_ascii

    path = Path(path)
    text = read_ascii(path, "offsets file")

    name = _NAME.fullmatch(path.name)
    sc_name = name["sc"].upper() if name else None
    month_name: tuple[int, int] | None = None
    if name:
        mon = name["mon"].lower()
        if mon in MONTHS:
            month_name = (int(name["yyyy"]), MONTHS.index(mon) + 1)

    sc_key: tuple[str, int] | None = None
    month_key: tuple[int, int, int] | None = None
    rows: list[tuple[int, date, tuple[float, float, float]]] = []
    comments: list[str] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            comments.append(stripped)
            m = _KEY.fullmatch(stripped)
            if m and m["key"].lower() == "spacecraft":
                value = m["value"].upper()
                if value not in ("A", "B"):
                    raise InputError(path, f"line {lineno}: spacecraft {m['value']!r} is not A or B")
                sc_key = (value, lineno)
            elif m:
                mm = re.fullmatch(r"(\d{4})-(\d{2})", m["value"])
                if mm is None or not 1 <= int(mm[2]) <= 12:
                    raise InputError(path, f"line {lineno}: month {m['value']!r} is not YYYY-MM")
                month_key = (int(mm[1]), int(mm[2]), lineno)
            continue
        parts = stripped.split()
        if len(parts) != 4:
            raise InputError(path, f"line {lineno}: expected 4 columns (date O_X O_Y O_Z), "
                                   f"found {len(parts)}: {stripped[:60]!r}")
        dm = _DATE.fullmatch(parts[0])
        try:
            if dm is None:
                raise ValueError
            day = date(int(dm[1]), int(dm[2]), int(dm[3]))
        except ValueError:
            raise InputError(path, f"line {lineno}: bad date {parts[0]!r} "
                                   "(expected a real day as YYYY-MM-DD)") from None
        values = []
        for col, token in zip(("O_X", "O_Y", "O_Z"), parts[1:], strict=True):
            if not _NUMBER.fullmatch(token):
                raise InputError(path, f"line {lineno}: {col} {token!r} is not a number")
            values.append(float(token))
        if not all(math.isfinite(v) for v in values):
            raise InputError(path, f"line {lineno}: offsets must be finite numbers")
        rows.append((lineno, day, (values[0], values[1], values[2])))

    if not rows:
        raise InputError(path, "no data rows (expected one 'YYYY-MM-DD O_X O_Y O_Z' row per day)")

    # spacecraft: --spacecraft, the file's key and its name must agree
    said = [(s, w) for s, w in ((spacecraft, "--spacecraft"),
                               (sc_key[0] if sc_key else None, f"line {sc_key[1]}" if sc_key
                                else ""),
                               (sc_name, "the file name")) if s]
    if len({s for s, _ in said}) > 1:
        detail = ", ".join(f"{w} says {s}" for s, w in said)
        raise InputError(path, f"spacecraft disagree: {detail}")
    sc = said[0][0] if said else "A"

    # month: the key, else the file name, else the first row; every row in it
    if month_key is not None:
        year, month = month_key[0], month_key[1]
        if month_name is not None and month_name != (year, month):
            raise InputError(path, f"line {month_key[2]}: month {_month_text(year, month)} "
                                   f"disagrees with the file name ({_month_text(*month_name)})")
        where = f"the month {_month_text(year, month)} (line {month_key[2]})"
    elif month_name is not None:
        year, month = month_name
        where = f"the month {_month_text(year, month)} of the file name"
    else:
        year, month = rows[0][1].year, rows[0][1].month
        where = f"the month {_month_text(year, month)} of the first row"
    seen: dict[date, int] = {}
    for lineno, day, _ in rows:
        if (day.year, day.month) != (year, month):
            raise InputError(path, f"line {lineno}: date {day} is outside {where}")
        if day in seen:
            raise InputError(path, f"line {lineno}: date {day} is listed twice "
                                   f"(also line {seen[day]})")
        seen[day] = lineno

    rows.sort(key=lambda r: r[1])
    return OffsetsFile(path=path, spacecraft=sc, year=year, month=month,
                       days=[r[1] for r in rows],
                       offsets=np.array([r[2] for r in rows], dtype=np.float64).reshape(-1, 3),
                       comments=comments)


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

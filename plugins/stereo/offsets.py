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
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from magfw import __version__
from magfw.config import state_dir
from magfw.errors import InputError, MissingInputError
from magfw.io.checksum import sha256_file
from magfw.ledger import Ledger, LedgerEntry

if TYPE_CHECKING:
    from magfw.mission import Mission
    from magfw_stereo.counts import CountsTable

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
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read the offsets file: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(path, f"line {line}: not ASCII text (byte {raw[exc.start]:#04x})") from None

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
    offsets: Mapping[date, Sequence[float]],
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


# ---------------------------------------------------------------------------------------------
# Import: researcher's file -> the month's Counts table (product counts_table)
# ---------------------------------------------------------------------------------------------

#: K (nT/count, range 0) used when no earlier table gives one: the constant values of the
#: public 2018 STEREO-A tables (research note 4.1). Documented choice, also for STEREO-B (no
#: StereoBCounts file is public). The L1 chain records K but does not re-apply it.
DEFAULT_K = (0.0146328, 0.0144910, 0.0142581)

#: Precision of O in the Counts table (``%10.3f``).
COUNTS_DECIMALS = 3

COUNTS_PRODUCT = "counts_table"


@dataclass
class TableRevision:
    """One counts_table file in the output tree."""

    path: Path
    spacecraft: str
    year: int
    month: int
    version: int


@dataclass
class ImportResult:
    """What :func:`import_offsets` did."""

    offsets: OffsetsFile
    path: Path
    version: int | None
    written: bool  # False when the newest revision already holds exactly these offsets
    k_source: str
    rounded: bool  # offsets had more decimals than the table keeps
    missing_days: list[date]


def table_revisions(mission: Mission, out_dir: Path, spacecraft: str,
                    year: int | None = None, month: int | None = None) -> list[TableRevision]:
    """Imported Counts tables of ``spacecraft`` in the output tree (optionally one month),
    oldest month and revision first; found through the counts_table definition."""
    from magfw_stereo.merge import find_products

    d = mission.product(COUNTS_PRODUCT)
    given: dict[str, object] = {"sc": spacecraft}
    if year is not None:
        given["yyyy"] = year
    if month is not None:
        given["mm"] = month
    out = [TableRevision(p, spacecraft, int(f["yyyy"]), int(f["mm"]),
                         int(f.get(d.version.field, 0)))
           for p, f in find_products(out_dir, d, **given)]
    return sorted(out, key=lambda r: (r.year, r.month, r.version))


def latest_tables(mission: Mission, out_dir: Path, spacecraft: str,
                  year: int | None = None) -> list[TableRevision]:
    """The newest revision of each month (of one year, or all), in month order."""
    newest: dict[tuple[int, int], TableRevision] = {}
    for r in table_revisions(mission, out_dir, spacecraft, year):
        newest[(r.year, r.month)] = r
    return [newest[k] for k in sorted(newest)]


def yearly_table(mission: Mission, out_dir: Path, spacecraft: str, year: int) -> CountsTable:
    """The year's offsets table: the newest imported revision of each month, day by day.

    This is the seed's "yearly offsets table": magfw keeps one Counts table per month (the
    public layout, the one delivered) and the year is their union.
    """
    from magfw_stereo.counts import CountsTable, read_counts

    tables = [read_counts(r.path) for r in latest_tables(mission, out_dir, spacecraft, year)]
    if not tables:
        raise MissingInputError(out_dir, f"no imported offsets for ST{spacecraft} {year:04d}: "
                                         "run `magfw stereo offsets import FILE`")
    return CountsTable(days=[d for t in tables for d in t.days],
                       k=np.concatenate([t.k for t in tables]),
                       offsets=np.concatenate([t.offsets for t in tables]),
                       counts=np.concatenate([t.counts for t in tables]))


def _k_for(mission: Mission, out_dir: Path, spacecraft: str, year: int, month: int
           ) -> tuple[np.ndarray, str]:
    """K per axis: the last row of the newest table of this spacecraft at or before the
    month, else :data:`DEFAULT_K`; with a note saying where it came from."""
    from magfw_stereo.counts import read_counts

    earlier = [r for r in latest_tables(mission, out_dir, spacecraft)
               if (r.year, r.month) <= (year, month)]
    if earlier:
        table = read_counts(earlier[-1].path)
        return table.k[-1].copy(), f"K from {earlier[-1].path.relative_to(out_dir)}"
    return np.array(DEFAULT_K), "K default (public 2018 STEREO-A values)"


def import_offsets(mission: Mission, out_dir: Path, path: str | Path,
                   spacecraft: str | None = None, plugin_version: str = "") -> ImportResult:
    """Turn a researcher's offsets file into the month's Counts table in ``out_dir``.

    The file is validated completely before anything is written (a bad one is one
    :class:`InputError` and leaves the tree untouched). The table gets the next revision of
    the counts_table product (V00, V01...) unless the newest revision already holds exactly
    these rows; it is written atomically and recorded in the ledger (unit
    ``stereo/offsets/{sc}/{yyyy-mm}``). ``magfw run stereo l1`` then finds it through the
    counts_table definition.
    """
    from magfw_stereo.counts import CountsTable, format_counts, read_counts

    out_dir = Path(out_dir)
    t0, started = time.perf_counter(), time.time()
    of = read_offsets_file(path, spacecraft)
    sc, year, month = of.spacecraft, of.year, of.month
    k, k_source = _k_for(mission, out_dir, sc, year, month)
    # O as the table's text will hold it (a handful of values: one row per day)
    kept = np.array([[float(f"{v:.{COUNTS_DECIMALS}f}") for v in row] for row in of.offsets])
    rounded = bool(np.any(kept != of.offsets))
    table = CountsTable(days=list(of.days), k=np.tile(k, (len(of.days), 1)),
                        offsets=kept.reshape(-1, 3), counts=None)
    payload = format_counts(table)

    d = mission.product(COUNTS_PRODUCT)
    vf = d.version.field
    revisions = table_revisions(mission, out_dir, sc, year, month)
    if revisions and revisions[-1].path.read_bytes() == payload:
        last = revisions[-1]
        return ImportResult(of, last.path, last.version, False, k_source, rounded,
                            of.missing_days)
    fields: dict[str, object] = {"sc": sc, "yyyy": year, "mm": month}
    version: int | None = None
    if vf in d.filename.fields:
        version = (revisions[-1].version + 1 if revisions and d.version.policy == "increment"
                   else d.version.start)
        fields[vf] = version
    rel = d.filename.format(**fields)
    target = out_dir / rel
    from magfw.context import Product
    from magfw.io.products import write_product

    write_product(Product(definition=d, fields=fields, payload=payload), target, {})
    back = read_counts(target)  # what the L1 chain will read: must be the researcher's rows
    if back.days != table.days or not np.array_equal(back.offsets, table.offsets):
        target.unlink()
        raise InputError(target, "the written table does not read back as imported (removed)")
    src = Path(path)
    Ledger(state_dir(out_dir) / "ledger.sqlite").record(LedgerEntry(
        unit=f"{mission.id}/offsets/{sc}/{year:04d}-{month:02d}", status="ok",
        versions={"magfw": __version__, "plugin": plugin_version,
                  "definitions": {d.id: d.digest()}, "tables": {"k_source": k_source}},
        inputs=[{"role": "calibration", "name": src.name, "sha256": sha256_file(src),
                 "size": src.stat().st_size, "version": None}],
        outputs=[{"path": rel, "product": d.id, "sha256": sha256_file(target),
                  "size": target.stat().st_size}],
        product_version=version, reason=None if not revisions else
        f"new revision of {year:04d}-{month:02d} from {src.name}",
        started=started, duration_s=time.perf_counter() - t0))
    return ImportResult(of, target, version, True, k_source, rounded, of.missing_days)


__all__ = ["DEFAULT_K", "MONTHS", "ImportResult", "OffsetsFile", "TableRevision",
           "format_offsets_file", "import_offsets", "latest_tables", "offsets_file_name",
           "read_offsets_file", "table_revisions", "yearly_table"]

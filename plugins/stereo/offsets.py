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
                   spacecraft: str | None = None, plugin_version: str = "",
                   k_from: str | Path | None = None) -> ImportResult:
    """Turn a researcher's offsets file into the month's Counts table in ``out_dir``.

    The file is validated completely before anything is written (a bad one is one
    :class:`InputError` and leaves the tree untouched). The table gets the next revision of
    the counts_table product (V00, V01...) unless the newest revision already holds exactly
    these rows; it is written atomically and recorded in the ledger (unit
    ``stereo/offsets/{sc}/{yyyy-mm}``). ``magfw run stereo l1`` then finds it through the
    counts_table definition. K comes from ``k_from`` (any Counts table, e.g. the public one
    of the month before: its last row) when given, else as :func:`_k_for` says.
    """
    from magfw_stereo.counts import CountsTable, format_counts, read_counts

    out_dir = Path(out_dir)
    t0, started = time.perf_counter(), time.time()
    of = read_offsets_file(path, spacecraft)
    sc, year, month = of.spacecraft, of.year, of.month
    if k_from is not None:
        ref = read_counts(k_from)
        k, k_source = ref.k[-1].copy(), f"K from {Path(k_from).name}"
    else:
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


# ---------------------------------------------------------------------------------------------
# Estimate: zero offsets from Alfvenic fluctuations (Davis-Smith), for the researcher
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EstimateSettings:
    """Selection and combination settings of :func:`davis_smith` (documented choices).

    ``window_s``: interval length; 10 min holds many Alfvenic periods at 1 AU yet little
    change of the mean field. ``min_fill``: share of valid 1-s samples an interval needs.
    ``min_power_nt2``: total component variance (nT^2) an interval needs, so fluctuations
    stand well above the noise of 1-s averages (~0.02 nT). ``max_compressibility``:
    variance of |B - O| over the total component variance: below it an interval counts as a
    pure rotation (Alfvenic). ``max_residual``: share of the variance of |B|^2 the fitted
    offset must leave unexplained in an interval (its own Davis-Smith fit quality).
    ``min_planarity``: intermediate over maximum variance, rejecting one-dimensional
    (compressive or single-wave) intervals before the first estimate. ``iterations``:
    re-selections with the current offset. ``span_days``: days combined for each day's
    estimate (the day and its neighbours). ``min_windows``: intervals a day's estimate needs,
    else the day takes the month's. ``min_condition``: smallest over largest eigenvalue of
    the summed covariance; below it the offset is undetermined along one direction.
    ``bootstrap``: resamples of the selected intervals for the 1-sigma uncertainties.
    """

    window_s: int = 600
    min_fill: float = 0.9
    min_power_nt2: float = 0.05
    max_compressibility: float = 0.05
    max_residual: float = 0.2
    min_planarity: float = 0.05
    iterations: int = 8
    span_days: int = 3
    min_windows: int = 12
    min_condition: float = 0.01
    bootstrap: int = 200
    seed: int = 0


@dataclass
class WindowStats:
    """Per-interval sums of the Davis-Smith regression (all arrays over K intervals)."""

    start: np.ndarray  # [K] TT2000 of the interval start
    n: np.ndarray  # [K] valid samples
    cov: np.ndarray  # [K, 3, 3] covariance of B (nT^2)
    cov_q: np.ndarray  # [K, 3] covariance of B with |B|^2 (nT^3)
    var_q: np.ndarray  # [K] variance of |B|^2 (nT^4)
    mean: np.ndarray  # [K, 3] mean of B (nT)


@dataclass
class OffsetEstimate:
    """Zero level z (nT, ``B_measured = B_true + z``) with 1-sigma and what supports it."""

    zero_level: np.ndarray  # [3]
    sigma: np.ndarray  # [3]
    windows: int
    condition: float
    determined: bool

    @property
    def offsets(self) -> np.ndarray:
        """O in the table's convention (added to the field): ``-zero_level``."""
        return -self.zero_level


def window_stats(tt: np.ndarray, b: np.ndarray, window_s: int, min_fill: float) -> WindowStats:
    """Cut a 1-s series (TT2000 ``tt``, ``b`` [N,3] nT, NaN = gap) into ``window_s`` intervals
    on a fixed grid and return the sums the regression needs, for intervals with enough data.

    Vectorised: samples go onto a regular 1-s grid (index from their time), the grid is
    reshaped to [K, window_s, 3] and every moment is a masked sum over axis 1.
    """
    tt = np.asarray(tt, dtype=np.int64)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 3)
    ok = np.isfinite(b).all(axis=1)
    if not ok.any():
        z = np.zeros(0)
        return WindowStats(z.astype(np.int64), z, z.reshape(0, 3, 3), z.reshape(0, 3), z,
                           z.reshape(0, 3))
    from magfw.time import day_bounds_tt2000, utc_day_of

    t0 = int(day_bounds_tt2000(utc_day_of(tt[ok].min()))[0])  # windows aligned on UTC days
    sec = (tt - t0) // 1_000_000_000
    n_win = int(sec[ok].max()) // window_s + 1
    grid = np.full((n_win * window_s, 3), np.nan)
    keep = ok & (sec >= 0)
    grid[sec[keep]] = b[keep]
    g = grid.reshape(n_win, window_s, 3)
    m = np.isfinite(g[..., 0])
    n = m.sum(axis=1).astype(np.float64)
    use = n >= min_fill * window_s
    g, m, n = g[use], m[use], n[use]
    x = np.where(m[..., None], g, 0.0)
    mean = x.sum(axis=1) / n[:, None]
    d = np.where(m[..., None], g - mean[:, None, :], 0.0)
    q = np.einsum("kni,kni->kn", x, x)
    q_mean = q.sum(axis=1) / n
    dq = np.where(m, q - q_mean[:, None], 0.0)
    cov = np.einsum("kni,knj->kij", d, d) / n[:, None, None]
    cov_q = np.einsum("kni,kn->ki", d, dq) / n[:, None]
    var_q = np.einsum("kn,kn->k", dq, dq) / n
    starts = t0 + np.flatnonzero(use).astype(np.int64) * window_s * 1_000_000_000
    return WindowStats(starts, n, cov, cov_q, var_q, mean)


def _compressibility(stats: WindowStats, zero: np.ndarray) -> np.ndarray:
    """var(|B - z|) / trace(cov) per interval, to first order in the fluctuations.

    With ``u`` the unit vector of the interval's mean corrected field, ``|B - z|`` varies as
    ``u . dB``, so its variance is ``u^T C u``; an Alfvenic (pure rotation) interval has
    ``u^T C u << trace C`` (the field rotates about a constant magnitude).
    """
    mean = stats.mean - zero[None, :]
    u = mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)
    along = np.einsum("ki,kij,kj->k", u, stats.cov, u)
    return along / np.maximum(np.trace(stats.cov, axis1=1, axis2=2), 1e-30)


def _residual(stats: WindowStats, zero: np.ndarray) -> np.ndarray:
    """Share of var(|B|^2) an offset ``zero`` leaves unexplained, per interval:
    ``var(dq - 2 z.dB) / var(dq)`` from the stored moments."""
    z = zero[None, :]
    resid = (stats.var_q - 4 * np.einsum("ki,ki->k", z, stats.cov_q)
             + 4 * np.einsum("ki,kij,kj->k", z, stats.cov, z))
    return resid / np.maximum(stats.var_q, 1e-30)


def _solve(stats: WindowStats, sel: np.ndarray) -> tuple[np.ndarray, float]:
    """Davis-Smith zero level from the selected intervals and the conditioning of the sum."""
    a = np.einsum("k,kij->ij", stats.n[sel], stats.cov[sel])
    r = np.einsum("k,ki->i", stats.n[sel], stats.cov_q[sel])
    w = np.linalg.eigvalsh(a)
    cond = float(w[0] / w[-1]) if w[-1] > 0 else 0.0
    if cond <= 1e-12:
        return np.full(3, np.nan), cond
    return 0.5 * np.linalg.solve(a, r), cond


def davis_smith(stats: WindowStats, settings: EstimateSettings = EstimateSettings(),
                mask: np.ndarray | None = None, start: np.ndarray | None = None
                ) -> tuple[OffsetEstimate, np.ndarray]:
    """The zero level of a magnetometer from Alfvenic intervals (Davis-Smith method).

    Method (Davis and Smith 1968, EOS Trans. AGU 49, 257; in the correlation form derived by
    Leinweber, Russell, Torkar, Zhang and Angelopoulos 2008, "An advanced approach to finding
    magnetometer zero levels in the interplanetary magnetic field", Meas. Sci. Technol. 19,
    055104): the measured field is ``Bm = B + z`` with ``z`` the zero level. Then
    ``|Bm|^2 = |B|^2 + 2 z . Bm - |z|^2``, so in an interval where the field only rotates
    (Alfvenic fluctuations, ``|B|`` constant) the fluctuation of ``|Bm|^2`` is ``2 z . dBm``.
    Summing over many intervals with different mean-field directions (each removes its own
    mean) gives the normal equations ``(sum n_k C_k) z = 1/2 sum n_k cov(Bm, |Bm|^2)_k``, which
    are well conditioned when the intervals' fluctuation planes differ (Belcher's 1973
    variant solves each interval alone, badly conditioned along its mean field, which
    Leinweber et al. show is the weaker choice).

    Selection, iterated with the current ``z`` (settings: :class:`EstimateSettings`): enough
    data and fluctuation power; before the first solution, planar fluctuations (rejecting
    one-dimensional, compressive intervals); then the compressibility ``var|Bm - z| /
    trace C`` and each interval's own fit residual. Uncertainty: bootstrap over intervals.
    Returns the estimate and the selected intervals (boolean [K]).
    """
    k = len(stats.n)
    base = np.ones(k, bool) if mask is None else mask.copy()
    power = np.trace(stats.cov, axis1=1, axis2=2)
    base &= power >= settings.min_power_nt2
    lam = np.linalg.eigvalsh(stats.cov)  # ascending
    planar = lam[:, 1] >= settings.min_planarity * np.maximum(lam[:, 2], 1e-30)
    sel = base & planar
    zero = start.copy() if start is not None else None
    cond = 0.0
    if zero is None:
        if sel.sum() < 3:
            return OffsetEstimate(np.full(3, np.nan), np.full(3, np.nan), int(sel.sum()), 0.0,
                                  False), sel
        zero, cond = _solve(stats, sel)
    for _ in range(settings.iterations):
        if not np.all(np.isfinite(zero)):
            break
        new = (base & (_compressibility(stats, zero) <= settings.max_compressibility)
               & (_residual(stats, zero) <= settings.max_residual))
        if new.sum() < 3:
            sel = new
            break
        z_new, cond = _solve(stats, new)
        done = np.array_equal(new, sel) or not np.all(np.isfinite(z_new)) or (
            np.max(np.abs(z_new - zero)) < 1e-4)
        sel, zero = new, z_new
        if done:
            break
    n_sel = int(sel.sum())
    if n_sel < 3 or not np.all(np.isfinite(zero)):
        return OffsetEstimate(np.full(3, np.nan), np.full(3, np.nan), n_sel, cond, False), sel
    _, cond = _solve(stats, sel)
    sigma = _bootstrap(stats, sel, settings)
    determined = cond >= settings.min_condition and n_sel >= settings.min_windows
    return OffsetEstimate(zero, sigma, n_sel, cond, determined), sel


def _bootstrap(stats: WindowStats, sel: np.ndarray, settings: EstimateSettings) -> np.ndarray:
    """1-sigma of the zero level per axis: resample the selected intervals with replacement
    (vectorised: every resample's normal equations at once)."""
    idx = np.flatnonzero(sel)
    if settings.bootstrap <= 1 or idx.size < 3:
        return np.full(3, np.nan)
    rng = np.random.default_rng(settings.seed)
    draw = idx[rng.integers(0, idx.size, (settings.bootstrap, idx.size))]
    nc = stats.n[:, None, None] * stats.cov
    nq = stats.n[:, None] * stats.cov_q
    a = nc[draw].sum(axis=1)
    r = nq[draw].sum(axis=1)
    good = np.linalg.eigvalsh(a)[:, 0] > 0
    z = 0.5 * np.linalg.solve(a[good], r[good][..., None])[..., 0]
    return z.std(axis=0, ddof=1) if len(z) > 2 else np.full(3, np.nan)


@dataclass
class MonthEstimate:
    """Proposed offsets of a month: the month's solution and one per day."""

    spacecraft: str
    year: int
    month: int
    month_estimate: OffsetEstimate
    days: dict[date, OffsetEstimate]  # the day's own solution (may be undetermined)
    inputs: list[Path]
    covered: set[date] = field(default_factory=set)  # days with 1-s data

    def proposed(self) -> dict[date, tuple[np.ndarray, str]]:
        """O per day (table convention) and where it came from ("day" or "month"); a day
        without any 1-s data gets no proposal (the month's value would be extrapolation)."""
        out: dict[date, tuple[np.ndarray, str]] = {}
        for d, est in self.days.items():
            if d not in self.covered:
                continue
            if est.determined:
                out[d] = (est.offsets, "day")
            elif self.month_estimate.determined:
                out[d] = (self.month_estimate.offsets, "month")
        return out


def estimate_from_series(
    tt: np.ndarray, b: np.ndarray, days: list[date],
    settings: EstimateSettings = EstimateSettings(),
) -> tuple[OffsetEstimate, dict[date, OffsetEstimate]]:
    """The month's and each day's zero level from 1-s data (TT2000 ``tt``, ``b`` [N,3] nT)."""
    from magfw.time import day_bounds_tt2000

    stats = window_stats(tt, b, settings.window_s, settings.min_fill)
    month, _ = davis_smith(stats, settings)
    per_day: dict[date, OffsetEstimate] = {}
    half = settings.span_days // 2
    for d in days:
        lo, _ = day_bounds_tt2000(np.datetime64(d.isoformat(), "D") - np.timedelta64(half, "D"))
        _, hi = day_bounds_tt2000(np.datetime64(d.isoformat(), "D") + np.timedelta64(half, "D"))
        mask = (stats.start >= lo) & (stats.start < hi)
        start = month.zero_level if month.determined else None
        per_day[d], _ = davis_smith(stats, settings, mask=mask, start=start)
    return month, per_day


def read_prep_month(mission: Mission, out_dir: Path, spacecraft: str, year: int, month: int
                    ) -> tuple[np.ndarray, np.ndarray, list[Path]]:
    """The month's 1-s prep averages (``prep_1s`` flat files, found through the definition):
    TT2000, B [N,3] nT with gaps as NaN (fill 1e34, NPTS = 0), and the files read."""
    from magfw.io.products import read_product
    from magfw_stereo.merge import find_products

    d = mission.product("prep_1s")
    files = find_products(out_dir, d, sc=spacecraft, yyyy=year, mm=month)
    newest: dict[tuple[int, int, int], tuple[int, Path]] = {}
    for p, f in files:
        key = (int(f["yyyy"]), int(f["mm"]), int(f["dd"]))
        v = int(f.get(d.version.field, 0))
        if key not in newest or v > newest[key][0]:
            newest[key] = (v, p)
    if not newest:
        raise MissingInputError(out_dir, f"no 1-s prep averages of ST{spacecraft} for "
                                         f"{year:04d}-{month:02d} "
                                         f"({d.filename.glob(sc=spacecraft, yyyy=year, mm=month)});"
                                         f" run `magfw run stereo prep {year:04d}-{month:02d}` first")
    tv = d.time_variable or "TIME"
    b_var = next(v for v in d.variables if v.name != tv and v.var_type == "data")
    cols = [str(c) for c in b_var.attrs.get("columns", ["BX", "BY", "BZ"])][:3]
    t_parts, b_parts, paths = [], [], []
    for key in sorted(newest):
        p = newest[key][1]
        data = read_product(p)
        missing = [c for c in cols if c not in data.variables]
        if missing:
            raise InputError(p, f"column {missing[0]!r} missing: not a prep_1s flat file")
        b = np.column_stack([data.variables[c] for c in cols]).astype(np.float64)
        bad = ~np.isfinite(b) | (np.abs(b) >= 0.99 * 1e34)
        if "NPTS" in data.variables:
            bad |= (np.asarray(data.variables["NPTS"]) <= 0)[:, None]
        b[bad.any(axis=1)] = np.nan
        t_parts.append(np.asarray(data.variables[tv], dtype=np.int64))
        b_parts.append(b)
        paths.append(p)
    return np.concatenate(t_parts), np.concatenate(b_parts), paths


def estimate_month(mission: Mission, out_dir: Path, spacecraft: str, year: int, month: int,
                   settings: EstimateSettings = EstimateSettings()) -> MonthEstimate:
    """Proposed offsets of a month from the 1-s prep averages in the output tree."""
    tt, b, paths = read_prep_month(mission, out_dir, spacecraft, year, month)
    days = [date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]
    month_est, per_day = estimate_from_series(tt, b, days, settings)
    from magfw.time import utc_day_of

    ok = np.isfinite(b).all(axis=1)
    covered = {date.fromisoformat(str(d)) for d in np.unique(utc_day_of(tt[ok]))}
    return MonthEstimate(spacecraft, year, month, month_est, per_day, paths, covered)


def format_estimate(est: MonthEstimate, settings: EstimateSettings = EstimateSettings()) -> bytes:
    """The proposal as a researcher's offsets file (layout 1), diagnostics in comments."""
    m = est.month_estimate

    def vec(v: np.ndarray) -> str:
        return ", ".join(f"{x:+.3f}" for x in v)

    comments = [
        "PROPOSED by `magfw stereo offsets estimate`, NOT applied: review and edit, then",
        "`magfw stereo offsets import` this file.",
        "Method: Davis-Smith zero levels from Alfvenic intervals (Davis & Smith 1968; Leinweber",
        "et al. 2008, Meas. Sci. Technol. 19 055104), on the 1-s prep averages.",
        f"Intervals {settings.window_s} s; compressibility <= {settings.max_compressibility}; "
        f"residual <= {settings.max_residual}; each day from {settings.span_days} days.",
        "O is added to the unvalidated field (B = B_unvalidated + O) = -(zero level).",
        f"Month: O = ({vec(m.offsets)}) nT, 1-sigma ({vec(m.sigma)}) nT, "
        f"{m.windows} intervals, condition {m.condition:.3f}"
        + ("" if m.determined else ", UNDETERMINED"),
        "Inputs: " + ", ".join(p.name for p in est.inputs[:3])
        + (f" ... ({len(est.inputs)} files)" if len(est.inputs) > 3 else ""),
    ]
    proposed = est.proposed()
    for d, e in sorted(est.days.items()):
        src = proposed.get(d, (None, "none"))[1] if d in est.covered else "none (no 1-s data)"
        detail = (f"{e.windows} intervals, 1-sigma ({vec(e.sigma)}) nT" if e.windows
                  else "no usable intervals")
        comments.append(f"{d}: from {src}; own fit {detail}"
                        + ("" if e.determined else " (undetermined)"))
    missing = [d for d in est.days if d not in proposed]
    if missing:
        comments.append("NO PROPOSAL for " + ", ".join(str(d) for d in missing)
                        + ": the researcher must supply these days.")
    return format_offsets_file(est.spacecraft, est.year, est.month,
                               {d: v for d, (v, _) in proposed.items()}, comments)


__all__ = ["DEFAULT_K", "MONTHS", "EstimateSettings", "ImportResult", "MonthEstimate",
           "OffsetEstimate", "OffsetsFile", "TableRevision", "WindowStats", "davis_smith",
           "estimate_from_series", "estimate_month", "format_estimate", "format_offsets_file",
           "import_offsets", "latest_tables", "offsets_file_name", "read_offsets_file",
           "read_prep_month", "table_revisions", "window_stats", "yearly_table"]

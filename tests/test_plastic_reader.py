"""PLASTIC readers on every real file in ../shared/realdata/stereo/, values spot-checked against
the text (copied by eye from the files), and the bad cases: a missing column, a short row, text
in a number column, a file whose rows are not on its day, a header without rows, an empty file.
Each is one InputError line naming the file (the ``daily`` level fails that day with it)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
from conftest import realdata

from magfw.api import InputError
from magfw.api import time as magtime
from magfw_plastic.reader import (
    ASCII_NAME,
    MERGE_COLUMNS,
    check_day,
    parse_plastic_text,
    read_plastic_ascii,
    read_plastic_beacon,
)

realdata_only = pytest.mark.realdata


def iso(ms: float) -> str:
    return str(magtime.tt2000_to_iso(magtime.tt2000_from_cdf_epoch(np.float64(ms)), precision_ns=1_000_000))


@realdata_only
def test_one_minute_file_values_by_header_name():
    t = read_plastic_ascii(
        realdata("stereo", "STA_L2_PLA_1DMax_1min_20140101_001_V09.txt"), require=MERGE_COLUMNS
    )
    assert (t.resolution, t.spacecraft, len(t), len(t.header)) == ("1min", "A", 99, 42)
    # first row: 2014 001 00 00 04 0.332 ... Np 1.49, speed 463.0, Tkin 2.03E+05, v_th 57.9
    assert iso(t.time_ms[0]).startswith("2014-01-01T00:00:04.332")  # millisec is a fraction
    assert t.get("np")[0] == 1.49 and t.get("vp")[0] == 463.0 and t.get("tp")[0] == 2.03e5
    assert t.get("vth")[0] == 57.9
    assert (t.get("vr_rtn")[0], t.get("vt_rtn")[0], t.get("vn_rtn")[0]) == (459.5, 79.9, 21.2)
    assert t.values["Reduced Chi^2"][0] == 4.37
    assert t.values["E/W Missed Peak Flag"][3] == 1.0
    assert t.get("dist_km")[0] == 1.43438e8 and t.get("lat_hci")[0] == -0.5561
    assert t.get("lon_carr")[0] == 340.0858 and t.get("carr_rot")[0] == 2145.0553
    assert t.text["1 keV/q time"][0] == "2014-01-01/00:00:45"
    # the 06:51:04 row: E/W and velocity columns are -1.0E+31 -> NaN, moments present
    i = int(np.flatnonzero(t.text["date and time"] == "2014-01-01/06:51:04")[0])
    assert iso(t.time_ms[i]).startswith("2014-01-01T06:51:04.273")
    assert t.get("np")[i] == 1.37 and t.get("tp")[i] == 5.54e4
    assert np.isnan(t.get("vr_rtn")[i]) and np.isnan(t.values["E/W Inst. [deg]"][i])
    assert np.isnan(t.values["E/W Rel Stat Uncertainty (%)"][i])
    assert t.values["N/S Inst. [deg]"][i] == 0.3
    # last row (the file ends without a newline)
    assert t.text["date and time"][-1] == "2014-01-01/06:54:04" and t.get("vp")[-1] == 449.0
    # the 355 "-1.0E+31" cells (grep -o | wc -l) are NaN, nothing else is (no flag holds -1)
    n_fill = sum(int(np.isnan(v).sum()) for v in t.values.values())
    assert n_fill == 355
    assert np.all(np.diff(t.time_ms) > 0)


@realdata_only
def test_ten_minute_file_with_fill_rows():
    t = read_plastic_ascii(realdata("stereo", "STA_L2_PLA_1DMax_10min_20140101_001_V09.txt"))
    assert (t.resolution, len(t)) == ("10min", 49)
    assert t.column_name("dist_km") == "Heliospheric Distance [km]"  # spelled differently
    assert "millisec" not in t.header and "sec" not in t.header
    # stamped at the bin start YEAR/DOY/hour/min give, not the first cycle (00:00:04)
    assert t.text["date and time"][0] == "2014-01-01/00:00:04"
    assert iso(t.time_ms[0]).startswith("2014-01-01T00:00:00.000")
    assert [iso(x)[11:19] for x in t.time_ms[:3]] == ["00:00:00", "00:10:00", "00:20:00"]
    assert t.get("np")[0] == 1.73 and t.values["Num Cycles (Np, v_therm, temp)"][0] == 10.0
    assert t.get("error")[1] == 4.0 and t.values["E/W Source Flag"][0] == 3.0
    i = int(np.flatnonzero(t.text["date and time"] == "2014-01-01/12:30:00")[0])
    assert np.isnan(t.get("np")[i]) and np.isnan(t.get("tp")[i]) and np.isnan(t.get("vr_rtn")[i])
    assert t.get("error")[i] == 5.0  # error 5 = gap is a value, not fill
    assert np.isnan(t.get("caution")[i])  # flag -1 -> missing
    assert np.isnan(t.values["Num Cycles (Speed)"][i])
    assert t.get("dist_km")[i] == 1.43432e8 and t.get("lon_hci")[i] == 175.5694  # position kept


@realdata_only
def test_one_hour_files_including_the_mostly_fill_days():
    t = read_plastic_ascii(realdata("stereo", "STA_L2_PLA_1DMax_1hr_20140101_001_V09.txt"))
    assert (t.resolution, len(t)) == ("1hr", 7) and "min" not in t.header
    assert t.get("np").tolist() == [1.47, 1.07, 1.25, 1.78, 1.16, 1.49, 1.41]
    assert t.values["Num Cycles (Vel. Com., Other Angles)"].tolist() == [60, 60, 49, 37, 46, 48, 32]

    oct16 = read_plastic_ascii(realdata("stereo", "STA_L2_PLA_1DMax_1hr_20141016_289_V09.txt"))
    assert len(oct16) == 24 and oct16.get("np")[np.isfinite(oct16.get("np"))].tolist() == [
        11.3,
        53.9,
        58.4,
    ]  # 19:38:31, 20:00:31, 21:00:31; the other 21 hours are fill
    assert oct16.text["date and time"][19] == "2014-10-16/19:38:31"
    i = 21
    assert oct16.text["date and time"][i] == "2014-10-16/21:00:31"  # the first cycle
    assert iso(oct16.time_ms[i]).startswith("2014-10-16T21:00:00.000")  # the bin start
    assert iso(oct16.time_ms[19]).startswith("2014-10-16T19:00:00.000")  # data from 19:38:31
    assert (oct16.get("np")[i], oct16.get("vp")[i], oct16.get("tp")[i], oct16.get("vth")[i]) == (
        58.4,
        511.0,
        3.29e5,
        73.1,
    )
    assert oct16.values["Num Cycles (Np, v_therm, temp)"][i] == 28.0
    assert oct16.values["Num Cycles (Vel. Com., Other Angles)"][i] == 0.0  # 0 = none, not fill
    assert np.isnan(oct16.values["E/W Source Flag"][i]) and np.isnan(oct16.get("vr_rtn")[i])
    assert oct16.get("caution")[i] == 2.0
    fill_rows = np.isnan(oct16.get("np"))
    assert np.all(oct16.get("error")[fill_rows] == 0) and np.all(np.isnan(oct16.get("caution")[fill_rows]))
    assert np.all(np.isfinite(oct16.get("dist_km")))  # missing hours keep their position
    assert oct16.get("dist_km")[-1] == 1.44250e8 and oct16.get("lat_heeq")[-1] == -6.5113

    nov13 = read_plastic_ascii(realdata("stereo", "STA_L2_PLA_1DMax_1hr_20141113_317_V09.txt"))
    good = np.isfinite(nov13.get("np"))
    assert good.sum() == 4
    assert nov13.get("np")[good].tolist() == [9.10, 8.32, 8.61, 11.3]
    assert nov13.get("vp")[good].tolist() == [255.0, 258.0, 261.0, 277.0]
    assert [iso(x)[11:19] for x in nov13.time_ms[good]] == [
        "14:00:00",
        "15:00:00",
        "16:00:00",
        "17:00:00",
    ]  # bin starts
    assert [s[11:] for s in nov13.text["date and time"][good]] == [
        "14:38:28",
        "15:00:28",
        "16:00:28",
        "17:00:28",
    ]


@realdata_only
@pytest.mark.parametrize(
    "name",
    [
        "STA_L2_PLA_1DMax_1min_20140101_001_V09.txt",
        "STA_L2_PLA_1DMax_10min_20140101_001_V09.txt",
        "STA_L2_PLA_1DMax_1hr_20140101_001_V09.txt",
        "STA_L2_PLA_1DMax_1hr_20141016_289_V09.txt",
        "STA_L2_PLA_1DMax_1hr_20141113_317_V09.txt",
    ],
)
def test_every_real_ascii_file_is_on_its_day_and_named_as_expected(name):
    m = ASCII_NAME.match(name)
    assert m is not None and m.group("version") == "09"
    day = date(int(m.group("yyyy")), int(m.group("mm")), int(m.group("dd")))
    assert day.timetuple().tm_yday == int(m.group("doy"))
    t = read_plastic_ascii(realdata("stereo", name))
    check_day(t, day)
    assert t.resolution == m.group("res")


@realdata_only
def test_beacon_cdf():
    b = read_plastic_beacon(realdata("stereo", "STA_LB_PLA_BROWSE_20230715_V14.cdf"))
    assert b.time_ms.shape == (1439,)
    assert iso(b.time_ms[0]).startswith("2023-07-15T00:00:09.633")
    # the fill is the float32 -1e31 stored as a double (-9.99999985e30): still fill
    assert np.isfinite(b.values["Density"]).sum() == 160
    assert np.isnan(b.values["Vr_RTN"]).all()
    assert b.values["Density"][8] == pytest.approx(2.2867029260779654)
    assert b.values["Bulk_Speed"][8] == pytest.approx(355.71768065854417)


HEAD = (
    "1D Maxwellian Proton Moments for Spacecraft B\n"
    "YEAR\tDOY\thour\tmin\tsec\tmillisec\tdate and time\tNp [1/cc]\tError Code\n"
)


def test_columns_are_found_by_name_in_any_order():
    text = (
        "1D Maxwellian Proton Moments for Spacecraft B\n"
        "Np [1/cc]\tError Code\tdate and time\tmillisec\n"
        "3.5\t-1\t2024-01-02/03:04:05\t0.5\n"
    )
    t = parse_plastic_text(text, Path("x.txt"))
    assert t.spacecraft == "B" and t.get("np")[0] == 3.5 and np.isnan(t.get("error")[0])
    assert iso(t.time_ms[0]).startswith("2024-01-02T03:04:05.500")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("2024\t002\t03\t04\t05\t0.5\t2024-01-02/03:04:05\t3.5\n", "line 3 has 8 fields, the header has 9"),
        (
            "2024\t002\t03\t04\t05\t0.5\t2024-01-02/03:04:05\t3.5\t0\n\n"
            "2024\t002\t03\t04\t06\t0.5\t2024-01-02/03:04:06\t3.5\n",
            "line 5 has 8 fields",
        ),
        (
            "2024\t002\t03\t04\t05\t0.5\t2024-01-02/03:04:05\tabc\t0\n",
            r"line 3, column 'Np \[1/cc\]': 'abc' is not a number",
        ),
        ("", "header only: no data rows"),
        ("\n\n", "header only: no data rows"),
        ("2024\t002\t03\t04\t05\t0.5\t2024-13-02/03:04:05\t1\t0\n", "bad 'date and time'"),
        ("2024\t002\t03\t04\t05\t332\t2024-01-02/03:04:05\t1\t0\n", "fraction of a second"),
    ],
)
def test_bad_rows_are_one_clear_error_naming_the_file(body, problem):
    with pytest.raises(InputError, match=problem) as exc:
        parse_plastic_text(HEAD + body, Path("/a/STB_L2_PLA_1DMax_1min_20240102_002_V11.txt"))
    assert "STB_L2_PLA_1DMax_1min_20240102_002_V11.txt" in str(exc.value)
    assert "\n" not in str(exc.value)


def test_missing_required_column_and_not_a_plastic_file(tmp_path):
    p = tmp_path / "STB_L2_PLA_1DMax_1min_20240102_002_V11.txt"
    p.write_text(HEAD + "2024\t002\t03\t04\t05\t0.5\t2024-01-02/03:04:05\t1\t0\n")
    with pytest.raises(InputError, match="no column 'Bulk Speed"):
        read_plastic_ascii(p, require=MERGE_COLUMNS)
    p.write_text("hello\nworld\n")
    with pytest.raises(InputError, match="not a PLASTIC column header"):
        read_plastic_ascii(p)
    p.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty file \(0 bytes\)") as exc:
        read_plastic_ascii(p)
    assert str(exc.value).startswith(f"{p}: ")
    p.write_text(HEAD.split("\n")[0])
    with pytest.raises(InputError, match="too short"):
        read_plastic_ascii(p)
    t = parse_plastic_text(HEAD + "2024\t002\t03\t04\t05\t0.5\t2024-01-02/03:04:05\t1\t0\n", p)
    with pytest.raises(InputError, match="not on 2024-01-03"):
        check_day(t, date(2024, 1, 3))


def test_a_cycle_starting_in_a_leap_second_folds_onto_second_59():
    text = (
        "1D Maxwellian Proton Moments for Spacecraft A\n"
        "date and time\tmillisec\tNp [1/cc]\n"
        "2016-12-31/23:59:59\t0.250\t1.0\n2016-12-31/23:59:60\t0.250\t2.0\n"
    )
    t = parse_plastic_text(text, Path("x.txt"))
    assert [iso(x)[11:23] for x in t.time_ms] == ["23:59:59.250", "23:59:59.250"]
    check_day(t, date(2016, 12, 31))


def test_only_the_rows_wanted_are_parsed_and_checked():
    """The daily level reads a neighbour day's file for its rows next to midnight only."""
    body = (
        "2024\t002\t03\t04\t05\t0.5\t2024-01-02/03:04:05\t1.5\t0\n"
        "2024\t002\t03\t05\t05\t0.5\t2024-01-02/03:05:05\tabc\t0\n"
        "2024\t002\t03\t06\t05\t0.5\t2024-01-02/03:06:05\t3.5\t0\n"
    )
    path = Path("/a/STB_L2_PLA_1DMax_1min_20240102_002_V11.txt")
    t = parse_plastic_text(HEAD + body, path, rows_wanted=slice(-1, None))
    assert len(t) == 1 and t.get("np").tolist() == [3.5]
    assert iso(t.time_ms[0]).startswith("2024-01-02T03:06:05.500")
    assert parse_plastic_text(HEAD + body, path, rows_wanted=slice(0, 1)).get("np").tolist() == [1.5]
    with pytest.raises(InputError, match="line 4, column 'Np"):
        parse_plastic_text(HEAD + body, path, rows_wanted=slice(0, 2))

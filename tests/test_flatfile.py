"""Tests of magfw.io.flatfile: real UCLA samples, writer/reader round trips, research worked
example, and malformed files. Times from real files are checked to the millisecond (their
FIRST/LAST TIME records were written rounded or truncated to ms, so |difference| < 1 ms)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pytest

from magfw.errors import InputError, MissingInputError, UsageError
from magfw.geometry import time as T
from magfw.io import flatfile as F
from magfw.io import flatfile_write as FW
from magfw.io.flatfile import FlatFileColumn, read_flatfile, write_flatfile

REAL = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "flatfile"
SAMPLES = ["isee1_77nov10", "isee2_77nov08", "mpc4plasma0308b", "upstream1hzwave",
           "m1a20151016093234", "IFGlr_pCAL_20180816T045752_20180817T090012"]  # fmt: skip
MS = 1_000_000
S = 1_000_000_000
FILL32 = np.float32(1e34)  # 9.99999979e33 as stored


def real(base: str) -> Path:
    path = REAL / f"{base}.ffh"
    if not path.exists():
        pytest.skip(f"real flat-file samples not available: {REAL} (expected ../shared/realdata)")
    return REAL / base


def header_records(path: Path) -> list[str]:
    raw = path.read_text("ascii")
    return [raw[i : i + 72] for i in range(0, len(raw), 72)]


def abstract_time(text: str) -> np.int64:
    """Independent parse of '77 314 NOV 10  13:30:02.501' / '2015 289 Oct 16 09:32:34.697'."""
    yy, doy, mon, day, clock = text.split()
    year = int(yy) + (1900 if int(yy) < 1000 else 0)
    date = dt.datetime.strptime(f"{year} {mon.title()} {day}", "%Y %b %d").date()
    assert date.timetuple().tm_yday == int(doy)
    return T.tt2000_from_iso(f"{date.isoformat()}T{clock}")


# ----------------------------------------------------------------------------- real samples


@pytest.mark.realdata
@pytest.mark.parametrize("base", SAMPLES)
def test_real_sample_decodes(base):
    path = real(base)
    ff = read_flatfile(path)
    recl, nrows = int(ff.keywords["RECL"]), int(ff.keywords["NROWS"])
    assert ff.time.shape == (nrows,) and ff.time.dtype == np.int64
    assert ff.data.shape == (nrows, int(ff.keywords["NCOLS"]) - 1)
    assert ff.data.dtype == np.float32
    assert path.with_suffix(".ffd").stat().st_size == nrows * recl
    assert ff.is_monotonic
    assert ff.ticks.dtype == np.float64 and ff.ticks.shape == (nrows,)
    if "FIRST TIME" in ff.keywords:
        first, last = abstract_time(ff.keywords["FIRST TIME"]), abstract_time(ff.keywords["LAST TIME"])
        assert abs(int(ff.time[0]) - int(first)) < MS
        assert abs(int(ff.time[-1]) - int(last)) < MS
        assert F.parse_abstract_time(ff.keywords["FIRST TIME"]) == first
    else:  # InSight: the file name carries the first and last second
        start, stop = re.findall(r"(\d{8}T\d{6})", base)
        for tt, stamp in ((ff.time[0], start), (ff.time[-1], stop)):
            iso = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%S").isoformat()
            assert T.tt2000_to_iso(tt, S) == iso or T.tt2000_to_iso(tt)[:19] == iso


@pytest.mark.realdata
def test_real_paths_pair_by_base_name():
    """upstream1hzwave's DATA key names onehzwave.ffd; pairing is by base name."""
    base = real("upstream1hzwave")
    a = read_flatfile(base)
    assert a.keywords["DATA"] == "onehzwave.ffd"
    for variant in (base.with_suffix(".ffh"), base.with_suffix(".ffd"), str(base)):
        b = read_flatfile(variant)
        np.testing.assert_array_equal(a.time, b.time)
        np.testing.assert_array_equal(a.data, b.data)
    assert a.names == ["UT", "BX SC", "BY SC", "BZ SC", "BT", "X  GSE", "Y  GSE", "Z  GSE"]
    assert a.time_column == FlatFileColumn(name="UT", units="SEC.", source="ISEE 1", type="D", loc=0)
    assert a.epoch == "Y1966"
    assert a.keywords["AVERAGE INTERVAL"] == "HIGH RESOLUTION"


@pytest.mark.realdata
@pytest.mark.parametrize("base", ["isee2_77nov08", "mpc4plasma0308b"])
def test_real_fill_detection(base):
    ff = read_flatfile(real(base))
    assert ff.fill == 1e34
    stored = ff.data == FILL32
    mask = ff.fill_mask(ff.data)
    assert stored.any() and np.all(mask[stored])
    assert float(ff.data[stored][0]) == pytest.approx(9.99999979e33, rel=1e-8)
    # mpc4plasma's flagged ranges ("FL:" records, 0.100E+35) hold the next float32 up,
    # 1.00000004e34: the 1e-6 relative tolerance catches those too.
    assert np.all(np.abs(ff.data[mask] / 1e34 - 1) < 1e-6)
    stored = mask
    j = int(np.argmax(stored.any(axis=0)))
    name = ff.data_columns[j].name
    col = ff.column(name)
    np.testing.assert_array_equal(np.isnan(col), stored[:, j])
    np.testing.assert_array_equal(ff.column(name, fill_to_nan=False), ff.data[:, j])


@pytest.mark.realdata
def test_real_mms_j2000():
    ff = read_flatfile(real("m1a20151016093234"))
    assert ff.epoch == "J2000"
    assert len(ff.columns) == 17 and ff.time_index == 0
    assert [c.loc for c in ff.columns] == [0, *range(8, 72, 4)]  # LOC ends at col 59 here
    assert ff.column("Bx_GSE").dtype == np.float32
    # J2000 tick = TT2000 * 1e-9 - 32.184 s (leap seconds counted)
    assert ff.ticks[0] == pytest.approx(498259990.697928, abs=1e-6)
    assert abs(int(ff.time[0]) - int(T.tt2000_from_iso("2015-10-16T09:32:34.697928"))) < 1000
    assert ff.keywords["ABSTRACT"] == "MMSFGML22FF jfc3 3-12-2018"
    assert ff.keywords["LAST LEAP"] == "01/01/17 00:00:00.000000"
    assert ff.abstract[-1].startswith("Parents:CDF>mms1_dfg_lorangecal")
    assert not any(k.startswith("MODS") for k in ff.keywords)  # free text is not a keyword


@pytest.mark.realdata
def test_real_insight_blank_records_after_end():
    base = real("IFGlr_pCAL_20180816T045752_20180817T090012")
    records = header_records(base.with_suffix(".ffh"))
    end = [r.strip() for r in records].index("END")
    assert end < len(records) - 1 and all(not r.strip() for r in records[end + 1 :])
    ff = read_flatfile(base)
    assert ff.abstract == [] and ff.time_column.name == "SCET" and ff.time_column.type == "T"
    assert ff.columns[2] == FlatFileColumn(name="Bx_IFG", units="", source="Bx_IFG", type="R", loc=12)
    assert ff.fill == F.DEFAULT_FILL  # no flag in the header


# ----------------------------------------------------------------------------- round trips


def _samples(start_iso: str, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """32 Hz times (exactly representable ticks) and float32 data with a few NaNs."""
    rng = np.random.default_rng(seed)
    time = T.tt2000_from_iso(start_iso) + np.arange(n, dtype=np.int64) * (S // 32)
    data = (rng.standard_normal((n, 3)) * 1e3).astype(np.float32)
    data[rng.integers(0, n, 5), rng.integers(0, 3, 5)] = np.nan
    return time, data


COLS = [("BX", "nT", "magfw test"), ("BY", "nT", "magfw test"), ("BZ", "nT", "magfw test")]


@pytest.mark.parametrize("epoch", ["Y1966", "Y1970", "Y2000", "J2000"])
def test_round_trip(tmp_path, epoch):
    time, data = _samples("2024-02-29T23:59:30", 32 * 60)
    ffh, ffd = write_flatfile(
        tmp_path / "rt", time, data, COLS, epoch=epoch, abstract=["a note", "x" * 100],
        keywords={"OWNER": "magfw", "AVERAGE INTERVAL": "00:00:00.031"},
    )  # fmt: skip
    assert (ffh.name, ffd.name) == ("rt.ffh", "rt.ffd")
    ff = read_flatfile(tmp_path / "rt")
    np.testing.assert_array_equal(ff.time, time)  # exact
    nan = np.isnan(data)
    assert np.array_equal(ff.data.view(np.uint32)[~nan], data.view(np.uint32)[~nan])  # bit-identical
    assert np.all(ff.data[nan] == FILL32)
    np.testing.assert_array_equal(np.isnan(ff.column("BY")), nan[:, 1])
    assert ff.epoch == epoch and ff.fill == 1e34 and ff.is_monotonic
    assert ff.names == ["TIME", "BX", "BY", "BZ"]
    assert [(c.units, c.source, c.type, c.loc) for c in ff.columns] == [
        ("SEC", "", "T", 0), *[("nT", "magfw test", "R", 8 + 4 * i) for i in range(3)]
    ]  # fmt: skip
    assert ff.keywords["OWNER"] == "magfw" and ff.keywords["EPOCH"] == epoch
    assert ff.keywords["FIRST TIME"] == "2024 060 Feb 29 23:59:30.000"
    assert ff.keywords["LAST TIME"] == "2024 061 Mar 01 00:00:29.969"
    assert ff.abstract[-2:] == ["a note", "x" * 100]  # a long line goes on and reads back whole
    assert ffd.stat().st_size == 32 * 60 * 20 and ffh.stat().st_size % 72 == 0
    assert b"\n" not in ffh.read_bytes()


def test_worked_example_research_5(tmp_path):
    """Research 5.2/5.4: one day at 1 Hz of (time, BX, BY, BZ) with epoch Y1966."""
    n = 86_400
    time = T.tt2000_from_iso("2024-03-01") + np.arange(n, dtype=np.int64) * S
    data = np.zeros((n, 3), np.float32)
    data[0] = [1.5, -2.25, 3.0]
    cols = [("BX", "nT", ""), ("BY", "nT", ""), ("BZ", "nT", "")]
    ffh, ffd = write_flatfile(tmp_path / "example", time, data, cols, created=dt.datetime(2024, 3, 1))
    assert ffd.read_bytes()[:20].hex() == "41db59ce800000003fc00000c010000040400000"
    assert ffd.stat().st_size == 1_728_000
    assert ffh.stat().st_size == 17 * 72 == 1224
    expected = [
        "DATA  = example.ffd", "CDATE = 2024 061 Mar 01 00:00:00", "RECL  =    20",
        "NCOLS =     4", "NROWS =      86400", "OPSYS = SUN/UNIX", "EPOCH = Y1966",
        "  # NAME      UNITS     SOURCE                    TYPE  LOC",
        "001 TIME      SEC                                 T       0",
        "002 BX        nT                                  R       8",
        "003 BY        nT                                  R      12",
        "004 BZ        nT                                  R      16",
        "ABSTRACT", "FIRST TIME         = 2024 061 Mar 01 00:00:00.000",
        "LAST TIME          = 2024 061 Mar 01 23:59:59.000",
        "MISSING DATA FLAG  =  1.000000E+34", "END",
    ]  # fmt: skip
    # Identical to research 5.2 except NROWS, right-justified to column 17 as in every UCLA
    # sample (5.2 shows it one column to the left).
    assert [r.rstrip() for r in header_records(ffh)] == expected
    ff = read_flatfile(ffh)
    assert ff.ticks[0] == 1_835_481_600.0
    np.testing.assert_array_equal(ff.data[0], [1.5, -2.25, 3.0])


def test_legacy_layout_positions(tmp_path):
    time, data = _samples("2000-01-01", 4)
    ffh, _ = write_flatfile(tmp_path / "p", time, data, [("BX SC", "NT", "ISEE 1"), *COLS[1:]])
    row = next(r for r in header_records(ffh) if r.startswith("002"))
    assert row[4:14] == "BX SC     " and row[14:24] == "NT        " and row[24:50].rstrip() == "ISEE 1"
    assert row[50] == "R" and row[51:59] == "       8" and row[59:].strip() == ""
    assert read_flatfile(ffh).names[1] == "BX SC"


def test_leap_second_in_calendar_epoch(tmp_path):
    """Y1966 cannot show 23:59:60: those samples get 23:59:59.x ticks and read back 1 s early;
    J2000 counts the leap second and round-trips exactly."""
    leap = T.tt2000_from_iso("2016-12-31T23:59:60")
    time = leap + np.arange(-8, 8, dtype=np.int64) * (S // 4)  # 4 Hz across the leap second
    data = np.zeros((16, 1), np.float32)
    inside = (time >= leap) & (time < leap + S)
    write_flatfile(tmp_path / "y66", time, data, [("BT", "nT", "")], epoch="Y1966")
    ff = read_flatfile(tmp_path / "y66")
    np.testing.assert_array_equal(ff.time[~inside], time[~inside])
    np.testing.assert_array_equal(ff.time[inside], time[inside] - S)
    np.testing.assert_array_equal(ff.ticks[inside], ff.ticks[inside.nonzero()[0] - 4])
    assert not ff.is_monotonic
    assert ff.keywords["LAST TIME"] == "2017 001 Jan 01 00:00:00.750"
    write_flatfile(tmp_path / "j2k", time, data, [("BT", "nT", "")], epoch="J2000")
    ff = read_flatfile(tmp_path / "j2k")
    np.testing.assert_array_equal(ff.time, time)
    assert ff.is_monotonic


def test_newline_header_is_accepted(tmp_path):
    time, data = _samples("2010-05-05", 10)
    ffh, _ = write_flatfile(tmp_path / "nl", time, data, COLS)
    want = read_flatfile(ffh)
    ffh.write_text("\n".join(r.rstrip() for r in header_records(ffh)) + "\n")
    got = read_flatfile(ffh)
    assert got.columns == want.columns and got.keywords == want.keywords
    np.testing.assert_array_equal(got.time, want.time)


def test_non_monotonic_is_not_an_error(tmp_path):
    time, data = _samples("2010-05-05", 10)
    write_flatfile(tmp_path / "rev", time[::-1], data, COLS)
    ff = read_flatfile(tmp_path / "rev")
    assert not ff.is_monotonic
    np.testing.assert_array_equal(ff.time, time[::-1])


def test_writer_rejects_bad_input(tmp_path):
    time, data = _samples("2010-05-05", 10)
    bad = [
        dict(columns=[("BX_GSE_LONG", "nT", ""), *COLS[1:]]),  # name > 9 characters
        dict(columns=[("BX", "nanoteslas", ""), *COLS[1:]]),  # units > 9 characters
        dict(columns=COLS[:2]),
        dict(epoch="Y1950"),
        dict(time_tt2000=time.astype(float)),
        dict(data=data[:5]),
        dict(keywords={"NROWS": "3"}),
        dict(abstract=["caf\u00e9"]),
    ]
    for override in bad:
        args = dict(time_tt2000=time, data=data, columns=COLS) | override
        with pytest.raises(UsageError, match="bad"):
            write_flatfile(tmp_path / "bad", **args)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    time, data = _samples("2010-05-05", 100)

    def broken(path, records):
        path.write_bytes(records.tobytes()[:100])
        raise OSError("disk full")

    monkeypatch.setattr(FW, "_write_ffd", broken)
    with pytest.raises(OSError, match="disk full"):
        write_flatfile(tmp_path / "x", time, data, COLS)
    assert list(tmp_path.iterdir()) == []
    # An earlier product of the same name is left untouched.
    monkeypatch.undo()
    ffh, ffd = write_flatfile(tmp_path / "x", time, data, COLS)
    before = (ffh.read_bytes(), ffd.read_bytes())
    monkeypatch.setattr(FW, "_write_ffd", broken)
    with pytest.raises(OSError):
        write_flatfile(tmp_path / "x", time[:50], data[:50], COLS)
    assert (ffh.read_bytes(), ffd.read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.ffd", "x.ffh"]


# ----------------------------------------------------------------------------- bad files


@pytest.fixture
def good(tmp_path) -> tuple[Path, Path]:
    time, data = _samples("2010-05-05", 10)
    return write_flatfile(tmp_path / "good", time, data, COLS)


def _edit_header(ffh: Path, old: str, new: str) -> None:
    text = ffh.read_text("ascii")
    assert old in text and len(old) == len(new)
    ffh.write_text(text.replace(old, new, 1), "ascii")


def test_bad_truncated_ffd(good):
    ffh, ffd = good
    ffd.write_bytes(ffd.read_bytes()[:-3])
    with pytest.raises(InputError, match=rf"{ffd.name}: size 197 bytes is not a multiple of RECL"):
        read_flatfile(ffh)


def test_bad_missing_halves(good):
    ffh, ffd = good
    ffh.unlink()
    with pytest.raises(MissingInputError, match=rf"{ffh}: flat-file header \(.ffh\) not found"):
        read_flatfile(ffd)
    ffh2, ffd2 = write_flatfile(ffh.parent / "other", *_samples("2010-05-05", 3), COLS)
    ffd2.unlink()
    with pytest.raises(InputError, match=rf"{ffd2}: flat-file data \(.ffd\) not found"):
        read_flatfile(ffh2)


def test_bad_header_not_multiple_of_72(good):
    ffh, _ = good
    ffh.write_bytes(ffh.read_bytes()[:-10])
    with pytest.raises(InputError, match=rf"{ffh}: header is \d+ bytes, not a whole number of 72"):
        read_flatfile(ffh)


def test_bad_recl(good):
    ffh, _ = good
    _edit_header(ffh, "RECL  =    20", "RECL  =    24")
    with pytest.raises(InputError, match=rf"{ffh}: RECL = 24 disagrees with good.ffd"):
        read_flatfile(ffh)
    _edit_header(ffh, "RECL  =    24", "RECL  =    16")
    with pytest.raises(InputError, match=rf"{ffh}: RECL = 16 but the column table needs 20"):
        read_flatfile(ffh)


def test_bad_nrows(good):
    ffh, ffd = good
    _edit_header(ffh, "NROWS =         10", "NROWS =         11")
    with pytest.raises(InputError, match=rf"{ffd}: holds 10 records but good.ffh says NROWS = 11"):
        read_flatfile(ffh)


def test_bad_type_and_epoch(good):
    ffh, _ = good
    _edit_header(ffh, "R      12", "I      12")
    with pytest.raises(InputError, match=rf"{ffh}: column 3 \(BY\) has unknown TYPE 'I'"):
        read_flatfile(ffh)
    _edit_header(ffh, "I      12", "R      12")
    _edit_header(ffh, "EPOCH = Y1966", "EPOCH = Y1958")
    with pytest.raises(InputError, match=rf"{ffh}: EPOCH = 'Y1958' is unknown"):
        read_flatfile(ffh)


def test_bad_version3_dialect(tmp_path):
    base = tmp_path / "izmiran"
    (tmp_path / "izmiran.ffh").write_text(
        "FLAT FILE VERSION=3.0\nRECORD LENGTH, BYTES=12\nENDIAN=LITTLE\nTIME DAY MJD D 0\nH NT H R 8\n"
    )
    (tmp_path / "izmiran.ffd").write_bytes(np.zeros(2, "<f8,<f4").tobytes())
    with pytest.raises(InputError, match=rf"{base}.ffh: .*unrelated 'FLAT FILE VERSION=3.0' dialect"):
        read_flatfile(base)


def test_bad_little_endian_data(good):
    ffh, ffd = good
    rec = np.fromfile(ffd, dtype=[("t", ">f8"), ("d", ">f4", (3,))])
    ffd.write_bytes(rec.astype([("t", "<f8"), ("d", "<f4", (3,))]).tobytes())
    with pytest.raises(InputError, match=rf"{ffd}: time column decodes as little-endian"):
        read_flatfile(ffh)


def test_bad_no_end_and_no_table(good):
    ffh, _ = good
    _edit_header(ffh, "END", "FIN")
    with pytest.raises(InputError, match=rf"{ffh}: no END record"):
        read_flatfile(ffh)
    _edit_header(ffh, "FIN", "END")
    _edit_header(ffh, "SOURCE", "ORIGIN")
    with pytest.raises(InputError, match=rf"{ffh}: no column table"):
        read_flatfile(ffh)


def test_column_lookup_errors(good):
    ff = read_flatfile(good[0])
    with pytest.raises(UsageError, match="no column 'BW'; columns are TIME, BX, BY, BZ"):
        ff.column("BW")
    np.testing.assert_array_equal(ff.column("TIME"), ff.ticks)


@pytest.mark.realdata
@pytest.mark.parametrize("base", ["isee1_77nov10", "m1a20151016093234"])
def test_real_sample_rewritten_round_trips(tmp_path, base):
    """A real file copied through the writer keeps its ticks and float32 values bit for bit."""
    ff = read_flatfile(real(base))
    write_flatfile(tmp_path / "copy", ff.time, ff.data, ff.data_columns, epoch=ff.epoch,
                   time_name=ff.time_column.name, time_units=ff.time_column.units)  # fmt: skip
    again = read_flatfile(tmp_path / "copy")
    np.testing.assert_array_equal(again.ticks, ff.ticks)
    np.testing.assert_array_equal(again.time, ff.time)
    assert np.array_equal(again.data.view(np.uint32), ff.data.view(np.uint32))
    assert again.names == ff.names and again.epoch == ff.epoch


# ----------------------------------------------------------------------------- long values

LONG_WORDS = " ".join(f"word{i:03d}" for i in range(70))[:500].rstrip()  # 500 characters of words
LONG_PATHS = ", ".join(f"stereo/gen/data/spice/ck/ahead/ahead_2024_{d:03d}_01.ah.bc" for d in range(11))[:500]
LONG_TOKEN = "".join(chr(65 + i % 26) for i in range(500))  # no blank, no slash


@pytest.mark.parametrize("value", [LONG_WORDS, LONG_PATHS, LONG_TOKEN, "a  b " * 100 + "end"])
def test_500_character_values_read_back_exactly(tmp_path, value):
    """Keywords and abstract lines of 500 characters go on in continuation records (a record
    ending with '&', the next opening with 21 blanks) and read back whole; words are never cut
    where a blank or a '/' falls in the record; every record stays 72 characters."""
    time, data = _samples("2024-08-01", 10)
    value = value.rstrip()
    ffh, _ = write_flatfile(
        tmp_path / "long", time, data, COLS,
        keywords={"CALIBRATION": value, "SHORT": "x"}, abstract=["free text " + value, "after"],
    )  # fmt: skip
    raw = ffh.read_bytes()
    assert b"\n" not in raw and len(raw) % 72 == 0
    ff = read_flatfile(ffh)
    assert ff.keywords["CALIBRATION"] == value and ff.keywords["SHORT"] == "x"
    assert ff.abstract[-2:] == ["free text " + value, "after"]
    records = [r.rstrip() for r in header_records(ffh)]
    continued = [r for r in records if r.endswith("&")]
    assert continued, "a 500-character value needs continuation records"
    for rec, nxt in zip(records, records[1:], strict=False):
        if rec.endswith("&"):
            assert nxt.startswith(" " * 21) and nxt[21:].strip()
            if " " in value.strip() or "/" in value:  # broken after a blank or a slash
                assert rec[-2] in " /" or nxt[21] == " ", (rec, nxt)


def test_real_samples_have_no_continuations():
    """The continuation rule changes no real header: none has a record ending with '&'
    followed by one opening with 21 blanks (their reading is unchanged)."""
    for base in SAMPLES:
        records = header_records(real(base).with_suffix(".ffh"))
        for rec, nxt in zip(records, records[1:], strict=False):
            assert not (rec.rstrip().endswith("&") and not nxt[:21].strip() and nxt[21:].strip()), base


def test_stereo_rtn_product_attributes_round_trip_through_to_netcdf(tmp_path):
    """A STEREO RTN flat file with long provenance values: read_product gives each attribute
    whole and no junk attribute (the description's '=' is free text), and the xarray dataset
    writes to netCDF and reads back with the same attributes."""
    xr = pytest.importorskip("xarray")
    from magfw.api import Product, shipped_definitions, write_product
    from magfw.io.products import read_product

    d = {x.id: x for x in shipped_definitions("stereo")}["l1_mag_rtn_ff"]
    n = 100
    tt = T.tt2000_from_iso("2024-08-01") + np.arange(n, dtype=np.int64) * (S // 8)
    b = np.random.default_rng(0).normal(0, 5, (n, 4)).astype(np.float32)
    attrs = {
        "Calibration_version": "counts_table=offsets/202408StereoACounts.asc " + LONG_WORDS,
        "SPICE_kernels": LONG_PATHS,
        "Parents": ["impact/misc/uv/ahead/STA_L1_MAG_20240801_V01.cdf"] * 6,
        "Data_source": "SIMULATED by magfw: not real data",
    }
    target = tmp_path / "L1_rtn/Afgy2024/STA_L1_MAG_RTN_20240801_V06.ffh"
    (ffh, _ffd) = write_product(
        Product(definition=d, variables={"TIME": tt, "B": b}, fields={"sc": "A"}), target, attrs
    )
    got = read_product(ffh).global_attrs
    assert got["Calibration_version"] == attrs["Calibration_version"]
    assert got["SPICE_kernels"] == LONG_PATHS
    assert got["Parents"] == ", ".join(attrs["Parents"])
    header_keys = {"DATA", "CDATE", "RECL", "NCOLS", "NROWS", "OPSYS", "EPOCH", "FIRST TIME", "LAST TIME",
                   "MISSING DATA FLAG"}  # fmt: skip
    assert set(got) == header_keys | set(d.global_attrs) | set(attrs), sorted(set(got) - header_keys)
    ds = xr.open_dataset(ffh, engine="magfw")
    ds.to_netcdf(tmp_path / "back.nc")
    with xr.open_dataset(tmp_path / "back.nc") as back:
        assert back.attrs["SPICE_kernels"] == LONG_PATHS
        assert back.attrs["Calibration_version"] == attrs["Calibration_version"]
        np.testing.assert_array_equal(back["B"].values, ds["B"].values)

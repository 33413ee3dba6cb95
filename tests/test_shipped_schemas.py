"""The product definitions the bundled missions ship (``schemas/<mission>/*.yaml``).

Checked against the sources: product ids the plugins use, file names (real ones where we have
them: SPDF/SSC/PRADAN names quoted in the research notes), the Aditya-L1 variable tables
(Tables 2 and 3 of the MAG data product description) and attributes of the real L2 V00 file,
fill values, time dependencies and ISTP attributes, and that every file-format definition
writes a product that ``magfw check`` accepts.
"""

from __future__ import annotations

import fnmatch
import functools
from pathlib import Path, PurePosixPath

import numpy as np
import pytest

from magfw.errors import DefinitionError
from magfw.geometry import time as T
from magfw.io.products import full_dims, write_product
from magfw.plugin.context import Product
from magfw.plugin.definitions import ProductDefinition, shipped_definitions
from magfw.tools.check import check_file

MISSIONS = ("stereo", "aditya", "plastic")

EXPECTED_IDS = {
    "stereo": {
        "l1_mag_sc",
        "l1_mag_rtn",
        "l1_magb_sc",
        "l1_magb_rtn",
        "l1_mag_sc_ff",
        "l1_mag_rtn_ff",
        "l1_magb_sc_ff",
        "l1_magb_rtn_ff",
        "l1_mag_sc_1s",
        "l1_mag_rtn_1s",
        "l1_mag_sc_1min",
        "l1_mag_rtn_1min",
        "prep_1s",
        "monthly_review",
        "beacon_rtn",
        "counts_table",
        "delivery_zip",
        "offsets_estimate",
    },
    "aditya": {
        "l1",
        "l1_meta",
        "l1_preview",
        "l2",
        "l2_meta",
        "l2_metadata",
        "l2_outreach",
        "caldb_revision",
        "rotation_calibration",
        "comparison",
        "comparison_plot",
        "monitoring",
        "monitoring_plot",
    },
    "plastic": {
        "merged_daily",
        "merged_yearly",
        "merged_daily_ff",
        "merged_monthly_ff",
        "merged_10min",
        "merged_1hr",
        "yearly_zip",
    },
}

ISTP_GLOBALS = [
    "Project",
    "Source_name",
    "Discipline",
    "Data_type",
    "Descriptor",
    "Data_version",
    "Logical_file_id",
    "PI_name",
    "PI_affiliation",
    "TEXT",
    "Instrument_type",
    "Mission_group",
    "Logical_source",
    "Logical_source_description",
]
#: ISTP globals that depend on the spacecraft or the file: supplied per file, not in the YAML.
PER_FILE_ISTP = {"Source_name", "Logical_source", "Logical_file_id"}


@functools.cache
def defs(mission: str) -> dict[str, ProductDefinition]:
    return {d.id: d for d in shipped_definitions(mission)}


def all_defs() -> list[ProductDefinition]:
    return [d for m in MISSIONS for d in defs(m).values()]


def _ids(ds: list[ProductDefinition]) -> list[str]:
    return [d.key for d in ds]


# ---------------------------------------------------------------------------------------------
# Ids
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mission", MISSIONS)
def test_ids_unique_and_the_plugins_ids_present(mission):
    loaded = shipped_definitions(mission)
    ids = [d.id for d in loaded]
    assert len(ids) == len(set(ids)), f"duplicate ids in schemas/{mission}"
    assert EXPECTED_IDS[mission] <= set(ids), EXPECTED_IDS[mission] - set(ids)
    assert {d.mission for d in loaded} == {mission}


# ---------------------------------------------------------------------------------------------
# File names
# ---------------------------------------------------------------------------------------------

A, B = "A", "B"
NAMES = [
    # STEREO L1 CDFs (the first three are real names quoted in research/stereo.md), kept under
    # cdf/{sc,rtn}/{A,B}[b]fgy{yyyy}/ (FileName.directory); the bare names parse too
    (
        "stereo",
        "l1_mag_rtn",
        "l1_final_cdf/rtn/Afgy2018/STA_L1_MAG_RTN_20180101_V06.cdf",
        dict(sc=A, yyyy=2018, mm=1, dd=1, version=6),
    ),
    (
        "stereo",
        "l1_magb_rtn",
        "l1_final_cdf/rtn/Abfgy2020/STA_L1_MAGB_RTN_20200102_V06.cdf",
        dict(sc=A, yyyy=2020, mm=1, dd=2, version=6),
    ),
    (
        "stereo",
        "l1_mag_rtn",
        "l1_final_cdf/rtn/Afgy2024/STA_L1_MAG_RTN_20240105_V06.cdf",
        dict(sc=A, yyyy=2024, mm=1, dd=5, version=6),
    ),
    (
        "stereo",
        "l1_magb_sc",
        "l1_final_cdf/sc/Bbfgy2014/STB_L1_MAGB_SC_20140101_V06.cdf",
        dict(sc=B, yyyy=2014, mm=1, dd=1, version=6),
    ),
    (
        "stereo",
        "l1_mag_sc",
        "l1_final_cdf/sc/Bfgy2014/STB_L1_MAG_SC_20140927_V06.cdf",
        dict(sc=B, yyyy=2014, mm=9, dd=27, version=6),
    ),
    # STEREO flat files in the UCLA directory scheme
    (
        "stereo",
        "l1_mag_rtn_1s",
        "l1_final_flat/L1_rtn/Afgy2024/STA_L1_MAG_RTN_1S_20240105_V06.ffh",
        dict(sc=A, yyyy=2024, mm=1, dd=5, version=6),
    ),
    (
        "stereo",
        "l1_mag_sc_1s",
        "l1_final_flat/L1_sc/Bfgy2014/STB_L1_MAG_SC_1S_20140101_V06.ffh",
        dict(sc=B, yyyy=2014, mm=1, dd=1, version=6),
    ),
    (
        "stereo",
        "l1_mag_rtn_1min",
        "l1_final_flat/L1_rtn/Afgy2024/STA_L1_MAG_RTN_1MIN_20240105_V06.ffh",
        dict(sc=A, yyyy=2024, mm=1, dd=5, version=6),
    ),
    (
        "stereo",
        "l1_mag_sc_1min",
        "l1_final_flat/L1_sc/Afgy2024/STA_L1_MAG_SC_1MIN_20240105_V06.ffh",
        dict(sc=A, yyyy=2024, mm=1, dd=5, version=6),
    ),
    (
        "stereo",
        "l1_mag_sc_ff",
        "l1_final_flat/L1_sc/Afgy2024/STA_L1_MAG_SC_20240105_V06.ffh",
        dict(sc=A, yyyy=2024, mm=1, dd=5, version=6),
    ),
    (
        "stereo",
        "l1_mag_rtn_ff",
        "l1_final_flat/L1_rtn/Afgy2024/STA_L1_MAG_RTN_20240105_V06.ffh",
        dict(sc=A, yyyy=2024, mm=1, dd=5, version=6),
    ),
    (
        "stereo",
        "l1_magb_sc_ff",
        "l1_final_flat/L1_sc/Abfgy2024/STA_L1_MAGB_SC_20240105_V06.ffh",
        dict(sc=A, yyyy=2024, mm=1, dd=5, version=6),
    ),
    (
        "stereo",
        "l1_magb_rtn_ff",
        "l1_final_flat/L1_rtn/Abfgy2024/STA_L1_MAGB_RTN_20240105_V06.ffh",
        dict(sc=A, yyyy=2024, mm=1, dd=5, version=6),
    ),
    (
        "stereo",
        "prep_1s",
        "l1_0_avg/Afgy2024/STA_L1_0_MAG_SC_1S_20240105_V01.ffh",
        dict(sc=A, yyyy=2024, mm=1, dd=5, version=1),
    ),
    (
        "stereo",
        "monthly_review",
        "l1_final_cdf/merge_cdf_for_review/STA_L1_MAGB_RTN_202401_REVIEW_V06.cdf",
        dict(sc=A, burst="B", frame="RTN", yyyy=2024, mm=1, version=6),
    ),
    (
        "stereo",
        "monthly_review",
        "l1_final_cdf/merge_cdf_for_review/STA_L1_MAG_SC_202401_REVIEW_V06.cdf",
        dict(sc=A, burst="", frame="SC", yyyy=2024, mm=1, version=6),
    ),
    (
        "stereo",
        "beacon_rtn",
        "beacon_cdf/Afgy2015/STA_LB_MAG_RTN_20150101_V06.cdf",
        dict(sc=A, yyyy=2015, mm=1, dd=1, version=6),
    ),
    ("stereo", "counts_table", "offsets/V00/202401StereoACounts.asc", dict(version=0, yyyy=2024, mm=1, sc=A)),
    (
        "stereo",
        "delivery_zip",
        "prep_zips/l1_MAG/stereo_MAG_MAGB_CDF_2024jan.zip",
        dict(yyyy=2024, mmm="jan"),
    ),
    (
        "stereo",
        "offsets_estimate",
        "input_offsets/STEREO_A_offset_2024jan_estimate.txt",
        dict(sc=A, yyyy=2024, mmm="jan"),
    ),
    # Aditya-L1: the two real L1 names on PRADAN, real and realistic L2 names
    (
        "aditya",
        "l1",
        "L1_MAG91N18P1AL10017109024026100025140104_N00_0000_000842_V00.nc",
        dict(
            payload="MAG91",
            station="N18",
            pacq="P1",
            sat="AL1",
            strip="00171",
            vcid="09",
            apid="0240",
            yy=26,
            doy=100,
            hh=2,
            mi=51,
            ss=40,
            ms=104,
            obsid="N00_0000_000842",
            version=0,
        ),
    ),
    (
        "aditya",
        "l1",
        "L1_MAG91N18P1AL10017009024026100003930154_N00_0000_000842_V00.nc",
        dict(
            payload="MAG91",
            station="N18",
            pacq="P1",
            sat="AL1",
            strip="00170",
            vcid="09",
            apid="0240",
            yy=26,
            doy=100,
            hh=0,
            mi=39,
            ss=30,
            ms=154,
            obsid="N00_0000_000842",
            version=0,
        ),
    ),
    (
        "aditya",
        "l1_preview",
        "L1_MAG91N18P1AL10017109024026100025140104_N00_0000_000842_V00.png",
        dict(
            payload="MAG91",
            station="N18",
            pacq="P1",
            sat="AL1",
            strip="00171",
            vcid="09",
            apid="0240",
            yy=26,
            doy=100,
            hh=2,
            mi=51,
            ss=40,
            ms=104,
            obsid="N00_0000_000842",
            version=0,
        ),
    ),
    ("aditya", "l2", "L2_AL1_MAG_20241010_V00.nc", dict(yyyy=2024, mm=10, dd=10, version=0)),
    ("aditya", "l2", "L2_AL1_MAG_20240801_V00.nc", dict(yyyy=2024, mm=8, dd=1, version=0)),
    (
        "aditya",
        "l2_metadata",
        "L2_AL1_MAG_20240801_V01_provenance.xml",
        dict(yyyy=2024, mm=8, dd=1, version=1),
    ),
    ("aditya", "l2_meta", "L2_AL1_MAG_20240801_V10.xml", dict(yyyy=2024, mm=8, dd=1, version=10)),
    (
        "aditya",
        "l1_meta",
        "L1_MAG91N18P1AL10017109024026100025140104_N00_0000_000842_V00.xml",
        dict(
            payload="MAG91",
            station="N18",
            pacq="P1",
            sat="AL1",
            strip="00171",
            vcid="09",
            apid="0240",
            yy=26,
            doy=100,
            hh=2,
            mi=51,
            ss=40,
            ms=104,
            obsid="N00_0000_000842",
            version=0,
        ),
    ),
    ("aditya", "caldb_revision", "caldb/AL1_MAG_CALDB_V01.yaml", dict(cal=1)),
    (
        "aditya",
        "rotation_calibration",
        "calibration/AL1_MAG_ROTCAL_20240810_V00.yaml",
        dict(yyyy=2024, mm=8, dd=10, version=0),
    ),
    (
        "aditya",
        "comparison",
        "comparison/AL1_MAG_VS_DSCOVR_202408_V01.yaml",
        dict(monitor="DSCOVR", yyyy=2024, mm=8, version=1),
    ),
    (
        "aditya",
        "comparison_plot",
        "comparison/AL1_MAG_VS_ACE_202201_V00.png",
        dict(monitor="ACE", yyyy=2022, mm=1, version=0),
    ),
    ("aditya", "monitoring", "monitoring/AL1_MAG_QUIET_202408_V00.yaml", dict(yyyy=2024, mm=8, version=0)),
    (
        "aditya",
        "monitoring_plot",
        "monitoring/AL1_MAG_QUIET_202408_V01.png",
        dict(yyyy=2024, mm=8, version=1),
    ),
    ("aditya", "l2_outreach", "L2_AL1_MAG_20240801_V00.png", dict(yyyy=2024, mm=8, dd=1, version=0)),
    # PLASTIC + MAG merge (the yearly name is the real SPDF one)
    (
        "plastic",
        "merged_yearly",
        "yearly_cdf/sta_l2_magplasma_1m_20100101_v07.cdf",
        dict(sc="a", yyyy=2010, version=7),
    ),
    (
        "plastic",
        "merged_daily",
        "daily_cdf/Afgy2024/STA_L2_MAGPLASMA_1M_DAILY_20240105_V07.cdf",
        dict(sc=A, yyyy=2024, mm=1, dd=5, version=7),
    ),
    (
        "plastic",
        "merged_daily_ff",
        "daily_flatfile/Afgy2024/STA_L2_MAGPLASMA_1M_20240105_V07.ffh",
        dict(sc=A, yyyy=2024, mm=1, dd=5, version=7),
    ),
    (
        "plastic",
        "merged_monthly_ff",
        "monthly_flatfile/Afgy2024/jan_STA_L2_MAGPLASMA_1M_2024_V07.ffh",
        dict(sc=A, yyyy=2024, mmm="jan", version=7),
    ),
    (
        "plastic",
        "merged_10min",
        "average_flatfile/Afgy2024/STA_L2_MAGPLASMA_10MIN_2024_V07.ffh",
        dict(sc=A, yyyy=2024, version=7),
    ),
    (
        "plastic",
        "merged_1hr",
        "average_flatfile/Bfgy2013/STB_L2_MAGPLASMA_1HR_2013_V07.ffh",
        dict(sc=B, yyyy=2013, version=7),
    ),
    ("plastic", "yearly_zip", "prep_zips/l2_merge/stereo_PLASTIC_MAG_yearly_cdf_2024.zip", dict(yyyy=2024)),
]


@pytest.mark.parametrize(("mission", "pid", "name", "fields"), NAMES, ids=[n[2] for n in NAMES])
def test_names_format_and_parse_back(mission, pid, name, fields):
    d = defs(mission)[pid]
    assert d.filename.parse(name) == fields
    assert d.filename.format(**fields) == name
    owners = [x.id for x in defs(mission).values() if x.filename.parse(name) is not None]
    assert owners == [pid], f"{name} is claimed by {owners}"


@pytest.mark.parametrize("mission", MISSIONS)
def test_every_product_has_a_name_in_the_list_above(mission):
    named = {pid for m, pid, _, _ in NAMES if m == mission}
    assert set(defs(mission)) <= named, set(defs(mission)) - named


def test_stereo_fixed_versions_give_v06_names():
    d = defs("stereo")
    for pid in (
        "l1_mag_sc",
        "l1_mag_rtn",
        "l1_magb_sc",
        "l1_magb_rtn",
        "beacon_rtn",
        "l1_mag_sc_ff",
        "l1_mag_rtn_ff",
        "l1_magb_sc_ff",
        "l1_magb_rtn_ff",
        "l1_mag_sc_1s",
        "l1_mag_rtn_1s",
        "l1_mag_sc_1min",
        "l1_mag_rtn_1min",
        "monthly_review",
        "delivery_zip",
    ):
        assert (d[pid].version.policy, d[pid].version.start) == ("fixed", 6), pid
        if d[pid].format == "cdf":
            assert d[pid].global_attrs["Data_version"] == "6", pid
    rtn = d["l1_mag_rtn"]
    name = rtn.filename.format(sc="A", yyyy=2024, mm=1, dd=5, version=rtn.version.start)
    assert name == "l1_final_cdf/rtn/Afgy2024/STA_L1_MAG_RTN_20240105_V06.cdf"
    assert (d["prep_1s"].version.policy, d["prep_1s"].version.start) == ("fixed", 1)
    assert (d["counts_table"].version.policy, d["counts_table"].version.start) == ("increment", 0)
    for pid, p in defs("plastic").items():
        assert (p.version.policy, p.version.start) == ("fixed", 7), pid


def test_stereo_burst_is_its_own_product():
    d = defs("stereo")
    assert d["l1_mag_rtn"].filename.parse("STA_L1_MAGB_RTN_20200102_V06.cdf") is None
    assert d["l1_magb_rtn"].filename.parse("STA_L1_MAG_RTN_20200102_V06.cdf") is None
    assert d["l1_mag_rtn"].cadence_s == 0.125 and d["l1_magb_rtn"].cadence_s == 0.03125
    # burst flat files live in the b directory, normal ones not
    assert (
        d["l1_mag_sc_ff"].filename.parse("l1_final_flat/L1_sc/Abfgy2024/STA_L1_MAG_SC_20240105_V06.ffh")
        is None
    )
    assert (
        d["l1_magb_sc_ff"].filename.parse("l1_final_flat/L1_sc/Afgy2024/STA_L1_MAGB_SC_20240105_V06.ffh")
        is None
    )


def test_stereo_flat_files_in_the_published_tree():
    d = defs("stereo")["l1_mag_rtn_1s"]
    published = "/mnt/MissionRepo/stereo/data/L1_rtn/Afgy2024/STA_L1_MAG_RTN_1S_20240105_V06.ffh"
    assert d.filename.parse(published) == dict(sc="A", yyyy=2024, mm=1, dd=5, version=6)
    # the year folder and the spacecraft folder must agree with the file name
    assert d.filename.parse("l1_final_flat/L1_rtn/Afgy2023/STA_L1_MAG_RTN_1S_20240105_V06.ffh") is None
    assert d.filename.parse("l1_final_flat/L1_rtn/Bfgy2024/STA_L1_MAG_RTN_1S_20240105_V06.ffh") is None
    assert d.filename.parse("l1_final_flat/L1_sc/Afgy2024/STA_L1_MAG_RTN_1S_20240105_V06.ffh") is None
    pattern = d.filename.glob(sc="A", yyyy=2024)
    assert fnmatch.fnmatchcase("l1_final_flat/L1_rtn/Afgy2024/STA_L1_MAG_RTN_1S_20241231_V06.ffh", pattern)
    assert not fnmatch.fnmatchcase(
        "l1_final_flat/L1_rtn/Afgy2024/STA_L1_MAG_RTN_1S_20231231_V06.ffh", pattern
    )


def test_public_names_without_a_version_are_kept_exactly():
    d = defs("stereo")
    counts = d["counts_table"].filename.format(version=0, yyyy=2024, mm=1, sc="A")
    assert PurePosixPath(counts).name == "202401StereoACounts.asc"
    zipname = d["delivery_zip"].filename.format(version=6, yyyy=2024, mmm="jan")
    assert PurePosixPath(zipname).name == "stereo_MAG_MAGB_CDF_2024jan.zip"
    with pytest.raises(DefinitionError):
        d["delivery_zip"].filename.format(version=6, yyyy=2024, mmm="January")
    # the model needs a version field, so it is a folder: a bare public name alone does not parse
    # (schemas/README.md, "What the model cannot express", item 1)
    assert d["counts_table"].filename.parse("202401StereoACounts.asc") is None


def test_plastic_monthly_flat_files_match_the_publishing_copy():
    d = defs("plastic")["merged_monthly_ff"]
    rel = d.filename.format(sc="A", yyyy=2024, mmm="jan", version=7)
    folder, name = rel.rsplit("/", 1)
    assert folder == "monthly_flatfile/Afgy2024"
    assert fnmatch.fnmatchcase(name, "jan_*") and not fnmatch.fnmatchcase(name, "feb_*")


TABLE1 = dict(
    payload="MAG91",
    station="N18",
    pacq="P1",
    sat="AL1",
    strip="00171",
    vcid="09",
    apid="0240",
    yy=24,
    doy=214,
    hh=0,
    mi=0,
    ss=5,
    ms=7,
    obsid="N00_0000_000842",
    version=0,
)


def test_aditya_l1_name_from_table1():
    fname = defs("aditya")["l1"].filename
    name = fname.format(**TABLE1)
    assert name == "L1_MAG91N18P1AL10017109024024214000005007_N00_0000_000842_V00.nc"
    # Table 1 widths (plus SAT, which the ICD template and the real names have)
    stem = name[len("L1_") : name.index("_", 3)]
    assert len(stem) == 5 + 3 + 2 + 3 + 5 + 2 + 4 + 2 + 3 + 2 + 2 + 2 + 3
    assert fname.parse(name) == TABLE1
    assert defs("aditya")["l1_preview"].filename.format(**TABLE1) == name[:-3] + ".png"


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("strip", "0017"),
        ("strip", "001710"),
        ("station", "N1"),
        ("pacq", "P"),
        ("vcid", "9"),
        ("apid", "240"),
        ("payload", "MAG92"),
        ("sat", "AL2"),
        ("obsid", "N00_0000_00842"),
        ("yy", 2024),
        ("doy", 367),
        ("doy", 0),
        ("hh", 24),
        ("mi", 60),
        ("ms", 1000),
        ("version", 100),
    ],
)
def test_aditya_l1_name_rejects_a_wrong_field(field, bad):
    fname = defs("aditya")["l1"].filename
    with pytest.raises(DefinitionError):
        fname.format(**{**TABLE1, field: bad})
    # the same text spliced into a name where the field sits must not parse either
    texts = {
        k: f"{v:0{fname.fields[k].width}d}" if isinstance(v, int) else v
        for k, v in {**TABLE1, field: bad}.items()
    }
    spliced = fname.template.format(**texts)
    assert spliced != fname.format(**TABLE1)
    assert fname.parse(spliced) is None, spliced


# ---------------------------------------------------------------------------------------------
# Variable tables
# ---------------------------------------------------------------------------------------------

TABLE2 = [
    "time",
    "B_yaw_mag1",
    "B_roll_mag1",
    "B_pitch_mag1",
    "B_yaw_mag2",
    "B_roll_mag2",
    "B_pitch_mag2",
    "B_yaw_mag1_error",
    "B_roll_mag1_error",
    "B_pitch_mag1_error",
    "B_yaw_mag2_error",
    "B_roll_mag2_error",
    "B_pitch_mag2_error",
]
TABLE3 = [
    "time",
    "Bx_gse",
    "By_gse",
    "Bz_gse",
    "Bx_gsm",
    "By_gsm",
    "Bz_gsm",
    "Bx_gse_error",
    "By_gse_error",
    "Bz_gse_error",
    "Bx_gsm_error",
    "By_gsm_error",
    "Bz_gsm_error",
    "x_gse",
    "y_gse",
    "z_gse",
    "x_gsm",
    "y_gsm",
    "z_gsm",
    "Quality_flag_10s_data",
]
REAL_L2_GLOBALS = {  # the real L2_AL1_MAG_20241010_V00.nc; None = differs per file or is ours
    "title": "Aditya-L1 Magnetometer data",
    "summary": None,
    "keywords": None,
    "Conventions": "ACDD-1.3",
    "source": "Aditya-L1 Magnetometer L1 data",
    "processing_level": "Level 2",
    "number_of_samples": 8640,
    "date_created": None,
    "creator_email": None,
    "time_coverage_start": None,
    "time_coverage_end": None,
    "time_coverage_resolution": "Minimum of 10 seconds",
    "product_version": None,
    "platform": "Aditya-L1",
    "instrument": "Magnetometer",
    "publisher_name": "ISSDC",
    "publisher_url": "www.issdc.gov.in,pradan.issdc.gov.in/al1",
    "Fill_value": -9999.0,
    "Fill_value_description": "Denotes either missing data or invalid data",
    "missing_data_percentage": None,
}


def test_aditya_l1_variables_are_table2():
    d = defs("aditya")["l1"]
    assert [v.name for v in d.variables] == TABLE2
    t = d.variable("time")
    assert (t.dtype, t.units, t.fill) == ("float64", "Seconds (UNIX time)", None)
    assert t.description == "Epoch starts at Jan 1, 1970 00:00:00"
    assert d.variable("B_pitch_mag2").description == "MAG2 component along the pitch axis of the spacecraft"
    assert d.variable("B_yaw_mag1_error").description == (
        "Uncertainty in MAG1 component along the yaw axis of the spacecraft"
    )
    for v in d.variables[1:]:
        assert v.units == "nano tesla - nT" and v.fill == -9999.0, v.name
    assert (d.cadence_s, d.time_convention, d.format) == (0.128, "instant", "netcdf")


def test_aditya_l2_variables_are_table3_as_in_the_real_file():
    d = defs("aditya")["l2"]
    # Table 3 in its order, then the SCCS components (manual 3.1: "additionally ... in the SCCS
    # frame") in its style
    assert [v.name for v in d.variables] == TABLE3 + [
        "Bx_sccs",
        "By_sccs",
        "Bz_sccs",
        "Bx_sccs_error",
        "By_sccs_error",
        "Bz_sccs_error",
    ]
    assert d.variable("By_sccs").dims == ["By"] and d.variable("Bz_sccs_error").units == "nano tesla - nT"
    t = d.variable("time")
    assert (t.dtype, t.units, t.fill) == ("float64", "Seconds (UNIX time)", None)
    assert t.description == "Epoch starts at Jan 1, 1970 00:00:00, bin-width = 10second"
    for v in d.variables[1:]:
        assert v.dtype == "float32" and v.fill == -9999.0, v.name
        # the real files carry an attribute literally named "description"
        assert v.attrs["description"] == v.description, v.name
    assert d.variable("Bz_gsm").units == "nano tesla - nT"
    assert d.variable("By_gse_error").description == (
        "Uncertainty in Field component along the Y-axis in GSE frame"
    )
    assert d.variable("y_gsm").units == "kilometers - km"
    assert d.variable("Quality_flag_10s_data").units == "Arbitrary"
    # the real file's per-component dimensions
    assert d.variable("Bx_gsm").dims == ["Bx"] and d.variable("z_gse").dims == ["Bz"]
    assert d.variable("Quality_flag_10s_data").dims == ["utc_time"]
    assert (d.cadence_s, d.time_convention) == (10.0, "start")


def test_aditya_l2_global_attributes_are_the_real_acdd_set():
    d = defs("aditya")["l2"]
    # creator_email: the operator's address when configured, else left out (not required)
    assert set(REAL_L2_GLOBALS) - {"creator_email"} <= set(d.required_global_attrs)
    assert "creator_email" not in d.required_global_attrs
    for key, value in REAL_L2_GLOBALS.items():
        if value is not None:
            assert d.global_attrs[key] == value, key
    names = d.provenance
    assert names.created == "date_created"
    assert names.inputs and names.software and names.reason and names.simulated
    for pid in ("l1", "l1_meta", "l1_preview", "l2", "l2_meta", "l2_metadata", "l2_outreach"):
        v = defs("aditya")[pid].version  # Vmn: MAG manual 10, major or minor revisions
        assert (v.policy, v.start) == ("major_minor", 0), pid


def test_plastic_yearly_has_the_magplasma_variable_names():
    names = {v.name for v in defs("plastic")["merged_yearly"].variables}
    research = {
        "Epoch",
        "FILTER_VALUE",
        "BFIELDRTN",
        "BTOTAL",
        "CART_COMPNO",
        "B_RTN_LABL_1",
        "CART_LABL_1",
        "HAE",
        "HEE",
        "HEEQ",
        "CARR",
        "RTN",
        "R",
        "HAE_LABL_1",
        "HEE_LABL_1",
        "HEEQ_LABL_1",
        "CARR_LABL_1",
        "RTN_LABL_1",
        "Np",
        "Vp",
        "Tp",
        "Vth",
        "Vr_Over_V_RTN",
        "Vt_Over_V_RTN",
        "Vn_Over_V_RTN",
        "Vp_RTN",
        "Entropy",
        "Beta",
        "Total_Pressure",
        "Cone_Angle",
        "Clock_Angle",
        "Magnetic_Pressure",
        "Dynamic_Pressure",
    }
    assert research <= names, research - names
    daily = defs("plastic")["merged_daily"]
    assert [v.name for v in daily.variables] == [v.name for v in defs("plastic")["merged_yearly"].variables]


def test_stereo_l1_cdf_is_the_v06_layout():
    for pid, frame_labels in (
        ("l1_mag_rtn", "BR, BT, BN, BTotal"),
        ("l1_mag_sc", "BX, BY, BZ, BTotal"),
        ("l1_magb_rtn", "BR, BT, BN, BTotal"),
        ("beacon_rtn", "BR, BT, BN, BTotal"),
    ):
        d = defs("stereo")[pid]
        assert [v.name for v in d.variables] == [
            "Epoch",
            "BFIELD",
            "MAGFLAGUC",
            "FILTER_VALUE",
            "CART_LABL_1",
        ]
        assert d.variable("Epoch").dtype == "cdf_epoch" and d.time_convention == "centre"
        b = d.variable("BFIELD")
        assert (b.dtype, b.dims, d.dims["cart"], b.units) == ("float32", ["time", "cart"], 4, "nT")
        assert b.attrs["CDF_DATA_TYPE"] == "CDF_FLOAT"
        assert b.labl_ptr == {"LABL_PTR_1": "CART_LABL_1"}
        assert d.variable("MAGFLAGUC").dtype == "uint32"
        assert d.variable("CART_LABL_1").description.endswith(frame_labels)


# ---------------------------------------------------------------------------------------------
# Fill values, flat-file columns, time dependencies, ISTP attributes
# ---------------------------------------------------------------------------------------------

CDF_DEFS = [d for d in all_defs() if d.format == "cdf"]
FLAT_DEFS = [d for d in all_defs() if d.format == "flatfile"]
TABLE_DEFS = [d for d in all_defs() if d.format in ("cdf", "netcdf", "flatfile")]


@pytest.mark.parametrize("d", CDF_DEFS, ids=_ids(CDF_DEFS))
def test_cdf_fill_values_are_istp(d):
    for v in d.variables:
        if v.dtype in ("float32", "float64", "cdf_epoch"):
            assert v.fill == -1e31, v.name
        elif v.dtype == "uint32" and v.record_varying:
            assert v.fill == 4294967295, v.name


@pytest.mark.parametrize("d", FLAT_DEFS, ids=_ids(FLAT_DEFS))
def test_flat_file_fill_epoch_and_columns(d):
    assert d.flatfile_epoch == "Y1966" and d.filename.template.endswith(".ffh")
    tv = d.variable(d.time_variable)
    assert tv.dtype == "tt2000" and tv.fill is None
    columns = [tv.name]
    for v in d.variables:
        if v.name == tv.name:
            continue
        assert v.fill == 1e34, v.name
        width = int(np.prod([d.dims[x] for x in v.dims[1:]]))
        names = v.attrs.get("columns", [v.name])
        assert len(names) == width, v.name
        columns += names
    assert len(columns) == len(set(columns)), columns
    too_long = [c for c in columns if len(c) > 9]
    assert not too_long, f"fflib cuts column names longer than 9 characters: {too_long}"


def test_aditya_fill_values():
    for pid in ("l1", "l2"):
        d = defs("aditya")[pid]
        assert d.global_attrs["Fill_value"] == -9999.0
        for v in d.variables:
            assert v.fill == (None if v.name == "time" else -9999.0), (pid, v.name)


@pytest.mark.parametrize("d", TABLE_DEFS, ids=_ids(TABLE_DEFS))
def test_every_depend_0_points_at_the_time_variable(d):
    tv = d.time_variable
    assert tv is not None
    for v in d.variables:
        if v.name == tv or not v.record_varying:
            assert "DEPEND_0" not in v.depend, v.name
            continue
        assert v.depend.get("DEPEND_0") == tv, v.name
    for v in d.variables:
        for target in v.labl_ptr.values():
            label = d.variable(target)
            assert label.dtype == "str" and not label.record_varying, (v.name, target)
            assert label.dims == v.dims[1:], (v.name, target)


@pytest.mark.parametrize("d", CDF_DEFS, ids=_ids(CDF_DEFS))
def test_cdf_istp_attributes(d):
    assert set(ISTP_GLOBALS) <= set(d.required_global_attrs)
    missing = [k for k in ISTP_GLOBALS if k not in d.global_attrs and k not in PER_FILE_ISTP]
    assert not missing, missing
    assert d.global_attrs["Data_version"] == str(d.version.start)
    for v in d.variables:
        assert v.field_name and v.description, v.name
        if v.var_type == "data":
            assert v.units and v.display_type == "time_series" and "FORMAT" in v.attrs, v.name
            assert v.valid_min is not None and v.valid_max is not None, v.name
        if v.var_type == "support_data" and v.record_varying:
            assert v.units is not None and v.valid_min is not None, v.name


# ---------------------------------------------------------------------------------------------
# Every file-format definition writes a product that magfw check accepts
# ---------------------------------------------------------------------------------------------


def _sample_fields(d: ProductDefinition) -> dict:
    values = {
        "yyyy": 2024,
        "mm": 1,
        "dd": 5,
        "yy": 24,
        "doy": 5,
        "hh": 1,
        "mi": 2,
        "ss": 3,
        "ms": 4,
        "obsid": "N00_0000_000842",
    }
    out = {}
    for k, f in d.filename.fields.items():
        if k == d.version.field:
            out[k] = d.version.start
        elif f.choices:
            out[k] = f.choices[-1]
        else:
            out[k] = values.get(k, "1" * (f.width or 1))
    return out


def _sample_arrays(d: ProductDefinition, n: int = 40) -> dict[str, np.ndarray]:
    step_ns = int((d.cadence_s or 0.125) * 1e9)  # monthly_review: 8 Hz or 32 Hz, no fixed cadence
    tt = T.tt2000_from_iso("2024-01-05T00:00:00") + np.arange(n, dtype=np.int64) * step_ns
    out: dict[str, np.ndarray] = {}
    for v in d.variables:
        shape = [n if d.dims.get(x) is None else d.dims[x] for x in full_dims(d, v)]
        if v.name == d.time_variable:
            out[v.name] = {
                "tt2000": tt,
                "cdf_epoch": T.tt2000_to_cdf_epoch(tt),
                "float64": T.tt2000_to_unix(tt),
            }[v.dtype]
        elif v.dtype == "str":
            out[v.name] = np.array([f"L{i}" for i in range(shape[0])])
        else:
            lo = 0 if v.valid_min is None else v.valid_min
            hi = 1 if v.valid_max is None else v.valid_max
            out[v.name] = np.full(shape, (lo + min(hi, lo + 10)) / 2, dtype=v.numpy_dtype)
    return out


@pytest.mark.parametrize("d", TABLE_DEFS, ids=_ids(TABLE_DEFS))
def test_writes_a_product_that_magfw_check_accepts(d, tmp_path):
    fields = _sample_fields(d)
    per_file = {k: "set by the plugin" for k in d.required_global_attrs if k not in d.global_attrs}
    provenance = {name: "test" for name in d.provenance.model_dump().values() if name}
    target = tmp_path / d.filename.format(**fields)
    written = write_product(
        Product(definition=d, fields=fields, variables=_sample_arrays(d)), target, {**per_file, **provenance}
    )
    assert written[0] == target and all(Path(p).is_file() for p in written)
    report = check_file(target, shipped_definitions(d.mission))
    assert report.definition == d.key
    assert report.ok, report.problems

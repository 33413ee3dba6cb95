"""magfw check: a valid product passes; each kind of violation is reported by its message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cdflib.cdfwrite import CDF as CdfWriter

from magfw.io.cdf import read_cdf, write_cdf
from magfw.io.netcdf import write_netcdf
from magfw.plugin.definitions import ProductDefinition
from magfw.tools.check import CheckReport, check_file, format_report, required_globals

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
T0 = 742_651_269_184_000_000  # 2023-07-15T00:00:00 UTC, TT2000
NAME = "STA_L1_MAG_RTN_20230715_V06.cdf"
PROVENANCE = {
    "Parents": ["STA_L0_MAG_20230715.pkt"],
    "Software_version": "magfw 0.1.0",
    "Generation_date": "2026-01-01T00:00:00Z",
    "Calibration_version": "cal-3",
    "SPICE_kernels": ["naif0012.tls"],
    "Data_source": "observed",
}


def definition(
    fmt: str = "cdf", bfield_dtype: str = "float32", drop: str | None = None, bfield_fill: float = -1e31
) -> ProductDefinition:
    """A STEREO L1 V06-like CDF definition, or its netCDF twin."""
    ext = "cdf" if fmt == "cdf" else "nc"
    variables = [
        {
            "name": "Epoch",
            "dtype": "tt2000",
            "dims": ["time"],
            "units": "ns" if fmt == "cdf" else None,  # netCDF: a CF time, its default units
            "var_type": "support_data",
            "description": "time tag",
        },
        {
            "name": "BFIELD",
            "dtype": bfield_dtype,
            "dims": ["time", "comp"],
            "units": "nT",
            "description": "B RTN",
            "fill": bfield_fill,
            "valid_min": -1e4,
            "valid_max": 1e4,
            "labl_ptr": {"LABL_PTR_1": "CART_LABL_1"},
        },
        {
            "name": "MAGFLAGUC",
            "dtype": "uint32",
            "dims": ["time"],
            "fill": 4294967295,
            "var_type": "support_data",
            "description": "flags",
        },
        {
            "name": "FILTER_VALUE",
            "dtype": "float32",
            "dims": ["time"],
            "units": "nT",
            "fill": -1e31,
            "var_type": "support_data",
            "description": "filter",
        },
        {
            "name": "CART_LABL_1",
            "dtype": "str",
            "dims": ["comp"],
            "record_varying": False,
            "var_type": "metadata",
            "description": "labels",
        },
    ]
    return ProductDefinition.model_validate(
        {
            "id": "l1_rtn",
            "mission": "stereo",
            "level": "l1",
            "format": fmt,
            "filename": {
                "template": "ST{sc}_L1_MAG_RTN_{date}_V{version}." + ext,
                "fields": {
                    "sc": {"choices": ["A", "B"]},
                    "date": {"kind": "int", "width": 8},
                    "version": {"kind": "int", "width": 2},
                },
            },
            "dims": {"time": None, "comp": 4},
            "variables": [v for v in variables if v["name"] != drop],
            "global_attrs": {"Project": "STEREO", "Mission_group": "STEREO"},
            "required_global_attrs": ["Project", "Mission_group", "Logical_file_id", "PI_name"],
        }
    )


def variables(n: int = 40, drop: str | None = None) -> dict[str, np.ndarray]:
    b = np.linspace(-20, 20, n * 4, dtype=np.float32).reshape(n, 4)
    b[2] = -1e31  # fill, not out of range
    v = {
        "Epoch": T0 + np.arange(n, dtype=np.int64) * 125_000_000,
        "BFIELD": b,
        "MAGFLAGUC": np.zeros(n, np.uint32),
        "FILTER_VALUE": np.full(n, 500, np.float32),
        "CART_LABL_1": np.array(["BR", "BT", "BN", "BTotal"]),
    }
    v.pop(drop, None)
    return v


def write(tmp_path: Path, v=None, d=None, attrs=None, vattrs=None, name: str = NAME) -> Path:
    gattrs = {**PROVENANCE, "PI_name": "J. Luhmann"} if attrs is None else attrs
    return write_cdf(tmp_path / name, d or definition(), variables() if v is None else v, gattrs, vattrs)


def test_valid_file_passes(tmp_path: Path) -> None:
    report = check_file(write(tmp_path), [definition()])
    assert report.problems == []
    assert report.ok and report.definition == "stereo/l1_rtn"
    assert format_report(report) == f"{tmp_path / NAME}: OK (stereo/l1_rtn)"


def test_wrong_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, name="STA_L1_MAG_RTN_2023-07-15_V06.cdf")
    report = check_file(path, [definition()])
    assert len(report.problems) == 1
    assert report.problems[0].startswith("file name does not match any product definition")
    assert "runs no general ISTP/CF rules" in report.problems[0]  # says what it did not do
    assert report.definition is None and not report.ok


def test_missing_variable(tmp_path: Path) -> None:
    path = write(tmp_path, variables(drop="FILTER_VALUE"), definition(drop="FILTER_VALUE"))
    assert check_file(path, [definition()]).problems == ["missing required variable 'FILTER_VALUE'"]


def test_wrong_dtype(tmp_path: Path) -> None:
    v = variables()
    v["BFIELD"] = v["BFIELD"].astype(np.float64)
    path = write(tmp_path, v, definition(bfield_dtype="float64"))
    problems = check_file(path, [definition()]).problems
    assert "variable 'BFIELD' has type CDF_DOUBLE, expected CDF_REAL4 (float32)" in problems
    assert "variable 'BFIELD': FILLVAL has type CDF_DOUBLE, expected CDF_REAL4 like the variable" in problems


def test_bad_fillval_value(tmp_path: Path) -> None:
    path = write(tmp_path, vattrs={"BFIELD": {"FILLVAL": -1e30}})
    assert check_file(path, [definition()]).problems == [
        "variable 'BFIELD': FILLVAL is -1e+30, expected -1e+31"
    ]


def test_fillval_of_the_wrong_type(tmp_path: Path) -> None:
    """FILLVAL -1e31 stored as CDF_DOUBLE on a CDF_REAL4 variable (what untyped cdflib does)."""
    good = read_cdf(write(tmp_path))
    path = tmp_path / "STB_L1_MAG_RTN_20230715_V06.cdf"
    codes = {"CDF_TIME_TT2000": 33, "CDF_REAL4": 21, "CDF_UINT4": 14, "CDF_CHAR": 51}
    with CdfWriter(path) as cdf:
        cdf.write_globalattrs(
            {k: {0: v if isinstance(v, str) else v[0]} for k, v in good.global_attrs.items()}
        )
        for name, arr in good.variables.items():
            info = good.info[name]
            attrs = {}
            for key, value in good.var_attrs[name].items():
                attrs[key] = value if isinstance(value, str) else [value, info.attr_types[key]]
            if name == "BFIELD":
                attrs["FILLVAL"] = [-1e31, "CDF_DOUBLE"]
            spec = {
                "Variable": name,
                "Data_Type": codes[info.data_type],
                "Num_Elements": info.num_elements,
                "Rec_Vary": info.record_varying,
                "Dim_Sizes": list(info.dims),
                "Compress": 0,
            }
            cdf.write_var(spec, var_attrs=attrs, var_data=arr)
    problems = check_file(path, [definition()]).problems
    assert problems == [
        "variable 'BFIELD': FILLVAL has type CDF_DOUBLE, expected CDF_REAL4 like the variable"
    ]


def test_time_not_monotonic_and_duplicates(tmp_path: Path) -> None:
    v = variables()
    v["Epoch"][[10, 11]] = v["Epoch"][[11, 10]]
    v["Epoch"][30] = v["Epoch"][29]
    problems = check_file(write(tmp_path, v), [definition()]).problems
    assert problems == [
        "time 'Epoch' is not monotonic: 1 step(s) backwards (at record 11)",
        "time 'Epoch' has 1 duplicate time stamp(s) (at record 30)",
    ]


def test_missing_global_attributes(tmp_path: Path) -> None:
    attrs = {k: v for k, v in PROVENANCE.items() if k != "Calibration_version"}
    path = write(tmp_path, attrs=attrs)  # also no PI_name
    assert check_file(path, [definition()]).problems == [
        "missing global attribute 'PI_name'",
        "missing global attribute 'Calibration_version'",
    ]


def test_values_outside_valid_range_but_not_fill(tmp_path: Path) -> None:
    v = variables()
    v["BFIELD"][7, 1] = 2e4
    v["BFIELD"][9, 0] = -3e4
    problems = check_file(write(tmp_path, v), [definition()]).problems
    assert problems == [
        "variable 'BFIELD': 2 values outside [-10000.0, 10000.0] that are not fill (at records 7, 9)"
    ]


def test_every_violation_reported_at_once(tmp_path: Path) -> None:
    v = variables()
    v["Epoch"][5] = v["Epoch"][4]
    v["BFIELD"][1, 1] = 5e4
    path = write(tmp_path, v, attrs={}, vattrs={"BFIELD": {"UNITS": "gamma", "VAR_TYPE": None}})
    report = check_file(path, [definition()])
    assert report.problems == [
        "variable 'BFIELD': missing VAR_TYPE (expected 'data')",
        "variable 'BFIELD': UNITS is 'gamma', expected 'nT'",
        "variable 'BFIELD': 1 value outside [-10000.0, 10000.0] that are not fill (at record 1)",
        "time 'Epoch' has 1 duplicate time stamp(s) (at record 5)",
        "missing global attribute 'PI_name'",
        *[f"missing global attribute {k!r}" for k in PROVENANCE],
    ]
    text = format_report(report)
    assert text.splitlines()[0] == f"{path}: {len(report.problems)} problems (stereo/l1_rtn)"
    assert "  - variable 'BFIELD': UNITS is 'gamma', expected 'nT'" in text.splitlines()


def test_garbage_file_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_bytes(b"\x00\x01 definitely not a CDF " * 40)
    report = check_file(path, [definition()])
    assert len(report.problems) == 1
    assert report.problems[0].startswith("unreadable: not a readable CDF: ")


def test_required_globals_include_provenance() -> None:
    assert required_globals(definition()) == [
        "Project",
        "Mission_group",
        "Logical_file_id",
        "PI_name",
        *PROVENANCE,
    ]


def test_netcdf_product(tmp_path: Path) -> None:
    d = definition("netcdf")
    name = "STA_L1_MAG_RTN_20230715_V06.nc"
    gattrs = {**PROVENANCE, "PI_name": "x", "Logical_file_id": "x"}
    good = write_netcdf(tmp_path / name, d, variables(), gattrs)
    assert check_file(good, [definition(), d]).problems == []
    bad = write_netcdf(
        tmp_path / "STB_L1_MAG_RTN_20230715_V06.nc",
        definition("netcdf", bfield_fill=-9999.0),
        variables(),
        gattrs,
        {"FILTER_VALUE": {"units": "gamma"}},
    )
    assert check_file(bad, [d]).problems == [
        "variable 'BFIELD': _FillValue is -9999.0, expected -1e+31",
        "variable 'FILTER_VALUE': units is 'gamma', expected 'nT'",
    ]


def test_file_outside_its_directory_tree_still_matches(tmp_path: Path) -> None:
    raw = definition().model_dump()
    raw["filename"]["template"] = "{sc}/ST{sc}_L1_MAG_RTN_{date}_V{version}.cdf"
    d = ProductDefinition.model_validate(raw)
    report = check_file(write(tmp_path), [d])
    assert report.definition == "stereo/l1_rtn" and report.ok


@pytest.mark.realdata
def test_real_file_with_dangling_depend_0() -> None:
    path = REALDATA / "aditya" / "AL1_ASW91_L2_BLK_20260413_UNP_9999_999999_V02.cdf"
    if not path.is_file():
        pytest.skip(f"real data file {path} is not present")
    d = ProductDefinition.model_validate(
        {
            "id": "swis_blk",
            "mission": "aditya",
            "level": "l2",
            "format": "cdf",
            "filename": {
                "template": "AL1_ASW91_L2_BLK_{date}_UNP_9999_999999_V{version}.cdf",
                "fields": {"date": {"kind": "int", "width": 8}, "version": {"kind": "int", "width": 2}},
            },
            "time_variable": "epoch_for_cdf_mod",
            "variables": [
                {"name": "epoch_for_cdf_mod", "dtype": "cdf_epoch", "dims": ["time"]},
                {"name": "proton_density", "dtype": "float64", "dims": ["time"], "fill": -1e31},
            ],
        }
    )
    report: CheckReport = check_file(path, [d])
    assert report.definition == "aditya/swis_blk"
    assert "variable 'proton_density': DEPEND_0 points at missing variable 'epoch_for_cdf'" in report.problems
    assert "unexpected variable 'alpha_density' (not in the definition)" in report.problems


# ---------------------------------------------------------------------------------------------
# Flat files: the definition's variables are columns (written through write_product)
# ---------------------------------------------------------------------------------------------


def flatfile_definition(units_bfield: str = "nT") -> ProductDefinition:
    raw = definition().model_dump()
    raw["format"] = "flatfile"
    raw["flatfile_epoch"] = "Y2000"
    raw["filename"]["template"] = "ST{sc}_L1_MAG_RTN_{date}_V{version}.ffh"
    columns = {"BFIELD": ["BR", "BT", "BN", "BTOTAL"], "MAGFLAGUC": ["FLAGS"], "FILTER_VALUE": ["FILTER"]}
    for v in raw["variables"]:
        if v["name"] in columns:
            v["attrs"] = {"columns": columns[v["name"]]}
        if v["name"] == "BFIELD":
            v["units"] = units_bfield
    return ProductDefinition.model_validate(raw)


def test_flatfile_product_round_trip_and_check(tmp_path: Path) -> None:
    from magfw.io.products import read_product, write_product
    from magfw.plugin.context import Product

    v = variables()
    v["BFIELD"][5, 1] = np.nan
    product = Product(
        definition=flatfile_definition(), fields={}, variables=v, attrs={"PI_name": "J. Luhmann"}
    )
    ffh, ffd = write_product(
        product,
        tmp_path / "STA_L1_MAG_RTN_20230715_V06.ffd",
        {**PROVENANCE, "Logical_file_id": "STA_L1_MAG_RTN_20230715_V06"},
    )
    assert (ffh.name, ffd.name) == ("STA_L1_MAG_RTN_20230715_V06.ffh", "STA_L1_MAG_RTN_20230715_V06.ffd")
    data = read_product(ffd)
    assert list(data.variables) == ["Epoch", "BR", "BT", "BN", "BTOTAL", "FLAGS", "FILTER"]
    np.testing.assert_array_equal(data.variables["Epoch"], v["Epoch"])
    np.testing.assert_array_equal(data.variables["BT"][3:5], v["BFIELD"][3:5, 1])
    assert data.variables["BR"][2] == np.float32(1e34)  # -1e31 fill became the flat-file flag
    assert data.variables["BT"][5] == np.float32(1e34)  # NaN too
    assert data.var_attrs["BR"]["UNITS"] == "nT"
    assert data.global_attrs["EPOCH"] == "Y2000"
    assert data.global_attrs["Software_version"] == "magfw 0.1.0"  # abstract KEY = value
    assert check_file(ffh, [flatfile_definition()]).problems == []
    assert check_file(ffh, [flatfile_definition(units_bfield="gamma")]).problems == [
        f"column {c!r}: units 'nT', expected 'gamma'" for c in ("BR", "BT", "BN", "BTOTAL")
    ]


def test_flatfile_missing_column(tmp_path: Path) -> None:
    from magfw.io.products import write_product
    from magfw.plugin.context import Product

    raw = flatfile_definition().model_dump()
    raw["variables"] = [x for x in raw["variables"] if x["name"] != "FILTER_VALUE"]
    product = Product(
        definition=ProductDefinition.model_validate(raw), fields={}, variables=variables(drop="FILTER_VALUE")
    )
    [ffh, _] = write_product(
        product,
        tmp_path / "STA_L1_MAG_RTN_20230715_V06.ffh",
        {**PROVENANCE, "PI_name": "x", "Logical_file_id": "x"},
    )
    assert check_file(ffh, [flatfile_definition()]).problems == [
        "missing column 'FILTER' (variable 'FILTER_VALUE')"
    ]


def test_flatfile_with_tick_time_variable_and_keywords(tmp_path: Path) -> None:
    """A definition whose time variable holds Y1966 ticks (float64 s), as UCLA files do."""
    from magfw.geometry.time import tt2000_from_flatfile
    from magfw.io.products import read_product, write_product
    from magfw.plugin.context import Product

    d = ProductDefinition.model_validate(
        {
            "id": "ff",
            "mission": "stereo",
            "level": "l1",
            "format": "flatfile",
            "filename": {
                "template": "STA_{date}_V{version}.ffh",
                "fields": {"date": {"kind": "int", "width": 8}, "version": {"kind": "int", "width": 2}},
            },
            "time_variable": "TIME",
            "flatfile_epoch": "Y1966",
            "dims": {"time": None, "cart": 3},
            "variables": [
                {"name": "TIME", "dtype": "float64", "units": "SEC"},
                {
                    "name": "B",
                    "dtype": "float32",
                    "dims": ["time", "cart"],
                    "units": "nT",
                    "fill": 1e34,
                    "attrs": {"columns": ["BR", "BT", "BN"]},
                },
            ],
            "global_attrs": {"OWNER": "magfw test", "AVERAGE INTERVAL": "HIGH RESOLUTION"},
            "provenance": {
                "software": "Software_version",
                "inputs": None,
                "created": None,
                "calibration": None,
                "kernels": None,
                "simulated": None,
            },
        }
    )
    ticks = 1_815_609_600.0 + 0.125 * np.arange(16)  # 2023-07-15 in Y1966 seconds
    b = np.ones((16, 3), np.float32)
    [ffh, ffd] = write_product(
        Product(definition=d, fields={}, variables={"TIME": ticks, "B": b}),
        tmp_path / "STA_20230715_V06.ffh",
        {"Software_version": "0.1"},
    )
    header = ffh.read_text()
    assert "OWNER              = magfw test" in header  # an aligned keyword record
    assert "001 TIME      SEC" in header
    data = read_product(ffh)
    np.testing.assert_array_equal(data.variables["TIME"], tt2000_from_flatfile(ticks, "Y1966"))
    assert data.global_attrs["OWNER"] == "magfw test"
    assert check_file(ffd, [d]).problems == []


def test_check_notes_what_acdd_recommends_and_the_file_lacks(tmp_path):
    """An Aditya L2 file written without the operator's [missions.aditya] attributes is valid
    (no problem) and ``magfw check`` names the ACDD attributes it lacks in a note; a STEREO CDF
    (no ACDD) gets no note."""
    from magfw.api import Product, shipped_definitions, write_product
    from magfw.geometry.time import tt2000_from_iso, tt2000_to_unix
    from magfw.testing import run_cli

    d = {x.id: x for x in shipped_definitions("aditya")}["l2"]
    n = 8640
    t = tt2000_to_unix(
        tt2000_from_iso(np.array(["2024-08-01T00:00:00"]))[0] + np.arange(n, dtype=np.int64) * 10**10
    )
    v = {"time": t, "Quality_flag_10s_data": np.ones(n, np.float32)}
    for name in (x.name for x in d.variables if x.name not in v):
        v[name] = np.zeros(n, np.float32)
    (path,) = write_product(Product(definition=d, variables=v), tmp_path / "L2_AL1_MAG_20240801_V00.nc", {})
    report = check_file(path, shipped_definitions("aditya"))
    (note,) = report.notes
    assert "creator_name" in note and "acknowledgement" in note and "[missions.aditya] of magfw.toml" in note
    assert "geospatial" not in note and "title" not in note.split("recommends")[1].split("not in")[0]
    res = run_cli(["check", str(path)])
    assert "note: ACDD-1.3 recommends" in res.stdout

"""CDF writer/reader: round trip checked with cdflib itself, ISTP attribute types, damaged
files, atomicity, and the reader on real mission CDFs."""

from __future__ import annotations

from pathlib import Path

import cdflib
import numpy as np
import pytest

from magfw.errors import DefinitionError, InputError
from magfw.io import cdf as cdf_module
from magfw.io.atomic import TMP_PREFIX
from magfw.io.cdf import read_cdf, write_cdf
from magfw.io.products import read_product, write_product
from magfw.plugin.context import Product
from magfw.plugin.definitions import ProductDefinition

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
T0 = 742_651_269_184_000_000  # 2023-07-15T00:00:00 UTC in TT2000 ns
N = 50


def stereo_definition(compression: int = 0, **over) -> ProductDefinition:
    """A STEREO IMPACT/MAG L1 V06-like layout (Epoch as TT2000 here)."""
    raw = {
        "id": "l1_rtn",
        "mission": "stereo",
        "level": "l1",
        "format": "cdf",
        "filename": {
            "template": "ST{sc}_L1_MAG_RTN_{date}_V{version}.cdf",
            "fields": {
                "sc": {"choices": ["A", "B"]},
                "date": {"kind": "int", "width": 8},
                "version": {"kind": "int", "width": 2},
            },
        },
        "time_convention": "centre",
        "compression": compression,
        "dims": {"time": None, "comp": 4},
        "variables": [
            {
                "name": "Epoch",
                "dtype": "tt2000",
                "dims": ["time"],
                "units": "ns",
                "var_type": "support_data",
                "description": "Interval-centred time tag",
            },
            {
                "name": "BFIELD",
                "dtype": "float32",
                "dims": ["time", "comp"],
                "units": "nT",
                "description": "Magnetic field BR, BT, BN, BTotal",
                "fill": -1e31,
                "valid_min": -1e4,
                "valid_max": 1e4,
                "display_type": "time_series",
                "field_name": "B RTN",
                "labl_ptr": {"LABL_PTR_1": "CART_LABL_1"},
                "attrs": {
                    "columns": ["BR", "BT", "BN", "BTOTAL"],
                    "SCALETYP": "linear",
                    "SCALEMIN": -50,
                    "FORMAT": "F12.3",
                },
            },
            {
                "name": "MAGFLAGUC",
                "dtype": "uint32",
                "dims": ["time"],
                "units": " ",
                "fill": 4294967295,
                "var_type": "support_data",
                "description": "Status bits",
            },
            {
                "name": "FILTER_VALUE",
                "dtype": "float32",
                "dims": ["time"],
                "units": "nT",
                "fill": -1e31,
                "var_type": "support_data",
                "description": "Spike filter limit",
            },
            {
                "name": "CART_LABL_1",
                "dtype": "str",
                "dims": ["comp"],
                "record_varying": False,
                "var_type": "metadata",
                "description": "Component labels",
            },
        ],
        "global_attrs": {
            "Project": "STEREO>Solar TErrestrial RElations Observatory",
            "Mission_group": "STEREO",
            "Data_version": "6",
        },
    }
    raw.update(over)
    return ProductDefinition.model_validate(raw)


def stereo_variables(n: int = N) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    b = rng.normal(0, 5, (n, 4)).astype(np.float32)
    b[:, 3] = np.linalg.norm(b[:, :3], axis=1)
    b[3 % n] = np.float32(-1e31)  # a filled record
    return {
        "Epoch": T0 + 62_500_000 + np.arange(n, dtype=np.int64) * 125_000_000,
        "BFIELD": b,
        "MAGFLAGUC": (np.arange(n, dtype=np.uint32) << np.uint32(20)),
        "FILTER_VALUE": np.full(n, 500.0, np.float32),
        "CART_LABL_1": np.array(["BR", "BT", "BN", "BTotal"]),
    }


NAME = "STA_L1_MAG_RTN_20230715_V06.cdf"


@pytest.mark.parametrize("level", [0, 6])
def test_round_trip_read_back_with_cdflib(tmp_path: Path, level: int) -> None:
    v = stereo_variables()
    path = write_cdf(
        tmp_path / NAME, stereo_definition(level), v, {"Parents": ["a.cdf", "b.cdf"], "Data_version": "06"}
    )
    c = cdflib.CDF(path)
    # arrays identical, Epoch as TT2000 equal to the input ns
    for name, arr in v.items():
        np.testing.assert_array_equal(c.varget(name), arr)
    assert c.varget("Epoch").dtype == np.int64
    # CDF types, dims, record variance, compression as declared
    want = {
        "Epoch": ("CDF_TIME_TT2000", []),
        "BFIELD": ("CDF_REAL4", [4]),
        "MAGFLAGUC": ("CDF_UINT4", []),
        "FILTER_VALUE": ("CDF_REAL4", []),
        "CART_LABL_1": ("CDF_CHAR", [4]),
    }
    for name, (ctype, dims) in want.items():
        inq = c.varinq(name)
        assert (inq.Data_Type_Description, inq.Dim_Sizes) == (ctype, dims), name
        assert inq.Rec_Vary is (name != "CART_LABL_1")
    assert c.varinq("CART_LABL_1").Num_Elements == 6
    assert c.varinq("BFIELD").Compress == level
    assert c.varinq("CART_LABL_1").Last_Rec == 0
    # FILLVAL exactly -1e31 as float32, with the variable's own type
    fv = c.attget("FILLVAL", "BFIELD")
    assert fv.Data_Type == "CDF_REAL4"
    assert fv.Data.dtype == np.float32 and fv.Data == np.float32(-1e31)
    assert c.varget("BFIELD")[3, 0] == fv.Data  # the stored fill equals FILLVAL
    epoch_fill = c.attget("FILLVAL", "Epoch")
    assert epoch_fill.Data_Type == "CDF_TIME_TT2000"
    assert int(epoch_fill.Data) == -9223372036854775808
    flag_fill = c.attget("FILLVAL", "MAGFLAGUC")
    assert (flag_fill.Data_Type, int(flag_fill.Data)) == ("CDF_UINT4", 4294967295)
    for key, value in (("VALIDMIN", -1e4), ("VALIDMAX", 1e4), ("SCALEMIN", -50)):
        a = c.attget(key, "BFIELD")
        assert a.Data_Type == "CDF_REAL4" and a.Data == np.float32(value), key
    # every ISTP attribute present with the definition's value
    attrs = c.varattsget("BFIELD")
    assert attrs["CATDESC"] == "Magnetic field BR, BT, BN, BTotal"
    assert attrs["FIELDNAM"] == "B RTN"
    assert attrs["UNITS"] == "nT"
    assert attrs["VAR_TYPE"] == "data"
    assert attrs["DEPEND_0"] == "Epoch"
    assert attrs["LABL_PTR_1"] == "CART_LABL_1"
    assert attrs["DISPLAY_TYPE"] == "time_series"
    assert attrs["FORMAT"] == "F12.3"  # attrs override the default format
    assert attrs["SCALETYP"] == "linear"
    assert "columns" not in attrs  # a flat-file key, not a CDF attribute
    assert c.varattsget("FILTER_VALUE")["DEPEND_0"] == "Epoch"
    assert "DEPEND_0" not in c.varattsget("Epoch")
    assert "DEPEND_0" not in c.varattsget("CART_LABL_1")
    assert c.varattsget("CART_LABL_1")["VAR_TYPE"] == "metadata"
    assert c.varattsget("Epoch")["TIME_BASE"] == "J2000"
    assert c.attget("BIN_LOCATION", "Epoch").Data == 0.5  # time_convention: centre
    # globals: definition's, overridden and extended by the ones passed in
    g = c.globalattsget()
    assert g["Project"] == ["STEREO>Solar TErrestrial RElations Observatory"]
    assert g["Data_version"] == ["06"]
    assert g["Parents"] == ["a.cdf", "b.cdf"]
    assert g["Logical_file_id"] == ["STA_L1_MAG_RTN_20230715_V06"]


def test_read_cdf_returns_values_attrs_and_info(tmp_path: Path) -> None:
    v = stereo_variables()
    path = write_cdf(tmp_path / NAME, stereo_definition(6), v, {"TEXT": ["line 1", "line 2"]})
    data = read_cdf(path)
    assert list(data.variables) == list(v)
    for name, arr in v.items():
        np.testing.assert_array_equal(data.variables[name], arr)
    assert data.variables["CART_LABL_1"].tolist() == ["BR", "BT", "BN", "BTotal"]
    info = data.info["BFIELD"]
    assert (info.data_type, info.dims, info.record_varying) == ("CDF_REAL4", (4,), True)
    assert info.attr_types["FILLVAL"] == "CDF_REAL4"
    lab = data.info["CART_LABL_1"]
    assert (lab.data_type, lab.dims, lab.record_varying, lab.num_elements) == ("CDF_CHAR", (4,), False, 6)
    fill = data.var_attrs["BFIELD"]["FILLVAL"]
    assert fill.dtype == np.float32 and fill == np.float32(-1e31)
    assert data.global_attrs["TEXT"] == ["line 1", "line 2"]
    assert data.global_attrs["Mission_group"] == "STEREO"
    sub = read_cdf(path, ["BFIELD"])
    assert list(sub.variables) == ["BFIELD"]


def test_cdf_data_type_override_and_single_record(tmp_path: Path) -> None:
    d = stereo_definition()
    raw = d.model_dump()
    raw["variables"][1]["attrs"]["CDF_DATA_TYPE"] = "CDF_FLOAT"  # as real V06 files
    d = ProductDefinition.model_validate(raw)
    path = write_cdf(tmp_path / NAME, d, stereo_variables(1), {})
    c = cdflib.CDF(path)
    assert c.varinq("BFIELD").Data_Type_Description == "CDF_FLOAT"
    assert c.attget("FILLVAL", "BFIELD").Data_Type == "CDF_FLOAT"
    assert "CDF_DATA_TYPE" not in c.varattsget("BFIELD")
    back = read_cdf(path)
    assert back.variables["BFIELD"].shape == (1, 4)
    assert back.variables["Epoch"].shape == (1,)


def test_zero_records(tmp_path: Path) -> None:
    v = {k: a[:0] if k != "CART_LABL_1" else a for k, a in stereo_variables().items()}
    back = read_cdf(write_cdf(tmp_path / NAME, stereo_definition(6), v, {}))
    assert back.variables["BFIELD"].shape == (0, 4)
    assert back.variables["Epoch"].shape == (0,)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda v: v.pop("MAGFLAGUC"), "required variable 'MAGFLAGUC' is missing"),
        (lambda v: v.update(BFIELD=v["BFIELD"][:, :3]), "variable 'BFIELD' has shape [50, 3]"),
        (lambda v: v.update(MAGFLAGUC=v["MAGFLAGUC"] + 0.5), "cannot be stored as uint32"),
        (lambda v: v.update(B_SC=v["BFIELD"]), "variables ['B_SC'] are not in definition"),
        (lambda v: v.update(FILTER_VALUE=v["FILTER_VALUE"][:-1]), "has 49 records"),
    ],
)
def test_product_not_matching_definition(tmp_path: Path, change, message: str) -> None:
    v = stereo_variables()
    change(v)
    with pytest.raises(DefinitionError) as err:
        write_cdf(tmp_path / NAME, stereo_definition(), v, {})
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_truncated_and_garbage_files_are_one_line_input_errors(tmp_path: Path) -> None:
    good = write_cdf(tmp_path / NAME, stereo_definition(), stereo_variables(), {})
    blob = good.read_bytes()
    cases = {
        "half.cdf": blob[: len(blob) // 2],
        "head.cdf": blob[:100],
        "garbage.cdf": b"this is not a CDF at all\n" * 20,
        "empty.cdf": b"",
    }
    for name, content in cases.items():
        bad = tmp_path / name
        bad.write_bytes(content)
        with pytest.raises(InputError) as err:
            read_cdf(bad)
        msg = str(err.value)
        assert msg.startswith(f"{bad}: not a readable CDF: "), msg
        assert "\n" not in msg
    with pytest.raises(InputError, match=r"truncated \(\d+ of \d+ bytes\)"):
        read_cdf(tmp_path / "half.cdf")


def test_missing_variable_is_named(tmp_path: Path) -> None:
    path = write_cdf(tmp_path / NAME, stereo_definition(), stereo_variables(), {})
    with pytest.raises(InputError) as err:
        read_cdf(path, ["B_SC"])
    assert str(err.value) == (
        f"{path}: variable 'B_SC' not found (has: Epoch, BFIELD, MAGFLAGUC, FILTER_VALUE, CART_LABL_1)"
    )


def test_failed_write_leaves_no_file_and_no_temporary(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / NAME
    calls = []
    real = cdf_module._write_variable

    def failing(cdf, definition, var, *args):
        calls.append(var.name)
        if var.name == "MAGFLAGUC":
            raise RuntimeError("disk on fire")
        return real(cdf, definition, var, *args)

    monkeypatch.setattr(cdf_module, "_write_variable", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_cdf(target, stereo_definition(), stereo_variables(), {})
    assert calls == ["Epoch", "BFIELD", "MAGFLAGUC"]  # failed mid-file
    assert list(tmp_path.iterdir()) == []
    # an existing product survives a failed rewrite untouched
    monkeypatch.setattr(cdf_module, "_write_variable", real)
    write_cdf(target, stereo_definition(), stereo_variables(), {})
    before = target.read_bytes()
    monkeypatch.setattr(cdf_module, "_write_variable", failing)
    with pytest.raises(RuntimeError):
        write_cdf(target, stereo_definition(), stereo_variables(), {})
    assert target.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TMP_PREFIX)]


def test_write_product_and_read_product_dispatch(tmp_path: Path) -> None:
    d = stereo_definition()
    product = Product(
        definition=d,
        fields={"sc": "A", "date": 20230715},
        variables=stereo_variables(),
        attrs={"Data_version": "07", "PI_name": "x"},
        variable_attrs={"BFIELD": {"VAR_NOTES": "spikes removed"}},
    )
    written = write_product(product, tmp_path / NAME, {"Data_version": "06", "Software_version": "magfw 0.1"})
    assert written == [tmp_path / NAME]
    back = read_product(written[0])
    assert back.format == "cdf"
    assert back.global_attrs["Data_version"] == "06"  # provenance wins over product attrs
    assert back.global_attrs["PI_name"] == "x"
    assert back.global_attrs["Software_version"] == "magfw 0.1"
    assert back.var_attrs["BFIELD"]["VAR_NOTES"] == "spikes removed"


# ---------------------------------------------------------------------------------------------
# Real files
# ---------------------------------------------------------------------------------------------

REAL_CDFS = [
    "mms/mms1.cdf",
    "psp/psp_fld_l2_mag_rtn_1min_20200104_v02.cdf",
    "ace/ac_k2_mfi_20220101_v03.cdf",
    "ace/ac_h0_mfi_00000000_v01.cdf",
    "imap/imap_mag_l1b_norm-mago_20251017_v002.cdf",
    "stereo/STA_LB_PLA_BROWSE_20230715_V14.cdf",
    "aditya/AL1_ASW91_L2_BLK_20260413_UNP_9999_999999_V02.cdf",
]


def _real(rel: str) -> Path:
    path = REALDATA / rel
    if not path.is_file():
        pytest.skip(f"real data file {path} is not present (../shared/realdata beside the checkout)")
    return path


@pytest.mark.realdata
@pytest.mark.parametrize("rel", REAL_CDFS)
def test_reader_agrees_with_cdflib_on_real_files(rel: str) -> None:
    path = _real(rel)
    data = read_cdf(path)
    c = cdflib.CDF(path)
    info = c.cdf_info()
    assert list(data.variables) == list(info.zVariables) + list(info.rVariables)
    for name, arr in data.variables.items():
        inq = c.varinq(name)
        assert data.info[name].data_type == inq.Data_Type_Description
        assert data.info[name].dims == tuple(inq.Dim_Sizes)
        ref = np.asarray(c.varget(name))
        assert arr.size == ref.size, name
        if arr.dtype.kind == "f":
            np.testing.assert_array_equal(arr.ravel(), ref.ravel())
        else:
            assert arr.ravel().tolist() == ref.ravel().tolist(), name


@pytest.mark.realdata
def test_real_mms_burst_values() -> None:
    data = read_cdf(_real("mms/mms1.cdf"))
    b = data.variables["mms1_fgm_b_gse_brst_l2"]
    assert b.shape == (17792, 4) and b.dtype == np.float32
    # column 3 is |B|: it must equal the norm of columns 0..2 (checks the axis order)
    np.testing.assert_allclose(np.linalg.norm(b[:, :3], axis=1), b[:, 3], rtol=1e-4)
    # Bx is the same in GSE and GSM
    np.testing.assert_array_equal(b[:, 0], data.variables["mms1_fgm_b_gsm_brst_l2"][:, 0])
    assert cdflib.cdfepoch.encode_tt2000(data.variables["Epoch"][0]).startswith("2015-10-16T13:05:24.864")
    assert data.var_attrs["mms1_fgm_b_gse_brst_l2"]["LABL_PTR_1"] == "label_b_gse"
    assert data.global_attrs["Logical_file_id"] == "mms1_fgm_brst_l2_20151016130524_v4.18.1"


@pytest.mark.realdata
def test_real_files_spot_checks() -> None:
    psp = read_cdf(_real("psp/psp_fld_l2_mag_rtn_1min_20200104_v02.cdf"))
    assert psp.variables["psp_fld_l2_mag_RTN_1min"].shape == (118, 3)
    assert np.isnan(psp.variables["psp_fld_l2_mag_RTN_1min"][0]).all()
    assert psp.info["label_RTN"].record_varying is False
    ace = read_cdf(_real("ace/ac_k2_mfi_20220101_v03.cdf"), ["Epoch", "BGSEc"])
    assert ace.info["Epoch"].data_type == "CDF_EPOCH"
    assert ace.variables["BGSEc"].shape == (24, 3)
    master = read_cdf(_real("ace/ac_h0_mfi_00000000_v01.cdf"))
    assert master.variables["BGSEc"].shape == (0, 3)  # a skeleton: no records
    imap = read_cdf(_real("imap/imap_mag_l1b_norm-mago_20251017_v002.cdf"))
    assert imap.variables["vectors"].shape == (3504, 4)
    assert imap.info["epoch"].data_type == "CDF_TIME_TT2000"
    sta = read_cdf(_real("stereo/STA_LB_PLA_BROWSE_20230715_V14.cdf"))
    assert sta.variables["Epoch1"].shape == (1439,)
    aditya = read_cdf(_real("aditya/AL1_ASW91_L2_BLK_20260413_UNP_9999_999999_V02.cdf"))
    # the known trap: DEPEND_0 names a variable the file does not have
    assert aditya.var_attrs["proton_density"]["DEPEND_0"] == "epoch_for_cdf"
    assert "epoch_for_cdf" not in aditya.variables
    assert aditya.variables["epoch_for_cdf_mod"].shape == (17275,)


def test_nan_is_written_as_the_declared_fill(tmp_path):
    """Steps keep missing values as NaN; the writer stores the definition's fill."""
    import cdflib

    from magfw.io.cdf import write_cdf
    from magfw.plugin.definitions import ProductDefinition

    d = ProductDefinition.model_validate(
        {
            "id": "p",
            "mission": "m",
            "level": "l1",
            "format": "cdf",
            "filename": {"template": "P_V{version}.cdf", "fields": {"version": {"kind": "int", "width": 2}}},
            "dims": {"time": None},
            "variables": [
                {"name": "Epoch", "dtype": "tt2000", "dims": ["time"], "var_type": "support_data"},
                {
                    "name": "B",
                    "dtype": "float32",
                    "dims": ["time"],
                    "fill": -1e31,
                    "depend": {"DEPEND_0": "Epoch"},
                },
            ],
        }
    )
    path = write_cdf(
        tmp_path / "P_V00.cdf",
        d,
        {"Epoch": np.arange(3, dtype=np.int64) * 10**9, "B": np.array([1.0, np.nan, 3.0])},
        {},
    )
    b = cdflib.CDF(str(path)).varget("B")
    assert b[1] == np.float32(-1e31) and b[0] == 1.0 and b[2] == 3.0


@pytest.mark.parametrize("n_chunks", [1, 5, 40])  # 40 chunks: more VVRs than cdflib puts in one VXR
def test_lazy_variables_are_written_chunk_by_chunk_and_read_back_whole(tmp_path, n_chunks):
    """A month merged day by day: each record-varying variable given as a function yielding
    chunks is written one VVR per chunk; the file reads back (cdflib) exactly as the
    concatenation, and as the same product written at once."""
    from magfw.plugin.definitions import shipped_definitions

    d = {x.id: x for x in shipped_definitions("stereo")}["monthly_review"]
    rng = np.random.default_rng(1)
    sizes = rng.integers(0, 300, n_chunks)
    sizes[0] = 0 if n_chunks > 1 else 7  # an empty first chunk too
    start = 63_871_000_000_000.0
    epochs = [start + np.arange(n) * 125.0 + 1e7 * i for i, n in enumerate(sizes)]
    bf = [rng.normal(0, 5, (n, 4)).astype(np.float32) for n in sizes]
    flags = [rng.integers(0, 2**31, n).astype(np.uint32) for n in sizes]
    fv = [np.full(n, 5.0, np.float32) for n in sizes]
    eager = {
        "Epoch": np.concatenate(epochs),
        "BFIELD": np.concatenate(bf),
        "MAGFLAGUC": np.concatenate(flags),
        "FILTER_VALUE": np.concatenate(fv),
        "CART_LABL_1": np.array(["BX", "BY", "BZ", "BTotal"]),
    }
    lazy = {
        "Epoch": lambda: iter(epochs),
        "BFIELD": lambda: iter(bf),
        "MAGFLAGUC": lambda: iter(flags),
        "FILTER_VALUE": lambda: iter(fv),
        "CART_LABL_1": eager["CART_LABL_1"],
    }
    a = write_cdf(tmp_path / "a.cdf", d, eager, {})
    b = write_cdf(tmp_path / "b.cdf", d, lazy, {})
    ra, rb = read_cdf(a), read_cdf(b)
    for name, want in eager.items():
        assert np.array_equal(rb.variables[name], want), name
        assert np.array_equal(ra.variables[name], rb.variables[name]), name
    assert rb.var_attrs["BFIELD"] == ra.var_attrs["BFIELD"]
    assert cdflib.CDF(str(b)).varinq("BFIELD").Last_Rec == sum(sizes) - 1


def test_lazy_variable_holds_one_chunk_at_a_time(tmp_path):
    """The writer asks for the next chunk only after the previous one is written and dropped
    (a month of 8 Hz data must never be held whole): each chunk is made fresh, and when the
    next is asked for, the one before the previous is gone (weak references: numpy frees an
    array at its last reference)."""
    import weakref

    from magfw.plugin.definitions import shipped_definitions

    d = {x.id: x for x in shipped_definitions("stereo")}["monthly_review"]
    n, per = 12, 50
    alive: list[weakref.ref[np.ndarray]] = []
    held: list[int] = []

    def chunks(make):
        for i in range(n):
            held.append(sum(r() is not None for r in alive))
            arr = make(i)
            alive.append(weakref.ref(arr))
            yield arr
            del arr

    lazy = {
        "Epoch": lambda: chunks(lambda i: 63_871_000_000_000.0 + 1e6 * i + np.arange(per) * 125.0),
        "BFIELD": lambda: chunks(lambda i: np.ones((per, 4), np.float32)),
        "MAGFLAGUC": lambda: chunks(lambda i: np.zeros(per, np.uint32)),
        "FILTER_VALUE": lambda: chunks(lambda i: np.full(per, 5.0, np.float32)),
        "CART_LABL_1": np.array(["BX", "BY", "BZ", "BTotal"]),
    }
    path = write_cdf(tmp_path / "c.cdf", d, lazy, {})
    assert read_cdf(path).variables["BFIELD"].shape == (n * per, 4)
    assert max(held) <= 2, held  # a list of all chunks would hold up to 12


def test_streamed_file_read_back_by_cdflib_and_the_nasa_library_value_by_value(tmp_path):
    """The streamed writer appends VVRs and a VXR itself (magfw.io.cdf_stream, from the CDF
    format description, no private cdflib method): cdflib's public reader and the NASA CDF
    library (spacepy.pycdf) read every record of every variable back exactly; a failure names
    the library versions."""
    import cdflib

    from magfw.plugin.definitions import shipped_definitions

    d = {x.id: x for x in shipped_definitions("stereo")}["monthly_review"]
    rng = np.random.default_rng(7)
    sizes = [0, 1, 250, 0, 999, 3] + [64] * 20
    epochs = [63_871_000_000_000.0 + 1e7 * i + np.arange(n) * 125.0 for i, n in enumerate(sizes)]
    bf = [rng.normal(0, 5, (n, 4)).astype(np.float32) for n in sizes]
    flags = [rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32) for n in sizes]
    fv = [rng.normal(5, 1, n).astype(np.float32) for n in sizes]
    chunks = {"Epoch": epochs, "BFIELD": bf, "MAGFLAGUC": flags, "FILTER_VALUE": fv}
    lazy = {k: (lambda v=v: iter(v)) for k, v in chunks.items()}
    lazy["CART_LABL_1"] = np.array(["BX", "BY", "BZ", "BTotal"])
    path = write_cdf(tmp_path / "s.cdf", d, lazy, {})
    versions = f"cdflib {cdflib.__version__}"
    public = cdflib.CDF(str(path))
    for name, parts in chunks.items():
        want = np.concatenate(parts)
        got = np.asarray(public.varget(name))
        assert got.dtype == want.dtype and np.array_equal(got, want), f"{name} differs under {versions}"
        assert public.varinq(name).Last_Rec == len(want) - 1, versions
    pycdf = pytest.importorskip("spacepy.pycdf", reason="the NASA CDF library through spacepy")
    versions += f", NASA CDF {'.'.join(str(x) for x in pycdf.lib.version[:3])}"
    with pycdf.CDF(str(path)) as nasa:
        for name, parts in chunks.items():
            want = np.concatenate(parts)
            raw = nasa.raw_var(name)[...]
            assert np.array_equal(np.asarray(raw), want), f"{name} differs under {versions}"
        assert list(nasa["CART_LABL_1"][...]) == ["BX", "BY", "BZ", "BTotal"]


def test_a_long_lazy_chunk_is_cut_into_vvrs_a_range_reader_reads_back(tmp_path, monkeypatch):
    """A chunk longer than VVR_BYTES is written as several VVRs (so a reader of a record range,
    which reads the VVRs holding it, reads a few MiB of a month): whole and ranges read back
    exactly with cdflib's record-range reading."""
    import magfw.io.cdf_stream as cdfmod
    from magfw.plugin.definitions import shipped_definitions

    monkeypatch.setattr(cdfmod, "VVR_BYTES", 1000)
    d = {x.id: x for x in shipped_definitions("stereo")}["monthly_review"]
    n = 2500
    epoch = 63_871_000_000_000.0 + np.arange(n) * 125.0
    bf = np.arange(n * 4, dtype=np.float32).reshape(n, 4)
    lazy = {
        "Epoch": lambda: iter([epoch[:1700], epoch[1700:]]),
        "BFIELD": lambda: iter([bf[:1700], bf[1700:]]),
        "MAGFLAGUC": lambda: iter([np.zeros(n, np.uint32)]),
        "FILTER_VALUE": lambda: iter([np.full(n, 5.0, np.float32)]),
        "CART_LABL_1": np.array(["BX", "BY", "BZ", "BTotal"]),
    }
    path = write_cdf(tmp_path / "m.cdf", d, lazy, {})
    c = cdflib.CDF(str(path))
    assert np.array_equal(c.varget("BFIELD"), bf) and np.array_equal(c.varget("Epoch"), epoch)
    for lo, hi in [(0, 1), (55, 1801), (2400, 2500), (1699, 1701)]:
        assert np.array_equal(c.varget("BFIELD", startrec=lo, endrec=hi - 1), bf[lo:hi])

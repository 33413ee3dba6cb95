"""netCDF writer/reader: round trip read back with h5py and xarray (decode_times=False), CF
attributes in the variable's dtype, damaged files, atomicity, and a real DSCOVR file."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from magfw.errors import InputError
from magfw.io import netcdf as netcdf_module
from magfw.io import netcdf_time
from magfw.io.netcdf import TT2000_COMMENT, read_netcdf, write_netcdf
from magfw.io.products import read_product, write_product
from magfw.plugin.context import Product
from magfw.plugin.definitions import ProductDefinition

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
DAY = 1_728_518_400.0  # 2024-10-10T00:00:00 UTC in UNIX seconds
NAME = "L2_AL1_MAG_20241010_V00.nc"


def aditya_definition(compression: int = 0) -> ProductDefinition:
    """An Aditya-L1 MAG L2-like layout: UNIX-seconds time and GSE components."""
    comps = [
        {
            "name": f"B{c}_gse",
            "dtype": "float32",
            "dims": ["time"],
            "units": "nT",
            "description": f"Field component along the {c.upper()}-axis in GSE frame",
            "fill": -9999.0,
            "valid_min": -256,
            "valid_max": 256,
        }
        for c in "xyz"
    ]
    return ProductDefinition.model_validate(
        {
            "id": "l2_gse",
            "mission": "aditya",
            "level": "l2",
            "format": "netcdf",
            "filename": {
                "template": "L2_AL1_MAG_{date}_V{version}.nc",
                "fields": {"date": {"kind": "int", "width": 8}, "version": {"kind": "int", "width": 2}},
            },
            "time_variable": "time",
            "compression": compression,
            "dims": {"time": None, "comp": 3},
            "variables": [
                {
                    "name": "time",
                    "dtype": "float64",
                    "dims": ["time"],
                    "var_type": "support_data",
                    "units": "Seconds (UNIX time)",
                    "description": "Epoch starts at Jan 1, 1970",
                },
                *comps,
                {
                    "name": "Quality_flag_10s_data",
                    "dtype": "uint8",
                    "dims": ["time"],
                    "fill": 255,
                    "units": "1",
                    "description": "1 = valid, 0 = bad",
                    "attrs": {"flag_values": [0, 1], "flag_meanings": "bad valid"},
                },
                {
                    "name": "epoch_tt2000",
                    "dtype": "tt2000",
                    "dims": ["time"],
                    "optional": True,
                    "description": "TT2000 time",
                    "var_type": "support_data",
                },
                {
                    "name": "labels",
                    "dtype": "str",
                    "dims": ["comp"],
                    "record_varying": False,
                    "var_type": "metadata",
                    "description": "component names",
                },
            ],
            "global_attrs": {
                "title": "Aditya-L1 Magnetometer data",
                "processing_level": "Level 2",
                "platform": "Aditya-L1",
            },
        }
    )


def aditya_variables(n: int = 60) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    v = {"time": DAY + 10.0 * np.arange(n)}
    for c in "xyz":
        v[f"B{c}_gse"] = rng.normal(0, 4, n).astype(np.float32)
    v["Bx_gse"][5] = -9999.0
    v["Quality_flag_10s_data"] = np.ones(n, np.uint8)
    v["epoch_tt2000"] = 781_790_469_184_000_000 + np.arange(n, dtype=np.int64) * 10**10
    v["labels"] = np.array(["X", "Y", "Z"])
    return v


@pytest.mark.parametrize("level", [0, 4])
def test_round_trip_with_h5py(tmp_path: Path, level: int) -> None:
    v = aditya_variables()
    path = write_netcdf(
        tmp_path / NAME, aditya_definition(level), v, {"product_version": "V_00", "Parents": ["a.nc", "b.nc"]}
    )
    with h5py.File(path, "r") as h:
        for name, arr in v.items():
            got = h[name][...]
            if name == "labels":
                assert [s.decode() for s in got] == arr.tolist()
            elif name == "epoch_tt2000":  # a CF time: microseconds since 1970, read back as TT2000
                np.testing.assert_array_equal(got, netcdf_time.encode(arr, netcdf_time.DEFAULT_UNITS))
                np.testing.assert_array_equal(read_netcdf(path).variables[name], arr)
            else:
                np.testing.assert_array_equal(got, arr)
                assert h[name].dtype == arr.dtype, name
        assert h["time"].maxshape == (None,)  # unlimited record dimension
        assert h["Bx_gse"].compression == ("gzip" if level else None)
        fill = h["Bx_gse"].attrs["_FillValue"]
        assert fill.dtype == np.float32 and fill[0] == np.float32(-9999.0)
        assert h["Bx_gse"].attrs["valid_min"].dtype == np.float32
        assert h["Quality_flag_10s_data"].attrs["_FillValue"].dtype == np.uint8
        assert h["Bx_gse"].attrs["units"] == "nT"
        assert h["Bx_gse"].attrs["long_name"] == "Field component along the X-axis in GSE frame"
        assert "_FillValue" not in h["time"].attrs  # float64 time with no fill: as given
        assert h["time"].attrs["units"] == "Seconds (UNIX time)"
        assert h["epoch_tt2000"].attrs["units"] == "microseconds since 1970-01-01T00:00:00Z"
        assert h["epoch_tt2000"].attrs["calendar"] == "standard"
        assert h["epoch_tt2000"].attrs["comment"] == TT2000_COMMENT
        assert h.attrs["Conventions"] == "CF-1.8, ACDD-1.3"
        assert h.attrs["title"] == "Aditya-L1 Magnetometer data"
        assert h.attrs["product_version"] == "V_00"


def test_opens_with_xarray_without_decoding_times(tmp_path: Path) -> None:
    xr = pytest.importorskip("xarray")
    v = aditya_variables()
    path = write_netcdf(tmp_path / NAME, aditya_definition(), v, {})
    with xr.open_dataset(path, decode_times=False) as ds:
        assert ds.sizes["time"] == 60
        np.testing.assert_array_equal(ds["time"].values, v["time"])  # UNIX seconds as-is
        by = ds["By_gse"].values
        np.testing.assert_array_equal(by, v["By_gse"])
        assert np.isnan(ds["Bx_gse"].values[5])  # _FillValue understood
        assert ds["Bx_gse"].attrs["units"] == "nT"
        assert ds["Quality_flag_10s_data"].attrs["flag_meanings"] == "bad valid"
        assert ds["labels"].values.tolist() == ["X", "Y", "Z"]
        assert ds.attrs["platform"] == "Aditya-L1"


def test_read_netcdf_values_and_info(tmp_path: Path) -> None:
    v = aditya_variables()
    v.pop("epoch_tt2000")  # optional: left out
    path = write_netcdf(tmp_path / NAME, aditya_definition(4), v, {"n": 3})
    data = read_netcdf(path)
    assert data.format == "netcdf"
    assert list(data.variables) == list(v)
    for name, arr in v.items():
        np.testing.assert_array_equal(data.variables[name], arr)
    assert data.variables["labels"].dtype.kind == "U"
    bx = data.info["Bx_gse"]
    assert (bx.data_type, bx.dims, bx.record_varying, bx.dim_names) == ("float32", (), True, ("time",))
    assert data.info["labels"].record_varying is False
    assert data.info["labels"].dims == (3,)
    assert data.var_attrs["Bx_gse"]["_FillValue"] == np.float32(-9999.0)
    assert data.info["Bx_gse"].attr_types["_FillValue"] == "float32"
    assert data.global_attrs["n"] == 3
    assert list(read_netcdf(path, ["Bz_gse"]).variables) == ["Bz_gse"]
    with pytest.raises(InputError) as err:
        read_netcdf(path, ["B_SC"])
    assert str(err.value).startswith(f"{path}: variable 'B_SC' not found (has: time, Bx_gse")


def test_damaged_files_are_one_line_input_errors(tmp_path: Path) -> None:
    good = write_netcdf(tmp_path / NAME, aditya_definition(), aditya_variables(), {})
    blob = good.read_bytes()
    for name, content in {
        "half.nc": blob[: len(blob) // 2],
        "garbage.nc": b"\x00junk" * 50,
        "empty.nc": b"",
    }.items():
        bad = tmp_path / name
        bad.write_bytes(content)
        with pytest.raises(InputError) as err:
            read_netcdf(bad)
        msg = str(err.value)
        assert msg.startswith(f"{bad}: not a readable netCDF"), msg
        assert "\n" not in msg


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    real = netcdf_module._write_variable

    def failing(nc, definition, var, *args):
        if var.name == "Bz_gse":
            raise RuntimeError("quota exceeded")
        return real(nc, definition, var, *args)

    monkeypatch.setattr(netcdf_module, "_write_variable", failing)
    with pytest.raises(RuntimeError, match="quota"):
        write_netcdf(tmp_path / NAME, aditya_definition(), aditya_variables(), {})
    assert list(tmp_path.iterdir()) == []


def test_write_product_dispatches_netcdf(tmp_path: Path) -> None:
    product = Product(
        definition=aditya_definition(),
        fields={"date": 20241010},
        variables=aditya_variables(),
        attrs={"summary": "test"},
    )
    [path] = write_product(product, tmp_path / NAME, {"date_created": "2026-01-01T00:00:00Z"})
    back = read_product(path)
    assert back.global_attrs["summary"] == "test"
    assert back.global_attrs["date_created"] == "2026-01-01T00:00:00Z"


@pytest.mark.realdata
def test_real_dscovr_netcdf3() -> None:
    pytest.importorskip("scipy", reason="classic netCDF-3 files are read through scipy")
    files = sorted((REALDATA / "dscovr").glob("*.nc"))
    if not files:
        pytest.skip(f"no DSCOVR netCDF under {REALDATA / 'dscovr'}")
    data = read_netcdf(files[0])
    t = data.variables["time"]
    assert t.shape == (1440,)
    assert data.var_attrs["time"]["units"] == "milliseconds since 1970-01-01T00:00:00Z"
    assert t[0] == 1_689_379_200_000.0  # 2023-07-15T00:00:00Z
    assert np.all(np.diff(t) == 60_000.0)  # one-minute averages
    vx = data.variables["proton_vx_gse"]
    assert vx.dtype == np.float32 and vx.dtype.isnative
    np.testing.assert_allclose(vx[:3], [-424.3, -425.7, -422.0], atol=1e-3)
    # Vx is the same in GSE and GSM
    np.testing.assert_array_equal(vx, data.variables["proton_vx_gsm"])
    assert data.var_attrs["proton_vx_gse"]["missing_value"] == -99999.0
    assert data.info["proton_vx_gse"].record_varying is True
    assert data.global_attrs["title"] == "DSCOVR Faraday Cup Level 2 One Minute Averages"

"""``xr.open_dataset(path, engine="magfw")`` on products of every format and mission, checked
against magfw's raw readers: Aditya L1 and L2 netCDF, a STEREO CDF and a STEREO UCLA flat
file. The products are written here by the core writers from their shipped definitions and
known arrays (fast); tests/test_aditya_e2e.py opens the simulated pipeline's own products."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest

from magfw.api import Product, shipped_definitions, write_product
from magfw.geometry.time import tt2000_from_iso, tt2000_to_datetime64, tt2000_to_unix
from magfw.io.products import read_product

xr = pytest.importorskip("xarray")

T0 = int(tt2000_from_iso(np.array(["2024-08-01T00:00:00"]))[0])
NS = 10**9


def _defs(mission: str) -> dict:
    return {d.id: d for d in shipped_definitions(mission)}


def _write(d, rel: str, tmp: Path, variables: dict, fields: dict | None = None) -> Path:
    target = tmp / rel
    paths = write_product(Product(definition=d, variables=variables, fields=fields or {}), target, {})
    return paths[0]


def test_the_engine_is_registered_as_an_entry_point():
    names = {e.name: e.value for e in entry_points(group="xarray.backends")}
    assert names.get("magfw") == "magfw.tools.xarray_backend:MagfwBackendEntrypoint"
    assert "magfw" in xr.backends.list_engines()


def test_aditya_l2_time_coordinate_vectors_fill_and_flags(tmp_path):
    d = _defs("aditya")["l2"]
    n = 8640
    start = T0 + np.arange(n, dtype=np.int64) * 10 * NS
    rng = np.random.default_rng(1)
    v: dict[str, np.ndarray] = {"time": tt2000_to_unix(start)}
    for frame in ("gse", "gsm", "sccs"):
        for c in "xyz":
            v[f"B{c}_{frame}"] = rng.normal(0, 5, n).astype(np.float32)
            v[f"B{c}_{frame}_error"] = np.full(n, 0.5, np.float32)
    for frame in ("gse", "gsm"):
        for c in "xyz":
            v[f"{c}_{frame}"] = rng.normal(1.5e6, 1e5, n).astype(np.float32)
    v["Bx_gse"][5] = np.nan  # written as the fill -9999.0
    flag = np.ones(n, np.float32)
    flag[5] = 0
    v["Quality_flag_10s_data"] = flag
    path = _write(d, "L2_AL1_MAG_20240801_V00.nc", tmp_path, v)
    raw = read_product(path)
    assert raw.variables["Bx_gse"][5] == -9999.0  # the raw reader leaves the fill

    ds = xr.open_dataset(path, engine="magfw")
    assert ds["time"].dtype == np.dtype("datetime64[ns]") and ds.sizes["time"] == n
    assert (ds["time"].values == tt2000_to_datetime64(start)).all()
    assert ds["B_gse"].dims == ("time", "component")
    assert list(ds["component"].values) == ["x", "y", "z"]
    for frame in ("gse", "gsm", "sccs"):
        for k, c in enumerate("xyz"):
            expect = raw.variables[f"B{c}_{frame}"].astype(float)
            expect[expect == -9999.0] = np.nan
            np.testing.assert_array_equal(ds[f"B_{frame}"].values[:, k], expect)
    assert np.isnan(ds["B_gse"].values[5, 0]) and np.isfinite(ds["B_gse"].values[5, 1])
    np.testing.assert_array_equal(ds["position_gsm"].values[:, 2], raw.variables["z_gsm"])
    assert (ds["Quality_flag_10s_data"].values == raw.variables["Quality_flag_10s_data"]).all()
    assert ds["B_gse"].attrs["units"] == "nano tesla - nT"  # the definition's units
    assert "GSE" in ds["B_gse"].attrs["long_name"]
    # what the real files' layout prevents: selecting by time
    one = ds.sel(time="2024-08-01T12:00:00")
    assert one["B_gse"].shape == (3,)
    np.testing.assert_array_equal(one["B_gse"].values, [v[f"B{c}_gse"][4320] for c in "xyz"])


def test_aditya_l1_sensors_on_the_component_dimension(tmp_path):
    d = _defs("aditya")["l1"]
    n = 1000
    tt = T0 + np.arange(n, dtype=np.int64) * 128_000_000
    rng = np.random.default_rng(2)
    v: dict[str, np.ndarray] = {"time": tt2000_to_unix(tt)}
    for sensor in ("mag1", "mag2"):
        for axis in ("yaw", "roll", "pitch"):
            v[f"B_{axis}_{sensor}"] = rng.normal(0, 5, n).astype(np.float32)
            v[f"B_{axis}_{sensor}_error"] = np.full(n, 0.3, np.float32)
    v["B_roll_mag2"][10] = np.nan
    name = "L1_MAG91N18P1AL10079409024024214025140643_N00_0000_478198_V00.nc"
    path = _write(d, name, tmp_path, v)
    raw = read_product(path)
    ds = xr.open_dataset(path, engine="magfw")
    assert list(ds["component"].values) == ["yaw", "roll", "pitch"]
    assert ds["B_mag2"].dims == ("time", "component")
    # the UNIX seconds of the file, decoded: within the float64 resolution of the file
    dt = (ds["time"].values - tt2000_to_datetime64(tt)).astype("timedelta64[ns]").astype(int)
    assert np.abs(dt).max() < 1000
    np.testing.assert_array_equal(ds["B_mag1"].values[:, 2], raw.variables["B_pitch_mag1"])
    assert np.isnan(ds["B_mag2"].values[10, 1]) and raw.variables["B_roll_mag2"][10] == -9999.0


def _stereo_arrays(n: int) -> tuple[np.ndarray, np.ndarray]:
    tt = T0 + np.arange(n, dtype=np.int64) * 125_000_000 + 62_500_000
    rng = np.random.default_rng(3)
    b = rng.normal(0, 5, (n, 4)).astype(np.float32)
    b[:, 3] = np.linalg.norm(b[:, :3], axis=1)
    b[7] = np.nan
    return tt, b


def test_stereo_cdf_labels_fill_and_flags(tmp_path):
    from magfw.geometry.time import tt2000_to_cdf_epoch

    d = _defs("stereo")["l1_mag_sc"]
    tt, b = _stereo_arrays(2000)
    v = {
        "Epoch": tt2000_to_cdf_epoch(tt),
        "BFIELD": b,
        "MAGFLAGUC": np.arange(2000, dtype=np.uint32) % 3,
        "FILTER_VALUE": np.full(2000, 5.0, np.float32),
        "CART_LABL_1": np.array(["BX", "BY", "BZ", "BTotal"]),
    }
    path = _write(d, "STA_L1_MAG_SC_20240801_V06.cdf", tmp_path, v, {"sc": "A"})
    raw = read_product(path)
    ds = xr.open_dataset(path, engine="magfw")
    assert ds["BFIELD"].dims == ("time", "cart")
    assert list(ds["cart"].values) == ["BX", "BY", "BZ", "BTotal"]
    # CDF_EPOCH has ms resolution: the decoded times are the CDF's, to the ms
    dt = (ds["time"].values - tt2000_to_datetime64(tt)).astype("timedelta64[ns]").astype(int)
    assert np.abs(dt).max() <= 500_000
    expect = raw.variables["BFIELD"].astype(float)
    expect[np.isclose(expect, -1e31)] = np.nan
    np.testing.assert_array_equal(ds["BFIELD"].values, expect)
    assert np.isnan(ds["BFIELD"].values[7]).all()
    assert ds["MAGFLAGUC"].dtype == np.uint32  # flags stay integers, a variable of their own
    np.testing.assert_array_equal(ds["MAGFLAGUC"].values, raw.variables["MAGFLAGUC"])
    assert ds["BFIELD"].attrs["units"] == "nT" and ds["BFIELD"].attrs["label"] == "Magnetic field SC"


@pytest.mark.parametrize("suffix", [".ffh", ".ffd"])
def test_stereo_flat_file_columns_back_as_the_vector(tmp_path, suffix):
    d = _defs("stereo")["l1_mag_rtn_ff"]
    tt, b = _stereo_arrays(500)
    path = _write(
        d, "L1_rtn/Afgy2024/STA_L1_MAG_RTN_20240801_V06.ffh", tmp_path, {"TIME": tt, "B": b}, {"sc": "A"}
    )
    path = path.with_suffix(suffix)
    raw = read_product(path)
    ds = xr.open_dataset(path, engine="magfw")
    columns = ["BR RTN", "BT RTN", "BN RTN", "BT"]  # the UCLA readers' names (docs/stereo.md)
    assert list(ds["cart"].values) == columns
    assert (ds["time"].values == tt2000_to_datetime64(raw.variables["UT"])).all()
    for k, col in enumerate(columns):
        expect = raw.variables[col].astype(float)
        expect[np.isclose(expect, 1e34, rtol=1e-6)] = np.nan
        np.testing.assert_array_equal(ds["B"].values[:, k], expect)
    assert np.isnan(ds["B"].values[7]).all()
    np.testing.assert_allclose(ds["B"].values[:7], b[:7], rtol=1e-6)
    if suffix == ".ffd":  # the engine is guessed for flat files
        assert xr.open_dataset(path)["B"].shape == (500, 4)


def test_a_file_no_definition_names_is_one_clear_error(tmp_path):
    from magfw.errors import InputError

    p = tmp_path / "something.nc"
    p.write_bytes(b"\x89HDF\r\n\x1a\n")
    with pytest.raises(InputError, match="not a magfw product"):
        xr.open_dataset(p, engine="magfw")

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


def test_a_file_no_definition_knows_is_one_clear_error(tmp_path):
    """A netCDF that is no magfw product, and a damaged file: one InputError naming the file,
    with no chained traceback (``__cause__`` and ``__context__`` suppressed)."""
    from magfw.errors import InputError

    foreign = tmp_path / "something.nc"
    xr.Dataset({"x": ("t", np.arange(3.0))}).to_netcdf(foreign, engine="h5netcdf")
    with pytest.raises(InputError, match="something.nc: not a magfw product") as info:
        xr.open_dataset(foreign, engine="magfw")
    assert info.value.__cause__ is None and info.value.__suppress_context__
    damaged = tmp_path / "L2_AL1_MAG_20240801_V00.nc"
    damaged.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    with pytest.raises(InputError, match="L2_AL1_MAG_20240801_V00.nc: not a readable netCDF") as info:
        xr.open_dataset(damaged, engine="magfw")
    assert info.value.__cause__ is None and info.value.__suppress_context__


# ------------------------------------------------------------------- xarray's conventions


def _synthetic(d, n: int, seed: int = 0, start: int = T0) -> dict:
    """Arrays for every variable of ``d`` (the time variable 1 min apart from T0); each label
    variable holds labels of its own (``HAE_LABL_1`` -> ``HAE_LABL_1_0`` ...)."""
    from magfw.geometry.time import tt2000_to_cdf_epoch
    from magfw.io.products import fixed_shape

    rng = np.random.default_rng(seed)
    tt = start + np.arange(n, dtype=np.int64) * 60 * NS
    out: dict[str, np.ndarray] = {}
    for var in d.variables:
        shape = tuple(n if s is None else s for s in fixed_shape(d, var))
        if var.name == d.time_variable:
            out[var.name] = tt2000_to_cdf_epoch(tt) if var.dtype == "cdf_epoch" else tt
        elif var.dtype == "str":
            out[var.name] = np.array([f"{var.name}_{i}" for i in range(int(np.prod(shape)))]).reshape(shape)
        elif not var.record_varying:  # the same in every file, as support data is
            out[var.name] = np.arange(int(np.prod(shape))).reshape(shape).astype(var.numpy_dtype)
        elif np.dtype(var.numpy_dtype).kind == "f":
            out[var.name] = rng.normal(0, 5, shape).astype(var.numpy_dtype)
        else:
            out[var.name] = rng.integers(0, 3, shape).astype(var.numpy_dtype)
    return out


def _plastic_daily(tmp_path: Path, day: int = 1, name: str | None = None) -> tuple[Path, dict]:
    d = _defs("plastic")["merged_daily"]
    v = _synthetic(d, 30, seed=day, start=T0 + (day - 1) * 86400 * NS)
    name = name or f"STA_L2_MAGPLASMA_1M_DAILY_202408{day:02d}_V01.cdf"
    return _write(d, name, tmp_path, v, {"sc": "A"}), v


def test_plastic_vectors_carry_their_own_labels(tmp_path):
    """PLASTIC's BFIELDRTN, HAE, HEE, HEEQ, CARR and RTN all sit on the definition's ``cart``
    but are labelled by different LABL_PTR_1 variables: each gets a dimension named after its
    label variable, with the file's labels, so no vector carries another's."""
    path, v = _plastic_daily(tmp_path)
    with xr.open_dataset(path, engine="magfw") as ds:
        for name in ("BFIELDRTN", "HAE", "HEE", "HEEQ", "CARR", "RTN"):
            label_var = {"BFIELDRTN": "B_RTN_LABL_1"}.get(name, f"{name}_LABL_1")
            assert ds[name].dims == ("time", label_var)
            assert list(ds[label_var].values) == list(v[label_var])
            np.testing.assert_array_equal(ds[name].sel({label_var: f"{label_var}_2"}).values, v[name][:, 2])
        assert "cart" not in ds.coords  # nothing claims the shared labels


def test_close_and_context_managers_incl_open_mfdataset(tmp_path):
    paths = [_plastic_daily(tmp_path, day)[0] for day in (1, 2, 3)]
    ds = xr.open_dataset(paths[0], engine="magfw")
    ds.close()
    ds.close()  # twice is fine
    with xr.open_mfdataset(
        paths, engine="magfw", combine="by_coords", data_vars="minimal", coords="minimal", compat="override"
    ) as ds:
        assert ds.sizes["time"] == 90 and ds["HAE"].dims == ("time", "HAE_LABL_1")
        assert bool((np.diff(ds["time"].values) > np.timedelta64(0)).all())
    with xr.open_mfdataset(
        paths,
        engine="magfw",
        combine="nested",
        concat_dim="time",
        data_vars="minimal",
        coords="minimal",
        compat="override",
    ) as ds:
        assert ds.sizes["time"] == 90


def test_standard_open_dataset_keywords_are_honoured(tmp_path):
    """decode_times=False gives the stored times (CDF_EPOCH ms), mask_and_scale=False the
    stored fill, drop_variables drops, use_cftime (or a CFDatetimeCoder) gives cftime
    objects, decode_coords=False keeps the label variables as variables, decode_cf=False
    turns every decoder off; decode_timedelta and concat_characters are accepted."""
    from magfw.geometry.time import tt2000_to_cdf_epoch

    path, v = _plastic_daily(tmp_path)
    v_np = v["Np"].copy()
    raw = xr.open_dataset(path, engine="magfw", decode_times=False)
    np.testing.assert_array_equal(raw["time"].values, v["Epoch"])
    assert raw["time"].dtype == np.float64
    assert np.allclose(raw["time"].values[0], tt2000_to_cdf_epoch(np.array([T0]))[0])
    d = _defs("plastic")["merged_daily"]
    v2 = dict(v)
    v2["Np"] = v_np.copy()
    v2["Np"][3] = np.nan  # written as the fill
    path2 = _write(d, "STA_L2_MAGPLASMA_1M_DAILY_20240810_V01.cdf", tmp_path, v2, {"sc": "A"})
    masked = xr.open_dataset(path2, engine="magfw")
    assert np.isnan(masked["Np"].values[3]) and "_FillValue" in masked["Np"].encoding
    stored = xr.open_dataset(path2, engine="magfw", mask_and_scale=False)
    assert stored["Np"].values[3] == np.float32(-1e31) and stored["Np"].attrs["_FillValue"] == np.float32(
        -1e31
    )
    dropped = xr.open_dataset(path, engine="magfw", drop_variables=["HAE", "Np"])
    assert "HAE" not in dropped and "Np" not in dropped and "Vp" in dropped
    cf = xr.open_dataset(path, engine="magfw", decode_times=xr.coders.CFDatetimeCoder(use_cftime=True))
    assert type(cf["time"].values[0]).__module__.startswith("cftime")
    plain = xr.open_dataset(
        path, engine="magfw", decode_coords=False, decode_timedelta=False, concat_characters=True
    )
    assert "HAE_LABL_1" in plain.data_vars and plain["HAE"].dims == ("time", "cart")
    off = xr.open_dataset(path2, engine="magfw", decode_cf=False)
    assert off["time"].dtype == np.float64 and off["Np"].values[3] == np.float32(-1e31)


def test_file_objects_and_bytes_where_the_format_allows(tmp_path):
    path, v = _plastic_daily(tmp_path)
    with open(path, "rb") as fh:
        ds = xr.open_dataset(fh, engine="magfw")
    np.testing.assert_array_equal(ds["Vp"].values, v["Vp"])
    ds = xr.open_dataset(path.read_bytes(), engine="magfw")  # no name: recognised by content
    assert ds.attrs["magfw_definition"] == "plastic/merged_daily"
    ff = _write(
        _defs("stereo")["l1_mag_rtn_ff"], "L1_rtn/Afgy2024/STA_L1_MAG_RTN_20240801_V06.ffh", tmp_path,
        {"TIME": T0 + np.arange(4, dtype=np.int64) * NS, "B": np.ones((4, 4), np.float32)}, {"sc": "A"},
    )  # fmt: skip
    from magfw.errors import InputError

    with open(ff, "rb") as fh, pytest.raises(InputError, match="flat file is two files"):
        xr.open_dataset(fh, engine="magfw")


def test_renamed_products_and_bare_flat_file_copies_are_recognised_by_content(tmp_path):
    """A product whose name no longer matches (renamed, moved, a bare copy of a flat-file pair
    that ``magfw check`` accepts) is recognised by what it holds."""
    import shutil

    from magfw.testing import run_cli

    path, v = _plastic_daily(tmp_path)
    renamed = tmp_path / "my_copy.cdf"
    shutil.copy(path, renamed)
    assert xr.open_dataset(renamed, engine="magfw").attrs["magfw_definition"] == "plastic/merged_daily"
    tt, b = _stereo_arrays(50)
    ff = _write(
        _defs("stereo")["l1_mag_rtn_ff"], "L1_rtn/Afgy2024/STA_L1_MAG_RTN_20240801_V06.ffh", tmp_path,
        {"TIME": tt, "B": b}, {"sc": "A"},
    )  # fmt: skip
    bare = tmp_path / "bare"
    bare.mkdir()
    for half in (ff, ff.with_suffix(".ffd")):
        shutil.copy(half, bare / half.name)
    assert "(stereo/l1_mag_rtn_ff)" in run_cli(["check", str(bare / ff.name)]).stdout  # check knows it
    ds = xr.open_dataset(bare / ff.name, engine="magfw")
    assert ds.attrs["magfw_definition"] == "stereo/l1_mag_rtn_ff"
    for half in (ff, ff.with_suffix(".ffd")):
        shutil.copy(half, bare / ("renamed" + half.suffix))
    ds = xr.open_dataset(bare / "renamed.ffd", engine="magfw")
    assert ds.attrs["magfw_definition"] == "stereo/l1_mag_rtn_ff" and ds["B"].shape == (50, 4)

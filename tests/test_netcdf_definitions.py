"""netCDF product definitions (issue 21): a ``tt2000`` time is a CF time that xarray (pandas)
and cftime decode to the right UTC, magfw reads back as TT2000, and every magfw tool takes;
``labl_ptr`` targets are CF labels; keys a netCDF cannot take are refused in one line when the
definition loads, never dropped silently. Made by the zeta plugin's monthly netCDF level."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from zetaplugin import L2_DEF, Zeta

from magfw.api import DefinitionError, read_netcdf, time
from magfw.io import netcdf_time
from magfw.io.netcdf import write_netcdf
from magfw.plugin.definitions import ProductDefinition, load_definition
from magfw.testing import assert_valid_product, make_hooks, run_cli, run_level, using_hooks

NS = 1_000_000_000


@pytest.fixture(scope="module")
def month(tmp_path_factory) -> tuple[Path, object]:
    """``zeta l2`` for 2024-01 made from one day of l1: the month's 1-min netCDF."""
    hooks = make_hooks(Zeta(), names=["zeta"])
    out = tmp_path_factory.mktemp("zeta") / "out"
    summary = run_level(hooks, "zeta", "l2", "2024-01-01", out)
    assert summary.ok, [r.message for r in summary.results]
    (path,) = out.rglob("ZETA_L2_202401_V00.nc")
    return path, hooks


def _minute_centres() -> np.ndarray:
    t0 = int(time.tt2000_from_iso(np.array(["2024-01-01T00:00:00"]))[0])
    return t0 + (np.arange(31 * 1440, dtype=np.int64) * 60 + 30) * NS


def test_a_tt2000_time_is_a_cf_time_xarray_and_cftime_decode(month):
    path, _ = month
    want = np.asarray(time.tt2000_to_datetime64(_minute_centres()))
    with xr.open_dataset(path, engine="h5netcdf") as ds:  # pandas decoding, xarray's default
        assert (ds.time.values == want).all()
        assert ds.time.encoding["units"] == netcdf_time.DEFAULT_UNITS
        assert ds.time.encoding["calendar"] == "standard"
        assert ds.time.encoding["dtype"] == np.int64
        assert list(ds.B.coords) == ["time", "B_LABL"]  # labl_ptr: a CF label of B
    coder = xr.coders.CFDatetimeCoder(use_cftime=True)
    with xr.open_dataset(path, engine="h5netcdf", decode_times=coder) as ds:
        got = [t.isoformat() for t in ds.time.values[[0, 1, -1]]]
    assert got == ["2024-01-01T00:00:30", "2024-01-01T00:01:30", "2024-01-31T23:59:30"]
    assert (read_netcdf(path).variables["time"] == _minute_centres()).all()  # TT2000 back, exactly


def test_every_magfw_tool_takes_the_netcdf_time(month, tmp_path):
    path, hooks = month
    assert_valid_product(path, hooks)
    with using_hooks(hooks):
        with xr.open_dataset(path, engine="magfw") as ds:
            assert (ds.time.values == np.asarray(time.tt2000_to_datetime64(_minute_centres()))).all()
        with xr.open_dataset(path, engine="magfw", decode_times=False) as raw:  # the stored counts
            assert raw.time.attrs["units"] == netcdf_time.DEFAULT_UNITS
            assert int(raw.time.values[0]) == int(
                netcdf_time.encode(_minute_centres()[:1], netcdf_time.DEFAULT_UNITS)[0]
            )
    res = run_cli(["plot", str(path), "-o", str(tmp_path / "l2.png")], hooks)
    assert res.exit_code == 0 and (tmp_path / "l2.png").stat().st_size > 0, res.stderr


def _leap_definition(units: str | None) -> ProductDefinition:
    raw = L2_DEF.model_dump()
    raw["variables"][0]["units"] = units
    return ProductDefinition.model_validate(raw)


@pytest.mark.parametrize(
    ("units", "shown"),
    [
        (
            None,
            [
                "2016-12-31T23:59:59.500000000",
                "2016-12-31T23:59:59.500000000",
                "2017-01-01T00:00:00.000000000",
            ],
        ),
        (
            "nanoseconds since 2000-01-01T00:00:00Z",
            [
                "2016-12-31T23:59:59.500000000",
                "2016-12-31T23:59:59.500000000",
                "2017-01-01T00:00:00.000000123",
            ],
        ),
        ("seconds since 1970-01-01", ["2017-01-01T00:00:00.000000000"] * 3),
    ],
)
def test_the_cf_time_rounds_to_its_unit_and_folds_a_leap_second(tmp_path, units, shown):
    """CF's standard calendar has no leap second: 23:59:60.5 is written as 23:59:59.5 (as
    tt2000_to_datetime64 shows it); a time is rounded to the unit (default: microseconds)."""
    iso = np.array(["2016-12-31T23:59:59.5", "2016-12-31T23:59:60.5", "2017-01-01T00:00:00.000000123"])
    tt = np.asarray(time.tt2000_from_iso(iso), dtype=np.int64)
    path = write_netcdf(
        tmp_path / "ZETA_L2_201612_V00.nc",
        _leap_definition(units),
        {"time": tt, "B": np.zeros((3, 3), np.float32), "B_LABL": np.array(["x", "y", "z"])},
        {},
    )
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        assert np.datetime_as_string(ds.time.values, unit="ns").tolist() == shown
    back = np.asarray(read_netcdf(path).variables["time"])
    assert (back == np.asarray(time.tt2000_from_iso(np.array(shown)))).all()  # TT2000 of what CF shows


DEFINITION = """
id: l2
mission: zeta
level: l2
format: netcdf
filename: {template: "ZETA_L2_{yyyy}{mm}_V{version}.nc", fields: {yyyy: {kind: int, width: 4},
  mm: {kind: int, width: 2}, version: {kind: int, width: 2}}}
version: {policy: increment}
time_variable: time
dims: {time: null, xyz: 3}
variables:
- {name: time, dtype: tt2000, dims: [time]}
- {name: B, dtype: float32, dims: [time, xyz], units: nT}
"""


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (
            "- {name: B, dtype: float32, dims: [time, xyz], units: nT, field_name: B}",
            "variable B: field_name is the ISTP FIELDNAM of a CDF",
        ),
        (
            "- {name: B, dtype: float32, dims: [time, xyz], units: nT, display_type: time_series}",
            "variable B: display_type is the ISTP DISPLAY_TYPE of a CDF",
        ),
        (
            "- {name: time, dtype: tt2000, dims: [time], units: ns}",
            "variable time: a tt2000 time is written to netCDF as a CF time",
        ),
        ("- {name: time, dtype: cdf_epoch, dims: [time]}", "variable time: cdf_epoch is a CDF type"),
        ("flatfile_epoch: Y2000", "flatfile_epoch Y2000 is a flat-file key"),
    ],
)
def test_a_key_a_netcdf_cannot_take_is_refused_in_one_line(change, said):
    assert load_definition("l2.yaml", DEFINITION).format == "netcdf"
    key = change.split("name: ")[1].split(",")[0] if change.startswith("-") else None
    lines = [line for line in DEFINITION.splitlines() if not (key and line.startswith(f"- {{name: {key},"))]
    text = "\n".join(lines) + "\n" + change + "\n" if key else DEFINITION + change + "\n"
    with pytest.raises(DefinitionError) as err:
        load_definition("l2.yaml", text)
    assert str(err.value).startswith(f"l2.yaml: invalid definition at (top): Value error, {said}")
    assert "\n" not in str(err.value)
    cdf = text.replace("format: netcdf", "format: cdf").replace(".nc", ".cdf")
    if "flatfile" not in change:
        load_definition("l2.yaml", cdf)  # the same keys are a CDF's

"""The other L1 monitors on the real files of ../shared/realdata: the ACE MFI 1-hour key
parameters of 2022-01-01, a CDAWeb master CDF without records, and a real NOAA DSCOVR 1-min
file, which is the Faraday cup's (plasma, no field). Readers against the raw readers; the
comparison level run on the real ACE file against an Aditya L2 made from it with a known
offset (no real Aditya MAG file overlaps these days), and on the real DSCOVR file."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

import magfw_aditya.plugin as aditya_plugin
from magfw.api import InputError, Product, shipped_definitions, write_product
from magfw.geometry.time import tt2000_from_cdf_epoch, tt2000_from_iso, tt2000_from_unix, tt2000_to_unix
from magfw.io.cdf import read_cdf
from magfw.io.netcdf import read_netcdf
from magfw.testing import make_hooks, run_level
from magfw_aditya import upstream

pytestmark = pytest.mark.realdata
REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"


def realdata(*parts: str) -> Path:
    path = REALDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} (shared/realdata beside the checkout)")
    return path


ACE = ("ace", "ac_k2_mfi_20220101_v03.cdf")
ACE_MASTER = ("ace", "ac_h0_mfi_00000000_v01.cdf")
DSCOVR = ("dscovr", "oe_f1m_dscovr_s20230715000000_e20230715235959_p20230716022223_pub.nc")
OFFSET = np.array([0.35, -0.2, 0.15])


def test_ace_reader_against_the_raw_cdf():
    path = realdata(*ACE)
    m = upstream.read_ace(path)
    raw = read_cdf(path)
    assert m.monitor == "ACE" and m.b_gse.shape == (24, 3) and m.cadence_s == 3600.0
    assert (m.tt == tt2000_from_cdf_epoch(raw.variables["Epoch"])).all()
    b = raw.variables["BGSEc"].astype(float)
    good = ~np.isclose(b, -1e31)
    np.testing.assert_array_equal(m.b_gse[good], b[good])
    assert np.isnan(m.b_gse[~good]).all()
    # the file's Epoch CATDESC: "Time, beginning of interval"
    assert m.stamp == "start" and tt2000_to_unix(m.tt[:1])[0] % 3600 == 0.0


def test_ace_master_cdf_and_dscovr_plasma_file_are_clear_errors():
    with pytest.raises(InputError, match="no records"):
        upstream.read_ace(realdata(*ACE_MASTER))
    path = realdata(*DSCOVR)
    raw = read_netcdf(path)
    assert "bx_gse" not in raw.variables and "proton_vx_gse" in raw.variables
    with pytest.raises(InputError, match="DSCOVR file without magnetic field .*f1m.*Faraday Cup"):
        upstream.read_monitor(path)


def _aditya_l2_like(
    day: str, tt_mon: np.ndarray, b_mon: np.ndarray, cadence_s: float, stamp: str, out: Path
) -> Path:
    """An L2 file of ``day`` whose 10-s GSE field is the monitor's record value + OFFSET over
    each record's interval (flag 0 where the monitor has no value)."""
    d = {x.id: x for x in shipped_definitions("aditya")}["l2"]
    t0 = int(tt2000_from_iso(np.array([f"{day}T00:00:00"]))[0])
    start = t0 + np.arange(8640, dtype=np.int64) * 10 * 10**9
    centre = start + 5 * 10**9
    lo = tt_mon if stamp == "start" else tt_mon - int(cadence_s * 5e8)
    idx = np.searchsorted(lo, centre, side="right") - 1
    inside = (idx >= 0) & (centre < lo[np.clip(idx, 0, None)] + int(cadence_s * 1e9))
    b = np.full((8640, 3), np.nan)
    b[inside] = b_mon[idx[inside]] + OFFSET
    flag = np.isfinite(b).all(axis=1)
    v: dict[str, np.ndarray] = {
        "time": tt2000_to_unix(start),
        "Quality_flag_10s_data": flag.astype(np.float32),
    }
    for frame in ("gse", "gsm", "sccs"):
        for k, c in enumerate("xyz"):
            v[f"B{c}_{frame}"] = b[:, k].astype(np.float32)
            v[f"B{c}_{frame}_error"] = np.full(8640, 0.5, np.float32)
    for frame in ("gse", "gsm"):
        for c in "xyz":
            v[f"{c}_{frame}"] = np.full(8640, 1.5e6, np.float32)
    name = f"L2_AL1_MAG_{day.replace('-', '')}_V00.nc"
    write_product(Product(definition=d, variables=v), out / name, {})
    return out / name


@pytest.mark.slow  # over half a second: the whole suite runs it
def test_comparison_runs_on_the_real_ace_file_and_recovers_a_known_offset(tmp_path):
    """The level ``compare`` through the runner on the real ACE file: alignment of its centred
    hourly stamps with the 10-s L2 bins, per-component differences, the trend."""
    src = realdata(*ACE)
    arch = tmp_path / "arch"
    (arch / "ace").mkdir(parents=True)
    shutil.copy(src, arch / "ace" / src.name)
    shutil.copy(realdata(*ACE_MASTER), arch / "ace" / ACE_MASTER[1])  # never touches a month
    out = tmp_path / "out"
    out.mkdir()
    m = upstream.read_ace(src)
    _aditya_l2_like("2022-01-01", m.tt, m.b_gse, m.cadence_s, m.stamp, out)
    hooks = make_hooks(aditya_plugin)
    s = run_level(hooks, "aditya", "compare", "2022-01", out, source=str(arch))
    assert s.ok, [r.message for r in s.results]
    rep = yaml.safe_load((out / "comparison" / "AL1_MAG_VS_ACE_202201_V00.yaml").read_text())
    assert rep["files"] == [src.name] and rep["records"] == int(np.isfinite(m.b_gse).all(1).sum())
    mean = np.array([rep["overall"][c]["mean_nT"] for c in ("Bx", "By", "Bz")])
    np.testing.assert_allclose(mean, OFFSET, atol=1e-3)
    assert all(abs(rep["overall"][c]["trend_nT_per_day"]) < 1e-3 for c in ("Bx", "By", "Bz"))
    assert rep["overall"]["Bz"]["correlation"] > 0.999
    assert (out / "comparison" / "AL1_MAG_VS_ACE_202201_V00.png").exists()


def test_comparison_on_the_real_dscovr_file_says_it_has_no_field(tmp_path):
    src = realdata(*DSCOVR)
    arch = tmp_path / "arch"
    (arch / "dscovr").mkdir(parents=True)
    shutil.copy(src, arch / "dscovr" / src.name)
    out = tmp_path / "out"
    out.mkdir()
    raw = read_netcdf(src)
    tt = np.asarray(tt2000_from_unix(raw.variables["time"] / 1000.0), dtype=np.int64)
    _aditya_l2_like("2023-07-15", tt, np.zeros((tt.size, 3)), 60.0, "start", out)
    s = run_level(make_hooks(aditya_plugin), "aditya", "compare", "2023-07", out, source=str(arch))
    (r,) = s.results
    assert r.status == "failed" and "\n" not in r.message
    assert "no DSCOVR or ACE file with a magnetic field for 2023-07" in r.message
    assert "oe_m1m_dscovr" in r.message  # says which file would do

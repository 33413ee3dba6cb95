"""The beacon chain (`magfw run stereo beacon`) on one simulated beacon-era day (2015-01-01),
from the public IMPACT beacon layout (Epoch_MAG, MAGBField [N, 3] already RTN)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from magfw.engine.ledger import Ledger
from magfw.engine.simulation import simulated_root
from magfw.geometry.time import tt2000_from_cdf_epoch
from magfw.io.cdf import read_cdf
from magfw.testing import assert_valid_product, make_hooks, run_cli
from magfw_stereo import flags as F
from magfw_stereo import layout, plugin

pytestmark = pytest.mark.slow  # end to end on the simulator


def test_beacon_day_in_the_public_layout_goes_to_lb_mag_rtn_without_a_second_rotation(tmp_path):
    hooks = make_hooks(plugin, names=["stereo"])
    res = run_cli(
        ["run", "stereo", "beacon", "2015-01-01", "--source", "simulated", "--out", str(tmp_path)], hooks
    )
    assert res.exit_code == 0, res.stdout + res.stderr
    (path,) = tmp_path.glob("beacon_cdf/Afgy2015/STA_LB_MAG_RTN_20150101_V06.cdf")
    assert_valid_product(path, hooks)
    root = simulated_root(tmp_path, "stereo", "A", 0)
    z = np.load(root / "truth" / "STA_TRUTH_20150101.npz")
    defects = json.loads((root / "truth" / "STA_DEFECTS_20150101.json").read_text())
    # the input is the public layout: STA_LB_IMPACT_..._V02.cdf with Epoch_MAG and MAGBField
    src = root / layout.beacon_dir("A") / "STA_LB_IMPACT_20150101_V02.cdf"
    raw = read_cdf(src)
    assert raw.variables["MAGBField"].shape == (8640, 3)
    d = read_cdf(path)
    assert d.global_attrs["Logical_source"] in ("STA_LB_MAG_RTN", ["STA_LB_MAG_RTN"])
    t = np.asarray(tt2000_from_cdf_epoch(d.variables["Epoch"]), dtype=np.int64)
    assert np.array_equal(t, z["t_10s"])  # 8640 interval-centred 10-s records
    b = d.variables["BFIELD"][:, :3].astype(np.float64)
    fill = (b < -1e30).any(axis=1)
    # every injected spike and every fill record is fill, the spikes flagged, nothing else
    spikes = np.searchsorted(t, defects["beacon_spikes"])
    gaps = np.searchsorted(t, defects["beacon_fill"])
    assert np.flatnonzero(fill).tolist() == sorted(spikes.tolist() + gaps.tolist())
    assert np.all(d.variables["MAGFLAGUC"][spikes] & F.SPIKE)
    # no second rotation: every good record is the input's RTN value itself, bit for bit
    assert np.array_equal(d.variables["BFIELD"][~fill, :3], raw.variables["MAGBField"][~fill])
    # and the truth (RTN 10-s means) within the 0.1 nT quantisation (0.029 nT RMS floor)
    err = b[~fill] - z["b_rtn_10s"][~fill]
    assert np.sqrt(np.mean(err**2, axis=0)).max() < 0.04
    assert np.abs(err).max() < 0.1
    # BTotal is the record's magnitude
    assert np.allclose(d.variables["BFIELD"][~fill, 3], np.linalg.norm(b[~fill], axis=1), atol=1e-3)
    # the run read the beacon file only: no SPICE kernel, no Counts table
    ledger = Ledger(tmp_path / ".magfw" / "ledger.sqlite")
    entry = ledger.last_ok("stereo/beacon/A/2015-01-01")
    assert entry is not None
    assert [i["role"] for i in entry.inputs] == ["data"]

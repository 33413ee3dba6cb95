"""The beacon chain (`magfw run stereo beacon`) on one simulated beacon-era day (2015-01-01)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from magfw.io.cdf import read_cdf
from magfw.simulation import simulated_root
from magfw.testing import assert_valid_product, make_hooks, run_cli
from magfw.time import tt2000_from_cdf_epoch
from magfw_stereo import flags as F
from magfw_stereo import plugin

pytestmark = pytest.mark.slow  # end to end on the simulator

def test_beacon_day_matches_the_truth(tmp_path):
    hooks = make_hooks(plugin, names=["stereo"])
    res = run_cli(["run", "stereo", "beacon", "2015-01-01", "--source", "simulated",
                   "--out", str(tmp_path)], hooks)
    assert res.exit_code == 0, res.stdout + res.stderr
    (path,) = tmp_path.glob("cdf/beacon/Afgy2015/STA_LB_MAG_RTN_20150101_V06.cdf")
    assert_valid_product(path, hooks)
    sim = simulated_root(tmp_path, "stereo", "A", 0) / "truth"
    z = np.load(sim / "STA_TRUTH_20150101.npz")
    defects = json.loads((sim / "STA_DEFECTS_20150101.json").read_text())
    d = read_cdf(path)
    t = np.asarray(tt2000_from_cdf_epoch(d.variables["Epoch"]), dtype=np.int64)
    assert np.array_equal(t, z["t_10s"])  # 8640 interval-centred 10-s records
    b = d.variables["BFIELD"][:, :3].astype(np.float64)
    fill = (b < -1e30).any(axis=1)
    # every injected spike is fill and flagged, nothing else
    spikes = np.searchsorted(t, defects["beacon_spikes"])
    assert np.flatnonzero(fill).tolist() == sorted(spikes.tolist())
    assert np.all(d.variables["MAGFLAGUC"][spikes] & F.SPIKE)
    # beacon values are quantised to 0.1 nT: 0.1/sqrt(12) = 0.029 nT RMS is the floor
    err = b[~fill] - z["b_rtn_10s"][~fill]
    assert np.sqrt(np.mean(err**2, axis=0)).max() < 0.04
    assert np.abs(err).max() < 0.1

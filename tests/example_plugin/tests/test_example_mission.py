"""The example plugin's own tests, written with magfw.testing as a mission author would."""

import numpy as np

from magfw.io.cdf import read_cdf
from magfw.testing import assert_valid_product
from magfw_example import plugin


def test_l1_matches_truth(magfw_hooks, magfw_run, tmp_path):
    hooks = magfw_hooks(plugin, names=["example"])
    summary = magfw_run(hooks, "example", "l1", "2024-03-01", out_dir=tmp_path / "out")
    assert summary.ok, [r.message for r in summary.results]
    (path,) = summary.results[0].outputs
    assert_valid_product(path, hooks)
    data = read_cdf(path)
    truth = np.load(next((tmp_path / "out").rglob("EX_TRUTH_20240301.npz")))
    # truth averaged into the same 10-s bins (centre stamps)
    bins = truth["b"].reshape(-1, 10, 3).mean(axis=1)
    b = data.variables["B"]
    assert b.shape == (8640, 3)
    # noise 0.02 nT per sample / sqrt(10) plus 0.005 nT quantisation: 0.02 nT is > 3 sigma
    assert np.sqrt(np.mean((b - bins) ** 2)) < 0.02
    # every injected spike was removed and flagged
    flagged = np.unique(truth["spikes"] // 10)
    assert np.all(data.variables["FLAG"][flagged] == 1)


def test_cli_run_and_check(magfw_hooks, magfw_cli, tmp_path):
    hooks = magfw_hooks(plugin, names=["example"])
    res = magfw_cli(["run", "example", "l1", "2024-03-02", "--source", "simulated",
                     "--out", str(tmp_path)], hooks)
    assert res.exit_code == 0, res.stderr
    (product,) = tmp_path.rglob("EX_L1_MAG_20240302_V00.cdf")
    assert magfw_cli(["check", str(product)], hooks).exit_code == 0

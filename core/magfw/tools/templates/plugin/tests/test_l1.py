"""The plugin's own tests, written with magfw.testing: steps on arrays, then end to end
against the simulator's truth (l1, and the monthly l2 made from it), then the command line."""

from datetime import date

import numpy as np
import pytest

from magfw.api import read_cdf, read_netcdf
from magfw.testing import assert_valid_product, simulated_archive
from magfw___mission__ import plugin
from magfw___mission__.l1 import BIN_S, Calibrated, bin_average, despike, flag_bins
from magfw___mission__.simulate import NOISE_NT, day_start

DAY = date(2024, 1, 1)


@pytest.fixture
def hooks(magfw_hooks):
    return magfw_hooks(plugin, names=["__mission__"])  # strict: a misspelt hook is an error


def test_despike_removes_a_spike_and_nothing_else():
    t = np.arange(100, dtype=np.int64)
    b = np.zeros((100, 3))
    b[40, 1] = 500.0
    out = despike(Calibrated(time=t, b=b))
    assert np.flatnonzero(out.spike).tolist() == [40]
    assert np.isnan(out.b[40]).all() and not np.isnan(np.delete(out.b, 40, axis=0)).any()


def test_bin_average_stamps_bin_centres_and_flags_empty_bins():
    t0 = day_start(DAY)
    t = t0 + np.arange(30, dtype=np.int64) * 1_000_000_000  # 30 s of 1 Hz samples
    b = np.tile(np.arange(30.0)[:, None], (1, 3))
    out = flag_bins(bin_average(despike(Calibrated(time=t, b=b)), t0))
    assert out.epoch[0] == t0 + 5_000_000_000
    assert out.b[0, 0] == pytest.approx(4.5) and out.b[2, 0] == pytest.approx(24.5)
    assert out.flag[:3].tolist() == [0, 0, 0] and out.flag[3] == 2


def test_l1_matches_truth(hooks, magfw_run):
    summary = magfw_run(hooks, "__mission__", "l1", DAY.isoformat())
    assert summary.ok, [r.message for r in summary.results]
    (path,) = summary.outputs
    assert_valid_product(path, hooks)
    data = read_cdf(path)
    truth = np.load(simulated_archive(summary) / "truth" / f"__MISSION___TRUTH_{DAY:%Y%m%d}.npz")
    bins = truth["b"].reshape(-1, BIN_S, 3).mean(axis=1)  # truth in the same 10-s bins
    b = data.variables["B"]
    assert b.shape == (86400 // BIN_S, 3)
    # noise per sample / sqrt(10) plus 0.005 nT quantisation: under 0.02 nT RMS (> 3 sigma)
    assert np.sqrt(np.nanmean((b - bins) ** 2)) < NOISE_NT
    flagged = np.unique(truth["spikes"] // BIN_S)  # every injected spike removed and flagged
    assert np.all(data.variables["FLAG"][flagged] == 1)
    assert "SIMULATED" in str(data.global_attrs["Data_source"])


def test_l2_is_the_month_of_l1_in_a_netcdf(hooks, magfw_run):
    summary = magfw_run(hooks, "__mission__", "l2", DAY.isoformat())  # makes the day's l1 first
    assert summary.ok, [r.message for r in summary.results]
    (l1,) = [p for p in summary.outputs if p.suffix == ".cdf"]
    (l2,) = [p for p in summary.outputs if p.suffix == ".nc"]
    assert_valid_product(l2, hooks)
    day, month = read_cdf(l1), read_netcdf(l2)
    # the time is a CF time in the file; magfw's reader gives TT2000 back
    assert month.variables["time"][0] == day_start(DAY) + 30 * 1_000_000_000
    assert month.variables["B"].shape == (31 * 1440, 3)
    assert np.allclose(month.variables["B"][0], day.variables["B"][:6].mean(axis=0), atol=1e-4)
    # l2 carries the calibration its l1 input was made with
    assert month.global_attrs["calibration_version"] == day.global_attrs["Calibration_version"]


def test_cli_run_and_check(hooks, magfw_cli, tmp_path):
    bad = magfw_cli(["run", "__mission__", "l1", "2024-01-02", "--spike-nt", "-1", "--out", str(tmp_path)], hooks)
    assert bad.exit_code == 2 and "--spike-nt: -1.0 is below the minimum 0.0" in bad.stderr  # nothing run
    res = magfw_cli(
        ["run", "__mission__", "l1", "2024-01-02", "--source", "simulated", "--out", str(tmp_path)], hooks
    )
    assert res.exit_code == 0, res.stderr
    (product,) = tmp_path.rglob("__MISSION___L1_MAG_20240102_V00.cdf")
    assert magfw_cli(["check", str(product)], hooks).exit_code == 0

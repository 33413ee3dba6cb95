"""The STEREO monthly hand-off as the seed runs it, end to end on the simulator: sources by
role, the seed's folders, the delivery zip (traditional PKWARE encryption by default, AES with
--aes), the notifications, and the L1 products opened where scientists open them (pySPEDAS,
cdflib/xarray).

One simulated STEREO-A stretch (2024-01-01..02: the 2nd is listed twice) is processed once per
module and shared (CI keeps to two days).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from magfw.io.cdf import read_cdf
from magfw.io.products import read_product
from magfw.simulation import simulated_root
from magfw.testing import make_hooks, run_cli, run_level
from magfw_stereo import layout, plugin

pytestmark = pytest.mark.slow  # end to end on the simulator

PERIOD = "2024-01-01..2024-01-02"
DAYS = ("20240101", "20240102")


@dataclass
class Month:
    out: Path
    archive: Path


@pytest.fixture(scope="module")
def hooks():
    return make_hooks(plugin, names=["stereo"])


@pytest.fixture(scope="module")
def month(hooks, tmp_path_factory) -> Month:
    """L1 of STEREO-A 2024-01-01..02 from the single-root simulated archive."""
    out = tmp_path_factory.mktemp("handoff") / "out"
    summary = run_level(hooks, "stereo", "l1", PERIOD, out, spacecraft="A")
    assert summary.ok, [r.message for r in summary.results]
    return Month(out, simulated_root(out, "stereo", "A", 0))


def l1_products(out: Path) -> dict[str, Path]:
    """Every L1 product file (CDF and flat-file header) by name."""
    return {p.name: p for p in out.rglob("*") if p.suffix in (".cdf", ".ffh")
            and ".magfw" not in p.parts and "_L1_" in p.name}


def test_separate_berkeley_spice_offsets_sources_equal_the_single_root_run(month, hooks,
                                                                           tmp_path):
    # the three parts of the archive on three "hosts" (folders), each at its own root
    berkeley, spice, offsets = tmp_path / "berkeley", tmp_path / "spice", tmp_path / "offsets"
    shutil.copytree(month.archive / "impact", berkeley / "impact")
    shutil.copytree(month.archive / layout.SPICE_ROOT, spice)
    shutil.copytree(month.archive / layout.OFFSETS_DIR, offsets)
    out = tmp_path / "out"
    res = run_cli(["run", "stereo", "l1", PERIOD, "--source", f"berkeley={berkeley}",
                   "--source", f"spice={spice}", "--source", f"offsets={offsets}",
                   "--out", str(out)], hooks)
    assert res.exit_code == 0, res.stdout + res.stderr
    single, split = l1_products(month.out), l1_products(out)
    assert sorted(single) == sorted(split) and len(single) >= 2 * 4
    for name, path in single.items():
        a, b = read_product(path), read_product(split[name])
        assert sorted(a.variables) == sorted(b.variables), name
        for var in a.variables:
            assert np.array_equal(a.variables[var], b.variables[var]), (name, var)
    # the kernels were read from the spice source, the data from the berkeley one
    kernels = read_cdf(split["STA_L1_MAG_RTN_20240101_V06.cdf"]).global_attrs["SPICE_kernels"]
    assert "stereo_rtn.tf" in str(kernels)
    log = (out / ".magfw" / "logs" / "magfw.log").read_text()
    assert "Traceback" not in log

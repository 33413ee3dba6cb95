"""Aditya-L1 inputs damaged as people have seen them: each fails its unit with one line naming
the file and the problem; an analysis with nothing to analyse says so and exits 1.

Seen before: a garbage calibration operations record (``ops/AL1_MAG_CALIBRATION_OPS_V00.yaml``)
was a UnicodeDecodeError inside a hook; an L0 ``.hk`` member 7 bytes short (the docs: an error)
silently dropped the file's housekeeping and flagged 12 h, with a warning only in the log;
``aditya calibrate rotations`` without an operations record exited 0 ("skipped").

One simulated day (2024-08-01, no manoeuvre) and its L1, made once per module; each test works
on copies.
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

import magfw_aditya.plugin as aditya_plugin
from magfw.testing import make_hooks, run_cli, run_level
from magfw_aditya import simulate as sim

pytestmark = pytest.mark.slow
DAY = "2024-08-01"


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> tuple[Path, Path]:
    """(archive, output tree with the day's L1) of a simulated day."""
    base = tmp_path_factory.mktemp("aditya-faults")
    archive, out = base / "archive", base / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(base)
        hooks = make_hooks(aditya_plugin)
        assert run_cli(["simulate", "aditya", DAY, "--out", str(archive)], hooks).exit_code == 0
        summary = run_level(hooks, "aditya", "l1", DAY, out, source=str(archive))
    assert summary.ok, [r.message for r in summary.results]
    assert not (archive / "ops").exists()  # no manoeuvre on the day
    return archive, out


def copies(day: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    archive, out = tmp_path / "archive", tmp_path / "out"
    shutil.copytree(day[0], archive)
    shutil.copytree(day[1], out)
    return archive, out


def failure_lines(stderr: str, level: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith(f"magfw: aditya {level} ")]


def test_a_truncated_housekeeping_member_fails_the_day(day, tmp_path):
    archive, _ = copies(day, tmp_path)
    tar_path = sorted((archive / "l0").rglob("*.tar"))[0]
    with tarfile.open(tar_path) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    hk = next(k for k in members if k.endswith(".hk"))
    members[hk] = members[hk][:-7]
    tar_path.unlink()
    tar_path.write_bytes(sim._tar(members))
    out = tmp_path / "fresh"
    res = run_cli(
        ["run", "aditya", "l1", DAY, "--source", str(archive), "--out", str(out)], make_hooks(aditya_plugin)
    )
    assert res.exit_code == 1, res.stdout + res.stderr
    lines = failure_lines(res.stderr, "l1")
    assert len(lines) == 1, res.stderr
    assert f"{tar_path}[{hk}]: truncated: " in lines[0] and "22-byte housekeeping packets" in lines[0], lines[
        0
    ]
    assert not list(out.glob("L1_*"))  # nothing of the tar is made


def test_a_garbage_operations_record_fails_with_one_line(day, tmp_path):
    archive, out = copies(day, tmp_path)
    ops = archive / "ops" / "AL1_MAG_CALIBRATION_OPS_V00.yaml"
    ops.parent.mkdir()
    ops.write_bytes(np.random.default_rng(7).integers(0, 256, 4096, np.uint8).tobytes())
    args = ["aditya", "calibrate", "rotations", DAY, "--source", str(archive), "--out", str(out)]
    res = run_cli(args, make_hooks(aditya_plugin))
    assert res.exit_code == 1, res.stdout + res.stderr
    (line,) = failure_lines(res.stderr, "calibrate")
    assert line.startswith(
        f"magfw: aditya calibrate {DAY}: {ops}: not a readable calibration operations record: "
    )
    assert "not UTF-8 text (byte 0x" in line and "internal error" not in res.stderr, line


def test_calibrate_rotations_without_an_operations_record_says_so_and_exits_1(day, tmp_path):
    archive, out = copies(day, tmp_path)
    args = ["aditya", "calibrate", "rotations", DAY, "--source", str(archive), "--out", str(out)]
    res = run_cli(args, make_hooks(aditya_plugin))
    assert res.exit_code == 1, res.stdout + res.stderr
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("magfw: error: ")]
    assert errors == [
        f"magfw: error: aditya calibrate {DAY}: nothing to analyse: no calibration operations record "
        f"ops/AL1_MAG_CALIBRATION_OPS_Vnn.yaml in {archive}"
    ], res.stderr

"""Usage mistakes exit 2 before anything is written, faults exit 1 with one line naming the file
and the problem.

Seen before: ``magfw new-plugin --dir`` a file an internal error; ``magfw new-plugin stereo``
a second plugin with an installed mission's id; the plugin folder made 0700; ``magfw run
stereo|plastic package`` with an empty ``MAGFW_ZIP_PASSWORD`` exit 1 after the levels it needs
had run (``magfw stereo package`` exited 2); ``aditya monitor`` / ``compare`` with nothing to
analyse exit 0 ("skipped"); a full disk under a flat file "691200 requested and 9045 written
writing ...". An unencrypted delivery zip is in test_faults_plastic.py (it needs a merged
year), the Aditya records in test_aditya_faults.py.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from magfw.errors import os_error
from magfw.testing import run_cli


def _tree(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# ----------------------------------------------------------------------------- new-plugin


def test_new_plugin_into_a_file_is_a_usage_error(tmp_path):
    (tmp_path / "afile").write_text("x")
    res = run_cli(["new-plugin", "acme", "--dir", str(tmp_path / "afile")])
    assert res.exit_code == 2, res.stderr
    assert res.stderr == f"magfw: error: {tmp_path / 'afile'}: is a file, not a folder: give --dir a folder\n"
    res = run_cli(["new-plugin", "acme", "--dir", str(tmp_path / "afile" / "below")])
    assert res.exit_code == 2 and "is a file, not a folder" in res.stderr
    assert _tree(tmp_path) == ["afile", "magfw-test.log"] or _tree(tmp_path) == ["afile"]


@pytest.mark.parametrize("mission", ["stereo", "aditya", "plastic"])
def test_new_plugin_refuses_an_installed_mission_id(mission, tmp_path):
    res = run_cli(["new-plugin", mission, "--dir", str(tmp_path / "p")])
    assert res.exit_code == 2
    assert res.stderr == f"magfw: error: {mission!r} is the id of an installed mission: choose another name\n"
    assert not (tmp_path / "p").exists()


def test_new_plugin_folders_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        res = run_cli(["new-plugin", "acme", "--dir", str(tmp_path / "p")])
    finally:
        os.umask(old)
    assert res.exit_code == 0, res.stderr
    modes = {
        p.relative_to(tmp_path).as_posix(): stat.S_IMODE(p.stat().st_mode)
        for p in (tmp_path / "p").rglob("*")
        if p.is_dir()
    }
    assert modes and set(modes.values()) == {0o755}, modes


# --------------------------------------------------------------------------- delivery zips


@pytest.mark.parametrize(
    "args",
    [
        ["run", "stereo", "package", "2024-01", "--source", "simulated"],
        ["run", "plastic", "package", "2024", "--source", "simulated", "--spacecraft", "A"],
        ["stereo", "package", "2024-01", "--source", "simulated"],
    ],
    ids=["run stereo package", "run plastic package", "stereo package"],
)
def test_an_empty_zip_password_is_a_usage_error_before_anything(args, tmp_path, monkeypatch):
    """The package levels' preflight runs when the run is planned: before the levels they need
    (l1, merge; daily, monthly, l2) write anything."""
    monkeypatch.setenv("MAGFW_ZIP_PASSWORD", "")
    out = tmp_path / "out"
    res = run_cli([*args, "--out", str(out)])
    assert res.exit_code == 2, res.stdout + res.stderr
    assert res.stderr == (
        "magfw: error: MAGFW_ZIP_PASSWORD is set but empty: unset it for a plain zip, or give the "
        "delivery password\n"
    )
    assert not out.exists()


def test_a_password_zip_cannot_take_is_refused_before_anything(tmp_path, monkeypatch):
    monkeypatch.setenv("MAGFW_ZIP_PASSWORD", "x" * 80)  # more than Info-ZIP reads
    res = run_cli(
        ["run", "stereo", "package", "2024-01", "--source", "simulated", "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2 and "longer than 79 bytes" in res.stderr
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------------ analysis commands


def test_aditya_monitor_with_nothing_to_analyse_says_so_and_exits_1(tmp_path):
    res = run_cli(["aditya", "monitor", "2024-08", "--out", str(tmp_path / "out")])
    assert res.exit_code == 1, res.stdout + res.stderr
    (line,) = res.stderr.splitlines()
    assert (
        line
        == "magfw: error: aditya monitor 2024-08: nothing to analyse: no L1 of 2024-08 in the output tree"
    )


def test_aditya_compare_with_nothing_to_analyse_says_so_and_exits_1(tmp_path):
    (tmp_path / "upstream").mkdir()
    res = run_cli(
        [
            "aditya",
            "compare",
            "2024-07..2024-08",
            "--out",
            str(tmp_path / "out"),
            "--source",
            str(tmp_path / "upstream"),
        ]
    )
    assert res.exit_code == 1, res.stdout + res.stderr
    (line,) = res.stderr.splitlines()
    assert line == (
        "magfw: error: aditya compare 2024-07..2024-08: nothing to analyse: no Aditya L2 of 2024-07 in the "
        "output tree (1 more units skipped alike)"
    )


# ------------------------------------------------------------------------------ disk full


def test_a_full_disk_under_a_flat_file_is_no_space_left_on_device(tmp_path):
    """The data file of a flat-file pair written to a full device (``/dev/full``): the error
    is ENOSPC, said as "no space left on device writing FILE" (numpy's ``tofile`` said "N
    requested and M written", without the reason)."""
    from magfw.io.flatfile_write import _write_ffd

    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    target = tmp_path / "STA_L1_MAG_RTN_20240101.ffd"
    target.symlink_to("/dev/full")
    records = np.zeros(86_400, dtype=[("t", ">f8"), ("b", ">f4", (4,))])
    with pytest.raises(OSError) as info:
        _write_ffd(target, records)
    assert info.value.errno == errno.ENOSPC
    assert str(os_error(info.value, target)) == f"no space left on device writing {target}"

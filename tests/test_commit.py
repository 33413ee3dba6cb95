"""A unit's files are committed whole or not at all: killed at every point of a commit, the
tree holds either the unit's previous files or its new ones, and a rerun completes it.

The unit makes three files: one overwritten in place (fixed version) and two with a new name
per version (increment); its previous version is committed first, then a changed input makes
a new version, whose commit is killed (SIGKILL, in a child process) at each point in turn.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from magfw.engine.commit import FAULT_ENV
from magfw.engine.ledger import Ledger

ROOT = Path(__file__).resolve().parents[1]
POINTS = ["journalled", "backed_up", "placed:1", "placed:2", "placed:3", "recorded", "cleaned"]

SCRIPT = """
import sys; sys.path.insert(0, {tests!r})
from commitplugin import Commit
from magfw.testing import make_hooks, run_level
s = run_level(make_hooks(Commit(), names=["commit"]), "commit", "l1", "2024-01-01", {out!r},
              source={src!r})
print(s.count("ok"), s.count("skipped"), s.count("failed"))
"""


def _run(out: Path, src: Path, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGFW_")}
    if fault:
        env[FAULT_ENV] = fault
    code = SCRIPT.format(tests=str(ROOT / "tests"), out=str(out), src=str(src))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def _tree(out: Path, hidden: bool = False) -> dict[str, bytes]:
    """The product files (``hidden``: also the commit's backups beside them)."""
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in out.rglob("*")
        if p.is_file() and ".magfw" not in p.parts and (hidden or not p.name.startswith(".magfw-"))
    }


def _state_files(out: Path) -> list[str]:
    """Anything a commit leaves behind in the state folder (staging, backups)."""
    staging = out / ".magfw" / "staging"
    return (
        sorted(p.relative_to(out).as_posix() for p in staging.rglob("*") if p.is_file())
        if staging.exists()
        else []
    )


@pytest.fixture(scope="module")
def states(tmp_path_factory) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The tree after the first version, and after the second (no fault)."""
    tmp = tmp_path_factory.mktemp("ref")
    src = tmp / "src"
    src.mkdir()
    (src / "2024-01-01.txt").write_text("1")
    out = tmp / "out"
    assert _run(out, src).stdout.split() == ["1", "0", "0"]
    before = _tree(out)
    (src / "2024-01-01.txt").write_text("2")
    assert _run(out, src).stdout.split() == ["1", "0", "0"]
    return before, _tree(out)


@pytest.mark.slow
def test_reference_versions(states):
    before, after = states
    assert set(before) == {"fixed/F_20240101_V01.txt", "inc/I_20240101_V00.txt", "inc/J_20240101_V00.txt"}
    # the fixed file is replaced; the increment files gain a V01 beside their V00
    assert after["fixed/F_20240101_V01.txt"] == b"2 v1\n"
    assert after["inc/I_20240101_V01.txt"] == b"2 v1\n"
    assert after["inc/I_20240101_V00.txt"] == before["inc/I_20240101_V00.txt"]


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
def test_killed_at_every_commit_point(point, states, tmp_path):
    before, after = states
    src = tmp_path / "src"
    src.mkdir()
    (src / "2024-01-01.txt").write_text("1")
    out = tmp_path / "out"
    assert _run(out, src).returncode == 0
    assert _tree(out) == before
    (src / "2024-01-01.txt").write_text("2")
    killed = _run(out, src, fault=point)
    assert killed.returncode == -9, killed.stderr  # SIGKILL at that point
    tree = _tree(out)
    if point in ("recorded", "cleaned"):  # past the commit point: the new version is in place
        assert tree == after
    else:  # before it: files may be half moved until the next start recovers them
        assert set(tree) <= set(before) | set(after)
    # the next run recovers (rolls back or forward), then does or skips the unit
    rerun = _run(out, src)
    assert rerun.returncode == 0, rerun.stderr
    ok, skipped, failed = map(int, rerun.stdout.split())
    assert failed == 0 and ok + skipped == 1
    assert skipped == (1 if point in ("recorded", "cleaned") else 0)
    assert _tree(out, hidden=True) == after  # byte-identical, no backup left beside them
    assert _state_files(out) == [] or all(p.endswith("/.owner") for p in _state_files(out))
    assert Ledger(out / ".magfw" / "ledger.sqlite").commits() == []


@pytest.mark.slow
def test_recovery_after_a_kill_before_the_commit_point_restores_the_old_files(states, tmp_path):
    """Between the journal and the commit point a kill leaves the old version restorable: the
    recovery alone (a run of another day) puts it back, byte for byte."""
    before, _ = states
    src = tmp_path / "src"
    src.mkdir()
    (src / "2024-01-01.txt").write_text("1")
    out = tmp_path / "out"
    assert _run(out, src).returncode == 0
    (src / "2024-01-01.txt").write_text("2")
    assert _run(out, src, fault="placed:2").returncode == -9
    from commitplugin import Commit

    from magfw.testing import make_hooks, run_level

    (src / "2024-01-02.txt").write_text("5")
    s = run_level(make_hooks(Commit(), names=["commit"]), "commit", "l1", "2024-01-02", out, source=str(src))
    assert s.ok and any("rolled back" in w for w in s.warnings)
    tree = {k: v for k, v in _tree(out).items() if "20240102" not in k}
    assert tree == before

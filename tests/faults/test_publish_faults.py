"""``magfw publish`` in hostile places: each unit's files go into the target together or not at
all, a product that is not what the ledger recorded is refused, every failure is one line.

Seen before: on a full disk, a regenerated day's new ``.ffh`` beside the old ``.ffd`` under the
same names, or a ``.ffh`` with no ``.ffd``, and "internal error: OSError: ... No space left on
device"; ``--to`` a file an internal error; a product overwritten outside the runner shipped
(publish compared modification times only).

The pairs come from :mod:`pairplugin` (a day's ``PAIR_*.ffh`` + ``PAIR_*.ffd``, replaced in
place when the day is regenerated). The full disk is a small tmpfs mounted on the target, the
read-only target a read-only bind mount, both in a private mount namespace (skipped where
``unshare`` cannot make one), as in :mod:`test_faults`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pairplugin
import pytest
from test_faults import leftovers, needs_namespace

from magfw.testing import make_hooks, run_cli

ROOT = Path(__file__).resolve().parents[2]
DAYS = "2024-01-01..2024-01-04"
NAMES = [f"flat/2024/PAIR_202401{d:02d}" for d in range(1, 5)]


def hooks():
    return make_hooks(pairplugin, names=["pair"])


def make_tree(out: Path, seed: int, kib: int) -> dict[str, tuple[bytes, bytes]]:
    """Run the pairs' four days into ``out``; the pairs made, by name."""
    args = ["run", "pair", "l1", DAYS, "--source", "simulated", "--seed", str(seed), "--out", str(out)]
    res = run_cli([*args, "--kib", str(kib), "--workers", "1"], hooks())
    assert res.exit_code == 0, res.stdout + res.stderr
    return {n: ((out / f"{n}.ffh").read_bytes(), (out / f"{n}.ffd").read_bytes()) for n in NAMES}


def publish_args(out: Path, web: Path) -> list[str]:
    return ["publish", "pair", "l1", DAYS, "--format", "bytes", "--out", str(out), "--to", str(web)]


@pytest.fixture(scope="module")
def trees(tmp_path_factory) -> tuple[Path, dict, Path, dict]:
    """The old pairs (seed 0, 64 KiB) and the new ones of the same days (seed 1, 96 KiB), each
    in its own output tree."""
    base = tmp_path_factory.mktemp("pairs")
    old = make_tree(base / "old", 0, 64)
    new = make_tree(base / "new", 1, 96)
    assert all(old[n] != new[n] for n in NAMES)
    return base / "old", old, base / "new", new


def state(web: Path, old: dict, new: dict) -> list[str]:
    """Each day's pair in the target: ``old``, ``new``, ``absent`` or ``MIXED``."""
    found = []
    for n in NAMES:
        ffh, ffd = web / f"{n}.ffh", web / f"{n}.ffd"
        if not ffh.exists() and not ffd.exists():
            found.append("absent")
            continue
        pair = (ffh.read_bytes() if ffh.exists() else b"", ffd.read_bytes() if ffd.exists() else b"")
        found.append("old" if pair == old[n] else "new" if pair == new[n] else "MIXED")
    return found


# ---------------------------------------------------------------------------------------------
# A full disk and a read-only target (in a private mount namespace)
# ---------------------------------------------------------------------------------------------

SCRIPT = r"""
import json, os, subprocess, sys
sys.path[:0] = [{tests!r}, {faults!r}]
import pairplugin
from magfw.testing import make_hooks, run_cli
hooks = make_hooks(pairplugin, names=["pair"])
out = []
for size_kib, web, first in {runs!r}:
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={{size_kib}}k", "tmpfs", web], check=True)
    steps = []
    for tree in ([first] if first else []) + [{new!r}]:
        res = run_cli(["publish", "pair", "l1", {days!r}, "--format", "bytes", "--out", tree,
                       "--to", web], hooks)
        steps.append({{"code": res.exit_code, "stdout": res.stdout, "stderr": res.stderr}})
    files = {{}}
    for root, _, names in os.walk(web):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as fh:
                files[os.path.relpath(path, web)] = fh.read().hex()
    out.append({{"size_kib": size_kib, "steps": steps, "files": files}})
print(json.dumps(out))
"""


def _in_namespace(script: str, tmp_path: Path, setup: str = "true") -> list | dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGFW_")}
    env["MAGFW_LOG"] = str(tmp_path / "ns.log")
    cmd = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", f'{setup} && exec "$@"', "sh"]
    proc = subprocess.run(
        [*cmd, sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _state_of(files: dict[str, str], old: dict, new: dict) -> list[str]:
    found = []
    for n in NAMES:
        ffh, ffd = files.get(f"{n}.ffh"), files.get(f"{n}.ffd")
        if ffh is None and ffd is None:
            found.append("absent")
            continue
        pair = (bytes.fromhex(ffh or ""), bytes.fromhex(ffd or ""))
        found.append("old" if pair == old[n] else "new" if pair == new[n] else "MIXED")
    return found


@pytest.mark.slow  # over half a second: the whole suite runs it
@needs_namespace
def test_a_full_disk_leaves_every_pair_old_or_new(trees, tmp_path):
    """Published the old pairs onto a small tmpfs, then the regenerated ones: whatever the size
    (the disk fills at a different file each time), every day's pair in the target is the old
    one or the new one, the failure is one line saying no space is left, and no temporary is
    left. On a fresh full disk: whole new pairs or none."""
    old_tree, old, new_tree, new = trees
    sizes = [300 + 12 * k for k in range(0, 30, 3)]  # KiB: the old pairs (4 x 68 KiB) fit
    runs = []
    for size in sizes:
        web = tmp_path / f"web{size}"
        web.mkdir()
        runs.append((size, str(web), str(old_tree)))
    for size in (40, 120, 250):  # a fresh disk that holds no, one or two new pairs
        web = tmp_path / f"fresh{size}"
        web.mkdir()
        runs.append((size, str(web), ""))
    script = SCRIPT.format(
        tests=str(ROOT / "tests"),
        faults=str(ROOT / "tests" / "faults"),
        runs=runs,
        new=str(new_tree),
        days=DAYS,
    )
    results = _in_namespace(script, tmp_path)
    failed_at = set()
    for r in results:
        final = _state_of(r["files"], old, new)
        assert "MIXED" not in final, (r["size_kib"], final)
        assert not [f for f in r["files"] if ".magfw-tmp" in f], r["files"].keys()
        last = r["steps"][-1]
        if len(r["steps"]) == 2:
            assert r["steps"][0]["code"] == 0, r["steps"][0]
            assert "absent" not in final  # the old pairs stay where the new did not fit
        if last["code"] == 0:
            assert final == ["new"] * 4
            continue
        assert last["code"] == 1, last
        (line,) = last["stderr"].splitlines()
        assert line.startswith("magfw: error: no space left on device publishing to "), line
        assert "left as it was" in line and "internal error" not in line, line
        failed_at.add(final.count("new"))
    assert len(failed_at) >= 3, failed_at  # the disk filled at several places


@needs_namespace
def test_a_read_only_target_is_one_line_and_left_as_it_was(trees, tmp_path):
    old_tree, old, new_tree, new = trees
    web = tmp_path / "web"
    assert run_cli(publish_args(old_tree, web), hooks()).exit_code == 0
    script = (
        f"import sys, json; sys.path[:0] = [{str(ROOT / 'tests')!r}, {str(ROOT / 'tests' / 'faults')!r}]\n"
        "import pairplugin\nfrom magfw.testing import make_hooks, run_cli\n"
        f"res = run_cli({publish_args(new_tree, web)!r}, make_hooks(pairplugin, names=['pair']))\n"
        "print(json.dumps({'code': res.exit_code, 'stderr': res.stderr}))\n"
    )
    flat = web / "flat" / "2024"
    result = _in_namespace(
        script, tmp_path, setup=f"mount --bind {flat} {flat} && mount -o remount,bind,ro {flat}"
    )
    assert result["code"] == 1
    (line,) = result["stderr"].splitlines()
    assert line.startswith("magfw: error: read-only file system publishing to ") and "PAIR_2024010" in line
    assert state(web, old, new) == ["old"] * 4 and leftovers(web) == []


# ---------------------------------------------------------------------------------------------
# Without a namespace
# ---------------------------------------------------------------------------------------------


def test_a_target_that_is_a_file_is_a_usage_error(trees, tmp_path):
    old_tree = trees[0]
    target = tmp_path / "web"
    target.write_text("not a folder")
    res = run_cli(publish_args(old_tree, target), hooks())
    assert res.exit_code == 2 and res.stderr == f"magfw: error: {target}: --to is a file, not a folder\n"
    res = run_cli(publish_args(old_tree, target / "sub"), hooks())
    assert res.exit_code == 2 and "is a file, not a folder" in res.stderr
    assert target.read_text() == "not a folder"


def test_a_file_in_the_way_inside_the_target_is_one_line(trees, tmp_path):
    old_tree = trees[0]
    web = tmp_path / "web"
    (web / "flat").mkdir(parents=True)
    (web / "flat" / "2024").write_text("in the way")
    res = run_cli(publish_args(old_tree, web), hooks())
    assert res.exit_code == 1 and "internal error" not in res.stderr
    assert (
        res.stderr
        == f"magfw: error: {web / 'flat' / '2024'}: is a file, not a folder: nothing can be put under it\n"
    )


@pytest.mark.parametrize("how", ["same size", "other size"])
def test_a_product_changed_outside_the_runner_is_refused_with_one_line(trees, tmp_path, how):
    """Issue 18: a product whose bytes differ from the ledger's record is not shipped; its unit
    is left as it is in the target (the other units go); exit 1."""
    old_tree, old, _, new = trees
    out = tmp_path / "out"
    shutil.copytree(old_tree, out)
    web = tmp_path / "web"
    assert run_cli(publish_args(out, web), hooks()).exit_code == 0
    ffd = out / f"{NAMES[1]}.ffd"
    data = ffd.read_bytes()
    changed = data[:-1] + bytes([data[-1] ^ 1]) if how == "same size" else data + b"x"
    ffd.unlink()
    ffd.write_bytes(changed)  # newer than the copy: publish wants to copy it
    (out / f"{NAMES[2]}.ffh").touch()  # only touched: the same bytes, copied again
    res = run_cli(publish_args(out, web), hooks())
    assert res.exit_code == 1
    (line,) = res.stderr.splitlines()
    assert line.startswith(f"magfw: error: {ffd}: ") and "ledger" in line and "2024-01-02" in line, line
    assert "copied 1 files" in res.stdout
    assert state(web, old, new) == ["old"] * 4 and (web / f"{NAMES[1]}.ffd").read_bytes() == old[NAMES[1]][1]
    assert leftovers(web) == []


def test_publish_removes_what_a_killed_publish_left(trees, tmp_path):
    old_tree = trees[0]
    web = tmp_path / "web"
    stale = web / "flat" / "2024" / ".magfw-tmp-999999999-dead.ffd"  # no such process
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"half a copy")
    assert run_cli(publish_args(old_tree, web), hooks()).exit_code == 0
    assert not stale.exists() and leftovers(web) == []


def test_a_rename_that_fails_puts_the_earlier_files_back(trees, tmp_path, monkeypatch):
    """The renames are the last step and take microseconds; should one fail, the files already
    renamed get their previous content back."""
    from magfw.handoff import install

    old_tree, old, new_tree, new = trees
    web = tmp_path / "web"
    assert run_cli(publish_args(old_tree, web), hooks()).exit_code == 0
    real = os.replace
    calls = {"n": 0}

    def flaky(src, dst):
        if ".magfw-tmp" in str(src) and ".old" not in str(src):
            calls["n"] += 1
            if calls["n"] == 2:  # the second file of the first unit
                raise OSError(5, "Input/output error")
        return real(src, dst)

    monkeypatch.setattr(install.os, "replace", flaky)
    res = run_cli(publish_args(new_tree, web), hooks())
    assert res.exit_code == 1 and "input/output error publishing to" in res.stderr
    assert state(web, old, new) == ["old"] * 4 and leftovers(web) == []

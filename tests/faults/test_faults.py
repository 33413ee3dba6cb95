"""The fault corpus, run: every damaged input or hostile environment fails exactly the units it
touches, with one line naming the file and the problem; earlier products stay byte-identical;
no partial product, staging folder or temporary is left; after the repair a rerun succeeds.

Inputs: ``corpus.STEREO_CASES`` on a two-day STEREO-A archive (processed once per session, then
copied for each case). Environments: a file-size limit, a full disk and a read-only product
folder (the last two in a private mount namespace, skipped where ``unshare`` cannot make one).
Elsewhere: ``magfw.toml`` mistakes in ``test_config.py``, publishing in
``test_publish_faults.py``, dribbling servers in ``test_fetch_faults.py``, usage mistakes and
analysis commands in ``test_usage_faults.py``, Aditya records in ``test_aditya_faults.py``,
PLASTIC in ``test_faults_plastic.py``, deliveries through rclone in
``test_delivery_faults.py`` (all in this folder); more usage problems and network
faults in ``tests/test_cli.py`` and ``tests/test_fetch.py``; an interrupted commit in
``tests/test_commit.py``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from corpus import STEREO_CASES, Case

from magfw.engine.ledger import Ledger
from magfw.testing import make_hooks, run_cli, run_level
from magfw_stereo import plugin as stereo

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2024-01-01..2024-01-02"
ARCHIVE = ".magfw/simulated/stereo/A/seed0"


def products(out: Path, remade: tuple[str, ...] = ()) -> dict[str, bytes]:
    """Every product file's bytes, leaving out those of the ``remade`` units (YYYY-MM-DD)."""
    skip = tuple(u.replace("-", "") for u in remade)
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in out.rglob("*")
        if p.is_file() and ".magfw" not in p.parts and not any(k in p.name for k in skip)
    }


def leftovers(out: Path) -> list[str]:
    """Temporaries, staging folders or journal rows a failed run must not leave."""
    found = [
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.name.startswith((".magfw-tmp", ".magfw-old"))
    ]
    staging = out / ".magfw" / "staging"
    if staging.exists():
        found += [p.relative_to(out).as_posix() for p in staging.iterdir()]
    ledger = out / ".magfw" / "ledger.sqlite"
    if ledger.exists():
        found += [c.id for c in Ledger(ledger).commits()]
    return found


@pytest.fixture(scope="session")
def intact(tmp_path_factory) -> Path:
    """An output tree with STEREO-A L1 of two days, and the simulated archive inside it."""
    out = tmp_path_factory.mktemp("faults") / "out"
    summary = run_level(make_hooks(stereo, names=["stereo"]), "stereo", "l1", PERIOD, out, spacecraft="A")
    assert summary.ok, [r.message for r in summary.results]
    return out


def fresh(intact: Path, tmp_path: Path) -> tuple[Path, Path]:
    out = tmp_path / "out"
    shutil.copytree(intact, out, symlinks=True)
    return out, out / ARCHIVE


def _failure_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("magfw: stereo l1")]


@pytest.mark.parametrize("case", STEREO_CASES, ids=[c.id for c in STEREO_CASES])
def test_a_damaged_input_fails_only_its_units(case: Case, intact, tmp_path):
    out, archive = fresh(intact, tmp_path)
    before = products(out, case.remade)
    case.damage(archive)
    hooks = make_hooks(stereo, names=["stereo"])
    args = ["run", "stereo", "l1", PERIOD, "--source", str(archive), "--out", str(out), "--workers", "1"]
    res = run_cli(args, hooks)
    assert res.exit_code == 1, res.stdout + res.stderr
    lines = _failure_lines(res.stderr)
    assert len(lines) == len(case.failed), res.stderr
    for line, unit in zip(lines, case.failed, strict=True):
        assert f"ST{'A'} {unit}:" in line and re.search(case.line, line), line
        assert "Traceback" not in res.stderr and "internal error" not in line
    assert products(out, case.remade) == before  # earlier products byte-identical
    assert leftovers(out) == []
    for unit in case.remade:  # completed with the damaged neighbour left out of its inputs
        assert f"ST{'A'} {unit}:" not in res.stderr and list(out.rglob(f"*{unit.replace('-', '')}*_V06.cdf"))
    assert case.repair is not None
    case.repair(archive, intact / ARCHIVE)
    res = run_cli(args, hooks)
    assert res.exit_code == 0, res.stdout + res.stderr
    assert products(out, case.remade) == before  # the repaired inputs are the intact ones: unchanged


# ---------------------------------------------------------------------------------------------
# Hostile environments
# ---------------------------------------------------------------------------------------------

ENV_SCRIPT = r"""
import json, os, resource, signal, sys
sys.path.insert(0, {tests!r})
mode, out, archive = {mode!r}, {out!r}, {archive!r}
if mode == "fsize":
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (4_000_000, 4_000_000))
from magfw.testing import run_cli
res = run_cli(["run", "stereo", "l1", "2024-01-01", "--source", archive, "--out", out,
               "--workers", "1", "--force"])
print(json.dumps({{"code": res.exit_code, "stderr": res.stderr}}))
"""


def _run_env(mode: str, out: Path, archive: Path, wrap: list[str] | None = None, setup: str = "") -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGFW_")}
    env["MAGFW_LOG"] = str(out.parent / "default.log")
    code = ENV_SCRIPT.format(tests=str(ROOT / "tests"), mode=mode, out=str(out), archive=str(archive))
    cmd = [sys.executable, "-c", code]
    if wrap:
        cmd = [*wrap, "sh", "-c", f'{setup} && exec "$@"', "sh", *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _namespace_available() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True)
    return probe.returncode == 0


def _one_line(result: dict, pattern: str) -> None:
    lines = _failure_lines(result["stderr"])
    assert len(lines) == 1 and re.search(pattern, lines[0]), result["stderr"]
    assert "Traceback" not in result["stderr"] and "Logging error" not in result["stderr"]


def test_a_file_size_limit_fails_the_unit_with_one_line(intact, tmp_path):
    out, archive = fresh(intact, tmp_path)
    before = products(out)
    result = _run_env("fsize", out, archive)
    assert result["code"] == 1
    _one_line(result, r"file too large \(file-size limit\) writing .*STA_L1_MAG_\w+\.cdf")
    assert products(out) == before and leftovers(out) == []


needs_namespace = pytest.mark.skipif(
    not _namespace_available(), reason="unshare cannot make a user+mount namespace here"
)


@needs_namespace
def test_a_full_disk_fails_the_unit_with_one_line_and_keeps_the_earlier_products(intact, tmp_path):
    """The output tree on a small tmpfs (its products fit, a new version does not)."""
    out, archive = fresh(intact, tmp_path)
    shutil.move(str(archive), str(tmp_path / "archive"))
    archive = tmp_path / "archive"
    (out / ".magfw" / "logs").mkdir(parents=True, exist_ok=True)
    before = products(out)
    size_mb = sum(len(b) for b in before.values()) // 1_000_000 + 12
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    setup = f"mount -t tmpfs -o size={size_mb}m tmpfs {mnt} && cp -a {out} {mnt}/out"
    result = _run_env(
        "full", mnt / "out", archive, wrap=["unshare", "--user", "--map-root-user", "--mount"], setup=setup
    )
    assert result["code"] == 1
    _one_line(result, r"no space left on device (writing|committing) ")


@needs_namespace
def test_a_read_only_folder_rolls_the_commit_back(intact, tmp_path):
    """A product folder mounted read-only: the commit moves some files, fails on that folder,
    and rolls back: the earlier version stays whole (seen before: 8 of 14 replaced)."""
    out, archive = fresh(intact, tmp_path)
    shutil.move(str(archive), str(tmp_path / "archive"))
    archive = tmp_path / "archive"
    before = products(out)
    ro = out / "l1_final_flat" / "L1_rtn"
    setup = f"mount --bind {ro} {ro} && mount -o remount,bind,ro {ro}"
    result = _run_env(
        "ro", out, archive, wrap=["unshare", "--user", "--map-root-user", "--mount"], setup=setup
    )
    assert result["code"] == 1
    _one_line(result, r"read-only file system committing .*L1_rtn/")
    assert products(out) == before and leftovers(out) == []

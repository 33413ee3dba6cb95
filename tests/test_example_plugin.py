"""A third-party plugin, for real, as a newcomer makes one: in a fresh virtual environment,
``pip install magfw`` (this checkout), ``magfw new-plugin acme``, ``pip install -e acme``; its
own tests pass unchanged, and ``magfw run acme l1 ... --source simulated`` writes a product
that ``magfw check`` validates.

The venv gets magfw's dependencies from this interpreter's site-packages (a ``.pth`` that
adds them) so that nothing is downloaded; magfw itself and the plugin are pip-installed into
it (``--no-index --no-build-isolation --no-deps``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _pip(py: Path, *args: str) -> None:
    cmd = [
        py,
        "-m",
        "pip",
        "install",
        "--no-index",
        "--no-build-isolation",
        "--no-deps",
        "--disable-pip-version-check",
        "-q",
        *args,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def fresh_env(tmp_path_factory) -> Path:
    """A new venv that sees this interpreter's third-party packages, with magfw installed
    into it from this checkout (not editable: as a user gets it)."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    site_dir = subprocess.check_output(
        [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
    ).strip()
    parents = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (Path(site_dir) / "_magfw_parent.pth").write_text(
        "".join(f"import site; site.addsitedir({p!r})\n" for p in parents)
    )
    # the venv's own bundled setuptools may be too old to build wheels; use this interpreter's
    subprocess.run([py, "-m", "pip", "uninstall", "-y", "-q", "setuptools"], capture_output=True)
    _pip(py, str(ROOT))
    where = subprocess.check_output([py, "-c", "import magfw; print(magfw.__file__)"], text=True)
    assert where.startswith(str(env_dir)), f"magfw imported from {where}, not the venv"
    return py


def _run(py: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGFW_")}
    env["MAGFW_LOG"] = str(cwd / "magfw.log")
    return subprocess.run([py, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


@pytest.mark.slow
def test_new_plugin_installs_passes_its_tests_and_runs(fresh_env, tmp_path):
    made = _run(fresh_env, "-m", "magfw", "new-plugin", "acme", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    plugin_dir = tmp_path / "acme"
    assert (plugin_dir / "pyproject.toml").is_file()
    _pip(fresh_env, "-e", str(plugin_dir))

    missions = _run(fresh_env, "-m", "magfw", "missions", cwd=tmp_path)
    assert missions.returncode == 0, missions.stderr
    assert "acme" in missions.stdout and "stereo" in missions.stdout
    plugins = _run(fresh_env, "-m", "magfw", "plugins", cwd=tmp_path)
    assert "magfw-acme" in plugins.stdout and "acme.l1" in plugins.stdout

    # the plugin's own tests, written with magfw.testing, pass unchanged
    tests = _run(fresh_env, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=plugin_dir)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert "5 passed" in tests.stdout

    run = _run(
        fresh_env,
        "-m",
        "magfw",
        "run",
        "acme",
        "l1",
        "2024-01-01",
        "--source",
        "simulated",
        "--out",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    (product,) = (tmp_path / "out").rglob("ACME_L1_MAG_20240101_V00.cdf")
    check = _run(fresh_env, "-m", "magfw", "check", str(product), cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "ok" in check.stdout.lower()


def test_new_plugin_refuses_a_bad_name_or_a_used_folder(tmp_path):
    from magfw.testing import run_cli

    res = run_cli(["new-plugin", "Acme-1", "--dir", str(tmp_path)])
    assert res.exit_code == 2 and "lower-case identifier" in res.stderr
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "keep.txt").write_text("mine")
    res = run_cli(["new-plugin", "acme", "--dir", str(tmp_path)])
    assert res.exit_code == 2 and "exists and is not empty" in res.stderr
    assert (tmp_path / "acme" / "keep.txt").read_text() == "mine"


def test_the_example_plugin_is_not_installed_here(tmp_path):
    """The base environment does not have acme or example installed: a plugin appears only
    when installed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGFW_")}
    env["MAGFW_LOG"] = str(tmp_path / "magfw.log")
    out = subprocess.run(
        [sys.executable, "-m", "magfw", "missions"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0 and "acme" not in out.stdout and "example" not in out.stdout

"""A third-party plugin, for real: installed offline into a fresh virtual environment."""

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "example_plugin"


@pytest.fixture(scope="module")
def fresh_env(tmp_path_factory) -> Path:
    """A new venv that sees this interpreter's packages (magfw and its dependencies, through a
    .pth that runs site.addsitedir) but not the example plugin, which is then pip-installed
    into it offline: --no-index --no-build-isolation --no-deps."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    site_dir = subprocess.check_output(
        [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip()
    parents = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (Path(site_dir) / "_magfw_parent.pth").write_text(
        "".join(f"import site; site.addsitedir({p!r})\n" for p in parents))
    # the venv's own bundled setuptools may be too old to build wheels; use this interpreter's
    subprocess.run([py, "-m", "pip", "uninstall", "-y", "-q", "setuptools"], capture_output=True)
    cmd = [py, "-m", "pip", "install", "--no-index", "--no-build-isolation", "--no-deps",
           "--disable-pip-version-check", "-q", str(EXAMPLE)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return py


def _magfw(py: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGFW_")}
    env["MAGFW_LOG"] = str(cwd / "magfw.log")
    return subprocess.run([py, "-m", "magfw", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def test_installed_plugin_appears_and_runs(fresh_env, tmp_path):
    missions = _magfw(fresh_env, "missions", cwd=tmp_path)
    assert missions.returncode == 0, missions.stderr
    assert "example" in missions.stdout and "stereo" in missions.stdout
    plugins = _magfw(fresh_env, "plugins", cwd=tmp_path)
    assert "magfw-example" in plugins.stdout and "1.0.0" in plugins.stdout

    run = _magfw(fresh_env, "run", "example", "l1", "2024-03-01", "--source", "simulated",
                 "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    (product,) = (tmp_path / "out").rglob("EX_L1_MAG_20240301_V00.cdf")
    check = _magfw(fresh_env, "check", str(product), cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr

    # the plugin's own tests, written with magfw.testing, pass in that environment
    tests = subprocess.run([fresh_env, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                           capture_output=True, text=True, cwd=EXAMPLE, timeout=300)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert "2 passed" in tests.stdout


def test_plugin_not_visible_without_install(tmp_path):
    """The base environment does not have the example installed: it appears only when installed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGFW_")}
    env["MAGFW_LOG"] = str(tmp_path / "magfw.log")
    out = subprocess.run([sys.executable, "-m", "magfw", "missions"], capture_output=True,
                         text=True, cwd=tmp_path, env=env, timeout=120)
    assert out.returncode == 0 and "example" not in out.stdout

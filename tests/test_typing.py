"""mypy over the code, with the configuration in pyproject.toml: the core strict, the bundled
plugins with mypy's defaults. (Also runnable as ``python tests/test_typing.py [package...]``.)

The packages are installed from ``core/`` and ``plugins/*/`` under other names, which mypy
cannot see through setuptools' editable finder; so a folder of symlinks gives each its import
name.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "magfw": "core",
    "magfw_stereo": "plugins/stereo",
    "magfw_aditya": "plugins/aditya",
    "magfw_plastic": "plugins/plastic",
}


def run_mypy(packages: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    packages = packages or list(PACKAGES)
    with tempfile.TemporaryDirectory() as tmp:
        for name, rel in PACKAGES.items():
            (Path(tmp) / name).symlink_to(ROOT / rel, target_is_directory=True)
        cmd = [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
        ]
        for p in packages:
            cmd += ["-p", p]
        return subprocess.run(
            cmd,
            cwd=tmp,
            capture_output=True,
            text=True,
            env={"MYPYPATH": tmp, "PATH": "/usr/bin:/bin"},
            timeout=600,
        )


@pytest.mark.slow
def test_mypy_is_clean():
    pytest.importorskip("mypy")
    result = run_mypy()
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


if __name__ == "__main__":
    res = run_mypy(sys.argv[1:] or None)
    print(res.stdout + res.stderr)
    sys.exit(res.returncode)

"""The code base is ruff clean and ruff formatted (the rules are in pyproject.toml)."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]' installs it)")
    return subprocess.run(
        [ruff, *args, "--no-cache", "."], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_ruff_clean():
    result = _ruff("check")
    assert result.returncode == 0, result.stdout[-4000:]


def test_ruff_formatted():
    result = _ruff("format", "--check")
    assert result.returncode == 0, "run `ruff format .`: " + result.stdout[-4000:]

"""mypy over the core and the bundled plugins, exactly as a developer runs it: ``python -m
mypy`` with no arguments (the targets and flags are in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_mypy_is_clean():
    pytest.importorskip("mypy")
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


LEVEL = """
from dataclasses import dataclass

from magfw.api import Inputs, Level, NoCalibrate, NoQuality, Product, UnitContext


@dataclass(frozen=True, kw_only=True)
class Raw:
    x: float


@dataclass(frozen=True, kw_only=True)
class Corrected:
    x: float


@dataclass(frozen=True, kw_only=True)
class Rotated:
    x: float


class L1(NoCalibrate, NoQuality):
    def fetch(self, ctx: UnitContext) -> Inputs:
        return Inputs()

    def read(self, ctx: UnitContext, inputs: Inputs) -> Raw:
        return Raw(x=1.0)

    def correct(self, ctx: UnitContext, data: Raw) -> Corrected:
        return Corrected(x=data.x)

    def transform(self, ctx: UnitContext, data: TAKES) -> Rotated:
        return Rotated(x=data.x)

    def average(self, ctx: UnitContext, data: Rotated) -> Rotated:
        return data

    def write(self, ctx: UnitContext, data: Rotated) -> list[Product]:
        return []


LEVEL = Level(name="l1", pipeline=L1())
"""


@pytest.mark.slow
@pytest.mark.parametrize("takes, ok", [("Corrected", True), ("Raw", False)])
def test_mypy_sees_a_level_end_to_end(tmp_path, takes, ok):
    """A level whose ``transform`` takes another stage than ``correct`` returns fails mypy at
    ``Level(..., pipeline=...)``; the same level chained right passes."""
    pytest.importorskip("mypy")
    (tmp_path / "mylevel.py").write_text(LEVEL.replace("TAKES", takes))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "mylevel.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={"MYPYPATH": str(ROOT / "core"), "PATH": "/usr/bin:/bin"},
    )
    assert (result.returncode == 0) == ok, result.stdout
    if not ok:
        line = LEVEL.replace("TAKES", takes).splitlines().index('LEVEL = Level(name="l1", pipeline=L1())') + 1
        assert f'mylevel.py:{line}: error: Cannot infer value of type parameter "S2"' in result.stdout

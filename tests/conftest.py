"""Shared test fixtures: the example third-party plugin, real data, an isolated environment."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest_plugins = ["magfw.testing"]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_DIR = ROOT / "tests" / "example_plugin"
REALDATA = ROOT.parent / "shared" / "realdata"

if str(EXAMPLE_DIR) not in sys.path:
    sys.path.insert(0, str(EXAMPLE_DIR))


def realdata(*parts: str) -> Path:
    """A file under ../shared/realdata, or skip the test saying why."""
    path = REALDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} (CI has ../shared/realdata beside the clone)")
    return path


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user configuration leaks into tests; logs go to the test's temporary directory."""
    for var in ("MAGFW_DATA", "MAGFW_PLUGINS", "MAGFW_DISABLE_PLUGIN_AUTOLOAD",
                "MAGFW_TRACE_PLUGINS", "MAGFW_ZIP_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MAGFW_LOG", str(tmp_path / "magfw-test.log"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def example_plugin():
    """The example mission plugin module (tests/example_plugin), imported from source."""
    from magfw_example import plugin

    return plugin


@pytest.fixture
def example_hooks(example_plugin, magfw_hooks):
    """Hooks over only the example plugin."""
    return magfw_hooks(example_plugin, names=["example"])

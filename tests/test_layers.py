"""The import layers of pyproject.toml's [tool.importlinter] contracts hold: the core never
imports a bundled plugin, no plugin imports another, plugins import only magfw.api, serve, the
tools and the hand-offs do not reach into the run engine, and the services stay below."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    pytest.importorskip("importlinter")
    # lint-imports, run by this interpreter (the one magfw is installed in)
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout

"""Every hook is documented in docs/plugins.md with its exact signature, and every hook has a test."""

import inspect
import re
from pathlib import Path

import pytest

from magfw import hookspecs

ROOT = Path(__file__).resolve().parents[1]
HOOKS = {name: f for name, f in inspect.getmembers(hookspecs, inspect.isfunction)
         if hasattr(f, "magfw_spec")}


def _typed_signature(name: str, f) -> str:
    sig = inspect.signature(f)
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"{name}({params}) -> {sig.return_annotation}"


def test_the_hooks_are_the_ones_we_document():
    assert set(HOOKS) == {"register_missions", "register_commands", "simulate", "fetch", "read",
                          "calibrate", "correct", "transform", "average", "quality", "write"}


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_hook_is_documented_with_exact_signature(name):
    doc = (ROOT / "docs" / "plugins.md").read_text()
    f = HOOKS[name]
    heading = f"### {name}({', '.join(inspect.signature(f).parameters)})"
    assert heading in doc.splitlines(), f"docs/plugins.md lacks the heading {heading!r}"
    assert _typed_signature(name, f) in doc, f"docs/plugins.md lacks {_typed_signature(name, f)!r}"
    assert f.__doc__ and f.__doc__.strip(), f"hookspec {name} has no docstring"


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_hook_has_a_test(name):
    pattern = re.compile(rf"def test_hook_{name}\b")
    found = [p for p in (ROOT / "tests").rglob("test_*.py") if pattern.search(p.read_text())]
    assert found, f"no test named test_hook_{name}"

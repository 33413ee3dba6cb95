"""Small pieces: no module over 400 lines (the missions' simulators excepted) and no function,
method or closure of cyclomatic complexity above 20 (as radon measures it) in the core, the
bundled plugins and the product-definition package.

Long modules and branchy functions are where a newcomer loses the thread and where a change
breaks a case nobody reads any more; this keeps the limits of the guide (and of issue 18) from
creeping back. A failure names the module or the function: split it along its seams.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from radon.complexity import cc_visit
from radon.visitors import Class, Function

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400
MAX_COMPLEXITY = 20
FOLDERS = ("core", "plugins", "schemas")
#: The plugin template `magfw plugin new` copies (placeholders, not code of magfw itself).
TEMPLATES = ROOT / "core" / "magfw" / "tools" / "templates"
#: The missions' simulators (the modules of the bundled plugins whose stem starts with "sim":
#: simulate, simcore, simdays, simstorm...) may be longer than 400 lines: they write whole
#: archives in the real layouts. Their functions are held to the complexity limit like the
#: rest. The core's engine/simulation.py only drives them and is measured like the rest.
SIMULATOR_PREFIX = "sim"


def _is_simulator(p: Path) -> bool:
    return p.is_relative_to(ROOT / "plugins") and p.stem.startswith(SIMULATOR_PREFIX)


def _sources(*, simulators: bool) -> list[Path]:
    """Every module of the core, the plugins and the definitions package, the template left
    out, the simulators only if ``simulators``."""
    return [
        p
        for folder in FOLDERS
        for p in sorted((ROOT / folder).rglob("*.py"))
        if not p.is_relative_to(TEMPLATES) and (simulators or not _is_simulator(p))
    ]


def _functions(blocks: Iterable[Function | Class], prefix: str = "") -> Iterator[tuple[str, Function]]:
    """Every function, method and nested closure, named by its path (`Class.method.inner`)."""
    for block in blocks:
        name = f"{prefix}{block.name}"
        if isinstance(block, Class):
            yield from _functions([*block.methods, *block.inner_classes], f"{name}.")
        else:
            yield name, block
            yield from _functions(block.closures, f"{name}.")


def _top_level(blocks: list[Function | Class]) -> list[Function | Class]:
    """cc_visit lists methods beside their classes too: keep each block once, from its root."""
    return [b for b in blocks if isinstance(b, Class) or not b.is_method]


def test_the_sources_are_found():
    names = {p.relative_to(ROOT).as_posix() for p in _sources(simulators=False)}
    assert {
        "core/magfw/api.py",
        "plugins/stereo/magfw_stereo/l1.py",
        "schemas/magfw_schemas/__init__.py",
    } <= names
    assert "core/magfw/engine/simulation.py" in names
    assert not any(n.startswith("core/magfw/tools/templates/") for n in names)
    assert "plugins/stereo/magfw_stereo/simdays.py" not in names
    every = {p.relative_to(ROOT).as_posix() for p in _sources(simulators=True)}
    assert "plugins/stereo/magfw_stereo/simdays.py" in every and every > names


def test_closures_and_methods_are_measured():
    code = (
        "class A:\n    def m(self, x):\n        def inner(y):\n"
        + "".join(f"            if y == {i}:\n                return {i}\n" for i in range(25))
        + "        return inner\n"
    )
    found = dict(_functions(_top_level(cc_visit(code))))
    assert set(found) == {"A.m", "A.m.inner"}
    assert found["A.m.inner"].complexity > MAX_COMPLEXITY >= found["A.m"].complexity


def test_no_module_over_400_lines():
    long = {
        p.relative_to(ROOT).as_posix(): n
        for p in _sources(simulators=False)
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines, split them along their seams: {long}"


@pytest.mark.slow  # over half a second: the whole suite runs it
def test_no_function_over_complexity_20():
    high = [
        f"{p.relative_to(ROOT).as_posix()}:{f.lineno} {name} ({f.complexity})"
        for p in _sources(simulators=True)
        for name, f in _functions(_top_level(cc_visit(p.read_text(encoding="utf-8"))))
        if f.complexity > MAX_COMPLEXITY
    ]
    assert not high, f"cyclomatic complexity (radon) over {MAX_COMPLEXITY}: {high}"

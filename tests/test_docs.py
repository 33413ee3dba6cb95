"""The plugin documentation matches the code: every hook documented with its exact signature
and tested; the API reference regenerated and compared; the annotated definition and the
example level in docs/plugins.md are the template's, and load; plugins import only magfw.api."""

import ast
import inspect
import re
from pathlib import Path

import pytest
import yaml

from magfw.plugin import hookspecs
from magfw.plugin.level import MIDDLE_STEPS, STEPS, LevelObject

ROOT = Path(__file__).resolve().parents[1]
HOOKS = {
    name: f
    for name, f in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(f, "magfw_spec") and name not in hookspecs.DEPRECATED
}
STEP_SPECS = {name: getattr(LevelObject, name) for name in STEPS}
PLUGINS_MD = ROOT / "docs" / "plugins.md"
TEMPLATE = ROOT / "core" / "magfw" / "tools" / "templates" / "plugin" / "magfw___mission__"


def _typed_signature(name: str, f) -> str:
    sig = inspect.signature(f)
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values() if p.name != "self")
    return f"{name}({params}) -> {sig.return_annotation}"


def _heading(name: str, f) -> str:
    return f"### {name}({', '.join(p for p in inspect.signature(f).parameters if p != 'self')})"


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def test_the_hooks_are_the_ones_we_document():
    assert set(HOOKS) == {
        "magfw_register_missions",
        "magfw_register_commands",
        "magfw_simulate",
        "magfw_product_written",
        "magfw_run_finished",
    }
    assert set(hookspecs.PLUGIN_HOOKS) | set(hookspecs.NOTIFY_HOOKS) == set(HOOKS)
    assert set(hookspecs.DEPRECATED.values()) <= set(HOOKS)


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_hook_is_documented_with_exact_signature(name):
    doc = PLUGINS_MD.read_text()
    f = HOOKS[name]
    assert _heading(name, f) in doc.splitlines(), f"docs/plugins.md lacks the heading {_heading(name, f)!r}"
    assert _typed_signature(name, f) in doc, f"docs/plugins.md lacks {_typed_signature(name, f)!r}"
    assert f.__doc__ and f.__doc__.strip(), f"hookspec {name} has no docstring"


@pytest.mark.parametrize("name", STEPS)
def test_step_is_documented_with_exact_signature(name):
    doc = PLUGINS_MD.read_text()
    f = STEP_SPECS[name]
    assert _heading(name, f) in doc.splitlines(), f"docs/plugins.md lacks the heading {_heading(name, f)!r}"
    assert _typed_signature(name, f) in doc, f"docs/plugins.md lacks {_typed_signature(name, f)!r}"
    assert f.__doc__ and f.__doc__.strip(), f"LevelObject.{name} has no docstring"


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_hook_has_a_test(name):
    pattern = re.compile(rf"def test_hook_{name}\b")
    found = [p for p in (ROOT / "tests").rglob("test_*.py") if pattern.search(p.read_text())]
    assert found, f"no test named test_hook_{name}"


@pytest.mark.parametrize("name", STEPS)
def test_step_has_a_test(name):
    pattern = re.compile(rf"def test_step_{name}\b")
    found = [p for p in (ROOT / "tests").rglob("test_*.py") if pattern.search(p.read_text())]
    assert found, f"no test named test_step_{name}"


def test_api_reference_is_current():
    from magfw.tools.apidoc import render

    current = (ROOT / "docs" / "api.md").read_text()
    assert render() == current, "docs/api.md is stale: run `python -m magfw.tools.apidoc`"


def test_every_api_name_is_documented_in_the_reference():
    import magfw.api as api

    reference = (ROOT / "docs" / "api.md").read_text()
    for name in api.__all__:
        assert f"## `{name}" in reference, name
        getattr(api, name)  # and importable (lazy names too)


def test_the_annotated_definitions_in_the_guide_are_the_templates_and_load():
    from magfw.plugin.definitions import load_definition
    from magfw.tools.scaffold import render

    cdf, netcdf = _blocks(PLUGINS_MD.read_text(), "yaml")
    for block, name, fmt in ((cdf, "l1", "cdf"), (netcdf, "l2", "netcdf")):
        assert block == render((TEMPLATE / "schemas" / f"{name}.yaml").read_text(), "acme")
        definition = load_definition("docs/plugins.md", block)  # loads as written
        assert (definition.id, definition.mission, definition.format) == (name, "acme", fmt)
        raw = yaml.safe_load(block)
        assert set(raw) >= {"filename", "variables", "global_attrs", "version", "provenance"}


def test_the_annotated_netcdf_definition_writes_a_file_xarray_and_cftime_decode(tmp_path):
    """The guide's netCDF definition, as written: its tt2000 time opens as the right UTC in
    xarray (pandas) and cftime, and magfw reads TT2000 back."""
    import numpy as np

    xr = pytest.importorskip("xarray")
    from magfw.geometry import time
    from magfw.io.netcdf import read_netcdf, write_netcdf
    from magfw.plugin.definitions import load_definition

    d = load_definition("docs/plugins.md", _blocks(PLUGINS_MD.read_text(), "yaml")[1])
    tt = np.asarray(time.tt2000_from_iso(np.array(["2024-01-01T00:00:30", "2024-01-01T00:01:30.000001"])))
    variables = {
        "time": tt,
        "B": np.ones((2, 3), np.float32),
        "B_LABL": np.array(["Bx", "By", "Bz"]),
        "NAVG": np.array([6, 6], np.uint8),
    }
    path = write_netcdf(tmp_path / "ACME_L2_MAG_202401_V00.nc", d, variables, {})
    with xr.open_dataset(path) as ds:
        assert (ds.time.values == time.tt2000_to_datetime64(tt)).all()
    with xr.open_dataset(path, decode_times=xr.coders.CFDatetimeCoder(use_cftime=True)) as ds:
        assert [t.isoformat() for t in ds.time.values] == [
            "2024-01-01T00:00:30",
            "2024-01-01T00:01:30.000001",
        ]
    assert (read_netcdf(path).variables["time"] == tt).all()


def test_the_example_level_in_the_guide_is_the_templates():
    from magfw.tools.scaffold import render

    blocks = _blocks(PLUGINS_MD.read_text(), "python")
    assert render((TEMPLATE / "l1.py").read_text(), "acme").rstrip() + "\n" in blocks


def _magfw_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and (node.module == "magfw" or node.module.startswith("magfw."))
        ):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name == "magfw" or a.name.startswith("magfw.")}
    return found


@pytest.mark.parametrize("plugin", ["stereo", "aditya", "plastic"])
def test_bundled_plugins_use_only_the_public_api(plugin):
    bad = {
        p.relative_to(ROOT).as_posix(): sorted(m for m in _magfw_imports(p) if m != "magfw.api")
        for p in (ROOT / "plugins" / plugin).rglob("*.py")
    }
    assert not {k: v for k, v in bad.items() if v}, "import magfw.api only"


def test_the_template_uses_only_the_public_api():
    for p in TEMPLATE.parent.rglob("*.py"):
        assert _magfw_imports(p) <= {"magfw.api", "magfw.testing"}, p


def test_no_level_dispatch_in_the_plugins():
    hits = [
        f"{p}:{i}"
        for p in (ROOT / "plugins").rglob("*.py")
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if re.search(r"ctx\.level\s*(==|!=|in\b)", line)
    ]
    assert hits == []


def _used_by_in_the_guide(step: str) -> set[str]:
    text = PLUGINS_MD.read_text()
    start = text.index(f"\n### {step}(")
    end = text.index("\n### ", start + 1)
    lines = [line for line in text[start:end].splitlines() if line.startswith("Used by:")]
    assert len(lines) == 1, f"docs/plugins.md: the {step} step needs one 'Used by:' line"
    return set(re.findall(r"\[(\w+ \w+)\]\(\.\./plugins/\w+/\w+/\w+\.py\)", lines[0]))


@pytest.mark.parametrize("step", MIDDLE_STEPS)
def test_every_middle_step_lists_the_bundled_levels_that_implement_it(step):
    """datasette's plugin_hooks.rst names the real plugins using each hook; the guide names
    the bundled level methods doing each step, and this keeps the list true."""
    from magfw.plugin.level import step_is_used
    from magfw.plugin.loading import build_plugin_manager
    from magfw.plugin.manager import Hooks

    hooks = Hooks(build_plugin_manager(autoload=True, allow=["stereo", "aditya", "plastic"]))
    implemented = {
        f"{m.id} {lvl.name}"
        for m in hooks.registry
        for lvl in m.levels.values()
        if lvl.pipeline is not None and step_is_used(lvl.pipeline, step)
    }
    assert _used_by_in_the_guide(step) == implemented
    for link in re.findall(r"\(\.\./(plugins/[\w/]+\.py)\)", PLUGINS_MD.read_text()):
        assert (ROOT / link).is_file(), link


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "```bash\ntests/run\n```" in readme
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == "exec tests/run"
    assert (ROOT / "tests" / "run").stat().st_mode & 0o111, "tests/run is executable"

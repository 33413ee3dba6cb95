"""What start-up imports, and the lazy level objects that keep it light.

These are tests of behaviour, not timings (``benchmarks/bench_startup.py`` measures those):
``import magfw.api`` and building the command line import no heavy library and none of the
plugins' level modules or simulators; every bundled lazy level resolves to its class, is
checked when first resolved, and a broken one is one clear line before any unit runs.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from magfw.api import Inputs, Level, Mission, hookimpl, lazy_level
from magfw.errors import PluginError
from magfw.plugin.level import LazyLevel, resolve_level
from magfw.testing import make_hooks, run_level

HEAVY = ("spiceypy", "h5py", "h5netcdf", "cdflib", "matplotlib", "scipy", "pyzipper", "starlette", "sqlite3")
#: Bundled modules start-up must not import: the simulators and every level's code.
LEVEL_CODE = ("simulate", "l1", "l2", "merge", "package", "daily", "yearly", "monthly", "calibrate")

PROBE = """
import json, sys
{setup}
mods = sorted(sys.modules)
print(json.dumps(mods))
"""


def _imported(setup: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(setup=setup)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _heavy(mods: set[str]) -> list[str]:
    return sorted(m for m in mods if m.split(".")[0] in HEAVY)


def _level_code(mods: set[str]) -> list[str]:
    return sorted(
        m
        for m in mods
        if m.split(".")[0] in ("magfw_stereo", "magfw_aditya", "magfw_plastic")
        and m.rpartition(".")[2] in LEVEL_CODE
    )


def test_import_magfw_api_is_light():
    mods = _imported("import magfw.api")
    assert not _heavy(mods), _heavy(mods)


def test_building_the_cli_loads_plugins_but_no_heavy_library_nor_level_code():
    mods = _imported(
        "import typer\nfrom magfw.cli import build_app\nfrom magfw.plugin.manager import get_hooks\n"
        "get_hooks()\ntyper.main.get_command(build_app())"
    )
    assert {"magfw_stereo.plugin", "magfw_aditya.plugin", "magfw_plastic.plugin"} <= mods
    assert not _heavy(mods), _heavy(mods)
    assert not _level_code(mods), _level_code(mods)


def test_magfw_missions_imports_no_level_code():
    mods = _imported("from magfw.cli import main\nmain(['missions'])")
    assert not _heavy(mods) and not _level_code(mods), (_heavy(mods), _level_code(mods))


def test_every_bundled_lazy_level_resolves_to_its_class_and_passes_the_checks():
    from magfw.plugin.manager import get_hooks

    hooks = get_hooks()
    seen = 0
    for mission in hooks.registry:
        for level in mission.levels.values():
            if not isinstance(level.pipeline, LazyLevel):
                continue
            target = level.pipeline._target
            obj = hooks.level_object(mission.id, level.name)  # imports and checks it
            assert obj is level.pipeline
            real = resolve_level(obj)
            assert f"{type(real).__module__}:{type(real).__qualname__}" == target
            seen += 1
    assert seen >= 16  # every bundled level is lazy


class _Broken:
    """A level object with a misspelt step (found only when the lazy level resolves)."""

    def fetch(self, ctx):
        return Inputs()

    def read(self, ctx, inputs):
        return None

    def corect(self, ctx, data):
        return data

    def write(self, ctx, data):
        return []


class _LazyToy:
    @hookimpl
    def magfw_register_missions(self, registry):
        registry.add(
            Mission(
                id="lazytoy",
                title="Lazy toy",
                levels={
                    "l1": Level(name="l1", pipeline=lazy_level("test_startup:_Broken")()),
                    "l2": Level(name="l2", pipeline=lazy_level("no_such_module_xyz:L2")()),
                },
            )
        )


def test_a_lazy_level_is_checked_when_first_resolved_before_any_unit(tmp_path):
    hooks = make_hooks(_LazyToy(), names=["lazytoy"])  # registering imports nothing
    assert repr(hooks.registry.get("lazytoy").level("l1").pipeline).endswith("(not imported yet)>")
    with pytest.raises(
        PluginError, match=r"level lazytoy\.l1: unknown step 'corect' \(did you mean 'correct'\?\)"
    ):
        run_level(hooks, "lazytoy", "l1", "2024-01-01", tmp_path / "out", source=str(tmp_path))
    assert not (tmp_path / "out").exists()  # found while planning: nothing was written
    with pytest.raises(PluginError, match=r"level lazytoy\.l2: cannot load: ModuleNotFoundError"):
        hooks.level_object("lazytoy", "l2")


def test_a_worker_imports_only_the_level_it_runs():
    """What a worker does before its first step: rebuild the plugins from the caller's spec,
    name the plugin, resolve its one level: only that level's code is imported (and what
    that level needs), none of the other levels' or missions'."""
    mods = _imported(
        "from magfw.plugin.manager import get_hooks, hooks_from_spec\n"
        "hooks = hooks_from_spec(get_hooks().plugin_spec())\n"
        "hooks.plugin_version('stereo')\n"
        "hooks.level_object('stereo', 'l1')"
    )
    assert "magfw_stereo.l1" in mods
    others = [m for m in _level_code(mods) if m != "magfw_stereo.l1"]
    assert not others, others
    needed = ("spiceypy", "cdflib")  # STEREO L1 reads CDFs and rotates with SPICE
    assert not [m for m in _heavy(mods) if m.split(".")[0] not in needed], _heavy(mods)

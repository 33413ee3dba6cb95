"""Plugin loading, environment controls, check_pending, and dispatch by mission id."""

import pluggy
import pytest
from toyplugin import Toy

from magfw import hookimpl
from magfw.errors import PluginError, UsageError
from magfw.period import parse_period
from magfw.plugins import Hooks, build_plugin_manager
from magfw.testing import make_hooks


def _missions(pm) -> list[str]:
    return [m.id for m in Hooks(pm).registry]


def test_bundled_missions_load_through_entry_points():
    pm = build_plugin_manager()
    assert {"stereo", "aditya", "plastic"} <= set(_missions(pm))
    infos = {i.name: i for i in Hooks(pm).plugin_infos()}
    assert infos["stereo"].distribution == "magfw" and infos["stereo"].version
    assert "register_missions" in infos["stereo"].hooks


def test_disable_autoload(monkeypatch):
    monkeypatch.setenv("MAGFW_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert _missions(build_plugin_manager()) == []


def test_allow_list_limits_entry_points(monkeypatch):
    monkeypatch.setenv("MAGFW_PLUGINS", "stereo")
    assert _missions(build_plugin_manager()) == ["stereo"]


def test_allow_list_loads_modules_when_autoload_is_off(monkeypatch):
    monkeypatch.setenv("MAGFW_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("MAGFW_PLUGINS", "magfw_example.plugin, aditya")
    assert _missions(build_plugin_manager()) == ["aditya", "example"]


def test_broken_plugin_is_left_out_with_one_warning(monkeypatch):
    warnings: list[str] = []
    monkeypatch.setenv("MAGFW_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("MAGFW_PLUGINS", "no_such_module_xyz")
    pm = build_plugin_manager(warn=warnings.append)
    assert _missions(pm) == []
    assert len(warnings) == 1 and "no_such_module_xyz" in warnings[0] and "\n" not in warnings[0]


def test_check_pending_rejects_unknown_hook():
    class Typo:
        @hookimpl
        def calibrat(self, ctx, data):  # misspelt: no such hook
            return data

    warnings: list[str] = []
    pm = build_plugin_manager(autoload=False, extra=[("typo", Typo())], warn=warnings.append)
    assert pm.get_plugin("typo") is None
    assert "typo" in warnings[0] and "calibrat" in warnings[0]


def test_check_pending_is_real_pluggy_validation():
    pm = pluggy.PluginManager("magfw")
    from magfw import hookspecs

    pm.add_hookspecs(hookspecs)

    class Typo:
        @hookimpl
        def fech(self, ctx):
            return None

    pm.register(Typo())
    with pytest.raises(pluggy.PluginValidationError):
        pm.check_pending()


def test_duplicate_mission_id_is_an_error():
    with pytest.raises(PluginError, match="registered by both"):
        make_hooks(Toy(), Toy(), names=["a", "b"])


def test_dispatch_is_by_mission_not_registration_order(tmp_path):
    """Two plugins implement every hook; each mission's calls reach only its own plugin."""
    a, b = Toy("alpha"), Toy("beta")
    for order in ([a, b], [b, a]):
        a.calls.clear()
        b.calls.clear()
        hooks = make_hooks(*order, names=[o.mission_id for o in order])
        assert hooks.owner("alpha") is a and hooks.owner("beta") is b
        hooks.simulate("beta", parse_period("2024-01-01"),
                       tmp_path / "sim", None, 0)
        assert b.calls.count("simulate") == 1 and "simulate" not in a.calls


def test_unknown_mission_and_level_are_usage_errors():
    hooks = make_hooks(Toy())
    with pytest.raises(UsageError, match="unknown mission 'nope'"):
        hooks.registry.get("nope")
    with pytest.raises(UsageError, match="no level 'l9'"):
        hooks.registry.get("toy").level("l9")


def test_unimplemented_step_passes_data_through():
    class Partial:
        @hookimpl
        def register_missions(self, registry):
            Toy("partial").register_missions(registry)

    hooks = make_hooks(Partial())
    assert not hooks.implements("partial", "transform")
    sentinel = object()

    class Ctx:
        mission = hooks.registry.get("partial")

    assert hooks.transform(Ctx(), sentinel) is sentinel
    with pytest.raises(PluginError, match="does not implement fetch"):
        hooks.fetch(Ctx())

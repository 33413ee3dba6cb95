"""Plugin loading, environment controls, strict checks, isolation, and dispatch."""

import pluggy
import pytest
from toyplugin import Toy, ToyData, ToyL1

from magfw.api import Level, Mission, NoTransform, PluginError, UsageError, hookimpl, parse_period
from magfw.plugin.loading import build_plugin_manager
from magfw.plugin.manager import Hooks
from magfw.testing import make_hooks, run_level


def _missions(pm) -> list[str]:
    return [m.id for m in Hooks(pm).registry]


def test_bundled_missions_load_through_entry_points():
    pm = build_plugin_manager()
    assert {"stereo", "aditya", "plastic"} <= set(_missions(pm))
    infos = {i.name: i for i in Hooks(pm).plugin_infos()}
    assert infos["stereo"].distribution == "magfw" and infos["stereo"].version
    assert "magfw_register_missions" in infos["stereo"].hooks
    l1 = next(lvl for lvl in infos["stereo"].levels if lvl.level == "l1")
    assert l1.cls == "magfw_stereo.l1.L1" and l1.steps[0] == "fetch" and l1.steps[-1] == "write"


def test_level_objects_are_called_directly_not_registered_with_pluggy():
    pm = build_plugin_manager()
    hooks = Hooks(pm)
    names = {name for name, _ in pm.list_name_plugin()}
    assert names == {"stereo", "aditya", "plastic"}  # the plugins, no pseudo-plugin per level
    level = hooks.level_object("stereo", "l1")
    assert level is hooks.registry.get("stereo").level("l1").pipeline
    assert not any(impl.plugin is level for h in pm.hook.__dict__.values() for impl in h.get_hookimpls())


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
        def magfw_run_finishd(self, summary):  # misspelt: no such hook
            return None

    warnings: list[str] = []
    pm = build_plugin_manager(autoload=False, extra=[("typo", Typo())], warn=warnings.append, strict=False)
    assert pm.get_plugin("typo") is None
    assert len(warnings) == 1 and "typo" in warnings[0] and "\n" not in warnings[0]
    assert "unknown hook 'magfw_run_finishd' (did you mean 'magfw_run_finished'?)" in warnings[0]


def test_check_pending_is_real_pluggy_validation():
    pm = pluggy.PluginManager("magfw")
    from magfw.plugin import hookspecs

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
        hooks.simulate("beta", parse_period("2024-01-01"), tmp_path / "sim", None, 0)
        assert b.calls.count("simulate") == 1 and "simulate" not in a.calls


def test_unknown_mission_and_level_are_usage_errors():
    hooks = make_hooks(Toy())
    with pytest.raises(UsageError, match="unknown mission 'nope'"):
        hooks.registry.get("nope")
    with pytest.raises(UsageError, match="no level 'l9'"):
        hooks.registry.get("toy").level("l9")


def test_a_skipped_step_passes_data_through(tmp_path):
    class WithoutTransform(NoTransform, ToyL1):  # the mixin's pass-through comes first
        pass

    toy = Toy("partial")
    toy.level = WithoutTransform(toy)
    hooks = make_hooks(toy)
    assert not hooks.implements("partial", "l1", "transform")
    assert hooks.implements("partial", "l1", "correct")
    summary = run_level(hooks, "partial", "l1", "2024-01-01", tmp_path / "out")
    assert summary.ok and "transform" not in toy.calls and "average" in toy.calls


def test_an_absent_step_still_passes_data_through_with_a_deprecation_warning(tmp_path):
    class Absent(ToyL1):
        transform = None  # type: ignore[assignment]

    toy = Toy("absent")
    toy.level = Absent(toy)
    with pytest.warns(DeprecationWarning, match="no transform.*NoTransform"):
        hooks = make_hooks(toy)
    assert not hooks.implements("absent", "l1", "transform")
    summary = run_level(hooks, "absent", "l1", "2024-01-01", tmp_path / "out")
    assert summary.ok and "transform" not in toy.calls


class OldStyle:
    """A plugin of the previous release: the hook names without their ``magfw_`` prefix."""

    def __init__(self, mission_id: str) -> None:
        self.toy = Toy(mission_id)

    @hookimpl
    def register_missions(self, registry):
        self.toy.magfw_register_missions(registry)

    @hookimpl
    def simulate(self, mission, period, out_dir, spacecraft, seed):
        return self.toy.magfw_simulate(mission, period, out_dir, spacecraft, seed)


def test_the_unprefixed_hook_names_still_work_with_a_deprecation_warning(tmp_path):
    with pytest.warns(DeprecationWarning, match="without its prefix is deprecated: implement magfw_"):
        hooks = make_hooks(OldStyle("old"))
    assert [m.id for m in hooks.registry] == ["old"]
    root = hooks.simulate("old", parse_period("2024-01-01"), tmp_path / "sim", None, 0)
    assert (root / "20240101.txt").exists()
    assert run_level(hooks, "old", "l1", "2024-01-01", tmp_path / "out").ok


def _strict_problem(plugin: object) -> str:
    with pytest.raises(PluginError) as info:
        make_hooks(plugin, names=["bad"])
    assert "\n" not in str(info.value)
    return str(info.value)


def test_strict_mode_unknown_step_on_a_level_object_says_did_you_mean():
    toy = Toy("typo")

    class Typo(ToyL1):
        @hookimpl
        def calibrat(self, ctx, data):
            return data

    toy.level = Typo(toy)
    message = _strict_problem(toy)
    assert "level typo.l1" in message and "unknown step 'calibrat'" in message
    assert "did you mean 'calibrate'?" in message


def test_strict_mode_wrong_argument_says_did_you_mean():
    toy = Toy("args")

    class WrongArg(ToyL1):
        @hookimpl
        def correct(self, context, data):
            return data

    toy.level = WrongArg(toy)
    message = _strict_problem(toy)
    assert "step 'correct' takes (ctx, data), not (context, data)" in message
    assert "did you mean 'ctx'?" in message


def test_strict_mode_is_set_by_the_environment(monkeypatch):
    class Typo:
        @hookimpl
        def magfw_registr_missions(self, registry):
            pass

    monkeypatch.setenv("MAGFW_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="did you mean 'magfw_register_missions'"):
        build_plugin_manager(autoload=False, extra=[("typo", Typo())])
    monkeypatch.setenv("MAGFW_STRICT_PLUGINS", "0")
    warnings: list[str] = []
    build_plugin_manager(autoload=False, extra=[("typo", Typo())], warn=warnings.append)
    assert len(warnings) == 1


def test_step_hooks_on_a_plugin_module_are_refused():
    class Flat:
        @hookimpl
        def fetch(self, ctx):
            return None

    message = _strict_problem(Flat())
    assert "hook 'fetch' does not belong on a plugin module: steps go on a level object" in message


def test_level_steps_whose_types_do_not_chain_are_refused():
    toy = Toy("chain")

    class Other:
        pass

    class BadChain(ToyL1):
        @hookimpl
        def correct(self, ctx, data: Other) -> ToyData:  # read returns ToyData
            return data  # type: ignore[return-value]

    toy.level = BadChain(toy)
    assert "step 'calibrate' returns ToyData but 'correct' takes Other" in _strict_problem(toy)


def test_a_plugin_whose_registration_fails_is_left_out_and_others_work(tmp_path):
    class Broken:
        @hookimpl
        def magfw_register_missions(self, registry):
            registry.add(Mission(id="half", title="Half", levels={}))
            raise ValueError("definition l2.yaml: invalid")

    warnings: list[str] = []
    pm = build_plugin_manager(
        autoload=False, strict=False, warn=warnings.append, extra=[("broken", Broken()), ("toy", Toy())]
    )
    hooks = Hooks(pm, strict=False, warn=warnings.append)
    assert [m.id for m in hooks.registry] == ["toy"]  # nothing of "half" registered
    assert len(warnings) == 1 and "broken" in warnings[0] and "l2.yaml" in warnings[0]
    assert run_level(hooks, "toy", "l1", "2024-01-01", tmp_path / "out").ok
    with pytest.raises(PluginError, match="register_missions failed"):
        make_hooks(Broken(), Toy(), names=["broken", "toy"])


def test_a_level_without_a_level_object_is_listed_but_not_runnable(tmp_path):
    class Listed:
        @hookimpl
        def magfw_register_missions(self, registry):
            registry.add(Mission(id="later", title="Later", levels={"l3": Level(name="l3")}))

    hooks = make_hooks(Listed())
    assert not hooks.registry.get("later").level("l3").implemented
    from magfw.errors import MagfwError

    with pytest.raises(MagfwError, match="not implemented yet"):
        run_level(hooks, "later", "l3", "2024-01-01", tmp_path / "out", source=str(tmp_path))


def test_tracing_logs_every_step_call_with_its_stage_types(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("MAGFW_TRACE_PLUGINS", "1")
    hooks = make_hooks(Toy())
    with caplog.at_level("INFO", logger="magfw.plugins"):
        summary = run_level(hooks, "toy", "l1", "2024-01-01", tmp_path / "out")
    assert summary.ok and set(summary.results[0].step_s) >= {"fetch", "read", "correct", "write", "stage"}
    lines = [r.getMessage() for r in caplog.records if r.name == "magfw.plugins"]
    assert any("toy l1 2024-01-01: correct(ToyData) -> ToyData in" in line for line in lines), lines
    assert any(": write(ToyData) -> list in" in line for line in lines), lines

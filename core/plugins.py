"""Loading plugins and calling their hooks through a typed facade.

Plugins come from the ``magfw.missions`` entry-point group (the bundled missions are registered
there exactly like third-party ones). ``MAGFW_DISABLE_PLUGIN_AUTOLOAD=1`` stops entry-point
loading; ``MAGFW_PLUGINS`` is a comma-separated list of entry-point names or importable modules:
with autoload on it limits which entry points load, with autoload off it names what to load.
``MAGFW_TRACE_PLUGINS=1`` logs every hook call.

The core never calls ``pm.hook.x(...)`` directly: :class:`Hooks` has one typed method per hook
and dispatches each mission's hooks to the plugin that registered the mission.
"""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass
from importlib.metadata import distribution, entry_points
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

from magfw import hookspecs
from magfw.errors import PluginError
from magfw.mission import MissionRegistry, PluginRegistrar

if TYPE_CHECKING:
    import typer

    from magfw.context import Inputs, Product, UnitContext
    from magfw.period import Period

ENTRY_POINT_GROUP = "magfw.missions"
STEP_HOOKS = ("calibrate", "correct", "transform", "average", "quality")
log = logging.getLogger("magfw.plugins")


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


@dataclass(frozen=True)
class PluginInfo:
    """What ``magfw plugins`` shows for one plugin."""

    name: str
    module: str
    distribution: str | None
    version: str | None
    hooks: list[str]
    missions: list[str]


def build_plugin_manager(
    *,
    autoload: bool | None = None,
    allow: list[str] | None = None,
    extra: list[tuple[str, object]] | None = None,
    warn: Any = None,
) -> pluggy.PluginManager:
    """A plugin manager with the hookspecs and the plugins the environment allows.

    ``autoload``/``allow`` default to ``MAGFW_DISABLE_PLUGIN_AUTOLOAD``/``MAGFW_PLUGINS``;
    ``extra`` registers (name, plugin) pairs directly (tests, ``magfw.testing``). A plugin that
    fails to import, or implements a hook that does not exist, is left out with one warning
    line (through ``warn``, default the log) so one broken plugin cannot break every command.
    """
    warn = warn or log.warning
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if autoload is None:
        autoload = not _truthy(os.environ.get("MAGFW_DISABLE_PLUGIN_AUTOLOAD"))
    if allow is None and "MAGFW_PLUGINS" in os.environ:
        allow = [s.strip() for s in os.environ["MAGFW_PLUGINS"].split(",") if s.strip()]

    eps = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    wanted: list[str]
    if autoload:
        wanted = [n for n in sorted(eps) if allow is None or n in allow]
    else:
        wanted = list(allow or [])
    for name in wanted:
        try:
            if name in eps:
                plugin: object = eps[name].load()
                dist = eps[name].dist
                pm.register(plugin, name=name)
                if dist is not None:
                    pm._plugin_distinfo.append((plugin, dist))  # as load_setuptools_entrypoints
            else:
                plugin = importlib.import_module(name)
                pm.register(plugin, name=name)
        except Exception as exc:  # a broken plugin must not break magfw
            warn(f"plugin {name!r} not loaded: {type(exc).__name__}: {exc}")
    for name, plugin in extra or []:
        pm.register(plugin, name=name)
    _check_pending(pm, warn)
    if _truthy(os.environ.get("MAGFW_TRACE_PLUGINS")):
        pm.trace.root.setwriter(lambda msg: log.info(msg.rstrip()))
        pm.enable_tracing()
    return pm


def _check_pending(pm: pluggy.PluginManager, warn: Any) -> None:
    """``check_pending()``, unregistering (with a warning) plugins with unknown hooks."""
    while True:
        try:
            pm.check_pending()
            return
        except pluggy.PluginValidationError as exc:
            name = pm.get_name(exc.plugin) or repr(exc.plugin)
            warn(f"plugin {name!r} not loaded: {exc}")
            pm.unregister(exc.plugin)


class Hooks:
    """The typed facade over the plugin manager, with dispatch by mission id."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self.registry = MissionRegistry()
        for name, plugin in pm.list_name_plugin():
            if self._implements(plugin, "register_missions"):
                registrar = PluginRegistrar(self.registry, name)
                self._only(plugin, "register_missions")(registry=registrar)

    # -- dispatch ---------------------------------------------------------------------------

    def _implements(self, plugin: object, hook: str) -> bool:
        return any(impl.plugin is plugin for impl in getattr(self.pm.hook, hook).get_hookimpls())

    def _only(self, plugin: object, hook: str) -> Any:
        others = [p for p in self.pm.get_plugins() if p is not plugin]
        return self.pm.subset_hook_caller(hook, remove_plugins=others)

    def owner(self, mission_id: str) -> object:
        """The plugin object that registered ``mission_id``."""
        mission = self.registry.get(mission_id)
        plugin = self.pm.get_plugin(mission.plugin)
        if plugin is None:
            raise PluginError(None, f"plugin {mission.plugin!r} of mission {mission_id!r} is gone")
        return plugin

    def implements(self, mission_id: str, hook: str) -> bool:
        """Whether the mission's plugin implements ``hook``."""
        return self._implements(self.owner(mission_id), hook)

    def _call(self, hook: str, mission_id: str, **kwargs: Any) -> Any:
        plugin = self.owner(mission_id)
        if not self._implements(plugin, hook):
            raise PluginError(None, f"mission {mission_id!r} ({self.registry.get(mission_id).plugin}) "
                              f"does not implement {hook}")
        result = self._only(plugin, hook)(**kwargs)
        if result is None:
            raise PluginError(None, f"mission {mission_id!r}: hook {hook} returned nothing")
        return result

    def _step(self, hook: str, ctx: UnitContext, data: Any) -> Any:
        if not self.implements(ctx.mission.id, hook):
            return data  # an unimplemented step passes data through
        return self._call(hook, ctx.mission.id, ctx=ctx, data=data)

    # -- one typed method per hook ------------------------------------------------------------

    def register_commands(self, app: typer.Typer) -> None:
        for _, plugin in self.pm.list_name_plugin():
            if self._implements(plugin, "register_commands"):
                self._only(plugin, "register_commands")(app=app)

    def simulate(
        self, mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int
    ) -> Path:
        return Path(self._call("simulate", mission, mission=mission, period=period,
                               out_dir=out_dir, spacecraft=spacecraft, seed=seed))

    def fetch(self, ctx: UnitContext) -> Inputs:
        return self._call("fetch", ctx.mission.id, ctx=ctx)

    def read(self, ctx: UnitContext, inputs: Inputs) -> Any:
        return self._call("read", ctx.mission.id, ctx=ctx, inputs=inputs)

    def calibrate(self, ctx: UnitContext, data: Any) -> Any:
        return self._step("calibrate", ctx, data)

    def correct(self, ctx: UnitContext, data: Any) -> Any:
        return self._step("correct", ctx, data)

    def transform(self, ctx: UnitContext, data: Any) -> Any:
        return self._step("transform", ctx, data)

    def average(self, ctx: UnitContext, data: Any) -> Any:
        return self._step("average", ctx, data)

    def quality(self, ctx: UnitContext, data: Any) -> Any:
        return self._step("quality", ctx, data)

    def write(self, ctx: UnitContext, data: Any) -> list[Product]:
        return list(self._call("write", ctx.mission.id, ctx=ctx, data=data))

    # -- introspection ------------------------------------------------------------------------

    def plugin_infos(self) -> list[PluginInfo]:
        dists = {id(p): d for p, d in self.pm.list_plugin_distinfo()}
        infos = []
        for name, plugin in sorted(self.pm.list_name_plugin()):
            dist = dists.get(id(plugin))
            hooks = sorted(h.name for h in (self.pm.get_hookcallers(plugin) or []))
            module = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__qualname__
            infos.append(PluginInfo(
                name=name, module=module,
                distribution=dist.metadata["Name"] if dist else None,
                version=dist.version if dist else None,
                hooks=hooks,
                missions=[m.id for m in self.registry if m.plugin == name],
            ))
        return infos

    def plugin_version(self, mission_id: str) -> str:
        """``distribution version`` of the mission's plugin (part of the ledger's versions)."""
        name = self.registry.get(mission_id).plugin
        for info in self.plugin_infos():
            if info.name == name:
                return f"{info.distribution or info.module} {info.version or 'unversioned'}"
        return name


    def plugin_spec(self) -> tuple[tuple[str, object, str | None], ...]:
        """A picklable description of the loaded plugins, to rebuild the same set in a worker
        process: (name, module name or the plugin object itself, distribution name)."""
        dists = {id(p): d.metadata["Name"] for p, d in self.pm.list_plugin_distinfo()}
        return tuple(
            (name, plugin.__name__ if isinstance(plugin, ModuleType) else plugin, dists.get(id(plugin)))
            for name, plugin in self.pm.list_name_plugin()
        )


_cached: Hooks | None = None
_by_spec: dict[tuple[str, ...], Hooks] = {}


def hooks_from_spec(spec: tuple[tuple[str, object, str | None], ...]) -> Hooks:
    """The facade over exactly the plugins of ``spec`` (see :meth:`Hooks.plugin_spec`), built
    once per process: how worker processes get the caller's plugins, not the environment's."""
    key = tuple(name for name, _, _ in spec)
    if key not in _by_spec:
        pm = build_plugin_manager(autoload=False, allow=[], extra=[
            (name, importlib.import_module(p) if isinstance(p, str) else p) for name, p, _ in spec])
        for name, _, dist_name in spec:
            if dist_name:
                pm._plugin_distinfo.append((pm.get_plugin(name), distribution(dist_name)))
        _by_spec[key] = Hooks(pm)
    return _by_spec[key]


def get_hooks(*, refresh: bool = False) -> Hooks:
    """The process-wide facade over the environment's plugins (built once per process)."""
    global _cached
    if _cached is None or refresh:
        _cached = Hooks(build_plugin_manager())
    return _cached

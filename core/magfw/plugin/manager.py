"""The plugin facade: the missions the plugins register, and one typed method per hook.

:class:`Hooks` runs each plugin's ``magfw_register_missions`` on its own (a plugin that fails
is left out, the others stay), keeps the missions in a
:class:`~magfw.plugin.mission.MissionRegistry`, and calls the other hooks: a plugin's own
(``magfw_register_commands``, ``magfw_simulate`` on the mission's plugin) or every plugin's
(the notifications). The core never calls ``pm.hook.x(...)`` itself. A level's steps are not
hooks: the runner calls them on the level object directly (:mod:`magfw.engine.steps`).
"""

from __future__ import annotations

import importlib
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

from magfw.errors import MagfwError, PluginError
from magfw.plugin import hookspecs
from magfw.plugin.checks import level_problems, missing_steps
from magfw.plugin.level import LazyLevel, LevelObject, resolve_level, step_is_used, used_steps
from magfw.plugin.loading import Reporter, Warn, build_plugin_manager, strict_default
from magfw.plugin.mission import Mission, MissionRegistry, PluginRegistrar

if TYPE_CHECKING:
    import typer

    from magfw.engine.jobs import RunSummary
    from magfw.period import Period
    from magfw.plugin.context import UnitInfo
    from magfw.plugin.definitions import ProductDefinition

log = logging.getLogger("magfw.plugins")

#: A level object of any stage types (what the registry hands out).
AnyLevelObject = LevelObject[Any, Any, Any, Any, Any, Any]
#: The loaded plugins, picklable (:meth:`Hooks.plugin_spec`): (name, module name or the
#: plugin object, loaded from an entry point).
PluginSpec = tuple[tuple[str, object, bool], ...]


@dataclass(frozen=True, kw_only=True)
class LevelInfo:
    """What ``magfw plugins`` shows for one level of a plugin's mission."""

    mission: str
    level: str
    unit: str
    cls: str  #: the level object's class, ``module.Class``
    steps: list[str]  #: the steps it implements, in call order


@dataclass(frozen=True, kw_only=True)
class PluginInfo:
    """What ``magfw plugins`` shows for one plugin."""

    name: str
    module: str
    distribution: str | None
    version: str | None
    hooks: list[str]
    missions: list[str]
    levels: list[LevelInfo]


class Hooks:
    """The typed facade over the plugin manager, with dispatch by mission."""

    def __init__(
        self, pm: pluggy.PluginManager, *, strict: bool | None = None, warn: Warn | None = None
    ) -> None:
        self.pm = pm
        self.strict = strict_default() if strict is None else strict
        self.registry = MissionRegistry()
        self.warnings: list[str] = []
        self._callers: dict[tuple[int, str], Any] = {}
        self._versions: dict[str, str] = {}
        self._resolved: set[tuple[str, str]] = set()  # lazy level objects imported and checked
        outer = warn or log.warning

        def _warn(text: str) -> None:
            self.warnings.append(text)
            outer(text)

        report = Reporter(self.strict, _warn)
        for name, plugin in list(pm.list_name_plugin()):
            if self._implementer(plugin, "magfw_register_missions"):
                self._register(name, plugin, report)

    def _register(self, name: str, plugin: object, report: Reporter) -> None:
        """Run one plugin's ``magfw_register_missions`` and check its level objects; all of
        its missions are registered, or none."""
        registrar = PluginRegistrar(self.registry, name)
        try:
            self._call(plugin, "magfw_register_missions", registry=registrar)
            for mission in registrar.missions:
                for level in mission.levels.values():  # a lazy one when it is first used
                    if level.pipeline is not None and not isinstance(level.pipeline, LazyLevel):
                        self._check_level(mission, level.name, level.pipeline)
        except Exception as exc:  # an invalid definition, a bug: leave this plugin out
            what = "" if isinstance(exc, PluginError) else "register_missions failed: "
            report(name, f"{what}{_one_line(exc)}", exc)
            self.pm.unregister(plugin)
            return
        for mission in registrar.missions:
            self.registry.add(mission, plugin=name)

    def _check_level(self, mission: Mission, level: str, obj: object) -> None:
        problems = level_problems(obj)
        if problems:
            raise PluginError(None, f"level {mission.id}.{level}: {'; '.join(problems)}")
        missing = missing_steps(obj)
        if missing:
            mixins = ", ".join(f"No{s.capitalize()}" for s in missing)
            warnings.warn(
                f"level {mission.id}.{level} has no {', '.join(missing)}: the data pass through; "
                f"say so by inheriting magfw.api.{mixins} (absent steps are deprecated)",
                DeprecationWarning,
                stacklevel=2,
            )

    # -- calling one plugin's hook ----------------------------------------------------------

    def _implementer(self, plugin: object, hook: str) -> str | None:
        """The name under which ``plugin`` implements ``hook``: ``hook`` itself, its
        deprecated unprefixed name, or None."""
        old = next((o for o, new in hookspecs.DEPRECATED.items() if new == hook), None)
        for name in (hook, old):
            if name and any(i.plugin is plugin for i in getattr(self.pm.hook, name).get_hookimpls()):
                return name
        return None

    def _call(self, plugin: object, hook: str, **kwargs: Any) -> Any:
        """Call ``hook`` on ``plugin`` alone; its result (None if it does not implement it)."""
        name = self._implementer(plugin, hook)
        if name is None:
            return None
        key = (id(plugin), name)
        if key not in self._callers:
            others = [p for p in self.pm.get_plugins() if p is not plugin]
            self._callers[key] = self.pm.subset_hook_caller(name, remove_plugins=others)
        results = self._callers[key](**kwargs)
        return results[0] if results else None

    def owner(self, mission_id: str) -> object:
        """The plugin object that registered ``mission_id``."""
        mission = self.registry.get(mission_id)
        plugin = self.pm.get_plugin(mission.plugin)
        if plugin is None:
            raise PluginError(None, f"plugin {mission.plugin!r} of mission {mission_id!r} is gone")
        return plugin

    def level_object(self, mission_id: str, level: str) -> AnyLevelObject:
        """The level object of ``mission_id``'s ``level``; a lazy one is imported and checked
        here, the first time (a PluginError names its problems)."""
        mission = self.registry.get(mission_id)
        lvl = mission.level(level)
        if lvl.pipeline is None:
            raise MagfwError(None, f"{mission_id} {level}: not implemented yet")
        if isinstance(lvl.pipeline, LazyLevel) and (mission_id, level) not in self._resolved:
            try:
                lvl.pipeline.resolve()
            except Exception as exc:
                raise PluginError(None, f"level {mission_id}.{level}: cannot load: {_one_line(exc)}") from exc
            self._check_level(mission, level, lvl.pipeline)
            self._resolved.add((mission_id, level))
        return lvl.pipeline

    def implements(self, mission_id: str, level: str, step: str) -> bool:
        """Whether the level object of ``mission_id``'s ``level`` does the work of ``step``."""
        return step_is_used(self.level_object(mission_id, level), step)

    def register_commands(self, app: typer.Typer) -> None:
        for _name, plugin in self.pm.list_name_plugin():
            self._call(plugin, "magfw_register_commands", app=app)

    def can_simulate(self, mission: str) -> bool:
        """Whether ``mission``'s plugin ships a simulator (implements ``magfw_simulate``)."""
        return self._implementer(self.owner(mission), "magfw_simulate") is not None

    def simulate(
        self, mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int
    ) -> Path:
        """``magfw_simulate`` on the plugin that registered ``mission``: the archive's root."""
        if not self.can_simulate(mission):
            raise PluginError(None, f"mission {mission!r} has no simulator")
        root = self._call(
            self.owner(mission),
            "magfw_simulate",
            mission=mission,
            period=period,
            out_dir=out_dir,
            spacecraft=spacecraft,
            seed=seed,
        )
        if root is None:
            raise PluginError(None, f"mission {mission!r}: hook magfw_simulate returned nothing")
        return Path(root)

    # -- notifications (every plugin) ------------------------------------------------------

    def _notify(self, hook: str, **kwargs: Any) -> list[str]:
        """Call a notification hook on every plugin implementing it; failures become
        warnings (returned) so one plugin cannot stop the others."""
        problems = []
        for name, plugin in self.pm.list_name_plugin():
            try:
                self._call(plugin, hook, **kwargs)
            except Exception as exc:  # noqa: BLE001 - reported, never fatal
                log.warning("plugin %s: %s failed", name, hook, exc_info=True)
                problems.append(f"plugin {name!r}: {hook} failed: {_one_line(exc)}")
        return problems

    def product_written(self, ctx: UnitInfo, path: Path, definition: ProductDefinition) -> list[str]:
        return self._notify("magfw_product_written", ctx=ctx, path=path, definition=definition)

    def run_finished(self, summary: RunSummary) -> list[str]:
        return self._notify("magfw_run_finished", summary=summary)

    # -- introspection ------------------------------------------------------------------------

    def _plugin_meta(self) -> dict[str, tuple[str, str | None, str | None]]:
        """(module, distribution, version) of every registered plugin, by name."""
        dists = {id(p): d for p, d in self.pm.list_plugin_distinfo()}
        out = {}
        for name, plugin in self.pm.list_name_plugin():
            dist = dists.get(id(plugin))
            out[name] = (
                _module_name(plugin),
                dist.metadata["Name"] if dist else None,
                dist.version if dist else None,
            )
        return out

    def plugin_infos(self) -> list[PluginInfo]:
        """Every registered plugin, with its hooks, missions and levels (each level's code
        imported to name its class and steps)."""
        meta = self._plugin_meta()
        infos = []
        for name, plugin in sorted(self.pm.list_name_plugin()):
            missions = [m for m in self.registry if m.plugin == name]
            levels = [
                LevelInfo(
                    mission=m.id,
                    level=lvl.name,
                    unit=lvl.unit,
                    cls=_class_name(self.level_object(m.id, lvl.name)),
                    steps=used_steps(lvl.pipeline),
                )
                for m in missions
                for lvl in m.levels.values()
                if lvl.pipeline is not None
            ]
            module, distribution, version = meta[name]
            infos.append(
                PluginInfo(
                    name=name,
                    module=module,
                    distribution=distribution,
                    version=version,
                    hooks=sorted(h.name for h in (self.pm.get_hookcallers(plugin) or [])),
                    missions=[m.id for m in missions],
                    levels=levels,
                )
            )
        return infos

    def plugin_version(self, mission_id: str) -> str:
        """The mission's plugin, its module and distribution, e.g. ``stereo plugin
        magfw_stereo.plugin (magfw 0.1.0)``: part of the ledger's versions, of every product's
        software attribute, and of the one line of a step that failed."""
        if mission_id not in self._versions:
            name = self.registry.get(mission_id).plugin
            text = f"{name} plugin"
            if name in (meta := self._plugin_meta()):
                module, distribution, version = meta[name]
                dist = f"{distribution} {version or 'unversioned'}" if distribution else "no distribution"
                text = f"{name} plugin {module} ({dist})"
            self._versions[mission_id] = text
        return self._versions[mission_id]

    def missions(self) -> list[Mission]:
        return list(self.registry)

    def plugin_spec(self) -> PluginSpec:
        """A picklable description of the loaded plugins, to rebuild the same set in a worker
        process: (name, module name or the plugin object itself, loaded from an entry point)."""
        from_eps = {id(p) for p, _ in self.pm.list_plugin_distinfo()}
        return tuple(
            (
                name,
                plugin.__name__ if isinstance(plugin, ModuleType) else plugin,
                id(plugin) in from_eps,
            )
            for name, plugin in self.pm.list_name_plugin()
        )


def _class_name(obj: object) -> str:
    kind = type(resolve_level(obj))
    return f"{kind.__module__}.{kind.__qualname__}"


def _module_name(plugin: object) -> str:
    if isinstance(plugin, ModuleType):
        return plugin.__name__
    return f"{type(plugin).__module__}.{type(plugin).__qualname__}"


def _one_line(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, MagfwError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


_cached: Hooks | None = None
_by_spec: dict[tuple[str, ...], Hooks] = {}


def hooks_from_spec(spec: PluginSpec, *, strict: bool = False) -> Hooks:
    """The facade over exactly the plugins of ``spec`` (see :meth:`Hooks.plugin_spec`), built
    once per process: how worker processes get the caller's plugins, not the environment's."""
    key = tuple(name for name, _, _ in spec)
    if key not in _by_spec:
        pm = build_plugin_manager(
            autoload=True,
            allow=[name for name, _, from_ep in spec if from_ep],
            strict=strict,
            extra=[
                (name, importlib.import_module(p) if isinstance(p, str) else p)
                for name, p, from_ep in spec
                if not from_ep
            ],
        )
        _by_spec[key] = Hooks(pm, strict=strict)
    return _by_spec[key]


def get_hooks(*, refresh: bool = False, warn: Warn | None = None) -> Hooks:
    """The process-wide facade over the environment's plugins (built once per process).

    ``warn`` receives each one-line warning about a plugin left out (default: the log)."""
    global _cached
    if _cached is None or refresh:
        _cached = Hooks(build_plugin_manager(warn=warn), warn=warn)
    return _cached


def mission_registry() -> MissionRegistry:
    """The missions of the environment's plugins (for plugin commands that need a
    definition outside a run)."""
    return get_hooks().registry

"""Loading plugins and calling their hooks through a typed facade.

Plugins come from the ``magfw.missions`` entry-point group (the bundled missions are registered
there exactly like third-party ones). ``MAGFW_DISABLE_PLUGIN_AUTOLOAD=1`` stops entry-point
loading; ``MAGFW_PLUGINS`` is a comma-separated list of entry-point names or importable modules:
with autoload on it limits which entry points load, with autoload off it names what to load.
``MAGFW_TRACE_PLUGINS=1`` logs every hook call.

Each mission's levels carry a level object; :class:`Hooks` registers it with pluggy as
``mission.level`` and calls a unit's steps on that object alone. The core never calls
``pm.hook.x(...)`` directly: :class:`Hooks` has one typed method per hook.

Checks (:func:`plugin_problems`): a hook name that is not in :mod:`magfw.plugin.hookspecs`, an
argument a hook does not take, a step hook on a plugin module (steps belong on level objects),
a level object without ``fetch``/``read``/``write``, or level steps whose declared types do not
chain. With ``MAGFW_STRICT_PLUGINS=1`` (and always in :mod:`magfw.testing`) each is an error
with a "did you mean"; otherwise the plugin (or the level) is left out with one warning line.
A plugin whose ``register_missions`` raises (an invalid definition, say) is left out with one
line, and every other mission and command keeps working.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import logging
import os
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import distribution, entry_points
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

import pluggy

from magfw.errors import MagfwError, PluginError
from magfw.plugin import hookspecs
from magfw.plugin.mission import Mission, MissionRegistry, PluginRegistrar

if TYPE_CHECKING:
    import typer

    from magfw.engine.jobs import RunSummary
    from magfw.period import Period
    from magfw.plugin.context import Inputs, Product, UnitContext, UnitInfo
    from magfw.plugin.definitions import ProductDefinition

ENTRY_POINT_GROUP = "magfw.missions"
STRICT_ENV = "MAGFW_STRICT_PLUGINS"
log = logging.getLogger("magfw.plugin.manager")

Warn = Callable[[str], None]


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


def strict_default() -> bool:
    """Whether ``MAGFW_STRICT_PLUGINS`` asks for strict plugin checks."""
    return _truthy(os.environ.get(STRICT_ENV))


@dataclass(frozen=True)
class PluginInfo:
    """What ``magfw plugins`` shows for one plugin (a module, or a level object)."""

    name: str
    module: str
    distribution: str | None
    version: str | None
    hooks: list[str]
    missions: list[str]


# ---------------------------------------------------------------------------------------------
# Checking a plugin's hook implementations against the specifications
# ---------------------------------------------------------------------------------------------


def _spec_args() -> dict[str, list[str]]:
    out = {}
    for name, func in vars(hookspecs).items():
        if callable(func) and hasattr(func, f"{hookspecs.PROJECT}_spec"):
            out[name] = list(inspect.signature(func).parameters)
    return out


_SPECS = _spec_args()


def _maybe(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _impls(plugin: object) -> list[tuple[str, str, Callable[..., Any]]]:
    """(attribute, hook name, function) of every ``@hookimpl`` on ``plugin``."""
    out = []
    for attr in dir(plugin):
        if attr.startswith("__"):
            continue
        try:
            func = getattr(plugin, attr)
        except Exception:  # noqa: BLE001 - a property that raises is no hook
            continue
        opts = getattr(func, f"{hookspecs.PROJECT}_impl", None)
        if opts is None or not callable(func):
            continue
        out.append((attr, opts.get("specname") or attr, func))
    return out


def plugin_problems(plugin: object, *, level_object: bool) -> list[str]:
    """What is wrong with ``plugin``'s hook implementations (empty when nothing is).

    ``level_object`` says whether it is a level object (only the level hooks allowed, and
    ``fetch``, ``read`` and ``write`` required) or a plugin module/object.
    """
    problems: list[str] = []
    allowed = (
        set(hookspecs.LEVEL_HOOKS)
        if level_object
        else set(hookspecs.PLUGIN_HOOKS) | set(hookspecs.NOTIFY_HOOKS)
    )
    present: dict[str, Callable[..., Any]] = {}
    misplaced: list[str] = []
    for _attr, hook, func in _impls(plugin):
        if hook not in _SPECS:
            problems.append(f"unknown hook {hook!r}{_maybe(hook, _SPECS)}")
            continue
        if hook not in allowed:
            misplaced.append(hook)
            continue
        params = [p for p in inspect.signature(func).parameters if p != "self"]
        for p in params:
            if p not in _SPECS[hook]:
                problems.append(
                    f"hook {hook!r} has argument {p!r}, which it is not given"
                    f"{_maybe(p, _SPECS[hook])}; {hook} takes "
                    f"({', '.join(_SPECS[hook])})"
                )
        present[hook] = func
    if misplaced:
        names = ", ".join(repr(h) for h in misplaced)
        verb = "does" if len(misplaced) == 1 else "do"
        problems.append(
            f"hook {names} {verb} not belong on a level object: it goes on its plugin"
            if level_object
            else f"hook {names} {verb} not belong on a plugin module: steps go on a level object "
            "(Level(..., pipeline=...), docs/plugins.md)"
        )
    if level_object:
        for required in ("fetch", "read", "write"):
            if required not in present:
                problems.append(f"a level object must implement {required!r}")
        problems += _chain_problems(present)
    return problems


def _chain_problems(present: dict[str, Callable[..., Any]]) -> list[str]:
    """Steps whose declared types do not chain (``read`` returns X, the next step takes Y)."""
    steps = [h for h in hookspecs.LEVEL_HOOKS[1:] if h in present]
    problems: list[str] = []
    previous: tuple[str, Any] | None = None
    for hook in steps:
        hints = _hints(present[hook])
        if previous is not None and hints is not None:
            wanted = hints.get("data")
            got_from, got = previous
            if (
                isinstance(wanted, type)
                and isinstance(got, type)
                and wanted is not object
                and not issubclass(got, wanted)
            ):
                problems.append(
                    f"step {got_from!r} returns {got.__name__} but {hook!r} takes {wanted.__name__}"
                )
        ret = hints.get("return") if hints is not None else None
        previous = (hook, ret) if hook != "write" else None
    return problems


def _hints(func: Callable[..., Any]) -> dict[str, Any] | None:
    try:
        return typing.get_type_hints(func)
    except Exception:  # noqa: BLE001 - annotations that cannot be resolved here are not checked
        return None


# ---------------------------------------------------------------------------------------------
# The plugin manager
# ---------------------------------------------------------------------------------------------


class _Reporter:
    """Warn (one line) or, in strict mode, raise PluginError."""

    def __init__(self, strict: bool, warn: Warn | None) -> None:
        self.strict = strict
        self.warn = warn or log.warning

    def __call__(self, name: str, problem: str, cause: BaseException | None = None) -> None:
        if self.strict:
            raise PluginError(None, f"plugin {name!r}: {problem}") from cause
        self.warn(f"plugin {name!r} not loaded: {problem}")


def build_plugin_manager(
    *,
    autoload: bool | None = None,
    allow: list[str] | None = None,
    extra: list[tuple[str, object]] | None = None,
    warn: Warn | None = None,
    strict: bool | None = None,
) -> pluggy.PluginManager:
    """A plugin manager with the hookspecs and the plugins the environment allows.

    ``autoload``/``allow`` default to ``MAGFW_DISABLE_PLUGIN_AUTOLOAD``/``MAGFW_PLUGINS``;
    ``extra`` registers (name, plugin) pairs directly (tests, ``magfw.testing``). A plugin that
    fails to import, or whose hooks fail :func:`plugin_problems`, is left out with one warning
    line (``warn``, default the log) so one broken plugin cannot break every command; in
    strict mode (``strict``, default ``MAGFW_STRICT_PLUGINS``) it is an error.
    """
    report = _Reporter(strict_default() if strict is None else strict, warn)
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if autoload is None:
        autoload = not _truthy(os.environ.get("MAGFW_DISABLE_PLUGIN_AUTOLOAD"))
    if allow is None and "MAGFW_PLUGINS" in os.environ:
        allow = [s.strip() for s in os.environ["MAGFW_PLUGINS"].split(",") if s.strip()]

    eps = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    wanted = [n for n in sorted(eps) if allow is None or n in allow] if autoload else list(allow or [])
    candidates: list[tuple[str, object, Any]] = []
    for name in wanted:
        try:
            if name in eps:
                candidates.append((name, eps[name].load(), eps[name].dist))
            else:
                candidates.append((name, importlib.import_module(name), None))
        except Exception as exc:  # a broken plugin must not break magfw
            report(name, f"{type(exc).__name__}: {exc}", exc)
    candidates += [(name, plugin, None) for name, plugin in extra or []]
    for name, plugin, dist in candidates:
        problems = plugin_problems(plugin, level_object=False)
        if problems:
            report(name, "; ".join(problems))
            continue
        pm.register(plugin, name=name)
        if dist is not None:
            pm._plugin_distinfo.append((plugin, dist))  # as load_setuptools_entrypoints does
    if _truthy(os.environ.get("MAGFW_TRACE_PLUGINS")):
        pm.trace.root.setwriter(lambda msg: log.info(msg.rstrip()))
        pm.enable_tracing()
    return pm


class Hooks:
    """The typed facade over the plugin manager, with dispatch by mission and level."""

    def __init__(
        self, pm: pluggy.PluginManager, *, strict: bool | None = None, warn: Warn | None = None
    ) -> None:
        self.pm = pm
        self.strict = strict_default() if strict is None else strict
        self.registry = MissionRegistry()
        self.warnings: list[str] = []
        self._level_names: set[str] = set()
        self._callers: dict[tuple[str, str], Any] = {}
        self._versions: dict[str, str] = {}
        outer = warn or log.warning

        def _warn(text: str) -> None:
            self.warnings.append(text)
            outer(text)

        report = _Reporter(self.strict, _warn)
        for name, plugin in list(pm.list_name_plugin()):
            if self._implements(plugin, "register_missions"):
                self._register(name, plugin, report)

    def _register(self, name: str, plugin: object, report: _Reporter) -> None:
        """Run one plugin's ``register_missions`` and register its levels' objects, all or
        nothing."""
        registrar = PluginRegistrar(self.registry, name)
        try:
            self._only(plugin, "register_missions")(registry=registrar)
        except Exception as exc:  # an invalid definition, a bug: leave this plugin out
            report(name, f"register_missions failed: {_one_line(exc)}", exc)
            self.pm.unregister(plugin)
            return
        added: list[str] = []
        try:
            for mission in registrar.missions:
                for level in mission.levels.values():
                    if level.pipeline is None:
                        continue
                    lname = f"{mission.id}.{level.name}"
                    problems = plugin_problems(level.pipeline, level_object=True)
                    if problems:
                        raise PluginError(None, f"level {lname}: {'; '.join(problems)}")
                    if self.pm.get_plugin(lname) is not None:  # an earlier facade's
                        self.pm.unregister(name=lname)
                    self.pm.register(level.pipeline, name=lname)
                    added.append(lname)
        except Exception as exc:
            for lname in added:
                self.pm.unregister(name=lname)
            report(name, _one_line(exc), exc)
            self.pm.unregister(plugin)
            return
        for mission in registrar.missions:
            self.registry.add(mission, plugin=name)
        self._level_names.update(added)

    # -- dispatch ---------------------------------------------------------------------------

    def _implements(self, plugin: object, hook: str) -> bool:
        return any(impl.plugin is plugin for impl in getattr(self.pm.hook, hook).get_hookimpls())

    def _only(self, plugin: object, hook: str) -> Any:
        key = (self.pm.get_name(plugin) or str(id(plugin)), hook)
        if key not in self._callers:
            others = [p for p in self.pm.get_plugins() if p is not plugin]
            self._callers[key] = self.pm.subset_hook_caller(hook, remove_plugins=others)
        return self._callers[key]

    def owner(self, mission_id: str) -> object:
        """The plugin object that registered ``mission_id``."""
        mission = self.registry.get(mission_id)
        plugin = self.pm.get_plugin(mission.plugin)
        if plugin is None:
            raise PluginError(None, f"plugin {mission.plugin!r} of mission {mission_id!r} is gone")
        return plugin

    def level_object(self, mission_id: str, level: str) -> object:
        """The level object of ``mission_id``'s ``level`` (registered as ``mission.level``)."""
        lvl = self.registry.get(mission_id).level(level)
        obj = self.pm.get_plugin(f"{mission_id}.{lvl.name}")
        if obj is None:
            raise MagfwError(None, f"{mission_id} {level}: not implemented yet")
        return obj

    def implements(self, mission_id: str, level: str, hook: str) -> bool:
        """Whether the level object of ``mission_id``'s ``level`` implements ``hook``."""
        return self._implements(self.level_object(mission_id, level), hook)

    def _call_level(self, hook: str, ctx: UnitContext, **kwargs: Any) -> Any:
        obj = self.level_object(ctx.mission.id, ctx.level)
        if not self._implements(obj, hook):
            if hook in hookspecs.OPTIONAL_STEPS:
                return kwargs["data"]  # a step the level does not need passes data through
            raise PluginError(
                None, f"{ctx.mission.id} {ctx.level}: the level object does not implement {hook}"
            )
        try:
            result = self._only(obj, hook)(ctx=ctx, **kwargs)
        except MagfwError:
            raise
        except Exception as exc:
            raise PluginError(
                None,
                f"{ctx.mission.id} {ctx.level}: hook {hook} of "
                f"{self.plugin_version(ctx.mission.id)} failed: "
                f"{_one_line(exc)}",
            ) from exc
        if result is None:
            raise PluginError(
                None,
                f"{ctx.mission.id} {ctx.level}: hook {hook} returned "
                f"nothing ({self.plugin_version(ctx.mission.id)})",
            )
        return result

    def _notify(self, hook: str, **kwargs: Any) -> list[str]:
        """Call a notification hook on every plugin implementing it; failures become
        warnings (returned) so one plugin cannot stop the others."""
        problems = []
        for name, plugin in self.pm.list_name_plugin():
            if name in self._level_names or not self._implements(plugin, hook):
                continue
            try:
                self._only(plugin, hook)(**kwargs)
            except Exception as exc:  # noqa: BLE001 - reported, never fatal
                log.warning("plugin %s: %s failed", name, hook, exc_info=True)
                problems.append(f"plugin {name!r}: {hook} failed: {_one_line(exc)}")
        return problems

    # -- one typed method per hook ------------------------------------------------------------

    def register_commands(self, app: typer.Typer) -> None:
        for name, plugin in self.pm.list_name_plugin():
            if name not in self._level_names and self._implements(plugin, "register_commands"):
                self._only(plugin, "register_commands")(app=app)

    def can_simulate(self, mission: str) -> bool:
        """Whether ``mission``'s plugin ships a simulator (implements ``simulate``)."""
        return self._implements(self.owner(mission), "simulate")

    def simulate(
        self, mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int
    ) -> Path:
        plugin = self.owner(mission)
        if not self._implements(plugin, "simulate"):
            raise PluginError(None, f"mission {mission!r} has no simulator")
        root = self._only(plugin, "simulate")(
            mission=mission, period=period, out_dir=out_dir, spacecraft=spacecraft, seed=seed
        )
        if root is None:
            raise PluginError(None, f"mission {mission!r}: hook simulate returned nothing")
        return Path(root)

    def fetch(self, ctx: UnitContext) -> Inputs:
        return typing.cast("Inputs", self._call_level("fetch", ctx))

    def read(self, ctx: UnitContext, inputs: Inputs) -> object:
        return typing.cast(object, self._call_level("read", ctx, inputs=inputs))

    def calibrate(self, ctx: UnitContext, data: object) -> object:
        return typing.cast(object, self._call_level("calibrate", ctx, data=data))

    def correct(self, ctx: UnitContext, data: object) -> object:
        return typing.cast(object, self._call_level("correct", ctx, data=data))

    def transform(self, ctx: UnitContext, data: object) -> object:
        return typing.cast(object, self._call_level("transform", ctx, data=data))

    def average(self, ctx: UnitContext, data: object) -> object:
        return typing.cast(object, self._call_level("average", ctx, data=data))

    def quality(self, ctx: UnitContext, data: object) -> object:
        return typing.cast(object, self._call_level("quality", ctx, data=data))

    def write(self, ctx: UnitContext, data: object) -> list[Product]:
        return list(self._call_level("write", ctx, data=data))

    def product_written(self, ctx: UnitInfo, path: Path, definition: ProductDefinition) -> list[str]:
        return self._notify("magfw_product_written", ctx=ctx, path=path, definition=definition)

    def run_finished(self, summary: RunSummary) -> list[str]:
        return self._notify("magfw_run_finished", summary=summary)

    # -- introspection ------------------------------------------------------------------------

    def plugin_infos(self) -> list[PluginInfo]:
        """Every registered plugin module and level object, with its hooks."""
        dists = {id(p): d for p, d in self.pm.list_plugin_distinfo()}
        infos = []
        for name, plugin in sorted(self.pm.list_name_plugin()):
            owner = plugin
            if name in self._level_names:  # a level object belongs to its mission's plugin
                mission_id = name.split(".", 1)[0]
                if mission_id in self.registry:
                    owner = self.pm.get_plugin(self.registry.get(mission_id).plugin) or plugin
            dist = dists.get(id(owner))
            hooks = sorted(h.name for h in (self.pm.get_hookcallers(plugin) or []))
            module = (
                plugin.__name__
                if isinstance(plugin, ModuleType)
                else f"{type(plugin).__module__}.{type(plugin).__qualname__}"
            )
            infos.append(
                PluginInfo(
                    name=name,
                    module=module,
                    distribution=dist.metadata["Name"] if dist else None,
                    version=dist.version if dist else None,
                    hooks=hooks,
                    missions=[m.id for m in self.registry if m.plugin == name],
                )
            )
        return infos

    def plugin_version(self, mission_id: str) -> str:
        """The mission's plugin, its module and distribution, e.g. ``stereo plugin
        magfw_stereo.plugin (magfw 0.1.0)``: part of the ledger's versions, of every product's
        software attribute, and of the one line of a hook that failed."""
        if mission_id not in self._versions:
            name = self.registry.get(mission_id).plugin
            text = f"{name} plugin"
            for info in self.plugin_infos():
                if info.name == name:
                    dist = (
                        f"{info.distribution} {info.version or 'unversioned'}"
                        if info.distribution
                        else "no distribution"
                    )
                    text = f"{name} plugin {info.module} ({dist})"
            self._versions[mission_id] = text
        return self._versions[mission_id]

    def missions(self) -> list[Mission]:
        return list(self.registry)

    def plugin_spec(self) -> tuple[tuple[str, object, str | None], ...]:
        """A picklable description of the loaded plugins, to rebuild the same set in a worker
        process: (name, module name or the plugin object itself, distribution name). Level
        objects are not listed: their plugins register them again."""
        dists = {id(p): d.metadata["Name"] for p, d in self.pm.list_plugin_distinfo()}
        return tuple(
            (name, plugin.__name__ if isinstance(plugin, ModuleType) else plugin, dists.get(id(plugin)))
            for name, plugin in self.pm.list_name_plugin()
            if name not in self._level_names
        )


def _one_line(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, MagfwError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


_cached: Hooks | None = None
_by_spec: dict[tuple[str, ...], Hooks] = {}


def hooks_from_spec(spec: tuple[tuple[str, object, str | None], ...], *, strict: bool = False) -> Hooks:
    """The facade over exactly the plugins of ``spec`` (see :meth:`Hooks.plugin_spec`), built
    once per process: how worker processes get the caller's plugins, not the environment's."""
    key = tuple(name for name, _, _ in spec)
    if key not in _by_spec:
        pm = build_plugin_manager(
            autoload=False,
            allow=[],
            strict=strict,
            extra=[(name, importlib.import_module(p) if isinstance(p, str) else p) for name, p, _ in spec],
        )
        for name, _, dist_name in spec:
            if dist_name:
                # as load_setuptools_entrypoints does (Any: pluggy's own typing of the list
                # differs between releases)
                cast(Any, pm)._plugin_distinfo.append((pm.get_plugin(name), distribution(dist_name)))
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

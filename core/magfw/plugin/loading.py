"""Loading plugins into a pluggy plugin manager.

Plugins come from the ``magfw.missions`` entry-point group (the bundled missions are registered
there exactly like third-party ones), loaded with pluggy's own
``load_setuptools_entrypoints`` so that each plugin's distribution is known.
``MAGFW_DISABLE_PLUGIN_AUTOLOAD=1`` stops entry-point loading; ``MAGFW_PLUGINS`` is a
comma-separated list of entry-point names or importable modules: with autoload on it limits
which entry points load, with autoload off it names what to load. ``MAGFW_TRACE_PLUGINS=1``
logs every hook call (and, in the runner, every step call).

A plugin that fails to import, or whose hooks fail :func:`~magfw.plugin.checks.plugin_problems`
(an unknown hook, an argument a hook is not given, a step on a plugin module), is left out
with one warning line; with ``MAGFW_STRICT_PLUGINS=1`` (and always in :mod:`magfw.testing`) it
is an error with a "did you mean".
"""

from __future__ import annotations

import importlib
import logging
import os
import warnings
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points

import pluggy

from magfw.errors import PluginError
from magfw.plugin import hookspecs
from magfw.plugin.checks import plugin_problems

ENTRY_POINT_GROUP = "magfw.missions"
STRICT_ENV = "MAGFW_STRICT_PLUGINS"
TRACE_ENV = "MAGFW_TRACE_PLUGINS"
log = logging.getLogger("magfw.plugins")

Warn = Callable[[str], None]


def truthy(value: str | None) -> bool:
    """Whether an environment value means yes."""
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


def strict_default() -> bool:
    """Whether ``MAGFW_STRICT_PLUGINS`` asks for strict plugin checks."""
    return truthy(os.environ.get(STRICT_ENV))


def tracing() -> bool:
    """Whether ``MAGFW_TRACE_PLUGINS`` asks for every hook and step call to be logged."""
    return truthy(os.environ.get(TRACE_ENV))


class Reporter:
    """Warn (one line) about a plugin left out or, in strict mode, raise PluginError."""

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
    ``extra`` registers (name, plugin) pairs directly (tests, :mod:`magfw.testing`).
    ``warn`` receives each one-line warning (default: the log); ``strict`` defaults to
    ``MAGFW_STRICT_PLUGINS``.
    """
    report = Reporter(strict_default() if strict is None else strict, warn)
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if autoload is None:
        autoload = not truthy(os.environ.get("MAGFW_DISABLE_PLUGIN_AUTOLOAD"))
    if allow is None and "MAGFW_PLUGINS" in os.environ:
        allow = [s.strip() for s in os.environ["MAGFW_PLUGINS"].split(",") if s.strip()]
    eps = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    wanted = [n for n in sorted(eps) if allow is None or n in allow] if autoload else list(allow or [])
    for name in wanted:
        if name in eps:
            _load_entry_point(pm, name, eps[name], report)
        else:
            try:
                plugin: object = importlib.import_module(name)
            except Exception as exc:  # a broken plugin must not break magfw
                report(name, f"{type(exc).__name__}: {exc}", exc)
                continue
            register_checked(pm, name, plugin, report)
    for name, plugin in extra or []:
        register_checked(pm, name, plugin, report)
    if tracing():
        pm.trace.root.setwriter(lambda msg: log.info(msg.rstrip()))
        pm.enable_tracing()
    return pm


def _load_entry_point(pm: pluggy.PluginManager, name: str, ep: EntryPoint, report: Reporter) -> None:
    """Check an entry point's plugin, then let pluggy load it (recording its distribution)."""
    try:
        plugin = ep.load()
    except Exception as exc:  # a broken plugin must not break magfw
        report(name, f"{type(exc).__name__}: {exc}", exc)
        return
    problems = plugin_problems(plugin)
    if problems:
        report(name, "; ".join(problems))
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default", DeprecationWarning)
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=name)
    except Exception as exc:  # noqa: BLE001 - pluggy's own validation
        report(name, f"{type(exc).__name__}: {exc}", exc)


def register_checked(pm: pluggy.PluginManager, name: str, plugin: object, report: Reporter) -> None:
    """Register ``plugin`` under ``name`` if its hooks pass the checks."""
    problems = plugin_problems(plugin)
    if problems:
        report(name, "; ".join(problems))
        return
    try:
        pm.register(plugin, name=name)
    except Exception as exc:  # noqa: BLE001 - pluggy's own validation
        report(name, f"{type(exc).__name__}: {exc}", exc)

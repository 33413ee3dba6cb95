"""The magfw hook specifications: what pluggy carries between the core and the plugins.

pluggy carries what is plugin-wide or one-to-many; a level's steps are not hooks (they are
methods of its level object, called directly: :mod:`magfw.plugin.level`). Every hook is
prefixed ``magfw_``, as pytest prefixes its own, and each says how it is called:

- **Registration** (``magfw_register_missions``, ``magfw_register_commands``): called once on
  every plugin, each call on its own (a failure leaves that plugin out, not the others).
- **Simulation** (``magfw_simulate``): called on the one plugin that registered the mission.
- **Notifications** (``magfw_product_written``, ``magfw_run_finished``): called on every plugin
  that implements them, in registration order; a failure in one is reported as a warning and
  stops neither the others nor the run.

The names without the prefix (``register_missions``, ``register_commands``, ``simulate``) are
the previous release's: they still work, with a ``DeprecationWarning``, until the next release.

The full guide, with an example for every hook, is ``docs/plugins.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import typer

    from magfw.engine.jobs import RunSummary
    from magfw.period import Period
    from magfw.plugin.context import UnitInfo
    from magfw.plugin.definitions import ProductDefinition
    from magfw.plugin.mission import PluginRegistrar

PROJECT = "magfw"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

#: Hooks called once per plugin (each on that plugin alone).
PLUGIN_HOOKS = ("magfw_register_missions", "magfw_register_commands", "magfw_simulate")
#: One-to-many notification hooks.
NOTIFY_HOOKS = ("magfw_product_written", "magfw_run_finished")
#: The previous release's names -> the current ones (still called, with a DeprecationWarning).
DEPRECATED = {
    "register_missions": "magfw_register_missions",
    "register_commands": "magfw_register_commands",
    "simulate": "magfw_simulate",
}

# -------------------------------------------------------------------------------------------
# Registration (called once per plugin at start-up)
# -------------------------------------------------------------------------------------------


@hookspec
def magfw_register_missions(registry: PluginRegistrar) -> None:
    """Add this plugin's missions with ``registry.add(Mission(...))``.

    A mission carries its levels, each with its level object (``pipeline``), and its product
    definitions (usually loaded from YAML with :func:`magfw.api.shipped_definitions` or
    :func:`magfw.api.load_definitions`). Registering a mission id another plugin already
    registered is an error. If this hook raises (an invalid definition, say), the plugin is
    left out with one warning line and every other mission keeps working.
    """


@hookspec
def magfw_register_commands(app: typer.Typer) -> None:
    """Add CLI sub-commands, e.g. ``app.add_typer(stereo_app, name="stereo")``.

    Called for every plugin when the CLI is built. Commands report a user's mistake by
    raising :class:`magfw.api.UsageError` (exit 2) and a failure by raising
    :class:`magfw.api.MagfwError` or a subclass (exit 1); the CLI prints one line.
    """


# -------------------------------------------------------------------------------------------
# Simulation (called on the plugin that registered the mission)
# -------------------------------------------------------------------------------------------


@hookspec
def magfw_simulate(mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int) -> Path:
    """Write a simulated raw-input archive of ``mission`` for ``period`` under ``out_dir``;
    return its root.

    The archive has the real source's layout, names and formats, so ``fetch`` reads it as it
    would the real one; the true field is written beside it (under ``out_dir/truth``). Output
    must depend only on (day, spacecraft, seed), so that simulating overlapping periods gives
    identical files. The core then leaves a marker at the root (``MAGFW-SIMULATED.json``) so
    that products made from this archive say they are simulated however it is given.
    """


# -------------------------------------------------------------------------------------------
# Notifications (one-to-many: every plugin that implements them is called)
# -------------------------------------------------------------------------------------------


@hookspec
def magfw_product_written(ctx: UnitInfo, path: Path, definition: ProductDefinition) -> None:
    """A product file was committed into the output tree at ``path`` (called once per file,
    after the unit's files are all in place and recorded in the ledger).

    ``ctx`` says which unit it belongs to (mission, level, spacecraft, unit, version, reason,
    whether simulated). Runs in the coordinating process. A failure is reported as a warning
    in the run summary; it never undoes the commit.
    """


@hookspec
def magfw_run_finished(summary: RunSummary) -> None:
    """A ``magfw run`` (or a plugin command that runs a level) has finished: every unit's
    result, what was written and what failed are in ``summary``.

    Notifications and publishing hang here. A failure is reported as a warning.
    """


# -------------------------------------------------------------------------------------------
# The previous release's names (deprecated)
# -------------------------------------------------------------------------------------------


def _deprecated(new: str) -> DeprecationWarning:
    return DeprecationWarning(f"the magfw hook name without its prefix is deprecated: implement {new}")


@hookspec(warn_on_impl=_deprecated("magfw_register_missions"))
def register_missions(registry: PluginRegistrar) -> None:
    """Deprecated name of :func:`magfw_register_missions`."""


@hookspec(warn_on_impl=_deprecated("magfw_register_commands"))
def register_commands(app: typer.Typer) -> None:
    """Deprecated name of :func:`magfw_register_commands`."""


@hookspec(warn_on_impl=_deprecated("magfw_simulate"))
def simulate(mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int) -> Path:
    """Deprecated name of :func:`magfw_simulate`."""

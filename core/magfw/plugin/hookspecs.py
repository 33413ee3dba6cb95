"""The magfw hook specifications: the contract between the core and mission plugins.

Three kinds of hook:

- **Registration** (``register_missions``, ``register_commands``): called once on every plugin
  module or object at start-up.
- **Level steps** (``fetch``, ``read``, ``calibrate``, ``correct``, ``transform``,
  ``average``, ``quality``, ``write``): implemented by a *level object*, one object per level,
  registered with its :class:`~magfw.plugin.mission.Level` (``Level(..., pipeline=L1())``). The core
  registers it with pluggy under the name ``mission.level`` (``stereo.l1``) and calls its
  steps, and only its steps, for each unit of that level. A step the level does not implement
  is absent: the data pass through unchanged. ``simulate`` is dispatched the same way, to the
  plugin that registered the mission.
- **Notifications** (``magfw_product_written``, ``magfw_run_finished``): one-to-many; every
  plugin that implements them is called, in registration order, and a failure in one is
  reported without stopping the others or the run. Their ``magfw_`` prefix keeps them from
  clashing with a module or function of the same plain name.

Order for one unit: ``fetch`` -> (ledger: skip if unchanged) -> ``read`` -> ``calibrate`` ->
``correct`` -> ``transform`` -> ``average`` -> ``quality`` -> ``write`` -> the runner stages,
commits and records the products -> ``magfw_product_written`` for each file. After the last
unit of a run: ``magfw_run_finished``.

Steps are pure: data in, data out. Only ``fetch`` (through the archive services), ``read``
(through the core readers) and ``simulate`` open files, and only the runner writes into the
output tree. The data a level passes between its steps are its own typed objects (a dataclass
per stage); the core passes them on without looking inside, hence ``object`` here.

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
    from magfw.plugin.context import Inputs, Product, UnitContext, UnitInfo
    from magfw.plugin.definitions import ProductDefinition
    from magfw.plugin.mission import PluginRegistrar

PROJECT = "magfw"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

#: The hooks a level object implements (``fetch`` first, then the steps in call order).
LEVEL_HOOKS = ("fetch", "read", "calibrate", "correct", "transform", "average", "quality", "write")
#: The five middle steps: optional, each ``(ctx, data) -> data``.
OPTIONAL_STEPS = ("calibrate", "correct", "transform", "average", "quality")
#: Hooks called once per plugin module or object (never on level objects).
PLUGIN_HOOKS = ("register_missions", "register_commands", "simulate")
#: One-to-many notification hooks.
NOTIFY_HOOKS = ("magfw_product_written", "magfw_run_finished")

# -------------------------------------------------------------------------------------------
# Registration (called once per plugin at start-up)
# -------------------------------------------------------------------------------------------


@hookspec
def register_missions(registry: PluginRegistrar) -> None:
    """Add this plugin's missions with ``registry.add(Mission(...))``.

    A mission carries its levels, each with its level object (``pipeline``), and its product
    definitions (usually loaded from YAML with :func:`magfw.api.shipped_definitions` or
    :func:`magfw.api.load_definitions`). Registering a mission id another plugin already
    registered is an error. If this hook raises (an invalid definition, say), the plugin is
    left out with one warning line and every other mission keeps working.
    """


@hookspec
def register_commands(app: typer.Typer) -> None:
    """Add CLI sub-commands, e.g. ``app.add_typer(stereo_app, name="stereo")``.

    Called for every plugin when the CLI is built. Commands must report user errors by raising
    :class:`magfw.api.MagfwError` so the CLI prints one line and exits 1 (or 2 for usage).
    """


# -------------------------------------------------------------------------------------------
# Simulation (dispatched to the mission's plugin)
# -------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def simulate(mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int) -> Path:
    """Write a simulated raw-input archive for ``period`` under ``out_dir``; return its root.

    The archive has the real source's layout, names and formats, so ``fetch`` reads it as it
    would the real one; the true field is written beside it (under ``out_dir/truth``). Output
    must depend only on (day, spacecraft, seed), so that simulating overlapping periods gives
    identical files. The core then leaves a marker at the root (``MAGFW-SIMULATED.json``) so
    that products made from this archive say they are simulated however it is given.
    """


# -------------------------------------------------------------------------------------------
# Level steps for one unit (implemented by level objects)
# -------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def fetch(ctx: UnitContext) -> Inputs:
    """Find and bring the unit's inputs through ``ctx.archive``; return them with checksums.

    Pick versions here (highest version wins, duplicates dropped) and include calibration
    tables and kernels as inputs, so that the ledger sees every change; name the versions in
    force in ``Inputs.calibration``, ``Inputs.kernels`` and ``Inputs.selection``. Raise
    :class:`magfw.api.MissingInputError` if a required input is absent; return
    ``Inputs(skip_reason=...)`` if the unit legitimately has nothing to process.
    """


@hookspec(firstresult=True)
def read(ctx: UnitContext, inputs: Inputs) -> object:
    """Decode the fetched files into the level's first stage object (with the core readers).

    Add the number of vectors read to ``ctx.vectors``. Bad files raise
    :class:`magfw.api.InputError` naming the file and the problem.
    """


@hookspec(firstresult=True)
def calibrate(ctx: UnitContext, data: object) -> object:
    """Counts -> physical units (nT): calibration tables with validity ranges and versions,
    temperature correction."""


@hookspec(firstresult=True)
def correct(ctx: UnitContext, data: object) -> object:
    """Timing fixes, spike/glitch/saturation removal, zero offsets, spacecraft-field removal."""


@hookspec(firstresult=True)
def transform(ctx: UnitContext, data: object) -> object:
    """Frame rotations (spacecraft -> RTN / GSE / GSM) and positions (:mod:`magfw.geometry.frames`)."""


@hookspec(firstresult=True)
def average(ctx: UnitContext, data: object) -> object:
    """Re-sampling and averaging (31 ms -> 125 ms, 1 s, 1 min, 10 s...) with correct bin
    edges and time tags as the product definition's ``time_convention`` says."""


@hookspec(firstresult=True)
def quality(ctx: UnitContext, data: object) -> object:
    """Per-sample flags and per-product quality figures."""


@hookspec(firstresult=True)
def write(ctx: UnitContext, data: object) -> list[Product]:
    """Build the unit's products in memory; the runner writes them.

    Return one :class:`magfw.api.Product` per file, with the file-name fields the unit does
    not give (the runner fills the version and the date fields ``yyyy``, ``yy``, ``mm``,
    ``mmm``, ``dd``, ``doy`` from ``ctx.version`` and the unit), the variables and extra
    attributes. The runner adds provenance, stages every file, commits the unit's files
    together and records them in the ledger.
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

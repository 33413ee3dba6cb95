"""The magfw hook specifications: the contract between the core and mission plugins.

Each processing hook is called for one unit of work, and only on the plugin that registered the
unit's mission (explicit dispatch by mission id, never by registration order). A plugin
implements the hooks it needs with ``@magfw.hookimpl``; a step it does not implement passes the
data through unchanged. Steps are pure: data in, data out; only ``fetch`` (through the archive
services), ``read`` (through the core readers) and ``simulate`` touch files, and the runner
writes the products that ``write`` returns.

Order for one unit: ``fetch`` → (ledger: skip if unchanged) → ``read`` → ``calibrate`` →
``correct`` → ``transform`` → ``average`` → ``quality`` → ``write`` → runner writes files.

The full guide, with an example for every hook, is ``docs/plugins.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import typer

    from magfw.context import Inputs, Product, UnitContext
    from magfw.mission import PluginRegistrar
    from magfw.period import Period

PROJECT = "magfw"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

# -------------------------------------------------------------------------------------------
# Registration (called once per plugin at start-up)
# -------------------------------------------------------------------------------------------


@hookspec
def register_missions(registry: PluginRegistrar) -> None:
    """Add this plugin's missions with ``registry.add(Mission(...))``.

    A mission carries its levels and its product definitions (usually loaded from YAML with
    :func:`magfw.products.load_definitions`). Registering a mission id another plugin already
    registered is an error.
    """


@hookspec
def register_commands(app: typer.Typer) -> None:
    """Add CLI sub-commands, e.g. ``app.add_typer(stereo_app, name="stereo")``.

    Called for every plugin when the CLI is built. Commands must report user errors by raising
    :class:`magfw.errors.MagfwError` so the CLI prints one line and exits 1 (or 2 for usage).
    """


# -------------------------------------------------------------------------------------------
# Simulation (dispatched to the mission's plugin)
# -------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def simulate(
    mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int
) -> Path:
    """Write a simulated raw-input archive for ``period`` under ``out_dir``; return its root.

    The archive has the real source's layout, names and formats, so ``fetch`` reads it as it
    would the real one; the true field is written beside it (under ``out_dir/truth``). Output
    must depend only on (day, spacecraft, seed), so that simulating overlapping periods gives
    identical files.
    """


# -------------------------------------------------------------------------------------------
# Processing steps for one unit (dispatched to the mission's plugin)
# -------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def fetch(ctx: UnitContext) -> Inputs:
    """Find and bring the unit's inputs through ``ctx.archive``; return them with checksums.

    Pick versions here (highest version wins, duplicates dropped) and include calibration
    tables and kernels as inputs, so that the ledger sees every change. Raise
    :class:`magfw.errors.MissingInputError` if a required input is absent; return
    ``Inputs(skip_reason=...)`` if the unit legitimately has nothing to process.
    """


@hookspec(firstresult=True)
def read(ctx: UnitContext, inputs: Inputs) -> Any:
    """Decode the fetched files into arrays (with the core readers); return the mission's data.

    Add the number of vectors read to ``ctx.vectors``. Bad files raise
    :class:`magfw.errors.InputError` naming the file and the problem.
    """


@hookspec(firstresult=True)
def calibrate(ctx: UnitContext, data: Any) -> Any:
    """Counts → physical units (nT): calibration tables with validity ranges and versions,
    temperature correction."""


@hookspec(firstresult=True)
def correct(ctx: UnitContext, data: Any) -> Any:
    """Timing fixes, spike/glitch/saturation removal, zero offsets, spacecraft-field removal."""


@hookspec(firstresult=True)
def transform(ctx: UnitContext, data: Any) -> Any:
    """Frame rotations (spacecraft → RTN / GSE / GSM) and positions (:mod:`magfw.frames`)."""


@hookspec(firstresult=True)
def average(ctx: UnitContext, data: Any) -> Any:
    """Re-sampling and averaging (31 ms → 125 ms, 1 s, 1 min, 10 s...) with correct bin edges
    and time tags as the product definition's ``time_convention`` says."""


@hookspec(firstresult=True)
def quality(ctx: UnitContext, data: Any) -> Any:
    """Per-sample flags and per-product quality figures."""


@hookspec(firstresult=True)
def write(ctx: UnitContext, data: Any) -> list[Product]:
    """Build the unit's products in memory; the runner writes them.

    Return one :class:`magfw.context.Product` per file, with the file-name fields (the runner
    adds the version from ``ctx.version``), variables and extra attributes. The runner adds
    provenance, writes every product atomically and records it in the ledger.
    """

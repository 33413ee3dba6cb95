"""The provenance attributes the runner adds to every product.

Which attribute holds what is the product definition's choice (``provenance:`` in its YAML;
ISTP names by default): the input files it was made from, the software (core and plugin,
named apart), the creation time, the calibration versions and files in force, the SPICE
kernels, whether the inputs were simulated, and why this version was made.

Calibration is one text in every format (CDF, netCDF, flat file): its entries joined by
``"; "`` (:data:`CALIBRATION_SEPARATOR`): the unit's own versions in force (``name=version``),
its calibration files not named by one of them, then the calibration its input *products*
carry (from the ledger: :meth:`~magfw.plugin.context.UnitContext.product_input`), each entry
once, so a derived product names the calibration of what it was made from; ``none`` when there
is none. The ledger keeps the entries of each unit for the products made from it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from magfw.plugin.context import CALIBRATION_ROLE, KERNEL_ROLE, Inputs, Product, UnitContext

SIMULATED_TEXT = "SIMULATED by magfw: not real data"


def software_text(core_version: str, plugin_version: str) -> str:
    """``magfw 0.1.0 (core); magfw_stereo 0.1.0 (plugin, distribution magfw)``."""
    return f"magfw {core_version} (core); {plugin_version}"


#: Between the entries of the calibration attribute.
CALIBRATION_SEPARATOR = "; "


def calibration_entries(inputs: Inputs) -> list[str]:
    """The calibration of a unit's products, each entry once: the versions in force
    (``name=version``), the calibration files not named by one of them, then the entries the
    input products carry (inherited)."""
    own = [f"{k}={v}" for k, v in sorted(inputs.calibration.items())]
    own += [f.name for f in inputs.by_role(CALIBRATION_ROLE) if not any(f.name in c for c in own)]
    inherited = [c for f in inputs.files for c in f.calibration if c != "none"]
    return list(dict.fromkeys(own + inherited))


def calibration_text(inputs: Inputs) -> str:
    """The calibration attribute: :func:`calibration_entries` joined by ``"; "`` (``none``)."""
    return CALIBRATION_SEPARATOR.join(calibration_entries(inputs)) or "none"


def provenance_attrs(ctx: UnitContext, product: Product, inputs: Inputs, software: str) -> dict[str, Any]:
    """The attributes for ``product`` of the unit in ``ctx`` (names from its definition; a name
    the definition leaves out, null, is not written)."""
    names = product.definition.provenance
    data_inputs = [f.name for f in inputs.files if f.role not in (KERNEL_ROLE, CALIBRATION_ROLE)]
    if product.inputs is not None:  # the product says which of the unit's inputs it came from
        data_inputs = list(product.inputs)
    values: dict[str | None, Any] = {
        names.inputs: data_inputs or ["none"],
        names.software: software,
        names.created: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        names.calibration: calibration_text(inputs),
        names.kernels: [f.name for f in inputs.by_role(KERNEL_ROLE)] or ["none"],
        names.simulated: SIMULATED_TEXT if ctx.simulated else "observed",
        names.reason: ctx.reason or "first version",
    }
    return {name: value for name, value in values.items() if name}

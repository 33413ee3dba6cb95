"""Calling a level object's steps for one unit: directly, typed, timed, traced.

:func:`fetch_inputs` runs ``fetch`` (the runner then asks the ledger whether the unit changed);
:func:`run_steps` runs ``read`` through ``write`` and returns the products with the time each
step took. A step that raises anything but a :class:`~magfw.errors.MagfwError` is a bug of
the plugin: one line naming the mission, level, step and plugin, the traceback in the log.
With ``MAGFW_TRACE_PLUGINS=1`` every step call is logged with its stage types and duration.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from magfw.errors import MagfwError, PluginError
from magfw.plugin.context import Inputs, Product, UnitContext
from magfw.plugin.level import MIDDLE_STEPS, LevelObject
from magfw.plugin.loading import tracing

log = logging.getLogger("magfw.plugins")


def _call(level: object, step: str, ctx: UnitContext, who: str, times: dict[str, float], *args: Any) -> Any:
    """``level.step(ctx, *args)``, timed into ``times`` and traced; errors in one line."""
    func: Callable[..., Any] | None = getattr(level, step, None)
    if func is None and step in MIDDLE_STEPS:  # an absent step (deprecated): data pass through
        return args[0]
    where = f"{ctx.mission.id} {ctx.level}"
    if func is None:
        raise PluginError(None, f"{where}: the level object does not implement {step}")
    t0 = time.perf_counter()
    try:
        result = func(ctx, *args)
    except MagfwError:
        raise
    except Exception as exc:
        text = " ".join(f"{type(exc).__name__}: {exc}".split())
        raise PluginError(None, f"{where}: step {step} of {who} failed: {text}") from exc
    took = time.perf_counter() - t0
    times[step] = times.get(step, 0.0) + took
    if result is None:
        raise PluginError(None, f"{where}: step {step} returned nothing ({who})")
    if tracing():
        stage = type(args[0]).__name__ if args else "ctx"
        log.info(
            "%s %s: %s(%s) -> %s in %.3f s", where, ctx.unit.key, step, stage, type(result).__name__, took
        )
    return result


def fetch_inputs(
    level: LevelObject[Any, Any, Any, Any, Any, Any], ctx: UnitContext, who: str, times: dict[str, float]
) -> Inputs:
    """The unit's inputs (``fetch``); ``who`` names the plugin in error lines."""
    inputs = _call(level, "fetch", ctx, who, times)
    if not isinstance(inputs, Inputs):
        raise PluginError(None, f"{ctx.mission.id} {ctx.level}: step fetch returned no Inputs ({who})")
    return inputs


def run_steps(
    level: LevelObject[Any, Any, Any, Any, Any, Any],
    ctx: UnitContext,
    inputs: Inputs,
    who: str,
    times: dict[str, float],
) -> list[Product]:
    """``read`` -> the five middle steps -> ``write``: the unit's products in memory, with
    the seconds each step took added to ``times``."""
    data = _call(level, "read", ctx, who, times, inputs)
    for step in MIDDLE_STEPS:
        data = _call(level, step, ctx, who, times, data)
    return list(_call(level, "write", ctx, who, times, data))

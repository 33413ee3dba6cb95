"""Registers the Aditya-L1 MAG mission with magfw (entry point ``magfw.missions: aditya``)
and routes each processing hook to the level's module (:mod:`magfw_aditya.l1`,
:mod:`magfw_aditya.l2`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from magfw import hookimpl
from magfw.context import Inputs, Product, UnitContext
from magfw.mission import Level, LevelOption, Mission, PluginRegistrar
from magfw.period import Period
from magfw.products import shipped_definitions
from magfw_aditya import l1, l2
from magfw_aditya import simulate as sim

MISSION = "aditya"
_LEVELS = {"l1": l1, "l2": l2}


@hookimpl
def register_missions(registry: PluginRegistrar) -> None:
    registry.add(Mission(
        id=MISSION,
        title="Aditya-L1 MAG",
        description="Aditya-L1 dual fluxgate magnetometer (MAG1 at 6 m, MAG2 at 3 m on the boom)",
        levels={
            "l1": Level(name="l1", products=["l1", "l1_preview"],
                        description="from the L0 tars whose first frame falls on the day: 128 ms, "
                                    "both sensors, spacecraft frame, one netCDF + preview per tar"),
            "l2": Level(name="l2", products=["l2", "l2_metadata", "l2_outreach"],
                        needs=["aditya/l1"],
                        description="10-s IMF in GSE and GSM from every L1 file touching the day, "
                                    "with quality flags, XML metadata and outreach image",
                        options=[LevelOption(
                            name="gsm_dipole", choices=["igrf", "fixed2000"], default="igrf",
                            help="GSM pole: IGRF-14 dipole of date (default) or the fixed 2000.0 "
                                 "pole of the public Aditya frames kernel (frame GSM_FIXED2000)")]),
        },
        products=shipped_definitions(MISSION),
    ))


@hookimpl
def simulate(mission: str, period: Period, out_dir: Path, spacecraft: str | None,
             seed: int) -> Path | None:
    if mission != MISSION:
        return None
    return sim.simulate(period, out_dir, seed)


def _level(ctx: UnitContext) -> Any:
    return _LEVELS[ctx.level]


@hookimpl
def fetch(ctx: UnitContext) -> Inputs:
    return _level(ctx).fetch(ctx)


@hookimpl
def read(ctx: UnitContext, inputs: Inputs) -> Any:
    return _level(ctx).read(ctx, inputs)


@hookimpl
def calibrate(ctx: UnitContext, data: Any) -> Any:
    return _level(ctx).calibrate(ctx, data)


@hookimpl
def correct(ctx: UnitContext, data: Any) -> Any:
    return _level(ctx).correct(ctx, data)


@hookimpl
def transform(ctx: UnitContext, data: Any) -> Any:
    return getattr(_level(ctx), "transform", lambda c, d: d)(ctx, data)


@hookimpl
def average(ctx: UnitContext, data: Any) -> Any:
    return getattr(_level(ctx), "average", lambda c, d: d)(ctx, data)


@hookimpl
def quality(ctx: UnitContext, data: Any) -> Any:
    return getattr(_level(ctx), "quality", lambda c, d: d)(ctx, data)


@hookimpl
def write(ctx: UnitContext, data: Any) -> list[Product]:
    return _level(ctx).write(ctx, data)

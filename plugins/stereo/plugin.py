"""Registers the STEREO IMPACT/MAG mission with magfw (entry point ``magfw.missions: stereo``)
and implements its hooks, dispatching on the level: ``prep`` (1-s averages of Berkeley's
unvalidated files), ``l1`` (the daily chain, :mod:`magfw_stereo.l1`) and ``beacon`` (the
10-s beacon chain, :mod:`magfw_stereo.beacon`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from magfw import hookimpl
from magfw.context import Inputs, Product, UnitContext
from magfw.mission import Level, Mission, PluginRegistrar
from magfw.period import Period
from magfw.products import shipped_definitions
from magfw.time import day_bounds_tt2000
from magfw_stereo import beacon, l1, prep
from magfw_stereo import fetch as fetching
from magfw_stereo import products as P
from magfw_stereo import simulate as simulator
from magfw_stereo.commands import register_commands  # noqa: F401

LEVELS = {
    "prep": "1-s averages of Berkeley's unvalidated L1 as flat files, input to the offset work",
    "l1": "daily correction: timing, glitches, offsets, SC and RTN CDFs and UCLA flat files",
    "beacon": "the inactive 10-s beacon chain (STA_LB_MAG_RTN daily CDFs)",
}


@hookimpl
def register_missions(registry: PluginRegistrar) -> None:
    registry.add(Mission(
        id="stereo",
        title="STEREO IMPACT/MAG L1",
        description="STEREO-A and -B magnetometer Level 1 from Berkeley's unvalidated daily CDFs",
        spacecraft=["A", "B"],
        default_spacecraft="A",
        levels={name: Level(name=name, description=text, products=LEVEL_PRODUCTS.get(name, []),
                            implemented=name in LEVEL_PRODUCTS)
                for name, text in LEVELS.items()},
        products=shipped_definitions("stereo"),
    ))


LEVEL_PRODUCTS = {
    "prep": ["prep_1s"],
    "l1": ["l1_mag_sc", "l1_mag_rtn", "l1_magb_sc", "l1_magb_rtn", "l1_mag_sc_ff",
           "l1_mag_rtn_ff", "l1_magb_sc_ff", "l1_magb_rtn_ff", "l1_mag_sc_1s", "l1_mag_rtn_1s",
           "l1_mag_sc_1min", "l1_mag_rtn_1min"],
    "beacon": ["beacon_rtn"],
}


def _sc(ctx: UnitContext) -> str:
    return ctx.spacecraft or "A"


def _bounds(ctx: UnitContext) -> tuple[int, int]:
    t0, t1 = day_bounds_tt2000(ctx.day)
    return int(t0), int(t1)


@hookimpl
def simulate(mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int
             ) -> Path | None:
    if mission != "stereo":
        return None
    return simulator.simulate(period, out_dir, spacecraft, seed)


@hookimpl
def fetch(ctx: UnitContext) -> Inputs:
    sc, day = _sc(ctx), ctx.day
    if ctx.level == "beacon":
        data = fetching.require_beacon(ctx, sc, day)
        table = fetching.counts_table(ctx, sc, day)
        return Inputs(files=[data, table, *fetching.day_kernels(ctx, sc, day)],
                      versions={"counts_table": f"{table.name} {table.version}"})
    normal = fetching.require_normal(ctx, sc, day)
    if ctx.level == "prep":
        return Inputs(files=[normal], versions={"berkeley": normal.version or ""})
    files = [normal]
    burst = fetching.uv_file(ctx, sc, day, burst=True)
    if burst is not None:
        files.append(burst)
    table = fetching.counts_table(ctx, sc, day)
    files.append(table)
    files += fetching.day_kernels(ctx, sc, day)
    return Inputs(files=files, versions={"counts_table": f"{table.name} {table.version}"})


@hookimpl
def read(ctx: UnitContext, inputs: Inputs) -> Any:
    t0, t1 = _bounds(ctx)
    if ctx.level == "beacon":
        bd = beacon.read(ctx, _sc(ctx), t0, t1, inputs)
        ctx.vectors += int(bd.time.size)
        return bd
    if ctx.level == "prep":
        data = prep.read(inputs, t0, t1)
        ctx.vectors += int(data.time.size)
        return data
    data = l1.read(_sc(ctx), ctx.day, t0, t1, inputs)
    ctx.vectors += len(data.normal) + (len(data.burst) if data.burst is not None else 0)
    return data


@hookimpl
def correct(ctx: UnitContext, data: Any) -> Any:
    if ctx.level == "beacon":
        return beacon.correct(data)
    if ctx.level != "l1":
        return data
    data = l1.correct(data)
    ctx.log.info("%s %s: %s", ctx.spacecraft, ctx.day, l1.summary(data))
    return data


@hookimpl
def transform(ctx: UnitContext, data: Any) -> Any:
    return l1.transform(data) if ctx.level == "l1" else data


@hookimpl
def average(ctx: UnitContext, data: Any) -> Any:
    if ctx.level == "prep":
        return prep.average(data)
    if ctx.level == "beacon":
        return beacon.transform_and_average(data)
    return l1.average(data)


@hookimpl
def write(ctx: UnitContext, data: Any) -> list[Product]:
    sc = _sc(ctx)
    if ctx.level == "prep":
        return [P.average_product(ctx, "prep_1s", sc, data.averages)]
    if ctx.level == "beacon":
        return [beacon.product(ctx, data)]
    out: list[Product] = []
    s = data.n8
    for frame, b in (("sc", s.b_sc), ("rtn", s.b_rtn)):
        out.append(P.cdf_product(ctx, f"l1_mag_{frame}", sc, frame, s.time, b, s.btot, s.flags,
                                 s.filter_value))
        out.append(P.flat_product(ctx, f"l1_mag_{frame}_ff", sc, s.time, b, s.btot))
        out.append(P.average_product(ctx, f"l1_mag_{frame}_1s", sc, data.averages[f"{frame}_1s"]))
        out.append(P.average_product(ctx, f"l1_mag_{frame}_1min", sc,
                                     data.averages[f"{frame}_1min"]))
    if data.b32 is not None:
        s = data.b32
        for frame, b in (("sc", s.b_sc), ("rtn", s.b_rtn)):
            out.append(P.cdf_product(ctx, f"l1_magb_{frame}", sc, frame, s.time, b, s.btot,
                                     s.flags, s.filter_value))
            out.append(P.flat_product(ctx, f"l1_magb_{frame}_ff", sc, s.time, b, s.btot))
    return out

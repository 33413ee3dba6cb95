"""A mission whose daily unit writes a UCLA-style flat-file pair: a header ``PAIR_YYYYMMDD.ffh``
and its data ``PAIR_YYYYMMDD.ffd`` (``--kib`` KiB, made from the simulated day's seed). The
version policy is ``fixed``: a regenerated day replaces the pair under the same names, as the
STEREO flat files do, which is what ``magfw publish`` must never half-copy.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from magfw.api import (
    InputFile,
    Inputs,
    Level,
    LevelOption,
    Mission,
    NoMiddleSteps,
    Period,
    PluginRegistrar,
    Product,
    ProductDefinition,
    UnitContext,
    hookimpl,
)


def definition(pid: str, suffix: str) -> ProductDefinition:
    return ProductDefinition.model_validate(
        {
            "id": pid,
            "mission": "pair",
            "level": "l1",
            "format": "bytes",
            "filename": {
                "template": f"PAIR_{{yyyy}}{{mm}}{{dd}}.{suffix}",
                "directory": "flat/{yyyy}",
                "fields": {
                    "yyyy": {"kind": "int", "width": 4},
                    "mm": {"kind": "int", "width": 2},
                    "dd": {"kind": "int", "width": 2},
                },
            },
            "time_variable": None,
            "variables": [],
            "version": {"policy": "fixed", "start": 0},
        }
    )


class PairL1(NoMiddleSteps):
    """The day's pair: the header names the data's size and SHA-256, as a real one would."""

    def fetch(self, ctx: UnitContext) -> Inputs:
        return Inputs(files=[InputFile.from_fetched(ctx.archive.get(f"{ctx.day:%Y%m%d}.txt"), "data")])

    def read(self, ctx: UnitContext, inputs: Inputs) -> bytes:
        return inputs.files[0].path.read_bytes()

    def write(self, ctx: UnitContext, data: bytes) -> list[Product]:
        block = hashlib.sha256(data).digest()
        body = (block * (ctx.options["kib"] * 32 + 1))[: ctx.options["kib"] * 1024]
        header = f"PAIR {ctx.day} {len(body)} bytes sha256 {hashlib.sha256(body).hexdigest()}\n"
        return [
            Product(definition=ctx.product("pair_ffh"), payload=header.encode()),
            Product(definition=ctx.product("pair_ffd"), payload=body),
        ]


@hookimpl
def magfw_register_missions(registry: PluginRegistrar) -> None:
    registry.add(
        Mission(
            id="pair",
            title="Flat-file pairs",
            levels={
                "l1": Level(
                    name="l1",
                    products=["pair_ffh", "pair_ffd"],
                    pipeline=PairL1(),
                    options=[LevelOption(name="kib", type="int", default=64, help="data size, KiB")],
                )
            },
            products=[definition("pair_ffh", "ffh"), definition("pair_ffd", "ffd")],
        )
    )


@hookimpl
def magfw_simulate(mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int) -> Path:
    for day in period.days():
        (out_dir / f"{day:%Y%m%d}.txt").parent.mkdir(parents=True, exist_ok=True)
        (out_dir / f"{day:%Y%m%d}.txt").write_text(f"{day} seed {seed}\n")
    return out_dir

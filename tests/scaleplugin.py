"""Test missions for scale tests: slow units, dying workers, and a level that needs another."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from magfw.api import (
    InputFile,
    Inputs,
    Level,
    Mission,
    NoMiddleSteps,
    Period,
    PluginRegistrar,
    Product,
    ProductDefinition,
    UnitContext,
    hookimpl,
)


def _definition(pid: str, level: str, template: str) -> ProductDefinition:
    return ProductDefinition.model_validate(
        {
            "id": pid,
            "mission": "chain",
            "level": level,
            "format": "bytes",
            "filename": {
                "template": template,
                "directory": "chain",
                "fields": {"key": {"pattern": r"[0-9-]+"}},
            },
            "time_variable": None,
            "variables": [],
        }
    )


class DayLevel(NoMiddleSteps):
    """``chain l1``: one number a day (the day of the month), slow or dying on request."""

    def __init__(self, plugin: Chain) -> None:
        self.plugin = plugin

    def fetch(self, ctx: UnitContext) -> Inputs:
        return Inputs(files=[InputFile.from_fetched(ctx.archive.get(f"{ctx.day}.txt"), "data")])

    def read(self, ctx: UnitContext, inputs: Inputs) -> list[int]:
        p = self.plugin
        if ctx.unit.key in p.die_on:
            marker = ctx.out_dir / f"died-{ctx.unit.key}"
            if p.die_always or not marker.exists():
                marker.touch()
                os._exit(3)  # the worker process dies abruptly
        time.sleep(p.sleep_s)
        return [int(inputs.files[0].path.read_text())]

    def write(self, ctx: UnitContext, data: list[int]) -> list[Product]:
        body = json.dumps({"value": sum(data), "n": len(data)}).encode()
        return [Product(definition=ctx.product("day"), fields={"key": ctx.unit.key}, payload=body)]


class MonthLevel(NoMiddleSteps):
    """``chain month``: the sum of the month's day numbers present in the tree."""

    def fetch(self, ctx: UnitContext) -> Inputs:
        days = [f for d in ctx.unit.days() for f in ctx.find_products("chain", "day", key=str(d))]
        return Inputs(files=[ctx.product_input(f, "data") for f in days])

    def read(self, ctx: UnitContext, inputs: Inputs) -> list[int]:
        return [json.loads(f.path.read_text())["value"] for f in inputs.files]

    def write(self, ctx: UnitContext, data: list[int]) -> list[Product]:
        body = json.dumps({"value": sum(data), "n": len(data)}).encode()
        return [Product(definition=ctx.product("month"), fields={"key": ctx.unit.key}, payload=body)]


class Chain:
    """``chain l1`` (days) writes one number per day; ``chain month`` (months) sums them.

    ``die_on``: unit keys whose worker process exits abruptly — once (a marker file remembers)
    or always (``die_always``). ``sleep_s``: time each l1 unit takes.
    """

    def __init__(self, die_on: tuple[str, ...] = (), die_always: bool = False, sleep_s: float = 0.0) -> None:
        self.die_on, self.die_always, self.sleep_s = die_on, die_always, sleep_s

    @hookimpl
    def magfw_register_missions(self, registry: PluginRegistrar) -> None:
        registry.add(
            Mission(
                id="chain",
                title="Chain",
                levels={
                    "l1": Level(name="l1", products=["day"], pipeline=DayLevel(self)),
                    "month": Level(
                        name="month",
                        unit="month",
                        products=["month"],
                        needs=["chain/l1"],
                        pipeline=MonthLevel(),
                    ),
                },
                products=[
                    _definition("day", "l1", "DAY_{key}.json"),
                    _definition("month", "month", "MONTH_{key}.json"),
                ],
            )
        )

    @hookimpl
    def magfw_simulate(
        self, mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int
    ) -> Path:
        out_dir.mkdir(parents=True, exist_ok=True)
        for day in period.days():
            (out_dir / f"{day}.txt").write_text(str(day.day))
        return out_dir

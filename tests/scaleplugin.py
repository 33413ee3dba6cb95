"""Test missions for scale tests: slow units, dying workers, and a level that needs another."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from magfw import hookimpl
from magfw.context import InputFile, Inputs, Product, UnitContext
from magfw.mission import Level, Mission, PluginRegistrar
from magfw.period import Period
from magfw.products import ProductDefinition


def _definition(pid: str, level: str, template: str) -> ProductDefinition:
    return ProductDefinition.model_validate({
        "id": pid, "mission": "chain", "level": level, "format": "bytes",
        "filename": {"template": template, "directory": "chain",
                     "fields": {"key": {"pattern": r"[0-9-]+"}}},
        "time_variable": None, "variables": [],
    })


class Chain:
    """``chain l1`` (days) writes one number per day; ``chain month`` (months) sums them.

    ``die_on``: unit keys whose worker process exits abruptly — once (a marker file remembers)
    or always (``die_always``). ``sleep_s``: time each l1 unit takes.
    """

    def __init__(self, die_on: tuple[str, ...] = (), die_always: bool = False,
                 sleep_s: float = 0.0) -> None:
        self.die_on, self.die_always, self.sleep_s = die_on, die_always, sleep_s

    @hookimpl
    def register_missions(self, registry: PluginRegistrar) -> None:
        registry.add(Mission(
            id="chain", title="Chain",
            levels={"l1": Level(name="l1", products=["day"]),
                    "month": Level(name="month", unit="month", products=["month"],
                                   needs=["chain/l1"])},
            products=[_definition("day", "l1", "DAY_{key}.json"),
                      _definition("month", "month", "MONTH_{key}.json")],
        ))

    @hookimpl
    def simulate(self, mission: str, period: Period, out_dir: Path, spacecraft: str | None,
                 seed: int) -> Path:
        out_dir.mkdir(parents=True, exist_ok=True)
        for day in period.days():
            (out_dir / f"{day}.txt").write_text(str(day.day))
        return out_dir

    @hookimpl
    def fetch(self, ctx: UnitContext) -> Inputs:
        if ctx.level == "l1":
            f = ctx.archive.get(f"{ctx.day}.txt")
            return Inputs(files=[InputFile.from_fetched(f, "data")])
        days = [p for d in ctx.unit.days()
                for p in ctx.find_products("chain", "day", key=str(d))]
        return Inputs(files=[InputFile.from_path(p, "data") for p in days])

    @hookimpl
    def read(self, ctx: UnitContext, inputs: Inputs) -> Any:
        if ctx.level == "l1":
            if ctx.unit.key in self.die_on:
                marker = ctx.out_dir / f"died-{ctx.unit.key}"
                if self.die_always or not marker.exists():
                    marker.touch()
                    os._exit(3)  # the worker process dies abruptly
            time.sleep(self.sleep_s)
            return [int(inputs.files[0].path.read_text())]
        return [json.loads(f.path.read_text())["value"] for f in inputs.files]

    @hookimpl
    def write(self, ctx: UnitContext, data: Any) -> list[Product]:
        pid = "day" if ctx.level == "l1" else "month"
        body = json.dumps({"value": sum(data), "n": len(data)}).encode()
        return [Product(definition=ctx.product(pid), fields={"key": ctx.unit.key}, payload=body)]

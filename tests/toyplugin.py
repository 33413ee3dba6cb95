"""A minimal in-test mission plugin that records every hook call (used by the hook tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from magfw import hookimpl
from magfw.context import InputFile, Inputs, Product, UnitContext
from magfw.errors import InputError
from magfw.mission import Level, LevelOption, Mission, PluginRegistrar
from magfw.period import Period
from magfw.products import ProductDefinition

DEFINITION = ProductDefinition.model_validate({
    "id": "summary", "mission": "toy", "level": "l1", "format": "bytes",
    "filename": {"template": "toy/TOY_{day}_V{version}.json",
                 "fields": {"day": {"kind": "int", "width": 8}, "version": {"kind": "int", "width": 2}}},
    "time_variable": None, "variables": [], "version": {"policy": "increment", "start": 0},
})


class Toy:
    """Each step appends its name to ``data["steps"]`` and to ``self.calls``."""

    def __init__(self, mission_id: str = "toy", fail_days: tuple[str, ...] = ()) -> None:
        self.mission_id = mission_id
        self.fail_days = fail_days
        self.calls: list[str] = []

    @hookimpl
    def register_missions(self, registry: PluginRegistrar) -> None:
        self.calls.append("register_missions")
        definition = DEFINITION.model_copy(update={"mission": self.mission_id})
        registry.add(Mission(
            id=self.mission_id, title="Toy",
            levels={"l1": Level(name="l1", products=["summary"], options=[
                LevelOption(name="gain", type="float", default=1.0, help="multiplier")])},
            products=[definition],
        ))

    @hookimpl
    def simulate(self, mission: str, period: Period, out_dir: Path, spacecraft: str | None,
                 seed: int) -> Path:
        self.calls.append("simulate")
        for day in period.days():
            p = out_dir / f"{day:%Y%m%d}.txt"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(" ".join(str(x) for x in np.arange(10) + seed))
        return out_dir

    @hookimpl
    def fetch(self, ctx: UnitContext) -> Inputs:
        self.calls.append("fetch")
        name = f"{ctx.day:%Y%m%d}.txt"
        if not ctx.archive.exists(name):
            return Inputs(skip_reason=f"no file {name}")
        return Inputs(files=[InputFile.from_fetched(ctx.archive.get(name), "data")])

    @hookimpl
    def read(self, ctx: UnitContext, inputs: Inputs) -> dict[str, Any]:
        self.calls.append("read")
        f = inputs.files[0]
        if ctx.unit.key in self.fail_days:
            raise InputError(f.path, "deliberately unreadable")
        values = np.array(f.path.read_text().split(), dtype=float)
        ctx.vectors += len(values)
        return {"values": values, "steps": ["read"]}

    def _step(self, name: str, data: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(name)
        return {**data, "steps": [*data["steps"], name]}

    @hookimpl
    def calibrate(self, ctx: UnitContext, data: dict[str, Any]) -> dict[str, Any]:
        out = self._step("calibrate", data)
        return {**out, "values": out["values"] * ctx.options.get("gain", 1.0)}

    @hookimpl
    def correct(self, ctx: UnitContext, data: dict[str, Any]) -> dict[str, Any]:
        return self._step("correct", data)

    @hookimpl
    def transform(self, ctx: UnitContext, data: dict[str, Any]) -> dict[str, Any]:
        return self._step("transform", data)

    @hookimpl
    def average(self, ctx: UnitContext, data: dict[str, Any]) -> dict[str, Any]:
        out = self._step("average", data)
        return {**out, "mean": float(np.mean(out["values"]))}

    @hookimpl
    def quality(self, ctx: UnitContext, data: dict[str, Any]) -> dict[str, Any]:
        return self._step("quality", data)

    @hookimpl
    def write(self, ctx: UnitContext, data: dict[str, Any]) -> list[Product]:
        self.calls.append("write")
        body = {"mean": data["mean"], "steps": data["steps"], "version": ctx.version,
                "reason": ctx.reason}
        return [Product(definition=ctx.product("summary"),
                        fields={"day": int(f"{ctx.day:%Y%m%d}")},
                        payload=json.dumps(body).encode())]

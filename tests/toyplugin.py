"""A minimal in-test mission plugin whose level object records every hook call.

The toy day is ten numbers ``0..9 + seed``. Its steps do small, checkable things: ``calibrate``
multiplies by ``--gain``, ``correct`` subtracts ``--offset``, ``transform`` reverses the sign
(a "frame change"), ``average`` takes the mean, ``quality`` flags values above ``--limit``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from magfw.api import (
    InputError,
    InputFile,
    Inputs,
    Level,
    LevelOption,
    Mission,
    Period,
    PluginRegistrar,
    Product,
    ProductDefinition,
    UnitContext,
    hookimpl,
)

DEFINITION = ProductDefinition.model_validate(
    {
        "id": "summary",
        "mission": "toy",
        "level": "l1",
        "format": "bytes",
        "filename": {
            "template": "toy/TOY_{yyyy}{mm}{dd}_V{version}.json",
            "fields": {
                "yyyy": {"kind": "int", "width": 4},
                "mm": {"kind": "int", "width": 2},
                "dd": {"kind": "int", "width": 2},
                "version": {"kind": "int", "width": 2},
            },
        },
        "time_variable": None,
        "variables": [],
        "version": {"policy": "increment", "start": 0},
    }
)


@dataclass(frozen=True)
class ToyData:
    """The toy's one stage type: values, the steps applied so far, and the results."""

    values: np.ndarray
    steps: tuple[str, ...]
    mean: float = float("nan")
    flagged: int = 0


class ToyL1:
    """The toy's level object: every step appends its name to ``calls`` of its plugin."""

    def __init__(self, plugin: Toy) -> None:
        self.plugin = plugin

    def _step(self, name: str, data: ToyData, **changes: object) -> ToyData:
        self.plugin.calls.append(name)
        return replace(data, steps=(*data.steps, name), **changes)  # type: ignore[arg-type]

    def fetch(self, ctx: UnitContext) -> Inputs:
        self.plugin.calls.append("fetch")
        name = f"{ctx.day:%Y%m%d}.txt"
        if not ctx.archive.exists(name):
            return Inputs(skip_reason=f"no file {name}")
        return Inputs(files=[InputFile.from_fetched(ctx.archive.get(name), "data")])

    def read(self, ctx: UnitContext, inputs: Inputs) -> ToyData:
        self.plugin.calls.append("read")
        f = inputs.files[0]
        if ctx.unit.key in self.plugin.fail_days:
            raise InputError(f.path, "deliberately unreadable")
        values = np.array(f.path.read_text().split(), dtype=float)
        ctx.vectors += len(values)
        return ToyData(values, ("read",))

    def calibrate(self, ctx: UnitContext, data: ToyData) -> ToyData:
        return self._step("calibrate", data, values=data.values * ctx.options.get("gain", 1.0))

    def correct(self, ctx: UnitContext, data: ToyData) -> ToyData:
        return self._step("correct", data, values=data.values - ctx.options.get("offset", 0.0))

    def transform(self, ctx: UnitContext, data: ToyData) -> ToyData:
        return self._step("transform", data, values=-data.values)

    def average(self, ctx: UnitContext, data: ToyData) -> ToyData:
        return self._step("average", data, mean=float(np.mean(data.values)))

    def quality(self, ctx: UnitContext, data: ToyData) -> ToyData:
        limit = ctx.options.get("limit", 1e9)
        return self._step("quality", data, flagged=int((np.abs(data.values) > limit).sum()))

    def write(self, ctx: UnitContext, data: ToyData) -> list[Product]:
        self.plugin.calls.append("write")
        body = {
            "mean": data.mean,
            "steps": list(data.steps),
            "values": data.values.tolist(),
            "flagged": data.flagged,
            "version": ctx.version,
            "reason": ctx.reason,
        }
        return [Product(definition=ctx.product("summary"), payload=json.dumps(body).encode())]


class Toy:
    """The toy plugin: registers mission ``mission_id`` with one level, ``l1``."""

    def __init__(self, mission_id: str = "toy", fail_days: tuple[str, ...] = ()) -> None:
        self.mission_id = mission_id
        self.fail_days = fail_days
        self.calls: list[str] = []
        self.level = ToyL1(self)

    @hookimpl
    def magfw_register_missions(self, registry: PluginRegistrar) -> None:
        self.calls.append("register_missions")
        definition = DEFINITION.model_copy(update={"mission": self.mission_id})
        registry.add(
            Mission(
                id=self.mission_id,
                title="Toy",
                levels={
                    "l1": Level(
                        name="l1",
                        products=["summary"],
                        pipeline=self.level,
                        options=[
                            LevelOption(name="gain", type="float", default=1.0, help="multiplier"),
                            LevelOption(name="offset", type="float", default=0.0, help="subtracted"),
                            LevelOption(name="limit", type="float", default=1e9, help="flag above"),
                        ],
                    )
                },
                products=[definition],
            )
        )

    @hookimpl
    def magfw_simulate(
        self, mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int
    ) -> Path:
        self.calls.append("simulate")
        for day in period.days():
            p = out_dir / f"{day:%Y%m%d}.txt"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(" ".join(str(x) for x in np.arange(10) + seed))
        return out_dir

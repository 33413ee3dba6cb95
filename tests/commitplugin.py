"""A mission for commit tests: each day writes three files, of two kinds of version policy.

``commit l1``: from the day's ``DAY.txt`` (a number), ``fixed/F_{day}_V01.txt`` (fixed
policy: overwritten in place), ``inc/I_{day}_V{version}.txt`` (increment policy: a new name
per version) and ``inc/J_{day}_V{version}.txt``. Each holds the number and the version.
"""

from __future__ import annotations

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


def _definition(pid: str, template: str, policy: str) -> ProductDefinition:
    return ProductDefinition.model_validate(
        {
            "id": pid,
            "mission": "commit",
            "level": "l1",
            "format": "bytes",
            "filename": {
                "template": template,
                "fields": {
                    "yyyy": {"kind": "int", "width": 4},
                    "mm": {"kind": "int", "width": 2},
                    "dd": {"kind": "int", "width": 2},
                    "version": {"kind": "int", "width": 2},
                },
            },
            "time_variable": None,
            "variables": [],
            "version": {"policy": policy, "start": 1 if policy == "fixed" else 0},
        }
    )


class Day(NoMiddleSteps):
    def fetch(self, ctx: UnitContext) -> Inputs:
        return Inputs(files=[InputFile.from_fetched(ctx.archive.get(f"{ctx.day}.txt"), "data")])

    def read(self, ctx: UnitContext, inputs: Inputs) -> str:
        return inputs.files[0].path.read_text().strip()

    def write(self, ctx: UnitContext, data: str) -> list[Product]:
        body = f"{data} v{ctx.version}\n".encode()
        return [Product(definition=ctx.product(pid), payload=body) for pid in ("fixed", "inc_i", "inc_j")]


class Commit:
    @hookimpl
    def magfw_register_missions(self, registry: PluginRegistrar) -> None:
        registry.add(
            Mission(
                id="commit",
                title="Commit",
                levels={"l1": Level(name="l1", products=["fixed", "inc_i", "inc_j"], pipeline=Day())},
                products=[
                    _definition("fixed", "fixed/F_{yyyy}{mm}{dd}_V{version}.txt", "fixed"),
                    _definition("inc_i", "inc/I_{yyyy}{mm}{dd}_V{version}.txt", "increment"),
                    _definition("inc_j", "inc/J_{yyyy}{mm}{dd}_V{version}.txt", "increment"),
                ],
            )
        )

    @hookimpl
    def magfw_simulate(
        self, mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int
    ) -> Path:
        out_dir.mkdir(parents=True, exist_ok=True)
        for day in period.days():
            (out_dir / f"{day}.txt").write_text(str(day.day + seed))
        return out_dir

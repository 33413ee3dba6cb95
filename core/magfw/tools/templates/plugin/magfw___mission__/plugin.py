"""Registers the __Mission__ mission with magfw (entry point ``magfw.missions: __mission__``).

A plugin module registers missions and may add a simulator and CLI sub-commands; each level's
processing is a level object (:mod:`magfw___mission__.l1`, :mod:`magfw___mission__.l2`).
"""

from __future__ import annotations

from pathlib import Path

from magfw.api import Level, LevelOption, Mission, Period, PluginRegistrar, hookimpl, load_definitions
from magfw___mission__ import simulate as simulator
from magfw___mission__.l1 import L1, SPIKE_NT
from magfw___mission__.l2 import L2

SCHEMAS = Path(__file__).parent / "schemas"


@hookimpl
def magfw_register_missions(registry: PluginRegistrar) -> None:
    registry.add(
        Mission(
            id="__mission__",
            title="__Mission__ magnetometer",
            levels={
                "l1": Level(
                    name="l1",
                    description="10-s calibrated, despiked field",
                    products=["l1"],
                    pipeline=L1(),
                    # --spike-nt 30 on `magfw run __mission__ l1` (or l2, which needs l1)
                    options=[
                        LevelOption(
                            name="spike_nt",
                            type="float",
                            default=SPIKE_NT,
                            min=0.0,
                            help="a sample this far (nT) from its running median is a spike",
                        )
                    ],
                ),
                "l2": Level(
                    name="l2",
                    unit="month",
                    description="1-min averages of the month (netCDF)",
                    products=["l2"],
                    needs=["__mission__/l1"],  # its days are made first
                    inputs_from="output",  # it reads the l1 files of the output tree
                    pipeline=L2(),
                ),
            },
            products=load_definitions(SCHEMAS),
        )
    )


@hookimpl
def magfw_simulate(mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int) -> Path:
    return simulator.simulate(period, out_dir, seed)

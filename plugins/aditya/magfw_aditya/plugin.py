"""Registers the Aditya-L1 MAG mission with magfw (entry point ``magfw.missions: aditya``) and
its simulator. Each level's processing is a level object: :class:`magfw_aditya.l1.L1` and
:class:`magfw_aditya.l2.L2`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from magfw.api import (
    Level,
    LevelOption,
    Mission,
    Period,
    PluginRegistrar,
    hookimpl,
    lazy_level,
    shipped_definitions,
)
from magfw_aditya.commands import magfw_register_commands  # noqa: F401  (a hook of this plugin)
from magfw_aditya.common import MISSION, AdityaSettings

if TYPE_CHECKING:  # mypy checks each level with its real class
    from magfw_aditya.calibrate import Calibrate
    from magfw_aditya.compare import Compare
    from magfw_aditya.l1 import L1
    from magfw_aditya.l2 import L2
    from magfw_aditya.monitor import Monitor
else:  # at run time each is imported when its level is first used (so is the simulator)
    Calibrate = lazy_level("magfw_aditya.calibrate:Calibrate")
    Compare = lazy_level("magfw_aditya.compare:Compare")
    L1 = lazy_level("magfw_aditya.l1:L1")
    L2 = lazy_level("magfw_aditya.l2:L2")
    Monitor = lazy_level("magfw_aditya.monitor:Monitor")


@hookimpl
def magfw_register_missions(registry: PluginRegistrar) -> None:
    registry.add(
        Mission(
            id=MISSION,
            title="Aditya-L1 MAG",
            description="Aditya-L1 dual fluxgate magnetometer (MAG1 at 6 m, MAG2 at 3 m on the boom)",
            levels={
                "l1": Level(
                    name="l1",
                    products=["l1", "l1_meta", "l1_preview"],
                    pipeline=L1(),
                    description="from the L0 tars whose first frame falls on the day: 128 ms, "
                    "both sensors, spacecraft frame, one netCDF + ISSDC meta-file + "
                    "preview per tar",
                ),
                "l2": Level(
                    name="l2",
                    products=["l2", "l2_meta", "l2_metadata", "l2_outreach"],
                    needs=["aditya/l1"],
                    pipeline=L2(),
                    description="10-s IMF in GSE, GSM and SCCS from every L1 file touching "
                    "the day, with quality flags, ISSDC meta-file, provenance XML "
                    "and outreach image",
                    options=[
                        LevelOption(
                            name="gsm_dipole",
                            choices=["igrf", "fixed2000"],
                            default="fixed2000",
                            help="GSM pole: the fixed 2000.0 pole of the public Aditya frames kernel "
                            "(frame GSM_FIXED2000, default) or the IGRF-14 dipole of date",
                        ),
                        LevelOption(
                            name="dual_magnetometer",
                            type="bool",
                            default=False,
                            help="IMF from the per-sample dual-magnetometer combination (q B1 - B2) / "
                            "(q - 1) instead of MAG1 minus the modelled spacecraft field (default, as "
                            "the MAG manual's L2)",
                        ),
                    ],
                ),
                "calibrate": Level(
                    name="calibrate",
                    products=["caldb_revision", "rotation_calibration"],
                    needs=["aditya/l1"],
                    pipeline=Calibrate(),
                    description="offsets of both sensors from the day's spacecraft rotation "
                    "manoeuvre (calibration operations record) -> a new caldb revision "
                    "valid from that day (magfw aditya calibrate rotations)",
                ),
                "compare": Level(
                    name="compare",
                    unit="month",
                    products=["comparison", "comparison_plot"],
                    pipeline=Compare(),
                    description="the month's L2 against DSCOVR or ACE files (dscovr/, ace/ of the "
                    "source): per-component differences and their trend",
                ),
                "monitor": Level(
                    name="monitor",
                    unit="month",
                    products=["monitoring", "monitoring_plot"],
                    pipeline=Monitor(),
                    inputs_from="output",
                    description="quiet-time monitoring of both sensors: per day the differential "
                    "offset and gain ratio from the month's L1, their trend, a plot",
                ),
            },
            products=shipped_definitions(MISSION),
            settings=AdityaSettings,
        )
    )


@hookimpl
def magfw_simulate(mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int) -> Path:
    from magfw_aditya import simulate as sim

    return sim.simulate(period, out_dir, seed)

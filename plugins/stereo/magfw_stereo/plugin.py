"""Registers the STEREO IMPACT/MAG mission with magfw (entry point ``magfw.missions: stereo``).

Each level is a level object in its own module: ``prep`` (:mod:`magfw_stereo.prep`), ``l1``
(:mod:`magfw_stereo.l1`), ``beacon`` (:mod:`magfw_stereo.beacon`), ``offsets``
(:mod:`magfw_stereo.tables`), ``estimate`` (:mod:`magfw_stereo.estimate`), ``merge``
(:mod:`magfw_stereo.merge`) and ``package`` (:mod:`magfw_stereo.package`). The monthly tools
of ``magfw stereo ...`` (:mod:`magfw_stereo.commands`) run those levels through the runner.

Loading the plugin imports none of the level modules or the simulator: each level class is
imported when its level is first used (:func:`magfw.api.lazy_level`); mypy sees the classes
themselves, so every ``Level(..., pipeline=...)`` is still checked end to end.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from magfw.api import (
    AnyLevel,
    DefaultPeriod,
    Level,
    LevelOption,
    Mission,
    Period,
    PluginRegistrar,
    hookimpl,
    lazy_level,
    shipped_definitions,
    zip_preflight,
)
from magfw_stereo.commands import magfw_register_commands  # noqa: F401  (a hook of this plugin)
from magfw_stereo.notify import magfw_run_finished  # noqa: F401  (the notify step)
from magfw_stereo.settings import StereoSettings

if TYPE_CHECKING:  # mypy checks each level with its real class
    from magfw_stereo.beacon import Beacon
    from magfw_stereo.estimate import Estimate
    from magfw_stereo.l1 import L1
    from magfw_stereo.merge import Merge
    from magfw_stereo.package import Package
    from magfw_stereo.prep import Prep
    from magfw_stereo.tables import Offsets
else:  # at run time each is imported when its level is first used
    Beacon = lazy_level("magfw_stereo.beacon:Beacon")
    Estimate = lazy_level("magfw_stereo.estimate:Estimate")
    L1 = lazy_level("magfw_stereo.l1:L1")
    Merge = lazy_level("magfw_stereo.merge:Merge")
    Package = lazy_level("magfw_stereo.package:Package")
    Prep = lazy_level("magfw_stereo.prep:Prep")
    Offsets = lazy_level("magfw_stereo.tables:Offsets")

L1_PRODUCTS = [
    "l1_mag_sc",
    "l1_mag_rtn",
    "l1_magb_sc",
    "l1_magb_rtn",
    "l1_mag_sc_ff",
    "l1_mag_rtn_ff",
    "l1_magb_sc_ff",
    "l1_magb_rtn_ff",
    "l1_mag_sc_1s",
    "l1_mag_rtn_1s",
    "l1_mag_sc_1min",
    "l1_mag_rtn_1min",
]


#: The seed's month: at the start of month N the L1_0 data of month N-2 are complete, and
#: ``auto_step1.sh``/``auto_step2.sh`` process it (``magfw run stereo l1`` without a PERIOD;
#: ``[missions.stereo.default_period] l1 = N`` in magfw.toml changes the lag).
SEED_MONTH = DefaultPeriod("month", 2)


#: ``--aes``: WinZip AES-256 instead of the traditional PKWARE encryption ``unzip -P`` opens.
AES_OPTION = LevelOption(
    name="aes",
    type="bool",
    default=False,
    help="encrypt with WinZip AES-256 (7-Zip, WinZip, pyzipper) instead of "
    "the traditional PKWARE encryption a standard `unzip -P` opens",
)


def levels() -> dict[str, AnyLevel]:
    """The mission's levels, each with its level object."""
    return {
        level.name: level
        for level in (
            Level(
                name="prep",
                products=["prep_1s"],
                pipeline=Prep(),
                default_period=SEED_MONTH,
                description="1-s averages of Berkeley's unvalidated L1 as flat files, input to "
                "the offset work",
            ),
            Level(
                name="offsets",
                unit="month",
                default_period=SEED_MONTH,
                products=["counts_table"],
                pipeline=Offsets(),
                description="the researcher's monthly offsets file imported as the month's "
                "Counts table (a new revision)",
                options=[
                    LevelOption(
                        name="file",
                        help="the researcher's file (a path, or a name "
                        "in the offsets source); default STEREO_{sc}_offset_"
                        "{yyyy}{mon}_avg.txt",
                    ),
                    LevelOption(
                        name="k_from", help="a Counts table to take K (nT/count) from (its last row)"
                    ),
                ],
            ),
            Level(
                name="estimate",
                unit="month",
                default_period=SEED_MONTH,
                products=["offsets_estimate"],
                needs=["stereo/prep"],
                inputs_from="output",
                pipeline=Estimate(),
                description="proposed offsets of a month from the 1-s averages (Davis-Smith), "
                "for the researcher to review",
            ),
            Level(
                name="l1",
                products=L1_PRODUCTS,
                pipeline=L1(),
                default_period=SEED_MONTH,
                description="daily correction: timing, glitches, offsets, SC and RTN CDFs and "
                "UCLA flat files",
            ),
            Level(
                name="merge",
                unit="month",
                default_period=SEED_MONTH,
                products=["monthly_review"],
                needs=["stereo/l1"],
                inputs_from="output",
                pipeline=Merge(),
                description="the month's daily CDFs merged into review CDFs (MAG/MAGB x SC/RTN)",
            ),
            Level(
                name="package",
                unit="month",
                default_period=SEED_MONTH,
                products=["delivery_zip"],
                needs=["stereo/merge"],
                inputs_from="output",
                per_spacecraft=False,
                pipeline=Package(),
                options=[AES_OPTION],
                preflight=zip_preflight,  # MAGFW_ZIP_PASSWORD, before the run
                description="the month's delivery zip for Berkeley (every spacecraft with data)",
            ),
            Level(
                name="beacon",
                products=["beacon_rtn"],
                pipeline=Beacon(),
                description="the inactive 10-s beacon chain (STA_LB_MAG_RTN daily CDFs)",
            ),
        )
    }


@hookimpl
def magfw_register_missions(registry: PluginRegistrar) -> None:
    registry.add(
        Mission(
            id="stereo",
            title="STEREO IMPACT/MAG L1",
            description="STEREO-A and -B magnetometer Level 1 from Berkeley's unvalidated daily CDFs",
            spacecraft=["A", "B"],
            default_spacecraft="A",
            levels=levels(),
            products=shipped_definitions("stereo"),
            settings=StereoSettings,
        )
    )


@hookimpl
def magfw_simulate(mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int) -> Path:
    from magfw_stereo import simulate as simulator

    return simulator.simulate(period, out_dir, spacecraft, seed)

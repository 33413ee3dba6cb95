"""Registers the STEREO PLASTIC + MAG merge with magfw (entry point ``magfw.missions: plastic``).

Three levels, each a level object (docs/plastic.md):

- ``daily`` (unit: day; needs ``stereo/l1``): one day's PLASTIC 1-min file and MAG L1 RTN ->
  the daily merged CDF and flat file (:mod:`magfw_plastic.daily`). A bad input fails that day
  only.
- ``monthly`` (unit: month; needs ``plastic/daily``): the monthly flat file from the month's
  daily merged CDFs in the output tree (:mod:`magfw_plastic.monthly`).
- ``l2`` (unit: year; needs ``plastic/monthly``): the yearly CDF and the 10-min / 1-hr
  averages from the year's daily merged CDFs in the output tree (:mod:`magfw_plastic.yearly`).
- ``package`` (unit: year, every spacecraft; needs ``plastic/l2``): the seed's yearly delivery
  zip ``stereo_PLASTIC_MAG_yearly_cdf_{yyyy}.zip`` (:mod:`magfw_plastic.package`).

So ``magfw run plastic l2 2024 --spacecraft A`` makes everything, ``magfw run plastic daily
2024-03-05`` that day alone, and ``magfw run plastic l2 2024-03`` March's days, March's flat
file and the 2024 yearly products (the other days of 2024 from the tree).

Loading the plugin imports none of the level modules: each level class is imported when its
level is first used (:func:`magfw.api.lazy_level`), mypy seeing the classes themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from magfw.api import (
    DefaultPeriod,
    Level,
    Mission,
    Period,
    PluginRegistrar,
    hookimpl,
    lazy_level,
    shipped_definitions,
    zip_preflight,
)
from magfw_plastic.notify import magfw_run_finished  # noqa: F401  (the notify step)
from magfw_plastic.options import AES, MAG_FROM, VNUM
from magfw_plastic.settings import PlasticSettings

if TYPE_CHECKING:  # mypy checks each level with its real class
    from magfw_plastic.daily import Daily
    from magfw_plastic.monthly import Monthly
    from magfw_plastic.package import Package
    from magfw_plastic.yearly import Yearly
else:  # at run time each is imported when its level is first used
    Daily = lazy_level("magfw_plastic.daily:Daily")
    Monthly = lazy_level("magfw_plastic.monthly:Monthly")
    Package = lazy_level("magfw_plastic.package:Package")
    Yearly = lazy_level("magfw_plastic.yearly:Yearly")

#: Without a PERIOD: the whole year of the STEREO seed's month (the current month minus two),
#: so each monthly run looks at every day of that year again and sees late PLASTIC releases
#: (the seed's "check the L2 data website periodically"); ``[missions.plastic.default_period]
#: l2 = N`` changes the lag.
SEED_YEAR = DefaultPeriod("month", 2, span="year")


@hookimpl
def magfw_register_missions(registry: PluginRegistrar) -> None:
    registry.add(
        Mission(
            id="plastic",
            title="STEREO PLASTIC + MAG merge",
            description="UNH PLASTIC L2 1-D Maxwellian proton moments merged with STEREO MAG L1",
            spacecraft=["A", "B"],
            default_spacecraft="A",
            levels={
                "daily": Level(
                    name="daily",
                    default_period=SEED_YEAR,
                    unit="day",
                    needs=["stereo/l1"],
                    description="daily merged CDF and flat file (one unit per day)",
                    products=["merged_daily", "merged_daily_ff"],
                    options=[VNUM, MAG_FROM],
                    pipeline=Daily(),
                ),
                "monthly": Level(
                    name="monthly",
                    default_period=SEED_YEAR,
                    unit="month",
                    needs=["plastic/daily"],
                    description="monthly merged flat file from the month's daily products",
                    products=["merged_monthly_ff"],
                    pipeline=Monthly(),
                ),
                "l2": Level(
                    name="l2",
                    default_period=SEED_YEAR,
                    unit="year",
                    needs=["plastic/monthly"],
                    description="yearly merged CDF and 10-min / 1-hr averages from the year's daily "
                    "products (runs the days and months of the period first)",
                    products=["merged_yearly", "merged_10min", "merged_1hr"],
                    pipeline=Yearly(),
                ),
                "package": Level(
                    name="package",
                    default_period=SEED_YEAR,
                    unit="year",
                    needs=["plastic/l2"],
                    inputs_from="output",
                    per_spacecraft=False,
                    options=[AES],
                    preflight=zip_preflight,  # MAGFW_ZIP_PASSWORD, before the run
                    description="the year's delivery zip stereo_PLASTIC_MAG_yearly_cdf_{yyyy}.zip for "
                    "UC Berkeley (encrypted when MAGFW_ZIP_PASSWORD is set)",
                    products=["yearly_zip"],
                    pipeline=Package(),
                ),
            },
            products=shipped_definitions("plastic"),
            settings=PlasticSettings,
        )
    )


@hookimpl
def magfw_simulate(mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int) -> Path:
    from magfw_plastic.simulate import simulate_archive

    return simulate_archive(period, out_dir, spacecraft, seed)

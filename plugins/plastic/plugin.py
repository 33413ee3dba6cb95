"""Registers the STEREO PLASTIC + MAG merge with magfw (entry point ``magfw.missions: plastic``).

The processing level is registered but not implemented yet: ``magfw run plastic l2 ...`` says
so and exits 1.
"""

from __future__ import annotations

from magfw import hookimpl
from magfw.mission import Level, Mission, PluginRegistrar
from magfw.products import shipped_definitions


@hookimpl
def register_missions(registry: PluginRegistrar) -> None:
    registry.add(Mission(
        id="plastic",
        title="STEREO PLASTIC + MAG merge",
        description="UNH PLASTIC L2 1-D Maxwellian proton moments merged with STEREO MAG L1",
        spacecraft=["A", "B"],
        default_spacecraft="A",
        levels={"l2": Level(name="l2", description="daily, monthly and yearly merged products",
                            unit="day", needs=["stereo/l1"], implemented=False)},
        products=shipped_definitions("plastic"),
    ))

"""Registers the STEREO IMPACT/MAG mission with magfw (entry point ``magfw.missions: stereo``).

The processing levels are registered but not implemented yet: ``magfw run stereo l1 ...``
says so and exits 1.
"""

from __future__ import annotations

from magfw import hookimpl
from magfw.mission import Level, Mission, PluginRegistrar
from magfw.products import shipped_definitions
from magfw_stereo.commands import register_commands  # noqa: F401

LEVELS = {
    "prep": "1-s averages of Berkeley's unvalidated L1 as flat files, input to the offset work",
    "l1": "daily correction: timing, glitches, offsets, SC and RTN CDFs and UCLA flat files",
    "beacon": "the inactive 10-s beacon chain (STA_LB_MAG_RTN daily CDFs)",
}


@hookimpl
def register_missions(registry: PluginRegistrar) -> None:
    registry.add(Mission(
        id="stereo",
        title="STEREO IMPACT/MAG L1",
        description="STEREO-A and -B magnetometer Level 1 from Berkeley's unvalidated daily CDFs",
        spacecraft=["A", "B"],
        default_spacecraft="A",
        levels={name: Level(name=name, description=text, implemented=False)
                for name, text in LEVELS.items()},
        products=shipped_definitions("stereo"),
    ))

"""Registers the Aditya-L1 MAG mission with magfw (entry point ``magfw.missions: aditya``).

The processing levels are registered but not implemented yet: ``magfw run aditya l1 ...``
says so and exits 1.
"""

from __future__ import annotations

from magfw import hookimpl
from magfw.mission import Level, Mission, PluginRegistrar
from magfw.products import shipped_definitions

LEVELS = {
    "l1": "from L0: 128 ms, both sensors, spacecraft frame, one netCDF per L0 file",
    "l2": "10-s IMF in GSE and GSM with quality flags, metadata XML and outreach image",
}


@hookimpl
def register_missions(registry: PluginRegistrar) -> None:
    registry.add(Mission(
        id="aditya",
        title="Aditya-L1 MAG",
        description="Aditya-L1 dual fluxgate magnetometer (MAG1 at 6 m, MAG2 at 3 m on the boom)",
        levels={name: Level(name=name, description=text, implemented=False)
                for name, text in LEVELS.items()},
        products=shipped_definitions("aditya"),
    ))

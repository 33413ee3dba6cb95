"""A small mission for the ``magfw serve`` tests: tiny daily products in every served format.

``tiny l1`` (spacecraft X and Y), from ``{sc}/{day}.txt`` (a number, the day's seed) and a
calibration table ``cal/TINY_CAL_V01.txt``, writes per day at 1-min cadence:

- ``mag``: a CDF with TT2000 ``Epoch``, ``B`` float32 [N, 3] (GSE), ``BMAG`` float64, ``FLAG``
  uint8 (HAPI integer) and ``STATUS`` uint32 bits (named in ``VAR_NOTES``); every 97th record
  of B is fill;
- ``mag_nc``: a netCDF with UNIX-seconds ``time`` and ``Bx_gse``/``By_gse``/``Bz_gse``;
- ``mag_ff``: a flat file (``TIME``, ``B`` as BX BY BZ);
- ``mag_q``: an XML file with a ``quality`` element.

An input holding ``bad`` fails the unit (InputError, inputs fetched); a missing input fails it
in fetch (missing input); ``skip`` skips it. The values depend on the day and the seed, so a
regeneration with another seed gives other numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from magfw.api import (
    InputError,
    InputFile,
    Inputs,
    Level,
    MissingInputError,
    Mission,
    NoMiddleSteps,
    Period,
    PluginRegistrar,
    Product,
    ProductDefinition,
    UnitContext,
    hookimpl,
)
from magfw.geometry.time import day_bounds_tt2000, tt2000_to_unix

N = 1440
CADENCE_S = 60.0
_FIELDS = {
    "sc": {"choices": ["X", "Y"]},
    "yyyy": {"kind": "int", "width": 4},
    "mm": {"kind": "int", "width": 2},
    "dd": {"kind": "int", "width": 2},
    "version": {"kind": "int", "width": 2},
}


def _definition(
    pid: str,
    fmt: str,
    template: str,
    variables: list[dict],
    dims: dict,
    time_variable: str | None,
    **extra: object,
) -> ProductDefinition:
    return ProductDefinition.model_validate(
        {
            "id": pid,
            "mission": "tiny",
            "level": "l1",
            "format": fmt,
            "description": f"Tiny {pid}; test product",
            "filename": {"template": template, "directory": "tiny/{sc}/{yyyy}", "fields": _FIELDS},
            "cadence_s": CADENCE_S,
            "time_convention": "centre",
            "time_variable": time_variable,
            "dims": dims,
            "variables": variables,
            "version": {"policy": "increment", "start": 0},
            **extra,
        }
    )


MAG = _definition(
    "mag",
    "cdf",
    "TINY_{sc}_MAG_{yyyy}{mm}{dd}_V{version}.cdf",
    [
        {"name": "Epoch", "dtype": "tt2000", "dims": ["time"], "var_type": "support_data"},
        {
            "name": "B",
            "dtype": "float32",
            "dims": ["time", "xyz"],
            "units": "nT",
            "fill": -1e31,
            "description": "Magnetic field in GSE",
            "attrs": {"COORDINATE_SYSTEM": "GSE>Geocentric"},
            "labl_ptr": {"LABL_PTR_1": "B_LABL"},
        },
        {"name": "B_LABL", "dtype": "str", "dims": ["xyz"], "var_type": "metadata", "record_varying": False},
        {
            "name": "BMAG",
            "dtype": "float64",
            "dims": ["time"],
            "units": "nT",
            "fill": -1e31,
            "description": "|B|",
        },
        {
            "name": "FLAG",
            "dtype": "uint8",
            "dims": ["time"],
            "fill": 255,
            "var_type": "support_data",
            "description": "quality flag: 0 good, 1 spike removed",
        },
        {
            "name": "STATUS",
            "dtype": "uint32",
            "dims": ["time"],
            "fill": 4294967295,
            "var_type": "support_data",
            "description": "status bits",
            "attrs": {"VAR_NOTES": "bit 0 spike removed; bit 3 timing glitch fixed"},
        },
    ],
    {"time": None, "xyz": 3},
    "Epoch",
    global_attrs={"Logical_source_description": "Tiny magnetometer, 1 min"},
)
MAG_NC = _definition(
    "mag_nc",
    "netcdf",
    "TINY_{sc}_MAG_{yyyy}{mm}{dd}_V{version}.nc",
    [
        {
            "name": "time",
            "dtype": "float64",
            "dims": ["time"],
            "units": "Seconds (UNIX time)",
            "var_type": "support_data",
        },
        *[
            {
                "name": f"B{c}_gse",
                "dtype": "float32",
                "dims": ["time"],
                "units": "nT",
                "fill": -9999.0,
                "description": f"Field component along the {c.upper()}-axis in GSE frame",
            }
            for c in "xyz"
        ],
    ],
    {"time": None},
    "time",
)
MAG_FF = _definition(
    "mag_ff",
    "flatfile",
    "TINY_{sc}_MAG_1MIN_{yyyy}{mm}{dd}_V{version}.ffh",
    [
        {"name": "TIME", "dtype": "tt2000", "dims": ["time"], "var_type": "support_data"},
        {
            "name": "B",
            "dtype": "float32",
            "dims": ["time", "xyz"],
            "units": "nT",
            "fill": -1e31,
            "description": "Magnetic field in GSE",
            "attrs": {"columns": ["BX", "BY", "BZ"]},
        },
    ],
    {"time": None, "xyz": 3},
    "TIME",
)
MAG_Q = _definition("mag_q", "bytes", "TINY_{sc}_Q_{yyyy}{mm}{dd}_V{version}.xml", [], {"time": None}, None)
DEFINITIONS = [MAG, MAG_NC, MAG_FF, MAG_Q]


def day_values(day_start_tt: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(TT2000 centres, B (N, 3) float32 with NaN where missing) of a tiny day."""
    t = day_start_tt + ((np.arange(N) + 0.5) * CADENCE_S * 1e9).astype(np.int64)
    k = np.arange(N)
    b = np.stack([np.sin(k / 50 + seed), np.cos(k / 70 + seed) * 3, k / 100.0 - seed], 1)
    b = (b * 7.123456).astype(np.float32)
    b[k % 97 == 5] = np.nan
    return t, b


class TinyL1(NoMiddleSteps):
    def fetch(self, ctx: UnitContext) -> Inputs:
        name = f"{ctx.spacecraft}/{ctx.day}.txt"
        if not ctx.archive.exists(name):
            raise MissingInputError(f"{ctx.archive.root}/{name}", "no input for this day")
        files = [InputFile.from_fetched(ctx.archive.get(name), "data")]
        text = files[0].path.read_text().strip()
        if text == "skip":
            return Inputs(skip_reason="nothing observed that day")
        files.append(
            InputFile.from_fetched(ctx.archive.get("cal/TINY_CAL_V01.txt"), "calibration", version="V01")
        )
        return Inputs(files=files, calibration={"cal": "V01"})

    def read(self, ctx: UnitContext, inputs: Inputs) -> int:
        text = inputs.one("data").path.read_text().strip()
        if text == "bad":
            raise InputError(inputs.one("data").path, "corrupt record 12 (deliberately)")
        ctx.vectors += N
        return int(text)

    def write(self, ctx: UnitContext, data: int) -> list[Product]:
        start = int(day_bounds_tt2000(ctx.day)[0])
        t, b = day_values(start, data)
        bmag = np.sqrt((b.astype(np.float64) ** 2).sum(1))
        flag = (np.arange(N) % 97 == 5).astype(np.uint8)
        status = ((np.arange(N) % 97 == 5) * 1 + (np.arange(N) % 200 == 0) * 8).astype(np.uint32)
        sc = {"sc": ctx.spacecraft}
        xml = (f'<?xml version="1.0"?><tiny><quality factor="{9 - data % 3}" scale="1-10"/></tiny>').encode()
        return [
            Product(
                definition=ctx.product("mag"),
                fields=sc,
                variables={
                    "Epoch": t,
                    "B": b,
                    "BMAG": bmag,
                    "FLAG": flag,
                    "STATUS": status,
                    "B_LABL": np.array(["Bx", "By", "Bz"]),
                },
            ),
            Product(
                definition=ctx.product("mag_nc"),
                fields=sc,
                variables={
                    "time": tt2000_to_unix(t),
                    "Bx_gse": b[:, 0],
                    "By_gse": b[:, 1],
                    "Bz_gse": b[:, 2],
                },
            ),
            Product(definition=ctx.product("mag_ff"), fields=sc, variables={"TIME": t, "B": b}),
            Product(definition=ctx.product("mag_q"), fields=sc, payload=xml),
        ]


class Tiny:
    @hookimpl
    def magfw_register_missions(self, registry: PluginRegistrar) -> None:
        registry.add(
            Mission(
                id="tiny",
                title="Tiny test mission",
                spacecraft=["X", "Y"],
                default_spacecraft="X",
                levels={"l1": Level(name="l1", products=[d.id for d in DEFINITIONS], pipeline=TinyL1())},
                products=DEFINITIONS,
            )
        )

    @hookimpl
    def magfw_simulate(
        self, mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int
    ) -> Path:
        for day in period.days():
            p = out_dir / f"{spacecraft}/{day}.txt"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(str(day.day + seed))
        (out_dir / "cal").mkdir(parents=True, exist_ok=True)
        (out_dir / "cal/TINY_CAL_V01.txt").write_text("% day, K, O\n1 0.1 2.0\n2 0.1 2.5\n")
        return out_dir

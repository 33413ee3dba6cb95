"""What Aditya-L1 MAG level 2 reads: the L1 files touching a day, the kernels, the operations
record (shared with the ``calibrate`` and ``monitor`` levels)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import h5py
import numpy as np

from magfw.api import (
    FoundProduct,
    InputError,
    InputFile,
    MissingInputError,
    UnitContext,
    highest,
    pick_highest_version,
    time,
)
from magfw_aditya import calops, spice
from magfw_aditya.l2stages import GSM_DEFAULT, GSM_FRAMES


def l1_span(path: Path) -> tuple[float, float]:
    """First and last time (UNIX s) of an L1 file, reading two values only."""
    try:
        with h5py.File(path, "r") as f:
            t = f["time"]
            return float(t[0]), float(t[-1])
    except Exception as exc:  # noqa: BLE001 - any defect of the file is its own
        raise InputError(path, f"not a readable L1 netCDF: {type(exc).__name__}: {exc}") from exc


def find_l1(ctx: UnitContext) -> list[FoundProduct]:
    """The newest L1 product of each L0 stem that touches the day (the stems of the day and of
    the day before, whose tar may run past midnight), sorted by path."""
    found: list[FoundProduct] = []
    for day in (ctx.day - timedelta(days=1), ctx.day):
        found += ctx.newest_products(ctx.mission.id, "l1", yy=day.year % 100, doy=day.timetuple().tm_yday)
    t0, t1 = time.tt2000_to_unix(np.asarray(time.day_bounds_tt2000(ctx.day.isoformat())))
    out = []
    for f in sorted(found, key=lambda f: f.rel):
        first, last = l1_span(f.path)
        if last >= t0 and first < t1:
            out.append(f)
    return out


def kernel_inputs(ctx: UnitContext, gsm_frame: str) -> tuple[list[InputFile], dict[str, str]]:
    """The day's SPK and CK (highest version of each monthly series), the SCLK, our FK, and
    the GSM_FIXED2000 frames kernel when that GSM is used; and the kernel set by kind."""
    by_kind: dict[str, list[InputFile]] = {"spk": [], "ck": [], "sclk": [], "fk": []}
    for kind in ("spk", "ck"):
        folder = spice.DIRS[kind]
        names = spice.candidates_for(ctx.archive.list(folder), ctx.day)
        parsed = [(n, m) for n in names if (m := spice.NAME.match(n)) is not None]
        best = {
            k: (int(m.group("version")), n)
            for k, (n, m) in highest(
                parsed,
                key=lambda nm: (nm[1].group("start"), nm[1].group("end")),
                version=lambda nm: int(nm[1].group("version")),
                tie=lambda nm: nm[0],
            ).items()
        }
        if not best:
            what = "ephemeris SPK al1_eph_*.bsp" if kind == "spk" else "attitude CK al1_att_*.bc"
            raise MissingInputError(f"{ctx.archive.root}/{folder}", f"no {what} for {ctx.day}")
        by_kind[kind] = [
            InputFile.from_fetched(ctx.archive.get(f"{folder}/{n}"), "kernel", f"v{v}")
            for v, n in best.values()
        ]
    sclks = {
        int(m.group("version")): n
        for n in ctx.archive.list(spice.DIRS["sclk"])
        if (m := spice.SCLK_NAME.match(n))
    }
    if not sclks:
        raise MissingInputError(
            f"{ctx.archive.root}/{spice.DIRS['sclk']}", "no spacecraft clock kernel al1_sclk_vX.tsc"
        )
    v = max(sclks)
    by_kind["sclk"] = [
        InputFile.from_fetched(ctx.archive.get(f"{spice.DIRS['sclk']}/{sclks[v]}"), "kernel", f"v{v}")
    ]
    by_kind["fk"] = [InputFile.from_path(spice.FK_PATH, "kernel", "v01")]
    if gsm_frame == spice.GSM_FIXED_FRAME:
        by_kind["fk"].append(ctx.shipped_input("magfw_aditya", spice.GSM_FK, role="kernel", version="v01"))
    files = [f for kind in ("spk", "ck", "sclk", "fk") for f in by_kind[kind]]
    return files, {kind: ", ".join(f.name for f in fs) for kind, fs in by_kind.items()}


def l1_caldbs(files: list[InputFile]) -> list[str]:
    """The caldb versions (``AL1_MAG_CALDB_Vnn``) in the L1 inputs' calibration_version."""
    out: set[str] = set()
    for f in files:
        try:
            with h5py.File(f.path, "r") as h:
                value = h.attrs.get("calibration_version")
        except OSError as exc:
            raise InputError(f.path, f"not a readable L1 netCDF: {exc}") from exc
        items = value if isinstance(value, np.ndarray | list) else [value]
        for item in items:
            text = item.decode() if isinstance(item, bytes) else str(item)
            for entry in text.split("; "):  # one text, its entries joined by "; "
                if entry.startswith("caldb="):
                    out.add(entry.removeprefix("caldb="))
    return sorted(out)


def ops_input(ctx: UnitContext) -> list[InputFile]:
    """The highest version of the calibration operations record, if the archive has one."""
    if not ctx.archive.exists(calops.OPS_DIR):
        return []
    best = pick_highest_version(ctx.archive.list(calops.OPS_DIR), calops.OPS_PATTERN)
    if not best:
        return []
    name = best["AL1_MAG_CALIBRATION_OPS"]
    m = calops.OPS_PATTERN.search(name)
    return [
        InputFile.from_fetched(
            ctx.archive.get(f"{calops.OPS_DIR}/{name}"), "operations", f"V{m.group('version')}" if m else None
        )
    ]


def gsm_frame(ctx: UnitContext) -> str:
    """The GSM frame the ``--gsm-dipole`` option asks for (default ``fixed2000``)."""
    return GSM_FRAMES[str(ctx.options.get("gsm_dipole") or GSM_DEFAULT)]

"""The example mission: counts at 1 Hz in daily binary files, a calibration table, 10-s L1.

Raw layout (what ``simulate`` writes and ``fetch`` reads)::

    raw/YYYY/EX_RAW_YYYYMMDD.dat   big-endian records: int64 TT2000, 3 x int32 counts
    cal/EX_CAL_Vnn.txt             "scale_nT_per_count offset_x offset_y offset_z"
    truth/EX_TRUTH_YYYYMMDD.npz    the true field (time, B in nT) before counts and spikes
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from magfw import hookimpl
from magfw.context import InputFile, Inputs, Product, UnitContext
from magfw.errors import InputError, MissingInputError
from magfw.fetch import pick_highest_version
from magfw.io.atomic import write_bytes_atomic
from magfw.mission import Level, Mission, PluginRegistrar
from magfw.period import Period
from magfw.products import load_definitions
from magfw.time import tt2000_from_datetime64

RAW = np.dtype([("t", ">i8"), ("c", ">i4", (3,))])
SCALE_NT = 0.01  # nT per count
OFFSET_NT = np.array([3.0, -2.0, 1.5])
CAL_PATTERN = re.compile(r"(?P<key>EX_CAL)_V(?P<version>\d+)\.txt")
BIN_S = 10


@hookimpl
def register_missions(registry: PluginRegistrar) -> None:
    registry.add(Mission(
        id="example",
        title="Example magnetometer",
        levels={"l1": Level(name="l1", description="10-s calibrated field", products=["l1"])},
        products=load_definitions(Path(__file__).parent / "schemas"),
    ))


def _day_start(day: date) -> int:
    return int(tt2000_from_datetime64(np.datetime64(day.isoformat(), "ns")))


@hookimpl
def simulate(mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int) -> Path:
    cal = f"{SCALE_NT} {OFFSET_NT[0]} {OFFSET_NT[1]} {OFFSET_NT[2]}\n"
    write_bytes_atomic(out_dir / "cal" / "EX_CAL_V01.txt", cal.encode())
    for day in period.days():
        rng = np.random.default_rng([seed, day.toordinal()])
        n = 86400
        t = _day_start(day) + np.arange(n, dtype=np.int64) * 1_000_000_000
        phase = np.linspace(0, 2 * np.pi, n)
        truth = np.stack([5 * np.cos(phase), 5 * np.sin(phase), 2 + 0 * phase], axis=1)
        measured = truth + OFFSET_NT + rng.normal(0, 0.02, truth.shape)
        counts = np.round(measured / SCALE_NT).astype(np.int32)
        spikes = rng.choice(n, 20, replace=False)
        counts[spikes, 0] += 50_000  # +500 nT spikes
        rec = np.empty(n, RAW)
        rec["t"], rec["c"] = t, counts
        write_bytes_atomic(out_dir / "raw" / f"{day:%Y}" / f"EX_RAW_{day:%Y%m%d}.dat", rec.tobytes())
        truth_path = out_dir / "truth" / f"EX_TRUTH_{day:%Y%m%d}.npz"
        truth_path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(truth_path, time=t, b=truth, spikes=spikes)
    return out_dir


@hookimpl
def fetch(ctx: UnitContext) -> Inputs:
    day = ctx.day
    name = f"raw/{day:%Y}/EX_RAW_{day:%Y%m%d}.dat"
    if not ctx.archive.exists(name):
        raise MissingInputError(f"{ctx.archive.root}/{name}", "no raw file for this day")
    cals = pick_highest_version(ctx.archive.list("cal"), CAL_PATTERN)
    if not cals:
        raise MissingInputError(f"{ctx.archive.root}/cal", "no calibration table EX_CAL_Vnn.txt")
    cal = ctx.archive.get("cal/" + cals["EX_CAL"])
    version = CAL_PATTERN.search(cal.name).group("version")
    return Inputs(
        files=[InputFile.from_fetched(ctx.archive.get(name), "data"),
               InputFile.from_fetched(cal, "calibration", version=version)],
        versions={"calibration": f"V{version}"},
    )


@hookimpl
def read(ctx: UnitContext, inputs: Inputs) -> dict[str, Any]:
    raw = inputs.by_role("data")[0]
    size = raw.path.stat().st_size
    if size % RAW.itemsize:
        raise InputError(raw.path, f"truncated: {size} bytes is not a whole number of "
                         f"{RAW.itemsize}-byte records")
    rec = np.fromfile(raw.path, RAW)
    cal_file = inputs.by_role("calibration")[0]
    try:
        cal = np.array(cal_file.path.read_text().split(), dtype=float)
        if cal.shape != (4,):
            raise ValueError(f"expected 4 numbers, found {cal.size}")
    except ValueError as exc:
        raise InputError(cal_file.path, f"bad calibration table: {exc}") from None
    ctx.vectors += len(rec)
    return {"time": rec["t"].astype(np.int64), "counts": rec["c"].astype(np.float64), "cal": cal}


@hookimpl
def calibrate(ctx: UnitContext, data: dict[str, Any]) -> dict[str, Any]:
    scale, offsets = data["cal"][0], data["cal"][1:]
    return {**data, "b": data["counts"] * scale - offsets}


@hookimpl
def correct(ctx: UnitContext, data: dict[str, Any]) -> dict[str, Any]:
    """Remove spikes: samples more than 50 nT from a 9-sample running median."""
    b = data["b"]
    pad = np.pad(b, ((4, 4), (0, 0)), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(pad, 9, axis=0)
    median = np.median(windows, axis=-1)
    spike = (np.abs(b - median) > 50).any(axis=1)
    clean = b.copy()
    clean[spike] = np.nan
    return {**data, "b": clean, "spike": spike}


@hookimpl
def average(ctx: UnitContext, data: dict[str, Any]) -> dict[str, Any]:
    """10-s bins from the day's 00:00:00; stamps at bin centres; NaN-aware means."""
    t0 = _day_start(ctx.day)
    n_bins = 86400 // BIN_S
    idx = ((data["time"] - t0) // (BIN_S * 1_000_000_000)).astype(np.int64)
    ok = (idx >= 0) & (idx < n_bins)
    b, idx, spike = data["b"][ok], idx[ok], data["spike"][ok]
    good = ~np.isnan(b).any(axis=1)
    counts = np.bincount(idx[good], minlength=n_bins)
    sums = np.stack([np.bincount(idx[good], b[good, k], minlength=n_bins) for k in range(3)], 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts[:, None]
    flag = np.where(counts == 0, 2, np.where(np.bincount(idx, spike, minlength=n_bins) > 0, 1, 0))
    epoch = t0 + (np.arange(n_bins) * BIN_S + BIN_S // 2) * 1_000_000_000
    return {"epoch": epoch.astype(np.int64), "b": mean, "flag": flag.astype(np.uint8)}


@hookimpl
def write(ctx: UnitContext, data: dict[str, Any]) -> list[Product]:
    d = ctx.product("l1")
    b = np.where(np.isnan(data["b"]), -1e31, data["b"]).astype(np.float32)
    day = ctx.day
    return [Product(
        definition=d,
        fields={"yyyy": day.year, "mm": day.month, "dd": day.day},
        variables={"Epoch": data["epoch"], "B": b, "B_LABL": np.array(["Bx", "By", "Bz"]),
                   "FLAG": data["flag"]},
        attrs={"Logical_file_id": f"EX_L1_MAG_{day:%Y%m%d}_V{ctx.version:02d}"},
    )]

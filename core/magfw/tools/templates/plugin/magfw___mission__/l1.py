"""Level ``l1``: daily raw counts at 1 Hz -> calibrated, despiked 10-s averages (one CDF).

The level object :class:`L1` has one method per step; each is a pure function of the
previous stage (a frozen dataclass per stage), so it can be tested on arrays alone, and mypy
checks that each step takes what the one before it returns. The field stays in the sensor
frame, so the level has no ``transform``: the ``NoTransform`` mixin passes the data through.

    fetch -> Inputs -> read -> Raw -> calibrate -> Calibrated -> correct -> Despiked
          -> average -> Averaged -> quality -> Flagged -> write -> [Product]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from magfw.api import (
    InputError,
    InputFile,
    Inputs,
    MissingInputError,
    NoTransform,
    Product,
    UnitContext,
    pick_highest_version,
)
from magfw___mission__.simulate import RAW, day_start

CAL_PATTERN = re.compile(r"(?P<key>__MISSION___CAL)_V(?P<version>\d+)\.txt$")
BIN_S = 10  #: averaging interval (s)
SPIKE_NT = 50.0  #: a sample this far from its 9-sample running median is a spike
NS = 1_000_000_000


@dataclass(frozen=True, kw_only=True)
class Raw:
    """What ``read`` decodes: sample times, counts and the calibration table."""

    time: np.ndarray  #: int64 TT2000 (ns)
    counts: np.ndarray  #: (N, 3) float64 counts
    scale_nt: float  #: nT per count
    offsets_nt: np.ndarray  #: (3,) zero offsets (nT), subtracted


@dataclass(frozen=True, kw_only=True)
class Calibrated:
    time: np.ndarray  #: int64 TT2000 (ns)
    b: np.ndarray  #: (N, 3) nT, sensor frame


@dataclass(frozen=True, kw_only=True)
class Despiked:
    time: np.ndarray
    b: np.ndarray  #: (N, 3) nT, NaN where a spike was removed
    spike: np.ndarray  #: (N,) bool


@dataclass(frozen=True, kw_only=True)
class Averaged:
    epoch: np.ndarray  #: int64 TT2000 of each bin centre
    b: np.ndarray  #: (M, 3) nT, NaN where the bin is empty
    samples: np.ndarray  #: (M,) samples averaged
    spikes: np.ndarray  #: (M,) samples of the bin removed as spikes


@dataclass(frozen=True, kw_only=True)
class Flagged:
    epoch: np.ndarray
    b: np.ndarray
    flag: np.ndarray  #: (M,) uint8: 0 good, 1 held a removed spike, 2 no samples


def calibrate_counts(raw: Raw) -> Calibrated:
    """B = counts x scale - offsets (nT)."""
    return Calibrated(time=raw.time, b=raw.counts * raw.scale_nt - raw.offsets_nt)


def despike(cal: Calibrated, threshold_nt: float = SPIKE_NT) -> Despiked:
    """Samples more than ``threshold_nt`` from a 9-sample running median become NaN."""
    pad = np.pad(cal.b, ((4, 4), (0, 0)), mode="edge")
    median = np.median(np.lib.stride_tricks.sliding_window_view(pad, 9, axis=0), axis=-1)
    spike = (np.abs(cal.b - median) > threshold_nt).any(axis=1)
    return Despiked(time=cal.time, b=np.where(spike[:, None], np.nan, cal.b), spike=spike)


def bin_average(data: Despiked, t0: int, bin_s: int = BIN_S, day_s: int = 86400) -> Averaged:
    """Bins ``[t0 + k*bin_s, t0 + (k+1)*bin_s)`` stamped at their centres; NaN-aware means."""
    n_bins = day_s // bin_s
    idx = (data.time - t0) // (bin_s * NS)
    ok = (idx >= 0) & (idx < n_bins)
    b, idx, spike = data.b[ok], idx[ok], data.spike[ok]
    good = ~np.isnan(b).any(axis=1)
    counts = np.bincount(idx[good], minlength=n_bins)
    sums = np.stack([np.bincount(idx[good], b[good, k], minlength=n_bins) for k in range(3)], 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts[:, None]
    spikes = np.bincount(idx, spike, minlength=n_bins).astype(np.int64)
    epoch = t0 + (np.arange(n_bins, dtype=np.int64) * bin_s + bin_s // 2) * NS
    return Averaged(epoch=epoch, b=mean, samples=counts, spikes=spikes)


def flag_bins(data: Averaged) -> Flagged:
    """Each bin's quality flag: 2 without samples, 1 when it lost a spike, else 0."""
    flag = np.where(data.samples == 0, 2, np.where(data.spikes > 0, 1, 0)).astype(np.uint8)
    return Flagged(epoch=data.epoch, b=data.b, flag=flag)


class L1(NoTransform):
    """The ``l1`` level object: every step but ``transform``."""

    def fetch(self, ctx: UnitContext) -> Inputs:
        """The day's raw file and the highest calibration table version."""
        day = ctx.day
        name = f"raw/{day:%Y}/__MISSION___RAW_{day:%Y%m%d}.dat"
        if not ctx.archive.exists(name):
            raise MissingInputError(f"{ctx.archive.root}/{name}", "no raw file for this day")
        cals = pick_highest_version(ctx.archive.list("cal"), CAL_PATTERN)
        if not cals:
            raise MissingInputError(f"{ctx.archive.root}/cal", "no calibration table __MISSION___CAL_Vnn.txt")
        cal = ctx.archive.get("cal/" + cals["__MISSION___CAL"])
        match = CAL_PATTERN.search(cal.name)
        version = f"V{match['version']}" if match else None
        return Inputs(
            files=[
                InputFile.from_fetched(ctx.archive.get(name), "data"),
                InputFile.from_fetched(cal, "calibration", version=version),
            ],
            calibration={"cal_table": version or "unknown"},
        )

    def read(self, ctx: UnitContext, inputs: Inputs) -> Raw:
        raw = inputs.one("data")
        size = raw.path.stat().st_size
        if size % RAW.itemsize:
            raise InputError(
                raw.path, f"truncated: {size} bytes is not a whole number of {RAW.itemsize}-byte records"
            )
        rec = np.fromfile(raw.path, RAW)
        cal_file = inputs.one("calibration")
        try:
            cal = np.array(cal_file.path.read_text().split(), dtype=float)
        except ValueError as exc:
            raise InputError(cal_file.path, f"bad calibration table: {exc}") from None
        if cal.shape != (4,):
            raise InputError(
                cal_file.path,
                f"bad calibration table: expected 4 numbers (scale and three offsets), found {cal.size}",
            )
        ctx.vectors += len(rec)
        return Raw(
            time=rec["t"].astype(np.int64),
            counts=rec["c"].astype(np.float64),
            scale_nt=float(cal[0]),
            offsets_nt=cal[1:],
        )

    def calibrate(self, ctx: UnitContext, data: Raw) -> Calibrated:
        return calibrate_counts(data)

    def correct(self, ctx: UnitContext, data: Calibrated) -> Despiked:
        return despike(data, ctx.options["spike_nt"])  # --spike-nt, checked before the run

    def average(self, ctx: UnitContext, data: Despiked) -> Averaged:
        return bin_average(data, day_start(ctx.day))

    def quality(self, ctx: UnitContext, data: Averaged) -> Flagged:
        return flag_bins(data)

    def write(self, ctx: UnitContext, data: Flagged) -> list[Product]:
        """One daily CDF; the runner fills the date and version fields of its name, adds
        provenance and writes it (NaN becomes the definition's fill)."""
        return [
            Product(
                definition=ctx.product("l1"),
                variables={
                    "Epoch": data.epoch,
                    "B": data.b.astype(np.float32),
                    "B_LABL": np.array(["Bx", "By", "Bz"]),
                    "FLAG": data.flag,
                },
                attrs={"Logical_file_id": f"__MISSION___L1_MAG_{ctx.day:%Y%m%d}_V{ctx.version:02d}"},
            )
        ]

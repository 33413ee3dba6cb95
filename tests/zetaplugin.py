"""A third-party plugin as issue 21's "zeta" was written: binary packets, attitude quaternions, a
daily CDF level and a monthly netCDF level, from docs/plugins.md alone.

The simulated archive (:func:`simulate`), one day at 1 Hz::

    raw/ZETA_PKT_YYYYMMDD.bin   big-endian packets: int64 TT2000, 3 x int32 counts (sensor frame)
    cal/ZETA_CAL_V03.txt        "scale_nT_per_count offset_x offset_y offset_z"
    att/ZETA_ATT_YYYYMMDD.csv   time (ISO UTC), qx, qy, qz, qw every 4 s: scalar last, the
                                rotation taking sensor (body) components to J2000 components
    truth/ZETA_TRUTH_YYYYMMDD.npz  the true field in J2000 at each packet

Levels: ``l1`` (day, from the archive): counts -> nT, despiked with a running median of
``--despike-window`` samples, rotated to J2000 with the attitude (the docs' recipe), 10-s
averages, one CDF; ``l2`` (month, from the output tree): the month's l1 CDFs as 1-min averages,
one netCDF with a ``tt2000`` time; ``fail`` (day): raises the error class ``--error`` names in
the step ``--step`` names, in the form ``--form`` says. ``magfw zeta raise CLASS`` raises it
from a plugin command.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import typer

import magfw.api as api
from magfw.api import (
    InputFile,
    Inputs,
    Level,
    LevelOption,
    MissingInputError,
    Mission,
    NoCalibrate,
    NoCorrect,
    NoMiddleSteps,
    NoQuality,
    NoTransform,
    Period,
    PluginRegistrar,
    Product,
    ProductDefinition,
    QuaternionSeries,
    UnitContext,
    hookimpl,
    read_cdf,
    time,
    write_bytes_atomic,
)

PACKET = np.dtype([("t", ">i8"), ("c", ">i4", (3,))])
SCALE_NT, OFFSETS_NT = 0.01, np.array([4.0, -3.0, 2.0])
B_J2000 = np.array([2000.0, -1400.0, 600.0])  #: nT, about 2,500 nT
SPIN_RAD_S = 3e-4  #: the attitude turns this fast (an Earth-pointing orbiter)
ATT_STEP_S = 4
NS = 1_000_000_000
ERRORS = (
    "MagfwError",
    "UsageError",
    "InputError",
    "MissingInputError",
    "FetchError",
    "DefinitionError",
    "KernelError",
    "PluginError",
)
STEPS = ("fetch", "read", "write")


def odd(n: int) -> str | None:
    return None if n % 2 else "must be odd (a running median has a middle sample)"


DESPIKE = LevelOption(
    name="despike_window",
    type="int",
    default=9,
    min=3,
    max=99,
    check=odd,
    help="samples in the running median",
)
SPIKE = LevelOption(name="spike_nt", type="float", default=50.0, min=0.0, help="spike threshold (nT)")


def _fields(*names: str) -> dict[str, dict[str, object]]:
    widths = {"yyyy": 4, "mm": 2, "dd": 2, "version": 2}
    return {n: {"kind": "int", "width": widths[n]} for n in names}


def _definition(pid: str, fmt: str, template: str, cadence: float, time_name: str) -> ProductDefinition:
    units = {"units": "ns"} if fmt == "cdf" else {}
    return ProductDefinition.model_validate(
        {
            "id": pid,
            "mission": "zeta",
            "level": pid,
            "format": fmt,
            "filename": {
                "template": template,
                "fields": _fields("yyyy", "mm", *(["dd"] * (pid == "l1")), "version"),
            },
            "cadence_s": cadence,
            "time_convention": "centre",
            "time_variable": time_name,
            "dims": {"time": None, "xyz": 3},
            "version": {"policy": "increment", "start": 0},
            "variables": [
                {
                    "name": time_name,
                    "dtype": "tt2000",
                    "dims": ["time"],
                    "description": "bin centre",
                    "var_type": "support_data",
                    **units,
                },
                {
                    "name": "B",
                    "dtype": "float32",
                    "dims": ["time", "xyz"],
                    "units": "nT",
                    "fill": -1e31,
                    "description": "magnetic field, J2000",
                    "labl_ptr": {"LABL_PTR_1": "B_LABL"},
                },
                {
                    "name": "B_LABL",
                    "dtype": "str",
                    "dims": ["xyz"],
                    "record_varying": False,
                    "var_type": "metadata",
                    "description": "component labels",
                },
            ],
            "global_attrs": {"Project": "zeta", "Logical_source": f"zeta_{pid}_mag"},
        }
    )


L1_DEF = _definition("l1", "cdf", "zeta/l1/ZETA_L1_{yyyy}{mm}{dd}_V{version}.cdf", 10, "Epoch")
L2_DEF = _definition("l2", "netcdf", "zeta/l2/ZETA_L2_{yyyy}{mm}_V{version}.nc", 60, "time")
FAIL_DEF = L1_DEF.model_copy(update={"id": "fail", "level": "fail"})


def day_tt(day: object, step_s: float, n: int) -> np.ndarray:
    t0 = int(time.tt2000_from_iso(np.array([f"{day}T00:00:00"]))[0])
    return t0 + (np.arange(n) * step_s * NS).astype(np.int64)


def attitude_file_quaternions(t_s: np.ndarray) -> np.ndarray:
    """(qx, qy, qz, qw) body -> J2000 at ``t_s`` seconds of the day, w >= 0 (signs flip)."""
    axis = np.array([0.3, -0.5, 0.81]) / np.linalg.norm([0.3, -0.5, 0.81])
    angle = SPIN_RAD_S * t_s + 0.02 * np.sin(2 * np.pi * t_s / 5400.0)  # a slow wobble
    q = np.concatenate([np.sin(angle / 2)[:, None] * axis, np.cos(angle / 2)[:, None]], axis=1)
    return np.where(q[:, 3:] < 0, -q, q)


def simulate(period: Period, out_dir: Path, seed: int) -> Path:
    write_bytes_atomic(
        out_dir / "cal" / "ZETA_CAL_V03.txt", f"{SCALE_NT} {' '.join(map(str, OFFSETS_NT))}\n".encode()
    )
    for day in period.days():
        rng = np.random.default_rng([seed, day.toordinal()])
        n = 86400
        t = day_tt(day, 1, n)
        ta = np.arange(0, n + ATT_STEP_S, ATT_STEP_S, dtype=float)
        rows = "\n".join(
            f"{iso},{q[0]:.17g},{q[1]:.17g},{q[2]:.17g},{q[3]:.17g}"
            for iso, q in zip(
                time.tt2000_to_iso(day_tt(day, ATT_STEP_S, ta.size)),
                attitude_file_quaternions(ta),
                strict=True,
            )
        )
        write_bytes_atomic(
            out_dir / "att" / f"ZETA_ATT_{day:%Y%m%d}.csv", f"time,qx,qy,qz,qw\n{rows}\n".encode()
        )
        truth = B_J2000 + 5.0 * np.sin(np.arange(n) / 3000.0)[:, None]
        exact = QuaternionSeries.from_array(
            t, attitude_file_quaternions(np.arange(n, dtype=float)), scalar="last", maps="body_to_ref"
        )
        measured = exact.to_body(truth, t) + OFFSETS_NT + rng.normal(0, 0.02, (n, 3))
        rec = np.empty(n, PACKET)
        rec["t"], rec["c"] = t, np.round(measured / SCALE_NT).astype(np.int32)
        write_bytes_atomic(out_dir / "raw" / f"ZETA_PKT_{day:%Y%m%d}.bin", rec.tobytes())
        (out_dir / "truth").mkdir(parents=True, exist_ok=True)
        np.savez(out_dir / "truth" / f"ZETA_TRUTH_{day:%Y%m%d}.npz", time=t, b=truth)
    return out_dir


@dataclass(frozen=True, kw_only=True)
class Packets:
    """What ``read`` decodes: the counts, the calibration table and the attitude."""

    time: np.ndarray  #: int64 TT2000
    counts: np.ndarray  #: (N, 3) float64
    cal: np.ndarray  #: scale (nT/count) and three offsets (nT)
    attitude: QuaternionSeries


@dataclass(frozen=True, kw_only=True)
class Field:
    time: np.ndarray  #: int64 TT2000
    b: np.ndarray  #: (N, 3) nT
    attitude: QuaternionSeries | None = None


def bins(t: np.ndarray, b: np.ndarray, t0: int, bin_s: int, n_bins: int) -> Field:
    idx = (t - t0) // (bin_s * NS)
    ok = (idx >= 0) & (idx < n_bins) & ~np.isnan(b).any(axis=1)
    counts = np.bincount(idx[ok], minlength=n_bins)
    sums = np.stack([np.bincount(idx[ok], b[ok, k], minlength=n_bins) for k in range(3)], 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts[:, None]
    return Field(time=t0 + (np.arange(n_bins, dtype=np.int64) * bin_s + bin_s // 2) * NS, b=mean)


class L1(NoQuality):  # every step but quality
    """Daily: counts -> nT (calibrate), despiked (correct), sensor -> J2000 (transform), 10 s."""

    def fetch(self, ctx: UnitContext) -> Inputs:
        names = [f"raw/ZETA_PKT_{ctx.day:%Y%m%d}.bin", f"att/ZETA_ATT_{ctx.day:%Y%m%d}.csv"]
        missing = [n for n in names if not ctx.archive.exists(n)]
        if missing:
            raise MissingInputError(f"{ctx.archive.root}/{missing[0]}", "not in the archive")
        cal = ctx.archive.get("cal/ZETA_CAL_V03.txt")
        return Inputs(
            files=[
                InputFile.from_fetched(ctx.archive.get(names[0]), "data"),
                InputFile.from_fetched(ctx.archive.get(names[1]), "attitude"),
                InputFile.from_fetched(cal, "calibration", version="V03"),
            ],
            calibration={"cal_table": "V03"},
        )

    def read(self, ctx: UnitContext, inputs: Inputs) -> Packets:
        rec = np.fromfile(inputs.one("data").path, PACKET)
        cal = np.array(inputs.one("calibration").path.read_text().split(), dtype=float)
        att = inputs.one("attitude")
        rows = np.loadtxt(att.path, delimiter=",", skiprows=1, dtype=str, ndmin=2)
        series = QuaternionSeries.from_array(
            time.tt2000_from_iso(rows[:, 0]),
            rows[:, 1:].astype(float),
            scalar="last",
            maps="body_to_ref",
            ref="J2000",
            body="ZETA_MAG",
            max_gap_s=60,
            source=str(att.path),
        )
        ctx.vectors += len(rec)
        return Packets(
            time=rec["t"].astype(np.int64), counts=rec["c"].astype(float), cal=cal, attitude=series
        )

    def calibrate(self, ctx: UnitContext, data: Packets) -> Field:
        return Field(time=data.time, b=data.counts * data.cal[0] - data.cal[1:], attitude=data.attitude)

    def correct(self, ctx: UnitContext, data: Field) -> Field:
        w = int(ctx.options["despike_window"])
        pad = np.pad(data.b, ((w // 2, w // 2), (0, 0)), mode="edge")
        median = np.median(np.lib.stride_tricks.sliding_window_view(pad, w, axis=0), axis=-1)
        spike = (np.abs(data.b - median) > float(ctx.options["spike_nt"])).any(axis=1)
        return Field(time=data.time, b=np.where(spike[:, None], np.nan, data.b), attitude=data.attitude)

    def transform(self, ctx: UnitContext, data: Field) -> Field:
        assert data.attitude is not None
        return Field(time=data.time, b=data.attitude.to_ref(data.b, data.time))

    def average(self, ctx: UnitContext, data: Field) -> Field:
        return bins(data.time, data.b, int(day_tt(ctx.day, 1, 1)[0]), 10, 8640)

    def write(self, ctx: UnitContext, data: Field) -> list[Product]:
        return [_product(ctx.product("l1"), "Epoch", data)]


def _product(d: ProductDefinition, time_name: str, data: Field) -> Product:
    labels = np.array(["Bx J2000", "By J2000", "Bz J2000"])
    return Product(
        definition=d, variables={time_name: data.time, "B": data.b.astype(np.float32), "B_LABL": labels}
    )


class L2(NoCalibrate, NoCorrect, NoTransform, NoQuality):
    """Monthly: the month's l1 CDFs (output tree) -> 1-min averages, one netCDF."""

    def fetch(self, ctx: UnitContext) -> Inputs:
        found = ctx.newest_products("zeta", "l1", yyyy=ctx.day.year, mm=ctx.day.month)
        if not found:
            raise MissingInputError(ctx.out_dir, f"no zeta l1 product of {ctx.day:%Y-%m}: run zeta l1 first")
        return Inputs(files=[ctx.product_input(f, "l1") for f in found])

    def read(self, ctx: UnitContext, inputs: Inputs) -> Field:
        days = [read_cdf(f.path, ["Epoch", "B"]).variables for f in inputs.by_role("l1")]
        b = np.concatenate([d["B"] for d in days]).astype(np.float64)
        return Field(time=np.concatenate([d["Epoch"] for d in days]), b=np.where(b < -1e30, np.nan, b))

    def average(self, ctx: UnitContext, data: Field) -> Field:
        t0 = int(day_tt(ctx.unit.start, 1, 1)[0])
        return bins(data.time, data.b, t0, 60, 1440 * len(list(ctx.unit.days())))

    def write(self, ctx: UnitContext, data: Field) -> list[Product]:
        return [_product(ctx.product("l2"), "time", data)]


def raise_error(name: str, form: str, where: str) -> None:
    cls = getattr(api, name)
    raise cls(f"{name} raised as documented") if form == "one" else cls(where, f"{name} raised as documented")


class Fail(NoMiddleSteps):
    """Raises ``--error`` from step ``--step`` (``--form one``: the problem alone)."""

    def _maybe(self, ctx: UnitContext, step: str) -> None:
        if ctx.options["step"] == step:
            raise_error(ctx.options["error"], ctx.options["form"], f"{ctx.archive.root}/zeta.bin")

    def fetch(self, ctx: UnitContext) -> Inputs:
        self._maybe(ctx, "fetch")
        return Inputs(notes=["nothing fetched"])

    def read(self, ctx: UnitContext, inputs: Inputs) -> Field:
        self._maybe(ctx, "read")
        return Field(time=np.zeros(0, np.int64), b=np.zeros((0, 3)))

    def write(self, ctx: UnitContext, data: Field) -> list[Product]:
        self._maybe(ctx, "write")
        return []


class Zeta:
    """The plugin object: mission ``zeta`` with its three levels, its simulator, a command."""

    @hookimpl
    def magfw_register_missions(self, registry: PluginRegistrar) -> None:
        fail_opts = [
            LevelOption(name="error", choices=list(ERRORS), default="MagfwError"),
            LevelOption(name="step", choices=list(STEPS), default="read"),
            LevelOption(name="form", choices=["one", "two"], default="two"),
        ]
        registry.add(
            Mission(
                id="zeta",
                title="Zeta magnetometer",
                levels={
                    "l1": Level(name="l1", products=["l1"], pipeline=L1(), options=[DESPIKE, SPIKE]),
                    "l2": Level(
                        name="l2",
                        unit="month",
                        products=["l2"],
                        needs=["zeta/l1"],
                        inputs_from="output",
                        pipeline=L2(),
                    ),
                    "fail": Level(name="fail", products=["fail"], pipeline=Fail(), options=fail_opts),
                },
                products=[L1_DEF, L2_DEF, FAIL_DEF],
            )
        )

    @hookimpl
    def magfw_register_commands(self, app: typer.Typer) -> None:
        zeta = typer.Typer(help="zeta tools")

        @zeta.command("raise")
        def raise_cmd(name: str, form: str = "two") -> None:
            """Raise the error class NAME, as a plugin command does."""
            raise_error(name, form, "zeta.cfg")

        app.add_typer(zeta, name="zeta")

    @hookimpl
    def magfw_simulate(
        self, mission: str, period: Period, out_dir: Path, spacecraft: str | None, seed: int
    ) -> Path:
        return simulate(period, out_dir, seed)


class BrokenRegistration:
    """A plugin whose ``magfw_register_missions`` raises ``name`` (``form``: one or two)."""

    def __init__(self, name: str, form: str) -> None:
        self.name, self.form = name, form

    @hookimpl
    def magfw_register_missions(self, registry: PluginRegistrar) -> None:
        raise_error(self.name, self.form, "broken/schemas/l1.yaml")

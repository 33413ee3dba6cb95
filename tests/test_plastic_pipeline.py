"""End to end: simulated PLASTIC + MAG -> daily, monthly and yearly merged products (levels
``daily``, ``monthly``, ``l2``), compared with the simulator's truth; the time alignment proven
by a sharp step; missing MAG / PLASTIC days; ``--vnum``; one damaged input failing its day only;
the plan of the three levels.

The hooks are the PLASTIC plugin plus a stand-in that registers only the STEREO product
definitions (level l1 without a level object: not runnable), so these tests never run or import
the STEREO plugin: the MAG L1 RTN inputs are written by the PLASTIC simulator with the core
writers and the shipped stereo definition, into the PLASTIC archive, where fetch falls back to.
Periods are short: 2024-01-30..2024-02-02 (two months; 01-30 also has an older V10 file; 01-31
is a mostly-fill PLASTIC day) and one day in March to show the yearly products growing from the
daily products already in the tree. The main run is made once per module and only read by the
tests that share it.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from magfw.api import (
    Level,
    Mission,
    RunSummary,
    hookimpl,
    parse_period,
    read_cdf,
    read_product,
    shipped_definitions,
)
from magfw.engine.runner import Runner
from magfw.plugin.manager import Hooks
from magfw.testing import assert_valid_product, make_hooks, run_level
from magfw_plastic import plugin as plastic_plugin
from magfw_plastic import simulate as sim
from magfw_plastic.merge import QF_MAG_PARTIAL, QF_NO_MAG, QF_NO_PLASTIC

SC = "A"
DAYS = [date(2024, 1, 30), date(2024, 1, 31), date(2024, 2, 1), date(2024, 2, 2)]
YEARLY = "yearly_cdf/sta_l2_magplasma_1m_20240101_v07.cdf"
JAN = "monthly_flatfile/Afgy2024/jan_STA_L2_MAGPLASMA_1M_2024_V07.ffh"
FEB = "monthly_flatfile/Afgy2024/feb_STA_L2_MAGPLASMA_1M_2024_V07.ffh"
TEN_MIN = "average_flatfile/Afgy2024/STA_L2_MAGPLASMA_10MIN_2024_V07.ffh"


class StereoDefinitions:
    """Registers the stereo mission's product definitions only (no processing)."""

    @hookimpl
    def magfw_register_missions(self, registry):
        registry.add(
            Mission(
                id="stereo",
                title="STEREO MAG definitions (test stand-in)",
                spacecraft=["A", "B"],
                default_spacecraft="A",
                levels={"l1": Level(name="l1")},
                products=shipped_definitions("stereo"),
            )
        )


def plastic_hooks() -> Hooks:
    return make_hooks(plastic_plugin, StereoDefinitions(), names=["plastic", "stereo_defs"])


@pytest.fixture
def hooks() -> Hooks:
    return plastic_hooks()


@pytest.fixture(scope="module")
def quiet_env(tmp_path_factory) -> Iterator[None]:
    """Module fixtures run outside the per-test isolation: no user configuration for them."""
    with pytest.MonkeyPatch.context() as mp:
        for var in ("MAGFW_DATA", "MAGFW_PLUGINS", "MAGFW_DISABLE_PLUGIN_AUTOLOAD"):
            mp.delenv(var, raising=False)
        mp.chdir(tmp_path_factory.mktemp("cwd"))
        yield


def nan(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.where((x <= -1e30) | (x >= 1e33), np.nan, x)


def truth(root: Path, day: date) -> dict[str, np.ndarray]:
    return dict(np.load(root / "truth" / f"ST{SC}_MAGPLASMA_TRUTH_{day:%Y%m%d}.npz"))


def daily_path(out: Path, day: date) -> Path:
    return out / f"daily_cdf/{SC}fgy{day.year}/ST{SC}_L2_MAGPLASMA_1M_DAILY_{day:%Y%m%d}_V07.cdf"


def daily(out: Path, day: date) -> dict[str, np.ndarray]:
    return read_cdf(daily_path(out, day)).variables


def result(summary: RunSummary, level: str, key: str | None = None):
    return next(r for r in summary.results if r.level == level and (key is None or r.unit.key == key))


@pytest.fixture(scope="module")
def archive(tmp_path_factory, quiet_env) -> Path:
    """Simulated archive for 2024-01-29..2024-02-03 and 2024-03-01 (the runs use 01-30..02-02;
    the neighbours give the edge cycles). Read only: tests that damage it copy it first."""
    root = tmp_path_factory.mktemp("plastic_archive")
    for text in ("2024-01-29..2024-02-03", "2024-03-01"):
        sim.simulate_archive(parse_period(text), root, SC, seed=3)
    return root


def run(hooks: Hooks, period: str, source: Path | str, out: Path, level: str = "l2", **options) -> RunSummary:
    """``magfw run plastic LEVEL PERIOD``: options default as on the command line."""
    defaults = {o.name: o.default for o in hooks.registry.get("plastic").level(level).options}
    return run_level(
        hooks,
        "plastic",
        level,
        period,
        out,
        source=str(source),
        spacecraft=SC,
        options={**defaults, **options},
    )


@pytest.fixture(scope="module")
def merged(archive, tmp_path_factory) -> tuple[Path, RunSummary]:
    """``magfw run plastic l2 2024-01-30..2024-02-02`` once, for the tests that only read it."""
    out = tmp_path_factory.mktemp("plastic_out")
    summary = run(plastic_hooks(), "2024-01-30..2024-02-02", archive, out)
    assert summary.ok, [r.message for r in summary.results]
    return out, summary


# ---------------------------------------------------------------------------------------------
# Fast: the levels and their plan
# ---------------------------------------------------------------------------------------------


def test_three_levels_day_month_year(hooks):
    levels = hooks.registry.get("plastic").levels
    assert {k: (v.unit, v.needs) for k, v in levels.items()} == {
        "daily": ("day", ["stereo/l1"]),
        "monthly": ("month", ["plastic/daily"]),
        "l2": ("year", ["plastic/monthly"]),
        "package": ("year", ["plastic/l2"]),
    }
    assert levels["daily"].products == ["merged_daily", "merged_daily_ff"]
    assert levels["monthly"].products == ["merged_monthly_ff"]
    assert levels["l2"].products == ["merged_yearly", "merged_10min", "merged_1hr"]
    assert [o.name for o in levels["daily"].options] == ["vnum", "mag_from"]
    assert levels["package"].products == ["yearly_zip"] and not levels["package"].per_spacecraft


def test_a_month_of_l2_plans_its_days_its_month_and_the_year(hooks, tmp_path):
    from magfw.api import RunRequest

    request = RunRequest(
        mission="plastic",
        level="l2",
        period=parse_period("2024-03"),
        out_dir=tmp_path,
        source=str(tmp_path),
        spacecraft=SC,
    )
    graph, _ = Runner(hooks).plan_graph(request)
    keys = [(p.job.level, p.job.unit.key) for p in graph]
    assert keys[:31] == [("daily", f"2024-03-{d:02d}") for d in range(1, 32)]
    assert keys[31:] == [("monthly", "2024-03"), ("l2", "2024")]
    assert graph[31].after == list(range(31))  # the month waits for its days
    assert graph[32].after == [31]  # the year for the month
    request = RunRequest(
        mission="plastic",
        level="daily",
        period=parse_period("2024-03-05"),
        out_dir=tmp_path,
        source=str(tmp_path),
        spacecraft=SC,
    )
    assert [(p.job.level, p.job.unit.key) for p in Runner(hooks).plan_graph(request)[0]] == [
        ("daily", "2024-03-05")
    ]


# ---------------------------------------------------------------------------------------------
# End to end (one shared run)
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_every_level_writes_its_products(merged, hooks):
    out, summary = merged
    assert [(r.level, r.unit.key, r.status) for r in summary.results] == [
        ("l2", "2024", "ok"),
        *[("daily", str(d), "ok") for d in DAYS],
        ("monthly", "2024-01", "ok"),
        ("monthly", "2024-02", "ok"),
    ]
    rel = sorted(p.relative_to(out).as_posix() for p in summary.outputs)
    assert [r for r in rel if not r.startswith(("daily_", "monthly_"))] == [
        "average_flatfile/Afgy2024/STA_L2_MAGPLASMA_10MIN_2024_V07.ffd",
        "average_flatfile/Afgy2024/STA_L2_MAGPLASMA_10MIN_2024_V07.ffh",
        "average_flatfile/Afgy2024/STA_L2_MAGPLASMA_1HR_2024_V07.ffd",
        "average_flatfile/Afgy2024/STA_L2_MAGPLASMA_1HR_2024_V07.ffh",
        YEARLY,
    ]
    assert JAN in rel and FEB in rel
    assert sum(r.startswith("daily_cdf/") for r in rel) == 4
    assert sum(r.startswith("daily_flatfile/") and r.endswith(".ffh") for r in rel) == 4
    for p in summary.outputs:
        if p.suffix != ".ffd":
            assert_valid_product(p, hooks)


@pytest.mark.slow
@pytest.mark.parametrize("day", DAYS, ids=str)
def test_daily_products_against_truth(merged, archive, day):
    out, _ = merged
    tr, d = truth(archive, day), daily(out, day)
    assert np.array_equal(d["Epoch"], tr["epoch_ms"])  # centred minute stamps
    # MAG: 1-Hz samples with 0.05 nT noise -> a mean of n samples errs by 0.05/sqrt(n)
    # (0.0065 nT for a full minute); 6 sigma over ~17000 values (a simulated year reaches
    # 5.1 sigma over 1.5 million). Minutes at gap edges hold few samples (flag bit 7).
    b, bt = nan(d["BFIELDRTN"]), nan(d["BTOTAL"])
    ok = tr["n_mag"] > 0
    assert np.isfinite(b[ok]).all() and np.isnan(b[~ok]).all()
    sigma = 0.05 / np.sqrt(tr["n_mag"][ok])
    assert np.all(np.abs(b[ok] - tr["b_rtn"][ok]) < 6 * sigma[:, None])
    assert np.all(np.abs(bt[ok] - tr["btotal"][ok]) < 6 * sigma)
    # Plasma: a cycle averages [start, start + 60 s), the truth the UTC minute: up to 30 s
    # apart (the speed carries Alfvenic fluctuations of tens of km/s on minute scales), plus
    # the ASCII rounding (Np 0.01, Tkin 3 digits). Minutes next to the day's shock (a real
    # jump) are left to the step test.
    near = np.abs(tr["epoch_ms"] - tr["shock_ms"]) < 120_000
    for var, key, median_tol, max_tol in (
        ("Np", "np", 0.005, 0.02),
        ("Vp", "vp", 0.015, 0.08),
        ("Tp", "tp", 0.008, 0.03),
        ("Vth", "vth", 0.004, 0.015),
    ):
        rel_err = np.abs(nan(d[var]) / tr[key] - 1)[~near]
        got = np.isfinite(rel_err)
        assert got.sum() > 100, (day, var)  # 2024-01-31 is a mostly-fill day (132 cycles)
        assert np.median(rel_err[got]) < median_tol, (day, var)
        assert rel_err[got].max() < max_tol, (day, var, rel_err[got].max())
    # positions: distance written as %12.5E km (3.3e-6 AU), angles to 1e-4 deg;
    # CARR turns 13 deg/day, so linear interpolation over data gaps costs a little more
    for frame, tol in (("R", 1e-5), ("HAE", 1e-5), ("HEE", 1e-5), ("HEEQ", 1e-5), ("CARR", 5e-5)):
        assert np.nanmax(np.abs(nan(d[frame]) - tr[frame])) < tol, (day, frame)
    # flags: minutes without MAG say so; minutes with a fill row carry error code 5
    qf = d["Quality_Flag"]
    assert np.all(((qf & QF_NO_MAG) != 0) == ~ok)
    assert np.all(np.isnan(nan(d["Np"])[(qf & 0xF) == QF_NO_PLASTIC]))
    assert ((qf & 0xF) == 5).sum() >= 10
    assert set(np.unique(qf & 0xF)) <= {0, 4, 5, 6, 7, QF_NO_PLASTIC}
    # and exactly: each cycle in the minute of its middle (start + 30 s), values as the file
    # rounds them (Np to 0.01, speed to 0.1 km/s, Tkin to 3 digits); the cycles of the day
    # before whose middle falls after midnight (edge cycles) included
    kept = tr["cycle_keep"] & ~tr["cycle_fill"]
    k = np.floor((tr["cycle_start_ms"] + 30_000.0 - sim.day_start_ms(day)) / 60_000.0).astype(int)
    inday = kept & (k >= 0) & (k < 1440)
    assert np.abs(nan(d["Np"])[k[inday]] - tr["cycle_np"][inday]).max() <= 0.0051
    assert np.abs(nan(d["Vp"])[k[inday]] - tr["cycle_vp"][inday]).max() <= 0.051
    assert np.abs(nan(d["Tp"])[k[inday]] / tr["cycle_tp"][inday] - 1).max() <= 0.0051


@pytest.mark.slow
def test_the_day_before_gives_the_first_minute_its_edge_cycle(hooks, tmp_path, caplog):
    """05-13's cycles start at hh:mm:45, so its last one, [23:59:45, 00:00:45), has its middle
    after midnight: it is minute 0 of 05-14 (whose own cycles, also at hh:mm:45, start with
    minute 1). Damaged, 05-13's file costs 05-14 only that cycle, with a warning."""
    day, before = date(2024, 5, 14), date(2024, 5, 13)
    root = tmp_path / "archive"
    for d, n0 in ((before, 8.0), (day, 3.0)):
        m = replace(sim.quiet_model(d, SC, cycle_offset_s=45.0, cycle_len_s=60.0), n0=n0)
        path = root / sim.plastic_name(SC, "1min", d, 11)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sim.format_1min(m, sim.plastic_rows(m, 0, defects=False)))
    m = sim.quiet_model(day, SC)
    sim.write_mag(root, SC, day, sim.mag_samples(m, 0, 1.0, defects=False, noise_nt=0.0))
    out = tmp_path / "out"
    summary = run(hooks, day.isoformat(), root, out, level="daily")
    assert summary.ok
    d = daily(out, day)
    assert nan(d["Np"])[0] == pytest.approx(8.0, abs=0.006)  # the day before's last cycle
    assert nan(d["Np"])[1] == pytest.approx(3.0, abs=0.006)
    assert (d["Quality_Flag"][:2] & 0xF).tolist() == [0, 0]
    names = [i["name"] for i in summary.results[0].entry.inputs]
    assert any("_20240513_" in n for n in names)  # the day before, as plastic_edge

    (root / sim.plastic_name(SC, "1min", before, 11)).write_text("garbage\n")
    with caplog.at_level("WARNING", logger="magfw"):
        again = run(hooks, day.isoformat(), root, out, level="daily")
    assert again.ok and again.results[0].status == "ok"  # redone: an input changed
    assert "edge cycles not used" in caplog.text and "_20240513_" in caplog.text
    d = daily(out, day)
    assert np.isnan(nan(d["Np"])[0]) and (d["Quality_Flag"][0] & 0xF) == QF_NO_PLASTIC
    assert nan(d["Np"])[1] == pytest.approx(3.0, abs=0.006)


@pytest.mark.slow
def test_the_highest_plastic_version_wins(merged, archive):
    # 2024-01-30 (ordinal divisible by 5) also has a V10 file with half the density: V11 won
    out, summary = merged
    tr, d = truth(archive, DAYS[0]), daily(out, DAYS[0])
    assert np.nanmedian(nan(d["Np"]) / tr["np"]) == pytest.approx(1.0, abs=0.01)
    names = [i["name"] for i in result(summary, "daily", "2024-01-30").entry.inputs]
    assert any(n.endswith("_20240130_030_V11.txt") for n in names)
    assert not any("V10" in n for n in names)


@pytest.mark.slow
def test_monthly_flat_files_are_the_days_of_their_month(merged):
    out, _ = merged
    jan = read_product(out / JAN)
    np_jan = np.concatenate([nan(daily(out, x)["Np"]) for x in DAYS[:2]])
    assert np.allclose(nan(jan.variables["NP"]), np_jan, equal_nan=True)
    assert jan.variables["TIME"].size == 2 * 1440 and np.all(np.diff(jan.variables["TIME"]) > 0)
    assert jan.global_attrs["DAYS WITHOUT INPUTS"] == "2024-01-01..2024-01-29"
    assert jan.global_attrs["PLASTIC MISSING DAYS"] == "none"
    feb = read_product(out / FEB)
    assert feb.variables["TIME"].size == 2 * 1440
    assert feb.global_attrs["DAYS WITHOUT INPUTS"] == "2024-02-03..2024-02-29"


@pytest.mark.slow
def test_yearly_cdf_is_the_days_of_the_year(merged):
    out, _ = merged
    year = read_cdf(out / YEARLY)
    assert year.variables["Epoch"].size == 4 * 1440
    assert np.all(np.diff(year.variables["Epoch"]) > 0)
    for i, day in enumerate(DAYS):
        d = daily(out, day)
        for name in ("Epoch", "BFIELDRTN", "Np", "Quality_Flag", "HAE", "Beta"):
            assert np.array_equal(year.variables[name][i * 1440 : (i + 1) * 1440], d[name]), name
    g = year.global_attrs
    assert g["Logical_source"] == "sta_l2_magplasma_1m"  # as the SPDF file name
    assert g["Logical_file_id"] == "sta_l2_magplasma_1m_20240101_v07"
    assert g["Logical_file_id"].startswith(g["Logical_source"] + "_")
    d = read_cdf(daily_path(out, DAYS[0])).global_attrs
    assert d["Logical_source"] == "STA_L2_MAGPLASMA_1M_DAILY"
    assert d["Logical_file_id"] == "STA_L2_MAGPLASMA_1M_DAILY_20240130_V07"
    # both instruments' PIs and institutions are credited
    for attrs in (g, d):
        assert "J. Luhmann" in str(attrs["PI_name"]) and "Galvin" in str(attrs["PI_name"])
        assert "University of New Hampshire" in str(attrs["PI_affiliation"])
        assert "UC Berkeley" in str(attrs["PI_affiliation"])
        # Software_version names the core and the plugin distinctly
        sw = str(attrs["Software_version"])
        assert sw.startswith("magfw ") and "(core)" in sw and "plastic plugin" in sw
        for key in (
            "Acknowledgement",
            "Rules_of_use",
            "Generated_by",
            "HTTP_LINK",
            "LINK_TEXT",
            "LINK_TITLE",
            "MODS",
        ):
            assert attrs.get(key), key
    assert g["Data_source"] == "observed"  # a directory source, not --source simulated
    assert g["Days_in_file"] == "2024-01-30..2024-02-02"
    assert g["Period_merged"] == "2024-01-01..2024-12-31"
    assert g["Days_without_inputs"] == "2024-01-01..2024-01-29, 2024-02-03..2024-12-31"
    assert (g["PLASTIC_missing_days"], g["MAG_missing_days"]) == ("none", "none")


@pytest.mark.slow
def test_averages_against_truth(merged, archive):
    out, _ = merged
    # 10-min averages: means of the 1-min Np truth over each bin within 1.5 % where full
    ten = read_product(out / TEN_MIN)
    assert ten.variables["TIME"].size == 4 * 144
    tr_np = np.concatenate([truth(archive, x)["np"] for x in DAYS]).reshape(-1, 10).mean(axis=1)
    full = nan(ten.variables["N_PLA"]) == 10
    assert full.sum() > 300  # of 576 bins (01-31 is mostly fill)
    assert np.median(np.abs(nan(ten.variables["NP"])[full] / tr_np[full] - 1)) < 0.005
    # derived quantities of the averages follow from the averaged values
    b = np.stack([nan(ten.variables[c]) for c in ("BR", "BT", "BN")], axis=1)
    cone = np.degrees(np.arccos(b[:, 0] / np.linalg.norm(b, axis=1)))
    assert np.nanmax(np.abs(cone - nan(ten.variables["CONE"]))) < 1e-3
    # bins centred on the UTC grid: 00:05:00 of 01-30 first
    first_minutes = read_product(out / JAN).variables["TIME"][:10]
    assert abs(int(ten.variables["TIME"][0]) - int(first_minutes.mean())) < 1_000_000
    hour = read_product(out / "average_flatfile/Afgy2024/STA_L2_MAGPLASMA_1HR_2024_V07.ffh")
    assert hour.variables["TIME"].size == 4 * 24


@pytest.mark.slow
def test_partial_mag_minutes_are_flagged(merged, archive):
    out, _ = merged
    d, tr = daily(out, date(2024, 2, 1)), truth(archive, date(2024, 2, 1))
    partial = (tr["n_mag"] > 0) & (tr["n_mag"] < 30)
    assert np.all((d["Quality_Flag"][partial] & QF_MAG_PARTIAL) != 0)
    assert np.all((d["Quality_Flag"][tr["n_mag"] == 60] & QF_MAG_PARTIAL) == 0)


# ---------------------------------------------------------------------------------------------
# End to end (runs of their own)
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_yearly_products_grow_from_the_daily_products_in_the_tree(hooks, archive, tmp_path):
    out = tmp_path / "out"
    first = run(hooks, "2024-03-01", archive, out, level="daily")  # the day alone
    assert first.ok and [r.level for r in first.results] == ["daily"]
    assert not (out / "yearly_cdf").exists() and not (out / "monthly_flatfile").exists()
    assert run(hooks, "2024-01-31", archive, out).ok
    jan = out / JAN
    before = jan.read_bytes()
    second = run(hooks, "2024-03-01", archive, out)
    assert second.ok
    assert result(second, "daily").status == "skipped"  # made by the first run, unchanged
    assert jan.read_bytes() == before  # January was not touched by a March run
    year = read_cdf(out / YEARLY)
    assert year.variables["Epoch"].size == 2 * 1440  # 01-31 (from the tree) + 03-01
    assert np.all(np.diff(year.variables["Epoch"]) > 0)
    assert np.array_equal(year.variables["Epoch"][:1440], daily(out, date(2024, 1, 31))["Epoch"])
    assert year.global_attrs["Days_in_file"] == "2024-01-31, 2024-03-01"
    # a rerun with nothing changed is skipped by the ledger, at every level
    again = run(hooks, "2024-03-01", archive, out)
    assert {r.status for r in again.results} == {"skipped"}


@pytest.mark.slow
def test_step_in_b_and_np_lands_in_the_right_minute(hooks, tmp_path):
    """A jump of B and Np at 10:16:45.000; PLASTIC cycles start at hh:mm:45 (so a cycle covers
    [10:16:45, 10:17:45) and belongs to the minute of its middle, 10:17), MAG at 8 Hz with
    interval-centred stamps and no noise. Expected: Np of minute 10:16 all before the jump,
    10:17 all after; B of minute 10:16 is 45 s before + 15 s after, 10:15 before, 10:17 after.
    Binning PLASTIC by its start stamp would put the after-jump cycle into 10:16 instead."""
    day = date(2024, 5, 14)
    root = tmp_path / "archive"
    step = sim.day_start_ms(day) + (10 * 3600 + 16 * 60 + 45) * 1000.0
    m = sim.quiet_model(day, SC, shock_ms=step, shock_ratio=3.0, cycle_offset_s=45.0, cycle_len_s=60.0)
    rows = sim.plastic_rows(m, 0, defects=False)
    (root / sim.plastic_name(SC, "1min", day, 11)).parent.mkdir(parents=True)
    (root / sim.plastic_name(SC, "1min", day, 11)).write_text(sim.format_1min(m, rows))
    sim.write_mag(root, SC, day, sim.mag_samples(m, 0, 8.0, defects=False, noise_nt=0.0))
    out = tmp_path / "out"
    assert run(hooks, day.isoformat(), root, out, level="daily").ok
    d = daily(out, day)
    k = 10 * 60 + 16  # index of minute 10:16
    before = sim.truth_at(m, np.array([step - 1.0]))
    after = sim.truth_at(m, np.array([step + 1.0]))
    n0, n1 = before["np"][0], after["np"][0]
    assert n1 == pytest.approx(3 * n0)
    npv = nan(d["Np"])
    assert npv[k - 1] == pytest.approx(n0, abs=0.006) and npv[k] == pytest.approx(n0, abs=0.006)
    assert npv[k + 1] == pytest.approx(n1, abs=0.006) and npv[k + 2] == pytest.approx(n1, abs=0.006)
    b0 = np.linalg.norm(before["b_rtn"][0])
    b1 = np.linalg.norm(after["b_rtn"][0])
    bt = nan(d["BTOTAL"])
    assert bt[k - 1] == pytest.approx(b0, rel=1e-6)
    assert bt[k] == pytest.approx(0.75 * b0 + 0.25 * b1, rel=1e-6)  # 360 of 480 samples before
    assert bt[k + 1] == pytest.approx(b1, rel=1e-6)
    assert nan(d["Epoch"])[k] == sim.day_start_ms(day) + (k + 0.5) * 60_000.0  # 10:16:30
    assert d["Quality_Flag"][k] == 0


@pytest.mark.slow
def test_missing_mag_and_plastic_days_complete_as_fill(hooks, archive, tmp_path, caplog):
    """MAG of 01-31 and PLASTIC of 02-01 removed, both inputs of 02-02 removed."""
    root = tmp_path / "archive"
    shutil.copytree(archive, root)
    mag_def = sim.mag_definition()
    for day in (date(2024, 1, 31), date(2024, 2, 2)):
        (root / mag_def.filename.format(sc=SC, yyyy=day.year, mm=day.month, dd=day.day, version=6)).unlink()
    for day in (date(2024, 2, 1), date(2024, 2, 2)):
        for p in (root / "ASCII/1min/A/2024").glob(f"*_1min_{day:%Y%m%d}_*"):
            p.unlink()
    out = tmp_path / "out"
    with caplog.at_level("WARNING", logger="magfw"):
        summary = run(hooks, "2024-01-30..2024-02-02", root, out)
    assert summary.ok, [r.message for r in summary.results]
    said = caplog.text
    assert "2024-02-01: PLASTIC missing for 2024-02-01" in said
    assert "2024-01-31: MAG L1 RTN missing for 2024-01-31" in said
    assert result(summary, "daily", "2024-02-02").status == "skipped"
    assert "no PLASTIC 1-min file" in result(summary, "daily", "2024-02-02").message
    d = daily(out, date(2024, 1, 31))
    assert np.isnan(nan(d["BFIELDRTN"])).all() and np.all((d["Quality_Flag"] & QF_NO_MAG) != 0)
    assert np.isfinite(nan(d["Np"])).sum() > 100  # PLASTIC still there (a mostly-fill day)
    d = daily(out, date(2024, 2, 1))
    assert np.isfinite(nan(d["BTOTAL"])).sum() > 1300
    assert np.isfinite(nan(d["Np"])).sum() <= 1  # minute 0 may hold 01-31's last cycle
    assert not daily_path(out, date(2024, 2, 2)).exists()
    year = read_cdf(out / YEARLY)
    assert year.variables["Epoch"].size == 3 * 1440
    g = year.global_attrs
    assert (g["MAG_missing_days"], g["PLASTIC_missing_days"], g["Days_without_inputs"]) == (
        "2024-01-31",
        "2024-02-01",
        "2024-01-01..2024-01-29, 2024-02-02..2024-12-31",
    )
    feb = read_product(out / FEB)
    assert feb.global_attrs["PLASTIC MISSING DAYS"] == "2024-02-01"
    assert feb.global_attrs["DAYS WITHOUT INPUTS"] == "2024-02-02..2024-02-29"
    assert read_product(out / JAN).global_attrs["MAG MISSING DAYS"] == "2024-01-31"
    for p in summary.outputs:
        if p.suffix != ".ffd":
            assert_valid_product(p, hooks)


@pytest.mark.slow
def test_vnum_selects_one_plastic_version(hooks, archive, tmp_path):
    out = tmp_path / "out"
    summary = run(hooks, "2024-01-30..2024-01-31", archive, out, level="daily", vnum=10)
    assert summary.ok
    d, tr = daily(out, date(2024, 1, 30)), truth(archive, date(2024, 1, 30))
    assert np.nanmedian(nan(d["Np"]) / tr["np"]) == pytest.approx(0.5, abs=0.01)  # V10 is halved
    assert np.isnan(nan(daily(out, date(2024, 1, 31))["Np"])).sum() >= 1439  # no V10 that day
    entry = result(summary, "daily", "2024-01-30").entry
    assert any("V10" in i["name"] for i in entry.inputs)
    assert entry.versions["selection"] == {"plastic_version": "V10"}
    assert "(no V10 file)" in result(summary, "daily", "2024-01-31").message
    # pinned in magfw.toml, the version reaches the days an l2 run plans (it takes no --vnum)
    (tmp_path / "magfw.toml").write_text("[missions.plastic]\nvnum = 10\n")  # cwd is tmp_path
    pinned = run(hooks, "2024-01-30", archive, tmp_path / "pinned")
    assert pinned.ok
    entry = result(pinned, "daily", "2024-01-30").entry
    assert entry.versions["selection"] == {"plastic_version": "V10"}
    assert np.array_equal(
        daily(tmp_path / "pinned", date(2024, 1, 30))["Np"], daily(out, date(2024, 1, 30))["Np"]
    )


@pytest.mark.slow
def test_a_period_with_mag_only_is_all_plasma_fill(hooks, archive, tmp_path):
    root = tmp_path / "archive"
    shutil.copytree(archive, root)
    shutil.rmtree(root / "ASCII")
    out = tmp_path / "out"
    summary = run(hooks, "2024-03-01", root, out)
    assert summary.ok, [r.message for r in summary.results]
    d = daily(out, date(2024, 3, 1))
    assert np.isnan(nan(d["Np"])).all() and np.isnan(nan(d["R"])).all()
    assert np.all((d["Quality_Flag"] & 0xF) == QF_NO_PLASTIC)
    assert np.isfinite(nan(d["BTOTAL"])).sum() > 1300
    year = read_cdf(out / YEARLY)
    assert year.global_attrs["PLASTIC_missing_days"] == "2024-03-01"


@pytest.mark.slow
def test_a_year_without_any_day_fails_naming_the_tree(hooks, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    summary = run(hooks, "2024-03-01", empty, tmp_path / "out")
    assert [(r.level, r.status) for r in summary.results] == [
        ("l2", "failed"),
        ("daily", "skipped"),
        ("monthly", "skipped"),
    ]
    assert "no merged daily product of STA 2024" in summary.results[0].message
    assert "daily_cdf/Afgy2024" in summary.results[0].message


@pytest.mark.slow
def test_archive_served_over_http(hooks, merged, archive, tmp_path):
    """The same day merged from the simulated archive served on loopback (directory indexes,
    the core's HttpArchive: download into the cache, checksums)."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(archive)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        http_out = tmp_path / "http"
        assert run(hooks, "2024-02-01", url, http_out, level="daily").ok
    finally:
        server.shutdown()
        server.server_close()
    a, b = daily(http_out, date(2024, 2, 1)), daily(merged[0], date(2024, 2, 1))
    for name in ("Epoch", "BFIELDRTN", "Np", "Quality_Flag", "HAE"):
        assert np.array_equal(a[name], b[name]), name


@pytest.mark.slow
@pytest.mark.parametrize("aes", [False, True])
def test_the_yearly_delivery_zip_exists_and_opens(merged, tmp_path, monkeypatch, aes, smtp_server):
    """The seed's `zip -er stereo_PLASTIC_MAG_yearly_cdf_{yyyy}.zip` of the folder holding the
    yearly CDF: it opens with the system unzip -P (traditional PKWARE encryption, the default)
    or pyzipper (both), and holds the yearly CDF byte for byte."""
    import subprocess

    import pyzipper

    out = tmp_path / "out"
    shutil.copytree(merged[0], out)
    password = "Yearly-canary-4e1b"
    monkeypatch.setenv("MAGFW_ZIP_PASSWORD", password)
    monkeypatch.chdir(tmp_path)  # [notify]: Berkeley is told through a loopback SMTP server
    (tmp_path / "magfw.toml").write_text(
        smtp_server.toml(
            {"plastic_delivery": ["berkeley@example.edu"]},
            {"plastic_download_url": "https://box.example.edu/yearly"},
        )
    )
    # no --source: the package reads the tree (the year's merge is done), nothing else runs
    summary = run_level(plastic_hooks(), "plastic", "package", "2024", out, source=None, options={"aes": aes})
    assert summary.ok, [r.message for r in summary.results]
    path = out / "prep_zips/l2_merge/stereo_PLASTIC_MAG_yearly_cdf_2024.zip"
    assert [p.resolve() for p in result(summary, "package").outputs] == [path.resolve()]
    top = "stereo_PLASTIC_MAG_yearly_cdf_2024/"
    yearly = (out / YEARLY).read_bytes()
    with pyzipper.AESZipFile(path) as zf:
        files = [i for i in zf.infolist() if not i.is_dir()]
        assert sorted(i.filename for i in files) == [top + "SHA256SUMS", top + Path(YEARLY).name]
        assert all(i.flag_bits & 0x1 for i in files)
        assert all((b"\x01\x99" in i.extra) == aes for i in files)
        zf.setpassword(password.encode())
        assert zf.read(top + Path(YEARLY).name) == yearly
        assert (
            zf.read(top + "SHA256SUMS").decode()
            == f"{hashlib.sha256(yearly).hexdigest()}  {Path(YEARLY).name}\n"
        )
    if not aes:
        dest = tmp_path / "unzipped"
        run_ = subprocess.run(
            ["unzip", "-q", "-P", password, str(path), "-d", str(dest)], capture_output=True, text=True
        )
        assert run_.returncode == 0, run_.stderr
        assert (dest / top / Path(YEARLY).name).read_bytes() == yearly
    for p in out.rglob("*"):
        if p.is_file():
            assert password.encode() not in p.read_bytes(), p
    # the plastic_delivery e-mail: recipients, name, checksum, link, never the password
    ((_, rcpt, msg),) = smtp_server.messages
    assert rcpt == ["berkeley@example.edu"] and msg["X-Magfw-Event"] == "plastic_delivery"
    text = msg.get_content().replace("\r\n", "\n")
    assert path.name in msg["Subject"]
    assert f"SHA-256:  {hashlib.sha256(path.read_bytes()).hexdigest()}" in text
    assert f"download: https://box.example.edu/yearly/{path.name}" in text
    assert ("AES-256" if aes else "traditional PKWARE encryption") in text
    assert password not in text


@pytest.mark.slow
def test_the_yearly_zip_is_uploaded_through_rclone_and_the_mail_says_where(
    merged, tmp_path, monkeypatch, smtp_server
):
    """[delivery.events] plastic_delivery: the package run uploads the zip and its SHA256SUMS to
    the rclone remote (a local one here), and the mail names where it went."""
    from rclone_helpers import alias_remote, need_rclone

    need_rclone()
    out = tmp_path / "out"
    shutil.copytree(merged[0], out)
    monkeypatch.setenv("MAGFW_ZIP_PASSWORD", "Yearly-canary-4e1b")
    monkeypatch.chdir(tmp_path)
    remote = alias_remote(monkeypatch, "ucla", tmp_path / "box")
    (tmp_path / "magfw.toml").write_text(
        smtp_server.toml({"plastic_delivery": ["berkeley@example.edu"]})
        + f'[delivery.events]\nplastic_delivery = "{remote}STEREO PLASTIC"\n'
    )
    summary = run_level(plastic_hooks(), "plastic", "package", "2024", out, source=None)
    assert summary.ok, [r.message for r in summary.results] + summary.failures
    name = "stereo_PLASTIC_MAG_yearly_cdf_2024.zip"
    zipped = (out / "prep_zips/l2_merge" / name).read_bytes()
    there = tmp_path / "box" / "STEREO PLASTIC"
    assert (there / name).read_bytes() == zipped
    sums = f"{hashlib.sha256(zipped).hexdigest()}  {name}\n"
    assert (there / "stereo_PLASTIC_MAG_yearly_cdf_2024.SHA256SUMS").read_text() == sums
    ((_, _, msg),) = smtp_server.messages
    text = msg.get_content().replace("\r\n", "\n")
    assert f"download: ucla:STEREO PLASTIC/{name}\n" in text
    assert f"uploaded: ucla:STEREO PLASTIC/{name} (SHA-256 checked on the remote" in text


@pytest.mark.slow
def test_the_web_operator_is_told_which_monthly_flat_files_to_copy(
    merged, smtp_server, tmp_path, monkeypatch
):
    """The seed's `cp -pu .../monthly_flatfile/Afgy{yyyy}/{mmm}_* .` into
    MONTHLY/Afgy{yyyy}, for the monthly flat files the run wrote."""
    from magfw_plastic import notify

    out, summary = merged
    monkeypatch.chdir(tmp_path)
    (tmp_path / "magfw.toml").write_text(
        smtp_server.toml({"plastic_web_copy": ["web@example.edu"]}, {"plastic_web_root": "/web/MONTHLY"})
    )
    notify.magfw_run_finished(summary)  # the hook the run called, now with [notify] set
    ((_, rcpt, msg),) = smtp_server.messages
    assert rcpt == ["web@example.edu"] and msg["X-Magfw-Event"] == "plastic_web_copy"
    text = msg.get_content().replace("\r\n", "\n")
    folder = out / "monthly_flatfile" / "Afgy2024"
    assert "$ mkdir -p /web/MONTHLY/Afgy2024 && cd /web/MONTHLY/Afgy2024" in text
    assert f"$ cp -pu {folder}/jan_* ." in text and f"$ cp -pu {folder}/feb_* ." in text
    for p in folder.iterdir():
        assert p.name in text
    assert "2024-01, 2024-02" in msg["Subject"]
    assert "magfw publish plastic l2 2024 --product merged_monthly_ff --from monthly_flatfile" in text


@pytest.mark.slow
def test_publish_the_seeds_monthly_selection_or_everything(merged, tmp_path):
    """magfw publish plastic l2 YYYY: the seed's MONTHLY/Afgy{yyyy}/{mmm}_* selection, or
    every flat file of the year."""
    from magfw.testing import run_cli

    out, _ = merged
    hooks = plastic_hooks()
    web = tmp_path / "MONTHLY"
    res = run_cli(
        [
            "publish",
            "plastic",
            "l2",
            "2024-01",
            "--product",
            "merged_monthly_ff",
            "--from",
            "monthly_flatfile",
            "--to",
            str(web),
            "--out",
            str(out),
        ],
        hooks,
    )
    assert res.exit_code == 0, res.stderr
    got = sorted(p.relative_to(web).as_posix() for p in web.rglob("*") if p.is_file())
    assert got == [
        "Afgy2024/jan_STA_L2_MAGPLASMA_1M_2024_V07.ffd",
        "Afgy2024/jan_STA_L2_MAGPLASMA_1M_2024_V07.ffh",
    ]
    assert (web / "Afgy2024" / Path(JAN).name).read_bytes() == (out / JAN).read_bytes()
    res = run_cli(
        [
            "publish",
            "plastic",
            "l2",
            "2024",
            "--product",
            "merged_monthly_ff",
            "--from",
            "monthly_flatfile",
            "--to",
            str(web),
            "--out",
            str(out),
        ],
        hooks,
    )
    assert res.exit_code == 0 and "copied 2 files, 2 already up to date" in res.stdout
    everything = tmp_path / "all"
    res = run_cli(
        ["publish", "plastic", "l2", "2024", "--all-levels", "--to", str(everything), "--out", str(out)],
        hooks,
    )
    assert res.exit_code == 0, res.stderr
    made = {p.relative_to(out).as_posix() for p in out.rglob("*.ff[hd]") if ".magfw" not in p.parts}
    assert {p.relative_to(everything).as_posix() for p in everything.rglob("*") if p.is_file()} == made
    assert {JAN, FEB, TEN_MIN} <= made


@pytest.mark.slow
def test_merge_from_the_mag_flat_files_equals_the_merge_from_the_cdfs(hooks, archive, tmp_path):
    """The seed merges from the MAG daily flat files (l1_final_flat); magfw does so by default
    and reads the CDFs as a fallback: both give the same merged product."""
    from magfw.api import Product, write_product
    from magfw.geometry.time import tt2000_from_cdf_epoch

    day = date(2024, 2, 1)
    mag_cdf = sim.mag_definition()
    flat_def = next(d for d in shipped_definitions("stereo") if d.id == "l1_mag_rtn_ff")
    fields = dict(sc=SC, yyyy=day.year, mm=day.month, dd=day.day, version=6)
    cdf = read_cdf(archive / mag_cdf.filename.format(**fields))
    b = cdf.variables["BFIELD"].astype(np.float32)
    b[b <= -1e30] = np.nan
    # the flat file as the stereo plugin writes it (TIME, BR BT BN BTOTAL, FILTER_VALUE key)
    flat_root = tmp_path / "archive"
    shutil.copytree(archive, flat_root)
    target = flat_root / flat_def.filename.format(**fields)
    write_product(
        Product(
            definition=flat_def,
            fields={"sc": SC},
            variables={
                "TIME": np.asarray(tt2000_from_cdf_epoch(cdf.variables["Epoch"]), dtype=np.int64),
                "B": b,
            },
            attrs={"FILTER_VALUE": f"{float(cdf.variables['FILTER_VALUE'][0])!r} nT"},
        ),
        target,
        {},
    )
    runs = {}
    for how, root in (("flatfile", flat_root), ("cdf", flat_root)):
        out = tmp_path / f"out_{how}"
        summary = run(hooks, "2024-02-01", root, out, level="daily", mag_from=how)
        assert summary.ok, [r.message for r in summary.results]
        entry = result(summary, "daily", "2024-02-01").entry
        mag = [i["name"] for i in entry.inputs if i["role"] == "mag"]
        assert mag and mag[0].endswith(".ffh" if how == "flatfile" else ".cdf"), mag
        runs[how] = read_cdf(daily_path(out, day))
    a, c = runs["flatfile"], runs["cdf"]
    assert sorted(a.variables) == sorted(c.variables)
    for name in a.variables:
        x, y = a.variables[name], c.variables[name]
        same = np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f" else np.array_equal(x, y)
        assert same, name
    assert np.isfinite(nan(a.variables["BTOTAL"])).sum() > 1300


@pytest.mark.slow
def test_every_merged_cdf_opens_with_cdflib_xarray(merged):
    from cdflib.xarray import cdf_to_xarray

    out, _ = merged
    paths = [out / YEARLY] + [daily_path(out, d) for d in DAYS]
    for path in paths:
        ds = cdf_to_xarray(str(path), to_datetime=True, fillval_to_nan=True)
        raw = read_cdf(path).variables
        for name in ("BFIELDRTN", "Np", "Beta"):
            assert np.array_equal(np.asarray(ds[name].values, np.float64), nan(raw[name]), equal_nan=True), (
                path.name,
                name,
            )
        t = np.asarray(ds["Epoch"].values, dtype="datetime64[ms]").astype(np.int64)
        assert np.all(np.diff(t) == 60_000)  # one record a minute, bin centres


@pytest.mark.slow
def test_merged_products_over_hapi_are_the_cdfs(merged, tmp_path):
    """``magfw serve`` on the PLASTIC tree: the daily and yearly merged CDFs are HAPI datasets
    (ids from their definitions, no PLASTIC code in the server), and hapiclient reads the
    yearly product's B and plasma moments exactly as the CDF holds them, fill as the fill."""
    import httpx
    from hapiclient import hapi
    from serve_helpers import running_server, validate

    from magfw.geometry.time import tt2000_from_cdf_epoch, tt2000_from_iso
    from magfw.serve import ServeSettings, create_app
    from magfw.serve.timefmt import format_hapi_time

    out, _ = merged
    app = create_app(ServeSettings(out_dir=out), missions=list(plastic_hooks().registry))
    with running_server(app) as url:
        catalog = httpx.get(url + "/hapi/catalog", timeout=60).json()
        validate("catalog", catalog)
        ids = {c["id"] for c in catalog["catalog"]}
        assert {"STA_L2_MAGPLASMA_1M", "STA_L2_MAGPLASMA_1M_DAILY"} <= ids, ids
        info = httpx.get(url + "/hapi/info?dataset=STA_L2_MAGPLASMA_1M", timeout=60).json()
        validate("info", info)
        # the first and last records of the yearly product, not its year (docs/serve.md)
        epoch = tt2000_from_cdf_epoch(np.asarray(read_cdf(out / YEARLY).variables["Epoch"], dtype=np.float64))
        assert (info["startDate"], info["stopDate"]) == (
            format_hapi_time(int(epoch[0])),
            format_hapi_time(int(epoch[-1])),
        )
        # the review site lists the months with data (January and February), not the year's 12
        index = httpx.get(url + "/", timeout=300).text
        assert sorted(set(re.findall(r'/review/plastic/(\d{4}-\d{2})"', index))) == ["2024-01", "2024-02"]
        month = httpx.get(url + "/review/plastic/2024-01", timeout=300).text
        assert re.search(r"/figure/plastic/daily/[AB]/2024-01\.png", month)
        assert re.search(r"/figure/plastic/l2/[AB]/2024-01\.png", month)
        opts = {"cache": False, "usecache": False, "cachedir": str(tmp_path), "logging": False}
        data, _ = hapi(
            url + "/hapi",
            "STA_L2_MAGPLASMA_1M",
            "BFIELDRTN,Np",
            "2024-01-30T00:00:00Z",
            "2024-02-03T00:00:00Z",
            **opts,
        )
    raw = read_cdf(out / YEARLY).variables
    want_t = tt2000_from_cdf_epoch(np.asarray(raw["Epoch"], dtype=np.float64))  # CDF_EPOCH ms
    assert len(data) == want_t.size == 4 * 1440
    np.testing.assert_array_equal(tt2000_from_iso(np.array([t.decode() for t in data["Epoch"]])), want_t)
    b = raw["BFIELDRTN"].astype(np.float64)
    b[raw["BFIELDRTN"] == np.float32(-1e31)] = -1e31
    np.testing.assert_array_equal(data["BFIELDRTN"], b)
    np_raw = raw["Np"].astype(np.float64)
    np_raw[raw["Np"] == np.float32(-1e31)] = -1e31
    np.testing.assert_array_equal(data["Np"], np_raw)
    assert (data["Np"] == -1e31).any() and (data["Np"] > 0).any()  # the mostly-fill day, and plasma

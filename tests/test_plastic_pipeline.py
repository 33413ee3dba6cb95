"""End to end: simulated PLASTIC + MAG -> daily, monthly and yearly merged products, compared
with the simulator's truth; the time alignment proven by a sharp step; missing MAG / PLASTIC
days; ``--vnum``; bad inputs.

The hooks are the PLASTIC plugin plus a stand-in that registers only the STEREO product
definitions (level l1 not implemented), so these tests never run or import the STEREO plugin:
the MAG L1 RTN inputs are written by the PLASTIC simulator with the core writers and the
shipped stereo definition. Periods are short (CI): 2024-01-30..2024-02-02 (two months; 01-30
also has an older V10 file; 01-31 is a mostly-fill PLASTIC day) and one day in March to show
the yearly products growing from the daily products already in the tree.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from magfw import hookimpl
from magfw.io.cdf import read_cdf
from magfw.io.products import read_product
from magfw.mission import Level, Mission
from magfw.period import parse_period
from magfw.products import shipped_definitions
from magfw.testing import assert_valid_product
from magfw_plastic import plugin as plastic_plugin
from magfw_plastic import simulate as sim
from magfw_plastic.merge import QF_MAG_PARTIAL, QF_NO_MAG, QF_NO_PLASTIC

SC = "A"


class StereoDefinitions:
    """Registers the stereo mission's product definitions only (no processing)."""

    @hookimpl
    def register_missions(self, registry):
        registry.add(Mission(id="stereo", title="STEREO MAG definitions (test stand-in)",
                             spacecraft=["A", "B"], default_spacecraft="A",
                             levels={"l1": Level(name="l1", implemented=False)},
                             products=shipped_definitions("stereo")))


@pytest.fixture
def hooks(magfw_hooks):
    return magfw_hooks(plastic_plugin, StereoDefinitions(), names=["plastic", "stereo_defs"])


def nan(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.where((x <= -1e30) | (x >= 1e33), np.nan, x)


def truth(root: Path, day: date) -> dict[str, np.ndarray]:
    return dict(np.load(root / "truth" / f"ST{SC}_MAGPLASMA_TRUTH_{day:%Y%m%d}.npz"))


def daily(out: Path, day: date) -> dict[str, np.ndarray]:
    return read_cdf(out / f"daily_cdf/{SC}fgy{day.year}/ST{SC}_L2_MAGPLASMA_1M_DAILY_{day:%Y%m%d}_V07.cdf"
                    ).variables


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """Simulated archive for 2024-01-29..2024-02-03 and 2024-03-01 (the run uses 01-30..02-02;
    the neighbours give the edge cycles)."""
    root = tmp_path_factory.mktemp("plastic_archive")
    for text in ("2024-01-29..2024-02-03", "2024-03-01"):
        sim.simulate_archive(parse_period(text), root, SC, seed=3)
    return root


def run(hooks, magfw_run, period: str, source: Path, out: Path, **options):
    return magfw_run(hooks, "plastic", "l2", period, source=str(source), out_dir=out,
                     spacecraft=SC, options=options)


def test_end_to_end_against_truth(hooks, magfw_run, archive, tmp_path):
    out = tmp_path / "out"
    summary = run(hooks, magfw_run, "2024-01-30..2024-02-02", archive, out)
    assert summary.ok, [r.message for r in summary.results]
    outputs = summary.results[0].outputs
    rel = sorted(p.relative_to(out).as_posix() for p in outputs)
    assert "yearly_cdf/sta_l2_magplasma_1m_20240101_v07.cdf" in rel
    assert "monthly_flatfile/Afgy2024/jan_STA_L2_MAGPLASMA_1M_2024_V07.ffh" in rel
    assert "monthly_flatfile/Afgy2024/feb_STA_L2_MAGPLASMA_1M_2024_V07.ffh" in rel
    assert "average_flatfile/Afgy2024/STA_L2_MAGPLASMA_10MIN_2024_V07.ffh" in rel
    assert sum(r.startswith("daily_cdf/") for r in rel) == 4
    assert sum(r.startswith("daily_flatfile/") and r.endswith(".ffh") for r in rel) == 4
    for p in outputs:
        if p.suffix != ".ffd":
            assert_valid_product(p, hooks)

    days = [date(2024, 1, 30), date(2024, 1, 31), date(2024, 2, 1), date(2024, 2, 2)]
    for day in days:
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
        # apart (the speed carries Alfvenic fluctuations of tens of km/s on minute scales),
        # plus the ASCII rounding (Np 0.01, Tkin 3 digits). Minutes next to the day's shock
        # (a real jump) are left to the step test.
        near = np.abs(tr["epoch_ms"] - tr["shock_ms"]) < 120_000
        for var, key, median_tol, max_tol in (("Np", "np", 0.005, 0.02), ("Vp", "vp", 0.015, 0.08),
                                              ("Tp", "tp", 0.008, 0.03), ("Vth", "vth", 0.004, 0.015)):
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

        # and exactly: each cycle in the minute of its middle (start + 30 s), values as the
        # file rounds them (Np to 0.01, speed to 0.1 km/s, Tkin to 3 digits)
        kept = tr["cycle_keep"] & ~tr["cycle_fill"]
        k = np.floor((tr["cycle_start_ms"] + 30_000.0 - sim.day_start_ms(day)) / 60_000.0).astype(int)
        inday = kept & (k >= 0) & (k < 1440)
        assert np.abs(nan(d["Np"])[k[inday]] - tr["cycle_np"][inday]).max() <= 0.0051
        assert np.abs(nan(d["Vp"])[k[inday]] - tr["cycle_vp"][inday]).max() <= 0.051
        assert np.abs(nan(d["Tp"])[k[inday]] / tr["cycle_tp"][inday] - 1).max() <= 0.0051

    # 2024-01-30 (ordinal divisible by 5) also has a V10 file with half the density: V11 won
    tr, d = truth(archive, days[0]), daily(out, days[0])
    assert np.nanmedian(nan(d["Np"]) / tr["np"]) == pytest.approx(1.0, abs=0.01)

    # monthly flat file of January = the January daily values, in order
    jan = read_product(out / "monthly_flatfile/Afgy2024/jan_STA_L2_MAGPLASMA_1M_2024_V07.ffh")
    np_jan = np.concatenate([nan(daily(out, x)["Np"]) for x in days[:2]])
    assert np.allclose(nan(jan.variables["NP"]), np_jan, equal_nan=True)
    assert jan.variables["TIME"].size == 2 * 1440
    # yearly CDF = the four days
    year = read_cdf(out / "yearly_cdf/sta_l2_magplasma_1m_20240101_v07.cdf")
    assert year.variables["Epoch"].size == 4 * 1440
    assert year.global_attrs["Logical_source"] == "STA_L2_MAGPLASMA_1M"
    assert year.global_attrs["Data_source"] == "observed"  # a directory source, not --source simulated
    # 10-min averages: means of the 1-min Np truth over each bin within 1.5 % where full
    ten = read_product(out / "average_flatfile/Afgy2024/STA_L2_MAGPLASMA_10MIN_2024_V07.ffh")
    assert ten.variables["TIME"].size == 4 * 144
    tr_np = np.concatenate([truth(archive, x)["np"] for x in days]).reshape(-1, 10).mean(axis=1)
    full = nan(ten.variables["N_PLA"]) == 10
    assert full.sum() > 300  # of 576 bins (01-31 is mostly fill)
    assert np.median(np.abs(nan(ten.variables["NP"])[full] / tr_np[full] - 1)) < 0.005
    # derived quantities of the averages follow from the averaged values
    b = np.stack([nan(ten.variables[c]) for c in ("BR", "BT", "BN")], axis=1)
    cone = np.degrees(np.arccos(b[:, 0] / np.linalg.norm(b, axis=1)))
    assert np.nanmax(np.abs(cone - nan(ten.variables["CONE"]))) < 1e-3


def test_yearly_products_grow_from_the_daily_products_in_the_tree(hooks, magfw_run, archive,
                                                                  tmp_path):
    out = tmp_path / "out"
    assert run(hooks, magfw_run, "2024-01-31", archive, out).ok
    jan = out / "monthly_flatfile/Afgy2024/jan_STA_L2_MAGPLASMA_1M_2024_V07.ffh"
    before = jan.read_bytes()
    second = run(hooks, magfw_run, "2024-03-01", archive, out)
    assert second.ok
    assert jan.read_bytes() == before  # January was not touched by a March run
    year = read_cdf(out / "yearly_cdf/sta_l2_magplasma_1m_20240101_v07.cdf")
    assert year.variables["Epoch"].size == 2 * 1440  # 01-31 (from the tree) + 03-01
    assert np.all(np.diff(year.variables["Epoch"]) > 0)
    assert np.array_equal(year.variables["Epoch"][:1440], daily(out, date(2024, 1, 31))["Epoch"])
    # a rerun with nothing changed is skipped by the ledger
    assert run(hooks, magfw_run, "2024-03-01", archive, out).results[0].status == "skipped"


def test_step_in_b_and_np_lands_in_the_right_minute(hooks, magfw_run, tmp_path):
    """A jump of B and Np at 10:16:45.000; PLASTIC cycles start at hh:mm:45 (so a cycle covers
    [10:16:45, 10:17:45) and belongs to the minute of its middle, 10:17), MAG at 8 Hz with
    interval-centred stamps and no noise. Expected: Np of minute 10:16 all before the jump,
    10:17 all after; B of minute 10:16 is 45 s before + 15 s after, 10:15 before, 10:17 after.
    Binning PLASTIC by its start stamp would put the after-jump cycle into 10:16 instead."""
    day = date(2024, 5, 14)
    root = tmp_path / "archive"
    step = sim.day_start_ms(day) + (10 * 3600 + 16 * 60 + 45) * 1000.0
    m = sim.quiet_model(day, SC, shock_ms=step, shock_ratio=3.0, cycle_offset_s=45.0,
                        cycle_len_s=60.0)
    rows = sim.plastic_rows(m, 0, defects=False)
    (root / sim.plastic_name(SC, "1min", day, 11)).parent.mkdir(parents=True)
    (root / sim.plastic_name(SC, "1min", day, 11)).write_text(sim.format_1min(m, rows))
    sim.write_mag(root, SC, day, sim.mag_samples(m, 0, 8.0, defects=False, noise_nt=0.0))
    out = tmp_path / "out"
    assert run(hooks, magfw_run, day.isoformat(), root, out).ok
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


def test_missing_mag_and_plastic_days_complete_as_fill(hooks, magfw_run, archive, tmp_path, caplog):
    """MAG of 01-31 and PLASTIC of 02-01 removed, both inputs of 02-02 removed."""
    root = tmp_path / "archive"
    shutil.copytree(archive, root)
    mag_def = sim.mag_definition()
    for day in (date(2024, 1, 31), date(2024, 2, 2)):
        (root / mag_def.filename.format(sc=SC, yyyy=day.year, mm=day.month, dd=day.day,
                                        version=6)).unlink()
    for day in (date(2024, 2, 1), date(2024, 2, 2)):
        for p in (root / "ASCII/1min/A/2024").glob(f"*_1min_{day:%Y%m%d}_*"):
            p.unlink()
    out = tmp_path / "out"
    with caplog.at_level("WARNING", logger="magfw"):
        summary = run(hooks, magfw_run, "2024-01-30..2024-02-02", root, out)
    assert summary.ok, summary.results[0].message
    said = caplog.text
    assert "PLASTIC missing for 2024-02-01..2024-02-02" in said
    assert "MAG L1 RTN missing for 2024-01-31, 2024-02-02" in said
    d = daily(out, date(2024, 1, 31))
    assert np.isnan(nan(d["BFIELDRTN"])).all() and np.all((d["Quality_Flag"] & QF_NO_MAG) != 0)
    assert np.isfinite(nan(d["Np"])).sum() > 100  # PLASTIC still there (a mostly-fill day)
    d = daily(out, date(2024, 2, 1))
    assert np.isfinite(nan(d["BTOTAL"])).sum() > 1300
    assert np.isfinite(nan(d["Np"])).sum() <= 1  # minute 0 may hold 01-31's last cycle
    assert not (out / "daily_cdf/Afgy2024/STA_L2_MAGPLASMA_1M_DAILY_20240202_V07.cdf").exists()
    year = read_cdf(out / "yearly_cdf/sta_l2_magplasma_1m_20240101_v07.cdf")
    assert year.variables["Epoch"].size == 3 * 1440
    g = year.global_attrs
    assert (g["MAG_missing_days"], g["PLASTIC_missing_days"], g["Days_without_inputs"]) == (
        "2024-01-31", "2024-02-01", "2024-02-02")
    feb = read_product(out / "monthly_flatfile/Afgy2024/feb_STA_L2_MAGPLASMA_1M_2024_V07.ffh")
    assert feb.global_attrs["PLASTIC MISSING DAYS"] == "2024-02-01"
    for p in summary.results[0].outputs:
        if p.suffix != ".ffd":
            assert_valid_product(p, hooks)


def test_vnum_selects_one_plastic_version(hooks, magfw_run, archive, tmp_path):
    out = tmp_path / "out"
    summary = run(hooks, magfw_run, "2024-01-30..2024-01-31", archive, out, vnum=10)
    assert summary.ok
    d, tr = daily(out, date(2024, 1, 30)), truth(archive, date(2024, 1, 30))
    assert np.nanmedian(nan(d["Np"]) / tr["np"]) == pytest.approx(0.5, abs=0.01)  # V10 is halved
    assert np.isnan(nan(daily(out, date(2024, 1, 31))["Np"])).sum() >= 1439  # no V10 that day
    assert "V10" in summary.results[0].entry.inputs[0]["name"]


def test_partial_mag_minutes_are_flagged(hooks, magfw_run, archive, tmp_path):
    out = tmp_path / "out"
    assert run(hooks, magfw_run, "2024-02-01", archive, out).ok
    d, tr = daily(out, date(2024, 2, 1)), truth(archive, date(2024, 2, 1))
    partial = (tr["n_mag"] > 0) & (tr["n_mag"] < 30)
    assert np.all((d["Quality_Flag"][partial] & QF_MAG_PARTIAL) != 0)
    assert np.all((d["Quality_Flag"][tr["n_mag"] == 60] & QF_MAG_PARTIAL) == 0)


@pytest.mark.parametrize("damage", ["plastic", "mag"])
def test_bad_input_fails_the_unit_with_one_line_and_writes_nothing(hooks, magfw_run, archive,
                                                                   tmp_path, damage):
    root = tmp_path / "archive"
    shutil.copytree(archive, root)
    day = date(2024, 2, 1)
    if damage == "plastic":
        bad = root / sim.plastic_name(SC, "1min", day, 11)
        lines = bad.read_text().split("\n")
        cells = lines[5].split("\t")
        cells[8] = "x"  # the Np column
        lines[5] = "\t".join(cells)
        bad.write_text("\n".join(lines))
        expect = "column 'Np [1/cc]': 'x' is not a number"
    else:
        d = sim.mag_definition()
        bad = root / d.filename.format(sc=SC, yyyy=2024, mm=2, dd=1, version=6)
        bad.write_bytes(bad.read_bytes()[:5000])
        expect = bad.name
    out = tmp_path / "out"
    summary = run(hooks, magfw_run, "2024-02-01", root, out)
    r = summary.results[0]
    assert r.status == "failed" and bad.name in r.message and expect in r.message
    assert "\n" not in r.message
    assert not any(p.is_file() for p in out.rglob("*") if ".magfw" not in p.parts)


def test_a_period_with_mag_only_is_all_plasma_fill(hooks, magfw_run, archive, tmp_path):
    root = tmp_path / "archive"
    shutil.copytree(archive, root)
    shutil.rmtree(root / "ASCII")
    out = tmp_path / "out"
    summary = run(hooks, magfw_run, "2024-03-01", root, out)
    assert summary.ok, summary.results[0].message
    d = daily(out, date(2024, 3, 1))
    assert np.isnan(nan(d["Np"])).all() and np.isnan(nan(d["R"])).all()
    assert np.all((d["Quality_Flag"] & 0xF) == QF_NO_PLASTIC)
    assert np.isfinite(nan(d["BTOTAL"])).sum() > 1300
    year = read_cdf(out / "yearly_cdf/sta_l2_magplasma_1m_20240101_v07.cdf")
    assert year.global_attrs["PLASTIC_missing_days"] == "2024-03-01"


def test_archive_served_over_http(hooks, magfw_run, archive, tmp_path):
    """The same merge from the simulated archive served on loopback (directory indexes, the
    core's HttpArchive: download into the cache, checksums)."""
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
        http_out, local_out = tmp_path / "http", tmp_path / "local"
        assert run(hooks, magfw_run, "2024-02-01", url, http_out).ok
        assert run(hooks, magfw_run, "2024-02-01", archive, local_out).ok
    finally:
        server.shutdown()
        server.server_close()
    a, b = daily(http_out, date(2024, 2, 1)), daily(local_out, date(2024, 2, 1))
    for name in ("Epoch", "BFIELDRTN", "Np", "Quality_Flag", "HAE"):
        assert np.array_equal(a[name], b[name]), name

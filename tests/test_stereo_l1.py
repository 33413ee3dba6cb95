"""STEREO IMPACT/MAG L1 end to end on the simulator: products, science against the truth,
defect recall and false positives, timing, RTN, bad inputs, the ledger.

Periods are short to keep CI fast (said in each fixture): STEREO-A 2024-01-01..03 (the 2nd is
listed twice, V01 + V02; the 3rd is a burst day) and STEREO-B 2014-02-02..03 (the 3rd is a
burst day). Every simulated day carries every defect kind (spikes, X glitches, the 6 ms lag,
1-s glitches, duplicates, a mixed-rate stretch with its resync packet, spill-over).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from spiceypy import cyice

from magfw.engine.jobs import RunSummary
from magfw.engine.simulation import simulated_root
from magfw.geometry import kernels
from magfw.geometry.time import tt2000_from_cdf_epoch, tt2000_to_et
from magfw.io.cdf import read_cdf
from magfw.io.products import read_product
from magfw.period import parse_period
from magfw.testing import assert_valid_product, make_hooks, run_cli, run_level
from magfw_stereo import flags as F
from magfw_stereo import geometry, layout, plugin, rtn
from magfw_stereo import simulate as sim

pytestmark = pytest.mark.slow  # end to end on the simulator

NS = 1_000_000_000


@pytest.fixture(scope="module")
def hooks():
    return make_hooks(plugin, names=["stereo"])


@dataclass(kw_only=True)
class Run:
    out: Path
    archive: Path
    sc: str
    days: list[str]
    summary: RunSummary


def _run(hooks, tmp: Path, sc: str, period: str) -> Run:
    out = tmp / f"out{sc}"
    summary = run_level(hooks, "stereo", "l1", period, out, spacecraft=sc)
    days = [d.strftime("%Y%m%d") for d in parse_period(period).days()]
    return Run(out=out, archive=simulated_root(out, "stereo", sc, 0), sc=sc, days=days, summary=summary)


@pytest.fixture(scope="module")
def run_a(hooks, tmp_path_factory) -> Run:
    """STEREO-A, three days (a listed-twice day and a burst day among them)."""
    return _run(hooks, tmp_path_factory.mktemp("sta"), "A", "2024-01-01..2024-01-03")


@pytest.fixture(scope="module")
def run_b(hooks, tmp_path_factory) -> Run:
    """STEREO-B on a 2014 date, two days (one with burst data)."""
    return _run(hooks, tmp_path_factory.mktemp("stb"), "B", "2014-02-02..2014-02-03")


@pytest.fixture(params=["A", "B"])
def run(request, run_a, run_b) -> Run:
    return run_a if request.param == "A" else run_b


def truth(r: Run, day: str) -> tuple[dict, dict]:
    z = dict(np.load(r.archive / "truth" / f"ST{r.sc}_TRUTH_{day}.npz"))
    d = json.loads((r.archive / "truth" / f"ST{r.sc}_DEFECTS_{day}.json").read_text())
    return z, d


def cdf(r: Run, frame: str, day: str, burst: bool = False):
    mode = "MAGB" if burst else "MAG"
    rel = (
        f"l1_final_cdf/{frame.lower()}/{r.sc}{'b' if burst else ''}fgy{day[:4]}/"
        f"ST{r.sc}_L1_{mode}_{frame}_{day}_V06.cdf"
    )
    data = read_cdf(r.out / rel)
    t = np.asarray(tt2000_from_cdf_epoch(data.variables["Epoch"]), dtype=np.int64)
    b = data.variables["BFIELD"].astype(np.float64)
    b[b < -1e30] = np.nan
    return t, b, data.variables["MAGFLAGUC"].astype(np.int64)


def defect_mask(t: np.ndarray, d: dict, burst: bool = False) -> np.ndarray:
    """Records at or within one 8 Hz record of an injected value defect."""
    m = np.zeros(t.size, dtype=bool)
    spikes = d["burst_spikes"] if burst else d["spikes"] + d["burst_spikes"]
    glitches = d["burst_xglitches"] if burst else d["xglitches"] + d["burst_xglitches"]
    for s in spikes:
        m |= np.abs(t - s) <= 130_000_000
    for a, b in glitches:
        m |= (t >= a - 130_000_000) & (t <= b + 130_000_000)
    return m


# ---------------------------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------------------------


def expected_names(sc: str, day: str, burst: bool) -> list[str]:
    y = day[:4]
    names = []
    for frame in ("SC", "RTN"):
        f = frame.lower()
        names += [f"l1_final_cdf/{f}/{sc}fgy{y}/ST{sc}_L1_MAG_{frame}_{day}_V06.cdf"]
        for kind in ("", "_1S", "_1MIN"):
            stem = f"l1_final_flat/L1_{f}/{sc}fgy{y}/ST{sc}_L1_MAG_{frame}{kind}_{day}_V06"
            names += [stem + ".ffh", stem + ".ffd"]
        if burst:
            names += [f"l1_final_cdf/{f}/{sc}bfgy{y}/ST{sc}_L1_MAGB_{frame}_{day}_V06.cdf"]
            stem = f"l1_final_flat/L1_{f}/{sc}bfgy{y}/ST{sc}_L1_MAGB_{frame}_{day}_V06"
            names += [stem + ".ffh", stem + ".ffd"]
    return sorted(names)


def test_every_product_exists_with_its_name_and_passes_check(run, hooks):
    assert run.summary.ok, [r.message for r in run.summary.results]
    for res, day in zip(run.summary.results, run.days, strict=True):
        _, d = truth(run, day)
        got = sorted(p.relative_to(run.out).as_posix() for p in res.outputs)
        assert got == expected_names(run.sc, day, bool(d["burst"]))
        for p in res.outputs:
            if p.suffix in (".cdf", ".ffh"):
                assert_valid_product(p, hooks)
    data = read_cdf(next(run.out.glob(f"l1_final_cdf/rtn/*/ST{run.sc}_L1_MAG_RTN_*.cdf")))
    assert list(data.variables["CART_LABL_1"]) == ["BR", "BT", "BN", "BTotal"]
    assert data.info["Epoch"].data_type == "CDF_EPOCH"
    assert data.info["BFIELD"].data_type == "CDF_FLOAT" and data.info["BFIELD"].dims == (4,)
    assert data.global_attrs["Data_source"].startswith("SIMULATED")
    assert data.global_attrs["Logical_source"] == f"ST{run.sc}_L1_MAG_RTN"


# ---------------------------------------------------------------------------------------------
# Science against the truth
# ---------------------------------------------------------------------------------------------

# Tolerances. The simulator adds 0.02 nT Gaussian noise per component and quantises to K ~
# 0.0145 nT/count (0.0042 nT RMS): the best possible 8 Hz RMS is 0.0204 nT. 0.03 nT leaves room
# for the 125 ms averages of 32 Hz stretches and a rare glitch false positive, inside the
# 0.05 nT aim. 1-min means average 480 samples: 0.02 / sqrt(480) = 0.001 nT; 0.005 nT allows the
# records removed as spikes and glitch interpolations.
RMS_8HZ_NT = 0.03
RMS_1MIN_NT = 0.005


@pytest.mark.parametrize("frame", ["SC", "RTN"])
def test_8hz_and_1min_match_the_truth(run, frame):
    for day in run.days:
        z, d = truth(run, day)
        t, b, _ = cdf(run, frame, day)
        assert np.array_equal(t, z["t"])  # every 8 Hz record, none twice, none outside the day
        err = b[:, :3] - z[f"b_{frame.lower()}"]
        away = ~defect_mask(t, d) & np.isfinite(err).all(axis=1)
        rms = np.sqrt(np.mean(err[away] ** 2, axis=0))
        assert rms.max() < RMS_8HZ_NT, (day, rms)
        # BTotal is |B| of the record (8 Hz) or the mean high-rate |B| (32 Hz-derived)
        tot = np.linalg.norm(z[f"b_{frame.lower()}"], axis=1)
        assert np.sqrt(np.mean((b[away, 3] - tot[away]) ** 2)) < RMS_8HZ_NT
        cols = ["BX SC", "BY SC", "BZ SC"] if frame == "SC" else ["BR RTN", "BT RTN", "BN RTN"]
        ff = read_product(
            next(
                run.out.glob(
                    f"l1_final_flat/L1_{frame.lower()}/*/ST{run.sc}_L1_MAG_{frame}_1MIN_{day}_V06.ffh"
                )
            )
        )
        m = np.column_stack([ff.variables[c] for c in cols])
        e1 = np.sqrt(np.mean((m - z[f"b_{frame.lower()}_1min"]) ** 2, axis=0))
        assert e1.max() < RMS_1MIN_NT, (day, e1)
        assert np.sqrt(np.mean((ff.variables["BT"] - z["btot_1min"]) ** 2)) < RMS_1MIN_NT
        # the header as the UCLA samples have it: UT in SEC., components in NT
        assert list(ff.variables)[:5] == ["UT", *cols, "BT"]
        assert ff.var_attrs["UT"]["FLATFILE_UNITS"] == "SEC."
        assert {ff.var_attrs[c]["UNITS"] for c in cols} == {"NT"}


def test_burst_products_match_the_truth(run):
    day = next(day for day in run.days if truth(run, day)[1]["burst"])
    z, d = truth(run, day)
    for frame in ("SC", "RTN"):
        t, b, fl = cdf(run, frame, day, burst=True)
        assert np.array_equal(t, z["t_burst"])
        err = b[:, :3] - z[f"b_{frame.lower()}_burst"]
        away = ~defect_mask(t, d, burst=True) & np.isfinite(err).all(axis=1)
        assert np.sqrt(np.mean(err[away] ** 2, axis=0)).max() < RMS_8HZ_NT
        assert np.all(fl & F.FROM_32HZ)
    # the normal 8 Hz product is filled from burst data during the burst (bit 21)
    t, _, fl = cdf(run, "SC", day)
    inside = (t >= d["burst"][0]) & (t < d["burst"][1])
    assert inside.sum() > 1000 and np.all(fl[inside] & F.FROM_32HZ)


def test_defects_recall_and_false_positive_rate(run, record_property):
    """Spikes must all become fill; X glitches flagged (bit 22) and repaired; false positives
    are flagged records away from any injected defect, per record."""
    n_sp = n_sp_found = n_gl = n_gl_found = fp = clean = 0
    for day in run.days:
        z, d = truth(run, day)
        for burst in (False, True):
            if burst and not d["burst"]:
                continue
            t, b, fl = cdf(run, "SC", day, burst)
            spikes = np.array(d["burst_spikes"] if burst else d["spikes"], dtype=np.int64)
            i = np.searchsorted(t, spikes)
            n_sp += spikes.size
            n_sp_found += int(np.sum(np.isnan(b[i, 0]) & (fl[i] & F.SPIKE > 0)))
            for a, e in d["burst_xglitches"] if burst else d["xglitches"]:
                m = (t >= a) & (t <= e)
                ok = np.all(fl[m] & F.X_GLITCH) and np.all(
                    np.abs(
                        b[m, 0]
                        - z["b_sc_burst" if burst else "b_sc"][
                            np.searchsorted(z["t_burst" if burst else "t"], t[m]), 0
                        ]
                    )
                    < 0.2
                )
                n_gl += 1
                n_gl_found += bool(ok)
            flagged = (fl & (F.SPIKE | F.X_GLITCH)) > 0
            away = ~defect_mask(t, d, burst)
            fp += int((flagged & away).sum())
            clean += int(away.sum())
    recall_sp, recall_gl, fp_rate = n_sp_found / n_sp, n_gl_found / n_gl, fp / clean
    record_property(
        "stereo_defects",
        {"sc": run.sc, "spike_recall": recall_sp, "glitch_recall": recall_gl, "false_positive_rate": fp_rate},
    )
    print(
        f"STEREO-{run.sc}: spikes {n_sp_found}/{n_sp}, X glitches {n_gl_found}/{n_gl}, "
        f"false positives {fp}/{clean} records ({fp_rate:.1e})"
    )
    assert recall_sp == 1.0
    assert recall_gl >= 0.9
    assert fp_rate < 1e-4


def test_timing_errors_are_removed(run):
    """Every output stamp equals the true sample time to < 1 ms (CDF_EPOCH keeps ~16 us), and
    the records that needed a timing fix carry their flag."""
    for day in run.days:
        z, d = truth(run, day)
        t, _, fl = cdf(run, "SC", day)
        dt = np.abs(t - z["t"])
        assert dt.max() < 1_000_000
        assert np.all(fl & F.LAG_FIXED)
        for a, e in d["time_glitches"]:
            m = (t >= a) & (t <= e)
            assert m.sum() >= 1 and np.all(fl[m] & F.TIME_RESYNC)
        for a, e in d["resync_packets"]:
            m = (t >= a) & (t < e)
            assert m.sum() == 8 and np.all(fl[m] & F.RATE_RESYNC)
        for a, e in d["mixed_rate"]:
            m = (t >= a) & (t < e)
            assert m.sum() == (e - a) // 125_000_000 and np.all(fl[m] & F.FROM_32HZ)


def test_rtn_truth_is_independent_and_agrees_with_spice(run):
    """The simulator's truth uses numpy geometry, not SPICE; per-sample pxform on the
    simulated kernels agrees with it to 1e-6 rad (0.1 pT on 100 nT)."""
    day = run.days[-1]
    z, _ = truth(run, day)
    tt = z["t"][::691]
    spice = sorted(p for p in (run.archive / layout.SPICE_ROOT).rglob("*") if p.is_file())
    et = np.asarray(tt2000_to_et(tt), dtype=np.float64)
    chosen = kernels.select_kernels(spice, et[0], et[-1], bodies=[layout.NAIF_ID[run.sc]])
    with kernels.kernel_pool(chosen) as pool:
        frame = rtn.define_sc_frame(run.sc)
        m = cyice.pxform_v(frame, pool.rtn_frame(layout.NAIF_NAME[run.sc]), et)
    ours = geometry.sc_from_rtn(run.sc, et).transpose(0, 2, 1)
    assert np.abs(m - ours).max() < 1e-6
    # and the truth's SC and RTN fields are related by it
    b = np.einsum("nij,nj->ni", m, z["b_sc"][::691].astype(np.float64))
    assert np.abs(b - z["b_rtn"][::691]).max() < 1e-4


def test_listed_twice_day_uses_the_highest_version(run_a):
    (res,) = [r for r in run_a.summary.results if r.unit.key == "2024-01-02"]
    names = [i["name"] for i in res.entry.inputs]
    assert any(n.endswith("STA_L1_MAG_20240102_V02.cdf") for n in names)
    assert not any(n.endswith("_V01.cdf") for n in names)
    assert any(i["role"] == "kernel" and i["name"].endswith(".ah.bc") for i in res.entry.inputs)
    assert any(i["role"] == "calibration" for i in res.entry.inputs)


# ---------------------------------------------------------------------------------------------
# prep
# ---------------------------------------------------------------------------------------------


def test_prep_by_command_line(run_a, hooks, tmp_path):
    """`magfw run stereo prep` on the same archive: 1-s flat files of the unvalidated field
    (truth - offsets, within noise and the 6 ms lag), passing magfw check."""
    res = run_cli(
        [
            "run",
            "stereo",
            "prep",
            "2024-01-02",
            "--source",
            str(run_a.archive),
            "--out",
            str(tmp_path / "prep"),
        ],
        hooks,
    )
    assert res.exit_code == 0, res.stdout + res.stderr
    (ffh,) = (tmp_path / "prep").glob("l1_0_avg/Afgy2024/STA_L1_0_MAG_SC_1S_20240102_V01.ffh")
    assert_valid_product(ffh, hooks)
    data = read_product(ffh)
    z, d = truth(run_a, "20240102")
    true_1s = z["b_sc"].reshape(-1, 8, 3).mean(axis=1) - z["offsets"]
    m = np.column_stack([data.variables[c] for c in ("BX", "BY", "BZ")]).astype(np.float64)
    n = data.variables["NPTS"]
    good = (n > 0) & (np.abs(m) < 1e30).all(axis=1)
    assert good.sum() > 86000
    err = m[good] - true_1s[good]
    # no corrections in prep: spikes and glitch-moved seconds are outliers; the median is not
    assert np.median(np.abs(err)) < 0.02


# ---------------------------------------------------------------------------------------------
# Bad inputs, and the ledger
# ---------------------------------------------------------------------------------------------


def _copy_archive(src: Path, dst: Path) -> Path:
    """Hard-linked copy (inputs are never modified; files we damage are replaced, not edited)."""
    shutil.copytree(src, dst, copy_function=os.link)
    return dst


def _replace(path: Path, data: bytes) -> None:
    path.unlink()
    path.write_bytes(data)


def _no_partial(out: Path, day: str) -> None:
    left = [p for p in out.rglob(f"*{day}*") if ".magfw" not in p.parts]
    assert not left, left
    assert (
        not list((out / ".magfw" / "staging").rglob("*.*")) if (out / ".magfw" / "staging").exists() else True
    )


def test_bad_inputs_give_one_clear_line_and_the_other_days_complete(run_a, hooks, tmp_path):
    arch = _copy_archive(run_a.archive, tmp_path / "arch")
    uv = arch / layout.uv_dir("A")
    # 01: truncated CDF
    f = uv / "STA_L1_MAG_20240101_V01.cdf"
    _replace(f, f.read_bytes()[: f.stat().st_size // 3])
    # 02: the field variable is missing (the highest version, V02, rewritten without B_SC)
    raw = read_cdf(uv / "STA_L1_MAG_20240102_V02.cdf")
    (uv / "STA_L1_MAG_20240102_V02.cdf").unlink()
    from cdflib.cdfwrite import CDF as CdfWriter

    with CdfWriter(uv / "STA_L1_MAG_20240102_V02.cdf", cdf_spec={"Compressed": 0}) as w:
        w.write_var(
            {
                "Variable": "Epoch",
                "Data_Type": 31,
                "Num_Elements": 1,
                "Rec_Vary": True,
                "Dim_Sizes": [],
                "Compress": 0,
            },
            var_data=raw.variables["Epoch"],
        )
    out = tmp_path / "out1"
    s = run_level(hooks, "stereo", "l1", "2024-01-01..2024-01-03", out, spacecraft="A", source=str(arch))
    msg = {r.unit.key: (r.status, r.message) for r in s.results}
    assert msg["2024-01-03"][0] == "ok"
    assert (
        msg["2024-01-01"][0] == "failed"
        and "STA_L1_MAG_20240101_V01.cdf" in msg["2024-01-01"][1]
        and "truncated" in msg["2024-01-01"][1]
    )
    assert msg["2024-01-02"][0] == "failed" and "'B_SC' not found" in msg["2024-01-02"][1]
    for m in msg.values():
        assert "\n" not in m[1] and "internal error" not in m[1]
    _no_partial(out, "20240101")
    _no_partial(out, "20240102")


def test_missing_day_offsets_and_kernel_gap(run_a, hooks, tmp_path):
    arch = _copy_archive(run_a.archive, tmp_path / "arch")
    # 01: no offsets row for the day in the Counts table
    counts = arch / "offsets" / "202401StereoACounts.asc"
    lines = counts.read_text().splitlines(keepends=True)
    _replace(counts, "".join(ln for ln in lines if not ln.startswith("2024    1.5")).encode())
    # 02: the day's attitude CK is gone (the neighbours cover only +-60 s of it)
    (arch / layout.spice_dir("ah", "A") / "ahead_2024_002_01.ah.bc").unlink()
    # 03: the day is missing (both listed versions gone for day 3's file)
    for p in (arch / layout.uv_dir("A")).glob("STA_L1_MAG*_20240103_V*.cdf"):
        p.unlink()
    out = tmp_path / "out2"
    s = run_level(hooks, "stereo", "l1", "2024-01-01..2024-01-03", out, spacecraft="A", source=str(arch))
    msg = {r.unit.key: (r.status, r.message) for r in s.results}
    assert msg["2024-01-01"][0] == "failed"
    assert msg["2024-01-01"][1].endswith(
        "no offsets for 2024-01-01 (a day without offsets is an error, not zeros)"
    )
    assert msg["2024-01-02"][0] == "failed"
    assert msg["2024-01-02"][1].startswith("CK for MAGFW_STA_SC (-234000): no coverage 2024-01-02")
    assert msg["2024-01-03"][0] == "failed"
    assert "no file STA_L1_MAG_20240103_Vnn.cdf" in msg["2024-01-03"][1]
    for day in ("20240101", "20240102", "20240103"):
        _no_partial(out, day)


def test_rerun_skips_unchanged_days_and_a_new_version_regenerates(run_a, hooks, tmp_path):
    arch = _copy_archive(run_a.archive, tmp_path / "arch")
    out = tmp_path / "out"
    first = run_level(hooks, "stereo", "l1", "2024-01-01..2024-01-02", out, spacecraft="A", source=str(arch))
    assert first.ok
    again = run_level(hooks, "stereo", "l1", "2024-01-01..2024-01-02", out, spacecraft="A", source=str(arch))
    assert [r.status for r in again.results] == ["skipped", "skipped"]
    assert all(r.message.startswith("unchanged") for r in again.results)
    # Berkeley publishes V02 of 2024-01-01: that day is regenerated, the other skipped
    uv = arch / layout.uv_dir("A")
    shutil.copy(uv / "STA_L1_MAG_20240101_V01.cdf", uv / "STA_L1_MAG_20240101_V02.cdf")
    third = run_level(hooks, "stereo", "l1", "2024-01-01..2024-01-02", out, spacecraft="A", source=str(arch))
    status = {r.unit.key: r for r in third.results}
    assert status["2024-01-02"].status == "skipped"
    assert status["2024-01-01"].status == "ok"
    assert "STA_L1_MAG_20240101_V02.cdf" in status["2024-01-01"].message


def test_simulator_output_depends_only_on_day_spacecraft_and_seed(run_a, tmp_path):
    """Simulating 2024-01-03 alone gives byte-identical files to simulating it within
    2024-01-01..03 (monthly files are always whole months)."""
    import hashlib

    alone = sim.simulate(parse_period("2024-01-03"), tmp_path / "alone", "A", 0)
    files = [p for p in alone.rglob("*") if p.is_file()]
    assert len(files) >= 10
    for p in files:
        other = run_a.archive / p.relative_to(alone)
        assert hashlib.sha256(p.read_bytes()).digest() == hashlib.sha256(other.read_bytes()).digest(), (
            p.relative_to(alone)
        )


def test_an_imported_counts_table_takes_precedence_and_regenerates(run_a, hooks, tmp_path):
    """A Counts table revision in the output tree (what `magfw stereo offsets import` writes)
    wins over the archive's; its offsets are added as they are."""
    from magfw_stereo.counts import format_counts, read_counts

    arch = _copy_archive(run_a.archive, tmp_path / "arch")
    out = tmp_path / "out"
    assert run_level(hooks, "stereo", "l1", "2024-01-01", out, spacecraft="A", source=str(arch)).ok
    before = read_cdf(next(out.glob("l1_final_cdf/sc/*/STA_L1_MAG_SC_20240101_V06.cdf")))
    table = read_counts(arch / "offsets" / "202401StereoACounts.asc")
    table.offsets = table.offsets + np.array([1.0, -2.0, 0.5])
    imported = out / "offsets" / "V00" / "202401StereoACounts.asc"
    imported.parent.mkdir(parents=True)
    imported.write_bytes(format_counts(table))
    s = run_level(hooks, "stereo", "l1", "2024-01-01", out, spacecraft="A", source=str(arch))
    (res,) = s.results
    assert res.status == "ok" and "offsets/V00/202401StereoACounts.asc" in res.message
    after = read_cdf(next(out.glob("l1_final_cdf/sc/*/STA_L1_MAG_SC_20240101_V06.cdf")))
    a, b = after.variables["BFIELD"][:, :3], before.variables["BFIELD"][:, :3]
    ok = (a > -1e30).all(axis=1) & (b > -1e30).all(axis=1)
    assert np.abs((a[ok] - b[ok]) - [1.0, -2.0, 0.5]).max() < 1e-4
    cal = str(np.atleast_1d(after.global_attrs["Calibration_version"])[0]).split("; ")
    assert "counts_table=offsets/V00/202401StereoACounts.asc V00" in cal

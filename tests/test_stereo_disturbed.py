"""STEREO L1 on the days the quiet simulator does not make, end to end against the truth:
disturbed days (a current-sheet crossing, a shock with a turbulent sheath whose one-record
steps reach 0.15 nT, a magnetic cloud; X glitches with sharp and soft edges, spikes after the
shock, 1-s timestamp runs up to 15 minutes, stamp collisions, stale stamps after both rate
switches) and a 4 Hz day (STEREO-A near the 2014-2015 conjunction). Also: quiet days are
simulated byte for byte as before these kinds of days existed.

Each fixture simulates and processes one day (session scope: A 2024-05-10, B 2014-02-20 and
the 4 Hz day A 2014-06-15). The truth's ``expect`` codes say what the chain must do with each
record (``magfw_stereo.simdays.EXPECT``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from magfw.engine.simulation import simulated_root
from magfw.geometry.time import tt2000_from_cdf_epoch
from magfw.io.cdf import read_cdf
from magfw.io.products import read_product
from magfw.period import parse_period
from magfw.testing import assert_valid_product, make_hooks, run_level
from magfw_stereo import flags as F
from magfw_stereo import plugin
from magfw_stereo import simulate as sim

pytestmark = pytest.mark.slow  # end to end on the simulator

NS = 1_000_000_000
NOISE_NT = 0.0204  # 0.02 nT Gaussian noise and the K ~ 0.0145 nT/count quantisation
REPAIRS = F.SPIKE | F.X_GLITCH
TIMING = F.TIME_RESYNC | F.RATE_RESYNC


@dataclass(kw_only=True)
class Day:
    out: Path
    archive: Path
    sc: str
    day: str
    truth: dict[str, np.ndarray]
    defects: dict
    t: np.ndarray
    b: np.ndarray  #: (N, 4) SC
    flags: np.ndarray
    err: np.ndarray  #: (N, 3) product minus truth, SC
    expect: np.ndarray  #: the truth's code of each product record


def _day(tmp: Path, sc: str, day: str) -> Day:
    hooks = make_hooks(plugin, names=["stereo"])
    out = tmp / "out"
    summary = run_level(hooks, "stereo", "l1", day, out, spacecraft=sc)
    assert summary.ok, [r.message for r in summary.results]
    for p in summary.results[0].outputs:
        if p.suffix in (".cdf", ".ffh"):
            assert_valid_product(p, hooks)
    archive = simulated_root(out, "stereo", sc, 0)
    key = day.replace("-", "")
    truth = dict(np.load(archive / "truth" / f"ST{sc}_TRUTH_{key}.npz"))
    defects = json.loads((archive / "truth" / f"ST{sc}_DEFECTS_{key}.json").read_text())
    data = read_cdf(next(out.glob(f"l1_final_cdf/sc/*/ST{sc}_L1_MAG_SC_{key}_V06.cdf")))
    t = np.asarray(tt2000_from_cdf_epoch(data.variables["Epoch"]), dtype=np.int64)
    b = data.variables["BFIELD"].astype(np.float64)
    b[b < -1e30] = np.nan
    i = np.clip(np.searchsorted(truth["t"], t), 0, truth["t"].size - 1)
    return Day(
        out=out,
        archive=archive,
        sc=sc,
        day=key,
        truth=truth,
        defects=defects,
        t=t,
        b=b,
        flags=data.variables["MAGFLAGUC"].astype(np.int64),
        err=b[:, :3] - truth["b_sc"][i],
        expect=truth["expect"][i],
    )


@pytest.fixture(scope="session")
def disturbed_a(tmp_path_factory) -> Day:
    """STEREO-A, one disturbed day (60 X glitches)."""
    return _day(tmp_path_factory.mktemp("dist_a"), "A", "2024-05-10")


@pytest.fixture(scope="session")
def disturbed_b(tmp_path_factory) -> Day:
    """STEREO-B, one disturbed day (20 X glitches)."""
    return _day(tmp_path_factory.mktemp("dist_b"), "B", "2014-02-20")


@pytest.fixture(params=["A", "B"])
def disturbed(request, disturbed_a, disturbed_b) -> Day:
    return disturbed_a if request.param == "A" else disturbed_b


@pytest.fixture(scope="session")
def four_hz(tmp_path_factory) -> Day:
    """STEREO-A, a 4 Hz day (partial: 2-3 passes)."""
    return _day(tmp_path_factory.mktemp("four_hz"), "A", "2014-06-15")


# ---------------------------------------------------------------------------------------------
# Quiet days stay as they were
# ---------------------------------------------------------------------------------------------

#: SHA-256 over the Berkeley files, beacon files, offsets and truth of quiet days (relative
#: path, then the file's digest, in path order), as the simulator wrote them before disturbed
#: and 4 Hz days existed (numpy 2 generators, cdflib 1.3). A new cdflib or numpy may change
#: the bytes legitimately; then check the files and pin the new digests.
QUIET_DIGESTS = {
    ("A", "2024-01-02..2024-01-03"): "cebe75ee3f036a228b52f79b63e8a1be83f8fbb6048b8b8ac8304fb401d448da",
    ("B", "2014-02-03"): "55731699d4e30c18bfc22f09e44ab645c6575de535491e7c8a94f14f9bc07c63",
    ("A", "2015-01-01"): "e212c8ffd6208ebdc88a6e95de9ffeda4c95b34ea74f8dd6283e907b4d022c30",
}


@pytest.mark.parametrize(("sc", "period"), list(QUIET_DIGESTS))
def test_quiet_days_are_simulated_byte_for_byte_as_before(sc, period, tmp_path):
    root = sim.simulate(parse_period(period), tmp_path, sc, 0)
    h = hashlib.sha256()
    files = [
        p
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).parts[0] in ("impact", "truth", "offsets")
    ]
    for p in sorted(files):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(hashlib.sha256(p.read_bytes()).digest())
    assert h.hexdigest() == QUIET_DIGESTS[(sc, period)]


# ---------------------------------------------------------------------------------------------
# Disturbed days
# ---------------------------------------------------------------------------------------------


def test_the_sheath_is_as_turbulent_as_asked(disturbed):
    """The simulated sheath's measured one-record steps (noise included) run from about
    0.15 nT RMS per component behind the shock down to about 0.05 nT; quiet parts ~0.036."""
    z, reg = disturbed.truth, disturbed.defects["events_s"]["disturbed"]
    steps = np.diff(z["b_sc"].astype(np.float64), axis=0)
    s = (z["t"][1:] - z["t"][0]) / NS
    rms = lambda a, b: float(np.sqrt(np.mean(steps[(s >= a) & (s < b)] ** 2) + 2 * NOISE_NT**2))  # noqa: E731
    shock, end = reg["sheath"]
    assert 0.12 < rms(shock + 10, shock + 610) < 0.16
    assert 0.045 < rms(end - 1800, end - 600) < 0.065
    assert 0.03 < rms(60, 3600) < 0.045


def test_every_record_is_there_once_at_its_true_time(disturbed):
    """Every 8 Hz instant of the day, no hole left by a collision or a long run."""
    assert np.array_equal(disturbed.t, disturbed.truth["t"])


def test_false_repairs_are_rare(disturbed, record_property):
    """Good records (code 0) flagged as spike or X glitch: <= 1e-4 (the issue's aim)."""
    good = disturbed.expect == 0
    false = int(np.count_nonzero((disturbed.flags & REPAIRS).astype(bool) & good))
    rate = false / int(good.sum())
    record_property("false_repair_rate", rate)
    print(f"ST{disturbed.sc} {disturbed.day}: false repairs {false}/{int(good.sum())} ({rate:.1e})")
    assert rate <= 1e-4


def _glitch_table(d: Day) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per injected X glitch: found (every record flagged and repaired to < 0.2 nT), |height|
    and the significance a matched filter can expect of it, ``|a| |h| / sigma`` (|h|^2 = 2 for
    sharp edges, 1.5 with a soft one; sigma: the truth's one-record step spread on X, +-128
    records, with the noise)."""
    z, found, amp, snr = d.truth, [], [], []
    steps = np.diff(z["b_sc"][:, 0].astype(np.float64))
    table = zip(d.defects["xglitches"], d.defects["xglitch_nT"], d.defects["xglitch_soft"], strict=True)
    for (a, e), h, soft in table:
        m = (d.t >= a) & (d.t <= e)
        found.append(bool(np.all(d.flags[m] & F.X_GLITCH) and np.all(np.abs(d.err[m, 0]) < 0.2)))
        k = int(np.searchsorted(z["t"], a))
        sig = np.sqrt(np.mean(steps[max(0, k - 128) : k + 128] ** 2) + 2 * NOISE_NT**2)
        amp.append(abs(h))
        snr.append(abs(h) * np.sqrt(1.5 if soft else 2.0) / sig)
    return np.array(found), np.array(amp), np.array(snr)


def test_x_glitches_are_found_where_the_field_allows(disturbed, record_property):
    """Recall of X glitches of 0.3 nT and more (flagged, repaired to < 0.2 nT, soft first
    records included): >= 99 % of those whose expected significance is >= 7 (the detector's
    threshold, 4.5-4.75, plus 2.3: 99 % of them clear it), and >= 85 % of all of them. Behind
    the shock the steps reach 0.15 nT RMS: there a 0.3-0.5 nT glitch is no larger than the
    turbulence's own one-record pulses and cannot be told from them at <= 1e-4 false repairs
    (docs/stereo.md)."""
    found, amp, snr = _glitch_table(disturbed)
    big = amp >= 0.3
    clear = big & (snr >= 7.0)
    record_property(
        "x_glitch_recall", {"all_0.3": float(found[big].mean()), "clear": float(found[clear].mean())}
    )
    print(
        f"ST{disturbed.sc} {disturbed.day}: X glitches >= 0.3 nT {int(found[big].sum())}/{int(big.sum())}, "
        f"of them clear of the turbulence {int(found[clear].sum())}/{int(clear.sum())}; "
        f"< 0.3 nT {int(found[~big].sum())}/{int((~big).sum())}"
    )
    assert found[clear].mean() >= 0.99
    assert found[big].mean() >= 0.85


def test_unflagged_records_are_as_good_as_the_noise(disturbed, record_property):
    """8 Hz RMS error of every record without a repair or timing flag: within 10 % of the
    input noise (0.0204 nT), per component; missed glitches included."""
    ok = ~((disturbed.flags & (REPAIRS | TIMING)).astype(bool)) & np.isfinite(disturbed.err).all(axis=1)
    rms = np.sqrt(np.mean(disturbed.err[ok] ** 2, axis=0))
    record_property("unflagged_rms_nT", rms.tolist())
    assert rms.max() <= 1.1 * NOISE_NT, rms


def test_no_timing_defect_leaves_an_unflagged_record_off(disturbed):
    """Records of 1-s runs (1 to 7200 records, late and early), stamp collisions and stale
    packets after both switches: all flagged, and no unflagged record within 2 s of one is off
    by more than 0.1 nT."""
    timing = disturbed.expect == 3
    assert timing.sum() > 13000 and np.all(disturbed.flags[timing] & TIMING)
    near = np.zeros(disturbed.t.size, dtype=bool)
    idx = np.flatnonzero(timing)
    near[np.clip(idx[:, None] + np.arange(-16, 17), 0, near.size - 1)] = True
    unflagged = near & ~((disturbed.flags & (REPAIRS | TIMING)).astype(bool))
    assert np.nanmax(np.abs(disturbed.err[unflagged])) <= 0.1
    flagged_ok = timing & ~((disturbed.flags & REPAIRS).astype(bool)) & (disturbed.expect == 3)
    assert np.nanmax(np.abs(disturbed.err[flagged_ok])) <= 0.12  # restamped, so right too
    for a, e in disturbed.defects["resync_packets"] + disturbed.defects["resync_packets_32"]:
        m = (disturbed.t >= a) & (disturbed.t <= e)
        assert m.sum() == 8 and np.all(disturbed.flags[m] & F.RATE_RESYNC)


def test_spikes_including_those_after_the_shock_are_fill(disturbed):
    i = np.searchsorted(disturbed.t, np.array(disturbed.defects["spikes"], dtype=np.int64))
    assert np.isnan(disturbed.b[i, :3]).all() and np.all(disturbed.flags[i] & F.SPIKE)
    shock = disturbed.truth["t"][0] + int(disturbed.defects["events_s"]["disturbed"]["shock"] * NS)
    after = (disturbed.t[i] > shock) & (disturbed.t[i] < shock + 300 * NS)
    assert after.sum() == 6


def test_one_minute_averages_match_the_truth(disturbed):
    """1-min means (SC) against the truth's, minutes without a repaired record: 0.005 nT RMS
    (as on quiet days)."""
    ff = read_product(
        next(
            disturbed.out.glob(
                f"l1_final_flat/L1_sc/*/ST{disturbed.sc}_L1_MAG_SC_1MIN_{disturbed.day}_V06.ffh"
            )
        )
    )
    m = np.column_stack([ff.variables[c] for c in ("BX SC", "BY SC", "BZ SC")]).astype(np.float64)
    touched = np.zeros(1440, dtype=bool)
    minute = (disturbed.t - disturbed.truth["t"][0]) // (60 * NS)
    touched[minute[(disturbed.flags & REPAIRS).astype(bool)]] = True
    e = m[~touched] - disturbed.truth["b_sc_1min"][~touched]
    assert np.sqrt(np.mean(e**2, axis=0)).max() < 0.005


# ---------------------------------------------------------------------------------------------
# A 4 Hz day
# ---------------------------------------------------------------------------------------------


def test_a_4hz_day_keeps_its_250_ms_cadence_and_says_so(four_hz):
    d = four_hz
    assert np.array_equal(d.t, d.truth["t"])  # every 250 ms record of the passes, nothing else
    assert int(np.median(np.diff(d.t))) == 250_000_000
    assert np.all(d.flags & F.FOUR_HZ)
    cdf = read_cdf(next(d.out.glob(f"l1_final_cdf/rtn/*/STA_L1_MAG_RTN_{d.day}_V06.cdf")))
    assert cdf.global_attrs["Time_resolution"] == "00:00:00.250"
    ff = read_product(next(d.out.glob(f"l1_final_flat/L1_sc/*/STA_L1_MAG_SC_{d.day}_V06.ffh")))
    assert ff.global_attrs["TIME_RESOLUTION"] == "00:00:00.250"


def test_a_4hz_day_has_the_same_accuracy(four_hz):
    """250 ms records away from defects: RMS as on 8 Hz days (the 0.0204 nT noise; < 0.03);
    spikes fill, X glitches (1 s = 4 records) repaired, 1-s runs restamped."""
    d = four_hz
    good = (d.expect == 0) & np.isfinite(d.err).all(axis=1)
    assert np.sqrt(np.mean(d.err[good] ** 2, axis=0)).max() < 0.03
    assert not np.any(d.flags[good] & REPAIRS)
    i = np.searchsorted(d.t, np.array(d.defects["spikes"], dtype=np.int64))
    assert np.isnan(d.b[i, :3]).all()
    for a, e in d.defects["xglitches"]:
        m = (d.t >= a) & (d.t <= e)
        assert np.all(d.flags[m] & F.X_GLITCH) and np.abs(d.err[m, 0]).max() < 0.2
    assert np.all(d.flags[d.expect == 3] & F.TIME_RESYNC)


def test_a_4hz_day_1s_and_1min_averages(four_hz):
    """1 s (2-s windows, so 8 samples at 4 Hz) and 1 min (240) against means of the truth's
    own samples over the same windows: 0.02 nT and 0.005 nT RMS."""
    d, z = four_hz, four_hz.truth
    day0 = int(z["t_1min"][0] - 30 * NS)
    ff = read_product(next(d.out.glob(f"l1_final_flat/L1_sc/*/STA_L1_MAG_SC_1S_{d.day}_V06.ffh")))
    n = ff.variables["NPTS"]
    full = n == 8
    assert full.sum() > 10000 and n.max() == 8
    w = np.floor_divide(z["t"] - day0 + NS // 2, NS)  # window k holds w in {k, k + 1}
    sums = np.zeros((86401, 3))
    cnt = np.bincount(w, minlength=86401)
    for c in range(3):
        sums[:, c] = np.bincount(w, z["b_sc"][:, c].astype(np.float64), minlength=86401)
    true_1s = (sums[:-1] + sums[1:]) / np.maximum(cnt[:-1] + cnt[1:], 1)[:, None]
    m = np.column_stack([ff.variables[c] for c in ("BX SC", "BY SC", "BZ SC")]).astype(np.float64)
    clean = full & (np.abs(m) < 1e30).all(axis=1)
    assert np.sqrt(np.mean((m[clean] - true_1s[clean]) ** 2, axis=0)).max() < 0.02
    one = read_product(next(d.out.glob(f"l1_final_flat/L1_sc/*/STA_L1_MAG_SC_1MIN_{d.day}_V06.ffh")))
    full = one.variables["NPTS"] == 240
    m = np.column_stack([one.variables[c] for c in ("BX SC", "BY SC", "BZ SC")]).astype(np.float64)
    assert full.sum() > 100
    assert np.sqrt(np.mean((m[full] - z["b_sc_1min"][full]) ** 2, axis=0)).max() < 0.005

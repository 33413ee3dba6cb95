"""Aditya-L1 MAG building blocks on small synthetic arrays: packet layout, TCT, caldb,
despiking, the dual-magnetometer model, GTI rules, the quality factor, the typed processing
configuration, the level objects and their pure L2 steps. Fast (< 5 s)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

import magfw_aditya.plugin as aditya_plugin
from magfw.api import shipped_definitions
from magfw.errors import DefinitionError, InputError, MissingInputError, UsageError
from magfw.geometry.time import tt2000_from_iso
from magfw.plugin.checks import level_problems, plugin_problems
from magfw.tools.check import required_globals
from magfw_aditya import (
    calibration,
    config,
    despike,
    dualmag,
    gti,
    l1,
    l2,
    l2products,
    l2stages,
    l2steps,
    spice,
)
from magfw_aditya import simulate as sim
from magfw_aditya.clock import packet_clock
from magfw_aditya.common import creator_email
from magfw_aditya.packets import decode, encode, load_layout
from magfw_aditya.tct import format_tct, parse_tct, segment_times


def _science(n: int = 50) -> tuple[bytes, np.ndarray]:
    layout = load_layout()
    pt = layout.packets["science"]
    rng = np.random.default_rng(1)
    counts = rng.integers(-32767, 32767, size=(n, 16, 2, 3)).astype(np.int16)
    coarse, fine = layout.obt_fields(2.048 * np.arange(n) + 1000.0)
    blob = encode(
        pt, {"sequence_count": np.arange(n), "obt_coarse": coarse, "obt_fine": fine, "counts": counts}, n
    )
    return blob, counts


def test_packet_layout_is_declarative_and_consistent():
    layout = load_layout()
    sci = layout.packets["science"]
    assert sci.dtype.itemsize == sci.length == 208
    assert layout.packets["housekeeping"].dtype.itemsize == 22
    assert sci.extra["sample_period_s"] * sci.extra["samples_per_packet"] == pytest.approx(2.048)


def test_packets_round_trip_vectorised_and_bad_packets_dropped():
    blob, counts = _science()
    pt = load_layout().packets["science"]
    dec = decode(pt, blob, "test.pld")
    assert dec.records.size == 50 and dec.n_dropped == 0
    assert np.array_equal(dec.records["counts"], counts)
    assert np.allclose(load_layout().obt_seconds(dec.records), 2.048 * np.arange(50) + 1000.0, atol=1 / 65536)
    bad = bytearray(blob)
    bad[3 * 208 + 50] ^= 0xFF  # payload byte: checksum fails
    bad[7 * 208 + 1] ^= 0x01  # APID bit: header check fails
    dec = decode(pt, bytes(bad), "test.pld")
    assert dec.records.size == 48 and dec.dropped == {"word0": 1, "checksum": 1}


def test_truncated_payload_is_one_clear_error():
    blob, _ = _science(3)
    pt = load_layout().packets["science"]
    with pytest.raises(
        InputError,
        match=r"x.pld: truncated: 600 bytes is not a whole number of "
        r"208-byte science packets",
    ):
        decode(pt, blob[:600], "x.pld")


def test_tct_interpolates_and_refuses_extrapolation():
    obt = np.array([0.0, 600.0, 1200.0])
    tt = sim.tt_of_obt(obt + 3.0e7)
    table = parse_tct(format_tct(obt, tt), "t.tct")
    mid = table.to_tt2000(np.array([300.0]), 900.0)
    assert abs(int(mid[0]) - int((tt[0] + tt[1]) // 2)) < 2_000  # 1 us text precision
    with pytest.raises(InputError, match="outside the table"):
        table.to_tt2000(np.array([5000.0]), 900.0)
    with pytest.raises(InputError, match="needs 2 or more"):
        parse_tct("# empty\n", "t.tct")


def test_packet_clock_finds_duplicates_and_jumps():
    """Packets 3.298 s apart with consecutive counts: a +1.25 s jump; a gap of lost packets
    with a jump inside it: its size from the counts; a counter restart: a jump of unknown
    size; a packet sent twice: dropped and counted."""
    p = np.arange(100)
    obt = 2.048 * p + 1000.0
    obt[30:] += 1.25  # the clock jumps between packets 29 and 30
    obt[60:] -= 1.25  # ... and is set back while packets 50-59 were lost
    seq = p % 16384
    seq[80:] = np.arange(20)  # a reboot before packet 80: the count restarts
    obt[80:] += 0.5
    keep = np.ones(100, bool)
    keep[50:60] = False
    order = np.r_[np.flatnonzero(keep)[:20], 19, np.flatnonzero(keep)[20:]]  # packet 19 twice
    c = packet_clock(obt[order], seq[order], 2.048)
    assert c.duplicated == 1 and c.keep.sum() == keep.sum()
    assert [j.jump_s is None for j in c.jumps] == [False, False, True]
    assert c.jumps[0].jump_s == pytest.approx(1.25) and c.jumps[0].lost_packets == 0
    assert c.jumps[1].jump_s == pytest.approx(-1.25) and c.jumps[1].lost_packets == 10
    assert np.bincount(c.segment).tolist() == [30, 20, 20, 20]


def test_tct_is_split_at_clock_jumps_and_untimed_samples_are_flagged():
    """A +1.25 s jump between two rows 900 s apart: each side timed from its own rows, every
    sample within 1 us; a segment whose rows are more than 900 s away is flagged, not
    failed."""
    true_obt = np.arange(0.0, 5400.0, 0.128)  # the model clock
    jump_at = 2.048 * 977  # between two packets
    stamp = true_obt + np.where(true_obt >= jump_at, 1.25, 0.0)
    rows = np.arange(0.0, 5401.0, 900.0)
    row_stamp = rows + np.where(rows >= jump_at, 1.25, 0.0)
    tct = parse_tct(format_tct(row_stamp + 3.0e7, sim.tt_of_obt(rows + 3.0e7)), "t.tct")
    c = packet_clock(stamp[::16] + 3.0e7, np.arange(stamp[::16].size), 2.048)
    seg = np.repeat(c.segment, 16)[: stamp.size]
    timed = segment_times(tct, stamp + 3.0e7, seg, c.jumps, 2.048, 900.0)
    truth = sim.tt_of_obt(true_obt + 3.0e7)
    assert np.abs(timed.tt - truth).max() < 10_000 and not timed.untrusted.any()  # extrapolated: < 10 us
    naive = tct.to_tt2000(stamp + 3.0e7, 900.0)
    assert np.abs(naive - truth).max() > 0.5e9  # the unsplit table is wrong by up to a second
    few = parse_tct(format_tct(row_stamp[[0, 1, 6]] + 3.0e7, sim.tt_of_obt(rows[[0, 1, 6]] + 3.0e7)), "t.tct")
    timed = segment_times(few, stamp + 3.0e7, seg, c.jumps, 2.048, 900.0)
    after = true_obt >= jump_at
    far = (true_obt > 900.0 + 900.0) & ~after | (after & (true_obt < 5400.0 - 900.0))
    assert np.array_equal(timed.untrusted, far)
    assert np.abs(timed.tt - truth)[~timed.untrusted].max() < 100_000  # one row: its neighbour's rate


def test_caldb_model_inverts_and_missing_date_is_clear(tmp_path):
    path = tmp_path / "AL1_MAG_CALDB_V00.yaml"
    path.write_text(calibration.dump_caldb("V00", sim.default_caldb()))
    db = calibration.load_caldb(path)
    e = db.entry_for("MAG1", date(2024, 8, 1))
    rng = np.random.default_rng(3)
    b = rng.normal(0, 20, (100, 3))
    ts, te = rng.uniform(0, 30, 100), rng.uniform(20, 35, 100)
    assert np.abs(e.apply(e.counts_of(b, ts, te), ts, te) - b).max() < 1e-9
    with pytest.raises(
        MissingInputError,
        match=r"no MAG2 calibration valid for 2030-01-01 "
        r"\(entries cover 2024-01-06..2024-06-30",
    ):
        db.entry_for("MAG2", date(2030, 1, 1))


def test_running_median_matches_numpy_and_ignores_nan():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(200, 3))
    ref = np.stack([np.median(x[i - 4 : i + 5], axis=0) for i in range(4, 196)])
    assert np.allclose(despike.running_median(x, 9)[4:196], ref)
    x[10] = np.nan
    m = despike.running_median(x, 9)
    assert np.isfinite(m).all()
    assert np.allclose(m[10], np.median(np.r_[x[6:10], x[11:15]], axis=0))


def test_running_median_everywhere_equals_nanmedian_of_each_window():
    """Edges (shrunken windows), a gap, lone NaN in one component and an all-NaN window
    against np.nanmedian window by window (the partial-sort path and the NaN-aware path)."""
    import warnings

    rng = np.random.default_rng(5)
    x = rng.normal(size=(300, 3))
    x[100:112] = np.nan  # a gap longer than the window: all-NaN windows inside it
    x[rng.integers(0, 300, 15), rng.integers(0, 3, 15)] = np.nan
    for window in (1, 3, 9):
        h = window // 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # nanmedian of an all-NaN window
            ref = np.stack([np.nanmedian(x[max(0, i - h) : i + h + 1], axis=0) for i in range(300)])
        np.testing.assert_array_equal(despike.running_median(x, window), ref)
        np.testing.assert_array_equal(despike.running_median(x[:, 1], window), ref[:, 1])


def test_spikes_found_steps_kept():
    b = np.zeros((500, 3))
    b[250:] += 12.0  # a 12 nT discontinuity is IMF, not a spike
    b[100, 1] += 40.0
    s = despike.spikes(b, 9, 3.0)
    assert np.flatnonzero(s).tolist() == [100]


def test_dual_magnetometer_model_on_a_centre_dipole():
    """A centre dipole seen at 6 m and 3 m (r^-3, same direction) is removed exactly; the
    truth field comes back to rounding error."""
    rng = np.random.default_rng(5)
    imf = rng.normal(0, 5, (1000, 3))
    moment = rng.normal(0, 1, 3)  # direction of B_sc on the boom line
    strength = 30.0 * (1 + 0.3 * np.sin(np.linspace(0, 6, 1000)))[:, None]  # nT at 1 m
    b_sc_1, b_sc_2 = strength * moment / 6.0**3, strength * moment / 3.0**3
    q = dualmag.ratio(6.0, 3.0, 3.0)
    assert q == 8.0
    est, sc1 = dualmag.remove_spacecraft_field(imf + b_sc_1, imf + b_sc_2, q)
    assert np.abs(est - imf).max() < 1e-12 and np.abs(sc1 - b_sc_1).max() < 1e-12


def test_dual_magnetometer_on_the_simulators_fields():
    """The simulator's slow spacecraft field (a centre dipole) is removed to < 1e-12 nT; its
    near-MAG2 disturbances (MAG1 sees 0.35, not 1/8) are not: that is what the GTI is for."""
    t0 = int(tt2000_from_iso(np.array(["2024-08-01T00:00:00"]))[0])
    tt = t0 + np.arange(0, 86400 * 10**9, 128_000_000 * 50, dtype=np.int64)
    sc2 = sim.sc_field_mag2(tt, 0)
    imf = sim.imf_gse(tt, 0)
    est, _ = dualmag.remove_spacecraft_field(imf + sim.R_RATIO * sc2, imf + sc2, 8.0)
    assert np.abs(est - imf).max() < 1e-12
    d1, d2 = sim.disturbances(tt, 0)
    est, _ = dualmag.remove_spacecraft_field(imf + d1, imf + d2, 8.0)
    hit = np.abs(d2).max(axis=1) > 1.0
    assert hit.any() and np.abs(est - imf)[hit].max() > 0.3


def test_gti_ratio_flags_disturbance_not_imf():
    cadence = 0.128
    t = np.arange(0, 3600, cadence)
    imf = np.stack([3 * np.sin(2 * np.pi * t / 300), np.zeros_like(t), np.zeros_like(t)], 1)
    imf[t > 1800] += [6.0, -4.0, 2.0]  # a discontinuity: both sensors alike
    dist = np.zeros_like(imf)
    on = (t > 1000) & (t < 1300)
    dist[on, 1] = 3 * np.sin(2 * np.pi * t[on] / 30)
    cfg = config.GtiConfig(
        smooth_s=2.048, lag_s=4.096, min_change_nt=0.4, ratio_range=(0.7, 1.4), dilate_s=30.0
    )
    bad = gti.ratio_flags(t, imf + 0.35 * dist, imf + dist, cfg, cadence)
    assert bad[(t > 1010) & (t < 1290)].all()
    assert not bad[(t < 900) | (t > 1400)].any()


@pytest.mark.parametrize(
    ("percent", "factor"),
    [(0, 10), (9.99, 10), (10, 9), (24.9, 9), (25, 8), (50, 8), (50.1, 7), (75, 4), (100, 1)],
)
def test_quality_factor_table4(percent, factor):
    assert gti.quality_factor(percent) == factor


def test_shipped_frames_kernel_is_what_the_writer_makes(tmp_path):
    fresh = spice.write_mission_fk(tmp_path / "fk.tf")
    assert fresh.read_text() == spice.FK_PATH.read_text()


def test_kernel_names_follow_the_archive_manual():
    assert (
        spice.kernel_name("eph", *spice.month_span(2024, 8, "eph"), 1) == "al1_eph_29Jul2024_03Sep2024_v1.bsp"
    )
    assert (
        spice.kernel_name("att", *spice.month_span(2024, 8, "att"), 1) == "al1_att_28Jul2024_03Sep2024_v1.bc"
    )
    assert spice.candidates_for(
        ["al1_att_28Jul2024_03Sep2024_v1.bc", "al1_att_27Jun2024_03Aug2024_v1.bc"], date(2024, 8, 20)
    ) == ["al1_att_28Jul2024_03Sep2024_v1.bc"]


def test_processing_configuration_is_typed_and_checked(tmp_path: Path):
    c1, c2 = config.l1_config(), config.l2_config()
    assert (c1.despike_window, c1.despike_threshold_nt, c1.hk_max_gap_s, c1.error_nt) == (9, 3.0, 48.0, 0.3)
    assert c2.gti == config.GtiConfig(
        smooth_s=2.048, lag_s=4.096, min_change_nt=0.4, ratio_range=(0.7, 1.4), dilate_s=30.0
    )
    assert (c2.r_mag1_m, c2.r_mag2_m, c2.median_window, c2.bin_s, c2.error_nt) == (6.0, 3.0, 5, 10.0, 0.5)
    bad = tmp_path / "processing.yaml"
    bad.write_text(config.PROCESSING.read_text().replace("threshold_nT: 3.0", "threshold_nT: x"))
    with pytest.raises(
        DefinitionError,
        match=r"processing.yaml: .*l1.despike.threshold_nT must "
        r"be a number",
    ):
        config.l1_config(bad)


def test_levels_are_typed_objects_and_the_module_only_registers():
    """The core's strict checks accept every level object (their stage types chain); the
    plugin module keeps only its three magfw_ hooks."""
    from magfw_aditya.calibrate import Calibrate
    from magfw_aditya.compare import Compare
    from magfw_aditya.monitor import Monitor

    for level in (l1.L1(), l2.L2(), Calibrate(), Compare(), Monitor()):
        assert level_problems(level) == []
    assert plugin_problems(aditya_plugin) == []
    hooks = {n for n in dir(aditya_plugin) if hasattr(getattr(aditya_plugin, n), "magfw_impl")}
    assert hooks == {"magfw_register_missions", "magfw_simulate", "magfw_register_commands"}


def test_creator_email_only_when_configured(tmp_path: Path):
    """No magfw.toml (the tests run in an empty directory), or one without the setting: no
    creator_email attribute, and the definitions do not require it; configured: its value; a
    broken file stops the command (one line naming it)."""
    assert creator_email() is None
    setup = l2stages.DaySetup(
        day=date(2024, 8, 1), t0=0, t1=86400 * 10**9, inputs=(), kernels=(), gsm_frame="GSM"
    )
    averaged = l2steps.average_day(_transformed(setup))
    assert "creator_email" not in l2products.l2_attrs(l2steps.qualify(averaged, 0.75), 0, creator_email())
    (tmp_path / "magfw.toml").write_text('[missions.aditya]\ncreator_email = "mag@example.org"\n')
    assert creator_email() == "mag@example.org"
    assert (
        l2products.l2_attrs(l2steps.qualify(averaged, 0.75), 0, creator_email())["creator_email"]
        == "mag@example.org"
    )
    (tmp_path / "magfw.toml").write_text("[missions.aditya\n")  # broken: stops the command
    with pytest.raises(UsageError, match="magfw.toml: not valid TOML"):
        creator_email()
    defs = {d.id: d for d in shipped_definitions("aditya")}
    assert "creator_email" not in required_globals(defs["l1"])
    assert "creator_email" not in required_globals(defs["l2"])


def _transformed(setup: l2stages.DaySetup) -> l2stages.L2Transformed:
    """Two bins of samples at 128 ms: bin 0 complete, bin 1 with its second half GTI-bad."""
    tt = np.arange(0, 20 * 10**9, 128_000_000, dtype=np.int64)
    gse = np.tile([1.0, 2.0, 3.0], (tt.size, 1))
    gse[tt >= 10 * 10**9] = [4.0, 5.0, 6.0]
    bad = tt >= 15 * 10**9
    starts = l2steps.bin_starts(0, 10.0)
    pos = np.zeros((starts.size, 3))
    none = np.zeros(tt.size, bool)
    return l2stages.L2Transformed(
        setup=setup,
        tt=tt,
        gse=gse,
        gsm=-gse,
        sccs=2 * gse,
        bad_gti=bad,
        hk_missing=none,
        start=starts,
        pos_gse=pos,
        pos_gsm=pos,
        no_attitude=none,
        calibrating=none,
        time_untrusted=none,
    )


def test_l2_average_and_quality_are_pure_functions_of_arrays():
    setup = l2stages.DaySetup(
        day=date(2024, 8, 1), t0=0, t1=86400 * 10**9, inputs=(), kernels=(), gsm_frame="GSM"
    )
    data = _transformed(setup)
    before = data.gse.copy()
    avg = l2steps.average_day(data)
    assert np.array_equal(data.gse, before)
    assert avg.n_good[:2].tolist() == [79, 39]
    assert np.allclose(avg.gse[:2], [[1, 2, 3], [4, 5, 6]]) and np.allclose(avg.gsm[0], [-1, -2, -3])
    assert np.isnan(avg.gse[2:]).all() and avg.start.size == 8640
    q = l2steps.qualify(avg, 0.75)  # the bin flags are judged in quality
    assert q.flag[:2].tolist() == [True, False]
    assert q.missing_percent == pytest.approx(100 * 8639 / 8640) and q.quality_factor == gti.quality_factor(
        q.missing_percent
    )
    assert l2products.l2_variables(q, 0.5)["Bx_gse_error"][:2].tolist() == [0.5, 0.5]


#: The ISSDC meta-file parameters, from the ASPEX-SWIS user manual, section 7 "Meta-file
#: parameter definitions", Table 3 ("This meta-file format is standard for all Aditya-L1
#: instruments"), group by group, as the MAG meta-file writes them. Left out on purpose:
#: "Energy scan: Coverage and description" (section 7.2: SWIS only) and "Event flag:
#: Assessment and description" (section 7.4: not implemented); Proposal id when not configured.
TABLE3_SECTION7 = {
    "identification_details": [
        "mission",
        "payload_name",
        "payload_description",
        "proposal_id",
        "observation_id",
        "version",
    ],
    "observation_details": ["start_date_time", "stop_date_time", "exposure_time"],
    "file_details": [
        "file_name",
        "file_size",
        "md5_checksum",
        "creation_date",
        "content_type",
        "input_files",
    ],
    "processing_details": ["software_version", "level", "quality_assessment", "quality_description"],
    "remarks": ["file_type", "remark"],
}


@pytest.mark.parametrize("proposal", [None, "P-2024-17"])
def test_issdc_metafile_has_the_section7_fields(tmp_path, proposal):
    import hashlib
    import xml.etree.ElementTree as ET

    from magfw_aditya import metafile

    data = tmp_path / "L2_AL1_MAG_20240801_V10.nc"
    data.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(range(256)) * 10)
    info = metafile.MetaInfo(
        data_name="L2_AL1_MAG_20240801_V10.nc",
        level="L2",
        version=10,
        observation_ids=["N00_0000_478198", "N00_0000_478199", "N00_0000_478198"],
        start="2024-08-01T00:00:00.000Z",
        stop="2024-08-01T23:59:50.000Z",
        exposure_s=80000.0,
        content_type="L2 IMF",
        inputs=["L1_a.nc", "spice/ck/al1_att.bc"],
        software="magfw 0.1.0",
        quality=9,
        remark="major revision: new caldb",
        proposal_id=proposal,
    )
    xml = metafile.payload_from(info)({"L2_AL1_MAG_20240801_V10.nc": data})
    root = ET.fromstring(xml)
    assert metafile.FIELDS == {k: tuple(v) for k, v in TABLE3_SECTION7.items()}
    assert [g.tag for g in root] == list(TABLE3_SECTION7)
    for group in root:
        expect = [f for f in TABLE3_SECTION7[group.tag] if proposal or f != "proposal_id"]
        assert [e.tag for e in group] == expect, group.tag
    assert root.findtext("identification_details/mission") == "Aditya-L1"
    assert root.findtext("identification_details/payload_name") == "MAG"
    assert root.findtext("identification_details/version") == "V10"
    assert root.findtext("identification_details/observation_id") == "N00_0000_478198 N00_0000_478199"
    assert root.findtext("file_details/md5_checksum") == hashlib.md5(data.read_bytes()).hexdigest()
    assert root.findtext("file_details/file_size") == str(data.stat().st_size)
    files = root.find("file_details/input_files")
    assert files.get("number") == "2" and [e.text for e in files] == ["L1_a.nc", "al1_att.bc"]
    assert root.findtext("processing_details/quality_assessment") == "9"
    assert (
        root.findtext("processing_details/quality_description")
        == "Good quality; 10 - 25 % bad/missing samples"
    )  # MAG manual Table 4
    assert root.findtext("remarks/remark") == "major revision: new caldb"
    assert "placeholder" not in xml.decode() and "not configured" not in xml.decode()


def test_every_acdd_setting_is_a_key_of_the_settings_model():
    """The operator's ACDD attributes are read from [missions.aditya]: each must be a key the
    settings model accepts (else magfw.toml could not set it)."""
    from magfw_aditya.common import ACDD_SETTINGS, AdityaSettings

    assert set(ACDD_SETTINGS) <= set(AdityaSettings.model_fields)

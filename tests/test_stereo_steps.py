"""STEREO steps on small synthetic arrays: the Counts table, timing fixes, pulses, averages."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from magfw.errors import InputError, MissingInputError
from magfw_stereo import flags as F
from magfw_stereo.averaging import average_1s_overlapped, average_bins, to_125ms
from magfw_stereo.counts import CountsTable, format_counts, read_counts
from magfw_stereo.despike import despike
from magfw_stereo.timing import DT4_NS, DT8_NS, DT32_NS, LAG_NS, NS, correct_timing, normal_step

K = [0.0146328, 0.0144910, 0.0142581]


def _table(days: list[date]) -> CountsTable:
    return CountsTable(
        days=days,
        k=np.tile(K, (len(days), 1)),
        offsets=[[22.0 + i, -17.0, -30.0] for i in range(len(days))],
        counts=None,
    )


def test_counts_table_round_trip_and_public_layout(tmp_path):
    p = tmp_path / "202401StereoACounts.asc"
    p.write_bytes(format_counts(_table([date(2024, 1, 2), date(2024, 1, 1)])))
    lines = p.read_text().splitlines()
    assert lines[0].startswith("% year, Day, Kx (Range 0), O1 (nT), Counts @ O, Ky")
    # rows in date order whatever the table's order (Jan 2 was given first, with O_X 22)
    assert lines[1].split()[:5] == ["2024", "1.5", "0.0146328", "23.000", "-1572"]
    t = read_counts(p)
    assert t.days == [date(2024, 1, 1), date(2024, 1, 2)]
    k, o = t.for_day(date(2024, 1, 2))
    assert np.allclose(k, K) and np.allclose(o, [22.0, -17.0, -30.0])
    # O = -K x Counts @ O within one count (research note 4.1)
    assert np.all(np.abs(t.offsets + t.k * t.counts) <= t.k)


def test_a_day_without_offsets_is_an_error_not_zeros(tmp_path):
    p = tmp_path / "t.asc"
    p.write_bytes(format_counts(_table([date(2024, 1, 1)])))
    with pytest.raises(MissingInputError, match=r"t\.asc: no offsets for 2024-01-17 "):
        read_counts(p).for_day(date(2024, 1, 17))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("2024 1.5 1 2 3 1 2 3 1 2 3\n", "no '% year, Day, Kx ...' header line"),
        ("% h\n2024 1.5 1 2 3\n", "line 2: expected 11 columns"),
        ("% h\n2024 1.5 1 2 x 1 2 3 1 2 3\n", "line 2: 'x' is not a number"),
        ("% h\n2024 1.0 1 2 3 1 2 3 1 2 3\n", "line 2: Day 1 is not day-of-year + 0.5"),
        ("% h\n2024 1.5 0 2 3 1 2 3 1 2 3\n", "line 2: K must be > 0"),
        ("% h\n2024 1.5 1 2 3 1 2 3 1 2 3\n2024 1.5 1 2 3 1 2 3 1 2 3\n", "listed twice"),
        ("% h\n", "no data rows"),
    ],
)
def test_bad_counts_table_is_one_clear_line(tmp_path, text, problem):
    p = tmp_path / "bad.asc"
    p.write_text(text)
    with pytest.raises(InputError) as err:
        read_counts(p)
    assert str(err.value).startswith(f"{p}: ") and problem in str(err.value)
    assert "\n" not in str(err.value)


def _series(n: int = 800) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(n, dtype=np.int64) * DT8_NS
    b = np.column_stack([np.sin(t / 3e10), np.cos(t / 5e10), 0.5 + 0 * t]) * 5
    return t, b


def test_timing_lag_glitch_resync_duplicates_spill():
    t, b = _series()
    true = t.copy()
    raw = t - LAG_NS
    raw[100:105] += NS  # a 1-s glitch of five records
    # a 32 Hz stretch (two seconds) and the stale packet after it
    t32 = np.arange(400 * DT8_NS, 416 * DT8_NS, DT32_NS)
    raw = np.concatenate([raw[:400], t32 - LAG_NS, raw[416:]])
    b = np.concatenate([b[:400], np.zeros((t32.size, 3)), b[416:]])
    true = np.concatenate([true[:400], t32, true[416:]])
    raw[400 + t32.size : 408 + t32.size] = 416 * DT8_NS - LAG_NS + np.arange(8) * DT32_NS
    order = np.r_[np.arange(raw.size), np.arange(200, 208)]  # a duplicated packet
    raw, b, true = raw[order], b[order], true[order]
    raw = np.r_[raw, raw.max() + np.arange(1, 4) * DT8_NS]  # three records spill over
    b = np.vstack([b, b[-3:] + 22])
    c = correct_timing(raw, b, np.zeros(raw.size, np.uint32), 0, int(true.max()) + 1)
    want = np.unique(true)
    assert np.array_equal(c.time, want)
    assert np.all(c.flags & F.LAG_FIXED)
    assert np.all(c.flags[100:105] & F.TIME_RESYNC) and not np.any(c.flags[:100] & F.TIME_RESYNC)
    assert ((c.flags & F.RATE_RESYNC) > 0).sum() == 8
    assert c.stats["duplicates"] == 8 and c.stats["outside_day"] == 3


def _uniform(n: int, step: int = DT8_NS) -> np.ndarray:
    return np.arange(n, dtype=np.int64) * step + 10 * NS


def test_timing_runs_of_any_length_late_and_early():
    """1-s runs of 1 to 7200 records (15 min at 8 Hz), stamped late or early, all moved back;
    a lone second-long gap (a missing packet) is left alone."""
    true = _uniform(60_000)
    raw = true - LAG_NS
    runs = [
        (1000, 1001, NS),
        (3000, 3100, NS),
        (6000, 13_200, NS),
        (20_000, 24_800, -NS),
        (30_000, 30_016, -NS),
    ]
    for a, e, shift in runs:
        raw[a:e] += shift
    keep = np.ones(true.size, dtype=bool)
    keep[40_000:40_008] = False  # one second of data never received
    raw, true = raw[keep], true[keep]
    b = np.random.default_rng(2).normal(0, 1, (raw.size, 3))
    c = correct_timing(raw, b, np.zeros(raw.size, np.uint32), 0, int(true.max()) + 1)
    assert np.array_equal(c.time, true)
    moved = (c.flags & F.TIME_RESYNC) > 0
    want = np.zeros(true.size, dtype=bool)
    for a, e, _ in runs:
        want[a:e] = True
    assert np.array_equal(moved, want) and c.stats["second_glitch_runs"] == 5


def test_timing_collisions_go_to_the_hole_beside_them():
    """A record carrying its neighbour's stamp goes to the hole next to it, whether it comes
    first or second in the file; the right one keeps its stamp."""
    true = _uniform(2000)
    raw = true - LAG_NS
    raw[500] = raw[501]  # wrong one first
    raw[900] = raw[899]  # wrong one second
    b = np.arange(true.size, dtype=np.float64)[:, None] * np.ones(3)
    c = correct_timing(raw, b, np.zeros(raw.size, np.uint32), 0, int(true.max()) + 1)
    assert np.array_equal(c.time, true) and np.array_equal(c.b[:, 0], b[:, 0])  # right records
    assert np.flatnonzero(c.flags & F.TIME_RESYNC).tolist() == [500, 900]
    raw[1500] = raw[1501] = raw[1499]  # three records on one stamp: none can be trusted
    c = correct_timing(raw, b, np.zeros(raw.size, np.uint32), 0, int(true.max()) + 1)
    assert not np.isin(true[1499:1502], c.time).any() and c.stats["collisions_dropped"] == 3


@pytest.mark.parametrize("step", [DT8_NS, DT4_NS])
def test_timing_stale_stamps_after_both_rate_switches(step):
    """The first 32 Hz packet after the normal rate, stamped at the old step (reaching 3 or 7 s
    into the stretch), and the first normal packet after it, stamped 31.25 ms apart."""
    a, e = 100 * NS, 112 * NS
    normal = np.r_[np.arange(0, a, step), np.arange(e, 130 * NS, step)]
    fast = np.arange(a, e, DT32_NS)
    true = np.sort(np.r_[normal, fast]).astype(np.int64)
    raw = true - LAG_NS
    first32 = (true >= a) & (true < a + NS)
    raw[first32] = a - LAG_NS + np.arange(32) * step
    after = (true >= e) & (true < e + NS)
    raw[after] = e - LAG_NS + np.arange(int(after.sum())) * DT32_NS
    b = np.random.default_rng(3).normal(0, 1, (raw.size, 3))
    c = correct_timing(raw, b, np.zeros(raw.size, np.uint32), 0, 131 * NS)
    assert np.array_equal(c.time, true)
    assert np.array_equal((c.flags & F.RATE_RESYNC) > 0, first32 | after)
    assert normal_step(c.time) == step


def test_x_glitches_with_soft_edges_and_in_turbulence():
    """A soft-edged glitch (first record at half height) is repaired on every record; in
    turbulence five times the noise a 0.6 nT glitch is found and repaired by subtracting its
    height (the field's own fluctuation kept), while the turbulence alone is left alone."""
    rng = np.random.default_rng(4)
    n = 20_000
    quiet = rng.normal(0, 0.02, (n, 3)) + 5.0
    dirty = quiet.copy()
    dirty[5000:5006, 0] += 0.4
    dirty[5000, 0] -= 0.2  # soft first record
    out = despike(dirty, 8)
    assert np.flatnonzero(out.glitch).tolist() == list(range(5000, 5006))
    assert np.abs(out.b[5000:5006, 0] - quiet[5000:5006, 0]).max() < 0.06
    walk = np.cumsum(rng.normal(0, 0.1, (n, 3)), axis=0) + quiet  # steps ~0.1 nT RMS
    assert not despike(walk, 8).glitch.any()
    bumped = walk.copy()
    bumped[9000:9004, 0] += 0.6
    out = despike(bumped, 8)
    assert np.flatnonzero(out.glitch).tolist() == list(range(9000, 9004))
    assert np.abs(out.b[9000:9004, 0] - walk[9000:9004, 0]).max() < 0.15


def test_pulses_spikes_and_x_glitches_but_not_smooth_changes():
    rng = np.random.default_rng(1)
    n = 4000
    t = np.arange(n) * 0.125
    # a sharp but monotonic step, a fast rotation and noise: nothing must be flagged
    b = np.column_stack(
        [
            5 * np.cos(0.8 * np.clip(t - 100, 0, 2)),
            5 * np.sin(0.8 * np.clip(t - 100, 0, 2)),
            2 + 3 * np.tanh((t - 300) / 0.5),
        ]
    )
    b += rng.normal(0, 0.02, b.shape)
    clean = despike(b, 8)
    assert not clean.spike.any() and not clean.glitch.any()
    dirty = b.copy()
    dirty[1000, 1] += 80.0
    dirty[2000:2005, 0] += 0.5
    out = despike(dirty, 8)
    assert np.flatnonzero(out.spike).tolist() == [1000]
    assert np.isnan(out.b[1000]).all()
    assert np.flatnonzero(out.glitch).tolist() == list(range(2000, 2005))
    assert np.abs(out.b[2000:2005, 0] - b[2000:2005, 0]).max() < 0.1
    assert np.array_equal(out.b[2000:2005, 1:], b[2000:2005, 1:])


def test_averages_bins_overlap_and_32hz_trapezoid():
    t = np.arange(0, 3 * NS, DT8_NS, dtype=np.int64)
    b = np.column_stack([t / NS, 0 * t + 1.0, 0 * t - 2.0])
    a = average_1s_overlapped(t, b, 0, 3 * NS)
    assert a.time.tolist() == [NS // 2, 3 * NS // 2, 5 * NS // 2]
    assert a.npts.tolist() == [12, 16, 12]  # 2-s windows: every sample in two of them
    m = average_bins(t, b, 0, 3 * NS, 1)
    assert np.allclose(m.b[:, 0], [0.4375, 1.4375, 2.4375]) and m.npts.tolist() == [8, 8, 8]
    assert np.allclose(m.btotal, np.linalg.norm(b, axis=1).reshape(3, 8).mean(axis=1))
    t32 = np.arange(0, NS, DT32_NS, dtype=np.int64)
    lin = np.column_stack([t32 / NS, t32 / NS, t32 / NS])
    tm, mm = to_125ms(t32, lin, 0, 0)
    inner = (tm > 0) & (tm < NS - DT8_NS)
    assert np.allclose(mm[inner, 0], tm[inner] / NS)  # centred: a ramp is reproduced exactly

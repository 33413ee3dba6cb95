"""The STEREO simulator: Berkeley's unvalidated daily CDFs, SolarSoft SPICE kernels, the offsets
files and the truth, for one spacecraft (``layout`` describes the tree).

Per day (everything drawn from ``(seed, spacecraft, day)`` only, so overlapping periods give
identical files; monthly files are always written for the whole month):

- the true field (``imf.day_field``, RTN) on the 8 Hz grid, interpolated to 32 Hz where burst or
  mixed-rate data exist; SC = wobble @ permutation (``geometry``), computed in numpy;
- measurement: B_SC = truth - O (the day's zero offsets) + 0.02 nT noise, quantised to K
  nT/count (Berkeley's L1 is K x counts, no offsets);
- defects in the normal file: 20 spikes (20-300 nT, one record), X-sensor glitches (0.4-0.6 nT
  on X for 2-6 records; 30 a day on A, 10 on B), the fixed 6 ms IDPU->MAG lag (all stamps 6 ms
  early), five 1-s timestamp glitches (1-16 records stamped 1 s late), three duplicated
  1-s packets, two mixed-rate stretches (10-60 s of 32 Hz records) each followed by one 8 Hz
  packet stamped with the stale 31.25 ms step (the data-rate resync defect), and 3-41 records of
  the next day spilling over with an unphysical +22/+31/+13 nT step;
- burst days ((ordinal + seed) % 3 == 0): a 20-60 min 32 Hz stretch in the MAGB file (lag,
  five spikes and five X glitches of 8-24 records); the normal file has no records then;
- the 2nd of each month is listed twice: V01 (first 12 h only) and V02 (the full day);
- beacon days (2014-08-01 .. 2015-11-30): ``ST{sc}_LB_IMPACT_YYYYMMDD_V02.cdf`` in the public
  IMPACT beacon layout: ``Epoch_MAG`` (CDF_EPOCH, 8640 records stamped at the 10-s centres) and
  ``MAGBField`` [N, 3] nT, already in RTN with the real-time calibration (the true 10-s means
  plus 0.02 nT noise), quantised to 0.1 nT (compression), three spikes and two fill records
  (-1e31).

Truth (``truth/``): ``ST{sc}_TRUTH_YYYYMMDD.npz`` (8 Hz, burst and 1-min field in SC and RTN,

Two kinds of days are made differently (:mod:`magfw_stereo.simdays`; every other day is as
above, byte for byte): the **disturbed days** of ``simdays.DISTURBED_DAYS`` (a shock with its
turbulent sheath, a magnetic cloud and a current-sheet crossing, with defects placed inside
them) and the **4 Hz days** of ``simdays.FOUR_HZ_DAYS`` (STEREO-A near the 2014-2015 solar
conjunction: partial days of 250 ms records).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from magfw.api import Period, kernels, time, write_bytes_atomic
from magfw_stereo import geometry, layout, simdays
from magfw_stereo.counts import CountsTable, counts_file_name, format_counts
from magfw_stereo.imf import day_field
from magfw_stereo.researcher import format_offsets_file, offsets_file_name
from magfw_stereo.simcore import (
    BASE_FLAGS,
    BEACON_DAYS,
    BEACON_FILL,
    BEACON_STEP_NT,
    DT8,
    DT32,
    K_NT,
    LAG_NS,
    NOISE_NT,
    NS_,
    SC_INDEX,
    SPILL_STEP,
    day_offsets,
    free_starts,
    interp_rows,
    measure,
    to_sc,
    write_beacon_cdf,
    write_normal_files,
    write_truth,
    write_uv_cdf,
)

__all__ = ["day_offsets", "is_burst_day", "simulate", "simulate_day", "write_uv_cdf"]

SCLK_START = "2006-10-26T00:00:00"


def is_burst_day(day: date, seed: int) -> bool:
    return (day.toordinal() + seed) % 3 == 0


# ---------------------------------------------------------------------------------------------
# Kernels
# ---------------------------------------------------------------------------------------------


def _sclk_path(root: Path, sc: str) -> Path:
    return root / layout.spice_dir("sclk", sc) / f"{layout.SC_DIR[sc]}_science_01.sclk"


def write_static_kernels(root: Path, sc: str) -> Path:
    """SCLK and the frames kernel stereo_rtn.tf (STAHGRTN/STBHGRTN)."""
    sclk = _sclk_path(root, sc)
    if not sclk.exists():
        start = float(time.tt2000_to_et(np.array([time.tt2000_from_iso(SCLK_START)]))[0])
        kernels.write_sclk(
            sclk,
            layout.NAIF_ID[sc],
            start_et=start,
            comment="SIMULATED by magfw: linear STEREO science clock.",
        )
    fk = root / layout.spice_dir("gen") / "stereo_rtn.tf"
    if not fk.exists():
        kernels.write_fk(
            fk,
            {
                **kernels.rtn_frame_definition("STAHGRTN", 1810440, "STEREO AHEAD"),
                **kernels.rtn_frame_definition("STBHGRTN", 1810450, "STEREO BEHIND"),
            },
            comments="SIMULATED by magfw: heliographic RTN frames of STEREO A and B "
            "(the definitions of SolarSoft's stereo_rtn.tf).",
        )
    return sclk


def write_spk(path: Path, sc: str, t_start: int, t_end: int, step_s: float) -> None:
    et0, et1 = (float(x) for x in time.tt2000_to_et(np.array([t_start, t_end], dtype=np.int64)))
    et = np.arange(et0, et1 + step_s, step_s)
    kernels.write_spk(
        path,
        layout.NAIF_ID[sc],
        10,
        "J2000",
        et,
        geometry.states_j2000(sc, et),
        spk_type=13,
        degree=7,
        segment_id="magfw simulated",
    )


def write_day_kernels(root: Path, sc: str, day: date, sclk: Path) -> None:
    """Definitive SPK (day +- 2 h, 10 min states) and attitude CK (day +- 60 s, 1 s)."""
    t0, t1 = (int(x) for x in time.day_bounds_tt2000(day))
    hour = 3600 * 1_000_000_000
    write_spk(
        root / layout.spice_dir("depm", sc) / layout.kernel_day_name(sc, day, "depm.bsp"),
        sc,
        t0 - 2 * hour,
        t1 + 2 * hour,
        600.0,
    )
    et0, et1 = (float(x) for x in time.tt2000_to_et(np.array([t0, t1], dtype=np.int64)))
    et = np.arange(et0 - 60.0, et1 + 60.0 + 1e-6, 1.0)
    q = _m2q(geometry.c_matrices(sc, et))
    kernels.write_ck(
        root / layout.spice_dir("ah", sc) / layout.kernel_day_name(sc, day, "ah.bc"),
        layout.CK_ID[sc],
        "J2000",
        layout.NAIF_ID[sc],
        et,
        q,
        sclk_kernel=sclk,
        segment_id="magfw simulated",
    )


def _m2q(m: np.ndarray) -> np.ndarray:
    from magfw.api import frames

    return frames.m2q(m)


def write_month_epm(root: Path, sc: str, year: int, month: int) -> None:
    first = date(year, month, 1)
    path = root / layout.spice_dir("epm", sc) / layout.kernel_day_name(sc, first, "epm.bsp")
    if path.exists():
        return
    last = date(year, month, calendar.monthrange(year, month)[1])
    t0 = int(time.day_bounds_tt2000(first - timedelta(days=1))[0])
    t1 = int(time.day_bounds_tt2000(last + timedelta(days=1))[1])
    write_spk(path, sc, t0, t1, 3600.0)


# ---------------------------------------------------------------------------------------------
# Offsets files
# ---------------------------------------------------------------------------------------------


def write_month_offsets(root: Path, sc: str, year: int, month: int, seed: int) -> None:
    """The public Counts table and the researcher's file for the whole month."""
    n = calendar.monthrange(year, month)[1]
    days = [date(year, month, d) for d in range(1, n + 1)]
    o = {d: day_offsets(sc, d, seed) for d in days}
    table = CountsTable.of(days, np.tile(K_NT[sc], (n, 1)), np.array([o[d] for d in days]))
    write_bytes_atomic(root / layout.OFFSETS_DIR / counts_file_name(sc, year, month), format_counts(table))
    write_bytes_atomic(
        root / layout.INPUT_OFFSETS_DIR / offsets_file_name(sc, year, month),
        format_offsets_file(
            sc,
            year,
            month,
            {d: np.round(o[d], 4) for d in days},
            comments=["SIMULATED by magfw: the true offsets"],
        ),
    )


# ---------------------------------------------------------------------------------------------
# One day
# ---------------------------------------------------------------------------------------------

Field = tuple[np.ndarray, np.ndarray]  #: (TT2000 grid, RTN field on it)


def _burst_span(rng: np.random.Generator, day: date, seed: int, t0: int) -> list[int]:
    """[start, end) TT2000 of the day's 20-60 min burst stretch (burst days only)."""
    if not is_burst_day(day, seed):
        return []
    start_s = int(rng.integers(2 * 3600, 20 * 3600))
    dur_s = int(rng.integers(20, 61)) * 60
    return [t0 + start_s * NS_, t0 + (start_s + dur_s) * NS_]


def _mixed_spans(rng: np.random.Generator, t8: np.ndarray, busy: np.ndarray) -> list[tuple[int, int]]:
    """Two mixed-rate stretches of 10-60 whole seconds, away from ``busy``."""
    spans = []
    for i in free_starts(rng, t8.size, 2, 8 * 70, busy.copy(), 80):
        i -= i % 8
        dur = int(rng.integers(10, 61))
        spans.append((int(t8[i]), int(t8[i]) + dur * NS_))
    return spans


def _value_defects(
    rng: np.random.Generator, meas: np.ndarray, busy_rec: np.ndarray, sc: str
) -> tuple[list[int], list[tuple[int, int]]]:
    """20 spikes (20-300 nT on one component) and X glitches (0.4-0.6 nT, 2-6 records; 30 on
    A, 10 on B) added to ``meas`` in place: their record indices."""
    nrec = meas.shape[0]
    spikes = free_starts(rng, nrec, 20, 1, busy_rec, 20)
    comp = rng.integers(0, 3, len(spikes))
    amp = rng.uniform(20, 300, len(spikes)) * rng.choice([-1, 1], len(spikes))
    meas[spikes, comp] += amp
    glitches = []
    for i in free_starts(rng, nrec, 30 if sc == "A" else 10, 6, busy_rec, 20):
        length = int(rng.integers(2, 7))
        meas[i : i + length, 0] += rng.uniform(0.4, 0.6) * rng.choice([-1, 1])
        glitches.append((i, i + length))
    return spikes, glitches


def _timing_defects(
    rng: np.random.Generator, t_rec: np.ndarray, mixed: list[tuple[int, int]], busy_rec: np.ndarray
) -> tuple[np.ndarray, list[tuple[int, int]], list[int]]:
    """File stamps (6 ms early, stale 31.25 ms steps on the packet after each mixed stretch,
    five 1-s glitches of 1-16 records) and three duplicated 8-record packets."""
    raw_t = t_rec - LAG_NS
    for _a, b in mixed:
        pkt = np.flatnonzero((t_rec >= b) & (t_rec < b + NS_))
        raw_t[pkt] = b - LAG_NS + np.arange(pkt.size) * DT32
    tglitches = []
    for i in free_starts(rng, t_rec.size, 5, 16, busy_rec, 40):
        length = int(rng.integers(1, 17))
        raw_t[i : i + length] += NS_
        tglitches.append((i, i + length))
    dups = free_starts(rng, t_rec.size, 3, 8, busy_rec, 40)
    return raw_t, tglitches, dups


def _burst_file(
    rng: np.random.Generator, uvdir: Path, sc: str, day: date, span: list[int], cal: Field, field: Field
) -> tuple[dict[str, np.ndarray], dict[str, list[Any]]]:
    """The MAGB file of the burst stretch (lag, 5 spikes, 5 X glitches of 8-24 records): its
    truth and defects. ``cal``: the day's offsets and K; ``field``: the 8 Hz truth."""
    tb = np.arange(span[0], span[1], DT32, dtype=np.int64)
    rb = interp_rows(tb, *field)
    sb = to_sc(sc, tb, rb)
    mb = measure(rng, sb, *cal)
    busy_b = np.zeros(tb.size, bool)
    sp_b = free_starts(rng, tb.size, 5, 1, busy_b, 80)
    mb[sp_b, rng.integers(0, 3, len(sp_b))] += rng.uniform(20, 300, len(sp_b))
    gl_b = []
    for i in free_starts(rng, tb.size, 5, 24, busy_b, 80):
        length = int(rng.integers(8, 25))
        mb[i : i + length, 0] += rng.uniform(0.4, 0.6) * rng.choice([-1, 1])
        gl_b.append((int(tb[i]), int(tb[i + length - 1])))
    fb = np.full(tb.size, BASE_FLAGS | ((day.toordinal() % 16) << 4), dtype=np.uint32)
    write_uv_cdf(uvdir / layout.uv_name(sc, day, 1, burst=True), sc, tb - LAG_NS, mb, fb, True, 1)
    truth: dict[str, np.ndarray] = {
        "t_burst": tb,
        "b_sc_burst": sb.astype(np.float32),
        "b_rtn_burst": rb.astype(np.float32),
    }
    return truth, {"spikes": [int(tb[i]) for i in sp_b], "xglitches": gl_b}


def _beacon_file(
    rng: np.random.Generator, root: Path, sc: str, day: date, t0: int, b_rtn8: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[str, list[Any]]]:
    """The day's beacon file: RTN 10-s means with the real-time calibration, quantised to
    0.1 nT, three spikes and two fill records; its truth and defects."""
    n10 = b_rtn8.shape[0] // 80
    true10 = b_rtn8[: n10 * 80].reshape(n10, 80, 3).mean(axis=1)
    mb = true10 + rng.normal(0, NOISE_NT, (n10, 3)) / np.sqrt(80)
    mb = np.round(mb / BEACON_STEP_NT) * BEACON_STEP_NT
    busy10 = np.zeros(n10, bool)
    sp_10 = free_starts(rng, n10, 3, 1, busy10, 10)
    mb[sp_10, rng.integers(0, 3, len(sp_10))] += rng.uniform(20, 300, len(sp_10))
    gap_10 = free_starts(rng, n10, 2, 1, busy10, 10)
    mb[gap_10] = BEACON_FILL
    t10 = t0 + np.arange(n10, dtype=np.int64) * 10 * NS_ + 5 * NS_
    write_beacon_cdf(root / layout.beacon_dir(sc) / layout.beacon_name(sc, day, 2), sc, t10, mb)
    defects = {"beacon_spikes": [int(t10[i]) for i in sp_10], "beacon_fill": [int(t10[i]) for i in gap_10]}
    return {"t_10s": t10, "b_rtn_10s": true10}, defects


def _minute_truth(t0: int, b_sc8: np.ndarray, b_rtn8: np.ndarray) -> dict[str, np.ndarray]:
    """1-min means of the full 8 Hz truth in SC and RTN, and the mean |B|."""
    n1m = b_sc8.shape[0] // 480
    return {
        "t_1min": t0 + np.arange(n1m, dtype=np.int64) * 60_000_000_000 + 30_000_000_000,
        "b_sc_1min": b_sc8[: n1m * 480].reshape(n1m, 480, 3).mean(axis=1),
        "b_rtn_1min": b_rtn8[: n1m * 480].reshape(n1m, 480, 3).mean(axis=1),
        "btot_1min": np.linalg.norm(b_sc8[: n1m * 480], axis=1).reshape(n1m, 480).mean(axis=1),
    }


def simulate_day(root: Path, truth_dir: Path, sc: str, day: date, seed: int) -> dict[str, Any]:
    """Write the day's normal (and burst) files and truth; return the defect list."""
    rng = np.random.default_rng([seed, SC_INDEX[sc], day.toordinal()])
    t0, t1 = (int(x) for x in time.day_bounds_tt2000(day))
    n8 = (t1 - t0) // DT8
    t8 = t0 + np.arange(n8, dtype=np.int64) * DT8
    b_rtn8, events = day_field(rng, n8, DT8 / 1e9, geometry.ORBIT_AU[sc])
    o, k = day_offsets(sc, day, seed), K_NT[sc]
    b_sc8 = to_sc(sc, t8, b_rtn8)
    burst_span = _burst_span(rng, day, seed, t0)
    in_burst = (t8 >= burst_span[0]) & (t8 < burst_span[1]) if burst_span else np.zeros(n8, dtype=bool)

    # mixed-rate stretches (whole seconds) and the resync packet after each
    busy = in_burst.copy()
    busy[:80] = busy[-80:] = True
    mixed_spans = _mixed_spans(rng, t8, busy)
    in_mixed = np.zeros(n8, dtype=bool)
    resync_pkt = np.zeros(n8, dtype=bool)
    for a, b in mixed_spans:
        in_mixed |= (t8 >= a) & (t8 < b)
        resync_pkt |= (t8 >= b) & (t8 < b + NS_)

    # the normal file's records: 8 Hz outside burst/mixed, 32 Hz inside mixed stretches
    keep8 = ~in_burst & ~in_mixed
    t32 = np.concatenate(
        [np.empty(0, np.int64)] + [np.arange(a, b, DT32, dtype=np.int64) for a, b in mixed_spans]
    )
    t_rec = np.concatenate([t8[keep8], t32])
    b_rec = np.concatenate([b_sc8[keep8], to_sc(sc, t32, interp_rows(t32, t8, b_rtn8))])
    rate32 = np.concatenate([np.zeros(keep8.sum(), bool), np.ones(t32.size, bool)])
    order = np.argsort(t_rec, kind="stable")
    t_rec, b_rec, rate32 = t_rec[order], b_rec[order], rate32[order]
    meas = measure(rng, b_rec, o, k)
    flags = np.full(t_rec.size, BASE_FLAGS | ((day.toordinal() % 16) << 4), dtype=np.uint32)

    # defects on values (8 Hz records only, away from each other), then on time
    busy_rec = rate32 | np.isin(t_rec, t8[resync_pkt])
    spikes, glitches = _value_defects(rng, meas, busy_rec, sc)
    raw_t, tglitches, dups = _timing_defects(rng, t_rec, mixed_spans, busy_rec)
    order = np.arange(t_rec.size)
    for i in reversed(dups):
        order = np.insert(order, i + 8, np.arange(i, i + 8))
    n_spill = int(rng.integers(3, 42))
    spill_t = t1 + np.arange(n_spill, dtype=np.int64) * DT8 - LAG_NS
    spill_b = np.tile(meas[-1] + SPILL_STEP, (n_spill, 1))
    file_t = np.concatenate([raw_t[order], spill_t])
    file_b = np.concatenate([meas[order], spill_b])
    file_f = np.concatenate([flags[order], np.full(n_spill, flags[-1], np.uint32)])
    uvdir = root / layout.uv_dir(sc)
    write_normal_files(uvdir, sc, day, t0, (file_t, file_b, file_f))

    truth_b: dict[str, np.ndarray] = {}
    defects_b: dict[str, list[Any]] = {"spikes": [], "xglitches": []}
    if burst_span:
        truth_b, defects_b = _burst_file(rng, uvdir, sc, day, burst_span, (o, k), (t8, b_rtn8))
    if BEACON_DAYS[0] <= day <= BEACON_DAYS[1]:
        more, defects_10 = _beacon_file(rng, root, sc, day, t0, b_rtn8)
        truth_b |= more
        defects_b |= defects_10
    arrays = {"t": t8, "b_sc": b_sc8.astype(np.float32), "b_rtn": b_rtn8.astype(np.float32)}
    arrays |= _minute_truth(t0, b_sc8, b_rtn8) | {"offsets": o, "k": k} | truth_b
    defects = {
        "day": day.isoformat(),
        "spacecraft": sc,
        "lag_ns": LAG_NS,
        "spikes": [int(t_rec[i]) for i in spikes],
        "xglitches": [[int(t_rec[a]), int(t_rec[b - 1])] for a, b in glitches],
        "time_glitches": [[int(t_rec[a]), int(t_rec[b - 1])] for a, b in tglitches],
        "duplicates": [[int(t_rec[i]), int(t_rec[i + 7])] for i in dups],
        "mixed_rate": [list(s) for s in mixed_spans],
        "resync_packets": [[b, b + NS_] for _, b in mixed_spans],
        "spill_records": n_spill,
        "burst": burst_span,
        "burst_spikes": defects_b["spikes"],
        "burst_xglitches": defects_b["xglitches"],
        "beacon_spikes": defects_b.get("beacon_spikes", []),
        "beacon_fill": defects_b.get("beacon_fill", []),
        "listed_twice": day.day == 2,
        "events_s": events,
    }
    write_truth(truth_dir, sc, day, arrays, defects)
    return defects


def simulate(period: Period, out_dir: Path, spacecraft: str | None, seed: int) -> Path:
    """Write the archive for ``period`` (one spacecraft, default A) under ``out_dir``: quiet
    days here, the disturbed and 4 Hz days by :mod:`magfw_stereo.simdays`."""
    sc = spacecraft or "A"
    out_dir = Path(out_dir)
    sclk = write_static_kernels(out_dir, sc)
    months = sorted({(d.year, d.month) for d in period.days()})
    for y, m in months:
        write_month_offsets(out_dir, sc, y, m, seed)
        write_month_epm(out_dir, sc, y, m)
    for day in period.days():
        write_day_kernels(out_dir, sc, day, sclk)
        special = simdays.day_kind(sc, day)
        if special is None:
            simulate_day(out_dir, out_dir / "truth", sc, day, seed)
        else:
            special(out_dir, out_dir / "truth", sc, day, seed)
    return out_dir

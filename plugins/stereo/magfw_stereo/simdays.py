"""Simulated STEREO days that are not quiet: disturbed days and 4 Hz days.

Every other day is made by :func:`magfw_stereo.simulate.simulate_day`, unchanged; these days
are listed here by date (documented choices: the dates are ours, clear of the quiet days the
tests and benchmarks use; 2012-07-23 is the day of the extreme CME STEREO-A met in situ).

**Disturbed days** (``DISTURBED_DAYS``), the field (RTN, 8 Hz truth):

- the quiet model's Parker spiral and ambient turbulence (:func:`magfw_stereo.imf.turbulence`);
- a heliospheric current sheet crossing at 01:30-03:30: the field turns by 180 deg about N
  over 20-90 s, |B| dipping to 40 % in the sheet;
- an interplanetary shock at 05:00-07:00: |B| x 2-3 and a 15-40 deg turn over ~1 s;
- its sheath, 6-8 h: turbulence on an f^-5/3 spectrum from 1/3 h up to the 4 Hz Nyquist
  frequency (no dissipation range), scaled so that the measured one-record step (noise
  included) is 0.15 nT RMS per component just behind the shock, relaxing to 0.05 nT with an
  e-folding time of 1.2-2 h; the ambient turbulence doubled;
- a magnetic cloud from the sheath's end to the day's end: the field rotates smoothly by
  120-180 deg over 10-14 h, |B| peaking 40 % above its entry value, turbulence a quarter of
  the ambient.

Defects placed inside them (normal file; no burst file on these days): 20 spikes anywhere and
6 in the 5 minutes after the shock; X-sensor glitches (60 on A, 20 on B; 0.2-0.6 nT, 2-8
records, half of them with a soft edge, the first record at half height), 40 % in the sheath,
25 % in the cloud, 10 % within 10 min of the current sheet; two mixed-rate stretches (one in
the sheath, one in the cloud) with stale stamps after both switches (the first 32 Hz packet
stamped at 125 ms steps, the first 8 Hz packet at 31.25 ms steps); 1-s timestamp glitch runs
of 1, 4, 16, 60, 300, 1200, 4800 (10 min) and 7200 (15 min) records (16 and 1200 stamped 1 s
early, the others 1 s late); six stamp collisions (a record carrying its neighbour's stamp:
four with the wrong one first in the file, two with it second); three duplicated packets;
the 6 ms lag; spill-over.

**4 Hz days** (``FOUR_HZ_DAYS``, STEREO-A before and after the L1 gap of the 2014-2015 solar
conjunction): the quiet field model at 250 ms, partial days (2-3 passes, 4-8 h of data: the
published files of those days are 1-3 MB), 10 spikes, X glitches (15 on A, 5 on B; 0.4-0.6 nT,
2-4 records, half with a soft edge), three 1-s glitches (1-8 records), two duplicated packets,
the lag and spill-over; no burst or mixed-rate data.

Truth: as on quiet days, plus ``expect`` (one code per truth record, :data:`EXPECT`: what the
chain must do with it) and, on 4 Hz days, ``t`` holds only the instants with data and the
1-min means are over those (``n_1min`` samples).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from magfw.api import frames, time
from magfw_stereo import geometry, layout
from magfw_stereo.imf import day_field, turbulence
from magfw_stereo.simcore import (
    BASE_FLAGS,
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
    minute_means,
    to_sc,
    write_normal_files,
    write_truth,
)

DayWriter = Callable[[Path, Path, str, date, int], dict[str, Any]]

#: Disturbed days per spacecraft.
DISTURBED_DAYS: dict[str, tuple[date, ...]] = {
    "A": (date(2012, 7, 23), date(2024, 5, 10), date(2024, 5, 11)),
    "B": (date(2014, 2, 20), date(2014, 2, 21)),
}
#: Spans (first, last day) of 4 Hz normal mode per spacecraft.
FOUR_HZ_DAYS: dict[str, tuple[tuple[date, date], ...]] = {
    "A": ((date(2014, 5, 1), date(2014, 7, 20)), (date(2016, 2, 10), date(2016, 4, 30))),
}
DT4 = 250_000_000
#: What the chain must do with each truth record (``expect`` in the truth file).
EXPECT = {
    0: "good: unflagged, within the noise",
    1: "spike: fill, flagged",
    2: "X glitch: repaired, flagged",
    3: "timing defect: restamped (or dropped), flagged",
    4: "from 32 Hz data: flagged",
}
SHEATH_STEP_NT = (0.15, 0.05)  # measured one-record step RMS per component, behind the shock -> floor
QUIET_STEP_NT = float(np.hypot(NOISE_NT * np.sqrt(2), 2 * 0.021))  # noise + doubled ambient turbulence
RUN_LENGTHS = (1, 4, 16, 60, 300, 1200, 4800, 7200)
EARLY_RUNS = (16, 1200)


def day_kind(sc: str, day: date) -> DayWriter | None:
    """The writer of ``day`` when it is a disturbed or a 4 Hz day of ``sc``; None when quiet."""
    if day in DISTURBED_DAYS.get(sc, ()):
        return simulate_disturbed_day
    if any(a <= day <= b for a, b in FOUR_HZ_DAYS.get(sc, ())):
        return simulate_4hz_day
    return None


# ---------------------------------------------------------------------------------------------
# The disturbed field
# ---------------------------------------------------------------------------------------------


def _smooth(t: np.ndarray, t0: float, width: float) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh((t - t0) / width))


def _turn(base: np.ndarray, t: np.ndarray, t0: float, width: float, angle: float, axis: np.ndarray) -> None:
    """Rotate ``base`` (in place) by ``angle`` about ``axis``, smoothly (tanh of ``width`` s)
    around ``t0``: unchanged well before, fully turned well after."""
    lo, hi = np.searchsorted(t, [t0 - 12 * width, t0 + 12 * width])
    base[hi:] = base[hi:] @ frames.rodrigues((angle * axis)[None, :])[0].T
    frac = _smooth(t[lo:hi], t0, width)
    base[lo:hi] = np.einsum("nij,nj->ni", frames.rodrigues(np.outer(frac * angle, axis)), base[lo:hi])


def _perpendicular(rng: np.random.Generator, v: np.ndarray) -> np.ndarray:
    axis = np.cross(v, rng.normal(size=3))
    out: np.ndarray = axis / np.linalg.norm(axis)
    return out


def sheath_turbulence(rng: np.random.Generator, n: int, dt: float) -> np.ndarray:
    """(n, 3) turbulence on an f^-5/3 spectrum from 1/3 h to the Nyquist frequency, scaled to
    a one-record step RMS of 1 (nT) per component."""
    f = np.fft.rfftfreq(n, dt)
    amp = np.maximum(f, 1.0 / 10800.0) ** (-5.0 / 6.0)
    amp[0] = 0.0
    out = np.empty((n, 3))
    for k in range(3):
        x = np.fft.irfft(amp * np.exp(2j * np.pi * rng.random(f.size)), n)
        out[:, k] = x / np.sqrt(np.mean(np.diff(x) ** 2))
    return out


def disturbed_field(
    rng: np.random.Generator, n: int, dt: float, r_au: float
) -> tuple[np.ndarray, dict[str, Any]]:
    """(n, 3) true RTN field (nT) of a disturbed day on a grid of ``n`` samples ``dt`` s apart,
    and its regions (seconds of day)."""
    t = np.arange(n) * dt
    s = rng.choice([-1.0, 1.0])
    base = np.tile([s * 3.5 / r_au**2, -s * 3.5 / r_au, 0.0], (n, 1))
    t_h, w_h = rng.uniform(1.5, 3.5) * 3600, rng.uniform(20, 90)
    _turn(base, t, t_h, w_h, np.pi, np.array([0.0, 0.0, 1.0]))
    mag = 1.0 - 0.6 / np.cosh(np.clip((t - t_h) / (2 * w_h), -50, 50)) ** 2
    t_s = rng.uniform(5, 7) * 3600
    i_s = int(t_s / dt)
    _turn(base, t, t_s, 0.5, np.radians(rng.uniform(15, 40)), _perpendicular(rng, base[i_s]))
    mag *= 1.0 + (rng.uniform(2.0, 3.0) - 1.0) * _smooth(t, t_s, 0.5)
    field = base * mag[:, None]
    t_c = t_s + rng.uniform(6, 8) * 3600
    dur_c = rng.uniform(10, 14) * 3600
    i_c = int(t_c / dt)
    e1 = field[i_c] / np.linalg.norm(field[i_c])
    e2 = _perpendicular(rng, e1)
    u = np.clip((t - t_c) / dur_c, 0.0, 1.0)
    phi = np.radians(rng.uniform(120, 180)) * u
    cloud = np.linalg.norm(field[i_c]) * (1 + 0.4 * np.sin(np.pi * u))[:, None]
    cloud = cloud * (np.cos(phi)[:, None] * e1 + np.sin(phi)[:, None] * e2)
    w = _smooth(t, t_c, 300.0)[:, None]
    field = (1 - w) * field + w * cloud
    ambient = 1.0 + _smooth(t, t_s, 0.5) - 1.75 * _smooth(t, t_c, 300.0)
    tau = rng.uniform(1.2, 2.0) * 3600
    hi, lo = SHEATH_STEP_NT
    target = np.where(t >= t_s, lo + (hi - lo) * np.exp(-np.clip(t - t_s, 0, None) / tau), 0.0)
    env = np.sqrt(np.clip(target**2 - QUIET_STEP_NT**2, 0.0, None)) * (1 - _smooth(t, t_c, 300.0))
    field += turbulence(rng, n, dt, 1.2) * ambient[:, None] + sheath_turbulence(rng, n, dt) * env[:, None]
    regions = {"hcs": [t_h - w_h, t_h + w_h], "shock": t_s, "sheath": [t_s, t_c], "cloud": [t_c, t_c + dur_c]}
    return field, regions | {"sheath_efold_s": tau, "sheath_step_nT": list(SHEATH_STEP_NT)}


# ---------------------------------------------------------------------------------------------
# Defects
# ---------------------------------------------------------------------------------------------


def _starts_in(
    rng: np.random.Generator, allowed: np.ndarray, count: int, length: int, busy: np.ndarray, margin: int
) -> list[int]:
    """Like :func:`free_starts`, with the starts drawn among the ``allowed`` records."""
    cand = np.flatnonzero(allowed[: allowed.size - length - margin])
    cand = cand[cand >= margin]
    out: list[int] = []
    for _ in range(count * 50):
        if len(out) == count or cand.size == 0:
            break
        i = int(cand[rng.integers(cand.size)])
        if busy[max(0, i - margin) : i + length + margin].any():
            continue
        busy[max(0, i - margin) : i + length + margin] = True
        out.append(i)
    return sorted(out)


def _glitches(
    rng: np.random.Generator,
    meas: np.ndarray,
    starts: list[int],
    lengths: tuple[int, int],
    amps: tuple[float, float],
) -> list[dict[str, Any]]:
    """X-sensor glitches at ``starts`` (added to ``meas`` in place): length drawn in
    [lengths[0], lengths[1]], amplitude |a| in ``amps``, random sign, and for half of them a
    soft edge (the first record at half height)."""
    out = []
    for i in starts:
        length = int(rng.integers(lengths[0], lengths[1] + 1))
        a = float(rng.uniform(*amps) * rng.choice([-1, 1]))
        soft = bool(rng.random() < 0.5)
        meas[i : i + length, 0] += a
        if soft:
            meas[i, 0] -= a / 2
        out.append({"start": i, "end": i + length, "nT": a, "soft": soft})
    return out


def _regions_mask(t_rec: np.ndarray, t0: int, spans: list[list[float]]) -> np.ndarray:
    m = np.zeros(t_rec.size, dtype=bool)
    for a, b in spans:
        m |= (t_rec >= t0 + int(a * NS_)) & (t_rec < t0 + int(b * NS_))
    return m


def _disturbed_values(
    rng: np.random.Generator,
    meas: np.ndarray,
    t_rec: np.ndarray,
    t0: int,
    reg: dict[str, Any],
    busy: np.ndarray,
    sc: str,
) -> tuple[list[int], list[dict[str, Any]]]:
    """Spikes (20 anywhere, 6 just after the shock) and X glitches placed in the regions."""
    anywhere = np.ones(t_rec.size, dtype=bool)
    after_shock = _regions_mask(t_rec, t0, [[reg["shock"] + 2, reg["shock"] + 300]])
    spikes = free_starts(rng, t_rec.size, 20, 1, busy, 20) + _starts_in(rng, after_shock, 6, 1, busy, 8)
    comp = rng.integers(0, 3, len(spikes))
    meas[spikes, comp] += rng.uniform(20, 300, len(spikes)) * rng.choice([-1, 1], len(spikes))
    n = 60 if sc == "A" else 20
    where = [
        (_regions_mask(t_rec, t0, [reg["sheath"]]), 0.40),
        (_regions_mask(t_rec, t0, [reg["cloud"]]), 0.25),
        (_regions_mask(t_rec, t0, [[reg["hcs"][0] - 600, reg["hcs"][1] + 600]]), 0.10),
        (anywhere, 0.25),
    ]
    glitches = []
    for mask, share in where:
        starts = _starts_in(rng, mask, int(round(n * share)), 8, busy, 24)
        glitches += _glitches(rng, meas, starts, (2, 8), (0.2, 0.6))
    return sorted(spikes), sorted(glitches, key=lambda g: g["start"])


def _stale_stamps(raw_t: np.ndarray, t_rec: np.ndarray, mixed: list[tuple[int, int]]) -> None:
    """The first packet after each rate switch stamped with the old step (in place): the first
    32 Hz packet of a stretch at 125 ms, the first 8 Hz packet after it at 31.25 ms."""
    for a, b in mixed:
        first32 = np.flatnonzero((t_rec >= a) & (t_rec < a + NS_))
        raw_t[first32] = a - LAG_NS + np.arange(first32.size) * DT8
        first8 = np.flatnonzero((t_rec >= b) & (t_rec < b + NS_))
        raw_t[first8] = b - LAG_NS + np.arange(first8.size) * DT32


def _runs_and_collisions(
    rng: np.random.Generator, raw_t: np.ndarray, t_rec: np.ndarray, sheath: np.ndarray, busy: np.ndarray
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """1-s timestamp glitch runs (``RUN_LENGTHS``; the long ones in the sheath) and stamp
    collisions (a record given its neighbour's stamp), applied to ``raw_t`` in place."""
    runs = []
    for length in RUN_LENGTHS:
        (i,) = _starts_in(rng, sheath if length >= 60 else np.ones_like(sheath), 1, length, busy, 40)
        shift = -NS_ if length in EARLY_RUNS else NS_
        raw_t[i : i + length] += shift
        runs.append({"start": i, "end": i + length, "shift_ns": shift})
    collisions = []
    for k, i in enumerate(free_starts(rng, t_rec.size, 6, 2, busy, 40)):
        wrong_first = k % 3 != 2
        if wrong_first:  # record i claims the stamp of record i + 1
            raw_t[i] = raw_t[i + 1]
        else:  # record i + 1 claims the stamp of record i
            raw_t[i + 1] = raw_t[i]
        collisions.append({"record": i if wrong_first else i + 1, "wrong_first": wrong_first})
    return runs, collisions


def _expect(t8: np.ndarray, t_rec: np.ndarray, d: dict[str, Any]) -> np.ndarray:
    """The per-record expectation codes (:data:`EXPECT`) on the truth grid ``t8``."""
    code = np.zeros(t8.size, dtype=np.int8)

    def at(stamps: list[int] | np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(t8, np.asarray(stamps, dtype=np.int64)), 0, t8.size - 1)

    for a, b in d["mixed_rate"]:
        code[(t8 >= a) & (t8 < b)] = 4
    for g in d["xglitch_records"]:
        code[at(t_rec[g[0] : g[1]])] = 2
    for a, b in d["time_glitches"] + d["resync_packets"] + d.get("resync_packets_32", []):
        code[(t8 >= a) & (t8 <= b)] = 3
    if d.get("collisions"):
        code[at([c[0] for c in d["collisions"]])] = 3
    code[at(d["spikes"])] = 1
    return code


def _records(
    sc: str, t8: np.ndarray, b_rtn8: np.ndarray, mixed: list[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The normal file's true records: 8 Hz outside the mixed stretches, 32 Hz inside (time
    order): stamps, SC field, 32 Hz mask."""
    in_mixed = np.zeros(t8.size, dtype=bool)
    for a, b in mixed:
        in_mixed |= (t8 >= a) & (t8 < b)
    t32 = np.concatenate([np.empty(0, np.int64)] + [np.arange(a, b, DT32, dtype=np.int64) for a, b in mixed])
    t_rec = np.concatenate([t8[~in_mixed], t32])
    b_rec = np.concatenate(
        [to_sc(sc, t8[~in_mixed], b_rtn8[~in_mixed]), to_sc(sc, t32, interp_rows(t32, t8, b_rtn8))]
    )
    rate32 = np.r_[np.zeros(int((~in_mixed).sum()), bool), np.ones(t32.size, bool)]
    order = np.argsort(t_rec, kind="stable")
    return t_rec[order], b_rec[order], rate32[order]


def _file_records(
    rng: np.random.Generator,
    raw_t: np.ndarray,
    meas: np.ndarray,
    flags: np.ndarray,
    dups: list[int],
    t1: int,
    step: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """File order: each duplicated packet (one second) sent twice, then 3-41 (at most 20 on
    4 Hz days) records of the next day with the unphysical offset step."""
    per = NS_ // step
    order = np.arange(raw_t.size)
    for i in reversed(dups):
        order = np.insert(order, i + per, np.arange(i, i + per))
    n_spill = int(rng.integers(3, 42 if step == DT8 else 21))
    spill_t = t1 + np.arange(n_spill, dtype=np.int64) * step - LAG_NS
    file_t = np.concatenate([raw_t[order], spill_t])
    file_b = np.concatenate([meas[order], np.tile(meas[-1] + SPILL_STEP, (n_spill, 1))])
    file_f = np.concatenate([flags[order], np.full(n_spill, flags[-1], np.uint32)])
    return file_t, file_b, file_f, n_spill


def _defects_json(sc: str, day: date, t_rec: np.ndarray, parts: dict[str, Any]) -> dict[str, Any]:
    """The defects file's content (the quiet days' keys first, then the new ones)."""
    gl = parts["glitches"]
    runs = parts.get("runs", [])
    per = parts["packet"]
    out: dict[str, Any] = {
        "day": day.isoformat(),
        "spacecraft": sc,
        "lag_ns": LAG_NS,
        "spikes": [int(t_rec[i]) for i in parts["spikes"]],
        "xglitches": [[int(t_rec[g["start"]]), int(t_rec[g["end"] - 1])] for g in gl],
        "time_glitches": [[int(t_rec[r["start"]]), int(t_rec[r["end"] - 1])] for r in runs],
        "duplicates": [[int(t_rec[i]), int(t_rec[i + per - 1])] for i in parts["dups"]],
        "mixed_rate": [list(s) for s in parts.get("mixed", [])],
        "resync_packets": [[b, b + NS_ - 1] for _, b in parts.get("mixed", [])],
        "spill_records": parts["spill"],
        "burst": [],
        "burst_spikes": [],
        "burst_xglitches": [],
        "beacon_spikes": [],
        "beacon_fill": [],
        "listed_twice": day.day == 2,
        "events_s": parts["events"],
        "cadence_ns": parts["cadence"],
        "xglitch_nT": [g["nT"] for g in gl],
        "xglitch_soft": [g["soft"] for g in gl],
        "xglitch_records": [[g["start"], g["end"]] for g in gl],
        "time_glitch_shift_ns": [r["shift_ns"] for r in runs],
        "collisions": [[int(t_rec[c["record"]]), c["wrong_first"]] for c in parts.get("collisions", [])],
        "resync_packets_32": [[a, a + NS_ - 1] for a, _ in parts.get("mixed", [])],
        "expect_codes": {str(k): v for k, v in EXPECT.items()},
    }
    return out


# ---------------------------------------------------------------------------------------------
# The days
# ---------------------------------------------------------------------------------------------


def _mixed_in(
    rng: np.random.Generator, t8: np.ndarray, t0: int, spans: list[list[float]], busy: np.ndarray
) -> list[tuple[int, int]]:
    """One 10-60 s mixed-rate stretch (whole seconds) in each of ``spans`` (seconds of day)."""
    out = []
    for span in spans:
        (i,) = _starts_in(rng, _regions_mask(t8, t0, [[span[0] + 1800, span[1] - 1800]]), 1, 8 * 70, busy, 80)
        i -= i % 8
        out.append((int(t8[i]), int(t8[i]) + int(rng.integers(10, 61)) * NS_))
    return out


def simulate_disturbed_day(root: Path, truth_dir: Path, sc: str, day: date, seed: int) -> dict[str, Any]:
    """Write a disturbed day's normal file and truth (module notes); return the defects."""
    rng = np.random.default_rng([seed, SC_INDEX[sc], day.toordinal(), 17])
    t0, t1 = (int(x) for x in time.day_bounds_tt2000(day))
    n8 = (t1 - t0) // DT8
    t8 = t0 + np.arange(n8, dtype=np.int64) * DT8
    b_rtn8, reg = disturbed_field(rng, n8, DT8 / 1e9, geometry.ORBIT_AU[sc])
    o, k = day_offsets(sc, day, seed), K_NT[sc]
    busy8 = np.zeros(n8, dtype=bool)
    busy8[:80] = busy8[-80:] = True
    mixed = _mixed_in(rng, t8, t0, [reg["sheath"], [reg["cloud"][0], 86400.0]], busy8)
    t_rec, b_rec, rate32 = _records(sc, t8, b_rtn8, mixed)
    meas = measure(rng, b_rec, o, k)
    flags = np.full(t_rec.size, BASE_FLAGS | ((day.toordinal() % 16) << 4), dtype=np.uint32)
    busy = rate32.copy()
    for a, b in mixed:
        busy |= ((t_rec >= a - NS_) & (t_rec < a + NS_)) | ((t_rec >= b - NS_) & (t_rec < b + 2 * NS_))
    busy[:80] = busy[-80:] = True
    spikes, glitches = _disturbed_values(rng, meas, t_rec, t0, reg, busy, sc)
    raw_t = t_rec - LAG_NS
    _stale_stamps(raw_t, t_rec, mixed)
    runs, collisions = _runs_and_collisions(
        rng, raw_t, t_rec, _regions_mask(t_rec, t0, [reg["sheath"]]), busy
    )
    dups = free_starts(rng, t_rec.size, 3, 8, busy, 40)
    file_t, file_b, file_f, n_spill = _file_records(rng, raw_t, meas, flags, dups, t1, DT8)
    write_normal_files(root / layout.uv_dir(sc), sc, day, t0, (file_t, file_b, file_f))
    parts = {"spikes": spikes, "glitches": glitches, "runs": runs, "dups": dups, "mixed": mixed,
             "spill": n_spill, "events": {"disturbed": reg}, "cadence": DT8, "collisions": collisions,
             "packet": 8}  # fmt: skip
    defects = _defects_json(sc, day, t_rec, parts) | {"disturbed": True}
    b_sc8 = to_sc(sc, t8, b_rtn8)
    arrays: dict[str, Any] = {"t": t8, "b_sc": b_sc8.astype(np.float32), "b_rtn": b_rtn8.astype(np.float32)}
    arrays |= minute_means(t0, t8, b_sc8, b_rtn8) | {
        "offsets": o,
        "k": k,
        "expect": _expect(t8, t_rec, defects),
    }
    write_truth(truth_dir, sc, day, arrays, defects)
    return defects


def _passes(rng: np.random.Generator, t4: np.ndarray, t0: int) -> tuple[np.ndarray, list[list[int]]]:
    """2-3 telemetry passes totalling 4-8 h (whole seconds): the mask of covered records."""
    k = int(rng.integers(2, 4))
    each = rng.uniform(4, 8) * 3600 / k
    slot = 86400 / k
    have = np.zeros(t4.size, dtype=bool)
    spans = []
    for j in range(k):
        a = int(j * slot + rng.uniform(600, slot - each - 600))
        span = [t0 + a * NS_, t0 + int(a + each) * NS_]
        have |= (t4 >= span[0]) & (t4 < span[1])
        spans.append(span)
    return have, spans


def simulate_4hz_day(root: Path, truth_dir: Path, sc: str, day: date, seed: int) -> dict[str, Any]:
    """Write a 4 Hz day's normal file (partial day) and truth (module notes)."""
    rng = np.random.default_rng([seed, SC_INDEX[sc], day.toordinal(), 4])
    t0, t1 = (int(x) for x in time.day_bounds_tt2000(day))
    n4 = (t1 - t0) // DT4
    t4 = t0 + np.arange(n4, dtype=np.int64) * DT4
    b_rtn4, events = day_field(rng, n4, DT4 / 1e9, geometry.ORBIT_AU[sc])
    o, k = day_offsets(sc, day, seed), K_NT[sc]
    have, spans = _passes(rng, t4, t0)
    t_rec, b_rtn = t4[have], b_rtn4[have]
    b_sc = to_sc(sc, t_rec, b_rtn)
    meas = measure(rng, b_sc, o, k)
    flags = np.full(t_rec.size, BASE_FLAGS | ((day.toordinal() % 16) << 4), dtype=np.uint32)
    busy = np.zeros(t_rec.size, dtype=bool)
    busy[:40] = busy[-40:] = True
    edges = np.flatnonzero(np.diff(t_rec) != DT4)[:, None] + np.arange(-20, 21)
    busy[np.clip(edges, 0, t_rec.size - 1)] = True  # keep defects away from the pass edges
    spikes = free_starts(rng, t_rec.size, 10, 1, busy, 10)
    meas[spikes, rng.integers(0, 3, len(spikes))] += rng.uniform(20, 300, len(spikes)) * rng.choice(
        [-1, 1], len(spikes)
    )
    glitches = _glitches(
        rng, meas, free_starts(rng, t_rec.size, 15 if sc == "A" else 5, 4, busy, 12), (2, 4), (0.4, 0.6)
    )
    raw_t = t_rec - LAG_NS
    runs = []
    for i in free_starts(rng, t_rec.size, 3, 8, busy, 20):
        length = int(rng.integers(1, 9))
        raw_t[i : i + length] += NS_
        runs.append({"start": i, "end": i + length, "shift_ns": NS_})
    dups = free_starts(rng, t_rec.size, 2, 4, busy, 20)
    file_t, file_b, file_f, n_spill = _file_records(rng, raw_t, meas, flags, dups, t1, DT4)
    write_normal_files(root / layout.uv_dir(sc), sc, day, t0, (file_t, file_b, file_f))
    parts = {"spikes": spikes, "glitches": glitches, "runs": runs, "dups": dups, "spill": n_spill,
             "events": events, "cadence": DT4, "packet": 4}  # fmt: skip
    defects = _defects_json(sc, day, t_rec, parts) | {"four_hz": True, "passes": spans}
    arrays: dict[str, Any] = {"t": t_rec, "b_sc": b_sc.astype(np.float32), "b_rtn": b_rtn.astype(np.float32)}
    arrays |= minute_means(t0, t_rec, b_sc, b_rtn) | {
        "offsets": o,
        "k": k,
        "expect": _expect(t_rec, t_rec, defects),
    }
    write_truth(truth_dir, sc, day, arrays, defects)
    return defects

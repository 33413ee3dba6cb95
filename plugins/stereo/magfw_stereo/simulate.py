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
K and O) and ``ST{sc}_DEFECTS_YYYYMMDD.json`` (times of every injected defect).
"""

from __future__ import annotations

import calendar
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

import numpy as np
from cdflib.cdfwrite import CDF as CdfWriter

from magfw.api import Period, atomic_path, kernels, time, write_bytes_atomic
from magfw_stereo import geometry, layout
from magfw_stereo.counts import CountsTable, counts_file_name, format_counts
from magfw_stereo.imf import day_field
from magfw_stereo.researcher import format_offsets_file, offsets_file_name

MS = 1_000_000
NS_ = 1_000_000_000
DT8 = 125 * MS
DT32 = 31_250_000
LAG_NS = 6 * MS
NOISE_NT = 0.02
SC_INDEX = {"A": 1, "B": 2}
K_NT = {"A": np.array([0.0146328, 0.0144910, 0.0142581]), "B": np.array([0.0145102, 0.0146011, 0.0143320])}
O_BASE = {"A": np.array([22.0, -17.0, -30.0]), "B": np.array([-8.0, 12.0, 5.0])}
SPILL_STEP = np.array([22.0, 31.0, 13.0])
BASE_FLAGS = 1 << 16  # calibration "new"; range 0 (bit 15 clear)
SCLK_START = "2006-10-26T00:00:00"
#: Days with beacon files (the reprocessed beacon product's span, research note 1.4).
BEACON_DAYS = (date(2014, 8, 1), date(2015, 11, 30))
BEACON_STEP_NT = 0.1  # beacon compression: field quantised to 0.1 nT
BEACON_FILL = -1.0e31


def day_offsets(sc: str, day: date, seed: int) -> np.ndarray:
    """The true zero offsets (nT, SC axes) of a day: a slow drift plus a small daily scatter."""
    rng = np.random.default_rng([seed, SC_INDEX[sc], day.toordinal(), 7])
    d = day.toordinal()
    phase = np.array([0.0, 2.0, 4.0])
    return O_BASE[sc] + 0.6 * np.sin(2 * np.pi * d / 27.0 + phase) + rng.normal(0, 0.05, 3)


def is_burst_day(day: date, seed: int) -> bool:
    return (day.toordinal() + seed) % 3 == 0


def _cdf_epoch(tt: np.ndarray) -> np.ndarray:
    return np.asarray(time.tt2000_to_cdf_epoch(np.asarray(tt, dtype=np.int64)), dtype=np.float64)


def _raw_var(
    cdf: CdfWriter,
    name: str,
    data_type: int,
    dims: list[int],
    attrs: dict[str, Any],
    data: Any,
    *,
    rec_vary: bool = True,
    elements: int = 1,
) -> None:
    """One uncompressed variable of a foreign-layout (Berkeley, beacon) CDF, written with
    cdflib as those producers' files are laid out."""
    spec = {"Variable": name, "Data_Type": data_type, "Num_Elements": elements, "Rec_Vary": rec_vary,
            "Dim_Sizes": dims}  # fmt: skip
    if rec_vary:
        spec["Compress"] = 0
    cdf.write_var(spec, var_attrs=attrs, var_data=data)


def write_uv_cdf(
    path: Path, sc: str, tt: np.ndarray, b: np.ndarray, flags: np.ndarray, burst: bool, version: int
) -> Path:
    """A Berkeley unvalidated L1 file: Epoch (CDF_EPOCH), B_SC [N,4] nT (X, Y, Z, |B|),
    MAGFLAGUC (CDF_UINT4), label variable; atomic."""
    b4 = np.column_stack([b, np.linalg.norm(b, axis=1)]).astype(np.float32)
    gattrs = {
        "Project": {0: "STEREO>Solar TErrestrial RElations Observatory"},
        "Source_name": {0: "Ahead>STEREO Ahead" if sc == "A" else "Behind>STEREO Behind"},
        "Descriptor": {0: "IMPACT_MAG>IMPACT Magnetometer"},
        "Data_type": {0: f"L1_MAG{'B' if burst else ''}_UV>Level 1 unvalidated"},
        "Data_version": {0: str(version)},
        "Logical_file_id": {0: path.stem},
        "PI_name": {0: "J. Luhmann"},
        "Mission_group": {0: "STEREO"},
        "TEXT": {
            0: "SIMULATED by magfw (magfw_stereo.simulate): not real data. Unvalidated "
            "STEREO IMPACT/MAG field in spacecraft coordinates, no zero offsets."
        },
    }
    fill = {"FILLVAL": [-1e31, "CDF_REAL4"]}
    with atomic_path(path) as tmp:
        with CdfWriter(tmp, cdf_spec={"Compressed": 0, "Majority": "row_major"}) as cdf:
            cdf.write_globalattrs(gattrs)
            _raw_var(
                cdf,
                "Epoch",
                31,
                [],
                {
                    "CATDESC": "Time tag",
                    "VAR_TYPE": "support_data",
                    "UNITS": "ms",
                    "FILLVAL": [-1e31, "CDF_EPOCH"],
                },
                _cdf_epoch(tt),
            )
            _raw_var(
                cdf,
                "B_SC",
                21,
                [4],
                {
                    "CATDESC": "Magnetic field, spacecraft coordinates",
                    "VAR_TYPE": "data",
                    "UNITS": "nT",
                    "DEPEND_0": "Epoch",
                    "LABL_PTR_1": "B_SC_LABL",
                    **fill,
                },
                b4,
            )
            _raw_var(
                cdf,
                "MAGFLAGUC",
                14,
                [],
                {
                    "CATDESC": "MAG status flags",
                    "VAR_TYPE": "support_data",
                    "DEPEND_0": "Epoch",
                    "FILLVAL": [4294967295, "CDF_UINT4"],
                },
                flags.astype(np.uint32),
            )
            _raw_var(
                cdf,
                "B_SC_LABL",
                51,
                [4],
                {"CATDESC": "labels", "VAR_TYPE": "metadata"},
                np.array(["BX", "BY", "BZ", "BTotal"]),
                rec_vary=False,
                elements=6,
            )
    return path


def write_beacon_cdf(path: Path, sc: str, tt: np.ndarray, b_rtn: np.ndarray) -> Path:
    """A public IMPACT beacon file (``ST{sc}_LB_IMPACT_YYYYMMDD_V02.cdf``), the MAG part:
    ``Epoch_MAG`` (CDF_EPOCH) and ``MAGBField`` [N, 3] CDF_REAL4 nT in RTN, fill -1e31; atomic.
    The variable names, shape and frame are those public loaders read (docs/stereo.md)."""
    gattrs = {
        "Project": {0: "STEREO>Solar TErrestrial RElations Observatory"},
        "Source_name": {0: "STEREO>Solar Terrestrial Relations Observatory"},
        "Descriptor": {0: "IMPACT>In-situ Measurements of Particles And CME Transients"},
        "Data_type": {0: "LB>Beacon Data"},
        "Data_version": {0: "2"},
        "Logical_source": {0: f"ST{sc}_LB_IMPACT"},
        "Logical_file_id": {0: path.stem},
        "Mission_group": {0: "STEREO"},
        "TEXT": {
            0: "SIMULATED by magfw (magfw_stereo.simulate): not real data. IMPACT beacon "
            "magnetic field, 10 s, RTN coordinates, real-time calibration."
        },
    }
    with atomic_path(path) as tmp:
        with CdfWriter(tmp, cdf_spec={"Compressed": 0, "Majority": "row_major"}) as cdf:
            cdf.write_globalattrs(gattrs)
            _raw_var(
                cdf,
                "Epoch_MAG",
                31,
                [],
                {
                    "CATDESC": "Time, MAG beacon records",
                    "UNITS": "ms",
                    "VAR_TYPE": "support_data",
                    "FILLVAL": [-1e31, "CDF_EPOCH"],
                },
                _cdf_epoch(tt),
            )
            _raw_var(
                cdf,
                "MAGBField",
                21,
                [3],
                {
                    "CATDESC": "Magnetic field vector, RTN coordinates",
                    "VAR_TYPE": "data",
                    "UNITS": "nT",
                    "DEPEND_0": "Epoch_MAG",
                    "FILLVAL": [-1e31, "CDF_REAL4"],
                },
                b_rtn.astype(np.float32),
            )
    return path


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


def _free_starts(
    rng: np.random.Generator, n: int, count: int, length: int, busy: np.ndarray, margin: int
) -> list[int]:
    """``count`` random start indices of runs of ``length`` in [margin, n - margin) that avoid
    ``busy`` (bool mask, updated) by ``margin`` records on each side."""
    out: list[int] = []
    for _ in range(count * 50):
        if len(out) == count:
            break
        i = int(rng.integers(margin, n - margin - length))
        if busy[max(0, i - margin) : i + length + margin].any():
            continue
        busy[max(0, i - margin) : i + length + margin] = True
        out.append(i)
    return sorted(out)


def _measure(rng: np.random.Generator, b_sc: np.ndarray, o: np.ndarray, k: np.ndarray) -> np.ndarray:
    meas = b_sc - o + rng.normal(0, NOISE_NT, b_sc.shape)
    out: np.ndarray = np.round(meas / k) * k
    return out


def simulate_day(root: Path, truth_dir: Path, sc: str, day: date, seed: int) -> dict[str, Any]:
    """Write the day's normal (and burst) files and truth; return the defect list."""
    rng = np.random.default_rng([seed, SC_INDEX[sc], day.toordinal()])
    t0, t1 = (int(x) for x in time.day_bounds_tt2000(day))
    n8 = (t1 - t0) // DT8
    t8 = t0 + np.arange(n8, dtype=np.int64) * DT8
    b_rtn8, events = day_field(rng, n8, DT8 / 1e9, geometry.ORBIT_AU[sc])
    o, k = day_offsets(sc, day, seed), K_NT[sc]

    def to_sc(tt: np.ndarray, b: np.ndarray) -> np.ndarray:
        et = np.asarray(time.tt2000_to_et(tt), dtype=np.float64)
        out: np.ndarray = np.einsum("nij,nj->ni", geometry.sc_from_rtn(sc, et), b)
        return out

    def rtn_at(tt: np.ndarray) -> np.ndarray:
        return np.column_stack([np.interp(tt - t0, t8 - t0, b_rtn8[:, c]) for c in range(3)])

    b_sc8 = to_sc(t8, b_rtn8)
    in_burst = np.zeros(n8, dtype=bool)
    burst_span: list[int] = []
    if is_burst_day(day, seed):
        start_s = int(rng.integers(2 * 3600, 20 * 3600))
        dur_s = int(rng.integers(20, 61)) * 60
        burst_span = [t0 + start_s * 1_000_000_000, t0 + (start_s + dur_s) * 1_000_000_000]
        in_burst = (t8 >= burst_span[0]) & (t8 < burst_span[1])

    # mixed-rate stretches (whole seconds) and the resync packet after each
    busy = in_burst.copy()
    busy[:80] = busy[-80:] = True
    mixed_spans = []
    for i in _free_starts(rng, n8, 2, 8 * 70, busy.copy(), 80):
        i -= i % 8
        dur = int(rng.integers(10, 61))
        mixed_spans.append((int(t8[i]), int(t8[i]) + dur * 1_000_000_000))
    in_mixed = np.zeros(n8, dtype=bool)
    resync_pkt = np.zeros(n8, dtype=bool)
    for a, b in mixed_spans:
        in_mixed |= (t8 >= a) & (t8 < b)
        resync_pkt |= (t8 >= b) & (t8 < b + 1_000_000_000)
    busy |= in_mixed | resync_pkt

    # the normal file's records: 8 Hz outside burst/mixed, 32 Hz inside mixed stretches
    keep8 = ~in_burst & ~in_mixed
    t32 = (
        np.concatenate([np.arange(a, b, DT32, dtype=np.int64) for a, b in mixed_spans])
        if mixed_spans
        else np.empty(0, np.int64)
    )
    t_rec = np.concatenate([t8[keep8], t32])
    b_rec = np.concatenate([b_sc8[keep8], to_sc(t32, rtn_at(t32))])
    rate32 = np.concatenate([np.zeros(keep8.sum(), bool), np.ones(t32.size, bool)])
    order = np.argsort(t_rec, kind="stable")
    t_rec, b_rec, rate32 = t_rec[order], b_rec[order], rate32[order]
    meas = _measure(rng, b_rec, o, k)
    nrec = t_rec.size
    flags = np.full(nrec, BASE_FLAGS | ((day.toordinal() % 16) << 4), dtype=np.uint32)

    # defects on values: spikes and X glitches (8 Hz records only, away from each other)
    idx8 = np.flatnonzero(~rate32)
    busy_rec = np.zeros(nrec, dtype=bool)
    busy_rec[rate32] = True
    in_resync = np.isin(t_rec, t8[resync_pkt])
    busy_rec |= in_resync
    spikes = _free_starts(rng, nrec, 20, 1, busy_rec, 20)
    comp = rng.integers(0, 3, len(spikes))
    amp = rng.uniform(20, 300, len(spikes)) * rng.choice([-1, 1], len(spikes))
    meas[spikes, comp] += amp
    n_glitch = 30 if sc == "A" else 10
    glitches = []
    for i in _free_starts(rng, nrec, n_glitch, 6, busy_rec, 20):
        length = int(rng.integers(2, 7))
        meas[i : i + length, 0] += rng.uniform(0.4, 0.6) * rng.choice([-1, 1])
        glitches.append((i, i + length))
    del idx8

    # timing defects: lag, 1-s glitches, resync packets, duplicates, spill
    raw_t = t_rec - LAG_NS
    for _a, b in mixed_spans:
        pkt = np.flatnonzero((t_rec >= b) & (t_rec < b + 1_000_000_000))
        raw_t[pkt] = b - LAG_NS + np.arange(pkt.size) * DT32
    tglitches = []
    for i in _free_starts(rng, nrec, 5, 16, busy_rec, 40):
        length = int(rng.integers(1, 17))
        raw_t[i : i + length] += 1_000_000_000
        tglitches.append((i, i + length))
    dups = _free_starts(rng, nrec, 3, 8, busy_rec, 40)
    order = np.arange(nrec)
    for i in reversed(dups):
        order = np.insert(order, i + 8, np.arange(i, i + 8))
    n_spill = int(rng.integers(3, 42))
    spill_t = t1 + np.arange(n_spill, dtype=np.int64) * DT8 - LAG_NS
    spill_b = np.tile(meas[-1] + SPILL_STEP, (n_spill, 1))
    file_t = np.concatenate([raw_t[order], spill_t])
    file_b = np.concatenate([meas[order], spill_b])
    file_f = np.concatenate([flags[order], np.full(n_spill, flags[-1], np.uint32)])

    uvdir = root / layout.uv_dir(sc)
    if day.day == 2:  # listed twice: V01 has the first 12 h only, V02 the whole day
        half = file_t < t0 + 43200 * 1_000_000_000
        write_uv_cdf(
            uvdir / layout.uv_name(sc, day, 1), sc, file_t[half], file_b[half], file_f[half], False, 1
        )
        write_uv_cdf(uvdir / layout.uv_name(sc, day, 2), sc, file_t, file_b, file_f, False, 2)
    else:
        write_uv_cdf(uvdir / layout.uv_name(sc, day, 1), sc, file_t, file_b, file_f, False, 1)

    # burst file
    truth_b: dict[str, np.ndarray] = {}
    defects_b: dict[str, list[Any]] = {"spikes": [], "xglitches": []}
    if burst_span:
        tb = np.arange(burst_span[0], burst_span[1], DT32, dtype=np.int64)
        rb = rtn_at(tb)
        sb = to_sc(tb, rb)
        mb = _measure(rng, sb, o, k)
        busy_b = np.zeros(tb.size, bool)
        sp_b = _free_starts(rng, tb.size, 5, 1, busy_b, 80)
        mb[sp_b, rng.integers(0, 3, len(sp_b))] += rng.uniform(20, 300, len(sp_b))
        gl_b = []
        for i in _free_starts(rng, tb.size, 5, 24, busy_b, 80):
            length = int(rng.integers(8, 25))
            mb[i : i + length, 0] += rng.uniform(0.4, 0.6) * rng.choice([-1, 1])
            gl_b.append((int(tb[i]), int(tb[i + length - 1])))
        fb = np.full(tb.size, BASE_FLAGS | ((day.toordinal() % 16) << 4), dtype=np.uint32)
        write_uv_cdf(uvdir / layout.uv_name(sc, day, 1, burst=True), sc, tb - LAG_NS, mb, fb, True, 1)
        truth_b = {"t_burst": tb, "b_sc_burst": sb.astype(np.float32), "b_rtn_burst": rb.astype(np.float32)}
        defects_b = {"spikes": [int(tb[i]) for i in sp_b], "xglitches": gl_b}

    # beacon: RTN 10-s means with the real-time calibration, quantised, three spikes, two
    # fill records (2014-08 .. 2015-11)
    if BEACON_DAYS[0] <= day <= BEACON_DAYS[1]:
        n10 = n8 // 80
        true10 = b_rtn8[: n10 * 80].reshape(n10, 80, 3).mean(axis=1)
        mb = true10 + rng.normal(0, NOISE_NT, (n10, 3)) / np.sqrt(80)
        mb = np.round(mb / BEACON_STEP_NT) * BEACON_STEP_NT
        busy10 = np.zeros(n10, bool)
        sp_10 = _free_starts(rng, n10, 3, 1, busy10, 10)
        mb[sp_10, rng.integers(0, 3, len(sp_10))] += rng.uniform(20, 300, len(sp_10))
        gap_10 = _free_starts(rng, n10, 2, 1, busy10, 10)
        mb[gap_10] = BEACON_FILL
        t10 = t0 + np.arange(n10, dtype=np.int64) * 10 * NS_ + 5 * NS_
        write_beacon_cdf(root / layout.beacon_dir(sc) / layout.beacon_name(sc, day, 2), sc, t10, mb)
        truth_b |= {"t_10s": t10, "b_rtn_10s": true10}
        defects_b["beacon_spikes"] = [int(t10[i]) for i in sp_10]
        defects_b["beacon_fill"] = [int(t10[i]) for i in gap_10]

    # truth: 8 Hz, burst, 1 min
    n1m = n8 // 480
    m_sc = b_sc8[: n1m * 480].reshape(n1m, 480, 3).mean(axis=1)
    m_rtn = b_rtn8[: n1m * 480].reshape(n1m, 480, 3).mean(axis=1)
    m_tot = np.linalg.norm(b_sc8[: n1m * 480], axis=1).reshape(n1m, 480).mean(axis=1)
    t1m = t0 + np.arange(n1m, dtype=np.int64) * 60_000_000_000 + 30_000_000_000
    truth_dir.mkdir(parents=True, exist_ok=True)
    stem = f"ST{sc}_TRUTH_{day:%Y%m%d}"
    with atomic_path(truth_dir / f"{stem}.npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                t=t8,
                b_sc=b_sc8.astype(np.float32),
                b_rtn=b_rtn8.astype(np.float32),
                t_1min=t1m,
                b_sc_1min=m_sc,
                b_rtn_1min=m_rtn,
                btot_1min=m_tot,
                offsets=o,
                k=k,
                **cast(dict[str, Any], truth_b),
            )
    defects = {
        "day": day.isoformat(),
        "spacecraft": sc,
        "lag_ns": LAG_NS,
        "spikes": [int(t_rec[i]) for i in spikes],
        "xglitches": [[int(t_rec[a]), int(t_rec[b - 1])] for a, b in glitches],
        "time_glitches": [[int(t_rec[a]), int(t_rec[b - 1])] for a, b in tglitches],
        "duplicates": [[int(t_rec[i]), int(t_rec[i + 7])] for i in dups],
        "mixed_rate": [list(s) for s in mixed_spans],
        "resync_packets": [[b, b + 1_000_000_000] for _, b in mixed_spans],
        "spill_records": n_spill,
        "burst": burst_span,
        "burst_spikes": defects_b["spikes"],
        "burst_xglitches": defects_b["xglitches"],
        "beacon_spikes": defects_b.get("beacon_spikes", []),
        "beacon_fill": defects_b.get("beacon_fill", []),
        "listed_twice": day.day == 2,
        "events_s": events,
    }
    write_bytes_atomic(
        truth_dir / f"ST{sc}_DEFECTS_{day:%Y%m%d}.json", json.dumps(defects, indent=1).encode()
    )
    return defects


def simulate(period: Period, out_dir: Path, spacecraft: str | None, seed: int) -> Path:
    """Write the archive for ``period`` (one spacecraft, default A) under ``out_dir``."""
    sc = spacecraft or "A"
    out_dir = Path(out_dir)
    sclk = write_static_kernels(out_dir, sc)
    months = sorted({(d.year, d.month) for d in period.days()})
    for y, m in months:
        write_month_offsets(out_dir, sc, y, m, seed)
        write_month_epm(out_dir, sc, y, m)
    for day in period.days():
        write_day_kernels(out_dir, sc, day, sclk)
        simulate_day(out_dir, out_dir / "truth", sc, day, seed)
    return out_dir

"""magfw.geometry.frames on synthetic kernels written with magfw.geometry.kernels' writers.

Two synthetic spacecraft, one UTC day (2024-10-30) of 8 Hz samples:

- STEREO-like (NAIF -234, "STEREO AHEAD"): circular heliocentric orbit at 0.96 AU (SPK type 13,
  centre Sun); CK-based body frame with +X toward the Sun and a slow wobble, 1 Hz quaternions,
  and a 2 deg attitude jump at 12:00 that starts a new CK interpolation interval.
- Aditya-like (NAIF -156): halo-like orbit about L1 (SPK type 9, centre Earth); Sun-pointing CK
  frame (+X Sun, +Y ecliptic north) with a slow three-axis wobble, 1 Hz quaternions.

The reference everywhere is SPICE itself on the same kernels: ``spiceypy.pxform`` evaluated at
each sample (its vectorised twin ``cyice.pxform_v`` gives identical matrices, see
``test_pxform_v_equals_pxform``), and ``spkpos``.

``GSM_FIXED2000`` (GSM with the fixed 2000.0 pole) is not a magfw frame: it comes from the
Aditya-L1 plugin's frames kernel, loaded beside the synthetic kernels, and checks that a
mission's dynamic frame is classified from its definition alone.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import spiceypy as sp
from spiceypy import cyice

from magfw.errors import KernelError
from magfw.geometry import frames, igrf, kernels
from magfw.geometry.frames import rodrigues
from magfw.geometry.time import tt2000_from_iso, tt2000_to_et
from magfw_aditya.spice import GSM_FK_PATH

DAY = "2024-10-30"
AU_KM = 149_597_870.7
GM_SUN = 1.32712440018e11  # km^3 s^-2
N_DAY = 691_200  # one day at 8 Hz
STEREO, STEREO_CK, STEREO_FRAME = -234, -234000, "TEST_STA_SC"
ADITYA, ADITYA_CK, ADITYA_FRAME = -156, -156001, "TEST_AL1_SC"
WOBBLE_RAD = np.radians(0.1)  # amplitude of each wobble axis
WOBBLE_PERIODS_S = (600.0, 900.0, 1500.0)


def tt_of(iso: str) -> np.int64:
    return np.int64(tt2000_from_iso(np.array([iso]))[0])


def day_tt(n: int = N_DAY, start: str = f"{DAY}T00:00:00", step_ns: int = 125_000_000) -> np.ndarray:
    return tt_of(start) + np.arange(n, dtype=np.int64) * step_ns


def rotation_angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle (rad) of the rotation a^T b, accurate for small angles (||a - b||_F / sqrt 2)."""
    return np.linalg.norm(a - b, axis=(-2, -1)) / np.sqrt(2.0)


def wobble(
    et: np.ndarray, t0: float, amplitude: float = WOBBLE_RAD, periods: tuple[float, ...] = WOBBLE_PERIODS_S
) -> np.ndarray:
    t = et - t0
    rv = np.stack([amplitude * np.sin(2 * np.pi * t / p + k) for k, p in enumerate(periods)], axis=1)
    return rodrigues(rv)


def frame_rows(x: np.ndarray, pole: np.ndarray, second: str) -> np.ndarray:
    """C-matrices (rows = body axes in J2000): +X along x, and ``second`` ('Y' or 'Z') the
    component of ``pole`` perpendicular to X."""
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    p = pole - np.sum(pole * x, axis=1, keepdims=True) * x
    p /= np.linalg.norm(p, axis=1, keepdims=True)
    if second == "Z":
        return np.stack([x, np.cross(p, x), p], axis=1)
    return np.stack([x, p, np.cross(x, p)], axis=1)


@dataclass
class Scenario:
    directory: Path
    files: list[Path]
    t0: float  # ET of DAY 00:00 UTC


def build_scenario(directory: Path, *, ck_rate_hz: float = 1.0, jump: bool = True) -> Scenario:
    """Write the two synthetic spacecraft's SCLK, FK, SPK and CK kernels into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    t0 = float(tt2000_to_et(np.array([tt_of(f"{DAY}T00:00:00")]))[0])
    sclk_a = kernels.write_sclk(directory / "ahead_science_01.sclk", STEREO, start_et=t0 - 86400)
    sclk_b = kernels.write_sclk(
        directory / "al1_sclk_v1.tsc", ADITYA, start_et=t0 - 86400, ticks_per_second=1000
    )
    fk = kernels.write_fk(
        directory / "magfw_test_sc.tf",
        {
            **kernels.ck_frame_definition(STEREO_FRAME, STEREO_CK, sclk_id=STEREO, spk_id=STEREO),
            **kernels.ck_frame_definition(ADITYA_FRAME, ADITYA_CK, sclk_id=ADITYA, spk_id=ADITYA),
        },
        comments="Synthetic spacecraft frames for magfw tests.",
    )
    # STEREO-like: circular orbit, 0.96 AU, 2 deg inclination to the ecliptic, 60 deg ahead.
    r = 0.96 * AU_KM
    n = np.sqrt(GM_SUN / r**3)
    inc = np.radians(2.0)
    et_s = np.arange(t0 - 2 * 86400, t0 + 3 * 86400 + 1, 3600.0)
    th = np.radians(95.0) + n * (et_s - t0)
    pos = r * np.stack([np.cos(th), np.sin(th) * np.cos(inc), np.sin(th) * np.sin(inc)], 1)
    vel = r * n * np.stack([-np.sin(th), np.cos(th) * np.cos(inc), np.cos(th) * np.sin(inc)], 1)
    spk_a = kernels.write_spk(
        directory / "ahead_2024_303_01.depm.bsp",
        STEREO,
        10,
        "ECLIPJ2000",
        et_s,
        np.hstack([pos, vel]),
        spk_type=13,
        degree=7,
    )
    with kernels.kernel_pool([sclk_a, sclk_b, fk, spk_a]):
        ecl = sp.pxform("ECLIPJ2000", "J2000", t0)
        north = np.broadcast_to(ecl[:, 2], (1, 3))
        # Aditya-like: L1 distance along Earth->Sun plus a halo-like excursion (178-day period).
        et_h = np.arange(t0 - 2 * 86400, t0 + 3 * 86400 + 1, 600.0)
        sun, _ = cyice.spkpos_v("SUN", et_h, "J2000", "NONE", "EARTH")
        xs = sun / np.linalg.norm(sun, axis=1, keepdims=True)
        ys = np.cross(north, xs)
        ys /= np.linalg.norm(ys, axis=1, keepdims=True)
        zs = np.cross(xs, ys)
        ph = 2 * np.pi * (et_h - t0) / (178 * 86400.0)
        p_h = (
            0.01 * sun
            + 2.0e5 * np.cos(ph)[:, None] * xs
            + 6.6e5 * np.sin(ph)[:, None] * ys
            + 1.2e5 * np.cos(ph)[:, None] * zs
        )
        v_h = np.gradient(p_h, et_h, axis=0)
        spk_b = kernels.write_spk(
            directory / "al1_eph_28oct2024_02nov2024_v1.bsp",
            ADITYA,
            399,
            "J2000",
            et_h,
            np.hstack([p_h, v_h]),
            spk_type=9,
            degree=7,
        )
        sp.furnsh(str(spk_b))
        et_c = np.arange(t0 - 120.0, t0 + 86400.0 + 120.0, 1.0 / ck_rate_hz)
        if jump:  # a last pre-jump record 1 ms before the jump keeps the CK gap-free
            et_c = np.sort(np.r_[et_c, t0 + 43200.0 - 1e-3])
        # STEREO-like attitude: +X to the Sun, +Z toward ecliptic north, wobble, jump at 12:00.
        sc, _ = cyice.spkpos_v(str(STEREO), et_c, "J2000", "NONE", "SUN")
        c_a = wobble(et_c, t0) @ frame_rows(-sc, north, "Z")
        starts = None
        if jump:
            after = et_c >= t0 + 43200.0
            c_a[after] = rodrigues(np.tile([0.0, 0.0, np.radians(2.0)], (after.sum(), 1))) @ c_a[after]
            starts = [t0 + 43200.0]
        ck_a = kernels.write_ck(
            directory / "ahead_2024_304_01.ah.bc",
            STEREO_CK,
            "J2000",
            STEREO,
            et_c,
            frames.m2q(c_a),
            interval_starts=starts,
        )
        # Aditya-like attitude: +X to the Sun, +Y toward ecliptic north, wobble.
        al, _ = cyice.spkpos_v(str(ADITYA), et_c, "J2000", "NONE", "SUN")
        c_b = wobble(et_c, t0, periods=(700.0, 1100.0, 1300.0)) @ frame_rows(-al, north, "Y")
        ck_b = kernels.write_ck(
            directory / "al1_att_20241030_v01.bc", ADITYA_CK, "J2000", ADITYA, et_c, frames.m2q(c_b)
        )
    return Scenario(directory, [sclk_a, sclk_b, fk, spk_a, spk_b, ck_a, ck_b, GSM_FK_PATH], t0)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return build_scenario(tmp_path_factory.mktemp("kernels"))


@pytest.fixture
def pool(scenario: Scenario):
    with kernels.kernel_pool(scenario.files) as p:
        yield p


@pytest.fixture(scope="module")
def day() -> np.ndarray:
    return day_tt()


def reference(tt: np.ndarray, a: str, b: str) -> np.ndarray:
    """Per-sample SPICE matrices (vectorised pxform) on the same kernels."""
    return cyice.pxform_v(a, b, tt2000_to_et(tt))


# ----------------------------------------------------------------------------------------


def test_quaternion_conversions_match_spice() -> None:
    rng = np.random.default_rng(5)
    q = rng.normal(size=(500, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    m = frames.q2m(q)
    ref = np.array([sp.q2m(x) for x in q])
    assert np.abs(m - ref).max() < 1e-15
    back = frames.m2q(m)
    assert np.abs(np.abs(np.sum(back * q, axis=1)) - 1).max() < 1e-14
    assert np.abs(frames.q2m(back) - m).max() < 1e-14


def test_pxform_v_equals_pxform(pool: kernels.KernelPool) -> None:
    """The vectorised reference used below is bit-identical to the scalar pxform loop."""
    tt = day_tt(200, step_ns=431_000_000_000)
    et = tt2000_to_et(tt)
    for a, b in ((ADITYA_FRAME, "MAGFW_GSE"), (STEREO_FRAME, "J2000")):
        loop = np.array([sp.pxform(a, b, e) for e in et])
        assert np.array_equal(loop, cyice.pxform_v(a, b, et))


# Tolerance for every comparison with SPICE below: 1e-6 rad, the project's stated accuracy for
# interpolated rotations; 1e-6 rad is 0.2 arcsec, about 0.1 pT on a 100 nT field and far
# below the 0.01-0.05 deg that separates published GSE/GSM implementations.
TOL_RAD = 1e-6


SLOW = pytest.mark.slow  # the exhaustive cases; a representative few stay in the fast loop


@pytest.mark.parametrize(
    ("a", "b", "observer"),
    [
        ("J2000", "GSE", None),
        pytest.param("GSE", "HEE", None, marks=SLOW),
        pytest.param("J2000", "HEEQ", None, marks=SLOW),
        pytest.param("HEEQ", "HCI", None, marks=SLOW),
        ("GSE", "GSM_FIXED2000", None),
        pytest.param("ECLIPJ2000", "ECLIPDATE", None, marks=SLOW),
        ("J2000", "RTN", "STEREO AHEAD"),
        pytest.param("IAU_EARTH", "GSE", None, marks=SLOW),
        pytest.param("RTN", "HEEQ", ADITYA, marks=SLOW),
    ],
)
@pytest.mark.slow  # over half a second: the whole suite runs it
def test_ephemeris_frames_match_pxform(pool, day, a, b, observer) -> None:
    """A day at 8 Hz through the default (ephemeris) grid vs pxform at 3,000 spread samples,
    which include the last sample and samples in the middle of grid cells."""
    m = frames.rotation_matrices(day, a, b, observer=observer)
    sub = np.unique(np.r_[np.linspace(0, day.size - 1, 3000).astype(int), 4 * 300 * 8 // 2])
    fa = pool.rtn_frame(observer) if a == "RTN" else frames._ALIASES.get(a, a)
    fb = pool.rtn_frame(observer) if b == "RTN" else frames._ALIASES.get(b, b)
    err = rotation_angle(m[sub], reference(day[sub], fa, fb))
    assert err.max() < TOL_RAD
    det = np.linalg.det(m)
    assert np.abs(det - 1).max() < 1e-12
    assert np.abs(m @ m.transpose(0, 2, 1) - np.eye(3)).max() < 1e-12


@pytest.mark.slow
def test_attitude_day_within_1e6_rad_everywhere(pool, day) -> None:
    """The default attitude grid on a wobbling CK (0.1 deg per axis, 10-25 min periods, 1 Hz
    quaternions): every one of the 691,200 samples of the day agrees with pxform to 1e-6 rad
    (the measured worst case is about 2e-8 rad, set by SPICE's own linear CK interpolation)."""
    et = tt2000_to_et(day)
    for frame in (ADITYA_FRAME, STEREO_FRAME):
        m = frames.rotation_matrices(day, frame, "J2000")
        err = rotation_angle(m, cyice.pxform_v(frame, "J2000", et))
        assert err.max() < TOL_RAD, (frame, err.max())


@pytest.mark.parametrize(
    ("to", "observer"),
    [
        ("GSE", None),
        pytest.param("GSM_FIXED2000", None, marks=SLOW),
        pytest.param("RTN", ADITYA, marks=SLOW),
        pytest.param("HEEQ", None, marks=SLOW),
    ],
)
def test_spacecraft_to_dynamic_frames(pool, day, to, observer) -> None:
    """Spacecraft -> dynamic frame (two legs on two grids) vs pxform at 5,000 samples."""
    m = frames.rotation_matrices(day, ADITYA_FRAME, to, observer=observer)
    sub = np.linspace(0, day.size - 1, 5000).astype(int)
    target = pool.rtn_frame(observer) if to == "RTN" else frames._ALIASES.get(to, to)
    assert rotation_angle(m[sub], reference(day[sub], ADITYA_FRAME, target)).max() < TOL_RAD


@pytest.mark.parametrize(
    ("frame", "rate", "grid"),
    [
        ("J2000", "const", np.inf),
        ("HCI", "const", np.inf),
        ("GSE", "slow", 300.0),
        ("HEEQ", "slow", 300.0),
        ("ECLIPDATE", "slow", 300.0),
        ("IAU_EARTH", "slow", 60.0),
        ("IAU_SUN", "slow", 300.0),
        ("GSM_FIXED2000", "slow", 60.0),
        ("GSM", "slow", 60.0),
        (ADITYA_FRAME, "fast", 10.0),
    ],
)
def test_frames_are_classified_from_their_definitions(pool, frame, rate, grid) -> None:
    """Frozen dynamic frames are constant; frames built from ephemerides and constant vectors
    in slow frames follow the ephemeris grid (60 s when IAU_EARTH is among them), whatever
    their name; CK frames are attitude legs."""
    f = frames._resolve(pool, frame, None)
    assert (f.rate, f.grid) == (rate, grid)


def test_unknown_dynamic_frames_are_attitude_legs(pool) -> None:
    """A TWO-VECTOR frame built on a spacecraft's position is not assumed slow: it is
    interpolated on the attitude grid with the midpoint check."""
    p = "FRAME_1499998_"
    sp.lmpool(
        [
            "FRAME_TEST_SC_SUN = 1499998",
            f"{p}NAME = 'TEST_SC_SUN'",
            f"{p}CLASS = 5",
            f"{p}CLASS_ID = 1499998",
            f"{p}CENTER = 399",
            f"{p}RELATIVE = 'J2000'",
            f"{p}DEF_STYLE = 'PARAMETERIZED'",
            f"{p}FAMILY = 'TWO-VECTOR'",
            f"{p}PRI_AXIS = 'X'",
            f"{p}PRI_VECTOR_DEF = 'OBSERVER_TARGET_POSITION'",
            f"{p}PRI_OBSERVER = '{ADITYA}'",
            f"{p}PRI_TARGET = 'SUN'",
            f"{p}PRI_ABCORR = 'NONE'",
            f"{p}SEC_AXIS = 'Z'",
            f"{p}SEC_VECTOR_DEF = 'CONSTANT'",
            f"{p}SEC_FRAME = 'ECLIPJ2000'",
            f"{p}SEC_SPEC = 'RECTANGULAR'",
            f"{p}SEC_VECTOR = ( 0, 0, 1 )",
        ]
    )
    f = frames._resolve(pool, "TEST_SC_SUN", None)
    assert (f.rate, f.grid) == ("fast", 10.0)
    tt = day_tt(8 * 600)
    m = frames.rotation_matrices(tt, "TEST_SC_SUN", "GSE")
    assert rotation_angle(m, reference(tt, "TEST_SC_SUN", "MAGFW_GSE")).max() < TOL_RAD


def test_attitude_jump_is_not_smoothed(pool) -> None:
    """The 2 deg jump at 12:00 starts a new CK interval: samples on both sides stay exact."""
    tt = day_tt(8 * 120, start=f"{DAY}T11:59:00")
    m = frames.rotation_matrices(tt, STEREO_FRAME, "J2000")
    ref = reference(tt, STEREO_FRAME, "J2000")
    assert rotation_angle(m, ref).max() < TOL_RAD
    jump = rotation_angle(ref[1:], ref[:-1]).max()
    assert jump > np.radians(1.9)  # the jump is really there


def test_fast_attitude_falls_back_to_exact(scenario, tmp_path) -> None:
    """A CK that changes faster than the grid (1e-4 rad jitter at 0.7 s) fails the midpoint
    check, so its samples are evaluated exactly."""
    frame, ck_id = "TEST_JITTER", -234900
    fk = kernels.write_fk(
        tmp_path / "jitter.tf", kernels.ck_frame_definition(frame, ck_id, sclk_id=STEREO, spk_id=STEREO)
    )
    et = scenario.t0 + np.arange(-10.0, 3610.0, 0.05)
    rv = 1e-4 * np.stack(
        [np.sin(2 * np.pi * et / 0.7), np.cos(2 * np.pi * et / 1.3), np.zeros_like(et)], axis=1
    )
    with kernels.kernel_pool(scenario.files + [fk]):
        ck = kernels.write_ck(tmp_path / "jitter.bc", ck_id, "J2000", STEREO, et, frames.m2q(rodrigues(rv)))
        kernels.active_pool().load([ck])
        tt = day_tt(8 * 3600)
        m = frames.rotation_matrices(tt, frame, "J2000")
        assert rotation_angle(m, reference(tt, frame, "J2000")).max() < TOL_RAD


def test_grid_zero_is_exact(pool) -> None:
    tt = day_tt(1000, step_ns=86_000_000_000)
    m = frames.rotation_matrices(tt, ADITYA_FRAME, "GSE", grid_s=0)
    assert rotation_angle(m, reference(tt, ADITYA_FRAME, "MAGFW_GSE")).max() < 1e-14


@pytest.mark.parametrize(
    ("a", "b", "observer"),
    [
        (ADITYA_FRAME, "GSM", None),
        ("GSE", "GSM", None),
        (STEREO_FRAME, "RTN", STEREO),
        ("HEE", "HCI", None),
        ("J2000", "GSM_FIXED2000", None),
    ],
)
def test_round_trips(pool, a, b, observer) -> None:
    tt = day_tt(40_000, step_ns=2_160_000_000)
    rng = np.random.default_rng(1)
    v = rng.normal(size=(tt.size, 3)) * 50.0
    back = frames.rotate(frames.rotate(v, tt, a, b, observer=observer), tt, b, a, observer=observer)
    assert np.abs(back - v).max() < 1e-9 * 50
    m = frames.rotation_matrices(tt, a, b, observer=observer)
    assert np.abs(np.linalg.det(m) - 1).max() < 1e-12
    assert np.abs(np.einsum("nij,nkj->nik", m, m) - np.eye(3)).max() < 1e-12


def test_unsorted_times_and_rotate_shapes(pool) -> None:
    tt = day_tt(5000, step_ns=17_000_000_000)
    perm = np.random.default_rng(3).permutation(tt.size)
    v = np.tile([1.0, 2.0, 3.0], (tt.size, 1))
    ordered = frames.rotate(v, tt, ADITYA_FRAME, "GSE")
    shuffled = frames.rotate(v[perm], tt[perm], ADITYA_FRAME, "GSE")
    assert np.abs(shuffled - ordered[perm]).max() < 1e-12
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        frames.rotate(v[:10], tt, ADITYA_FRAME, "GSE")
    with pytest.raises(ValueError, match="int64"):
        frames.rotate(v, tt.astype(float), ADITYA_FRAME, "GSE")


def test_leap_second_day(pool) -> None:
    """2016-12-31 ends with a leap second; a sample at 23:59:60.5 rotates with the ET SPICE
    gives for that UTC string (its TT2000 is distinct from 23:59:59.5 and 00:00:00.5)."""
    iso = ["2016-12-31T23:59:59.5", "2016-12-31T23:59:60.5", "2017-01-01T00:00:00.5"]
    tt = tt2000_from_iso(np.array(iso))
    assert np.all(np.diff(tt) == 1_000_000_000)
    et = np.array([sp.str2et(s) for s in iso])
    assert np.abs(tt2000_to_et(tt) - et).max() < 1e-6
    grid = day_tt(86401 * 8, start="2016-12-31T00:00:00")
    assert grid[-1] - grid[0] == (86401 * 8 - 1) * 125_000_000
    m = frames.rotation_matrices(np.r_[grid, tt], "J2000", "GSM")
    ref = np.array([sp.pxform("J2000", "MAGFW_GSE", e) for e in et])
    gse = frames.rotation_matrices(tt, "J2000", "GSE")
    assert rotation_angle(gse, ref).max() < TOL_RAD
    exact = frames.rotation_matrices(tt, "J2000", "GSM", grid_s=0)
    assert rotation_angle(m[-3:], exact).max() < TOL_RAD


def gsm_pxform_reference(tt: np.ndarray) -> np.ndarray:
    """J2000->GSM from a SPICE TWO-VECTOR frame whose constant Z is the IGRF-14 dipole pole at
    the middle of ``tt`` (the pole moves < 1e-7 rad in the hour this is used over)."""
    et = tt2000_to_et(tt)
    lat, lon = igrf.dipole_pole_latlon(float(igrf.et_to_decimal_year(et.mean())))
    p = "FRAME_1499999_"
    sp.lmpool(
        [
            "FRAME_TEST_GSM_IGRF = 1499999",
            f"{p}NAME = 'TEST_GSM_IGRF'",
            f"{p}CLASS = 5",
            f"{p}CLASS_ID = 1499999",
            f"{p}CENTER = 399",
            f"{p}RELATIVE = 'J2000'",
            f"{p}DEF_STYLE = 'PARAMETERIZED'",
            f"{p}FAMILY = 'TWO-VECTOR'",
            f"{p}PRI_AXIS = 'X'",
            f"{p}PRI_VECTOR_DEF = 'OBSERVER_TARGET_POSITION'",
            f"{p}PRI_OBSERVER = 'EARTH'",
            f"{p}PRI_TARGET = 'SUN'",
            f"{p}PRI_ABCORR = 'NONE'",
            f"{p}SEC_AXIS = 'Z'",
            f"{p}SEC_VECTOR_DEF = 'CONSTANT'",
            f"{p}SEC_FRAME = 'IAU_EARTH'",
            f"{p}SEC_SPEC = 'LATITUDINAL'",
            f"{p}SEC_UNITS = 'DEGREES'",
            f"{p}SEC_LONGITUDE = {lon!r}",
            f"{p}SEC_LATITUDE = {lat!r}",
        ]
    )
    return cyice.pxform_v("J2000", "TEST_GSM_IGRF", et)


def test_gsm_igrf_matches_spice_two_vector_frame(pool) -> None:
    """GSM (IGRF-14 dipole of date) vs a SPICE TWO-VECTOR frame with that day's pole, over one
    hour at 8 Hz: same construction, so 1e-6 rad (the pole's motion in an hour is ~1e-8 rad)."""
    tt = day_tt(8 * 3600, start=f"{DAY}T05:00:00")
    m = frames.rotation_matrices(tt, "J2000", "GSM")
    assert rotation_angle(m, gsm_pxform_reference(tt)).max() < TOL_RAD


def test_gsm_fixed_2000_differs_from_igrf_as_published(pool) -> None:
    """The fixed 2000.0 pole is 0.5-1.3 deg away from IGRF GSM in 2024-2026 (research note)."""
    tt = tt2000_from_iso(
        np.array(["2024-01-15T00:00:00", "2024-07-01T00:00:00", "2025-03-20T12:00:00", "2026-04-10T00:00:00"])
    )
    d = np.abs(frames.gse_to_gsm_angle(tt) - frames.gse_to_gsm_angle(tt, "GSM_FIXED2000"))
    assert np.all((d > 0.5) & (d < 1.3))


@pytest.mark.slow  # over half a second: the whole suite runs it
def test_positions_match_spkpos(pool, day) -> None:
    """Positions within 1 m of spkpos in the same frame (1 m is the project's requirement).
    The J2000 position is spkpos itself; only the interpolated rotation adds error: measured
    at most 2 mm at 0.96 AU (HEE, HEEQ) and 0.6 mm at L1 (GSM_FIXED2000)."""
    sub = day[::97]
    et = tt2000_to_et(sub)
    cases = [
        (STEREO, "HEEQ", "SUN"),
        (STEREO, "HCI", "SUN"),
        (STEREO, "HEE", "SUN"),
        (ADITYA, "GSE", "EARTH"),
        (ADITYA, "GSM_FIXED2000", "EARTH"),
        ("EARTH", "ECLIPJ2000", "SUN"),
    ]
    for target, frame, center in cases:
        p = frames.positions(sub, target, frame, center=center)
        ref, _ = cyice.spkpos_v(str(target), et, frames._ALIASES.get(frame, frame), "NONE", center)
        assert np.linalg.norm(p - ref, axis=1).max() < 1e-3, (target, frame)
    # GSM (IGRF): J2000 spkpos rotated by the exact per-sample GSM matrices.
    p = frames.positions(sub, ADITYA, "GSM")
    j2k, _ = cyice.spkpos_v(str(ADITYA), et, "J2000", "NONE", "EARTH")
    exact = frames.rotation_matrices(sub, "J2000", "GSM", grid_s=0)
    assert np.linalg.norm(p - np.einsum("nij,nj->ni", exact, j2k), axis=1).max() < 1e-3
    # RTN of STEREO: the Sun lies on -R at the spacecraft's distance.
    sun = frames.positions(sub, "SUN", "RTN", center=STEREO, observer=STEREO)
    assert np.abs(sun[:, 1:]).max() < 1e-3 and np.all(sun[:, 0] < -0.95 * AU_KM)


def test_rtn_axes_follow_definition(pool) -> None:
    """RTN from the frames kernel vs an independent construction: R = Sun->spacecraft,
    T = (solar axis x R) normalised, N = R x T."""
    tt = day_tt(24, step_ns=3_600_000_000_000)
    et = tt2000_to_et(tt)
    m = frames.rotation_matrices(tt, "J2000", "RTN", observer="STEREO AHEAD")
    r, _ = cyice.spkpos_v("STEREO AHEAD", et, "J2000", "NONE", "SUN")
    r /= np.linalg.norm(r, axis=1, keepdims=True)
    omega = cyice.pxform_v("IAU_SUN", "J2000", et)[:, :, 2]
    t = np.cross(omega, r)
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    assert np.abs(m - np.stack([r, t, np.cross(r, t)], axis=1)).max() < 1e-12
    # The STEREO-like spacecraft points +X at the Sun (B_R = -B_x) within its 0.1 deg wobble
    # before the 2 deg attitude jump at 12:00, and within 2.2 deg after it.
    v = frames.rotate(np.tile([1.0, 0, 0], (tt.size, 1)), tt, STEREO_FRAME, "RTN", observer=STEREO)
    assert np.all(v[:12, 0] < -np.cos(np.radians(0.2)))
    assert np.all(v[12:, 0] < -np.cos(np.radians(2.2)))


def test_outside_coverage_is_one_clear_error(pool) -> None:
    tt = np.r_[day_tt(10), day_tt(16, start="2024-10-31T00:05:00", step_ns=60_000_000_000)]
    with pytest.raises(KernelError) as exc:
        frames.rotate(np.ones((tt.size, 3)), tt, ADITYA_FRAME, "GSE")
    msg = str(exc.value)
    assert msg == (
        "CK for TEST_AL1_SC (-156001): no coverage 2024-10-31T00:05:00 .. "
        "2024-10-31T00:20:00 (loaded: al1_att_20241030_v01.bc)"
    )
    assert "\n" not in msg
    far = day_tt(3, start="2024-11-05T00:00:00")
    with pytest.raises(
        KernelError,
        match=r"^SPK for STEREO AHEAD \(-234\): no coverage "
        r"2024-11-05T00:00:00 \.\. 2024-11-05T00:00:00\.250 "
        r"\(loaded: ahead_2024_303_01.depm.bsp\)$",
    ):
        frames.rotate(np.ones((3, 3)), far, "J2000", "RTN", observer=STEREO)


def test_errors_without_pool_and_unknown_frames(pool) -> None:
    tt = day_tt(3)
    with pytest.raises(KernelError, match="unknown frame"):
        frames.rotation_matrices(tt, "GSE", "NOT_A_FRAME")
    with pytest.raises(ValueError, match="observer"):
        frames.rotation_matrices(tt, "GSE", "RTN")
    with pytest.raises(KernelError, match="NO_SUCH_CRAFT: unknown body"):
        frames.rotation_matrices(tt, "GSE", "RTN", observer="NO_SUCH_CRAFT")
    assert np.array_equal(frames.rotation_matrices(tt, "gse", "GSE"), np.tile(np.eye(3), (3, 1, 1)))


def test_other_thread_cannot_use_the_pool(pool) -> None:
    errors: list[Exception] = []

    def worker() -> None:
        try:
            frames.rotation_matrices(day_tt(3), "J2000", "GSE")
        except KernelError as exc:
            errors.append(exc)

    th = threading.Thread(target=worker)
    th.start()
    th.join()
    assert errors and "no kernel pool is active in this thread" in str(errors[0])


# ----------------------------------------------------------------------------------------
# IGRF-14 dipole
# ----------------------------------------------------------------------------------------


def test_igrf_table_matches_research_values() -> None:
    """The published IGRF-14 numbers (nT) and pole positions of the research note."""
    t = igrf.igrf14()
    for year, g10, g11, h11 in (
        (2000.0, -29619.4, -1728.2, 5186.1),
        (2020.0, -29403.41, -1451.37, 4653.35),
        (2025.0, -29350.0, -1410.3, 4545.5),
    ):
        i = int(np.flatnonzero(t.epochs == year)[0])
        assert (t.g10[i], t.g11[i], t.h11[i]) == (g10, g11, h11)
    for year, lat, lon in (
        (2000.0, 79.54, 288.43),
        (2020.0, 80.59, 287.32),
        (2025.0, 80.79, 287.24),
        (2030.0, 80.99, 287.04),
    ):
        got = igrf.dipole_pole_latlon(year)
        assert abs(got[0] - lat) < 0.005 and abs(got[1] - lon) < 0.005
    g10, g11, h11, valid = igrf.dipole_coefficients(np.array([2027.5, 2031.0, 1899.0]))
    assert g10[0] == pytest.approx(-29350.0 + 2.5 * 12.6)
    assert h11[0] == pytest.approx(4545.5 - 2.5 * 21.5)
    assert valid.tolist() == [True, False, False]


def test_igrf_table_matches_ppigrf_source() -> None:
    """The shipped degree-1 rows equal those of IGRF14.shc as distributed in ppigrf."""
    ppigrf = pytest.importorskip("ppigrf", reason="ppigrf (the source of the IGRF-14 table) is not installed")
    full = igrf.read_shc_degree1(Path(ppigrf.__file__).parent / "IGRF14.shc")
    ours = igrf.igrf14()
    for name in ("epochs", "g10", "g11", "h11"):
        assert np.array_equal(getattr(full, name), getattr(ours, name))


def test_rodrigues_matches_spice_axisar() -> None:
    """magfw.geometry.frames.rodrigues equals SPICE's axisar (active rotation), to 1e-14."""
    rv = np.random.default_rng(4).normal(0, 1.0, (50, 3))
    rv[0] = 0.0  # the identity
    ours = rodrigues(rv)
    ref = np.array([sp.axisar(v, np.linalg.norm(v)) if np.any(v) else np.eye(3) for v in rv])
    assert np.abs(ours - ref).max() < 1e-14

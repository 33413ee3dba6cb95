"""Attitude from a quaternion time series (magfw.api.attitude, issue 21): SPICE's convention,
checked against SPICE itself (q2m, qxq, a type-3 CK read back by ckgp) and scipy; slerp to the
sample times within the stated bound Δt²|dω/dt|/8 on an analytic coning motion; and the sizes of
the natural first attempts the docs' recipe warns of (nearest sample, component-wise
interpolation across a sign flip, the scalar at the wrong end)."""

from __future__ import annotations

import numpy as np
import pytest
import spiceypy as sp

from magfw.api import InputError, QuaternionSeries, attitude, kernels, time

T0 = int(time.tt2000_from_iso(np.array(["2024-01-01T00:00:00"]))[0])
NS = 1_000_000_000
RNG = np.random.default_rng(21)


def _random_unit(n: int) -> np.ndarray:
    q = RNG.normal(size=(n, 4))
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def about(axis: int, angle: np.ndarray) -> np.ndarray:
    """Quaternions of active rotations by ``angle`` about coordinate ``axis`` (0, 1, 2)."""
    q = np.zeros((np.size(angle), 4))
    q[:, 0], q[:, 1 + axis] = np.cos(np.asarray(angle) / 2), np.sin(np.asarray(angle) / 2)
    return q


def coning(t_s: np.ndarray, spin: float, precession: float, cone_rad: float) -> np.ndarray:
    """ref -> body quaternions of a body spinning about its z at ``spin`` rad/s whose spin axis,
    tilted by ``cone_rad``, precesses about ref z at ``precession`` rad/s; |dω/dt| is
    ``spin * precession * sin(cone)``."""
    body_to_ref = attitude.multiply(
        attitude.multiply(about(2, precession * t_s), about(0, np.full(t_s.size, cone_rad))),
        about(2, spin * t_s),
    )
    return attitude.conjugate(body_to_ref)


def test_the_convention_is_spices():
    q = _random_unit(50)
    v = RNG.normal(size=(50, 3))
    for qi, vi, got in zip(q, v, attitude.rotate(q, v), strict=True):
        assert np.allclose(got, sp.mxv(sp.q2m(qi), vi), atol=1e-14)  # q2m(q) v, as SPICE
    for a, b, ab in zip(q[:-1], q[1:], attitude.multiply(q[:-1], q[1:]), strict=True):
        assert np.allclose(ab, sp.qxq(a, b), atol=1e-15)  # the Hamilton product, as SPICE's qxq
    rot = pytest.importorskip("scipy.spatial.transform").Rotation
    xyzw = q[:, [1, 2, 3, 0]]  # scipy: scalar last, the same active rotation
    assert np.allclose(rot.from_quat(xyzw).apply(v), attitude.rotate(q, v), atol=1e-13)
    assert np.allclose(attitude.to_spice(xyzw, scalar="last", maps="ref_to_body"), q, atol=1e-15)
    inverse = attitude.to_spice(attitude.conjugate(q), scalar="first", maps="body_to_ref")
    assert np.allclose(inverse, q, atol=1e-15)  # a body -> ref quaternion: its conjugate


def test_slerp_is_what_a_spice_type_3_ck_interpolates(tmp_path):
    """Samples every 4 s written as a type-3 CK, read back by SPICE's ckgp between the samples,
    equal the series' matrices to 1e-8 rad: what float64 ET (0.1 us at 2024) allows at the
    0.05 rad/s this attitude turns."""
    sclk_id, ck_id = -990, -990000
    t_s = np.arange(0, 400, 4.0)
    q = coning(t_s, 0.05, 0.004, np.radians(5))
    tt = T0 + (t_s * NS).astype(np.int64)
    series = QuaternionSeries.from_array(tt, q, scalar="first", maps="ref_to_body")
    et = np.asarray(time.tt2000_to_et(tt))
    sclk = kernels.write_sclk(tmp_path / "zeta.tsc", sclk_id, start_et=float(et[0]) - 100)
    with kernels.kernel_pool([sclk]) as pool:
        ck = kernels.write_ck(tmp_path / "zeta.bc", ck_id, "J2000", sclk_id, et, series.q)
        pool.load([kernels.KernelFile.from_path(ck)])
        at = tt[0] + np.sort(RNG.integers(0, tt[-1] - tt[0], 300))
        mine = series.matrices(at)
        for m, e in zip(mine, np.asarray(time.tt2000_to_et(at)), strict=True):
            cmat, _ = sp.ckgp(ck_id, sp.sce2c(sclk_id, float(e)), 0.0, "J2000")
            assert attitude.angle_rad(sp.m2q(cmat), sp.m2q(m)) < 1e-8


@pytest.mark.parametrize("spin_period_s", [6.0, 12.0, 60.0, 600.0])
def test_interpolation_error_is_within_the_stated_bound(spin_period_s):
    """Coning at 1-s samples, queried at 8 Hz: the error is at most the bound the series
    estimates, which is Δt²|dω/dt|/8 (analytic) to 3 %; a constant rate is exact."""
    spin, precession, cone = 2 * np.pi / spin_period_s, 2 * np.pi / 600, np.radians(3)
    t_s, t_q = np.arange(0, 300.0), np.arange(0, 299, 0.125)
    series = QuaternionSeries.from_array(
        T0 + (t_s * NS).astype(np.int64),
        coning(t_s, spin, precession, cone),
        scalar="first",
        maps="ref_to_body",
    )
    error = attitude.angle_rad(
        series.at(T0 + (t_q * NS).astype(np.int64)), coning(t_q, spin, precession, cone)
    )
    analytic = spin * precession * np.sin(cone) / 8
    assert error.max() <= series.error_bound_rad()
    assert series.error_bound_rad() == pytest.approx(analytic, rel=0.12 if spin_period_s == 6 else 0.03)
    steady = QuaternionSeries.from_array(
        T0 + (t_s * NS).astype(np.int64), about(2, 0.3 * t_s), scalar="first", maps="ref_to_body"
    )
    assert attitude.angle_rad(steady.at(T0 + (t_q * NS).astype(np.int64)), about(2, 0.3 * t_q)).max() < 1e-12


def test_the_natural_first_attempts_and_their_size():
    """An attitude turning at 3e-4 rad/s (an Earth-pointing orbiter), quaternions at 1 Hz, a
    2,500 nT field: the sizes the docs' recipe quotes."""
    omega, b_nt = 3e-4, 2500.0
    t_s, t_q = np.arange(0, 12000.0), np.arange(0, 11999, 0.125)  # past pi: w changes sign
    truth = about(2, omega * t_q)
    file_q = about(2, omega * t_s)
    file_q = np.where(file_q[:, :1] < 0, -file_q, file_q)  # files often keep w >= 0: signs flip
    tt, tq = T0 + (t_s * NS).astype(np.int64), T0 + (t_q * NS).astype(np.int64)
    nearest = file_q[np.clip(np.round(t_q).astype(int), 0, t_s.size - 1)]
    assert attitude.angle_rad(nearest, truth).max() == pytest.approx(omega / 2, rel=1e-3)  # 1.5e-4 rad
    assert attitude.angle_rad(nearest, truth).max() * b_nt == pytest.approx(0.375, rel=1e-3)  # 0.4 nT
    series = QuaternionSeries.from_array(tt, file_q, scalar="first", maps="ref_to_body")
    assert attitude.angle_rad(series.at(tq), truth).max() < 1e-12  # slerp: exact for a steady turn
    # component-wise interpolation is fine between samples of one sign, wrong across a flip
    lerp = np.stack([np.interp(t_q, t_s, file_q[:, k]) for k in range(4)], axis=1)
    lerp /= np.linalg.norm(lerp, axis=1, keepdims=True)
    assert attitude.angle_rad(lerp, truth).max() > 1.0  # a radian and more off, near the flip
    # the scalar taken from the wrong end: a different attitude altogether
    wrong = attitude.to_spice(file_q, scalar="last", maps="ref_to_body")
    assert np.median(attitude.angle_rad(wrong, file_q)) > 1.0


def test_outside_the_samples_and_across_a_gap_is_nan():
    t_s = np.array([0.0, 1.0, 2.0, 100.0, 101.0])
    series = QuaternionSeries.from_array(
        T0 + (t_s * NS).astype(np.int64),
        about(2, 0.01 * t_s),
        scalar="first",
        maps="ref_to_body",
        max_gap_s=10,
    )
    q = series.at(T0 + (np.array([-1.0, 0.5, 2.0, 50.0, 100.5, 101.0, 102.0]) * NS).astype(np.int64))
    assert np.isnan(q[:, 0]).tolist() == [True, False, False, True, False, False, True]
    v = series.to_ref(
        np.ones((7, 3)), T0 + (np.array([-1.0, 0.5, 2.0, 50.0, 100.5, 101.0, 102.0]) * NS).astype(np.int64)
    )
    assert np.isnan(v).any(axis=1).tolist() == [True, False, False, True, False, False, True]


def test_bad_samples_are_one_line_naming_the_file():
    q = about(2, np.zeros(3))
    with pytest.raises(InputError, match=r"^att\.csv: attitude: times do not increase at sample 2$"):
        QuaternionSeries.from_array([0, 1, 1], q, scalar="first", maps="ref_to_body", source="att.csv")
    with pytest.raises(
        InputError, match=r"^att\.csv: attitude: 1 quaternions are not of unit norm \(first: row 1"
    ):
        QuaternionSeries.from_array(
            [0, 1, 2], q * [[1], [1.1], [1]], scalar="first", maps="ref_to_body", source="att.csv"
        )

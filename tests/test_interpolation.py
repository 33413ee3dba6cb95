"""The rotation grid of magfw.geometry.interpolation on analytic rotations (no SPICE): the
error estimate that spares a cell its exact check, the check that catches what the nodes miss,
the chunked evaluation, and unsorted times. (tests/test_frames.py checks the same against
SPICE on synthetic kernels.)"""

from __future__ import annotations

import numpy as np
import pytest

from magfw.geometry import interpolation as interp
from magfw.geometry.quaternions import m2q, rodrigues

H = 10.0  #: grid step (s), the attitude grid's default


def _wobble(
    et: np.ndarray, jump_at: float | None = None, jump_rad: float = 0.0, amplitude_deg: float = 0.1
) -> np.ndarray:
    """A smooth three-axis wobble (0.1 deg, 10-25 min periods: tests/test_frames.py's),
    optionally with a small step rotation about Z at ``jump_at`` (inside a cell)."""
    amp = np.radians(amplitude_deg)
    rv = np.stack(
        [amp * np.sin(2 * np.pi * et / p + k) for k, p in enumerate((600.0, 900.0, 1500.0))], axis=1
    )
    if jump_at is not None:
        rv[:, 2] += np.where(et >= jump_at, jump_rad, 0.0)
    return rodrigues(rv)


def _angles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.norm(a - b, axis=(1, 2)) / np.sqrt(2.0)


def test_the_estimate_is_2_67_times_the_midpoint_error_of_a_smooth_rotation():
    et = np.arange(0.0, 4000.0, 0.125)
    r = interp.interpolation(et, _wobble, H)
    g = r.grid
    q = m2q(_wobble(g.nodes()))
    q *= np.cumprod(np.r_[1.0, np.sign(np.sum(q[1:] * q[:-1], axis=1))])[:, None]
    est = interp._estimates(g, q, r.coef)
    mids, seg = g.midpoints()
    cell, tau = g.cells(mids, seg)
    qm = g.quaternions(r.coef, cell, tau).T
    qm /= np.linalg.norm(qm, axis=1, keepdims=True)
    err = interp._angle(qm, m2q(_wobble(mids)))
    inner = np.isfinite(est[cell])
    ratio = est[cell][inner] / err[inner]
    assert inner.sum() == cell.size - 2  # the first and last cell have no estimate
    assert np.median(ratio) == pytest.approx(2.67, rel=0.05)  # (9 + 15) / 9
    assert np.percentile(ratio, 5) > 1.5
    worst = err[inner] > 0.5 * err[inner].max()  # where it matters, it is never under
    assert np.all(ratio[worst] > 1.0)


def test_a_step_the_nodes_straddle_is_checked_and_evaluated_exactly():
    """A 2e-6 rad step inside one cell: the cubic rings around it, the estimates flag the
    cells nearby, the midpoint checks fail where the error exceeds the tolerance, and those
    samples come out exact: nowhere is the error above INTERP_TOL_RAD."""
    et = np.arange(0.0, 2000.0, 0.125)

    def exact(e: np.ndarray) -> np.ndarray:
        return _wobble(e, jump_at=1003.0, jump_rad=2e-6)

    r = interp.interpolation(et, exact, H, check=True)
    err = _angles(r.matrices(), exact(et))
    step_cell = (et >= 1000.0) & (et < 1010.0)
    assert r.bad.any() and err[step_cell].max() < 1e-12  # exact where the step is
    assert err.max() < interp.INTERP_TOL_RAD
    unchecked = interp.interpolation(et, exact, H)  # without the check the step is smoothed
    assert _angles(unchecked.matrices(), exact(et)).max() > interp.INTERP_TOL_RAD


def test_a_gentle_rotation_needs_no_exact_evaluation_beyond_its_nodes():
    """The STEREO simulator's wobble (0.02 deg): every inner cell's estimate is under
    SCREEN x INTERP_TOL_RAD, so SPICE is asked for the nodes and two midpoints only."""
    et = np.arange(0.0, 4000.0, 0.125)
    calls: list[int] = []

    def exact(e: np.ndarray) -> np.ndarray:
        calls.append(e.size)
        return _wobble(e, amplitude_deg=0.02)

    r = interp.interpolation(et, exact, H, check=True)
    assert calls[0] == r.grid.nodes().size  # the nodes
    assert sum(calls[1:]) <= 2  # at most the two edge cells' midpoints
    assert (
        _angles(r.matrices(), _wobble(et, amplitude_deg=0.02)).max() < interp.SCREEN * interp.INTERP_TOL_RAD
    )


@pytest.mark.parametrize("chunk", [7, 4096])
def test_chunked_evaluation_and_unsorted_times_give_the_same_rotations(monkeypatch, chunk):
    rng = np.random.default_rng(3)
    et = np.sort(rng.uniform(0.0, 3000.0, 20_000))
    v = rng.normal(size=(et.size, 3))
    ref = interp.interpolation(et, _wobble, H).matrices()
    monkeypatch.setattr(interp, "CHUNK", chunk)
    order = rng.permutation(et.size)
    r = interp.interpolation(et[order], _wobble, H)
    assert np.array_equal(r.matrices(), ref[order])
    rotated = r.apply(v[order])
    assert np.allclose(rotated, np.einsum("nij,nj->ni", ref[order], v[order]), rtol=0, atol=1e-13)

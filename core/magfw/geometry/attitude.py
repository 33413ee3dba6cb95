"""Attitude given as a time series of quaternions (a CSV, telemetry) rather than a SPICE CK.

Convention: SPICE's, the reference. A quaternion is ``q = (w, x, y, z)``, scalar first, unit
norm, Hamilton product (i² = j² = k² = ijk = -1); ``q = (cos θ/2, sin θ/2 n)`` is the active
rotation by θ about the unit axis n (right-handed), whose matrix is SPICE's ``q2m(q)``. A
:class:`QuaternionSeries` from frame ``ref`` to frame ``body`` holds at each time the ``q``
whose matrix ``C = q2m(q)`` takes vector components in ``ref`` to components in ``body``:
``v_body = C v_ref``, SPICE's C-matrix (``pxform(ref, body)``, what a CK stores). A file in
another convention is converted by :func:`to_spice` once it says which: its scalar first or
last, and what the matrix of its quaternion (the Hamilton formula, after moving the scalar
first) does to components, ``ref_to_body`` or ``body_to_ref``. (A JPL/Shuster quaternion
documented as "ref to body" in its own formula is ``body_to_ref`` here: that formula gives the
transpose.) Check a convention once against something known (a Sun-pointing axis, a CK).

Interpolation: between two samples the attitude turns at a constant rate about a fixed axis
(slerp of sign-aligned quaternions, as SPICE interpolates a type-3 CK), vectorised. It is exact
for such motion; otherwise its error is ``Δt² |dω/dt| / 8`` to leading order in the sample
interval Δt (ω the angular velocity), which :meth:`QuaternionSeries.error_bound_rad` estimates
from the samples (with a factor for the next order). Nearest-sample or component-wise
interpolation is worse: the nearest sample is off by up to ``|ω| Δt / 2``, and q and -q (the
same attitude) must never be averaged. Outside the samples, or across a gap longer than
``max_gap_s``, the result is NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from magfw.errors import InputError

FloatArray = NDArray[np.float64]
Scalar = Literal["first", "last"]
Maps = Literal["ref_to_body", "body_to_ref"]

#: How far from 1 a given quaternion's norm may be before it is refused (not just rounded).
NORM_TOLERANCE = 1e-3
#: The error bound's next-order factor is 1 + (|ω| Δt)² / NEXT_ORDER (coning: ~42; margin 2x).
NEXT_ORDER = 20.0


def conjugate(q: ArrayLike) -> FloatArray:
    """The conjugate (inverse of a unit quaternion): the opposite rotation, ``q2m`` transposed."""
    c = np.array(q, dtype=np.float64)
    c[..., 1:] *= -1.0
    return c


def multiply(a: ArrayLike, b: ArrayLike) -> FloatArray:
    """Hamilton products ``a b`` of (N, 4) quaternions: ``q2m(a b) = q2m(a) q2m(b)``."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def rotate(q: ArrayLike, v: ArrayLike) -> FloatArray:
    """``q2m(q) v`` for (N, 4) unit quaternions and (N, 3) vectors, without matrices."""
    q, v = np.asarray(q, dtype=np.float64), np.asarray(v, dtype=np.float64)
    w, u = q[..., :1], q[..., 1:]
    t = 2.0 * np.cross(u, v)
    return np.asarray(v + w * t + np.cross(u, t), dtype=np.float64)


def angle_rad(a: ArrayLike, b: ArrayLike) -> FloatArray:
    """The angle (rad) of the rotation from attitude ``a`` to attitude ``b``, sign-blind
    (q and -q are one attitude); accurate for small angles."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    d = np.linalg.norm(a - b, axis=-1)
    s = np.linalg.norm(a + b, axis=-1)
    return np.asarray(4.0 * np.arctan2(np.minimum(d, s), np.maximum(d, s)), dtype=np.float64)


def to_spice(quaternions: ArrayLike, *, scalar: Scalar, maps: Maps) -> FloatArray:
    """SPICE-convention (w, x, y, z) quaternions, ``q2m(q)`` taking ``ref`` components to
    ``body`` components, from (N, 4) quaternions in a file's convention (module notes);
    normalised (a norm off 1 by more than :data:`NORM_TOLERANCE` is a ValueError)."""
    q = np.array(quaternions, dtype=np.float64, ndmin=2)
    if q.ndim != 2 or q.shape[1] != 4:
        raise ValueError(f"quaternions must be (N, 4), not {list(q.shape)}")
    if scalar == "last":
        q = q[:, [3, 0, 1, 2]]
    norm = np.linalg.norm(q, axis=1)
    bad = ~np.isfinite(norm) | (np.abs(norm - 1.0) > NORM_TOLERANCE)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{int(bad.sum())} quaternions are not of unit norm (first: row {i}, |q| = {norm[i]:.6g})"
        )
    q = q / norm[:, None]
    return conjugate(q) if maps == "body_to_ref" else q


def slerp(q0: ArrayLike, q1: ArrayLike, f: ArrayLike) -> FloatArray:
    """The attitudes a fraction ``f`` (0..1) of the way from ``q0`` to ``q1`` turning at a
    constant rate about a fixed axis (the shorter way: the signs are aligned first)."""
    q0, q1 = np.asarray(q0, dtype=np.float64), np.asarray(q1, dtype=np.float64)
    f = np.asarray(f, dtype=np.float64)[..., None]
    q1 = np.where(np.sum(q0 * q1, axis=-1, keepdims=True) < 0, -q1, q1)
    half = 2.0 * np.arctan2(np.linalg.norm(q0 - q1, axis=-1), np.linalg.norm(q0 + q1, axis=-1))[..., None]
    s = np.sin(half)
    small = s < 1e-12
    safe = np.where(small, 1.0, s)
    w0 = np.where(small, 1.0 - f, np.sin((1.0 - f) * half) / safe)
    w1 = np.where(small, f, np.sin(f * half) / safe)
    out = w0 * q0 + w1 * q1
    return np.asarray(out / np.linalg.norm(out, axis=-1, keepdims=True), dtype=np.float64)


@dataclass(frozen=True, kw_only=True)
class QuaternionSeries:
    """An attitude time series from frame ``ref`` to frame ``body``, in SPICE's convention:
    at ``time[i]`` (int64 TT2000 ns, increasing) ``q[i] = (w, x, y, z)``, scalar first,
    Hamilton product, and ``q2m(q[i])`` takes ``ref`` components to ``body`` components
    (``v_body = C v_ref``: SPICE's C-matrix, ``pxform(ref, body)``). Build it with
    :meth:`from_array`, which converts a file's convention (scalar first or last, and what its
    quaternion's matrix does: ``ref_to_body`` or ``body_to_ref``). Between samples it
    interpolates by slerp (constant rate about a fixed axis, as a SPICE type-3 CK); the error
    is ``Δt² |dω/dt| / 8`` to leading order (:meth:`error_bound_rad`). ``source`` names where
    it came from in error lines; ``max_gap_ns``: no interpolation across a longer gap (NaN).
    """

    time: NDArray[np.int64]  #: (N,) TT2000 (ns), strictly increasing
    q: FloatArray  #: (N, 4) unit quaternions (w, x, y, z), signs made continuous
    ref: str = "J2000"  #: the frame whose components ``C = q2m(q)`` takes
    body: str = "BODY"  #: the frame ``C`` gives components in
    max_gap_ns: int | None = None  #: no interpolation across a longer gap (NaN inside it)
    source: str | None = None  #: where the samples came from, for error lines

    @classmethod
    def from_array(
        cls,
        tt2000: ArrayLike,
        quaternions: ArrayLike,
        *,
        scalar: Scalar,
        maps: Maps,
        ref: str = "J2000",
        body: str = "BODY",
        max_gap_s: float | None = None,
        source: str | None = None,
    ) -> QuaternionSeries:
        """The series of samples given in a file's convention (``scalar``, ``maps``: see
        :func:`to_spice`). Times must increase strictly and quaternions be of unit norm: else an
        :class:`~magfw.errors.InputError` naming ``source``."""
        t = np.asarray(tt2000, dtype=np.int64).reshape(-1)
        try:
            q = to_spice(quaternions, scalar=scalar, maps=maps)
        except ValueError as exc:
            raise InputError(source, f"attitude: {exc}") from None
        if q.shape[0] != t.size or t.size < 2:
            raise InputError(source, f"attitude: {t.size} times for {q.shape[0]} quaternions (at least 2)")
        if np.any(np.diff(t) <= 0):
            i = int(np.flatnonzero(np.diff(t) <= 0)[0])
            raise InputError(source, f"attitude: times do not increase at sample {i + 1}")
        flips = np.sum(q[1:] * q[:-1], axis=1) < 0  # q and -q are one attitude: keep one sign
        sign = np.cumprod(np.where(np.concatenate([[False], flips]), -1.0, 1.0))
        gap = None if max_gap_s is None else int(round(max_gap_s * 1e9))
        return cls(time=t, q=q * sign[:, None], ref=ref, body=body, max_gap_ns=gap, source=source)

    def at(self, tt2000: ArrayLike) -> FloatArray:
        """(N, 4) quaternions at ``tt2000`` (int64 ns), slerp between the samples around each;
        NaN outside the samples and inside a gap longer than ``max_gap_ns``."""
        t = np.asarray(tt2000, dtype=np.int64).reshape(-1)
        i = np.clip(np.searchsorted(self.time, t, side="right") - 1, 0, self.time.size - 2)
        t0, t1 = self.time[i], self.time[i + 1]
        f = (t - t0).astype(np.float64) / (t1 - t0).astype(np.float64)
        out = slerp(self.q[i], self.q[i + 1], np.clip(f, 0.0, 1.0))
        bad = (t < self.time[0]) | (t > self.time[-1])
        if self.max_gap_ns is not None:  # inside a gap (its two samples themselves are known)
            bad |= ((t1 - t0) > self.max_gap_ns) & (t > t0) & (t < t1)
        out[bad] = np.nan
        return out

    def matrices(self, tt2000: ArrayLike) -> FloatArray:
        """(N, 3, 3) matrices ``ref`` -> ``body`` at ``tt2000`` (SPICE's ``pxform(ref, body)``)."""
        from magfw.geometry.frames import q2m

        return np.asarray(q2m(self.at(tt2000)), dtype=np.float64)

    def to_ref(self, vectors: ArrayLike, tt2000: ArrayLike) -> FloatArray:
        """(N, 3) vectors given in ``body`` at ``tt2000`` in ``ref`` components (NaN where the
        attitude is unknown): ``C^T v``."""
        return rotate(conjugate(self.at(tt2000)), vectors)

    def to_body(self, vectors: ArrayLike, tt2000: ArrayLike) -> FloatArray:
        """(N, 3) vectors given in ``ref`` at ``tt2000`` in ``body`` components: ``C v``."""
        return rotate(self.at(tt2000), vectors)

    def covered(self, tt2000: ArrayLike) -> NDArray[np.bool_]:
        """Where ``tt2000`` has an attitude (inside the samples, not in a long gap)."""
        return np.asarray(~np.isnan(self.at(tt2000)[:, 0]))

    def angular_velocity(self) -> FloatArray:
        """(N-1, 3) mean angular velocity (rad/s) of each sample interval, as a rotation
        vector per second (in the frame the relative rotation ``conj(q[i]) q[i+1]`` is in)."""
        r = multiply(conjugate(self.q[:-1]), self.q[1:])
        r = np.where(r[:, :1] < 0, -r, r)
        sin_half = np.linalg.norm(r[:, 1:], axis=1)
        angle = 2.0 * np.arctan2(sin_half, r[:, 0])
        axis = r[:, 1:] / np.where(sin_half == 0, 1.0, sin_half)[:, None]
        dt = np.diff(self.time).astype(np.float64) / 1e9
        return np.asarray(axis * (angle / dt)[:, None], dtype=np.float64)

    def error_bound_rad(self) -> float:
        """An estimate of the largest interpolation error (rad) of this series: for each
        interval ``Δt² |dω/dt| / 8 (1 + (|ω| Δt)² / 20)``, the angular acceleration from the
        change of the mean angular velocity between neighbouring intervals (gaps left out),
        the factor the next order (a coning spin: ``1 + (|ω| Δt)² / 42``, with a margin). It
        can only see what the samples show: motion faster than the sampling is not in it."""
        if self.time.size < 3:
            return 0.0
        dt = np.diff(self.time).astype(np.float64) / 1e9
        omega = self.angular_velocity()
        node = np.linalg.norm(np.diff(omega, axis=0), axis=1) / (0.5 * (dt[:-1] + dt[1:]))
        if self.max_gap_ns is not None:
            gap = np.diff(self.time) > self.max_gap_ns
            node[gap[:-1] | gap[1:]] = 0.0
        accel = np.maximum(np.concatenate([[0.0], node]), np.concatenate([node, [0.0]]))
        turn = np.linalg.norm(omega, axis=1) * dt  # rad per interval: the next order's size
        bound = dt**2 * accel / 8.0 * (1.0 + turn**2 / NEXT_ORDER)
        if self.max_gap_ns is not None:
            bound[np.diff(self.time) > self.max_gap_ns] = 0.0  # no attitude there at all
        return float(np.max(bound))


__all__ = [
    "NORM_TOLERANCE",
    "QuaternionSeries",
    "angle_rad",
    "conjugate",
    "multiply",
    "rotate",
    "slerp",
    "to_spice",
]

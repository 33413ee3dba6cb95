"""Quaternions and rotation matrices, vectorised (SPICE convention: q = (w, x, y, z), and
``q2m(q)`` is the rotation matrix SPICE's ``q2m`` gives).

Besides the (N, 4) <-> (N, 3, 3) conversions, the interpolation of :mod:`magfw.geometry.frames`
works on *element-major* rows: quaternions as (4, N) and matrices as (9, N), each component
contiguous, so every operation is one pass over contiguous memory.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def q2m(q: ArrayLike) -> FloatArray:
    """Rotation matrices (N,3,3) of unit quaternions (N,4) in SPICE's (w, x, y, z) convention
    (same result as ``spiceypy.q2m``)."""
    q = np.asarray(q, dtype=np.float64)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    xx, yy, zz = x * x, y * y, z * z
    xy, xz, yz, wx, wy, wz = x * y, x * z, y * z, w * x, w * y, w * z
    m = np.empty(q.shape[:-1] + (3, 3))
    m[..., 0, 0] = 1 - 2 * (yy + zz)
    m[..., 0, 1] = 2 * (xy - wz)
    m[..., 0, 2] = 2 * (xz + wy)
    m[..., 1, 0] = 2 * (xy + wz)
    m[..., 1, 1] = 1 - 2 * (xx + zz)
    m[..., 1, 2] = 2 * (yz - wx)
    m[..., 2, 0] = 2 * (xz - wy)
    m[..., 2, 1] = 2 * (yz + wx)
    m[..., 2, 2] = 1 - 2 * (xx + yy)
    return m


def m2q(m: ArrayLike) -> FloatArray:
    """Unit quaternions (N,4), SPICE (w, x, y, z) convention, of rotation matrices (N,3,3);
    ``q2m(m2q(m)) == m``. Shepperd's method (largest component first), vectorised."""
    m = np.asarray(m, dtype=np.float64).reshape(-1, 3, 3)
    m00, m11, m22 = m[:, 0, 0], m[:, 1, 1], m[:, 2, 2]
    k = np.argmax(np.stack([m00 + m11 + m22, m00, m11, m22]), axis=0)
    q = np.empty((m.shape[0], 4))
    d21, d02, d10 = m[:, 2, 1] - m[:, 1, 2], m[:, 0, 2] - m[:, 2, 0], m[:, 1, 0] - m[:, 0, 1]
    s01, s02, s12 = m[:, 0, 1] + m[:, 1, 0], m[:, 0, 2] + m[:, 2, 0], m[:, 1, 2] + m[:, 2, 1]
    diag = {0: (1, 1, 1), 1: (1, -1, -1), 2: (-1, 1, -1), 3: (-1, -1, 1)}
    others = {0: (d21, d02, d10), 1: (d21, s01, s02), 2: (d02, s01, s12), 3: (d10, s02, s12)}
    slots = {0: (1, 2, 3), 1: (0, 2, 3), 2: (0, 1, 3), 3: (0, 1, 2)}
    for b in range(4):
        sel = k == b
        if not sel.any():
            continue
        a, bb, c = diag[b]
        big = 0.5 * np.sqrt(np.maximum(1 + a * m00[sel] + bb * m11[sel] + c * m22[sel], 0.0))
        q[sel, b] = big
        for slot, num in zip(slots[b], others[b], strict=True):
            q[sel, slot] = num[sel] / (4 * big)
    return q


def rodrigues(rv: ArrayLike) -> FloatArray:
    """Rotation matrices (N,3,3) of rotation vectors (N,3): an active rotation by |rv| radians
    about rv (Rodrigues' formula), vectorised; used by simulators for attitudes and rotations."""
    rv = np.asarray(rv, dtype=np.float64)
    th = np.linalg.norm(rv, axis=1)[:, None, None]
    k = np.zeros((rv.shape[0], 3, 3))
    k[:, 0, 1], k[:, 0, 2], k[:, 1, 2] = -rv[:, 2], rv[:, 1], -rv[:, 0]
    k = k - k.transpose(0, 2, 1)
    safe = np.where(th == 0, 1.0, th)
    return np.asarray(
        np.eye(3) + np.sin(th) / safe * k + (1 - np.cos(th)) / safe**2 * (k @ k), dtype=np.float64
    )


def matvec(m: FloatArray, v: FloatArray) -> FloatArray:
    """Apply (N,3,3) matrices to (N,3) vectors."""
    return np.asarray(np.einsum("nij,nj->ni", m, v), dtype=np.float64)


def q2m_rows(q: FloatArray, out: FloatArray | None = None) -> FloatArray:
    """Matrix elements (9, N), row-major element order, of unnormalised quaternions given as
    rows (4, N): the rotation of the unit quaternion q / |q|, without normalising q first."""
    w, x, y, z = q
    s = 2.0 / (w * w + x * x + y * y + z * z)
    xs, ys, zs = x * s, y * s, z * s
    wx, wy, wz = w * xs, w * ys, w * zs
    xx, xy, xz = x * xs, x * ys, x * zs
    yy, yz, zz = y * ys, y * zs, z * zs
    rows = np.empty((9, w.size)) if out is None else out
    np.add(yy, zz, out=rows[0])
    np.subtract(1, rows[0], out=rows[0])
    np.subtract(xy, wz, out=rows[1])
    np.add(xz, wy, out=rows[2])
    np.add(xy, wz, out=rows[3])
    np.add(xx, zz, out=rows[4])
    np.subtract(1, rows[4], out=rows[4])
    np.subtract(yz, wx, out=rows[5])
    np.subtract(xz, wy, out=rows[6])
    np.add(yz, wx, out=rows[7])
    np.add(xx, yy, out=rows[8])
    np.subtract(1, rows[8], out=rows[8])
    return rows


def apply_rows(rows: FloatArray, v: FloatArray, out: FloatArray) -> FloatArray:
    """``out[n] = M[n] @ v[n]`` for matrices given as element rows (9, N) and vectors as
    component rows (3, N); ``out`` (3, N). Summed in the order of ``matvec``."""
    tmp = np.empty_like(out[0])
    for i in range(3):
        np.multiply(rows[3 * i], v[0], out=out[i])
        np.multiply(rows[3 * i + 1], v[1], out=tmp)
        out[i] += tmp
        np.multiply(rows[3 * i + 2], v[2], out=tmp)
        out[i] += tmp
    return out

"""Analytic STEREO geometry of the simulator: heliocentric orbits, the RTN axes and the attitude.

Used to write the simulated SPICE kernels and to compute the true field in SC axes without
SPICE or :mod:`magfw.geometry.frames` (the truth must be independent of what the pipeline uses).

- Orbits: circular, heliocentric, in a plane inclined 0.3 deg to the ecliptic; 0.96 AU for A
  (period 344 d, ahead of the Earth), 1.09 AU for B (period 416 d, behind it).
- RTN (STAHGRTN/STBHGRTN): R from the Sun's centre to the spacecraft; N the component of the
  IAU_SUN pole (RA 286.13 deg, Dec 63.87 deg in J2000, IAU 2009, no drift) perpendicular to R;
  T = N x R.
- SC axes (the MAG team's: X toward the Sun): X = -R; A: Y = N, Z = T (so BR = -BX, BT = BZ,
  BN = BY, the "SC2" permutation seen on a real day, research note 2.3); B: Y = -N, Z = -T
  (rolled 180 deg about X: "Y and Z differ between A and B"). A slow wobble (0.02 deg, periods
  11-23 min) is added on top.
"""

from __future__ import annotations

import numpy as np

from magfw.api import frames

AU_KM = 149_597_870.7
GM_SUN = 1.32712440018e11  # km^3 s^-2
OBLIQUITY_RAD = np.radians(84381.448 / 3600.0)  # SPICE ECLIPJ2000
POLE_RA, POLE_DEC = np.radians(286.13), np.radians(63.87)
SUN_POLE_J2000 = np.array(
    [np.cos(POLE_DEC) * np.cos(POLE_RA), np.cos(POLE_DEC) * np.sin(POLE_RA), np.sin(POLE_DEC)]
)
ORBIT_AU = {"A": 0.96, "B": 1.09}
LON0_DEG = {"A": 120.0, "B": 300.0}  # ecliptic longitude at J2000 (ET 0)
INCLINATION_RAD = np.radians(0.3)
#: SC axes (rows) in RTN components, before the wobble.
SC_FROM_RTN = {
    "A": np.array([[-1.0, 0, 0], [0, 0, 1.0], [0, 1.0, 0]]),
    "B": np.array([[-1.0, 0, 0], [0, 0, -1.0], [0, -1.0, 0]]),
}
WOBBLE_RAD = np.radians(0.02)
WOBBLE_PERIODS_S = (660.0, 1020.0, 1380.0)

_ECL_TO_J2000 = np.array(
    [
        [1.0, 0, 0],
        [0, np.cos(OBLIQUITY_RAD), -np.sin(OBLIQUITY_RAD)],
        [0, np.sin(OBLIQUITY_RAD), np.cos(OBLIQUITY_RAD)],
    ]
)


def states_j2000(sc: str, et: np.ndarray) -> np.ndarray:
    """(N, 6) position (km) and velocity (km/s) of the spacecraft relative to the Sun, J2000."""
    r = ORBIT_AU[sc] * AU_KM
    n = np.sqrt(GM_SUN / r**3)
    th = np.radians(LON0_DEG[sc]) + n * np.asarray(et, dtype=np.float64)
    ci, si = np.cos(INCLINATION_RAD), np.sin(INCLINATION_RAD)
    pos = r * np.stack([np.cos(th), np.sin(th) * ci, np.sin(th) * si], axis=1)
    vel = r * n * np.stack([-np.sin(th), np.cos(th) * ci, np.cos(th) * si], axis=1)
    return np.hstack([pos @ _ECL_TO_J2000.T, vel @ _ECL_TO_J2000.T])


def rtn_axes(sc: str, et: np.ndarray) -> np.ndarray:
    """(N, 3, 3) matrices whose columns are R, T, N in J2000 (RTN -> J2000)."""
    p = states_j2000(sc, et)[:, :3]
    r = p / np.linalg.norm(p, axis=1, keepdims=True)
    n = SUN_POLE_J2000 - (r @ SUN_POLE_J2000)[:, None] * r
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    t = np.cross(n, r)
    return np.stack([r, t, n], axis=2)


def wobble(et: np.ndarray) -> np.ndarray:
    """(N, 3, 3) small attitude wobble in SC axes (a function of absolute time only)."""
    et = np.asarray(et, dtype=np.float64)
    rv = np.stack(
        [WOBBLE_RAD * np.sin(2 * np.pi * et / p + k) for k, p in enumerate(WOBBLE_PERIODS_S)], axis=1
    )
    return frames.rodrigues(rv)


def sc_from_rtn(sc: str, et: np.ndarray) -> np.ndarray:
    """(N, 3, 3) matrices rotating RTN vectors into the SC frame: wobble @ permutation."""
    out: np.ndarray = wobble(et) @ SC_FROM_RTN[sc]
    return out


def c_matrices(sc: str, et: np.ndarray) -> np.ndarray:
    """(N, 3, 3) CK C-matrices (J2000 -> SC) of the simulated attitude."""
    out: np.ndarray = sc_from_rtn(sc, et) @ rtn_axes(sc, et).transpose(0, 2, 1)
    return out

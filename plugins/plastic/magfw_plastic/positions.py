"""Spacecraft positions of the merged product, in AU, from the PLASTIC position columns.

UNH gives, per row, the heliocentric distance (km), longitude/latitude in HEE, HEEQ and HCI,
and the Carrington longitude. We turn them into Cartesian vectors:

- ``HEE``, ``HEEQ``: r (cos lat cos lon, cos lat sin lon, sin lat) from their own angles;
- ``CARR``: Carrington longitude with the HEEQ latitude (both frames have Z on the solar
  rotation axis, so the latitude is the same);
- ``HAE``: HAE of J2000 (ecliptic and equinox of J2000), from HCI by the fixed rotation
  HCI = <i, X> <Omega, Z> HAE_J2000 (Franz & Harper 2002, with the J2000 values i = 7.25 deg,
  Omega = 75.76 deg: X_HCI is the Sun's ascending node on the J2000 ecliptic);
- ``RTN``: the position in the spacecraft's own RTN axes, (R, 0, 0);
- ``R``: the distance in AU.
"""

from __future__ import annotations

import numpy as np

AU_KM = 149_597_870.7  #: astronomical unit, km (IAU 2012)
SOLAR_INCLINATION_DEG = 7.25  #: inclination of the solar equator to the ecliptic
SOLAR_NODE_J2000_DEG = 75.76  #: ecliptic longitude of its ascending node at J2000


def spherical_to_cartesian(r: np.ndarray, lon_deg: np.ndarray, lat_deg: np.ndarray) -> np.ndarray:
    """``[N, 3]`` vectors r (cos lat cos lon, cos lat sin lon, sin lat) (units of r)."""
    lon, lat = np.radians(lon_deg), np.radians(lat_deg)
    r = np.asarray(r, dtype=np.float64)
    return np.stack([r * np.cos(lat) * np.cos(lon), r * np.cos(lat) * np.sin(lon), r * np.sin(lat)], axis=-1)


def _rot(axis: int, angle_deg: float) -> np.ndarray:
    """Hapgood's <angle, axis>: rotation of the axes by ``angle`` about ``axis`` (0=X, 2=Z)."""
    c, s = np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))
    if axis == 2:
        return np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])
    return np.array([[1.0, 0.0, 0.0], [0.0, c, s], [0.0, -s, c]])


#: HAE(J2000) -> HCI rotation matrix.
HAE_TO_HCI = _rot(0, SOLAR_INCLINATION_DEG) @ _rot(2, SOLAR_NODE_J2000_DEG)


def hci_to_hae(v_hci: np.ndarray) -> np.ndarray:
    """HCI vectors ``[N, 3]`` -> HAE of J2000 (the transpose of :data:`HAE_TO_HCI`)."""
    out: np.ndarray = np.asarray(v_hci, dtype=np.float64) @ HAE_TO_HCI
    return out


def positions(cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Cartesian positions in AU from PLASTIC columns (keys of ``reader.COLUMNS``):
    ``R`` [N], ``HAE``, ``HEE``, ``HEEQ``, ``CARR``, ``RTN`` [N, 3]; NaN where a column is."""
    r = np.asarray(cols["dist_km"], dtype=np.float64) / AU_KM
    hci = spherical_to_cartesian(r, cols["lon_hci"], cols["lat_hci"])
    zeros = np.zeros_like(r)
    return {
        "R": r,
        "HAE": hci_to_hae(hci),
        "HEE": spherical_to_cartesian(r, cols["lon_hee"], cols["lat_hee"]),
        "HEEQ": spherical_to_cartesian(r, cols["lon_heeq"], cols["lat_heeq"]),
        "CARR": spherical_to_cartesian(r, cols["lon_carr"], cols["lat_heeq"]),
        "RTN": np.stack(
            [r, np.where(np.isnan(r), np.nan, zeros), np.where(np.isnan(r), np.nan, zeros)], axis=-1
        ),
    }

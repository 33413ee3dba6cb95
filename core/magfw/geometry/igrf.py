"""IGRF-14 centred dipole: the degree-1 Gauss coefficients and the dipole axis at any time.

GSM needs only the direction of the Earth's centred dipole, which the degree-1 coefficients
g10, g11, h11 define. magfw ships those three rows of IGRF-14 (``data/igrf14_degree1.shc``,
copied verbatim from the IAGA file ``IGRF14.shc``; the test suite checks them against the
copy in the PyPI package ``ppigrf``) so that GSM works offline with no extra dependency.

Time handling follows the IGRF convention: linear interpolation between the 5-year epochs
(1900.0 .. 2025.0) and, after 2025.0, the 2025-2030 secular variation. The coefficient file
carries that extrapolation as a 2030.0 column; beyond 2030.0 the same rate is continued (the
model is not valid there, which :func:`dipole_coefficients` reports through ``valid``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from magfw.errors import InputError

#: The shipped degree-1 table (SHC format).
IGRF14_DEGREE1 = Path(str(files("magfw.geometry") / "data" / "igrf14_degree1.shc"))

#: Seconds per Julian year, used to turn ET into a decimal year (IGRF epochs are decimal years).
_JULIAN_YEAR_S = 365.25 * 86400.0


@dataclass(frozen=True, kw_only=True)
class DipoleTable:
    """Degree-1 Gauss coefficients (nT) of a spherical-harmonic model at its epochs (years)."""

    epochs: NDArray[np.float64]
    g10: NDArray[np.float64]
    g11: NDArray[np.float64]
    h11: NDArray[np.float64]
    source: str


def read_shc_degree1(path: str | Path) -> DipoleTable:
    """Read g10, g11, h11 at every epoch from an SHC coefficient file (e.g. ``IGRF14.shc``).

    The SHC layout: comment lines start with ``#``; a header line (N_min N_max N_epochs ...);
    a line of epochs; then one line per coefficient: ``n m value_at_each_epoch`` where m < 0
    marks an h coefficient.
    """
    path = Path(path)
    try:
        lines = [ln.split() for ln in path.read_text().splitlines()]
    except OSError as exc:
        raise InputError(path, f"cannot read IGRF coefficient file: {exc.strerror}") from exc
    body = [ln for ln in lines if ln and not ln[0].startswith("#")]
    if len(body) < 3:
        raise InputError(path, "IGRF coefficient file has no epoch line or no coefficients")
    epochs = np.array([float(x) for x in body[1]])
    rows: dict[tuple[int, int], NDArray[np.float64]] = {}
    for ln in body[2:]:
        n, m = int(ln[0]), int(ln[1])
        if n == 1:
            values = np.array([float(x) for x in ln[2:]])
            if values.size != epochs.size:
                raise InputError(
                    path, f"coefficient n=1 m={m} has {values.size} values for {epochs.size} epochs"
                )
            rows[(n, m)] = values
    missing = {(1, 0), (1, 1), (1, -1)} - rows.keys()
    if missing:
        raise InputError(path, f"degree-1 coefficients missing: {sorted(missing)}")
    return DipoleTable(epochs=epochs, g10=rows[(1, 0)], g11=rows[(1, 1)], h11=rows[(1, -1)], source=path.name)


@lru_cache(maxsize=1)
def igrf14() -> DipoleTable:
    """The IGRF-14 degree-1 table shipped with magfw."""
    return read_shc_degree1(IGRF14_DEGREE1)


def et_to_decimal_year(et: ArrayLike) -> NDArray[np.float64]:
    """Decimal year for SPICE ET seconds: Julian years counted from 2000-01-01T00:00 TDB.

    IGRF interpolates in calendar decimal years (2000.0 = 2000-01-01T00:00); Julian years of
    365.25 days drift from calendar years by at most about 0.75 day, i.e. at most 0.06 nT on
    g10 and under 1e-6 deg on the dipole axis.
    """
    return 2000.0 + (np.asarray(et, dtype=np.float64) + 43200.0) / _JULIAN_YEAR_S


def dipole_coefficients(
    year: ArrayLike, table: DipoleTable | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """g10, g11, h11 (nT) at decimal years, and whether each year lies inside the model span.

    Linear between epochs; linear extrapolation with the last interval's rate outside
    (for IGRF-14 after 2025.0 that rate is the published secular variation).
    """
    t = table or igrf14()
    y = np.asarray(year, dtype=np.float64)
    i = np.clip(np.searchsorted(t.epochs, y, side="right") - 1, 0, t.epochs.size - 2)
    f = (y - t.epochs[i]) / (t.epochs[i + 1] - t.epochs[i])
    out = tuple(c[i] + f * (c[i + 1] - c[i]) for c in (t.g10, t.g11, t.h11))
    valid = (y >= t.epochs[0]) & (y <= t.epochs[-1])
    return out[0], out[1], out[2], valid


def dipole_axis_geo(et: ArrayLike, table: DipoleTable | None = None) -> NDArray[np.float64]:
    """Unit vector (N,3) of the northern geomagnetic pole (centred dipole) in geographic axes.

    The dipole moment points along -(g11, h11, g10); its northern-hemisphere end is the
    direction of the boreal geomagnetic pole (79.5 deg N, 288.4 deg E in 2000).
    """
    g10, g11, h11, _ = dipole_coefficients(et_to_decimal_year(et), table)
    axis = -np.stack([g11, h11, g10], axis=-1)
    return np.asarray(axis / np.linalg.norm(axis, axis=-1, keepdims=True), dtype=np.float64)


def dipole_pole_latlon(year: float, table: DipoleTable | None = None) -> tuple[float, float]:
    """Geographic latitude and east longitude (degrees, 0..360) of the dipole north pole."""
    g10, g11, h11, _ = dipole_coefficients(np.array([year]), table)
    x, y, z = -g11[0], -h11[0], -g10[0]
    lat = np.degrees(np.arctan2(z, np.hypot(x, y)))
    lon = np.degrees(np.arctan2(y, x)) % 360.0
    return float(lat), float(lon)

"""Merged tables <-> product variables: the daily/yearly CDFs (STA_L2_MAGPLASMA_1M layout),
the daily/monthly flat files, and the 10-min / 1-hr average flat files.

A *merged table* is a dict of arrays keyed by the merged CDF's variable names (``Epoch`` in
CDF_EPOCH ms, NaN = fill) plus ``V_RTN`` [N, 3] (km/s), ``N_MAG`` and ``N_PLA`` (samples and
cycles in the minute). Pure functions: no file I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from magfw.api import time as magtime
from magfw_plastic.averaging import average_table
from magfw_plastic.merge import POSITION_NAMES, add_derived

if TYPE_CHECKING:
    from magfw.api import ProductData, ProductDefinition

LABELS = {
    "B_RTN_LABL_1": ["BR", "BT", "BN"],
    "CART_LABL_1": ["X", "Y", "Z"],
    **{f"{p}_LABL_1": [f"{c}_{p}" for c in "XYZ"] for p in POSITION_NAMES},
}
SCALARS = (
    "FILTER_VALUE",
    "BTOTAL",
    "R",
    "Np",
    "Vp",
    "Tp",
    "Vth",
    "Vr_Over_V_RTN",
    "Vt_Over_V_RTN",
    "Vn_Over_V_RTN",
    "Vp_RTN",
    "Entropy",
    "Beta",
    "Total_Pressure",
    "Cone_Angle",
    "Clock_Angle",
    "Magnetic_Pressure",
    "Dynamic_Pressure",
)
VECTORS = ("BFIELDRTN", *POSITION_NAMES)
COSINES = ("Vr_Over_V_RTN", "Vt_Over_V_RTN", "Vn_Over_V_RTN")


def _f32(x: np.ndarray) -> np.ndarray:
    """float32 with every non-finite value NaN (the writer stores the definition's fill)."""
    return np.where(np.isfinite(x), x, np.nan).astype(np.float32)


#: Positions stay float64: in float32 an AU distance moves in 6e-8 AU (9 km) steps, a staircase
#: at 1-min cadence.
POSITIONS = ("R", *POSITION_NAMES)


def record_variables(t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The record-varying variables of a merged CDF (daily or yearly) from a merged table:
    Epoch (CDF_EPOCH ms), float32 quantities and float64 positions with NaN for fill, the
    uint16 Quality_Flag."""
    out: dict[str, np.ndarray] = {"Epoch": np.asarray(t["Epoch"], dtype=np.float64)}
    for name in (*SCALARS, *VECTORS):
        x = np.asarray(t[name], dtype=np.float64)
        if name in POSITIONS:
            out[name] = np.where(np.isfinite(x), x, np.nan)
            continue
        out[name] = _f32(np.clip(x, -1.0, 1.0) if name in COSINES else x)
    out["Quality_Flag"] = np.asarray(t["Quality_Flag"], dtype=np.uint16)
    return out


def support_variables() -> dict[str, np.ndarray]:
    """The non-record-varying variables of a merged CDF (component numbers and labels)."""
    out: dict[str, np.ndarray] = {"CART_COMPNO": np.array([1, 2, 3], dtype=np.int8)}
    out.update({k: np.array(v) for k, v in LABELS.items()})
    return out


def cdf_variables(t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Variables of a merged CDF (daily or yearly) from a merged table."""
    return {**record_variables(t), **support_variables()}


#: The variables of a merged CDF that :func:`table_from_cdf` needs.
CDF_NEEDED = ("Epoch", *SCALARS, *VECTORS, "Quality_Flag")


def table_from_cdf(data: ProductData) -> dict[str, np.ndarray]:
    """A merged table back from a merged CDF (fill -> NaN; V_RTN = Vp_RTN x cosines, as users
    rebuild it)."""
    return table_from_variables(data.variables)


def table_from_variables(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A merged table from a merged CDF's (or :func:`record_variables`') arrays: fill and NaN
    -> NaN, float64; V_RTN rebuilt from Vp_RTN and the direction cosines."""
    t: dict[str, np.ndarray] = {"Epoch": np.asarray(v["Epoch"], dtype=np.float64)}
    for name in (*SCALARS, *VECTORS):
        x = np.asarray(v[name], dtype=np.float64)
        t[name] = np.where(x <= -1e30, np.nan, x)
    t["Quality_Flag"] = np.asarray(v["Quality_Flag"], dtype=np.uint16)
    cos = np.stack([t[c] for c in COSINES], axis=1)
    t["V_RTN"] = cos * t["Vp_RTN"][:, None]
    qf = t["Quality_Flag"]
    t["N_MAG"] = np.where((qf & (1 << 6)) != 0, 0.0, np.nan)  # counts are not stored in the CDF
    t["N_PLA"] = np.where((qf & 0xF) == 15, 0.0, np.nan)
    return t


def flatfile_variables(t: dict[str, np.ndarray], with_quality: bool = True) -> dict[str, np.ndarray]:
    """Columns of the daily/monthly merged flat files (NaN -> the flat-file fill)."""
    out = {
        "TIME": np.asarray(magtime.tt2000_from_cdf_epoch(np.asarray(t["Epoch"], np.float64)), dtype=np.int64),
        "B": t["BFIELDRTN"],
        "BTOTAL": t["BTOTAL"],
        "NP": t["Np"],
        "VP": t["Vp"],
        "TP": t["Tp"],
        "VTH": t["Vth"],
        "VDIR": np.stack([np.clip(t[c], -1, 1) for c in COSINES], axis=1),
        "BETA": t["Beta"],
        "ENTROPY": t["Entropy"],
        "PMAG": t["Magnetic_Pressure"],
        "PDYN": t["Dynamic_Pressure"],
        "PTOT": t["Total_Pressure"],
        "CONE": t["Cone_Angle"],
        "CLOCK": t["Clock_Angle"],
        "R": t["R"],
        "HEEQ": t["HEEQ"],
    }
    if with_quality:
        out["QUALITY"] = np.asarray(t["Quality_Flag"], dtype=np.float32)
    return {k: (v if k == "TIME" else np.asarray(v, dtype=np.float32)) for k, v in out.items()}


#: A flat-file value at or above this is the flat files' fill (1e34).
FLATFILE_FILL_THRESHOLD = 1e33


def flatfile_variables_from_columns(
    definition: ProductDefinition, columns: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """A flat file's columns as read (one per column, fill 1e34) back into its definition's
    variables (``B`` from ``BR BT BN`` ...), fill -> NaN; a missing column is a KeyError."""
    out: dict[str, np.ndarray] = {}
    for var in definition.variables:
        if not var.record_varying:
            continue
        names = var.attrs.get("columns")
        arr = np.stack([columns[str(n)] for n in names], axis=1) if names else np.asarray(columns[var.name])
        if arr.dtype.kind == "f":
            arr = np.where(arr >= FLATFILE_FILL_THRESHOLD, np.nan, arr).astype(arr.dtype)
        out[var.name] = arr
    return out


AVERAGED = ("BFIELDRTN", "BTOTAL", "Np", "Vp", "Tp", "Vth", "V_RTN", "R", "HEEQ")


def averages(t: dict[str, np.ndarray], width_s: float) -> dict[str, np.ndarray]:
    """10-min / 1-hr averages of a merged 1-min table: UTC bins [k T, (k+1) T) stamped at the
    centre, NaN-aware means of the primary quantities per column, derived quantities
    recomputed from the averaged values (so every product obeys the formulas), N_MAG / N_PLA
    = 1-min values with a field / a density in the bin."""
    epoch, means, counts = average_table(t["Epoch"], {k: t[k] for k in AVERAGED}, width_s * 1000.0)
    out = {"Epoch": epoch, **means}
    out["N_MAG"] = counts["BFIELDRTN"].astype(np.float64)
    out["N_PLA"] = counts["Np"].astype(np.float64)
    return add_derived(out)


def average_variables(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Columns of the 10-min / 1-hr average flat files."""
    out = flatfile_variables(a, with_quality=False)
    out["N_MAG"] = np.asarray(a["N_MAG"], dtype=np.float32)
    out["N_PLA"] = np.asarray(a["N_PLA"], dtype=np.float32)
    return out

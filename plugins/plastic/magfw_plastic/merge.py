"""Time alignment of PLASTIC 1-min cycles with 1-min MAG averages, and the quality flag.

The common grid is the UTC minute ``[hh:mm:00, hh:mm+1:00)`` stamped at its centre
(``hh:mm:30``, interval-centred like MAG L1). MAG samples are interval-centred: each goes to
the minute holding its stamp (:func:`averaging.bin_mag_minutes`). A PLASTIC row is stamped at
the *start* of its 1-min cycle; the cycle covers ``[start, start + 60 s)``, so it goes to the
minute holding its middle, ``start + 30 s`` (the minute it overlaps most). Two cycles landing
in one minute (the cycle drifts against the UTC minute) are averaged and flagged; a minute
without a cycle gets fill and is flagged.

Quality_Flag bits (uint16):

====  ==============================================================================
0-3   PLASTIC Error Code of the cycle (0 none, 1 processing, 2 L1, 3 overflow, 4 outside
      3 sigma in 1 h, 5 gap, 6 thermal-speed jump, 7 suspicious thermal speed, 8 removed
      by hand; the largest if two cycles); 15 = no PLASTIC cycle in this minute
4-5   PLASTIC Caution (0-2, density background sensitivity); 3 = not given
6     no MAG sample in this minute
7     MAG minute incomplete: fewer than half the samples a full minute holds
8     two PLASTIC cycles fell in this minute (their values are averaged)
====  ==============================================================================

PLASTIC values are carried as UNH gives them whatever their error code (L2 data; the code
is in the flag for users to select on).
"""

from __future__ import annotations

import numpy as np

from magfw_plastic import derived
from magfw_plastic.averaging import MINUTE_MS, MagMinutes, bin_index, nanmean_bins

QF_NO_PLASTIC = 15
QF_CAUTION_SHIFT = 4
QF_CAUTION_UNKNOWN = 3
QF_NO_MAG = 1 << 6
QF_MAG_PARTIAL = 1 << 7
QF_TWO_CYCLES = 1 << 8

#: Half the PLASTIC cycle: a row stamped at the cycle start goes to the minute of start + 30 s.
HALF_CYCLE_MS = 30_000.0
#: A minute gets a position when PLASTIC rows with positions lie within this of it on both
#: sides (interpolated) ...
POSITION_GAP_MS = 6 * 3_600_000.0
#: ... or within this on one side at the ends of the data (extrapolated linearly).
POSITION_EDGE_MS = 3_600_000.0

PLASTIC_SCALARS = ("np", "vp", "tp", "vth")
POSITION_NAMES = ("HAE", "HEE", "HEEQ", "CARR", "RTN")


def minute_grid(start_ms: float, n: int) -> np.ndarray:
    """Centred stamps (CDF_EPOCH ms) of ``n`` minutes from ``start_ms``."""
    return start_ms + (np.arange(n, dtype=np.float64) + 0.5) * MINUTE_MS


def interpolate_positions(
    t_rows: np.ndarray, pos: dict[str, np.ndarray], t_out: np.ndarray
) -> dict[str, np.ndarray]:
    """Positions (``R`` [N], vectors [N, 3]) at rows ``t_rows`` -> at ``t_out``, linear in
    Cartesian coordinates across gaps up to :data:`POSITION_GAP_MS`, extrapolated for up to
    :data:`POSITION_EDGE_MS` beyond the first/last row, NaN elsewhere."""
    ok = np.isfinite(t_rows) & np.isfinite(pos["R"])
    t, order = t_rows[ok], np.argsort(t_rows[ok], kind="stable")
    t = t[order]
    out: dict[str, np.ndarray] = {}
    if t.size == 0:
        out["R"] = np.full(t_out.shape, np.nan)
        for name in POSITION_NAMES:
            out[name] = np.full((t_out.size, 3), np.nan)
        return out
    right = np.searchsorted(t, t_out, side="left")
    left = right - 1
    has_l, has_r = left >= 0, right < t.size
    tl = np.where(has_l, t[np.clip(left, 0, t.size - 1)], -np.inf)
    tr = np.where(has_r, t[np.clip(right, 0, t.size - 1)], np.inf)
    exact = has_r & (tr == t_out)
    inside = has_l & has_r & ((tr - tl) <= POSITION_GAP_MS)
    edge = (~has_l & (tr - t_out <= POSITION_EDGE_MS)) | (~has_r & (t_out - tl <= POSITION_EDGE_MS))
    good = exact | inside | edge
    for name in ("R", *POSITION_NAMES):
        v = np.asarray(pos[name], dtype=np.float64)[ok][order]
        cols = v.reshape(v.shape[0], -1)
        res = np.stack([np.interp(t_out, t, cols[:, j]) for j in range(cols.shape[1])], axis=1)
        if t.size > 1:  # linear extrapolation beyond the ends (positions move ~1 deg/day)
            lo, hi = t_out < t[0], t_out > t[-1]
            s0 = (cols[1] - cols[0]) / (t[1] - t[0]) if t[1] > t[0] else 0.0 * cols[0]
            s1 = (cols[-1] - cols[-2]) / (t[-1] - t[-2]) if t[-1] > t[-2] else 0.0 * cols[0]
            res[lo] = cols[0] + (t_out[lo] - t[0])[:, None] * s0
            res[hi] = cols[-1] + (t_out[hi] - t[-1])[:, None] * s1
        res[~good] = np.nan
        out[name] = res.reshape((t_out.size, *v.shape[1:]))
    return out


def plastic_minutes(rows: dict[str, np.ndarray], start_ms: float, n: int) -> dict[str, np.ndarray]:
    """PLASTIC rows (``time_ms`` = cycle start; ``np vp tp vth`` [R], ``v_rtn`` [R, 3],
    ``error``, ``caution``, positions) -> per-minute means on the grid of ``n`` minutes from
    ``start_ms``, with the cycle count ``n_cycles``, ``error`` and ``caution`` codes."""
    t_mid = np.asarray(rows["time_ms"], dtype=np.float64) + HALF_CYCLE_MS
    idx, inside = bin_index(t_mid, start_ms, MINUTE_MS, n)
    out: dict[str, np.ndarray] = {}
    for name in PLASTIC_SCALARS:
        out[name], _ = nanmean_bins(idx, rows[name], n, inside)
    out["v_rtn"], _ = nanmean_bins(idx, rows["v_rtn"], n, inside)
    out["n_cycles"] = np.bincount(idx[inside], minlength=n)[:n]
    for code, unknown in (("error", 0.0), ("caution", float(QF_CAUTION_UNKNOWN))):
        v = np.asarray(rows[code], dtype=np.float64)[inside]
        best = np.full(n, -1.0)
        np.maximum.at(best, idx[inside], np.where(np.isfinite(v), v, -1.0))
        best[best < 0] = unknown
        out[code] = best
    out.update(
        interpolate_positions(t_mid, {k: rows[k] for k in ("R", *POSITION_NAMES)}, minute_grid(start_ms, n))
    )
    return out


def quality_flag(pla: dict[str, np.ndarray], mag: MagMinutes, expected: np.ndarray) -> np.ndarray:
    """The Quality_Flag bits (module notes) from PLASTIC minute codes and MAG sample counts."""
    n_cycles = pla["n_cycles"]
    err = np.clip(pla["error"], 0, 14).astype(np.uint16)
    err[n_cycles == 0] = QF_NO_PLASTIC
    caution = np.clip(pla["caution"], 0, QF_CAUTION_UNKNOWN).astype(np.uint16)
    caution[n_cycles == 0] = QF_CAUTION_UNKNOWN
    flag = err | (caution << QF_CAUTION_SHIFT)
    flag |= np.where(mag.n == 0, QF_NO_MAG, 0).astype(np.uint16)
    partial = (mag.n > 0) & np.isfinite(expected) & (mag.n < 0.5 * expected)
    flag |= np.where(partial, QF_MAG_PARTIAL, 0).astype(np.uint16)
    flag |= np.where(n_cycles > 1, QF_TWO_CYCLES, 0).astype(np.uint16)
    out: np.ndarray = flag.astype(np.uint16)
    return out


def merge(
    pla: dict[str, np.ndarray], mag: MagMinutes, expected: np.ndarray, start_ms: float
) -> dict[str, np.ndarray]:
    """One merged 1-min table (names of the merged CDF variables; NaN = fill) from PLASTIC
    minutes and MAG minutes on the same grid, with the derived quantities."""
    n = mag.n.size
    table: dict[str, np.ndarray] = {
        "Epoch": minute_grid(start_ms, n),
        "FILTER_VALUE": mag.filter_value,
        "BFIELDRTN": mag.b,
        "BTOTAL": mag.btotal,
        "R": pla["R"],
        **{name: pla[name] for name in POSITION_NAMES},
        "Np": pla["np"],
        "Vp": pla["vp"],
        "Tp": pla["tp"],
        "Vth": pla["vth"],
        "V_RTN": pla["v_rtn"],
        "Quality_Flag": quality_flag(pla, mag, expected),
        "N_MAG": mag.n.astype(np.float64),
        "N_PLA": pla["n_cycles"].astype(np.float64),
    }
    return add_derived(table)


def add_derived(table: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Add the derived quantities (formulas in :mod:`derived`) to a table holding BFIELDRTN,
    BTOTAL, Np, Vp, Tp and V_RTN. |B| for pressures and beta is BTOTAL (mean of the high-rate
    magnitudes); cone and clock angles use the averaged vector."""
    b, bt = table["BFIELDRTN"], table["BTOTAL"]
    cos, speed = derived.direction_cosines(table["V_RTN"])
    table.update(
        {
            "Vr_Over_V_RTN": cos[:, 0],
            "Vt_Over_V_RTN": cos[:, 1],
            "Vn_Over_V_RTN": cos[:, 2],
            "Vp_RTN": speed,
            "Entropy": derived.entropy(table["Np"], table["Tp"]),
            "Beta": derived.beta(bt, table["Np"], table["Tp"]),
            "Total_Pressure": derived.total_pressure(bt, table["Np"], table["Tp"]),
            "Cone_Angle": derived.cone_angle(b),
            "Clock_Angle": derived.clock_angle(b),
            "Magnetic_Pressure": derived.magnetic_pressure(bt),
            "Dynamic_Pressure": derived.dynamic_pressure(table["Np"], table["Vp"]),
        }
    )
    return table


def concat_tables(tables: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Records of several tables end to end (same keys), in the order given."""
    if not tables:
        return {}
    return {k: np.concatenate([t[k] for t in tables], axis=0) for k in tables[0]}


def slice_table(table: dict[str, np.ndarray], sel: slice | np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[sel] for k, v in table.items()}

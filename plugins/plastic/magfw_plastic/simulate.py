"""Simulated archive for the PLASTIC + MAG merge: UNH PLASTIC ASCII files and MAG L1 RTN CDFs
made from one known solar wind, with the truth beside them.

Archive layout (the ``--source`` root; see docs/plastic.md)::

    ASCII/{1min,10min,1hr}/{A,B}/YYYY/ST{A,B}_L2_PLA_1DMax_{res}_YYYYMMDD_DDD_Vnn.txt
    <MAG L1 RTN path from the stereo definition l1_mag_rtn>   e.g. STA_L1_MAG_RTN_YYYYMMDD_V06.cdf
    truth/ST{A,B}_MAGPLASMA_TRUTH_YYYYMMDD.npz

The solar wind of a day (:class:`DayModel`, drawn from (day, spacecraft, seed) only) is a
smooth analytic function of time: speed 300-700 km/s, density and temperature anticorrelated
and correlated with speed, a Parker-spiral field whose strength follows the density, a sector
reversal on some days, Alfvenic turbulence in B and in the flow direction, and on most days a
fast-forward shock (B, Np, Tp and Vp jump together). MAG samples it at ``mag_rate_hz``
(interval-centred stamps, 0.05 nT noise, gaps: missing records and -1e31 records). PLASTIC
averages it over 1-min cycles that start at an offset drifting against the UTC minute, and
writes rows with the real 1-min header (42 columns), data gaps (missing rows), fill rows
(Error Code 5), error codes 4/6/7, caution codes, missing velocity components, and now and then
a mostly-fill day. Some days also carry an older version (V10, density halved) that the
"highest version wins" rule must skip.

Truth, per UTC minute (centre stamps, CDF_EPOCH ms): ``b_rtn`` and ``btotal`` (means of the
true field at the MAG sample times, MAG gaps excluded), ``np vp tp vth v_rtn`` (means of the
true plasma over the minute), positions ``R HAE HEE HEEQ CARR`` (AU), and the cycle table.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from magfw.api import Period, Product, ProductDefinition, shipped_definitions
from magfw.api import time as magtime
from magfw_plastic.averaging import day_start_ms
from magfw_plastic.positions import AU_KM, HAE_TO_HCI
from magfw_plastic.reader import FILL_THRESHOLD

SC_INDEX = {"A": 1, "B": 2}
PLASTIC_VERSION = 11
OLD_VERSION = 10
DAY_MS = 86_400_000.0
MIN_MS = 60_000.0
MAG_NOISE_NT = 0.05
KB, MP = 1.380649e-23, 1.67262192369e-27

HEADER_1MIN = [
    "YEAR",
    "DOY",
    "hour",
    "min",
    "sec",
    "millisec",
    "date and time",
    "1 keV/q time",
    "Np [1/cc]",
    "Bulk Speed [km/s]",
    "Tkin [deg K]",
    "v_th [km/s]",
    "N/S Inst. [deg]",
    "E/W Inst. [deg]",
    "Vr HERTN [km/s]",
    "Vt HERTN [km/s]",
    "Vn HERTN [km/s]",
    "N/S HERTN [deg]",
    "E/W HERTN [deg]",
    "Vr RTN [km/s]",
    "Vt RTN [km/s]",
    "Vn RTN [km/s]",
    "N/S RTN [deg]",
    "E/W RTN [deg]",
    "Error Code",
    "Caution",
    "Attitude Flag (roll)",
    "Attitude Flag (yaw)",
    "Attitude Flag (pitch)",
    "E/W Source Flag",
    "E/W Missed Peak Flag",
    "Reduced Chi^2",
    "E/W Rel Stat Uncertainty (%)",
    "Carr.Rot",
    "Spcrft. Long. [Carr, degrees]",
    "Heliocentric Distance [km]",
    "Spcrft. Long. [HEE, degrees]",
    "Spcrft. Lat. [HEE, degrees]",
    "Spcrft. Long. [HEEQ, degrees]",
    "Spcrft. Lat. [HEEQ, degrees]",
    "Spcrft. Long. [HCI, degrees]",
    "Spcrft. Lat. [HCI, degrees]",
]
_MOMENTS = HEADER_1MIN[8:24]
_FLAGS = HEADER_1MIN[24:31]
_POSITION = HEADER_1MIN[33:]
NUM_CYCLES = [
    "Num Cycles (Np, v_therm, temp)",
    "Num Cycles (Speed)",
    "Num Cycles (NS_inst)",
    "Num Cycles (Vel. Com., Other Angles)",
]


@dataclass(kw_only=True)
class DayModel:
    """The solar wind and instrument timing of one day (all times CDF_EPOCH ms)."""

    day: date
    sc: str
    v0: float = 420.0
    n0: float = 5.0
    b0: float = 5.0
    polarity: float = 1.0
    reversal_ms: float | None = None
    shock_ms: float | None = None
    shock_ratio: float = 2.5  # jump of Np and |B|; Tp jumps by 2 x ratio, Vp by +120 km/s
    slow: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))  # [period s, phase, amp]
    turb: np.ndarray = field(default_factory=lambda: np.zeros((0, 5)))  # [period s, 3 phases, amp]
    cycle_offset_s: float = 4.332
    cycle_len_s: float = 60.0
    seed: int | None = None  # set when drawn by day_model: the next day's wind is drawn too

    @property
    def start(self) -> float:
        return day_start_ms(self.day)


def day_model(day: date, sc: str, seed: int) -> DayModel:
    """The day's model drawn from (day, spacecraft, seed) only."""
    rng = np.random.default_rng([seed, SC_INDEX[sc], day.toordinal()])
    start = day_start_ms(day)
    periods = rng.uniform(3_600, 43_200, 4)
    slow = np.stack([periods, rng.uniform(0, 2 * np.pi, 4), rng.uniform(0.05, 0.2, 4)], axis=1)
    kt = 24
    tp = np.geomspace(120.0, 7_200.0, kt)
    amp = 0.9 * (tp / 7_200.0) ** (1 / 3) / np.sqrt(kt / 6)  # ~f^(-1/3) amplitudes
    turb = np.column_stack([tp, rng.uniform(0, 2 * np.pi, (kt, 3)), amp])
    return DayModel(
        day=day,
        sc=sc,
        v0=float(rng.uniform(330, 600)),
        n0=float(rng.uniform(3, 9)),
        b0=float(rng.uniform(3.5, 7)),
        polarity=float(rng.choice([-1.0, 1.0])),
        reversal_ms=start + float(rng.uniform(0, DAY_MS)) if rng.random() < 0.3 else None,
        shock_ms=start + float(rng.uniform(0.1, 0.9) * DAY_MS) if rng.random() < 0.7 else None,
        shock_ratio=float(rng.uniform(1.5, 3.0)),
        slow=slow,
        turb=turb,
        cycle_offset_s=float(rng.uniform(0.0, 59.9)),
        cycle_len_s=60.0 - float(rng.uniform(0, 2e-3)),
        seed=seed,
    )


def truth_at(m: DayModel, t_ms: np.ndarray) -> dict[str, np.ndarray]:
    """The true solar wind at times ``t_ms``: b_rtn [N,3] nT, np cm^-3, vp km/s, tp K,
    v_rtn [N,3] km/s (vectorised over samples and the model's few harmonics)."""
    t = (np.asarray(t_ms, dtype=np.float64) - m.start) / 1000.0  # s of day
    s = np.zeros_like(t)
    for j, (per, ph, a) in enumerate(m.slow):
        s += (1 if j % 2 == 0 else -1) * a * np.sin(2 * np.pi * t / per + ph)
    step = np.zeros_like(t) if m.shock_ms is None else (t_ms >= m.shock_ms).astype(np.float64)
    ratio = 1.0 + (m.shock_ratio - 1.0) * step
    vp = m.v0 * (1.0 + 0.8 * s) + 120.0 * step
    n = m.n0 * np.exp(-1.5 * s) * ratio
    tp = 1.0e5 * (vp / 420.0) ** 2 * np.exp(0.5 * s) * (1.0 + 2.0 * (m.shock_ratio - 1.0) * step)
    pol = np.full_like(t, m.polarity)
    if m.reversal_ms is not None:
        pol = np.where(t_ms >= m.reversal_ms, -pol, pol)
    psi = np.arctan(428.0 / vp)  # Parker angle at ~1 AU (Omega r = 428 km/s)
    bmag = m.b0 * np.sqrt(n / m.n0) * np.sqrt(ratio / np.maximum(ratio, 1.0))
    b = np.stack([pol * bmag * np.cos(psi), -pol * bmag * np.sin(psi), np.zeros_like(t)], axis=1)
    if m.turb.size:
        arg = 2 * np.pi * t[:, None] / m.turb[:, 0][None, :]
        sa, ca = np.sin(arg), np.cos(arg)  # sin(a + p) = sin a cos p + cos a sin p
        amp, ph = m.turb[:, 4], m.turb[:, 1:4]
        db = (sa @ (np.cos(ph) * amp[:, None]) + ca @ (np.sin(ph) * amp[:, None])) * bmag[:, None] * 0.35
        b = b + db
        dv = 12.0 * db  # Alfvenic: dV = dB / sqrt(mu0 rho), ~12 km/s per nT at these densities
    else:
        dv = np.zeros_like(b)
    v = np.stack([vp, np.zeros_like(vp), np.zeros_like(vp)], axis=1) + dv
    return {"b_rtn": b, "np": n, "vp": np.sqrt(np.sum(v * v, axis=1)), "tp": tp, "v_rtn": v}


# ---------------------------------------------------------------------------------------------
# Orbit
# ---------------------------------------------------------------------------------------------


def orbit_at(sc: str, t_ms: np.ndarray) -> dict[str, np.ndarray]:
    """A STEREO-like heliocentric orbit: distance (km) and longitude/latitude (deg) in HEE,
    HEEQ, HCI and Carrington, with ``Carr.Rot``, and the true Cartesian positions in AU."""
    jd = np.asarray(t_ms, dtype=np.float64) / 86_400_000.0 + 1721059.5  # CDF_EPOCH -> JD (UTC)
    d = jd - 2451545.0
    yrs = (jd - 2454101.5) / 365.25  # since 2007-01-01
    sign = 1.0 if sc == "A" else -1.0
    r_au = (0.96 if sc == "A" else 1.05) + 0.008 * np.sin(2 * np.pi * yrs / 0.95)
    lon_hee = np.mod(sign * 21.6 * yrs + 180.0, 360.0) - 180.0
    lat_hee = 0.12 * np.sin(2 * np.pi * yrs / 0.95)
    # Earth's longitude in HAE(J2000) (low-precision solar longitude + 180, minus precession)
    lam_e = np.mod(
        280.460
        + 0.9856474 * d
        + 1.915 * np.sin(np.radians(357.528 + 0.9856003 * d))
        + 180.0
        - 0.0139698 * d / 365.25,
        360.0,
    )
    lon_hae = lon_hee + lam_e
    hae = _cart(r_au, lon_hae, lat_hee)
    hci = hae @ HAE_TO_HCI.T
    earth_hci = _cart(np.ones_like(r_au), lam_e, np.zeros_like(r_au)) @ HAE_TO_HCI.T
    lon_hci, lat_hci = _lonlat(hci)
    lon_earth_hci, _ = _lonlat(earth_hci)
    lon_heeq = np.mod(lon_hci - lon_earth_hci + 180.0, 360.0) - 180.0
    w = np.mod(84.176 + 14.1844 * d, 360.0)  # Carrington prime meridian, deg from the node
    lon_carr = np.mod(lon_hci - w, 360.0)
    carr_rot = 1.0 + (jd - 2398167.4) / 27.2753  # rotation 1 began 1853-11-09
    return {
        "dist_km": r_au * AU_KM,
        "lon_hee": lon_hee,
        "lat_hee": lat_hee,
        "lon_heeq": lon_heeq,
        "lat_heeq": lat_hci,
        "lon_hci": lon_hci,
        "lat_hci": lat_hci,
        "lon_carr": lon_carr,
        "carr_rot": carr_rot,
        "R": r_au,
        "HAE": hae,
        "HEE": _cart(r_au, lon_hee, lat_hee),
        "HEEQ": _cart(r_au, lon_heeq, lat_hci),
        "CARR": _cart(r_au, lon_carr, lat_hci),
    }


def _cart(r: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lo, la = np.radians(lon), np.radians(lat)
    return np.stack([r * np.cos(la) * np.cos(lo), r * np.cos(la) * np.sin(lo), r * np.sin(la)], -1)


def _lonlat(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = np.sqrt(np.sum(v * v, axis=-1))
    return np.mod(np.degrees(np.arctan2(v[:, 1], v[:, 0])), 360.0), np.degrees(np.arcsin(v[:, 2] / r))


# ---------------------------------------------------------------------------------------------
# PLASTIC cycles and files
# ---------------------------------------------------------------------------------------------


def cycle_starts(m: DayModel) -> np.ndarray:
    """Start times of the day's 1-min cycles (CDF_EPOCH ms, truncated to whole ms)."""
    n = int(np.floor((86_400.0 - m.cycle_offset_s) / m.cycle_len_s - 1e-9)) + 1
    out: np.ndarray = np.floor(m.start + (m.cycle_offset_s + np.arange(n) * m.cycle_len_s) * 1000.0)
    return out


def cycle_means(m: DayModel, starts: np.ndarray, step_s: float = 1.0) -> dict[str, np.ndarray]:
    """The true plasma averaged over each cycle [start, start + 60 s) (midpoint rule)."""
    offs = (np.arange(0, 60.0, step_s) + step_s / 2) * 1000.0
    t = (starts[:, None] + offs[None, :]).ravel()
    tr = truth_at(m, t)
    k = starts.size
    return {
        "np": tr["np"].reshape(k, -1).mean(1),
        "tp": tr["tp"].reshape(k, -1).mean(1),
        "v_rtn": tr["v_rtn"].reshape(k, -1, 3).mean(1),
        "vp": tr["vp"].reshape(k, -1).mean(1),
    }


def plastic_rows(m: DayModel, seed: int, *, defects: bool = True) -> dict[str, np.ndarray]:
    """The day's PLASTIC 1-min rows (NaN = fill; ``keep`` False = row absent from the file)."""
    rng = np.random.default_rng([seed, SC_INDEX[m.sc], m.day.toordinal(), 7])
    starts = cycle_starts(m)
    k = starts.size
    c = cycle_means(m, starts)
    late = starts + 30_000.0 >= m.start + DAY_MS  # belongs to the next day's first minute:
    if late.any() and m.seed is not None:  # its wind is the next day's (days are independent)
        nxt = cycle_means(day_model(m.day + timedelta(days=1), m.sc, m.seed), starts[late])
        for key in c:
            c[key][late] = nxt[key]
    rows: dict[str, np.ndarray] = {"time_ms": starts, **c}
    rows["vth"] = np.sqrt(2 * KB * c["tp"] / MP) / 1e3
    rows["error"] = np.zeros(k)
    rows["caution"] = np.zeros(k)
    rows["keep"] = np.ones(k, bool)
    rows["vel_fill"] = np.zeros(k, bool)
    rows["fill_row"] = np.zeros(k, bool)
    if defects:
        u = rng.random(k)
        rows["error"][u < 0.03] = 4
        rows["error"][(u >= 0.03) & (u < 0.04)] = 6
        rows["error"][(u >= 0.04) & (u < 0.05)] = 7
        w = rng.random(k)
        rows["caution"][w < 0.10] = 1
        rows["caution"][w < 0.03] = 2
        rows["vel_fill"] = rng.random(k) < 0.02
        for _ in range(int(rng.integers(1, 4))):  # data gaps: rows absent
            a = int(rng.integers(0, k))
            rows["keep"][a : a + int(rng.integers(5, 90))] = False
        for _ in range(int(rng.integers(1, 3))):  # fill rows: present, moments -1e31, code 5
            a = int(rng.integers(0, k))
            rows["fill_row"][a : a + int(rng.integers(10, 30))] = True
        if rng.random() < 0.05:  # a mostly-fill day: a few hours of data only
            a = int(rng.integers(0, k - 240))
            keep = np.zeros(k, bool)
            keep[a : a + int(rng.integers(60, 240))] = True
            rows["fill_row"] |= ~keep
    rows["error"][rows["fill_row"]] = 5
    orb = orbit_at(m.sc, starts + 30_000.0)
    rows.update(
        {
            key: orb[key]
            for key in (
                "dist_km",
                "lon_hee",
                "lat_hee",
                "lon_heeq",
                "lat_heeq",
                "lon_hci",
                "lat_hci",
                "lon_carr",
                "carr_rot",
            )
        }
    )
    return rows


def _f(values: np.ndarray, fmt: str, fill: str = "-1.0E+31") -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    out = np.char.mod(fmt, np.nan_to_num(v))
    return np.where(np.isfinite(v) & (v > FILL_THRESHOLD), out, fill)


def _stamp(t_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(``YYYY-MM-DD/hh:mm:ss`` strings, fraction of a second) of CDF_EPOCH ms."""
    dt = magtime.tt2000_to_datetime64(magtime.tt2000_from_cdf_epoch(np.asarray(t_ms, np.float64))).astype(
        "datetime64[ms]"
    )
    sec = dt.astype("datetime64[s]")
    frac = (dt - sec).astype(np.int64) / 1000.0
    return np.char.replace(sec.astype(str), "T", "/"), frac


def format_1min(m: DayModel, rows: dict[str, np.ndarray], *, density_scale: float = 1.0) -> str:
    """The UNH 1-min ASCII text of the rows (real title, header and column formats)."""
    keep = rows["keep"]
    r = {
        k: (v[keep] if isinstance(v, np.ndarray) and v.shape[:1] == keep.shape else v)
        for k, v in rows.items()
    }
    fill = r["fill_row"]
    stamp, frac = _stamp(r["time_ms"])
    kev, _ = _stamp(r["time_ms"] + 41_000.0)
    year, hh, mi, ss = (np.strings.slice(stamp, a, b) for a, b in ((0, 4), (11, 13), (14, 16), (17, 19)))
    doy = np.full(stamp.shape, f"{m.day.timetuple().tm_yday:03d}")
    nanf = np.where(fill, np.nan, 1.0)
    v = r["v_rtn"] * np.where(fill | r["vel_fill"], np.nan, 1.0)[:, None]
    speed = np.sqrt(np.sum(v * v, axis=1))
    ns = np.degrees(np.arcsin(v[:, 2] / speed))
    ew = np.degrees(np.arctan2(v[:, 1], v[:, 0]))

    def flag(x: np.ndarray) -> np.ndarray:
        return np.where(fill, "-1", np.char.mod("%8d", x.astype(np.int64)))

    cols = [
        year,
        doy,
        hh,
        mi,
        ss,
        np.char.mod("%.3f", frac),
        stamp,
        kev,
        _f(r["np"] * density_scale * nanf, "%.2f"),
        _f(r["vp"] * nanf, "%.1f"),
        _f(r["tp"] * nanf, "%10.2E"),
        _f(r["vth"] * nanf, "%.1f"),
        _f(ns, "%.1f"),
        _f(ew, "%.1f"),
        _f(v[:, 0], "%.1f"),
        _f(v[:, 1], "%.1f"),
        _f(v[:, 2], "%.1f"),
        _f(ns, "%.1f"),
        _f(ew, "%.1f"),
        _f(v[:, 0], "%.1f"),
        _f(v[:, 1], "%.1f"),
        _f(v[:, 2], "%.1f"),
        _f(ns, "%.1f"),
        _f(ew, "%.1f"),
        np.char.mod("%8d", r["error"].astype(np.int64)),
        flag(r["caution"]),
        flag(np.zeros(stamp.size)),
        flag(np.zeros(stamp.size)),
        flag(np.zeros(stamp.size)),
        flag(np.full(stamp.size, 2.0)),
        flag(np.zeros(stamp.size)),
        _f(np.where(fill, np.nan, 3.5), "%.2f"),
        _f(np.where(fill | r["vel_fill"], np.nan, 15.0), "%.2f"),
        np.char.mod("%10.4f", r["carr_rot"]),
        np.char.mod("%10.4f", r["lon_carr"]),
        np.char.mod("%12.5E", r["dist_km"]),
        np.char.mod("%10.4f", r["lon_hee"]),
        np.char.mod("%10.4f", r["lat_hee"]),
        np.char.mod("%10.4f", r["lon_heeq"]),
        np.char.mod("%10.4f", r["lat_heeq"]),
        np.char.mod("%10.4f", r["lon_hci"]),
        np.char.mod("%10.4f", r["lat_hci"]),
    ]
    assert len(cols) == len(HEADER_1MIN)
    body = _join(cols)
    title = f"1D Maxwellian Proton Moments for Spacecraft {m.sc}"
    return title + "\n" + "\t".join(HEADER_1MIN) + "\n" + body


def _join(cols: list[np.ndarray]) -> str:
    if not cols[0].size:
        return ""
    line = cols[0].astype(str)
    for c in cols[1:]:
        line = np.char.add(np.char.add(line, "\t"), c.astype(str))
    return "\n".join(line.tolist()) + "\n"


def format_average(m: DayModel, rows: dict[str, np.ndarray], width_min: int) -> str:
    """UNH 10-min / 1-hr average text: averages of the valid 1-min cycles per UTC bin, stamped
    at the first cycle's start (or the bin start when none), Num Cycles columns."""
    res = "10min" if width_min == 10 else "1hr"
    keep = rows["keep"] & ~rows["fill_row"]
    nb = 1440 // width_min
    k = np.floor((rows["time_ms"] - m.start) / (width_min * MIN_MS)).astype(np.int64)
    inb = (k >= 0) & (k < nb)
    ok = keep & inb
    cnt = np.bincount(k[ok], minlength=nb)[:nb]

    def mean(x: np.ndarray) -> np.ndarray:
        s = np.bincount(k[ok], x[ok], minlength=nb)[:nb]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(cnt > 0, s / cnt, np.nan)

    first = np.full(nb, np.inf)
    np.minimum.at(first, k[ok], rows["time_ms"][ok])
    t = np.where(np.isfinite(first), first, m.start + np.arange(nb) * width_min * MIN_MS)
    t = np.floor(t / 1000.0) * 1000.0
    stamp, _ = _stamp(t)
    hh, mi = np.strings.slice(stamp, 11, 13), np.strings.slice(stamp, 14, 16)
    v = np.stack([mean(rows["v_rtn"][:, j]) for j in range(3)], axis=1)
    orb = orbit_at(m.sc, t)
    none = cnt == 0
    count = np.where(none, "-1", np.char.mod("%16.6f", cnt.astype(np.float64)))

    def code(x: np.ndarray) -> np.ndarray:
        return np.where(none, "-1", np.char.mod("%8d", x))

    cols = [np.full(nb, f"{m.day.year}"), np.full(nb, f"{m.day.timetuple().tm_yday:03d}"), hh]
    head = ["YEAR", "DOY", "hour"]
    if width_min == 10:
        cols.append(mi)
        head.append("min")
    cols.append(stamp)
    head.append("date and time")
    speed = np.sqrt(np.sum(v * v, axis=1))
    ns, ew = np.degrees(np.arcsin(v[:, 2] / speed)), np.degrees(np.arctan2(v[:, 1], v[:, 0]))
    cols += [
        _f(mean(rows["np"]), "%.2f"),
        _f(mean(rows["vp"]), "%.1f"),
        _f(mean(rows["tp"]), "%10.2E"),
        _f(mean(rows["vth"]), "%.1f"),
        _f(ns, "%.1f"),
        _f(ew, "%.1f"),
        *[_f(v[:, j], "%.1f") for j in range(3)],
        _f(ns, "%.1f"),
        _f(ew, "%.1f"),
        *[_f(v[:, j], "%.1f") for j in range(3)],
        _f(ns, "%.1f"),
        _f(ew, "%.1f"),
        count,
        count,
        count,
        count,
        np.where(none, np.char.mod("%8d", np.full(nb, 5)), np.char.mod("%8d", np.zeros(nb, int))),
        code(np.zeros(nb, int)),
        code(np.zeros(nb, int)),
        code(np.zeros(nb, int)),
        code(np.zeros(nb, int)),
        code(np.full(nb, 3)),
        code(np.zeros(nb, int)),
        _f(np.where(none, np.nan, 3.5), "%.2f"),
        _f(np.where(none, np.nan, 15.0), "%.2f"),
        np.char.mod("%10.4f", orb["carr_rot"]),
        np.char.mod("%10.4f", orb["lon_carr"]),
        np.char.mod("%12.5E", orb["dist_km"]),
        *[
            np.char.mod("%10.4f", orb[x])
            for x in ("lon_hee", "lat_hee", "lon_heeq", "lat_heeq", "lon_hci", "lat_hci")
        ],
    ]
    head += _MOMENTS + NUM_CYCLES + _FLAGS + ["Reduced Chi^2", "E/W Rel Stat Uncertainty (%)"]
    head += ["Carr.Rot", "Spcrft. Long. [Carr, degrees]", "Heliospheric Distance [km]"] + _POSITION[3:]
    assert len(cols) == len(head)
    what = "10 minute averages" if res == "10min" else "1 hour averages"
    return (
        f"1D Maxwellian Proton Moments for Spacecraft {m.sc} {what}\n" + "\t".join(head) + "\n" + _join(cols)
    )


def plastic_name(sc: str, res: str, day: date, version: int) -> str:
    """Archive path of a daily PLASTIC ASCII file (the layout in the module notes)."""
    return (
        f"ASCII/{res}/{sc}/{day:%Y}/ST{sc}_L2_PLA_1DMax_{res}_{day:%Y%m%d}_"
        f"{day.timetuple().tm_yday:03d}_V{version:02d}.txt"
    )


# ---------------------------------------------------------------------------------------------
# MAG L1 RTN
# ---------------------------------------------------------------------------------------------


@functools.cache
def mag_definition() -> ProductDefinition:
    """The STEREO MAG L1 RTN product definition (the shipped stereo YAML; never the plugin)."""
    return next(d for d in shipped_definitions("stereo") if d.id == "l1_mag_rtn")


def mag_samples(
    m: DayModel, seed: int, rate_hz: float, *, defects: bool = True, noise_nt: float = MAG_NOISE_NT
) -> dict[str, np.ndarray]:
    """The day's MAG L1 RTN records: interval-centred stamps, BFIELD [N,4] with NaN for the
    -1e31 records, and the true field at the same stamps (for the truth)."""
    rng = np.random.default_rng([seed, SC_INDEX[m.sc], m.day.toordinal(), 11])
    dt_ms = 1000.0 / rate_hz
    n = int(round(DAY_MS / dt_ms))
    t = m.start + (np.arange(n) + 0.5) * dt_ms
    keep = np.ones(n, bool)
    bad = np.zeros(n, bool)
    if defects:
        a = int(rng.integers(0, n))
        keep[a : a + int(rng.integers(2, 20) * 60 * rate_hz)] = False  # records missing
        a = int(rng.integers(0, n))
        bad[a : a + int(rng.integers(2, 20) * 60 * rate_hz)] = True  # records present, -1e31
    true_b = truth_at(m, t)["b_rtn"]
    meas = true_b + rng.normal(0.0, noise_nt, true_b.shape) if noise_nt else true_b.copy()
    bf = np.column_stack([meas, np.sqrt(np.sum(meas * meas, axis=1))])
    bf[bad] = np.nan
    return {"epoch_ms": t[keep], "bfield": bf[keep], "true_b": true_b[keep], "bad": bad[keep]}


def mag_product(sc: str, day: date, samples: dict[str, np.ndarray], definition: ProductDefinition) -> Product:
    """The MAG L1 RTN product of the samples, per the stereo definition."""
    bf = np.where(np.isnan(samples["bfield"]), -1e31, samples["bfield"]).astype(np.float32)
    n = bf.shape[0]
    return Product(
        definition=definition,
        fields={
            "sc": sc,
            "yyyy": day.year,
            "mm": day.month,
            "dd": day.day,
            definition.version.field: definition.version.start,
        },
        variables={
            "Epoch": samples["epoch_ms"],
            "BFIELD": bf,
            "MAGFLAGUC": np.full(n, 1 << 17, np.uint32),
            "FILTER_VALUE": np.full(n, 500.0, np.float32),
            "CART_LABL_1": np.array(["BR", "BT", "BN", "BTotal"]),
        },
        attrs={
            "Source_name": "Ahead>STEREO Ahead" if sc == "A" else "Behind>STEREO Behind",
            "Logical_source": f"ST{sc}_L1_MAG_RTN",
        },
    )


def write_mag(
    root: Path,
    sc: str,
    day: date,
    samples: dict[str, np.ndarray],
    definition: ProductDefinition | None = None,
) -> Path:
    """Write a MAG L1 RTN CDF under ``root`` at the definition's relative path."""
    from magfw.api import write_product

    d = definition or mag_definition()
    product = mag_product(sc, day, samples, d)
    rel = d.filename.format(**product.fields)
    names = d.provenance
    extra = {
        k: v
        for k, v in {
            names.inputs: ["simulated"],
            names.software: "magfw plastic simulator",
            names.created: f"{day:%Y-%m-%d}T00:00:00Z",
            names.calibration: ["none"],
            names.kernels: ["none"],
            names.simulated: "SIMULATED by magfw: not real data",
        }.items()
        if k
    }
    write_product(product, root / rel, extra)
    return root / rel


# ---------------------------------------------------------------------------------------------
# Truth and the archive
# ---------------------------------------------------------------------------------------------


def truth_minutes(m: DayModel, mag: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-minute truth of the day (module notes)."""
    centres = m.start + (np.arange(1440) + 0.5) * MIN_MS
    idx = np.floor((mag["epoch_ms"] - m.start) / MIN_MS).astype(np.int64)
    ok = ~mag["bad"] & (idx >= 0) & (idx < 1440)
    cnt = np.bincount(idx[ok], minlength=1440)[:1440]

    def mean(x: np.ndarray) -> np.ndarray:
        s = np.bincount(idx[ok], x[ok], minlength=1440)[:1440]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(cnt > 0, s / cnt, np.nan)

    tb = mag["true_b"]
    b = np.stack([mean(tb[:, j]) for j in range(3)], axis=1)
    btot = mean(np.sqrt(np.sum(tb * tb, axis=1)))
    sec = (np.arange(1440 * 60) + 0.5) * 1000.0 + m.start
    tr = truth_at(m, sec)
    plasma = {k: tr[k].reshape(1440, 60, *tr[k].shape[1:]).mean(axis=1) for k in ("np", "vp", "tp", "v_rtn")}
    orb = orbit_at(m.sc, centres)
    return {
        "epoch_ms": centres,
        "b_rtn": b,
        "btotal": btot,
        "n_mag": cnt,
        **plasma,
        "vth": np.sqrt(2 * KB * plasma["tp"] / MP) / 1e3,
        **{k: orb[k] for k in ("R", "HAE", "HEE", "HEEQ", "CARR")},
        "shock_ms": np.float64(np.nan if m.shock_ms is None else m.shock_ms),
    }


def write_day(
    root: Path,
    m: DayModel,
    seed: int,
    *,
    mag_rate_hz: float = 1.0,
    defects: bool = True,
    with_mag: bool = True,
    with_plastic: bool = True,
    old_version: bool = False,
) -> None:
    """Write one day of the simulated archive (PLASTIC 1min/10min/1hr, MAG, truth)."""
    from magfw.api import atomic_path, write_bytes_atomic

    rows = plastic_rows(m, seed, defects=defects)
    if with_plastic:
        write_bytes_atomic(
            root / plastic_name(m.sc, "1min", m.day, PLASTIC_VERSION), format_1min(m, rows).encode("ascii")
        )
        for width, res in ((10, "10min"), (60, "1hr")):
            write_bytes_atomic(
                root / plastic_name(m.sc, res, m.day, PLASTIC_VERSION),
                format_average(m, rows, width).encode("ascii"),
            )
        if old_version:
            write_bytes_atomic(
                root / plastic_name(m.sc, "1min", m.day, OLD_VERSION),
                format_1min(m, rows, density_scale=0.5).encode("ascii"),
            )
    mag = mag_samples(m, seed, mag_rate_hz, defects=defects)
    if with_mag:
        write_mag(root, m.sc, m.day, mag)
    truth = truth_minutes(m, mag)
    truth.update(
        {
            "cycle_start_ms": rows["time_ms"],
            "cycle_keep": rows["keep"],
            "cycle_fill": rows["fill_row"],
            "cycle_error": rows["error"],
            "cycle_np": rows["np"],
            "cycle_vp": rows["vp"],
            "cycle_tp": rows["tp"],
        }
    )
    buf = io.BytesIO()
    np.savez(buf, **truth)  # type: ignore[arg-type]  # numpy's stub: a key could be allow_pickle
    with atomic_path(root / "truth" / f"ST{m.sc}_MAGPLASMA_TRUTH_{m.day:%Y%m%d}.npz") as tmp:
        tmp.write_bytes(buf.getvalue())


def simulate_archive(
    period: Period, out_dir: Path, spacecraft: str | None, seed: int, mag_rate_hz: float = 1.0
) -> Path:
    """The ``simulate`` hook's work: every day of ``period`` for the spacecraft (both if None),
    and the PLASTIC 1-min files of the day before and after (their edge cycles belong to the
    period's first and last minutes; identical to what simulating those days writes).
    Days whose ordinal is a multiple of 5 also get an older PLASTIC version (V10)."""
    from magfw.api import write_bytes_atomic

    out_dir = Path(out_dir)
    for sc in [spacecraft] if spacecraft else ["A", "B"]:
        for day in period.days():
            write_day(
                out_dir,
                day_model(day, sc, seed),
                seed,
                mag_rate_hz=mag_rate_hz,
                old_version=day.toordinal() % 5 == 0,
            )
        for day in (period.start - timedelta(days=1), period.end + timedelta(days=1)):
            m = day_model(day, sc, seed)
            write_bytes_atomic(
                out_dir / plastic_name(sc, "1min", day, PLASTIC_VERSION),
                format_1min(m, plastic_rows(m, seed)).encode("ascii"),
            )
    return out_dir


def quiet_model(
    day: date,
    sc: str = "A",
    *,
    shock_ms: float | None = None,
    shock_ratio: float = 2.5,
    cycle_offset_s: float = 4.332,
    cycle_len_s: float = 60.0,
) -> DayModel:
    """A day with no variation but an optional step (tests of the alignment)."""
    return DayModel(
        day=day,
        sc=sc,
        shock_ms=shock_ms,
        shock_ratio=shock_ratio,
        cycle_offset_s=cycle_offset_s,
        cycle_len_s=cycle_len_s,
    )

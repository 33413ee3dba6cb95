"""Simulated Aditya-L1 MAG archive: L0 tars, calibration database, SPICE kernels and truth.

Everything is a deterministic function of absolute time and the seed, so overlapping periods
give identical files: the IMF, the spacecraft field, the temperatures, the clock and the
attitude are functions of time; the per-day defects (disturbances, gaps, missing HK,
saturations) are drawn from ``(seed, day)``; per-file noise and spikes from ``(seed, file)``.

Model (all fields in nT):

- IMF (GSE): piecewise-constant vectors near the Parker spiral (|B| ~ 6 nT, sectors of
  4.5 days) joined by tanh rotations/discontinuities of 15-120 s every ~3 h, some of them
  shocks (2 s, |B| x 2.5), plus Alfvenic turbulence (40 modes, f^-5/3 spectrum, 1.2 nT rms).
- Spacecraft: a slowly varying dipole at the spacecraft centre (a few nT at MAG2, 1/8 of it at
  MAG1, r^-3), a 1.3 Hz AC field (same geometry), and two 8-20 min disturbances a day from a
  source near MAG2 (MAG1 sees 0.35 of it: NOT the centre-dipole ratio, so the
  dual-magnetometer method cannot remove them and the GTI must flag them).
- Instrument: caldb V01 inverted (temperature-dependent gain and offsets, misalignment),
  0.03 nT noise, int16 counts (saturation at +-32767), 40 spikes per sensor and file, two 4-s
  saturating events a day, one 15-30 min telemetry gap and one 30-50 min HK gap a day,
  5 corrupt packets per file.
- Clock: OBT runs 2.5 ppm fast with a 15 ms wander; the TCT samples the true relation every
  600 s of OBT.
- Orbit: halo about L1, 1.5e6 km sunward (0.01 AU from Earth along Earth->Sun) with
  (2.0, 6.6, 1.2) x 1e5 km excursions, period 178 d; attitude: +X (yaw) to the Sun, +Y
  (roll) toward ecliptic north with a 2 deg slow roll, 0.05 deg three-axis wobble.

Disturbed days (:mod:`magfw_aditya.simstorm`: a storm in the IMF, the on-board clock jumping,
packets sent twice, a time-correlation row every 900 s with an outage) are added on top; every
other day is as above, byte for byte.

Truth (``truth/``): per L0 tar the 128-ms IMF in SCCS, GSE and GSM and the full field at each
sensor; per day the 10-s averages in GSE and GSM, spacecraft positions (GSE, GSM, bin centres)
and the injected bad intervals. The truth GSE/GSM is computed here, sample by sample, from
SPICE (pxform_v on a 60-s grid, linear interpolation) and the IGRF dipole, not through
magfw.geometry.frames.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import spiceypy as sp
from spiceypy import cyice

from magfw.api import Period, frames, igrf, kernels, time, write_bytes_atomic
from magfw_aditya import calibration, simstorm, spice
from magfw_aditya.l0 import day_dir
from magfw_aditya.packets import encode, load_layout
from magfw_aditya.tct import format_tct

NS = 1_000_000_000
DAY_S = 86400.0
TT_BOOT = int(time.tt2000_from_iso(np.array(["2023-07-01T00:00:00"]))[0])  # OBT 0
DRIFT = 2.5e-6
WANDER_S, WANDER_P = 0.015, 3 * DAY_S
FILE_OFFSETS_S = (10300.104, 10300.104 + 43200.0)  # file starts: 02:51:40.104 and 14:51:40.104
R_RATIO = (3.0 / 6.0) ** 3  # MAG1 sees this share of a centre dipole seen by MAG2
DISTURB_RATIO = 0.35  # MAG1/MAG2 share of the near-MAG2 disturbances (not dipolar)
NOISE_NT = 0.03
SLOT_S = 10800.0
AU_KM = 149_597_870.7
L1_FRACTION = 0.01
HALO_KM = (2.0e5, 6.6e5, 1.2e5)
HALO_PERIOD_S = 178 * DAY_S
WOBBLE_RAD = np.radians(0.05)
WOBBLE_P = (2600.0, 3700.0, 5100.0)
CK_STEP_S = 10.0
SPK_STEP_S = 3600.0
GRID_S = 60.0
STATION, PACQ, VCID, APID = "N18", "P1", "09", "0240"
#: Calibration manoeuvres: on this day of every month from MANOEUVRE_FROM, rotations of the
#: spacecraft about its yaw, roll and pitch axes in turn (MAG manual 7), each MANOEUVRE_REVS
#: turns at MANOEUVRE_RATE deg/s, MANOEUVRE_PAUSE_S apart, starting MANOEUVRE_START_S after 00:00.
MANOEUVRE_DAY = 10
MANOEUVRE_FROM = date(2024, 8, 1)
MANOEUVRE_START_S = 6 * 3600.0
MANOEUVRE_RATE = 3.0
MANOEUVRE_REVS = 5
MANOEUVRE_PAUSE_S = 60.0
MANOEUVRE_CK_STEP_S = 1.0
#: The sensors' true zero offsets drift away from the caldb from OFFSET_DRIFT_FROM on by these
#: (nT, SCCS): the known offsets a rotation manoeuvre must recover.
OFFSET_DRIFT_FROM = date(2024, 8, 5)
OFFSET_DRIFT = {"MAG1": np.array([0.8, -0.6, 0.4]), "MAG2": np.array([-0.5, 0.9, -0.7])}
#: The simulated DSCOVR file's field is the true IMF plus this (nT, GSE).
UPSTREAM_OFFSET = np.array([0.4, -0.3, 0.25])


# ------------------------------------------------------------------------------- time and clock


def seconds(tt: np.ndarray) -> np.ndarray:
    """TT2000 ns -> float64 s since J2000 (the argument of every model function)."""
    return np.asarray(tt, dtype=np.int64) / 1e9


def day_start_tt(day: date) -> int:
    return int(time.tt2000_from_iso(np.array([f"{day.isoformat()}T00:00:00"]))[0])


def obt_of_tt(tt: np.ndarray) -> np.ndarray:
    s = (np.asarray(tt, dtype=np.int64) - TT_BOOT) / 1e9
    return s * (1 + DRIFT) + WANDER_S * np.sin(2 * np.pi * s / WANDER_P)


def tt_of_obt(obt: np.ndarray) -> np.ndarray:
    """True TT2000 of OBT seconds (Newton inversion of :func:`obt_of_tt`)."""
    o = np.asarray(obt, dtype=np.float64)
    s = o / (1 + DRIFT)
    for _ in range(3):
        f = s * (1 + DRIFT) + WANDER_S * np.sin(2 * np.pi * s / WANDER_P) - o
        df = (1 + DRIFT) + WANDER_S * 2 * np.pi / WANDER_P * np.cos(2 * np.pi * s / WANDER_P)
        s -= f / df
    return TT_BOOT + np.round(s * 1e9).astype(np.int64)


# ------------------------------------------------------------------------------------ the field


def _slot(seed: int, j: int) -> tuple[float, float, np.ndarray]:
    """Event time (s), width (s) and the IMF vector after the event of slot ``j``."""
    rng = np.random.default_rng([seed, 101, j])
    tau = (j + 0.1 + 0.8 * rng.random()) * SLOT_S
    shock = rng.random() < 0.12
    width = 2.0 if shock else rng.uniform(15.0, 120.0)
    sector = int(np.floor(j * SLOT_S / (4.5 * DAY_S)))
    pol = 1.0 if np.random.default_rng([seed, 202, sector]).random() < 0.5 else -1.0
    direction = pol * np.array([-0.7071, 0.7071, 0.0]) + rng.normal(0.0, 0.45, 3)
    direction /= np.linalg.norm(direction)
    mag = 6.0 * np.exp(rng.normal(0.0, 0.3)) * (2.5 if shock else 1.0)
    return tau, width, mag * direction


def _modes(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, 303])
    m = 40
    f = np.exp(rng.uniform(np.log(2e-4), np.log(3e-2), m))
    a = f ** (-5.0 / 6.0)
    a *= 1.2 / np.sqrt(np.sum(a**2) / 2)
    e = rng.normal(size=(m, 3))
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    return f, a, rng.uniform(0, 2 * np.pi, m), e


def imf_gse(tt: np.ndarray, seed: int) -> np.ndarray:
    """The true IMF (N,3) in GSE at TT2000 times."""
    s = seconds(tt)
    j = np.floor(s / SLOT_S).astype(np.int64)
    js = np.arange(j.min() - 1, j.max() + 1)
    params = [_slot(seed, int(k)) for k in js]
    tau = np.array([p[0] for p in params])
    width = np.array([p[1] for p in params])
    vec = np.array([p[2] for p in params])
    i = j - js[0]
    sig = 0.5 * (1 + np.tanh((s - tau[i]) / width[i]))
    b = vec[i - 1] + (vec[i] - vec[i - 1]) * sig[:, None]
    f, a, ph, e = _modes(seed)
    b += (np.sin(2 * np.pi * s[:, None] * f[None, :] + ph[None, :]) * a[None, :]) @ e
    out: np.ndarray = b + simstorm.storm_gse(np.asarray(tt, dtype=np.int64), b, seed)
    return out


def sc_field_mag2(tt: np.ndarray, seed: int) -> np.ndarray:
    """Slow spacecraft (centre dipole) field (N,3) at MAG2 in SCCS, with its 1.3 Hz AC part."""
    rng = np.random.default_rng([seed, 404])
    c = rng.uniform(-6, 6, 3)
    amp = rng.uniform(0.5, 1.5, 3)
    per = rng.uniform(4, 9, 3) * 3600.0
    ph = rng.uniform(0, 2 * np.pi, 3)
    e_ac = rng.normal(size=3)
    e_ac /= np.linalg.norm(e_ac)
    s = seconds(tt)[:, None]
    slow = c + amp * np.sin(2 * np.pi * s / per + ph)
    return slow + 0.15 * np.sin(2 * np.pi * 1.3 * s + 0.4) * e_ac


def _ac_part(tt: np.ndarray, seed: int) -> np.ndarray:
    """The 1.3 Hz part of :func:`sc_field_mag2`."""
    rng = np.random.default_rng([seed, 404])
    rng.uniform(-6, 6, 3), rng.uniform(0.5, 1.5, 3), rng.uniform(4, 9, 3), rng.uniform(0, 2 * np.pi, 3)
    e_ac = rng.normal(size=3)
    e_ac /= np.linalg.norm(e_ac)
    s = seconds(tt)[:, None]
    out: np.ndarray = 0.15 * np.sin(2 * np.pi * 1.3 * s + 0.4) * e_ac
    return out


@dataclass(frozen=True, kw_only=True)
class DayEvents:
    """Injected defects of one UTC day, as TT2000 [start, end) intervals."""

    disturbances: np.ndarray  # (k, 2)
    saturations: np.ndarray
    hk_gaps: np.ndarray
    data_gaps: np.ndarray


def day_events(day: date, seed: int) -> DayEvents:
    t0 = day_start_tt(day)
    o = day.toordinal()

    def draw(tag: int, n: int, dur: tuple[float, float], span: tuple[float, float]) -> np.ndarray:
        rng = np.random.default_rng([seed, tag, o])
        starts = np.sort(rng.uniform(*span, n)) * DAY_S
        d = rng.uniform(*dur, n)
        return (t0 + np.stack([starts, starts + d], axis=1) * NS).astype(np.int64)

    ev = [
        draw(505, 2, (480, 1200), (0.05, 0.9)),
        draw(606, 2, (4, 4), (0.05, 0.95)),
        draw(707, 1, (1800, 3000), (0.05, 0.9)),
        draw(808, 1, (900, 1800), (0.05, 0.9)),
    ]
    iv = manoeuvre_interval(day)
    if iv is not None:  # operations keep the calibration manoeuvre clear of other events
        clear = (iv[0] - 3600 * NS, iv[1] + 600 * NS)
        for e in ev:
            hit = (e[:, 1] > clear[0]) & (e[:, 0] < clear[1])
            e[hit] += clear[1] - e[hit, 0:1]
    disturbances, saturations, hk_gaps, data_gaps = ev
    if simstorm.is_disturbed(day):  # the gaps that hide the clock's set-backs and reboot
        data_gaps = np.concatenate([data_gaps, simstorm.extra_gaps(day)])
    return DayEvents(disturbances=disturbances, saturations=saturations, hk_gaps=hk_gaps, data_gaps=data_gaps)


def _days_of(tt: np.ndarray) -> list[date]:
    first = date(2000, 1, 1) + timedelta(days=int((tt.min() + 43_200 * NS) // (86400 * NS)))
    last = date(2000, 1, 1) + timedelta(days=int((tt.max() + 43_200 * NS) // (86400 * NS)))
    return [first + timedelta(days=k) for k in range(-1, (last - first).days + 2)]


def _envelope(s: np.ndarray, a: float, b: float, ramp: float) -> np.ndarray:
    return np.clip(np.minimum(s - a, b - s) / ramp, 0.0, 1.0)


def disturbances(tt: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Near-MAG2 disturbances and saturating events: fields (N,3) at MAG2 and MAG1 (SCCS)."""
    s = seconds(tt)
    b2 = np.zeros((tt.size, 3))
    b1 = np.zeros((tt.size, 3))
    for day in _days_of(tt):
        ev = day_events(day, seed)
        for k, (a, b) in enumerate(ev.disturbances):
            sa, sb = a / 1e9, b / 1e9
            sel = (s >= sa) & (s < sb)
            if not sel.any():
                continue
            rng = np.random.default_rng([seed, 515, day.toordinal(), k])
            amp, ph, per = rng.uniform(2.5, 4.0, 3), rng.uniform(0, 2 * np.pi, 3), rng.uniform(20, 40)
            env = _envelope(s[sel], sa, sb, 10.0)[:, None]
            f = amp * env * np.sin(2 * np.pi * (s[sel, None] - sa) / per + ph)
            b2[sel] += f
            b1[sel] += DISTURB_RATIO * f
        for a, b in ev.saturations:
            sa, sb = a / 1e9, b / 1e9
            sel = (s >= sa - 1) & (s < sb + 1)
            if not sel.any():
                continue
            env = _envelope(s[sel], sa - 1, sb + 1, 1.0)
            b2[sel, 0] += 700.0 * env
            b1[sel, 0] += 320.0 * env
    return b1, b2


def temperatures(tt: np.ndarray) -> np.ndarray:
    """Sensor MAG1, MAG2 and electronics temperatures (N,3) degC."""
    s = seconds(tt)
    w = 2 * np.pi / DAY_S
    return np.stack(
        [
            12 + 5 * np.sin(w * s + 0.3) + 1.2 * np.sin(2 * np.pi * s / 5400),
            18 + 4 * np.sin(w * s + 1.1) + 0.8 * np.sin(2 * np.pi * s / 4000 + 0.5),
            28 + 2.5 * np.sin(w * s + 2.0),
        ],
        axis=1,
    )


# --------------------------------------------------------------------------- orbit and attitude


def _unit(v: np.ndarray) -> np.ndarray:
    out: np.ndarray = v / np.linalg.norm(v, axis=-1, keepdims=True)
    return out


def _north() -> np.ndarray:
    return np.asarray(sp.pxform("ECLIPJ2000", "J2000", 0.0))[:, 2]


def orbit_j2000(et: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spacecraft position relative to Earth (N,3) km in J2000, and the Sun from Earth."""
    sun, _ = cyice.spkpos_v("SUN", np.ascontiguousarray(et), "J2000", "NONE", "EARTH")
    sun = np.asarray(sun)
    x = _unit(sun)
    y = _unit(np.cross(_north()[None, :], x))
    z = np.cross(x, y)
    ph = 2 * np.pi * et / HALO_PERIOD_S + 0.7
    p = (
        L1_FRACTION * sun
        + HALO_KM[0] * np.cos(ph)[:, None] * x
        + HALO_KM[1] * np.sin(ph)[:, None] * y
        + HALO_KM[2] * np.cos(ph)[:, None] * z
    )
    return p, sun


def manoeuvre_segments(day: date) -> list[tuple[int, int, int]]:
    """The rotation segments of ``day``'s calibration manoeuvre: (axis 0/1/2 = yaw/roll/pitch,
    start TT2000, end TT2000); none on other days."""
    if day.day != MANOEUVRE_DAY or day < MANOEUVRE_FROM:
        return []
    turn = MANOEUVRE_REVS * 360.0 / MANOEUVRE_RATE
    t = day_start_tt(day) + int(MANOEUVRE_START_S * NS)
    out = []
    for axis in range(3):
        out.append((axis, t, t + int(turn * NS)))
        t += int((turn + MANOEUVRE_PAUSE_S) * NS)
    return out


def manoeuvre_interval(day: date) -> tuple[int, int] | None:
    """[start, end] TT2000 of the day's whole manoeuvre, or None."""
    seg = manoeuvre_segments(day)
    return (seg[0][1], seg[-1][2]) if seg else None


def manoeuvre_rotation(et: np.ndarray) -> np.ndarray:
    """Rotations (N,3,3) of the spacecraft body during manoeuvres (identity elsewhere)."""
    tt = np.asarray(time.tt2000_from_et(np.asarray(et, dtype=np.float64)), dtype=np.int64)
    rv = np.zeros((et.size, 3))
    if et.size:
        for day in _days_of(tt):
            for axis, a, b in manoeuvre_segments(day):
                sel = (tt >= a) & (tt < b)
                rv[sel, axis] = np.radians(MANOEUVRE_RATE) * (tt[sel] - a) / 1e9
    out: np.ndarray = frames.rodrigues(rv)
    return out


def offset_drift(days: np.ndarray, sensor: str) -> np.ndarray:
    """The true offsets' drift (N,3) nT SCCS at UTC dates ``days`` (datetime64[D])."""
    on = days >= np.datetime64(OFFSET_DRIFT_FROM)
    out: np.ndarray = on[:, None] * OFFSET_DRIFT[sensor][None, :]
    return out


def attitude(et: np.ndarray, sun_from_sc: np.ndarray, seed: int) -> np.ndarray:
    """C-matrices (N,3,3) J2000 -> SCCS: rows yaw (Sun), roll (~ecliptic north), pitch."""
    u = _unit(sun_from_sc)
    n = _north()[None, :]
    y0 = _unit(n - np.sum(n * u, axis=1, keepdims=True) * u)
    z0 = np.cross(u, y0)
    rho = np.radians(2.0) * np.sin(2 * np.pi * et / (10 * DAY_S) + 0.2)
    y = np.cos(rho)[:, None] * y0 + np.sin(rho)[:, None] * z0
    z = np.cross(u, y)
    c = np.stack([u, y, z], axis=1)
    rng = np.random.default_rng([seed, 111])
    ph = rng.uniform(0, 2 * np.pi, 3)
    rv = np.stack([WOBBLE_RAD * np.sin(2 * np.pi * et / p + f) for p, f in zip(WOBBLE_P, ph, strict=True)], 1)
    out: np.ndarray = manoeuvre_rotation(et) @ frames.rodrigues(rv) @ c
    return out


def _grid_interp(et: np.ndarray, et_nodes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Linear interpolation of node values (M, ...) to ``et`` (element-wise)."""
    flat = values.reshape(values.shape[0], -1)
    out = np.stack([np.interp(et, et_nodes, flat[:, k]) for k in range(flat.shape[1])], axis=1)
    return out.reshape((et.size,) + values.shape[1:])


def _nodes(et: np.ndarray) -> np.ndarray:
    return np.arange(np.floor(et.min() / GRID_S) * GRID_S - GRID_S, et.max() + 2 * GRID_S, GRID_S)


def gse_to_j2000(et: np.ndarray) -> np.ndarray:
    """GSE -> J2000 matrices at ``et``: SPICE (MAGFW_GSE) on a 60-s grid, linear in between."""
    nodes = _nodes(et)
    return _grid_interp(et, nodes, np.asarray(cyice.pxform_v("MAGFW_GSE", "J2000", nodes)))


#: The fixed IGRF 2000.0 dipole pole of the public Aditya-L1 frames kernel (lat, east lon, deg).
FIXED2000_POLE = (79.54, 288.43)


def _fixed_pole(n: int) -> np.ndarray:
    lat, lon = np.radians(FIXED2000_POLE)
    return np.tile([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], (n, 1))


def j2000_to_gsm_exact(et: np.ndarray, fixed2000: bool = False) -> np.ndarray:
    """J2000 -> GSM at ``et``: X Earth->Sun, Z the dipole axis perpendicular to X (Sun from
    SPICE, Earth orientation IAU_EARTH; the dipole of date from magfw.geometry.igrf, or with
    ``fixed2000`` the fixed 2000.0 pole)."""
    sun, _ = cyice.spkpos_v("SUN", np.ascontiguousarray(et), "J2000", "NONE", "EARTH")
    x = _unit(np.asarray(sun))
    axis = _fixed_pole(et.size) if fixed2000 else igrf.dipole_axis_geo(et)
    d = np.einsum("nij,nj->ni", np.asarray(cyice.pxform_v("IAU_EARTH", "J2000", et)), axis)
    z = _unit(d - np.sum(d * x, axis=1, keepdims=True) * x)
    return np.stack([x, np.cross(z, x), z], axis=1)


def gse_to_gsm(et: np.ndarray, fixed2000: bool = False) -> np.ndarray:
    """GSE -> GSM matrices at ``et``: exact on a 60-s grid, linear in between."""
    nodes = _nodes(et)
    m = j2000_to_gsm_exact(nodes, fixed2000) @ np.asarray(cyice.pxform_v("MAGFW_GSE", "J2000", nodes))
    return _grid_interp(et, nodes, m)


def gse_to_sccs(et: np.ndarray, seed: int) -> np.ndarray:
    """GSE -> SCCS matrices at ``et`` (attitude evaluated at every sample)."""
    nodes = _nodes(et)
    p, sun = orbit_j2000(nodes)
    sun_sc = _grid_interp(et, nodes, sun - p)
    out: np.ndarray = attitude(et, sun_sc, seed) @ gse_to_j2000(et)
    return out


# ------------------------------------------------------------------------------------ the files


@dataclass(frozen=True, kw_only=True)
class FileSpec:
    day: date
    index: int
    first_packet: int
    end_packet: int

    @property
    def key(self) -> int:
        return self.day.toordinal() * 2 + self.index


def _boundary_packet(day: date, index: int) -> int:
    tt = day_start_tt(day) + int(round(FILE_OFFSETS_S[index] * NS))
    return int(np.ceil(obt_of_tt(np.array([tt]))[0] / 2.048))


def file_spec(day: date, index: int) -> FileSpec:
    nxt = (day, 1) if index == 0 else (day + timedelta(days=1), 0)
    return FileSpec(
        day=day, index=index, first_packet=_boundary_packet(day, index), end_packet=_boundary_packet(*nxt)
    )


def packet_obt(p: np.ndarray, per: int = 65536) -> np.ndarray:
    """OBT of packets ``p`` (2.048 s each from OBT 0), rounded to the OBT tick."""
    return np.round(np.asarray(p, dtype=np.float64) * 2.048 * per) / per


def sample_obt(p: np.ndarray) -> np.ndarray:
    out: np.ndarray = (packet_obt(p)[:, None] + 0.128 * np.arange(16)[None, :]).reshape(-1)
    return out


def stem_of(spec: FileSpec, first_tt: int) -> str:
    br = time.tt2000_breakdown(np.array([first_tt], dtype=np.int64))[0]
    yy, doy = br[0] % 100, (date(int(br[0]), int(br[1]), int(br[2])) - date(int(br[0]), 1, 1)).days + 1
    strip = (spec.day - date(2023, 7, 1)).days * 2 + spec.index
    return (
        f"MAG91{STATION}{PACQ}AL1{strip % 100000:05d}{VCID}{APID}{yy:02d}{doy:03d}"
        f"{br[3]:02d}{br[4]:02d}{br[5]:02d}{br[6]:03d}_N00_0000_{spec.key % 1000000:06d}"
    )


def default_caldb() -> dict[str, list[dict[str, object]]]:
    """The simulated instrument's calibration (caldb V01): two validity periods per sensor."""

    def rot(ax: list[float], deg: float) -> np.ndarray:
        out: np.ndarray = frames.rodrigues(np.radians(deg) * np.asarray([ax], float) / np.linalg.norm(ax))[0]
        return out

    def entry(
        scale: list[float],
        off: list[float],
        tc: tuple[list[float], ...],
        m: np.ndarray,
        t0: float,
        f: str,
        to: str,
    ) -> dict[str, object]:
        return {
            "valid_from": f,
            "valid_to": to,
            "scale_nT_per_count": [float(x) for x in scale],
            "scale_tc_per_C": [float(x) for x in tc[0]],
            "offset_nT": [float(x) for x in off],
            "offset_tc_nT_per_C": [float(x) for x in tc[1]],
            "electronics_offset_tc_nT_per_C": [float(x) for x in tc[2]],
            "reference_temperature_C": t0,
            "electronics_reference_temperature_C": 25.0,
            "misalignment": [[round(float(x), 9) for x in row] for row in m],
        }

    nonorth = np.array([[1, 0, 0], [0.0012, 1, 0], [-0.0008, 0.0015, 1.0]])
    m1 = rot([0.3, 1.0, -0.2], 0.35) @ nonorth
    m2 = rot([-0.5, 0.2, 1.0], 0.25) @ nonorth.T
    tc1 = ([4.5e-5, 5.0e-5, 4.0e-5], [0.05, -0.04, 0.06], [0.02, 0.015, -0.01])
    tc2 = ([5.5e-5, 4.2e-5, 6.0e-5], [-0.03, 0.05, 0.04], [0.01, -0.02, 0.02])
    s1 = [0.0078125 * 1.0031, 0.0078125 * 0.9974, 0.0078125 * 1.0012]
    s2 = [0.0078125 * 0.9981, 0.0078125 * 1.0027, 0.0078125 * 1.0043]
    return {
        "MAG1": [
            entry(s1, [12.4, -7.9, 4.3], tc1, m1, 15.0, "2024-01-06", "2024-06-30"),
            entry(s1, [12.9, -8.2, 4.1], tc1, m1, 15.0, "2024-07-01", "2026-12-31"),
        ],
        "MAG2": [
            entry(s2, [-5.6, 9.8, -14.1], tc2, m2, 15.0, "2024-01-06", "2024-06-30"),
            entry(s2, [-5.1, 10.3, -14.6], tc2, m2, 15.0, "2024-07-01", "2026-12-31"),
        ],
    }


def _npz(path: Path, **arrays: np.ndarray) -> None:
    buf = io.BytesIO()
    named: dict[str, Any] = dict(arrays)
    np.savez(buf, **named)
    write_bytes_atomic(path, buf.getvalue())


def _tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, blob in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(blob), 0, 0o644
            tar.addfile(info, io.BytesIO(blob))
    return buf.getvalue()


def _inside(tt: np.ndarray, intervals: np.ndarray) -> np.ndarray:
    m = np.zeros(tt.size, dtype=bool)
    for a, b in intervals:
        m |= (tt >= a) & (tt < b)
    return m


def write_file(out: Path, spec: FileSpec, seed: int, caldb: calibration.CalDB) -> str:
    """Write one L0 tar and its 128-ms truth; return the tar's archive path."""
    layout = load_layout()
    sci, hkp = layout.packets["science"], layout.packets["housekeeping"]
    p = np.arange(spec.first_packet, spec.end_packet)
    obt = sample_obt(p)
    tt = tt_of_obt(obt)
    et = np.asarray(time.tt2000_to_et(tt), dtype=np.float64)
    m = gse_to_sccs(et, seed)
    b_gse = imf_gse(tt, seed)
    b_imf = np.einsum("nij,nj->ni", m, b_gse)
    sc2 = sc_field_mag2(tt, seed)
    d1, d2 = disturbances(tt, seed)
    true1 = b_imf + R_RATIO * sc2 + d1
    true2 = b_imf + sc2 + d2
    temps = temperatures(tt)
    days = time.utc_day_of(tt)
    rng = np.random.default_rng([seed, 1001, spec.key])
    counts = np.empty((tt.size, 2, 3))
    spike_idx = {}
    for k, (sensor, true) in enumerate((("MAG1", true1), ("MAG2", true2))):
        meas = true + offset_drift(days, sensor) + rng.normal(0, NOISE_NT, true.shape)
        c = np.empty_like(meas)
        for d in np.unique(days):
            sel = days == d
            entry = caldb.entry_for(sensor, d.astype(object))
            c[sel] = entry.counts_of(meas[sel], temps[sel, k], temps[sel, 2])
        idx = rng.choice(tt.size, 40, replace=False)
        axis = rng.integers(0, 3, 40)
        amp = rng.uniform(10, 150, 40) * rng.choice([-1, 1], 40)
        c[idx, axis] += amp / 0.0078125
        spike_idx[sensor] = np.sort(idx)
        counts[:, k, :] = c
    counts = np.clip(np.round(counts), -32767, 32767).astype(np.int16)
    n_pk = p.size
    pkt_tt = tt.reshape(n_pk, 16)[:, 0]
    coarse, fine = layout.obt_fields(packet_obt(p) + simstorm.clock_offset(pkt_tt))
    blob = bytearray(
        encode(
            sci,
            {
                "apid": 0x240,
                "sequence_flags": 3,
                "sequence_count": simstorm.sequence_counts(p, pkt_tt),
                "obt_coarse": coarse,
                "obt_fine": fine,
                "mode": 0,
                "n_samples": 16,
                "counts": counts.reshape(n_pk, 16, 2, 3),
            },
            n_pk,
        )
    )
    # telemetry gaps (packets never received) and corrupt packets (checksum fails)
    gaps = np.concatenate([day_events(d, seed).data_gaps for d in _days_of(tt)])
    lost = _inside(pkt_tt, gaps)
    corrupt = rng.choice(n_pk, 5, replace=False)
    for c in corrupt:
        blob[c * sci.length + 40] ^= 0x5A
    keep = ~lost
    order = np.flatnonzero(keep)
    if simstorm.is_disturbed(spec.day):  # packets sent twice
        good = np.flatnonzero(keep & ~np.isin(np.arange(n_pk), corrupt))
        twice = np.sort(rng.choice(good, simstorm.DUPLICATED_PACKETS, replace=False))
        order = np.sort(np.r_[order, twice], kind="stable")
    pld = np.frombuffer(bytes(blob), np.uint8).reshape(n_pk, sci.length)[order].tobytes()
    # housekeeping every 16 s of OBT, except during the day's HK gap
    h0 = np.ceil(obt[0] / 16.0) * 16.0
    hk_obt = np.arange(h0, obt[-1] + 16.0, 16.0)
    hk_tt = tt_of_obt(hk_obt)
    hk_gaps = np.concatenate([day_events(d, seed).hk_gaps for d in _days_of(tt)])
    hk_keep = ~_inside(hk_tt, hk_gaps)
    ht = temperatures(hk_tt)
    raw = np.round((ht + 100.0) / 0.01).astype(np.uint16)
    hc, hf = layout.obt_fields(hk_obt + simstorm.clock_offset(hk_tt))
    hk = encode(
        hkp,
        {
            "apid": 0x241,
            "sequence_flags": 3,
            "sequence_count": np.arange(hk_obt.size) % 16384,
            "obt_coarse": hc,
            "obt_fine": hf,
            "t_mag1": raw[:, 0],
            "t_mag2": raw[:, 1],
            "t_electronics": raw[:, 2],
            "status": 0,
        },
        hk_obt.size,
    )
    hk_rec = np.frombuffer(hk, np.uint8).reshape(hk_obt.size, hkp.length)[hk_keep].tobytes()
    # time-correlation table every 600 s of OBT (900 s on disturbed days), beyond both ends
    step = simstorm.TCT_STEP_S if simstorm.is_disturbed(spec.day) else 600.0
    t_obt = np.arange(np.floor(obt[0] / step) * step - step, obt[-1] + 2 * step, step)
    t_tt = tt_of_obt(t_obt)
    rows = ~simstorm.tct_outage(t_tt)
    stamp = t_obt[rows] + simstorm.clock_offset(t_tt[rows])
    tct = format_tct(stamp, t_tt[rows], "Aditya-L1 MAG time correlation (simulated)")
    stem = stem_of(spec, int(tt[0]))
    tar = _tar({f"{stem}.pld": pld, f"{stem}.hk": hk_rec, f"{stem}.tct": tct.encode()})
    rel = f"{day_dir(spec.day)}/{stem}_V00.tar"
    write_bytes_atomic(out / rel, tar)
    gsm = np.einsum("nij,nj->ni", gse_to_gsm(et), b_gse)
    sent = np.repeat(keep, 16) & ~np.repeat(np.isin(np.arange(n_pk), corrupt), 16)
    _npz(
        out / "truth" / f"{stem}.npz",
        tt=tt,
        b_imf_sccs=b_imf.astype(np.float32),
        b_imf_gse=b_gse.astype(np.float32),
        b_imf_gsm=gsm.astype(np.float32),
        b_mag1=true1.astype(np.float32),
        b_mag2=true2.astype(np.float32),
        sent=sent,
        hk_missing=_inside(tt, hk_gaps),
        spikes_mag1=spike_idx["MAG1"],
        spikes_mag2=spike_idx["MAG2"],
        temperatures=temps.astype(np.float32),
        **({"clock_offset_s": simstorm.clock_offset(tt)} if simstorm.is_disturbed(spec.day) else {}),
    )
    return rel


def write_day_truth(out: Path, day: date, seed: int) -> None:
    """10-s truth of a UTC day (bin starts 00:00:00 .. 23:59:50): IMF GSE/GSM means over the
    nominal samples of each bin, positions at bin centres, and the injected intervals."""
    t0 = day_start_tt(day)
    t1 = day_start_tt(day + timedelta(days=1))
    p0 = int(np.floor(obt_of_tt(np.array([t0]))[0] / 2.048)) - 1
    p1 = int(np.ceil(obt_of_tt(np.array([t1]))[0] / 2.048)) + 1
    tt = tt_of_obt(sample_obt(np.arange(p0, p1)))
    tt = tt[(tt >= t0) & (tt < t1)]
    et = np.asarray(time.tt2000_to_et(tt), dtype=np.float64)
    b_gse = imf_gse(tt, seed)
    b_gsm = np.einsum("nij,nj->ni", gse_to_gsm(et), b_gse)
    b_gsm_f = np.einsum("nij,nj->ni", gse_to_gsm(et, fixed2000=True), b_gse)
    b_sccs = np.einsum("nij,nj->ni", gse_to_sccs(et, seed), b_gse)
    idx = ((tt - t0) // (10 * NS)).astype(np.int64)
    n = np.bincount(idx, minlength=8640)

    def means(b: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.stack([np.bincount(idx, b[:, k], 8640) for k in range(3)], 1) / n[:, None]
        return out

    mean_gse, mean_gsm, mean_gsm_f, mean_sccs = (means(b) for b in (b_gse, b_gsm, b_gsm_f, b_sccs))
    start = t0 + np.arange(8640, dtype=np.int64) * 10 * NS
    et_c = np.asarray(time.tt2000_to_et(start + 5 * NS), dtype=np.float64)
    p, _ = orbit_j2000(et_c)
    pos_gse = np.einsum("nji,nj->ni", np.asarray(cyice.pxform_v("MAGFW_GSE", "J2000", et_c)), p)
    pos_gsm = np.einsum("nij,nj->ni", j2000_to_gsm_exact(et_c), p)
    pos_gsm_f = np.einsum("nij,nj->ni", j2000_to_gsm_exact(et_c, fixed2000=True), p)
    write_dscovr(out, day, start, mean_gse)
    ev = day_events(day, seed)
    _npz(
        out / "truth" / f"AL1_MAG_TRUTH_{day:%Y%m%d}.npz",
        bin_start=start,
        b_gse=mean_gse,
        b_gsm=mean_gsm,
        b_gsm_fixed2000=mean_gsm_f,
        b_sccs=mean_sccs,
        samples=n,
        pos_gse=pos_gse,
        pos_gsm=pos_gsm,
        pos_gsm_fixed2000=pos_gsm_f,
        disturbances=ev.disturbances,
        saturations=ev.saturations,
        hk_gaps=ev.hk_gaps,
        data_gaps=ev.data_gaps,
    )


def _month_days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=k) for k in range((end - start).days + 1)]


def write_manoeuvres(out: Path, days: list[date], seed: int) -> None:
    """The calibration operations record of the simulated days (ops/, when any manoeuvre) and,
    per manoeuvre, its truth: each sensor's net offset in SCCS (the offset drift plus the
    spacecraft's slow field at the sensor, at the manoeuvre's middle)."""
    from magfw_aditya import calops

    records: list[dict[str, object]] = []
    for day in days:
        iv = manoeuvre_interval(day)
        if iv is None:
            continue
        iso = time.tt2000_to_iso(np.array(iv, dtype=np.int64), precision_ns=1_000_000_000)
        records.append(
            {"start": str(iso[0]), "end": str(iso[1]), "kind": "rotation", "axes": ["yaw", "roll", "pitch"]}
        )
        mid = np.array([(iv[0] + iv[1]) // 2], dtype=np.int64)
        slow2 = sc_field_mag2(mid, seed)[0] - _ac_part(mid, seed)[0]
        d64 = np.array([np.datetime64(day)])
        _npz(
            out / "truth" / f"AL1_MAG_MANOEUVRE_{day:%Y%m%d}.npz",
            interval=np.array(iv),
            net_offset_mag1=offset_drift(d64, "MAG1")[0] + R_RATIO * slow2,
            net_offset_mag2=offset_drift(d64, "MAG2")[0] + slow2,
            drift_mag1=OFFSET_DRIFT["MAG1"],
            drift_mag2=OFFSET_DRIFT["MAG2"],
            segments=np.array(manoeuvre_segments(day)),
        )
    if records:
        write_bytes_atomic(
            out / calops.OPS_DIR / "AL1_MAG_CALIBRATION_OPS_V00.yaml", calops.dump_ops(records).encode()
        )


def write_dscovr(out: Path, day: date, start: np.ndarray, mean_gse: np.ndarray) -> Path:
    """A DSCOVR magnetometer 1-min file in NOAA's layout (``dscovr/oe_m1m_dscovr_...nc``): the
    true IMF's 1-min means in GSE plus :data:`UPSTREAM_OFFSET` (the other monitor's calibration
    difference the comparison must recover); time tags at the start of each minute."""
    import h5netcdf

    b = mean_gse.reshape(-1, 6, 3).mean(axis=1) + UPSTREAM_OFFSET
    t = time.tt2000_to_unix(start[::6]) * 1000.0
    nxt = day + timedelta(days=1)
    name = f"oe_m1m_dscovr_s{day:%Y%m%d}000000_e{day:%Y%m%d}235959_p{nxt:%Y%m%d}000000_pub.nc"
    path = out / "dscovr" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.nc")
    with h5netcdf.File(tmp, "w") as nc:
        nc.dimensions = {"time": t.size}
        nc.attrs.update(
            {
                "title": "DSCOVR Magnetometer Level 2 One Minute Averages (SIMULATED by magfw)",
                "Conventions": "ACDD-1.3",
                "comment": "SIMULATED by magfw: the simulated IMF plus a known offset",
            }
        )
        v = nc.create_variable("time", ("time",), "f8")
        v[:] = t
        v.attrs["units"] = "milliseconds since 1970-01-01T00:00:00Z"
        for k, c in enumerate("xyz"):
            v = nc.create_variable(f"b{c}_gse", ("time",), "f4")
            v[:] = b[:, k].astype(np.float32)
            v.attrs.update({"units": "nT", "missing_value": -99999.0})
        v = nc.create_variable("bt", ("time",), "f4")
        v[:] = np.linalg.norm(b, axis=1).astype(np.float32)
        v.attrs.update({"units": "nT", "missing_value": -99999.0})
    tmp.replace(path)
    return path


def write_kernels(out: Path, months: set[tuple[int, int]], seed: int) -> None:
    """SCLK, and per month the SPK (hourly Hermite states) and CK (30-s quaternions)."""
    sclk = out / spice.DIRS["sclk"] / "al1_sclk_v1.tsc"
    kernels.write_sclk(
        sclk,
        spice.SPACECRAFT,
        start_et=float(time.tt2000_to_et(np.array([TT_BOOT]))[0]),
        comment="Simulated Aditya-L1 spacecraft clock (magfw).",
    )
    for year, month in sorted(months):
        start, end = spice.month_span(year, month, "eph")
        a = float(time.tt2000_to_et(np.array([day_start_tt(start)]))[0])
        b = float(time.tt2000_to_et(np.array([day_start_tt(end + timedelta(days=1))]))[0])
        et = np.arange(a, b + SPK_STEP_S / 2, SPK_STEP_S)
        p, _ = orbit_j2000(et)
        v = (orbit_j2000(et + 1.0)[0] - orbit_j2000(et - 1.0)[0]) / 2.0
        kernels.write_spk(
            out / spice.DIRS["spk"] / spice.kernel_name("eph", start, end, 1),
            spice.SPACECRAFT,
            399,
            "J2000",
            et,
            np.hstack([p, v]),
            spk_type=13,
            degree=7,
            segment_id="magfw simulated halo",
        )
        start, end = spice.month_span(year, month, "att")
        a = float(time.tt2000_to_et(np.array([day_start_tt(start)]))[0])
        b = float(time.tt2000_to_et(np.array([day_start_tt(end + timedelta(days=1))]))[0])
        et = np.arange(a, b + CK_STEP_S / 2, CK_STEP_S)
        dense = []
        for d in _month_days(start, end):
            iv = manoeuvre_interval(d)
            if iv is not None:
                lo, hi = (float(x) for x in time.tt2000_to_et(np.array(iv)))
                dense.append(np.arange(lo, hi, MANOEUVRE_CK_STEP_S))
        et = np.unique(np.concatenate([et, *dense]))
        p, sun = orbit_j2000(et)
        c = attitude(et, sun - p, seed)
        kernels.write_ck(
            out / spice.DIRS["ck"] / spice.kernel_name("att", start, end, 1),
            spice.CK_ID,
            "J2000",
            spice.SPACECRAFT,
            et,
            frames.m2q(c),
            sclk_kernel=sclk,
            segment_id="magfw simulated attitude",
        )


def simulate(period: Period, out: Path, seed: int) -> Path:
    """Write the simulated archive for every day of ``period`` under ``out``; return ``out``."""
    out = Path(out)
    entries = default_caldb()
    text = calibration.dump_caldb("V00", entries, "Simulated Aditya-L1 MAG calibration (magfw)")
    cal_path = out / calibration.CALDB_DIR / "AL1_MAG_CALDB_V00.yaml"
    write_bytes_atomic(cal_path, text.encode())
    caldb = calibration.load_caldb(cal_path)
    days = list(period.days())
    with kernels.kernel_pool([]):
        write_kernels(out, {(d.year, d.month) for d in days}, seed)
        for day in days:
            for index in (0, 1):
                write_file(out, file_spec(day, index), seed, caldb)
            write_day_truth(out, day, seed)
        write_manoeuvres(out, days, seed)
    return out

"""Simulated Aditya-L1 disturbed days (:data:`DISTURBED_DAYS`): a storm in the IMF and the
on-board clock's jumps. Every other day is simulated as before, byte for byte: everything here
is zero outside the disturbed day's own span (03:20 to 23:50 UT), so the neighbouring days'
tars and truth do not change.

- **IMF**: an interplanetary shock at 04:30-05:00 (|B| x 2.5 over 2 s), a 6-h turbulent sheath
  (300 modes on an f^-5/3 spectrum from 1e-3 Hz up to the 3.9 Hz Nyquist frequency, 1.8 nT RMS
  behind the shock relaxing with a 1.5 h e-folding time) and a magnetic cloud after it (the
  field turning by 150 deg over 10 h, |B| 1.8 times the pre-shock field), fading out by 23:50.
- **Clock** (``CLOCK_EVENTS``): the on-board clock jumps by +1.25 s between two packets at
  06:07 (consecutive packets 3.298 s apart); it is set back by 1.25 s at 08:06 inside a 12-min
  telemetry gap (the sequence count shows it); the instrument reboots inside a 4-min gap at
  17:20 (the sequence count restarts at 0, the clock jumps by +0.5 s); the clock is set back at
  22:02 inside a 5-min gap. No time-correlation row between 17:00 and 20:30 (a ground outage),
  so part of the rebooted segment cannot be timed within the 900 s extrapolation limit.
- **Packets**: six science packets sent twice; the time-correlation table has a row every
  900 s (600 s on quiet days).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

NS = 1_000_000_000
DAY_NS = 86400 * NS
#: Disturbed days (documented choice: the date of the May 2024 storm, seen by Aditya-L1).
DISTURBED_DAYS: tuple[date, ...] = (date(2024, 5, 10),)
TCT_STEP_S = 900.0
#: Span of the day (s) outside which nothing here changes the simulation.
ACTIVE_S = (3 * 3600 + 1200, 23 * 3600 + 3000)


@dataclass(frozen=True, kw_only=True)
class ClockEvent:
    """The clock jumping by ``jump_s`` at ``at_s`` (s of day); ``reset``: the sequence count
    restarts at 0 with the next packet."""

    at_s: float
    jump_s: float
    reset: bool = False


#: The clock events of a disturbed day, and the telemetry gaps (s of day) that hide some.
CLOCK_EVENTS = (
    ClockEvent(at_s=6 * 3600 + 7 * 60 + 13.3, jump_s=1.25),
    ClockEvent(at_s=8 * 3600 + 6 * 60, jump_s=-1.25),
    ClockEvent(at_s=17 * 3600 + 22 * 60, jump_s=0.5, reset=True),
    ClockEvent(at_s=22 * 3600 + 2 * 60, jump_s=-0.5),
)
EXTRA_GAPS_S = (
    (8 * 3600.0, 8 * 3600.0 + 720),
    (17 * 3600.0 + 1200, 17 * 3600.0 + 1440),
    (22 * 3600.0, 22 * 3600.0 + 300),
)
TCT_OUTAGE_S = (17 * 3600.0, 20 * 3600.0 + 1800)
DUPLICATED_PACKETS = 6


def is_disturbed(day: date) -> bool:
    return day in DISTURBED_DAYS


def _day_start(day: date) -> int:
    from magfw.api import time

    return int(time.tt2000_from_iso(np.array([f"{day.isoformat()}T00:00:00"]))[0])


def _days_touching(tt: np.ndarray) -> list[tuple[date, int]]:
    """The disturbed days whose active span ``tt`` (TT2000) touches, with their start."""
    out = []
    for day in DISTURBED_DAYS:
        t0 = _day_start(day)
        if tt.size and tt.max() >= t0 + ACTIVE_S[0] * NS and tt.min() < t0 + ACTIVE_S[1] * NS:
            out.append((day, t0))
    return out


def clock_offset(tt: np.ndarray) -> np.ndarray:
    """The clock's jump (s) accumulated at TT2000 times ``tt``: OBT = model OBT + this."""
    tt = np.asarray(tt, dtype=np.int64)
    out = np.zeros(tt.size)
    for _day, t0 in _days_touching(tt):
        for ev in CLOCK_EVENTS:
            out += ev.jump_s * (tt >= t0 + int(ev.at_s * NS))
    return out


def sequence_counts(p: np.ndarray, pkt_tt: np.ndarray) -> np.ndarray:
    """CCSDS sequence counts of packets ``p`` (TT2000 of their first samples ``pkt_tt``): the
    packet number modulo 2^14, restarting at 0 after a reboot of a disturbed day."""
    seq = np.asarray(p, dtype=np.int64) % (1 << 14)
    for _day, t0 in _days_touching(np.asarray(pkt_tt, dtype=np.int64)):
        for ev in CLOCK_EVENTS:
            after = np.flatnonzero(pkt_tt >= t0 + int(ev.at_s * NS))
            if ev.reset and after.size:
                k = int(after[0])
                seq[k:] = (p[k:] - p[k]) % (1 << 14)
    return seq


def extra_gaps(day: date) -> np.ndarray:
    """(k, 2) TT2000 telemetry gaps added on a disturbed day (none on others)."""
    if not is_disturbed(day):
        return np.empty((0, 2), dtype=np.int64)
    t0 = _day_start(day)
    return (t0 + np.array(EXTRA_GAPS_S) * NS).astype(np.int64)


def tct_outage(tt: np.ndarray) -> np.ndarray:
    """True for TT2000 times inside a disturbed day's time-correlation outage."""
    tt = np.asarray(tt, dtype=np.int64)
    out = np.zeros(tt.size, dtype=bool)
    for _day, t0 in _days_touching(tt):
        out |= (tt >= t0 + int(TCT_OUTAGE_S[0] * NS)) & (tt < t0 + int(TCT_OUTAGE_S[1] * NS))
    return out


def _smooth(x: np.ndarray, width: float) -> np.ndarray:
    out: np.ndarray = 0.5 * (1.0 + np.tanh(x / width))
    return out


def storm_gse(tt: np.ndarray, base: np.ndarray, seed: int) -> np.ndarray:
    """(N, 3) nT added to the quiet IMF ``base`` (GSE) at TT2000 ``tt`` on disturbed days."""
    out = np.zeros(base.shape)
    for day, t0 in _days_touching(tt):
        rng = np.random.default_rng([seed, 909, day.toordinal()])
        s = (tt - t0) / 1e9
        t_s = rng.uniform(4.5, 5.0) * 3600
        t_c = t_s + 6 * 3600
        fade = 1.0 - _smooth(s - (ACTIVE_S[1] - 1800), 300.0)
        shock = _smooth(s - t_s, 2.0) * fade
        cloud_w = _smooth(s - t_c, 600.0) * fade
        out += (1.5 * shock * (1 - cloud_w))[:, None] * base  # |B| x 2.5 in the sheath
        e1 = rng.normal(size=3)
        e1 /= np.linalg.norm(e1)
        e2 = np.cross(e1, rng.normal(size=3))
        e2 /= np.linalg.norm(e2)
        u = np.clip((s - t_c) / 36000.0, 0.0, 1.0)
        phi = np.radians(150.0) * u
        cloud = 1.8 * 6.0 * (np.cos(phi)[:, None] * e1 + np.sin(phi)[:, None] * e2)
        out += cloud_w[:, None] * (cloud - base)
        env = shock * (1 - cloud_w) * np.exp(-np.clip(s - t_s, 0, None) / 5400.0)
        active = np.flatnonzero(env > 1e-4)
        if active.size:
            out[active] += env[active, None] * _sheath_modes(rng, s[active])
    return out


def _sheath_modes(rng: np.random.Generator, s: np.ndarray, n_modes: int = 300) -> np.ndarray:
    """(N, 3) unit-envelope sheath turbulence at seconds ``s``: a sum of modes on an f^-5/3
    spectrum from 1e-3 Hz to the 3.9 Hz Nyquist frequency, 1.8 nT RMS per component."""
    f = np.exp(rng.uniform(np.log(1e-3), np.log(3.9), n_modes))
    amp = f ** (-5.0 / 6.0) * np.sqrt(f)  # log-uniform frequencies: density 1/f
    amp *= 1.8 / np.sqrt(np.sum(amp**2) / 2)
    phase = rng.uniform(0, 2 * np.pi, n_modes)
    direction = rng.normal(size=(n_modes, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    weights = amp[:, None] * direction
    out = np.empty((s.size, 3))
    for a in range(0, s.size, 16384):
        sl = slice(a, a + 16384)
        out[sl] = np.sin(2 * np.pi * s[sl, None] * f[None, :] + phase[None, :]) @ weights
    return out

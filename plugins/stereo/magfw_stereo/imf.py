"""A day of simulated solar-wind magnetic field (the simulator's truth), in RTN, nT.

- A Parker-spiral base field (|B| ~ 5 nT at 1 AU, BR ~ 1/r^2, BT ~ 1/r) with a random sector
  polarity;
- three rotational discontinuities (40-150 deg rotations over 5-120 s) and two tangential
  ones (30-90 deg and a 0.7-1.4 x magnitude change over 1-3 s);
- on about half of the days an interplanetary shock (|B| x 2.2 over ~1 s, more turbulence
  behind it);
- turbulence: random phases on a Kolmogorov f^-5/3 spectrum from 1/3 h to 0.3 Hz, steepening
  to f^-3 above (the dissipation range), 1.2 nT RMS per component.

Everything is vectorised; the day is drawn from the generator it is given.
"""

from __future__ import annotations

import numpy as np

from magfw.api import frames


def _smooth_step(t: np.ndarray, t0: float, width: float) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh((t - t0) / width))


def turbulence(rng: np.random.Generator, n: int, dt: float, rms: float) -> np.ndarray:
    f = np.fft.rfftfreq(n, dt)
    f_low, f_break = 1.0 / 10800.0, 0.3
    fs = np.maximum(f, f_low)
    amp = fs ** (-5.0 / 6.0)  # sqrt of f^-5/3
    hi = fs > f_break
    amp[hi] = f_break ** (-5.0 / 6.0) * (fs[hi] / f_break) ** (-1.5)
    amp[0] = 0.0
    out = np.empty((n, 3))
    for k in range(3):
        spec = amp * np.exp(2j * np.pi * rng.random(f.size))
        x = np.fft.irfft(spec, n)
        out[:, k] = x * (rms / x.std())
    return out


def day_field(
    rng: np.random.Generator, n: int, dt: float, r_au: float
) -> tuple[np.ndarray, dict[str, list[float]]]:
    """(n, 3) true field in RTN (nT) on a uniform grid of ``n`` samples ``dt`` s apart, and the
    events (seconds of day) that shaped it."""
    t = np.arange(n) * dt
    day_s = n * dt
    s = rng.choice([-1.0, 1.0])
    b0 = np.array([s * 3.5 / r_au**2, -s * 3.5 / r_au, 0.0])
    base = np.tile(b0, (n, 1))
    mag = np.ones(n)
    events: dict[str, list[float]] = {"rotation": [], "tangential": [], "shock": []}

    def rotate(t0: float, width: float, angle: float) -> None:
        cur = base[min(int(t0 / dt), n - 1)]
        axis = np.cross(cur, rng.normal(size=3))
        axis /= np.linalg.norm(axis)
        lo, hi = np.searchsorted(t, [t0 - 12 * width, t0 + 12 * width])
        full = frames.rodrigues((angle * axis)[None, :])[0]
        base[hi:] = base[hi:] @ full.T  # tanh is 1 (to 1e-10) there, 0 before lo
        frac = _smooth_step(t[lo:hi], t0, width)
        base[lo:hi] = np.einsum("nij,nj->ni", frames.rodrigues(np.outer(frac * angle, axis)), base[lo:hi])

    for t0 in np.sort(rng.uniform(0.05, 0.95, 3) * day_s):
        rotate(t0, rng.uniform(5, 120), np.radians(rng.uniform(40, 150)))
        events["rotation"].append(float(t0))
    for t0 in np.sort(rng.uniform(0.05, 0.95, 2) * day_s):
        rotate(t0, rng.uniform(1, 3), np.radians(rng.uniform(30, 90)))
        mag *= 1.0 + (rng.uniform(0.7, 1.4) - 1.0) * _smooth_step(t, t0, 1.0)
        events["tangential"].append(float(t0))
    turb_amp = np.ones(n)
    if rng.random() < 0.5:
        t0 = float(rng.uniform(0.2, 0.8) * day_s)
        step = _smooth_step(t, t0, 0.5)
        mag *= 1.0 + 1.2 * step
        turb_amp += 1.0 * step
        events["shock"].append(t0)
    turb = turbulence(rng, n, dt, 1.2)
    return base * mag[:, None] + turb * turb_amp[:, None], events

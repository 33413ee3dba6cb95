"""Derived quantities and positions of the PLASTIC + MAG merge against hand computations
(numbers worked out on paper with CODATA 2018 constants; tolerances are float64 rounding)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import realdata

from magfw_plastic import derived
from magfw_plastic.positions import HAE_TO_HCI, hci_to_hae, positions, spherical_to_cartesian
from magfw_plastic.reader import read_plastic_ascii


def test_magnitude_cone_and_clock_angles():
    b = np.array([[3.0, 4.0, 0.0], [0.0, 0.0, -2.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 1.0]])
    assert derived.magnitude(b) == pytest.approx([5.0, 2.0, 1.0, np.sqrt(2)])
    # cone = acos(BR/|B|): acos(3/5) = 53.1301 deg; 90; 180; 90
    assert derived.cone_angle(b) == pytest.approx([53.13010235, 90.0, 180.0, 90.0])
    # clock = atan2(BT, BN) in 0..360: atan2(4, 0) = 90; atan2(0, -2) = 180; atan2(-1, 1) = 315
    assert derived.clock_angle(b)[[0, 1, 3]] == pytest.approx([90.0, 180.0, 315.0])


def test_pressures_beta_entropy_by_hand():
    # Np = 5 cm^-3, Tp = 1e5 K, B = 5 nT, Vp = 400 km/s
    # Pth = 5e6 * 1.380649e-23 * 1e5 = 6.903245e-12 Pa = 6.903245 pPa
    # Pmag = (5e-9)^2 / (2 * 1.25663706212e-6) = 9.947184e-12 Pa = 9.947184 pPa
    # beta = 6.903245 / 9.947184 = 0.6939899; Ptot = 16.850429 pPa
    # Pdyn = 5e6 * 1.67262192369e-27 * (4e5)^2 = 1.3380975e-9 Pa = 1.3380975 nPa
    assert derived.thermal_pressure(5.0, 1e5) == pytest.approx(6.903245, rel=1e-6)
    assert derived.magnetic_pressure(5.0) == pytest.approx(9.947184, rel=1e-6)
    assert derived.beta(5.0, 5.0, 1e5) == pytest.approx(0.6939899, rel=1e-6)
    assert derived.total_pressure(5.0, 5.0, 1e5) == pytest.approx(16.850429, rel=1e-6)
    assert derived.dynamic_pressure(5.0, 400.0) == pytest.approx(1.3380975, rel=1e-6)
    # entropy Tp / Np^(2/3): 1e5 / 8^(2/3) = 1e5 / 4 = 25000 K cm^2
    assert derived.entropy(8.0, 1e5) == pytest.approx(25000.0)
    # beta of zero field and entropy of zero density are undefined, not infinite
    assert np.isnan(derived.beta(0.0, 5.0, 1e5)) and np.isnan(derived.entropy(0.0, 1e5))
    assert np.isnan(derived.beta(np.nan, 5.0, 1e5)) and np.isnan(derived.dynamic_pressure(5.0, np.nan))


def test_direction_cosines_and_speed():
    cos, speed = derived.direction_cosines(
        np.array([[300.0, 400.0, 0.0], [0.0, 0.0, 0.0], [np.nan, 1.0, 1.0]])
    )
    assert cos[0] == pytest.approx([0.6, 0.8, 0.0]) and speed[0] == 500.0
    assert np.isnan(cos[1]).all() and np.isnan(cos[2]).all()


def test_thermal_speed_matches_the_real_file():
    # sqrt(2 k 1e5 / mp) = 40.631 km/s by hand; UNH's v_th column uses the same definition:
    # the first row of the real 1-min file has Tkin 2.03E+05 and v_th 57.9
    assert derived.thermal_speed(1e5) == pytest.approx(40.6310, abs=1e-3)
    t = read_plastic_ascii(realdata("stereo", "STA_L2_PLA_1DMax_1min_20140101_001_V09.txt"))
    ok = np.isfinite(t.get("tp")) & np.isfinite(t.get("vth"))
    # Tkin has 3 significant digits (0.25 % in v_th) and v_th one decimal (0.05 km/s)
    assert np.abs(derived.thermal_speed(t.get("tp")[ok]) - t.get("vth")[ok]).max() < 0.2


def test_spherical_and_hae_positions():
    v = spherical_to_cartesian(np.array([1.0, 2.0]), np.array([90.0, 0.0]), np.array([0.0, 90.0]))
    assert v == pytest.approx(np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]]), abs=1e-12)
    # the Sun's ascending node (ecliptic longitude 75.76 deg) is HCI +X
    node = spherical_to_cartesian(np.array([1.0]), np.array([75.76]), np.array([0.0]))
    assert HAE_TO_HCI @ node[0] == pytest.approx([1.0, 0.0, 0.0], abs=1e-12)
    # the solar pole (HCI +Z) is at ecliptic longitude 75.76 - 90 deg, latitude 90 - 7.25 deg
    pole = hci_to_hae(np.array([[0.0, 0.0, 1.0]]))[0]
    assert np.degrees(np.arctan2(pole[1], pole[0])) % 360 == pytest.approx(345.76)
    assert np.degrees(np.arcsin(pole[2])) == pytest.approx(82.75)


def test_positions_from_the_real_file():
    t = read_plastic_ascii(realdata("stereo", "STA_L2_PLA_1DMax_1min_20140101_001_V09.txt"))
    keys = ("dist_km", "lon_hee", "lat_hee", "lon_heeq", "lat_heeq", "lon_hci", "lat_hci", "lon_carr")
    p = positions({k: t.get(k)[:1] for k in keys})
    # 1.43438E+08 km / 149597870.7 km = 0.958824 AU
    assert p["R"][0] == pytest.approx(0.958824, abs=1e-6)
    assert p["RTN"][0] == pytest.approx([p["R"][0], 0.0, 0.0])
    for frame in ("HAE", "HEE", "HEEQ", "CARR"):
        assert np.linalg.norm(p[frame][0]) == pytest.approx(p["R"][0])
    # HAE(J2000) longitude by hand: Earth's heliocentric longitude on 2014-01-01 00:00 is
    # 180 + 280.47 (low-precision solar longitude of date) - 0.196 (precession since J2000)
    # = 100.27 deg; STEREO-A is 150.4749 deg ahead (HEE) -> 250.75 deg; latitude ~ HEE latitude
    hae = p["HAE"][0]
    assert np.degrees(np.arctan2(hae[1], hae[0])) % 360 == pytest.approx(250.75, abs=0.05)
    assert np.degrees(np.arcsin(hae[2] / p["R"][0])) == pytest.approx(0.0735, abs=0.01)


def test_the_daily_merge_step_applies_the_formulas():
    """The ``daily`` level's merge (its ``transform`` and ``average`` steps on arrays): one
    PLASTIC cycle of Np 5, Tp 1e5 K, Vp 400 km/s, V_RTN (300, 400, 0), starting at 00:09:40
    (middle 00:10:10: minute 10), and a MAG minute 10 of B (3, 4, 0) nT, |B| 5 nT -> the
    numbers of test_pressures_beta_entropy_by_hand in that minute, fill elsewhere."""
    from datetime import date

    from magfw_plastic.averaging import day_start_ms
    from magfw_plastic.daily import DayLocated, DayRead, MagSamples, empty_rows, merge_day

    day = date(2024, 3, 5)
    start = day_start_ms(day)
    rows = {
        k: np.array([v])
        for k, v in {
            "time_ms": start + 580_000.0,
            "np": 5.0,
            "vp": 400.0,
            "tp": 1e5,
            "vth": 40.631,
            "error": 0.0,
            "caution": 1.0,
            "dist_km": 1.43438e8,
            "lon_hee": 150.0,
            "lat_hee": 0.0,
            "lon_heeq": 10.0,
            "lat_heeq": 7.0,
            "lon_hci": 20.0,
            "lat_hci": 7.0,
            "lon_carr": 30.0,
        }.items()
    }
    rows["v_rtn"] = np.array([[300.0, 400.0, 0.0]])
    # a complete 1-Hz MAG minute 10 (its 60 samples centred at 00:10:00.5 ... 00:10:59.5)
    epoch = start + 600_500.0 + 1000.0 * np.arange(60)
    mag = MagSamples(epoch_ms=epoch, bfield=np.tile([3.0, 4.0, 0.0, 5.0], (60, 1)), filter_value=None)
    read = DayRead(sc="A", day=day, rows=rows, has_plastic=True, mag=mag, has_mag=True)
    t = merge_day(DayLocated(read=read, positions=positions(rows))).table
    assert t["Epoch"][10] == start + 630_000.0  # 00:10:30, the minute's centre
    assert (t["Np"][10], t["Vp"][10], t["Tp"][10]) == (5.0, 400.0, 1e5)
    assert t["Beta"][10] == pytest.approx(0.6939899, rel=1e-6)
    assert t["Magnetic_Pressure"][10] == pytest.approx(9.947184, rel=1e-6)
    assert t["Total_Pressure"][10] == pytest.approx(16.850429, rel=1e-6)
    assert t["Dynamic_Pressure"][10] == pytest.approx(1.3380975, rel=1e-6)
    assert t["Entropy"][10] == pytest.approx(1e5 / 5.0 ** (2 / 3))
    assert t["Cone_Angle"][10] == pytest.approx(53.13010235) and t["Clock_Angle"][10] == 90.0
    assert [t[f"V{c}_Over_V_RTN"][10] for c in "rtn"] == pytest.approx([0.6, 0.8, 0.0])
    assert t["Vp_RTN"][10] == 500.0
    assert t["Quality_Flag"][10] == 1 << 4  # error 0, caution 1, MAG complete
    assert t["R"][10] == pytest.approx(1.43438e8 / 149_597_870.7)
    others = np.arange(1440) != 10
    assert np.isnan(t["Np"][others]).all() and np.isnan(t["Beta"][others]).all()
    assert np.all(t["Quality_Flag"][others] == 15 | (3 << 4) | (1 << 6))  # no cycle, no MAG
    # no PLASTIC at all: every minute fill and flagged, the field kept
    empty = DayRead(sc="A", day=day, rows=empty_rows(), has_plastic=False, mag=read.mag, has_mag=True)
    t = merge_day(DayLocated(read=empty, positions=positions(empty.rows))).table
    assert np.isnan(t["Np"]).all() and np.isnan(t["R"]).all() and t["BTOTAL"][10] == 5.0

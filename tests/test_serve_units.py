"""``magfw serve`` pieces on arrays: HAPI time parsing and writing, vectorised number text,
dataset ids from the shipped definitions, and the ledger query the server catches up with."""

from __future__ import annotations

import numpy as np
import pytest

from magfw.geometry.time import tt2000_from_cdf_epoch, tt2000_from_iso, tt2000_from_unix, tt2000_to_iso
from magfw.serve.datasets import build_catalog, derived_id
from magfw.serve.hapi import iso_duration
from magfw.serve.numfmt import fixed, format_floats, format_ints, join_rows
from magfw.serve.reader import calendar_to_tt2000
from magfw.serve.timefmt import HapiTimeError, TimeWriter, format_hapi_time, parse_hapi_time


def _text(t) -> list[str]:
    chars, start, length = t
    return [bytes(chars[i, start[i] : start[i] + length[i]]).decode() for i in range(len(length))]


@pytest.mark.parametrize(
    "text,iso",
    [
        ("2024Z", "2024-01-01T00:00:00"),
        ("2024-03", "2024-03-01T00:00:00"),
        ("2024-03-05Z", "2024-03-05T00:00:00"),
        ("2024-065", "2024-03-05T00:00:00"),
        ("2024-065T12Z", "2024-03-05T12:00:00"),
        ("2024-03-05T12:34", "2024-03-05T12:34:00"),
        ("2024-03-05T12:34:56.789123456Z", "2024-03-05T12:34:56.789123456"),
        ("2024-03-05T24:00Z", "2024-03-06T00:00:00"),
        ("2016-12-31T23:59:60.5Z", "2016-12-31T23:59:60.5"),
    ],
)
def test_hapi_times_parse(text, iso):
    assert parse_hapi_time(text) == int(tt2000_from_iso(iso))


@pytest.mark.parametrize(
    "text",
    [
        "2024-13-01",
        "2024-02-30",
        "2024-367",
        "2023-366",
        "yesterday",
        "2024-03-05T25:00",
        "2024-03-05T12:60",
        "2024T12",
        "2024-03-05T23:59:60",
        "2024-03-05T24:00:01",
        "",
    ],
)
def test_bad_hapi_times_are_refused(text):
    with pytest.raises(HapiTimeError):
        parse_hapi_time(text)


def test_times_are_written_fixed_width_with_leap_seconds_and_no_rounding_up():
    iso = [
        "2016-12-31T23:59:59.999999999",
        "2016-12-31T23:59:60.25",
        "2017-01-01T00:00:00",
        "2024-02-29T12:00:00.000000500",
        "1999-12-31T23:59:59.9999996",
    ]
    tt = tt2000_from_iso(np.array(iso))
    us = [bytes(r).decode() for r in TimeWriter(6).format(tt)]
    ns = [bytes(r).decode() for r in TimeWriter(9).format(tt)]
    assert us == [
        "2016-12-31T23:59:59.999999Z",
        "2016-12-31T23:59:60.250000Z",
        "2017-01-01T00:00:00.000000Z",
        "2024-02-29T12:00:00.000000Z",
        "1999-12-31T23:59:59.999999Z",
    ]
    assert ns == [tt2000_to_iso(t) + "Z" for t in tt]
    assert format_hapi_time(int(tt[2])) == "2017-01-01T00:00:00.000000Z"
    rng = np.random.default_rng(3)
    many = tt2000_from_iso("2015-06-29T00:00:00") + rng.integers(0, 4 * 86400 * 10**9, 5000)
    got = [bytes(r).decode()[:-1] for r in TimeWriter(9).format(many)]
    assert got == list(tt2000_to_iso(many))


def test_calendar_times_convert_like_the_core():
    ms = 63871286400000.0 + np.array([0.0, 62.5, 86399937.5, 1e3 * 86400 * 40 + 0.125])
    tt, ok = calendar_to_tt2000(ms, 86_400_000.0, 719_528)
    np.testing.assert_array_equal(tt, tt2000_from_cdf_epoch(ms))
    unix = np.array([1.7e9, 1.7e9 + 0.128, 1483228799.5, 1483228800.0, np.nan])
    tt, ok = calendar_to_tt2000(unix, 86_400.0, 0)
    np.testing.assert_array_equal(tt[ok], tt2000_from_unix(unix[ok]))
    assert list(ok) == [True] * 4 + [False]


def test_floats_read_back_exactly():
    rng = np.random.default_rng(1)
    f32 = (rng.standard_normal(20000) * 10.0 ** rng.uniform(-40, 38, 20000)).astype(np.float32)
    f32 = f32[np.isfinite(f32)]
    back = np.array(_text(format_floats(f32.astype(np.float64), 9))).astype(np.float64)
    np.testing.assert_array_equal(back.astype(np.float32), f32)
    f64 = rng.standard_normal(20000) * 10.0 ** rng.uniform(-300, 300, 20000)
    back = np.array(_text(format_floats(f64, 17))).astype(np.float64)
    np.testing.assert_array_equal(back, f64)
    special = np.array([0.0, -1e31, np.nan, np.inf, -np.inf])
    assert _text(format_floats(special, 9)) == [
        "0.00000000e+00",
        "-1.00000000e+31",
        "NaN",
        "Infinity",
        "-Infinity",
    ]
    assert _text(format_floats(np.array([1e-300, 2.5]), 9)) == ["1.00000000e-300", "2.50000000e+000"]
    assert _text(format_ints(np.array([0, -7, 255, 4294967295, -(2**40)]))) == [
        "0",
        "-7",
        "255",
        "4294967295",
        "-1099511627776",
    ]


def test_rows_are_joined_with_their_separators():
    t = fixed(np.frombuffer(b"AAAABBBB", dtype=np.uint8).reshape(2, 4))
    n = format_ints(np.array([1, -22]))
    assert join_rows([t, b",", n, b"\n"]) == b"AAAA,1\nBBBB,-22\n"
    assert join_rows([b"[", t, b",", n, b"]"]) == b"[AAAA,1][BBBB,-22]"


def test_iso_durations():
    assert [iso_duration(s) for s in (0.125, 60, 86400, 4e6, 0.03125)] == [
        "PT0.125S",
        "PT1M",
        "P1D",
        "P46DT7H6M40S",
        "PT0.03125S",
    ]


def test_dataset_ids_of_the_shipped_definitions():
    from magfw.plugin.manager import get_hooks

    catalog = build_catalog(list(get_hooks().registry))
    for expected in [
        "STA_L1_MAG_RTN",
        "STB_L1_MAG_RTN",
        "STA_L1_MAG_RTN_1MIN",
        "STA_L1_MAG_SC_1S",
        "STA_L1_MAGB_RTN",
        "STA_L1_MAG_RTN_FF",
        "L2_AL1_MAG",
        "ADITYA_L1",
        "STA_LB_MAG_RTN",
        "STA_L1_MAG_RTN_REVIEW",
        "STA_L1_MAGB_SC_REVIEW",
    ]:
        assert expected in catalog, expected
    rtn = catalog["STA_L1_MAG_RTN"]
    assert (rtn.mission, rtn.definition.id, rtn.spacecraft, rtn.daily) == ("stereo", "l1_mag_rtn", "A", True)
    assert "STA_L2_MAGPLASMA_1M" in catalog or not any(d.mission == "plastic" for d in catalog.values())
    assert all("," not in k for k in catalog)
    # no bytes/png products, no definition without a time variable
    assert not any(d.definition.format in ("bytes", "png") for d in catalog.values())


def test_logical_source_names_the_dataset_when_a_definition_has_one(example_hooks):
    (m,) = list(example_hooks.registry)
    catalog = build_catalog([m])
    assert list(catalog) == ["example_l1_mag", "example_l2_mag"]  # the daily CDF, the monthly netCDF
    assert derived_id(m.products[0], {}) == "example_l1_mag"


def test_serving_adds_nothing_to_definitions_digests():
    """magfw serve derives everything from what definitions hold: the digests that decide
    whether a unit is unchanged are the ones of the shipped definitions before it."""
    from magfw.plugin.definitions import ProductDefinition

    assert "Logical_source" not in ProductDefinition.model_fields
    assert not any(name.startswith(("hapi", "serve", "dataset")) for name in ProductDefinition.model_fields)


def test_ledger_runs_after_gives_what_history_gives(tmp_path):
    from magfw.engine.ledger import Ledger, LedgerEntry

    ledger = Ledger(tmp_path / "ledger.sqlite")
    for i in range(5):
        ledger.record(
            LedgerEntry(
                unit=f"m/l/-/2024-01-0{i + 1}",
                status="ok" if i % 2 else "failed",
                versions={"v": i},
                inputs=[{"role": "data", "name": f"in{i}", "sha256": "a" * 64, "size": i}],
                outputs=[{"path": f"p{i}", "product": "x", "sha256": "b" * 64, "size": 1}] if i % 2 else [],
            )
        )
    everything = ledger.history()
    assert [e.__dict__ for e in ledger.runs_after(0)] == [e.__dict__ for e in everything]
    assert [e.id for e in ledger.runs_after(everything[2].id)] == [e.id for e in everything[3:]]
    assert ledger.runs_after(everything[-1].id) == []

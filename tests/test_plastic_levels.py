"""The monthly and yearly levels of the PLASTIC merge on arrays and small trees: days as ranges,
the gap attributes, the day-by-day stacking, averages made a day at a time equal to averages of
the whole table, the check of a merged daily CDF read back, and a damaged daily product left
out of its month with a warning (fast: no simulated archive)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from magfw.api import InputError, Product, read_product, shipped_definitions, write_product
from magfw.testing import make_hooks, run_level
from magfw_plastic import plugin as plastic_plugin
from magfw_plastic import products as pr
from magfw_plastic.averaging import day_start_ms
from magfw_plastic.collect import (
    Coverage,
    DayStack,
    days_text,
    parse_days,
    read_daily,
    read_daily_flatfile,
)
from magfw_plastic.yearly import YearRecords, day_averages

DEFINITIONS = {d.id: d for d in shipped_definitions("plastic")}
DAILY, DAILY_FF = DEFINITIONS["merged_daily"], DEFINITIONS["merged_daily_ff"]


def test_days_as_ranges_and_back():
    days = [
        date(2024, 2, 27),
        date(2024, 2, 28),
        date(2024, 2, 29),
        date(2024, 3, 1),
        date(2024, 3, 5),
        date(2024, 3, 7),
        date(2024, 3, 8),
    ]
    text = days_text(list(reversed(days)))
    assert text == "2024-02-27..2024-03-01, 2024-03-05, 2024-03-07..2024-03-08"
    assert parse_days(text) == days
    assert days_text([]) == "" and parse_days("none") == []


def test_coverage_names_the_missing_days_of_its_span():
    cov = Coverage(
        first=date(2024, 2, 1),
        last=date(2024, 2, 29),
        present=[date(2024, 2, 1), date(2024, 2, 2), date(2024, 2, 4)],
        no_plastic=[date(2024, 2, 2)],
    )
    assert cov.attrs() == {
        "PLASTIC_missing_days": "2024-02-02",
        "MAG_missing_days": "none",
        "Days_without_inputs": "2024-02-03, 2024-02-05..2024-02-29",
    }


def test_day_stack_fills_in_day_order_and_checks_lengths():
    stack = DayStack(3, per_day=4)
    stack.add({"a": np.arange(4.0), "v": np.ones((4, 3), np.float32)})
    stack.add({"a": np.arange(4.0) + 10, "v": np.zeros((4, 3), np.float32)})
    cols = stack.columns()  # two of three days added
    assert cols["a"].tolist() == [0, 1, 2, 3, 10, 11, 12, 13]
    assert cols["v"].shape == (8, 3) and cols["v"].dtype == np.float32
    with pytest.raises(ValueError, match="has 5 records, a day has 4"):
        stack.add({"a": np.arange(5.0), "v": np.zeros((5, 3), np.float32)})


def synthetic_table(days: list[date], seed: int = 0) -> dict[str, np.ndarray]:
    """A merged 1-min table of ``days`` with random values and gaps (NaN)."""
    rng = np.random.default_rng(seed)
    n = 1440 * len(days)
    t: dict[str, np.ndarray] = {
        "Epoch": np.concatenate([day_start_ms(d) + (np.arange(1440) + 0.5) * 60_000.0 for d in days])
    }
    for name in pr.SCALARS:
        t[name] = rng.uniform(0.1, 10.0, n)
    for name in pr.VECTORS:
        t[name] = rng.normal(0.0, 3.0, (n, 3))
    cos = rng.normal(0.0, 1.0, (n, 3))
    cos /= np.linalg.norm(cos, axis=1)[:, None]
    for j, name in enumerate(pr.COSINES):
        t[name] = cos[:, j]
    gaps = rng.random(n) < 0.1
    for name in ("Np", "BFIELDRTN", "Vp_RTN"):
        t[name][gaps] = np.nan
    t[f"{'Tp'}"][1440 : 1440 + 700] = np.nan  # most of a day without temperature
    t["Quality_Flag"] = rng.integers(0, 500, n).astype(np.uint16)
    return t


@pytest.mark.parametrize("width_s", [600, 3600])
def test_averages_made_a_day_at_a_time_equal_those_of_the_whole_year(width_s):
    days = [date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)]
    variables = pr.record_variables(synthetic_table(days))
    records = YearRecords(
        sc="A", variables=variables, coverage=Coverage(first=days[0], last=days[-1], present=days)
    )
    by_day = day_averages(records, width_s)
    whole = pr.average_variables(pr.averages(pr.table_from_variables(variables), float(width_s)))
    assert by_day.keys() == whole.keys()
    for name in whole:
        assert np.array_equal(by_day[name], whole[name], equal_nan=True), name
    assert by_day["TIME"].size == 3 * 86_400 // width_s


def write_daily(out: Path, day: date, **attrs: str) -> Path:
    """A merged daily CDF of ``day`` in the tree (a synthetic table), and its flat file."""
    table = synthetic_table([day])
    gaps = {"Source_name": "Ahead>STEREO Ahead", "Logical_source": "STA_L2_MAGPLASMA_1M_DAILY", **attrs}
    fields = {"sc": "A", "yyyy": day.year, "mm": day.month, "dd": day.day, "version": 7}
    ff = Product(
        definition=DAILY_FF,
        variables=pr.flatfile_variables(table),
        attrs={k.upper().replace("_", " "): v for k, v in attrs.items()},
    )
    write_product(ff, out / DAILY_FF.filename.format(**fields), {})
    product = Product(definition=DAILY, variables=pr.cdf_variables(table), attrs=gaps)
    write_product(product, out / DAILY.filename.format(**fields), {})
    return out / DAILY.filename.format(**fields)


def test_a_daily_cdf_read_back_is_checked(tmp_path):
    day = date(2024, 3, 2)
    path = write_daily(tmp_path, day, PLASTIC_missing_days="2024-03-02", MAG_missing_days="none")
    rec = read_daily(path, day)
    assert (rec.has_plastic, rec.has_mag) == (False, True) and rec.columns["Epoch"].size == 1440
    ff = tmp_path / DAILY_FF.filename.format(sc="A", yyyy=2024, mm=3, dd=2, version=7)
    rec = read_daily_flatfile(ff, day, DAILY_FF)
    assert (rec.has_plastic, rec.has_mag) == (False, True)
    assert rec.columns["B"].shape == (1440, 3) and rec.columns["TIME"].dtype == np.int64
    with pytest.raises(InputError, match="not the 1440 minute centres of 2024-03-03") as exc:
        read_daily(path, date(2024, 3, 3))
    assert str(exc.value).startswith(str(path))
    with pytest.raises(InputError, match="not the 1440 minute centres of 2024-03-03"):
        read_daily_flatfile(ff, date(2024, 3, 3), DAILY_FF)
    path.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(InputError) as exc:
        read_daily(path, day)
    assert str(exc.value).startswith(str(path)) and "\n" not in str(exc.value)


def test_a_damaged_daily_product_is_left_out_of_its_month_and_year(tmp_path, caplog):
    out, empty = tmp_path / "out", tmp_path / "empty"
    empty.mkdir()
    write_daily(out, date(2024, 3, 1), PLASTIC_missing_days="none", MAG_missing_days="2024-03-01")
    bad = write_daily(out, date(2024, 3, 2))
    bad.write_bytes(bad.read_bytes()[:3000])  # the CDF, read by the year
    bad_ff = out / DAILY_FF.filename.format(sc="A", yyyy=2024, mm=3, dd=2, version=7)
    ffd = bad_ff.with_suffix(".ffd")
    ffd.write_bytes(ffd.read_bytes()[:1000])  # the flat file, read by the month
    hooks = make_hooks(plastic_plugin, names=["plastic"])  # stereo not loaded: MAG from files
    with caplog.at_level("WARNING", logger="magfw"):
        summary = run_level(
            hooks, "plastic", "l2", "2024-03", out, source=str(empty), spacecraft="A", options={}
        )
    assert summary.ok, [r.message for r in summary.results]
    assert {r.status for r in summary.results if r.level == "daily"} == {"skipped"}  # no inputs
    assert "2024-03: day 2024-03-02 left out: " in caplog.text
    assert f"2024: day 2024-03-02 left out: {bad}" in caplog.text
    month = read_product(out / "monthly_flatfile/Afgy2024/mar_STA_L2_MAGPLASMA_1M_2024_V07.ffh")
    assert month.variables["TIME"].size == 1440
    assert month.global_attrs["DAYS WITHOUT INPUTS"] == "2024-03-02..2024-03-31"
    assert month.global_attrs["MAG MISSING DAYS"] == "2024-03-01"
    year = read_product(out / "yearly_cdf/sta_l2_magplasma_1m_20240101_v07.cdf")
    assert year.global_attrs["Days_in_file"] == "2024-03-01"
    assert year.global_attrs["MAG_missing_days"] == "2024-03-01"

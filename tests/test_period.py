from datetime import date

import pytest

from magfw.errors import UsageError
from magfw.period import Period, parse_period, plan_units


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2024", date(2024, 1, 1), date(2024, 12, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),  # leap year
        ("2023-02", date(2023, 2, 1), date(2023, 2, 28)),
        ("2024-08-01", date(2024, 8, 1), date(2024, 8, 1)),
        ("2024-01-30..2024-02-02", date(2024, 1, 30), date(2024, 2, 2)),
        ("2023-12..2024-01", date(2023, 12, 1), date(2024, 1, 31)),
        ("2016..2017", date(2016, 1, 1), date(2017, 12, 31)),
    ],
)
def test_parse_period_forms(text, start, end):
    p = parse_period(text)
    assert (p.start, p.end) == (start, end)
    assert p.n_days == (end - start).days + 1


@pytest.mark.parametrize("text", ["2024-13", "24-01", "2024-02-30", "2024-03..2024-01", "", "jan"])
def test_parse_period_rejects(text):
    with pytest.raises(UsageError) as exc:
        parse_period(text)
    assert "\n" not in str(exc.value) and "PERIOD" in str(exc.value)
    assert exc.value.exit_code == 2


def test_plan_units_days_months_years():
    p = parse_period("2023-12-30..2024-01-02")
    assert [u.key for u in plan_units(p)] == ["2023-12-30", "2023-12-31", "2024-01-01", "2024-01-02"]
    months = plan_units(p, "month")
    assert [(u.key, u.start, u.end) for u in months] == [  # whole months, not clipped
        ("2023-12", date(2023, 12, 1), date(2023, 12, 31)),
        ("2024-01", date(2024, 1, 1), date(2024, 1, 31)),
    ]
    years = plan_units(parse_period("2024-03-05"), "year")
    assert [(u.key, u.start, u.end) for u in years] == [("2024", date(2024, 1, 1), date(2024, 12, 31))]
    years = plan_units(parse_period("2023..2024"), "year")
    assert [(u.key, u.start, u.end) for u in years] == [
        ("2023", date(2023, 1, 1), date(2023, 12, 31)),
        ("2024", date(2024, 1, 1), date(2024, 12, 31)),
    ]
    assert len(plan_units(parse_period("2024"))) == 366
    assert isinstance(years[0].period, Period)


@pytest.mark.parametrize(
    ("unit", "lag", "today", "expected"),
    [
        ("month", 2, date(2026, 3, 1), "2026-01"),
        ("month", 2, date(2026, 1, 31), "2025-11"),
        ("month", 2, date(2026, 2, 14), "2025-12"),
        ("month", 0, date(2026, 2, 14), "2026-02"),
        ("month", 14, date(2026, 2, 14), "2024-12"),
        ("year", 1, date(2026, 2, 14), "2025"),
        ("day", 3, date(2026, 3, 1), "2026-02-26"),
    ],
)
def test_default_period_is_the_whole_unit_lag_units_back(unit, lag, today, expected):
    from magfw.period import DefaultPeriod

    rule = DefaultPeriod(unit, lag)
    assert rule.period(today) == parse_period(expected)
    assert rule.period(today, lag=0) == rule.__class__(unit, 0).period(today)
    with pytest.raises(ValueError):
        DefaultPeriod(unit, -1)

"""The cockpit's KPI formulas and periods (onemap/domain/kpi.py), against published figures."""

from datetime import date

import pytest

from onemap.domain import kpi


def test_registration_rate_as_fuzhou_published_it():
    # Fuzhou: 33,928 registered of 36,314 received = 93.43 %
    rate = kpi.values({"received": 36_314, "registered": 33_928})["registration_rate"]
    assert round(rate, 2) == 93.43


def test_closure_and_on_time_closure_as_tianmen_published_them():
    # Tianmen: 911 closed and 737 on time of 972 due = 93.72 % and 75.82 %
    counts = {"closed": 911, "closed_on_time": 737, "overdue_open": 972 - 911}
    values = kpi.values(counts)
    assert kpi.with_derived(counts)["due"] == 972
    assert round(values["closure_rate"], 2) == 93.72
    assert round(values["on_time_closure_rate"], 2) == 75.82


def test_no_case_due_gives_no_rate_rather_than_zero_or_an_error():
    values = kpi.values({"received": 3, "registered": 2})
    assert values["closure_rate"] is None
    assert values["on_time_closure_rate"] is None
    assert values["average_handling_hours"] is None
    assert values["satisfaction_rate"] is None
    assert values["registration_rate"] == pytest.approx(200 / 3)
    assert values["received"] == 3.0


def test_average_handling_time_is_in_working_hours():
    values = kpi.values({"handled": 4, "handling_minutes": 4 * 90})
    assert values["average_handling_hours"] == pytest.approx(1.5)


def test_every_kpi_names_a_definition_and_a_source_and_counts_that_exist():
    known = {*kpi.KEPT_COUNTS, *kpi.LIVE_COUNTS, "due"}
    for item in kpi.KPIS.values():
        assert item.numerator in known and (item.denominator in known | {None}), item.key
        assert "=" in item.definition or "：" in item.definition, item.key
        assert item.reference, item.key


@pytest.mark.parametrize("kind, anchor, start, end", [
    ("day", date(2026, 10, 1), date(2026, 10, 1), date(2026, 10, 2)),
    ("week", date(2026, 12, 4), date(2026, 11, 30), date(2026, 12, 7)),  # Friday → Monday
    ("week", date(2026, 11, 30), date(2026, 11, 30), date(2026, 12, 7)),
    ("month", date(2026, 2, 28), date(2026, 2, 1), date(2026, 3, 1)),
    ("quarter", date(2026, 11, 15), date(2026, 10, 1), date(2027, 1, 1)),
    ("year", date(2026, 6, 30), date(2026, 1, 1), date(2027, 1, 1)),
])
def test_a_period_holds_its_anchor(kind, anchor, start, end):
    period = kpi.period_of(kind, anchor)
    assert (period.start, period.end) == (start, end)
    assert period.start <= anchor < period.end


def test_period_on_period_and_year_on_year():
    march = kpi.period_of("month", date(2026, 3, 31))
    assert (kpi.previous(march).start, kpi.previous(march).end) == (date(2026, 2, 1),
                                                                    date(2026, 3, 1))
    quarter = kpi.period_of("quarter", date(2026, 1, 5))
    assert kpi.previous(quarter).start == date(2025, 10, 1)
    custom = kpi.Period("custom", date(2026, 5, 1), date(2026, 5, 11))
    assert (kpi.previous(custom).start, kpi.previous(custom).end) == (date(2026, 4, 21),
                                                                      date(2026, 5, 1))
    leap_day = kpi.period_of("day", date(2028, 2, 29))
    assert kpi.year_before(leap_day).start == date(2027, 2, 28)
    week = kpi.period_of("week", date(2026, 12, 4))
    assert kpi.previous(week).start == date(2026, 11, 23)


def test_a_period_must_end_after_it_starts():
    with pytest.raises(ValueError):
        kpi.Period("custom", date(2026, 5, 1), date(2026, 5, 1))
    with pytest.raises(ValueError):
        kpi.period_of("custom", date(2026, 5, 1))


def test_a_rate_changes_in_points_a_count_relatively_and_better_follows_the_kpi():
    closure = kpi.KPIS["closure_rate"]
    up = kpi.change(closure, 93.72, 90.0)
    assert up.in_points and up.amount == pytest.approx(3.72) and up.better is True
    overdue = kpi.KPIS["overdue"]
    more = kpi.change(overdue, 12, 10)
    assert not more.in_points and more.amount == pytest.approx(0.2) and more.better is False
    assert kpi.change(overdue, 5, 0).amount is None  # from nothing: no ratio
    assert kpi.change(closure, None, 90.0).amount is None
    assert kpi.change(closure, 90.0, 90.0).better is None

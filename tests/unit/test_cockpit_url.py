"""The cockpit's URL (pages/cockpit_url.py): each part checked, a bad one falls back."""

from datetime import date

from pages.cockpit_url import DEFAULT_KPI, view_from_url

TODAY = date(2026, 12, 4)
STREET = "210103001"


def test_defaults_are_this_month_in_the_scope():
    view = view_from_url({}, STREET, TODAY)
    assert (view.period.kind, view.period.start, view.unit, view.kpi) == (
        "month", date(2026, 12, 1), STREET, DEFAULT_KPI)
    assert view.query() == {"period": "month", "date": "2026-12-04", "unit": STREET,
                            "kpi": DEFAULT_KPI}


def test_a_unit_outside_the_scope_or_malformed_is_the_scope():
    for unit in ("210103", "210103002", "210103001' OR 1=1", "2101030010", ["210103001001"]):
        assert view_from_url({"unit": unit}, STREET, TODAY).unit == STREET
    assert view_from_url({"unit": "210103001001"}, STREET, TODAY).unit == "210103001001"


def test_a_custom_period_round_trips_and_a_bad_one_falls_back():
    view = view_from_url({"period": "custom", "start": "2026-05-01", "end": "2026-05-10"},
                         STREET, TODAY)
    assert (view.period.start, view.period.end, view.period.days) == (
        date(2026, 5, 1), date(2026, 5, 11), 10)
    assert view_from_url(view.query(), STREET, TODAY) == view
    for bad in ({"start": "2026-05-10", "end": "2026-05-01"}, {"start": "2026-13-01"},
                {"start": "2020-01-01", "end": "2026-01-01"}, {}):
        assert view_from_url({"period": "custom", **bad}, STREET, TODAY).period.kind == "month"


def test_unknown_kinds_dates_and_kpis_fall_back():
    view = view_from_url({"period": "decade", "date": "yesterday", "kpi": "__class__"},
                         STREET, TODAY)
    assert (view.period.kind, view.anchor, view.kpi) == ("month", TODAY, DEFAULT_KPI)
    quarter = view_from_url({"period": "quarter", "date": "2026-05-20"}, STREET, TODAY)
    assert (quarter.period.start, quarter.period.end) == (date(2026, 4, 1), date(2026, 7, 1))


def test_a_wall_s_rotation_is_kept_within_bounds():
    assert view_from_url({}, STREET, TODAY).rotate is None
    assert view_from_url({"rotate": "30"}, STREET, TODAY).query()["rotate"] == "30"
    assert view_from_url({"rotate": "1"}, STREET, TODAY).rotate == 10
    assert view_from_url({"rotate": "99999"}, STREET, TODAY).rotate == 600
    assert view_from_url({"rotate": "-5"}, STREET, TODAY).rotate is None

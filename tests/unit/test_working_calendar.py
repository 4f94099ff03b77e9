"""Time limits on the working calendar: weekends, the State Council's holidays and make-up
days (调休), after hours and the lunch break, emergencies on the clock, warning at 80 %."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata.working_calendar import (
    CalendarFileError,
    build_calendar,
    last_noticed_year,
    read_overrides,
)
from onemap.domain.working_calendar import (
    TimeLimit,
    WorkingCalendar,
    due_at,
    parse_office_hours,
    urgency,
    used_share,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = build_calendar("08:30-12:00,13:30-17:30", {})
HOURS = TimeLimit(4, "working_hours")


def at(year, month, day, hour=0, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def test_a_limit_inside_one_morning():
    assert due_at(CALENDAR, at(2026, 12, 1, 9), TimeLimit(2, "working_hours")) == at(
        2026, 12, 1, 11)


def test_the_lunch_break_does_not_count():
    # Tuesday 11:00 + 2 h: one hour before noon, one after 13:30
    assert due_at(CALENDAR, at(2026, 12, 1, 11), TimeLimit(2, "working_hours")) == at(
        2026, 12, 1, 14, 30)


def test_a_weekend_does_not_count():
    # Friday 16:00 + 4 h: 1.5 h on Friday, 2.5 h from Monday 08:30
    assert due_at(CALENDAR, at(2026, 12, 4, 16), HOURS) == at(2026, 12, 7, 11)


def test_a_stage_that_starts_after_hours_counts_from_the_next_opening():
    # Tuesday 20:00 + 4 h: 3.5 h on Wednesday morning, half an hour after lunch
    assert due_at(CALENDAR, at(2026, 12, 1, 20), HOURS) == at(2026, 12, 2, 14)
    assert due_at(CALENDAR, at(2026, 12, 1, 12, 30), TimeLimit(1, "working_hours")) == at(
        2026, 12, 1, 14, 30)


def test_a_public_holiday_does_not_count():
    # National Day 2026: 1-7 October off. Wednesday 30 September 16:00 + 4 h
    assert due_at(CALENDAR, at(2026, 9, 30, 16), HOURS) == at(2026, 10, 8, 11)


def test_a_make_up_saturday_is_a_working_day():
    # Saturday 10 October 2026 is worked in exchange for National Day (调休)
    assert CALENDAR.is_working_day(date(2026, 10, 10))
    assert not CALENDAR.is_working_day(date(2026, 10, 17))  # an ordinary Saturday
    assert due_at(CALENDAR, at(2026, 10, 9, 17), HOURS) == at(2026, 10, 10, 12)
    # and Sunday 20 September, worked before the holiday
    assert due_at(CALENDAR, at(2026, 9, 19, 9), TimeLimit(1, "working_hours")) == at(
        2026, 9, 20, 9, 30)


def test_working_days_are_whole_office_days():
    assert CALENDAR.day_length == timedelta(hours=7, minutes=30)
    # Thursday 10:00 + 2 working days = Monday 10:00
    assert due_at(CALENDAR, at(2026, 12, 3, 10), TimeLimit(2, "working_days")) == at(
        2026, 12, 7, 10)
    # and across the Spring Festival 2026: Friday 13 February 10:00 has 6 h left that day,
    # Saturday 14 is worked (7.5 h), 15-23 are off, and Tuesday 24 gives the last 1.5 h
    assert due_at(CALENDAR, at(2026, 2, 13, 10), TimeLimit(2, "working_days")) == at(
        2026, 2, 24, 10)


def test_emergencies_run_on_the_clock():
    friday_evening = at(2026, 12, 4, 20)
    assert due_at(CALENDAR, friday_evening, HOURS, level=1) == at(2026, 12, 5, 0)
    assert due_at(CALENDAR, friday_evening, TimeLimit(1, "working_days"), level=2) == at(
        2026, 12, 5, 20)
    assert due_at(CALENDAR, friday_evening, HOURS, level=3) == at(2026, 12, 7, 14)
    assert due_at(CALENDAR, friday_evening, TimeLimit(3, "days")) == at(2026, 12, 7, 20)
    assert due_at(CALENDAR, friday_evening, TimeLimit(0.5, "hours")) == at(2026, 12, 4, 20, 30)


def test_yellow_at_80_percent_and_red_past_the_limit():
    start = at(2026, 12, 4, 16)  # Friday: due Monday 11:00 (4 working hours)
    due = due_at(CALENDAR, start, HOURS)
    share = [used_share(CALENDAR, start, due, now, working=True)
             for now in (at(2026, 12, 4, 17), at(2026, 12, 6, 12), at(2026, 12, 7, 10, 30),
                         due, due + timedelta(minutes=1))]
    assert share[0] == pytest.approx(0.25)
    assert share[1] == pytest.approx(1.5 / 4)  # the weekend uses none of it
    assert share[2] == pytest.approx(3.5 / 4)
    assert [urgency(s) for s in share] == ["normal", "normal", "warning", "warning", "overdue"]
    clock_start = at(2026, 12, 4, 20)
    clock_due = due_at(CALENDAR, clock_start, HOURS, level=1)
    assert used_share(CALENDAR, clock_start, clock_due, at(2026, 12, 4, 23, 12),
                      working=False) == pytest.approx(0.8)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31)),
       minutes=st.integers(min_value=0, max_value=60 * 200))
def test_working_time_between_undoes_adding_it(start, minutes):
    start = start.replace(tzinfo=SHANGHAI)
    end = CALENDAR.add_working_time(start, timedelta(minutes=minutes))
    assert end >= start
    assert CALENDAR.working_time_between(start, end) == timedelta(minutes=minutes)


def test_a_calendar_refuses_what_cannot_be_counted():
    with pytest.raises(ValueError, match="unit must be one of"):
        TimeLimit(4, "fortnights")
    with pytest.raises(ValueError, match="more than zero"):
        TimeLimit(0, "hours")
    with pytest.raises(ValueError, match="in order"):
        WorkingCalendar(periods=((time(13, 30), time(17, 30)), (time(8, 30), time(12))))
    with pytest.raises(ValueError, match="read like"):
        parse_office_hours("8.30 to 12")
    assert parse_office_hours("09:00-17:00") == ((time(9), time(17)),)


def test_the_notices_come_from_the_library_and_overrides_win(tmp_path):
    assert last_noticed_year() >= 2026
    assert not CALENDAR.is_working_day(date(2025, 1, 28))  # Spring Festival 2025
    assert CALENDAR.is_working_day(date(2025, 1, 26))  # a Sunday worked for it
    overrides = tmp_path / "overrides.csv"
    overrides.write_text("date,kind,note\n2026-12-07,day_off,区里停电\n"
                         "2026-12-12,day_on,补班\n2026-10-10,day_off,改了\n", encoding="utf-8")
    local = build_calendar("08:30-12:00,13:30-17:30", read_overrides(overrides))
    assert not local.is_working_day(date(2026, 12, 7))
    assert local.is_working_day(date(2026, 12, 12))
    assert not local.is_working_day(date(2026, 10, 10))  # the district's word over the notice


@pytest.mark.parametrize("content, where", [
    ("when,kind\n2026-12-07,day_off\n", "lacks column(s) date"),
    ("date,kind\n2026-13-07,day_off\n", "row 2, date: not a date"),
    ("date,kind\n2026-12-07,day_off\n2026-12-08,holiday\n", "row 3, kind: must be one of"),
    ("date,kind\n2026-12-07,day_off\n2026-12-07,day_on\n", "row 3, date: 2026-12-07 given"),
])
def test_a_bad_overrides_file_says_what_and_where(tmp_path, content, where):
    path = tmp_path / "overrides.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CalendarFileError, match=where.replace("(", r"\(").replace(")", r"\)")):
        read_overrides(path)

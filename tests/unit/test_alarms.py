"""Sensor alarms as pure rules: what a batch must hold, when a reading is past a threshold,
when an excursion ends (with hysteresis), what a run of readings raises and clears, which
case an alarm goes to, and what the case says (never who wears the sensor)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from onemap.domain import alarms
from onemap.domain.alarms import Change, Thresholds, excursion, follow, recovered
from onemap.domain.vocab import ALARM_DIRECTIONS, EVENT_LEVELS, SENSOR_KINDS

BEIJING = timezone(timedelta(hours=8))
NOW = datetime(2026, 12, 7, 9, 30, tzinfo=BEIJING)
GAS = Thresholds("gas", None, 20.0)
PRESSURE = Thresholds("water_pressure", 0.15, 0.60)
BUTTON = Thresholds("emergency_button")


def _at(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def _item(sensor="IOT0000001", at="2026-12-07T09:00:00+08:00", value=1.5):
    return {"sensor": sensor, "at": at, "value": value}


# -- the batch --------------------------------------------------------------------------------

def test_a_batch_is_parsed_into_aware_readings():
    parsed = alarms.parse_readings({"readings": [
        _item(), _item(at="2026-12-07T01:05:00Z", value=3)]}, NOW)
    assert parsed == [
        alarms.Reading("IOT0000001", datetime(2026, 12, 7, 9, 0, tzinfo=BEIJING), 1.5),
        alarms.Reading("IOT0000001", datetime(2026, 12, 7, 9, 5, tzinfo=BEIJING), 3.0)]


@pytest.mark.parametrize("item, field", [
    (_item(value="1.5"), "value"),
    (_item(value=True), "value"),
    (_item(value=None), "value"),
    (_item(value=math.nan), "value"),
    (_item(value=math.inf), "value"),
    (_item(at="2026-12-07T09:00:00"), "at"),  # no offset: whose 9 o'clock?
    (_item(at="yesterday"), "at"),
    (_item(at=1733540000), "at"),
    (_item(at="2026-12-07T09:36:00+08:00"), "at"),  # six minutes ahead of the server
    (_item(at="1970-01-01T00:00:00Z"), "at"),  # a device whose clock was never set
    (_item(sensor=""), "sensor"),
    (_item(sensor=7), "sensor"),
    (_item(sensor="x" * 33), "sensor"),
    (_item(sensor=" IOT1"), "sensor"),
])
def test_each_bad_reading_is_named_by_its_place_and_field(item, field):
    with pytest.raises(alarms.InvalidReadings) as refused:
        alarms.parse_readings({"readings": [_item(), _item(at="2026-12-07T09:01:00+08:00"),
                                            item]}, NOW)
    assert list(refused.value.errors) == [f"readings[2].{field}"]


def test_every_bad_reading_is_named_at_once():
    with pytest.raises(alarms.InvalidReadings) as refused:
        alarms.parse_readings({"readings": [_item(value="x"), _item(), "text",
                                            _item(sensor=None, at="no")]}, NOW)
    assert list(refused.value.errors) == ["readings[0].value", "readings[2]",
                                          "readings[3].sensor", "readings[3].at"]


def test_a_little_clock_skew_is_allowed():
    ahead = (NOW + alarms.CLOCK_SKEW - timedelta(seconds=1)).isoformat()
    assert alarms.parse_readings({"readings": [_item(at=ahead)]}, NOW)[0].at > NOW


@pytest.mark.parametrize("body", [None, [], {"readings": []}, {"readings": {"a": 1}},
                                  {"readings": [_item()] * 1001}, {"reading": [_item()]}])
def test_the_batch_itself_must_hold_1_to_1000_readings(body):
    with pytest.raises(alarms.InvalidReadings) as refused:
        alarms.parse_readings(body, NOW)
    assert set(refused.value.errors) <= {"body", "readings"}


def test_one_reading_twice_is_one_and_two_values_for_one_moment_are_refused():
    same = [_item(), _item(at="2026-12-07T01:00:00Z")]  # one instant in two offsets
    assert len(alarms.parse_readings({"readings": same}, NOW)) == 1
    with pytest.raises(alarms.InvalidReadings) as refused:
        alarms.parse_readings({"readings": [_item(), _item(), _item(value=9.9)]}, NOW)
    assert list(refused.value.errors) == ["readings[2]"]
    assert "readings[0]" in refused.value.errors["readings[2]"]


# -- thresholds and hysteresis ------------------------------------------------------------------

def test_past_a_threshold_is_strictly_beyond_it():
    assert excursion(GAS, 20.0) is None
    assert excursion(GAS, 20.1) == ("high", 20.0)
    assert excursion(PRESSURE, 0.15) is None and excursion(PRESSURE, 0.6) is None
    assert excursion(PRESSURE, 0.14) == ("low", 0.15)
    assert excursion(PRESSURE, 0.61) == ("high", 0.60)
    assert excursion(Thresholds("power"), 1e6) is None  # no thresholds, no alarm


def test_a_one_touch_call_alarms_on_any_press_and_its_reset_recovers():
    assert "emergency_button" in SENSOR_KINDS and "trigger" in ALARM_DIRECTIONS
    assert excursion(BUTTON, 1) == ("trigger", None)
    assert excursion(BUTTON, 2) == ("trigger", None)
    assert excursion(BUTTON, 0) is None
    assert recovered(BUTTON, "trigger", 0) and not recovered(BUTTON, "trigger", 1)


def test_recovery_needs_the_value_back_inside_by_the_margin():
    # gas: 5 % of 20 %LEL is 1: back at 19.5 is still the same excursion, 19 ends it
    assert not recovered(GAS, "high", 19.5) and recovered(GAS, "high", 19.0)
    # pressure: 5 % of the 0.45 MPa band
    assert not recovered(PRESSURE, "low", 0.16) and recovered(PRESSURE, "low", 0.175)
    assert not recovered(PRESSURE, "high", 0.59) and recovered(PRESSURE, "high", 0.57)
    assert recovered(Thresholds("gas"), "high", 50)  # its threshold removed: over


# -- a run of readings --------------------------------------------------------------------------

def test_an_excursion_is_one_alarm_raised_once_and_cleared_once():
    run = [(_at(0), 5.0), (_at(1), 25.0), (_at(2), 30.0), (_at(3), 19.5), (_at(4), 22.0),
           (_at(5), 3.0)]
    outcome = follow(GAS, None, None, run)
    assert outcome.changes == (Change("raise", _at(1), 25.0, "high", 20.0),
                               Change("clear", _at(5), 3.0, "high"))
    assert outcome.status == "normal" and outcome.latest == (_at(5), 3.0)


def test_readings_are_taken_in_time_order_whatever_order_they_came_in():
    outcome = follow(GAS, None, None, [(_at(2), 3.0), (_at(1), 25.0)])
    assert [c.action for c in outcome.changes] == ["raise", "clear"]
    assert outcome.latest == (_at(2), 3.0)


def test_an_open_alarm_is_not_raised_again():
    outcome = follow(GAS, "high", _at(0), [(_at(1), 40.0), (_at(2), 41.0)])
    assert outcome.changes == () and outcome.status == "alarm"


def test_a_jump_across_the_band_ends_one_excursion_and_starts_another():
    outcome = follow(PRESSURE, "high", _at(0), [(_at(1), 0.05)])
    assert outcome.changes == (Change("clear", _at(1), 0.05, "high"),
                               Change("raise", _at(1), 0.05, "low", 0.15))
    assert outcome.status == "alarm"


def test_late_readings_are_kept_but_move_nothing():
    outcome = follow(GAS, None, _at(10), [(_at(5), 99.0), (_at(10), 99.0)])
    assert outcome == alarms.Outcome((), None, None)
    cleared_late = follow(GAS, "high", _at(10), [(_at(9), 1.0)])
    assert cleared_late.changes == () and cleared_late.status is None


def test_an_offline_sensor_that_reports_is_normal_again():
    assert follow(GAS, None, _at(-600), [(_at(0), 2.0)]).status == "normal"


def test_presses_of_a_one_touch_call():
    outcome = follow(BUTTON, None, None, [(_at(0), 1), (_at(1), 1), (_at(2), 0), (_at(3), 1)])
    assert [(c.action, c.at) for c in outcome.changes] == [
        ("raise", _at(0)), ("clear", _at(2)), ("raise", _at(3))]
    assert outcome.status == "alarm"


# -- the case -----------------------------------------------------------------------------------

def test_every_kind_has_a_case_and_emergencies_are_levels_1_and_2():
    assert set(alarms.SENSOR_CASES) == set(SENSOR_KINDS)
    assert all(case.level in EVENT_LEVELS for case in alarms.SENSOR_CASES.values())
    for kind in ("gas", "wristband", "emergency_button"):
        assert alarms.SENSOR_CASES[kind].level <= 2
    assert alarms.SENSOR_CASES["gas"].category == "E0403"  # 燃气泄漏


def test_the_categories_are_in_the_catalogue():
    import csv
    from pathlib import Path

    catalogue = Path(__file__).resolve().parents[2] / "geodata/reference/event_categories.csv"
    with catalogue.open(encoding="utf-8") as f:
        leaves = {row["code"] for row in csv.DictReader(f) if row["parent_code"]}
    assert {case.category for case in alarms.SENSOR_CASES.values()} <= leaves


def test_an_alarm_joins_its_sensors_open_case_and_opens_one_otherwise():
    assert alarms.case_step(None) == "open"
    for state in ("reported", "registered", "dispatched", "handling", "suspended", "verified"):
        assert alarms.case_step(state) == "attach", state
    for state in ("closed", "rejected"):
        assert alarms.case_step(state) == "open", state


def test_titles_say_what_and_how_much():
    assert alarms.alarm_title("gas", "high", 12.3, "%LEL") == (
        "燃气浓度超限 Gas concentration high (12.3 %LEL)")
    assert alarms.alarm_title("water_pressure", "low", 0.05, None) == (
        "供水压力过低 Water pressure low (0.05 MPa)")
    assert alarms.alarm_title("emergency_button", "trigger", 1, None) == (
        "一键通紧急呼叫 One-touch emergency call")
    assert alarms.alarm_title("smoke", "low", 0.001, "dB/m") == (
        "烟感低于下限 Smoke below lower threshold (0.001 dB/m)")  # no title of its own


def test_a_worn_sensors_case_never_names_it_by_its_name():
    change = Change("raise", NOW, 150.0, "high", 130.0)
    worn = alarms.alarm_description("wristband", "IOT0000042", "王秀英的手环", True, change,
                                    "bpm")
    assert "王秀英" not in worn and "IOT0000042" in worn and "150 bpm" in worn
    mounted = alarms.alarm_description("gas", "IOT0000043", "燃气探测器 3 栋", False,
                                       Change("raise", NOW, 25.0, "high", 20.0), "%LEL")
    assert "燃气探测器 3 栋 (IOT0000043)" in mounted and "20 %LEL" in mounted


def test_history_notes():
    assert alarms.history_note("alarm_again", 31.0, "gas", "%LEL") == (
        "再次告警 / alarm again: 31 %LEL")
    assert alarms.history_note("recovered", 2.5, "gas", None) == (
        "恢复正常 / recovered: 2.5 %LEL")


# -- the card's window ----------------------------------------------------------------------------

def test_the_window_defaults_to_the_last_day():
    assert alarms.parse_window(None, None, NOW) == (NOW - timedelta(hours=24), NOW)
    since, until = alarms.parse_window("2026-12-06T00:00:00+08:00", None, NOW)
    assert (since, until) == (datetime(2026, 12, 6, tzinfo=BEIJING), NOW)


def test_an_unencoded_plus_in_the_query_is_read_as_the_offset():
    # "?since=2026-12-06T00:00:00+08:00" unencoded: the + arrives as a space
    assert alarms.parse_window("2026-12-06T00:00:00 08:00", None, NOW)[0] == datetime(
        2026, 12, 6, tzinfo=BEIJING)


@pytest.mark.parametrize("since, until, field", [
    ("2026-12-06", None, "since"),
    ("soon", None, "since"),
    (None, "2026-12-07T09:00:00", "until"),
    ("2026-12-07T10:00:00+08:00", "2026-12-07T09:00:00+08:00", "since"),
])
def test_a_bad_window_is_named(since, until, field):
    with pytest.raises(alarms.InvalidReadings) as refused:
        alarms.parse_window(since, until, NOW)
    assert list(refused.value.errors) == [field]

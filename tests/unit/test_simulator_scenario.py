"""The simulator's pure parts (onemap/simulator): the daily cycle and channel mix of its reports
(the demo's tables, etl/demo/rhythms.py), their seeded content, the loop's delays, walking
along the streets, and sensor readings with their excursions."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from etl.demo import rhythms
from onemap.domain.coordinates import gcj02_to_wgs84
from onemap.simulator import scenario
from onemap.simulator.readings import Sensor, SensorFeed, normal_value
from onemap.simulator.scenario import (
    REPORTED_CHANNELS,
    Arrivals,
    Place,
    Places,
    calendar_hours,
    case_plan,
    channel_rate,
    draw_report,
    load_categories,
)
from onemap.simulator.walking import Frame, Walk, street_angle
from tests.unit.test_layering import imported_modules

SHANGHAI = ZoneInfo("Asia/Shanghai")
MIDNIGHT = datetime(2026, 12, 7, tzinfo=SHANGHAI)  # a Monday
CATEGORIES = load_categories()


def _places(n: int = 60) -> Places:
    rng = random.Random(3)
    uses = ["residential", "commercial", "mixed", "public", "industrial"]
    return Places([Place(123.40 + rng.random() * 0.05, 41.78 + rng.random() * 0.05,
                         uses[i % 5], f"社区{i}第1网格") for i in range(n)], seed=1)


def _arrivals(seed: int, rate: float, days: int) -> dict[str, list[tuple[datetime, int]]]:
    return {c: Arrivals(seed, c, rate).between(MIDNIGHT, MIDNIGHT + timedelta(days=days))
            for c in REPORTED_CHANNELS}


# -- the daily cycle and the channel mix ------------------------------------------------------

def test_the_rate_is_the_days_average_and_mornings_are_busier_than_nights():
    hourly = [sum(channel_rate(c, hour, 60) for c in REPORTED_CHANNELS) for hour in range(24)]
    assert sum(hourly) / 24 == pytest.approx(60)
    assert min(hourly[9:11]) > 4 * max(hourly[2:5])
    # patrols and cameras keep office hours; callers call into the evening
    for channel in rhythms.FIELD:
        assert channel_rate(channel, 3, 60) == 0 and channel_rate(channel, 10, 60) > 0
    assert channel_rate("hotline_12345", 21, 60) > channel_rate("hotline_12345", 3, 60) > 0


def test_sensor_reports_are_left_to_the_readings():
    assert "sensor" not in REPORTED_CHANNELS
    assert set(REPORTED_CHANNELS) == set(rhythms.CHANNELS) - {"sensor"}
    total = sum(rhythms.CHANNELS[c] for c in REPORTED_CHANNELS)
    assert scenario.sensor_cases_per_hour(60) == pytest.approx(
        60 * rhythms.CHANNELS["sensor"] / total)


def test_arrivals_follow_the_channel_mix_and_the_hours():
    due = _arrivals(seed=5, rate=40, days=40)
    counts = {c: len(times) for c, times in due.items()}
    total = sum(counts.values())
    assert total == pytest.approx(40 * 24 * 40, rel=0.05)
    shares = sum(rhythms.CHANNELS[c] for c in REPORTED_CHANNELS)
    for channel in ("inspector", "grid_worker", "hotline_12345", "camera", "wechat"):
        assert counts[channel] / total == pytest.approx(rhythms.CHANNELS[channel] / shares,
                                                        rel=0.12), channel
    by_hour = Counter(at.hour for times in due.values() for at, _ in times)
    assert by_hour[10] > 5 * by_hour[3]
    field_hours = {at.hour for c in rhythms.FIELD for at, _ in due[c]}
    assert not field_hours & {0, 1, 2, 3, 4, 5, 22, 23}


def test_arrivals_in_small_steps_are_the_arrivals_in_one():
    """The loop asks every tenth of a second: the reports must not depend on how often."""
    whole = Arrivals(9, "hotline_12345", 30).between(MIDNIGHT, MIDNIGHT + timedelta(hours=30))
    stepped, stream = [], Arrivals(9, "hotline_12345", 30)
    at = MIDNIGHT
    while at < MIDNIGHT + timedelta(hours=30):
        stepped += stream.between(at, at + timedelta(minutes=7))
        at += timedelta(minutes=7)
    assert [i for _, i in stepped] == [i for _, i in whole]
    assert all(abs((a - b).total_seconds()) < 1e-3 for (a, _), (b, _) in zip(stepped, whole))


def test_a_resumed_stream_goes_on_with_its_next_report():
    stream = Arrivals(9, "inspector", 30, next_index=41)
    due = stream.between(MIDNIGHT + timedelta(hours=8), MIDNIGHT + timedelta(hours=12))
    assert due and [i for _, i in due] == list(range(41, 41 + len(due)))


# -- the reports themselves -------------------------------------------------------------------

def test_the_kth_report_is_the_same_whatever_came_before_and_another_seed_differs():
    places = _places()
    first = draw_report(4, "hotline_12345", 17, CATEGORIES, places)
    for k in range(17):
        draw_report(4, "hotline_12345", k, CATEGORIES, places)
    again = draw_report(4, "hotline_12345", 17, CATEGORIES, places)
    assert again == first and again.key == "sim4-hotline_12345-17"
    assert draw_report(5, "hotline_12345", 17, CATEGORIES, places).body != first.body


def test_public_reports_name_a_reporter_and_phones_send_gcj02():
    places = _places()
    for k in range(30):
        app = draw_report(2, "resident_app", k, CATEGORIES, places)
        assert app.body["crs"] == "gcj02" and app.body["reporter_phone"].isdigit()
        lon, lat = gcj02_to_wgs84(app.body["lon"], app.body["lat"])
        assert math.dist((float(lon), float(lat)), (app.lon, app.lat)) < 1e-6
        patrol = draw_report(2, "inspector", k, CATEGORIES, places)
        assert "crs" not in patrol.body and "reporter_name" not in patrol.body
        assert (patrol.body["lon"], patrol.body["lat"]) == (round(patrol.lon, 7),
                                                            round(patrol.lat, 7))
        assert 1 <= patrol.level <= 5 and patrol.body["category_code"] == patrol.category.code
        assert patrol.body["title"].startswith(patrol.category.name_zh)


def test_the_public_calls_about_social_matters_more_than_patrols_find():
    places = _places()

    def social_share(channel: str) -> float:
        drawn = [draw_report(1, channel, k, CATEGORIES, places) for k in range(600)]
        return sum(r.category.kind == "social" for r in drawn) / len(drawn)

    assert social_share("hotline_12345") > 2 * social_share("inspector")


def test_a_grid_workers_reports_stay_at_their_buildings():
    mine = [Place(123.41, 41.79, "residential", "春晖社区第1网格")]
    places = Places(mine, seed=1, spread=False)
    for k in range(20):
        report = draw_report(1, "grid_worker", k, CATEGORIES, places)
        assert (report.lon, report.lat) == (123.41, 41.79)


# -- the loop's delays ------------------------------------------------------------------------

def test_limits_become_calendar_time_except_emergencies():
    assert calendar_hours(2) == 2
    assert calendar_hours(4) == pytest.approx(4 * 168 / 40)


def test_a_cases_plan_is_seeded_and_follows_the_demos_distributions():
    assert case_plan(3, "sim3-wechat-5", 4, True) == case_plan(3, "sim3-wechat-5", 4, True)
    plans = [case_plan(3, f"case{i}", 8, public=True) for i in range(3000)]
    work = sorted(p.work_h / calendar_hours(8) for p in plans)
    assert work[len(work) // 2] == pytest.approx(rhythms.WORK_SHARE_MEDIAN, rel=0.1)
    assert sum(p.rejected for p in plans) / len(plans) == pytest.approx(
        rhythms.REJECT_SHARE_PUBLIC, abs=0.015)
    assert sum(p.register_h for p in plans) / len(plans) == pytest.approx(
        rhythms.REGISTER_PUBLIC_MEAN_H, rel=0.1)
    field = [case_plan(3, f"case{i}", 8, public=False) for i in range(300)]
    low, high = rhythms.REGISTER_FIELD_RANGE_H
    assert all(low <= p.register_h <= high for p in field)
    assert all(p.rework_h == pytest.approx(p.work_h * (rhythms.REWORK_FACTOR - 1))
               for p in plans[:50])


# -- walking ----------------------------------------------------------------------------------

FRAME = Frame(123.45, 41.80)


def test_a_walk_goes_along_one_street_then_the_other_at_walking_pace():
    start = MIDNIGHT + timedelta(hours=9)
    angle = math.radians(6)
    origin = FRAME.lonlat(0, 0)
    target = FRAME.lonlat(600 * math.cos(angle) - 200 * math.sin(angle),
                          600 * math.sin(angle) + 200 * math.cos(angle))
    walk = Walk(FRAME, angle, origin, target, speed=4.5 / 3.6, start=start)
    assert walk.metres == pytest.approx(800, abs=0.5)
    assert abs((walk.arrival - start).total_seconds() - 800 / 1.25) < 1
    assert walk.at(start - timedelta(minutes=1)) == pytest.approx(origin)
    corner = FRAME.xy(*walk.at(start + timedelta(seconds=600 / 1.25)))
    assert corner == pytest.approx((600 * math.cos(angle), 600 * math.sin(angle)), abs=0.5)
    assert walk.at(walk.arrival + timedelta(hours=1)) == pytest.approx(target)


def test_the_streets_rotation_is_read_from_the_footprints():
    def footprint(x: float, y: float, degrees: float) -> list[tuple[float, float]]:
        a = math.radians(degrees)
        corners = [(0, 0), (60, 0), (60, 12), (0, 12), (0, 0)]  # a slab, long side first
        return [FRAME.lonlat(x + cx * math.cos(a) - cy * math.sin(a),
                             y + cx * math.sin(a) + cy * math.cos(a)) for cx, cy in corners]

    rings = [footprint(100 * i, 50 * i, 6 + (90 if i % 3 == 0 else 0)) for i in range(30)]
    assert math.degrees(street_angle(rings, FRAME)) == pytest.approx(6, abs=0.1)
    assert street_angle([], FRAME) == 0.0


# -- sensors ----------------------------------------------------------------------------------

GAS = Sensor("IOT0000001", "gas", None, 20.0, 123.4, 41.8)
PRESSURE = Sensor("IOT0000002", "water_pressure", 0.15, 0.6, 123.4, 41.8)
BUTTON = Sensor("IOT0000003", "emergency_button", None, None, 123.4, 41.8)


def test_normal_readings_stay_well_inside_the_thresholds():
    rng = random.Random(1)
    for _ in range(2000):
        assert normal_value(rng, GAS) <= 20.0 - 0.05 * 20.0
        assert 0.15 + 0.05 * 0.45 <= normal_value(rng, PRESSURE) <= 0.6 - 0.05 * 0.45


def test_an_excursion_goes_past_a_threshold_and_recovers():
    feed = SensorFeed([GAS, PRESSURE, BUTTON], seed=2, alarms_per_hour=30.0)
    now, seen = MIDNIGHT, {s.code: [] for s in (GAS, PRESSURE, BUTTON)}
    for _ in range(400):
        for code, value in feed.tick(now, 0.25):
            seen[code].append(value)
        now += timedelta(minutes=15)
    assert any(v > 20.0 for v in seen[GAS.code])
    past = [i for i, v in enumerate(seen[GAS.code]) if v > 20.0]
    assert any(v <= 19.0 for v in seen[GAS.code][past[0]:])  # it came back
    assert any(v > 0.6 or v < 0.15 for v in seen[PRESSURE.code])
    # a button says nothing until pressed, then 1, then 0 when reset
    assert set(seen[BUTTON.code]) == {0.0, 1.0} and seen[BUTTON.code][0] == 1.0
    assert len(seen[BUTTON.code]) < len(seen[GAS.code])


def test_a_quiet_feed_raises_no_alarm():
    feed = SensorFeed([GAS, PRESSURE], seed=2, alarms_per_hour=0.0)
    for tick in range(100):
        for code, value in feed.tick(MIDNIGHT + timedelta(minutes=15 * tick), 0.25):
            assert (value <= 20.0) if code == GAS.code else (0.15 <= value <= 0.6)


# -- what these modules may import ------------------------------------------------------------

@pytest.mark.parametrize("module", ["scenario", "walking", "readings"])
def test_the_pure_parts_use_no_web_framework_database_or_http(module):
    path = Path(scenario.__file__).with_name(f"{module}.py")
    names = [name for _line, name in imported_modules(path.read_text(), f"onemap.simulator."
                                                                       f"{module}")]
    forbidden = ("flask", "dash", "sqlalchemy", "psycopg", "geodata", "onemap.web",
                 "urllib.request", "http", "onemap.simulator.client")
    assert not [n for n in names if any(n == f or n.startswith(f + ".") for f in forbidden)]

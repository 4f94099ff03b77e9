"""The wall rail's text: counters that add up, and feed times with a date for older cases."""

from __future__ import annotations

from datetime import datetime, timezone

from callbacks.wall_rail import counter_texts, escalated_to, feed_time

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc)  # 14:00 in Shanghai


def test_today_is_a_time_of_day_in_the_command_centres_zone():
    assert feed_time(datetime(2026, 11, 30, 1, 5, tzinfo=timezone.utc), NOW) == "09:05"


def test_an_older_case_carries_its_date():
    # 23:30 UTC on the 29th is already the 30th in Shanghai: today
    assert feed_time(datetime(2026, 11, 29, 23, 30, tzinfo=timezone.utc), NOW) == "07:30"
    assert feed_time(datetime(2026, 11, 29, 15, 59, tzinfo=timezone.utc), NOW) == "11-29"
    assert feed_time(datetime(2025, 12, 31, 1, 0, tzinfo=timezone.utc), NOW) == "2025"


def test_the_rail_counts_add_up():
    counts = {"today_by_state": {"reported": 70, "registered": 9, "dispatched": 300,
                                 "handling": 400, "handled": 30, "verified": 10,
                                 "suspended": 4, "rejected": 3, "closed": 1107},
              "overdue": 147, "sensor_alarms": 146, "cameras_online": 5117, "cameras": 5499}
    assert counter_texts(counts) == ("79", "740", "1,107", "147", "146", "5,117/5,499")
    empty = {"today_by_state": {}, "overdue": 0, "sensor_alarms": 0, "cameras_online": 0,
             "cameras": 0}
    assert counter_texts(empty) == ("0", "0", "0", "0", "0", "0/0")


def test_an_escalated_case_says_where_it_went():
    assert escalated_to({"kind": "overdue", "tier": "community"}) == "→社区"
    assert escalated_to({"kind": "overdue", "tier": "district"}) == "→区"
    assert escalated_to({"kind": "overdue", "tier": None}) is None  # not escalated yet
    assert escalated_to({"kind": "urgent", "tier": "street"}) is None

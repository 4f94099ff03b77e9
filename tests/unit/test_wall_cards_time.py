"""The wall feed's times: a date for cases older than today (the duty officer's complaint)."""

from __future__ import annotations

from datetime import datetime, timezone

from callbacks.wall_cards import feed_time

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc)  # 14:00 in Shanghai


def test_today_is_a_time_of_day_in_the_command_centres_zone():
    assert feed_time(datetime(2026, 11, 30, 1, 5, tzinfo=timezone.utc), NOW) == "09:05"


def test_an_older_case_carries_its_date():
    # 23:30 UTC on the 29th is already the 30th in Shanghai: today
    assert feed_time(datetime(2026, 11, 29, 23, 30, tzinfo=timezone.utc), NOW) == "07:30"
    assert feed_time(datetime(2026, 11, 29, 15, 59, tzinfo=timezone.utc), NOW) == "11-29"
    assert feed_time(datetime(2025, 12, 31, 1, 0, tzinfo=timezone.utc), NOW) == "2025"

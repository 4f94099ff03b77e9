"""The wall's rail in numbers and words: its counters and its feed's times (pure functions,
tested directly)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from onemap.domain.escalation import TIER_NAMES
from onemap.domain.lifecycle import IN_HAND_STATES, NEW_STATES


def counter_texts(counts: dict) -> tuple[str, ...]:
    """The rail's six counters from the database's counts: today's new (reported or
    registered), in hand (sent out, not closed) and closed cases, the overdue ones of any day,
    open sensor alarms, and cameras online of all."""
    today = counts["today_by_state"]
    return (
        f"{sum(today.get(s, 0) for s in NEW_STATES):,}",
        f"{sum(today.get(s, 0) for s in IN_HAND_STATES):,}",
        f"{today.get('closed', 0):,}",
        f"{counts['overdue']:,}",
        f"{counts['sensor_alarms']:,}",
        f"{counts['cameras_online']:,}/{counts['cameras']:,}",
    )


LOCAL = ZoneInfo("Asia/Shanghai")  # the command centre's clock, whatever the server's


def feed_time(reported_at: datetime, now: datetime) -> str:
    """The feed's time, five characters wide like the column it sits in: "14:05" today, the
    date "11-28" for an older case this year, the year for one older still (the card has the
    full time); the command centre's local time."""
    local, today = reported_at.astimezone(LOCAL), now.astimezone(LOCAL)
    if local.date() == today.date():
        return local.strftime("%H:%M")
    if local.year == today.year:
        return local.strftime("%m-%d")
    return local.strftime("%Y")


def escalated_to(item: dict) -> str | None:
    """"→社区" for an overdue case the escalation job moved up to a community (the banner query
    gives `tier` only for those); None for anything else."""
    if item.get("kind") != "overdue" or item.get("tier") not in TIER_NAMES:
        return None
    return f"→{TIER_NAMES[item['tier']][0]}"

"""The live clock (migration 0003): one version per topic, moved by every committed change
(kept in shards, migration 0017: a topic's version is the sum of its rows)."""

from __future__ import annotations

from sqlalchemy import Connection, text

TOPICS = ("event", "sensor", "staff")
_KEYS = {"event": "e", "sensor": "s", "staff": "t"}  # one letter each, none shared


def clock(conn: Connection) -> dict[str, int]:
    """topic -> version, as of the caller's snapshot."""
    rows = conn.execute(text(
        "SELECT topic, sum(version) FROM onemap.live_clock GROUP BY topic")).all()
    return {topic: int(version) for topic, version in rows}


def token(versions: dict[str, int]) -> str:
    """A short opaque string a screen sends back to ask "anything new since?"."""
    return ".".join(f"{_KEYS[topic]}{versions.get(topic, 0)}" for topic in TOPICS)


def changed_topics(old_token: str | None, versions: dict[str, int]) -> list[str]:
    """Which topics moved since `old_token` (all of them when the token is missing or foreign)."""
    old = {}
    for part in (old_token or "").split("."):
        for topic in TOPICS:
            if part[:1] == _KEYS[topic] and part[1:].isdigit():
                old[topic] = int(part[1:])
    return [topic for topic in TOPICS if old.get(topic) != versions.get(topic, 0)]

"""Events counted per grid up to a mark (migration 0023): the overview adds the few newer ones
live (geodata/queries/overview.py), so the count is exact whenever the recount last ran; the
recount only keeps the live part small."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, text

# how stale the maintained part may get before a worker pass recounts it: a district's day
# adds ~800 events, so the live part stays in the hundreds even if the worker is away an hour
RECOUNT_EVERY = timedelta(minutes=10)


def refresh_event_counts(conn: Connection, older_than: timedelta = timedelta(0)) -> int | None:
    """Recount the events per grid in the caller's transaction (holding the event table in
    SHARE mode until it ends: do not call it inside a long transaction that others wait on);
    None when the last recount is newer than `older_than`."""
    return conn.execute(text("SELECT onemap.refresh_event_counts(:older)"),
                        {"older": older_than}).scalar_one()

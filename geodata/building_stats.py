"""Per-building resident and key-group counts (migration 0003), refreshed after data comes in."""

from __future__ import annotations

from sqlalchemy import Connection, text

# importing any of these can change who lives where
AFFECTS_STATS = ("buildings", "households", "persons")


def refresh_building_stats(conn: Connection) -> int:
    """Recount every building in the caller's transaction; returns the buildings counted."""
    return conn.execute(text("SELECT onemap.refresh_building_stats()")).scalar_one()

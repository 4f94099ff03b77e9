"""Maintained counts, refreshed after data comes in: per building (residents, key groups, rooms
by occupancy: migrations 0003, 0020) and per district, street, community and grid
(admin_unit_stat, migration 0020; onemap.refresh_building_stats() ends by rebuilding it)."""

from __future__ import annotations

from sqlalchemy import Connection, text

# importing any of these can change who lives where, or which units there are (a new grid
# needs its row, or the navigator and the overview would not find it)
AFFECTS_STATS = ("boundaries", "buildings", "households", "persons")


def refresh_building_stats(conn: Connection) -> int:
    """Recount every building and every administrative unit in the caller's transaction;
    returns the buildings counted."""
    return conn.execute(text("SELECT onemap.refresh_building_stats()")).scalar_one()

"""Maintained counts, refreshed after data comes in: per building (residents, key groups, rooms
by occupancy: migrations 0003, 0020), per district, street, community and grid
(admin_unit_stat, migration 0020; onemap.refresh_building_stats() ends by rebuilding it), and
residents by gender and birth year per district, street and community (admin_unit_age_stat,
migration 0026)."""

from __future__ import annotations

from sqlalchemy import Connection, text

# importing any of these can change who lives where, or which units there are (a new grid
# needs its row, or the navigator and the overview would not find it)
AFFECTS_STATS = ("boundaries", "buildings", "households", "persons")


def refresh_building_stats(conn: Connection) -> int:
    """Recount every building and every administrative unit (their ages too) in the caller's
    transaction; returns the buildings counted."""
    counted = conn.execute(text("SELECT onemap.refresh_building_stats()")).scalar_one()
    conn.execute(text("SELECT onemap.refresh_age_stats()"))
    return counted

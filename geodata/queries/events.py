"""Registering reported events: one row, its first history entry, idempotent by reference.

Runs on a scoped connection: row-level security refuses an event whose grid lies outside the
reporter's scope (WITH CHECK), so nobody files events into another community.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from onemap.events.intake import EventReport

_EXISTING = """
SELECT id, code, state FROM onemap.event WHERE channel = :channel AND external_ref = :ref
"""

_GRID = """
SELECT g.code FROM onemap.grid g
WHERE ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
ORDER BY g.code LIMIT 1
"""

_CATEGORY = "SELECT default_level FROM onemap.event_category WHERE code = :code"

_INSERT = """
INSERT INTO onemap.event (id, code, title, description, category_code, level, channel,
  external_ref, state, address, grid_code, reporter_name, reporter_phone, reported_at, geom)
VALUES (:id, 'AJ' || to_char(now(), 'YYYYMMDD') || lpad(CAST(:id AS text), 7, '0'), :title,
  :description, :category, :level, :channel, :ref, 'reported', :address, :grid, :reporter_name,
  :reporter_phone, now(), ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
RETURNING id, code, state, grid_code
"""

_HISTORY = """
INSERT INTO onemap.event_history (event_id, action, from_state, to_state, actor_user_id, note)
VALUES (:event_id, 'report', NULL, 'reported', :user_id, :note)
"""


class UnknownCategory(ValueError):
    """The category code is not in the catalogue."""


class OutsideEveryGrid(ValueError):
    """The point lies in no grid of the district."""


def existing(conn: Connection, channel: str, external_ref: str | None) -> dict | None:
    """The event already registered for this channel's reference (idempotent intake)."""
    if not external_ref:
        return None
    row = conn.execute(text(_EXISTING), {"channel": channel, "ref": external_ref}).mappings()
    found = row.one_or_none()
    return dict(found) if found else None


def register(conn: Connection, report: EventReport, user_id: int | None) -> dict:
    """Insert the event (state 'reported') and its first history row; returns id, code, grid."""
    default_level = conn.execute(text(_CATEGORY), {"code": report.category_code}).scalar()
    if default_level is None:
        raise UnknownCategory(report.category_code)
    grid = conn.execute(text(_GRID), {"lon": report.lon, "lat": report.lat}).scalar()
    if grid is None:
        raise OutsideEveryGrid(f"{report.lon:.6f}, {report.lat:.6f}")
    event_id = conn.execute(text(
        "SELECT nextval(pg_get_serial_sequence('onemap.event', 'id'))")).scalar_one()
    row = conn.execute(text(_INSERT), {
        "id": event_id, "title": report.title, "description": report.description,
        "category": report.category_code, "level": report.level or default_level,
        "channel": report.channel, "ref": report.external_ref, "address": report.address,
        "grid": grid, "reporter_name": report.reporter_name,
        "reporter_phone": report.reporter_phone, "lon": report.lon, "lat": report.lat,
    }).mappings().one()
    conn.execute(text(_HISTORY), {"event_id": event_id, "user_id": user_id,
                                  "note": f"channel {report.channel}"})
    return dict(row)

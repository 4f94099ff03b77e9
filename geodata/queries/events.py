"""Events in the loop: registering reports (idempotent by reference) and moving cases along,
each change with its history row.

Runs on a scoped connection: row-level security refuses an event whose grid lies outside the
reporter's scope (WITH CHECK), so nobody files events into another community.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, text

from onemap.domain import lifecycle
from onemap.domain.intake import EventReport

# the sender is the session's user (a trigger stamps reported_by_user_id from it)
_EXISTING = """
SELECT id, code, state FROM onemap.event
WHERE channel = :channel AND external_ref = :ref
  AND coalesce(reported_by_user_id, 0) = coalesce(onemap.current_app_user_id(), 0)
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
    """The event this sender already registered for this channel's reference (idempotent
    intake)."""
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


_CURRENT = """
SELECT id, state, onemap.event_is_overdue(state, due_at) AS overdue FROM onemap.event
 WHERE id = :id FOR UPDATE
"""

_STAFF_IN_SCOPE = "SELECT id FROM onemap.staff WHERE id = :id"

_MOVE = """
UPDATE onemap.event SET state = :to_state, updated_at = now(){stamp}{staff}{returned}{closure}
 WHERE id = :id
RETURNING id, code, state
"""

_MOVED = """
INSERT INTO onemap.event_history (event_id, action, from_state, to_state, actor_user_id,
  note, data)
VALUES (:event_id, :action, :from_state, :to_state, :user_id, :note, CAST(:data AS jsonb))
"""


class NoSuchEvent(LookupError):
    """The event does not exist, or lies outside the caller's scope (the same to the caller)."""


class NoSuchStaff(LookupError):
    """The staff member does not exist, or lies outside the caller's scope."""


def transition(conn: Connection, event_id: int, action_name: str, user_id: int | None,
               note: str | None = None, staff_id: int | None = None) -> dict:
    """Move one event along the loop, with its history row, in the caller's transaction.

    The row is locked first, so two officers acting on one case at once go one after the
    other and the second sees the state the first left."""
    current = conn.execute(text(_CURRENT), {"id": event_id}).mappings().one_or_none()
    if current is None:
        raise NoSuchEvent(event_id)
    action = lifecycle.plan(current["state"], action_name, staff_id)
    if action.needs_staff:
        if conn.execute(text(_STAFF_IN_SCOPE), {"id": staff_id}).scalar() is None:
            raise NoSuchStaff(staff_id)
    sql = _MOVE.format(
        stamp=f", {action.stamps} = now()" if action.stamps else "",
        staff=", assigned_staff_id = :staff_id" if action.needs_staff else "",
        returned=", returned_count = returned_count + 1" if action.name == "return" else "",
        closure=", closure_kind = :closure" if action.name == "close" else "",
    )
    moved = conn.execute(text(sql), {
        "id": event_id, "to_state": action.to_state, "staff_id": staff_id,
        "closure": lifecycle.closure_kind(current["overdue"]),
    }).mappings().one()
    conn.execute(text(_MOVED), {
        "event_id": event_id, "action": action.name, "from_state": current["state"],
        "to_state": action.to_state, "user_id": user_id, "note": note,
        "data": json.dumps({"staff_id": staff_id}) if staff_id is not None else None,
    })
    return {**dict(moved), "from_state": current["state"], "action": action.name}

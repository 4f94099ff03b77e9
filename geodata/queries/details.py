"""Detail cards for what a user clicks on the map, in the caller's scope.

Each function returns None when the thing does not exist or lies outside the scope. Every card
has `lat`/`lng` (WGS84) for flying the map there.
Personal fields come back unmasked: the caller masks them for the user's role.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from onemap.domain.lifecycle import WITH_STAFF_STATES

_WITH_STAFF = ", ".join(f"'{s}'" for s in WITH_STAFF_STATES)

_EVENT = """
SELECT e.id, e.code, e.title, e.description, e.level, e.state, e.channel, e.address,
       e.reported_at, e.due_at, e.reporter_name, e.reporter_phone, e.grid_code, e.photo_urls,
       onemap.event_is_overdue(e.state, e.due_at) AS overdue,
       c.name_zh AS category, d.name_zh AS department, s.name AS staff_name,
       ST_Y(e.geom) AS lat, ST_X(e.geom) AS lng
  FROM onemap.event e
  JOIN onemap.event_category c ON c.code = e.category_code
  LEFT JOIN onemap.department d ON d.code = e.department_code
  LEFT JOIN onemap.staff s ON s.id = e.assigned_staff_id
 WHERE e.id = :id
"""

_BUILDING = """
SELECT b.id, b.code, b.name, b.address, b.use, b.floors_above, b.floors_below, b.unit_count,
       b.built_year, b.grid_code, coalesce(st.residents, 0) AS residents,
       coalesce(st.key_group, 0) AS key_group,
       (SELECT count(*) FROM onemap.household h WHERE h.building_id = b.id) AS households,
       ST_Y(ST_PointOnSurface(b.geom)) AS lat, ST_X(ST_PointOnSurface(b.geom)) AS lng
  FROM onemap.building b LEFT JOIN onemap.building_stat st ON st.building_id = b.id
 WHERE b.id = :id
"""

_CAMERA = """
SELECT id, code, name, owner, kind, status, heading, fov_deg, range_m, grid_code,
       ST_Y(geom) AS lat, ST_X(geom) AS lng
  FROM onemap.camera WHERE id = :id
"""

_SENSOR = """
SELECT s.id, s.code, CASE WHEN s.person_id IS NULL THEN s.name ELSE s.code END AS name,
       s.kind, s.status, s.last_value, s.unit_of_measure,
       s.low_threshold, s.high_threshold, s.last_reading_at, s.grid_code,
       (SELECT max(a.raised_at) FROM onemap.sensor_alarm a
         WHERE a.sensor_id = s.id AND a.cleared_at IS NULL) AS alarm_since,
       ST_Y(s.geom) AS lat, ST_X(s.geom) AS lng
  FROM onemap.sensor s WHERE s.id = :id
"""

_PLACE = """
SELECT id, code, name, kind, risk_level, address, contact_name, contact_phone, grid_code,
       ST_Y(geom) AS lat, ST_X(geom) AS lng
  FROM onemap.key_place WHERE id = :id
"""

_STAFF = f"""
SELECT s.id, s.code, s.name, s.phone, s.tier, s.status, s.on_duty, s.last_seen_at, s.grid_code,
       (SELECT count(*) FROM onemap.event e
         WHERE e.assigned_staff_id = s.id AND e.state IN ({_WITH_STAFF})) AS open_cases,
       ST_Y(s.last_position) AS lat, ST_X(s.last_position) AS lng
  FROM onemap.staff s WHERE s.id = :id
"""

CARDS = {"events": _EVENT, "buildings": _BUILDING, "cameras": _CAMERA, "sensors": _SENSOR,
         "places": _PLACE, "staff": _STAFF}


def sensor_of_alarm(conn: Connection, alarm_id: int) -> int | None:
    """The sensor that raised an alarm (None when the alarm is unknown or out of scope)."""
    return conn.execute(text("SELECT sensor_id FROM onemap.sensor_alarm WHERE id = :id"),
                        {"id": alarm_id}).scalar()


def card(conn: Connection, kind: str, object_id: int) -> dict | None:
    """The card of one event, building, camera, sensor, key place or staff member."""
    row = conn.execute(text(CARDS[kind]), {"id": object_id}).mappings().one_or_none()
    return dict(row) if row is not None else None

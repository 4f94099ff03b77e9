"""Around an event: the cameras that can see it, the staff who can get there, and who lives
close by that needs care first (key groups). Distances are geodesic metres.

The candidate search uses each table's GiST index with a box a little larger than the radius
(a degree of longitude is shorter than one of latitude at these latitudes), then measures
exactly on the spheroid.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from onemap.domain.lifecycle import WITH_STAFF_STATES

CAMERA_RADIUS_M = 300
RESIDENT_RADIUS_M = 100
_DEG_PER_M = 1 / 80_000  # generous up to 44° N: a degree of longitude is ≥ 80 km there

# A fixed camera covers the event when it is within range and inside the field of view
# around its heading; a camera with no heading pans, so range alone decides.
_CAMERAS = """
WITH e AS (SELECT geom FROM onemap.event WHERE id = :id)
SELECT c.id, c.name, c.status, c.kind, round(d.metres) AS metres,
       (d.metres <= c.range_m AND (c.heading IS NULL OR
          abs(mod((degrees(ST_Azimuth(c.geom::geography, e.geom::geography)) - c.heading
                   + 540)::numeric, 360) - 180) <= c.fov_deg / 2.0)) AS covers
  FROM e
  JOIN onemap.camera c ON c.geom && ST_Expand(e.geom, :radius_deg)
 CROSS JOIN LATERAL (SELECT ST_Distance(c.geom::geography, e.geom::geography) AS metres) d
 WHERE d.metres <= :radius
 ORDER BY covers DESC, d.metres
"""

_WITH_STAFF = ", ".join(f"'{state}'" for state in WITH_STAFF_STATES)

# each with their load: the cases they hold now
_STAFF = f"""
WITH e AS (SELECT geom FROM onemap.event WHERE id = :id)
SELECT s.id, s.name, s.tier, s.status, s.grid_code,
       round(ST_Distance(s.last_position::geography, e.geom::geography)) AS metres,
       (SELECT count(*) FROM onemap.event x
         WHERE x.assigned_staff_id = s.id AND x.state IN ({_WITH_STAFF})) AS open_cases
  FROM e, onemap.staff s
 WHERE s.on_duty AND s.last_position IS NOT NULL
 ORDER BY s.last_position <-> e.geom
 LIMIT :limit
"""

# people whose actual residence is in a building within the radius, with a key-group tag;
# sensitive tags appear only where the scope allows them (row-level security on that table)
_BUILDINGS_NEAR = """
WITH e AS (SELECT geom FROM onemap.event WHERE id = :id),
near AS (
  SELECT b.id FROM e JOIN onemap.building b ON b.geom && ST_Expand(e.geom, :radius_deg)
   WHERE ST_DWithin(b.geom::geography, e.geom::geography, :radius)
)"""

_RESIDENTS = _BUILDINGS_NEAR + """,
tagged AS (
  SELECT ph.person_id, t.tag FROM near
    JOIN onemap.household h ON h.building_id = near.id
    JOIN onemap.person_household ph ON ph.household_id = h.id AND ph.kind = 'residence'
    JOIN (SELECT person_id, tag FROM onemap.person_tag
          UNION ALL SELECT person_id, tag FROM onemap.person_sensitive_tag) t
      ON t.person_id = ph.person_id
)
SELECT t.tag, k.name_zh, k.name_en, t.person_id, p.name
  FROM tagged t
  JOIN onemap.tag_kind k ON k.code = t.tag
  JOIN onemap.person p ON p.id = t.person_id
 ORDER BY k.sensitive, t.tag, p.name
"""


def cameras_near(conn: Connection, event_id: int, radius_m: float = CAMERA_RADIUS_M) -> list[dict]:
    """Cameras within the radius: those covering the event first, then by distance."""
    rows = conn.execute(text(_CAMERAS), {"id": event_id, "radius": radius_m,
                                         "radius_deg": radius_m * _DEG_PER_M})
    return [dict(r) for r in rows.mappings()]


def staff_near(conn: Connection, event_id: int, limit: int = 3) -> list[dict]:
    """The nearest staff on duty, nearest first, with the cases each holds now."""
    rows = conn.execute(text(_STAFF), {"id": event_id, "limit": limit})
    return [dict(r) for r in rows.mappings()]


def key_groups_near(conn: Connection, event_id: int,
                    radius_m: float = RESIDENT_RADIUS_M) -> list[dict]:
    """Key-group residents of buildings within the radius: tag, tag names, person id, name."""
    rows = conn.execute(text(_RESIDENTS), {"id": event_id, "radius": radius_m,
                                           "radius_deg": radius_m * _DEG_PER_M})
    return [dict(r) for r in rows.mappings()]


# distinct residents per key-group tag in the same buildings, counted in the database: no name
# leaves it. Sensitive tags count only where the session may see them.
_KEY_GROUP_COUNTS = _BUILDINGS_NEAR + """,
residents AS (
  SELECT DISTINCT ph.person_id FROM near
    JOIN onemap.household h ON h.building_id = near.id
    JOIN onemap.person_household ph ON ph.household_id = h.id AND ph.kind = 'residence'
),
tagged AS (
  SELECT t.person_id, t.tag FROM onemap.person_tag t JOIN residents r USING (person_id)
  UNION
  SELECT t.person_id, t.tag FROM onemap.person_sensitive_tag t JOIN residents r USING (person_id)
)
SELECT k.code AS tag, k.name_zh, k.name_en, count(*) AS people
  FROM tagged t JOIN onemap.tag_kind k ON k.code = t.tag
 GROUP BY k.code, k.name_zh, k.name_en, k.sensitive
 ORDER BY k.sensitive, k.code
"""


def key_group_counts(conn: Connection, event_id: int,
                     radius_m: float = RESIDENT_RADIUS_M) -> list[dict]:
    """How many key-group residents (elderly living alone, disabled …) live within the radius,
    per tag: counts only (the desk's, for every role that handles cases)."""
    rows = conn.execute(text(_KEY_GROUP_COUNTS), {"id": event_id, "radius": radius_m,
                                                  "radius_deg": radius_m * _DEG_PER_M})
    return [dict(r) for r in rows.mappings()]

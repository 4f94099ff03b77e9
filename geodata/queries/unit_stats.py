"""The navigator's counts: one administrative unit, and the units (or buildings) one level down.

Runs on a scoped connection. Row-level security hides units, their maintained counts
(admin_unit_stat, building_stat: migration 0020) and cases outside the caller's scope, so a
unit outside it reads exactly like an unknown one: None, or no children.

Maintained (refreshed with the building counts after every import and demo load): buildings,
units, rooms by occupancy, people, residents, registered, living apart, floating, foreign and
the non-sensitive key groups. Counted live, because they change all day and are small: open
cases (~3 k, by the partial index on open states) and cameras (a few thousand). Cases without
a grid belong to no unit and are not counted here.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from onemap.domain.vocab import ADMIN_CODE_LENGTH

LEVEL_OF_LENGTH = {length: level for level, length in ADMIN_CODE_LENGTH.items()}
CHILD_LEVEL = {"district": "street", "street": "community", "community": "grid",
               "grid": "building"}

ROOM_COUNTS = ("rooms", "self_occupied", "rented", "vacant", "commercial")
UNIT_COUNTS = ("buildings", "units", *ROOM_COUNTS, "people", "residents", "registered",
               "living_apart", "floating", "foreign_residents", "key_group")
BUILDING_COUNTS = ("units", *ROOM_COUNTS, "residents", "registered", "living_apart",
                   "key_group")

# a case's point this close to a footprint is at the building (the building table's rule for
# points; the box in degrees is the index's first cut at the district's latitude)
AT_BUILDING_M = 10
_AT_BUILDING_DEGREES = 0.0002

_STAT_COLUMNS = ", ".join(f"st.{c}" for c in UNIT_COUNTS)

_UNIT = f"""
SELECT u.code, u.level, u.name, u.parent_code, {_STAT_COLUMNS}, st.key_groups, st.refreshed_at,
       (SELECT count(*) FROM onemap.event e
         WHERE onemap.event_is_open(e.state) AND starts_with(e.grid_code, u.code)) AS open_cases,
       (SELECT count(*) FROM onemap.camera c WHERE starts_with(c.grid_code, u.code)) AS cameras,
       ST_YMin(u.geom) AS s, ST_XMin(u.geom) AS w, ST_YMax(u.geom) AS n, ST_XMax(u.geom) AS e
  FROM onemap.admin_unit u JOIN onemap.admin_unit_stat st ON st.code = u.code
 WHERE u.code = :code
"""

# live counts grouped by the child's code (its length is :child_length)
_CHILD_UNITS = f"""
WITH open_cases AS (
  SELECT left(grid_code, :child_length) AS code, count(*) AS n FROM onemap.event
   WHERE onemap.event_is_open(state) AND starts_with(grid_code, :code)
   GROUP BY 1
), cameras AS (
  SELECT left(grid_code, :child_length) AS code, count(*) AS n FROM onemap.camera
   WHERE starts_with(grid_code, :code)
   GROUP BY 1
)
SELECT u.code, u.level, u.name, {_STAT_COLUMNS}, st.key_groups,
       coalesce(oc.n, 0) AS open_cases, coalesce(ca.n, 0) AS cameras
  FROM onemap.admin_unit u
  JOIN onemap.admin_unit_stat st ON st.code = u.code
  LEFT JOIN open_cases oc ON oc.code = u.code
  LEFT JOIN cameras ca ON ca.code = u.code
 WHERE u.parent_code = :code AND u.level = :child_level
 ORDER BY u.code
"""

# open cases near the grid first (a handful, by the partial index), then per building
_BUILDINGS = f"""
WITH open_near AS MATERIALIZED (
  SELECT e.geom FROM onemap.event e, onemap.grid g
   WHERE g.code = :code AND onemap.event_is_open(e.state)
     AND e.geom && ST_Expand(g.geom, {_AT_BUILDING_DEGREES})
)
SELECT b.id, b.code, b.name, b.address, b.use, b.floors_above, b.floors_below,
       {", ".join(f"coalesce(st.{c}, 0) AS {c}" for c in BUILDING_COUNTS)},
       (SELECT count(*) FROM open_near e
         WHERE e.geom && ST_Expand(b.geom, {_AT_BUILDING_DEGREES})
           AND ST_DWithin(e.geom::geography, b.geom::geography, {AT_BUILDING_M})) AS open_cases,
       ST_Y(p.geom) AS lat, ST_X(p.geom) AS lng
  FROM onemap.building b
  LEFT JOIN onemap.building_stat st ON st.building_id = b.id,
  ST_PointOnSurface(b.geom) AS p(geom)
 WHERE b.grid_code = :code
 ORDER BY b.code
"""


def level_of(code: str) -> str | None:
    """The level a well-formed unit code names (by its length), or None."""
    if not code.isascii() or not code.isdigit():
        return None
    return LEVEL_OF_LENGTH.get(len(code))


def _counts(row: dict) -> dict:
    counts = {c: int(row[c]) for c in UNIT_COUNTS}
    counts["key_groups"] = dict(row["key_groups"] or {})
    counts["open_cases"] = int(row["open_cases"])
    counts["cameras"] = int(row["cameras"])
    return counts


def unit_counts(conn: Connection, code: str) -> dict | None:
    """A unit's name, level, parent, counts and bounds [[s, w], [n, e]]; None when the code is
    unknown or outside the caller's scope."""
    if level_of(code) is None:
        return None
    row = conn.execute(text(_UNIT), {"code": code}).mappings().one_or_none()
    if row is None:
        return None
    return {
        "code": row["code"], "level": row["level"], "name": row["name"],
        "parent_code": row["parent_code"], **_counts(row),
        "bounds": [[row["s"], row["w"]], [row["n"], row["e"]]],
        "refreshed_at": row["refreshed_at"].isoformat(),
    }


def child_counts(conn: Connection, code: str) -> list[dict]:
    """The units one level down (streets of a district, communities of a street, grids of a
    community), or a grid's buildings, each with its counts; [] when the unit is unknown or
    outside the caller's scope (a grid worker asking for their community gets nothing, not
    their own grid)."""
    level = level_of(code)
    if level is None or not _visible(conn, code):
        return []
    if level == "grid":
        return [_building(dict(r)) for r in
                conn.execute(text(_BUILDINGS), {"code": code}).mappings()]
    child_level = CHILD_LEVEL[level]
    rows = conn.execute(text(_CHILD_UNITS), {
        "code": code, "child_level": child_level,
        "child_length": ADMIN_CODE_LENGTH[child_level],
    }).mappings()
    return [{"code": r["code"], "level": r["level"], "name": r["name"], **_counts(r)}
            for r in rows]


def _visible(conn: Connection, code: str) -> bool:
    # every session may read the units' names and outlines; their counts only in scope
    return conn.execute(text("SELECT EXISTS (SELECT 1 FROM onemap.admin_unit_stat"
                             " WHERE code = :c)"), {"c": code}).scalar_one()


def _building(row: dict) -> dict:
    return {
        "id": row["id"], "code": row["code"], "level": "building", "name": row["name"],
        "address": row["address"], "use": row["use"], "floors_above": row["floors_above"],
        "floors_below": row["floors_below"],
        **{c: int(row[c]) for c in BUILDING_COUNTS},
        "open_cases": int(row["open_cases"]), "lat": row["lat"], "lng": row["lng"],
    }

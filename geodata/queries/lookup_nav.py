"""Where the look-up navigator (pages/lookup.py) stands: the breadcrumb of a unit or building,
the outline the map draws around it, and what lies under a click on the map one level down.

Runs on a scoped connection: row-level security keeps every unit, building and point outside
the caller's scope out of the answers, so a breadcrumb never names a unit above one's own and
a click outside the scope selects nothing.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, text

# the level below each, and the building below a grid
CHILD_LEVEL = {"district": "street", "street": "community", "community": "grid",
               "grid": "building"}

# the unit and every unit above it that the caller may see, top first
_TRAIL = """
WITH RECURSIVE up AS (
  SELECT code, level, name, parent_code, 0 AS depth FROM onemap.admin_unit WHERE code = :code
  UNION ALL
  SELECT a.code, a.level, a.name, a.parent_code, up.depth + 1
    FROM onemap.admin_unit a JOIN up ON a.code = up.parent_code
)
SELECT code, level, name FROM up ORDER BY depth DESC
"""

_BUILDING = """
SELECT b.id, b.code, b.grid_code, coalesce(nullif(b.name, ''), b.address) AS name
  FROM onemap.building b WHERE b.id = :id
"""

_UNIT_OUTLINE = """
SELECT ST_AsGeoJSON(geom, 6) AS shape, ST_YMin(geom) AS s, ST_XMin(geom) AS w,
       ST_YMax(geom) AS n, ST_XMax(geom) AS e
  FROM onemap.admin_unit WHERE code = :code
"""

_BUILDING_OUTLINE = """
SELECT ST_AsGeoJSON(geom, 7) AS shape, ST_YMin(geom) AS s, ST_XMin(geom) AS w,
       ST_YMax(geom) AS n, ST_XMax(geom) AS e
  FROM onemap.building WHERE id = :id
"""

# the unit of the level below that covers the point, inside the unit standing selected
_CHILD_UNIT_AT = """
SELECT code FROM onemap.admin_unit
 WHERE level = :level AND starts_with(code, :within)
   AND ST_Covers(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
 LIMIT 1
"""

# the building under the point (or the nearest within a few metres: a click on a thin
# outline misses by a pixel), inside the grid standing selected
_BUILDING_AT = """
SELECT id FROM onemap.building
 WHERE starts_with(grid_code, :within)
   AND ST_DWithin(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :slack)
 ORDER BY geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)
 LIMIT 1
"""
CLICK_SLACK_DEGREES = 0.00005  # about 5 m


def trail(conn: Connection, code: str) -> list[dict]:
    """The unit and the units above it as far as the caller may see, top first; [] for a
    unit outside the scope or unknown."""
    rows = [dict(r) for r in conn.execute(text(_TRAIL), {"code": code}).mappings()]
    return rows if rows and rows[-1]["code"] == code else []


def building(conn: Connection, building_id: int) -> dict | None:
    """A building's id, code, grid and name (its address when it has none)."""
    row = conn.execute(text(_BUILDING), {"id": building_id}).mappings().one_or_none()
    return dict(row) if row else None


def outline(conn: Connection, *, code: str | None = None,
            building_id: int | None = None) -> dict | None:
    """{"shape": a GeoJSON Feature, "bounds": [[s, w], [n, e]]} of a unit or a building."""
    if building_id is not None:
        row = conn.execute(text(_BUILDING_OUTLINE), {"id": building_id}).mappings()
    else:
        row = conn.execute(text(_UNIT_OUTLINE), {"code": code}).mappings()
    found = row.one_or_none()
    if found is None or found["shape"] is None:
        return None
    feature = {"type": "Feature", "properties": {}, "geometry": json.loads(found["shape"])}
    return {"shape": {"type": "FeatureCollection", "features": [feature]},
            "bounds": [[found["s"], found["w"]], [found["n"], found["e"]]]}


def under_click(conn: Connection, level: str, within: str, lon: float,
                lat: float) -> tuple[str, str | int] | None:
    """What a click selects one level below `level` (a unit of that level): ("unit", code) or
    ("building", id) below a grid; None when nothing of the caller's is there."""
    child = CHILD_LEVEL.get(level)
    if child is None:
        return None
    if child == "building":
        found = conn.execute(text(_BUILDING_AT), {"within": within, "lon": lon, "lat": lat,
                                                  "slack": CLICK_SLACK_DEGREES}).scalar()
        return ("building", int(found)) if found is not None else None
    found = conn.execute(text(_CHILD_UNIT_AT), {"level": child, "within": within, "lon": lon,
                                                "lat": lat}).scalar()
    return ("unit", found) if found is not None else None

"""The units the cockpit is scoped to and maps: names for the breadcrumb, the child units'
outlines for the choropleth. Boundaries are open to every role (as on the overview); the unit's
code bounds what is read."""

from __future__ import annotations

from sqlalchemy import Connection, text

LEVEL_TABLES = {6: "district", 9: "street", 12: "community", 15: "grid"}
TABLE_LEVELS = {"street": 9, "community": 12, "grid": 15}

_NAMES = """
SELECT code, name FROM onemap.district WHERE code = ANY(:codes)
UNION ALL SELECT code, name FROM onemap.street WHERE code = ANY(:codes)
UNION ALL SELECT code, name FROM onemap.community WHERE code = ANY(:codes)
UNION ALL SELECT code, name FROM onemap.grid WHERE code = ANY(:codes)
"""


def trail(conn: Connection, unit: str, scope_code: str) -> list[tuple[str, str]]:
    """(code, name) from the user's scope down to `unit`: the breadcrumb."""
    codes = [unit[:n] for n in LEVEL_TABLES if len(scope_code) <= n <= len(unit)]
    names = dict(conn.execute(text(_NAMES), {"codes": codes}).all())
    return [(code, names.get(code, code)) for code in codes]


# simplified in metres (as layers/admin.py does), a few hundred vertices a unit
_OUTLINES = """
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
         json_build_object('type', 'Feature', 'id', code,
           'geometry', ST_AsGeoJSON(ST_Transform(ST_SimplifyPreserveTopology(
                         ST_Transform(geom, 3857), :tolerance), 4326), 6)::json,
           'properties', json_build_object('code', code, 'name', name))
         ORDER BY code), '[]'::json))
  FROM onemap.{table}
 WHERE starts_with(code, :unit)
"""


def child_outlines(conn: Connection, unit: str, level: str, tolerance_m: float = 10.0) -> dict:
    """The outlines of `unit`'s streets, communities or grids as a FeatureCollection."""
    if level not in TABLE_LEVELS:
        raise ValueError(f"unknown level {level!r}")
    return conn.execute(text(_OUTLINES.format(table=level)),
                        {"unit": unit, "tolerance": tolerance_m}).scalar_one()


_CLASSES = """
SELECT code, kind, name_zh FROM onemap.event_category WHERE parent_code IS NULL ORDER BY code
"""


def category_classes(conn: Connection) -> list[dict]:
    """The catalogue's top classes (部件, 事件 and social governance each have their own)."""
    return [dict(row) for row in conn.execute(text(_CLASSES)).mappings()]


def names_of(conn: Connection, codes: list[str]) -> dict[str, str]:
    """Unit names by code (any level)."""
    return dict(conn.execute(text(_NAMES), {"codes": codes}).all())

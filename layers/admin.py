"""Administrative boundaries: district, street, community and grid outlines."""

from __future__ import annotations

from sqlalchemy import Connection, text

from .base import Field, Layer, Source

DISTRICT = Layer("district", "区界", "District", "district", ("code", "name"),
                 style={"color": "#f5c542", "weight": 4, "fill": False})
STREET = Layer("street", "街道", "Streets", "street", ("code", "name"),
               style={"color": "#4fc3f7", "weight": 2.5, "fillOpacity": 0.04})
COMMUNITY = Layer("community", "社区", "Communities", "community", ("code", "name"),
                  style={"color": "#81c784", "weight": 1.5, "fill": False})
GRID = Layer("grid", "网格", "Grids", "grid", ("code", "name"),
             style={"color": "#9e9e9e", "weight": 0.8, "dashArray": "3 3", "fill": False})

BOUNDARY_LAYERS = (DISTRICT, STREET, COMMUNITY, GRID)

# Simplify in metres (Web Mercator is close enough for a tolerance) so outlines stay light.
_GEOJSON = """
SELECT json_build_object(
  'type', 'FeatureCollection',
  'features', coalesce(json_agg(json_build_object(
     'type', 'Feature',
     'id', code,
     'geometry', ST_AsGeoJSON(
        ST_Transform(ST_SimplifyPreserveTopology(ST_Transform(geom, 3857), :tolerance_m), 4326),
        6)::json,
     'properties', json_build_object('code', code, 'name', name)
  ) ORDER BY code), '[]'::json))
FROM onemap.{table}
"""


def boundary_geojson(conn: Connection, layer: Layer, tolerance_m: float = 5.0) -> dict:
    """One boundary layer as a GeoJSON FeatureCollection, simplified to `tolerance_m`."""
    if layer not in BOUNDARY_LAYERS:
        raise ValueError(f"{layer.name} is not a boundary layer")
    sql = text(_GEOJSON.format(table=layer.table))
    return conn.execute(sql, {"tolerance_m": tolerance_m}).scalar_one()

def _boundary(name: str, table: str, title_zh: str, title_en: str, parent: str | None) -> Source:
    parent_column = f"{parent}_code" if parent else "NULL::varchar"
    return Source(
        name, title_zh, title_en,
        f"SELECT code, name, {parent_column} AS parent_code,"
        f" round(CAST(ST_Area(geom::geography) / 1e6 AS numeric), 3)::float8 AS area_km2,"
        f" code AS unit_code, ST_Multi(geom) AS geom FROM onemap.{table}",
        (Field("code", "编码", "code"), Field("name", "名称", "name"),
         Field("parent_code", "上级编码", "parent code"),
         Field("area_km2", "面积(平方公里)", "area (km²)", "float")),
        "MultiPolygon", id_field="code", boundary=True)


DISTRICT_SOURCE = _boundary("district", "district", "区界", "District", None)
STREET_SOURCE = _boundary("street", "street", "街道", "Streets", "district")
COMMUNITY_SOURCE = _boundary("community", "community", "社区", "Communities", "street")
GRID_SOURCE = _boundary("grid", "grid", "网格", "Grids", "community")

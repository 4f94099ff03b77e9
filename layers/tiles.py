"""Vector tiles of a layer source: Mapbox Vector Tiles encoded by PostGIS (ST_AsMVT).

A tile holds a source's rows inside the tile (and a buffer around it), read through
`layer_sql` with the tile's box as the bounding-box filter, so a source with `Source.spatial`
finds them through the GiST index despite row-level security when the box is small, and reads
the table when it is large (layers/sql.py, INDEXED_BBOX_DEG2). It runs on the caller's scoped
connection: what a tile holds is what their scope sees. Personal fields never go into a tile,
and a source that needs a capability of its own (people) is not tiled at all.
"""

from __future__ import annotations

import math
from functools import lru_cache

from sqlalchemy import Connection

from geodata.db import statement
from .base import Field, Source
from .events import HEAT_CELL_M, HEAT_GRID_SOURCE
from .rows import Filters, layer_sql

MIN_ZOOM, MAX_ZOOM = 0, 22
EXTENT = 4096  # tile units a side, as ST_AsMVT's default and every renderer expects
BUFFER = 256  # tile units kept around the tile (ST_AsMVTGeom's default): lines and labels
# crossing the edge join up, and a point just outside still draws its symbol's inside half
WEB_MERCATOR_HALF_M = 20037508.342789244  # from the world's centre to its edge, in EPSG:3857
MERCATOR_MAX_LAT = 85.0511287798066
TIMES_IN = "Asia/Shanghai"  # times go out as text with China's offset, as exports write them

# An aggregate's values come from rows around each of its shapes, not only under them: a heat
# cell that crosses the edge of the tile's buffer counts every report in it only if the box
# reaches past the whole cell. Metres on the ground a tile's box reaches beyond its buffer, per
# aggregate source (a cell and a half: the cells are sized at the district's latitude, the
# reach at the tile's).
AGGREGATE_REACH_M = {HEAT_GRID_SOURCE.name: 1.5 * HEAT_CELL_M}


def tiled(source: Source) -> bool:
    """Whether the source is served as tiles: not one that needs a capability of its own."""
    return source.capability is None


def tile_fields(source: Source) -> tuple[Field, ...]:
    """The fields a tile of the source carries: those it declares for tiles (all without a
    declaration), never a personal one."""
    named = source.tile_fields or tuple(f.name for f in source.fields)
    return tuple(f for f in source.fields if f.name in named and not f.personal)


def valid_tile(z: int, x: int, y: int) -> bool:
    """Whether (z, x, y) names a tile of the Web Mercator pyramid that is served."""
    return MIN_ZOOM <= z <= MAX_ZOOM and 0 <= x < 2 ** z and 0 <= y < 2 ** z


def _lon(x_m: float) -> float:
    return math.degrees(x_m / WEB_MERCATOR_HALF_M * math.pi)


def _lat(y_m: float) -> float:
    return math.degrees(math.atan(math.sinh(y_m / WEB_MERCATOR_HALF_M * math.pi)))


def tile_bbox(source: Source, z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) in WGS84 of the tile with its buffer, and for an aggregate
    source the reach of its shapes beyond that (AGGREGATE_REACH_M)."""
    size = 2 * WEB_MERCATOR_HALF_M / 2 ** z
    west, north = -WEB_MERCATOR_HALF_M + x * size, WEB_MERCATOR_HALF_M - y * size
    margin = size * BUFFER / EXTENT
    if source.aggregate is not None:
        if source.name not in AGGREGATE_REACH_M:
            raise ValueError(f"{source.name}: how far its aggregate reaches is not declared"
                             " (AGGREGATE_REACH_M)")
        # ground metres to Web Mercator metres at the tile's latitude
        stretch = 1 / math.cos(math.radians(_lat(north - size / 2)))
        margin += AGGREGATE_REACH_M[source.name] * stretch
    box = (west - margin, north - size - margin, west + size + margin, north + margin)
    clamp = WEB_MERCATOR_HALF_M
    w, s, e, n = (max(-clamp, min(clamp, v)) for v in box)
    return (_lon(w), max(-MERCATOR_MAX_LAT, _lat(s)), _lon(e), min(MERCATOR_MAX_LAT, _lat(n)))


def _attribute(field: Field) -> str:
    """The field as ST_AsMVT should encode it: numbers and booleans as such (a numeric column
    would otherwise go out as text), times as ISO 8601 text with their offset."""
    column = f'r."{field.name}"'
    if field.kind == "time":
        return (f"to_char({column} AT TIME ZONE '{TIMES_IN}', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
                f" || '+08:00' AS \"{field.name}\"")
    cast = {"int": "bigint", "float": "float8", "bool": "boolean"}.get(field.kind, "text")
    return f'CAST({column} AS {cast}) AS "{field.name}"'


def tile_sql(source: Source, z: int, x: int, y: int) -> tuple[str, dict]:
    """The SQL and parameters of tile z/x/y of the source: its rows under the tile's box
    (`layer_sql`, which picks the index or the table by the box's size), clipped to the tile in
    Web Mercator and encoded as one MVT layer named after the source. An empty tile is an
    empty bytea."""
    box = tile_bbox(source, z, x, y)
    rows, params = layer_sql(source, Filters(bbox=box))
    return _encoded(source, rows), {**params, "z": z, "x": x, "y": y, "layer": source.name}


@lru_cache(maxsize=128)
def _encoded(source: Source, rows: str) -> str:
    attributes = ", ".join(_attribute(f) for f in tile_fields(source))
    return f"""
        SELECT ST_AsMVT(t, :layer, {EXTENT}, 'geom') FROM (
          SELECT {attributes},
                 ST_AsMVTGeom(ST_Transform(r.geom, 3857), ST_TileEnvelope(:z, :x, :y),
                              {EXTENT}, {BUFFER}, true) AS geom
            FROM ({rows}) r
        ) t
        WHERE t.geom IS NOT NULL"""


def tile(conn: Connection, source: Source, z: int, x: int, y: int) -> bytes:
    """Tile z/x/y of the source as MVT bytes (b"" when nothing is in it), in the scope of the
    connection. ValueError for a source that is not tiled or a tile outside the pyramid."""
    if not tiled(source):
        raise ValueError(f"{source.name} is not served as tiles")
    if not valid_tile(z, x, y):
        raise ValueError(f"no tile {z}/{x}/{y}")
    sql, params = tile_sql(source, z, x, y)
    encoded = conn.execute(statement(sql), params).scalar_one()
    return bytes(encoded or b"")


DISTRICT_BOUNDS = """
    SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
      FROM (SELECT ST_Extent(geom) AS e FROM onemap.district) d"""


def district_bounds(conn: Connection) -> tuple[float, float, float, float]:
    """(west, south, east, north) in WGS84 of the district's outline; the whole Web Mercator
    world while no district is loaded."""
    row = conn.execute(statement(DISTRICT_BOUNDS)).one()
    if row[0] is None:
        return (-180.0, -MERCATOR_MAX_LAT, 180.0, MERCATOR_MAX_LAT)
    return tuple(float(v) for v in row)

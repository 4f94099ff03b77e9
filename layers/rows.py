"""A layer's rows for an export (and the OGC API): its source's SELECT with the user's filters.

Runs on a scoped connection: row-level security keeps the rows to the user's scope, so nothing
here names a scope. The filters are parameters, never text pasted into the SQL; a field or a
layer is one the declaration names (layers/), checked before any SQL is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import geopandas as gpd
from sqlalchemy import Connection

from geodata.db import statement
from .base import Source
from .sql import INDEXED_BBOX_DEG2


class BadFilter(ValueError):
    """A filter the layer cannot take (an unknown or personal field, a time range on a layer
    without times); the message names it."""


@dataclass(frozen=True)
class Filters:
    """What an analyst narrows a layer to. `unit`: an administrative code (a boundary layer
    also keeps the units above it); `bbox`: (west, south, east, north) in WGS84; `polygon`:
    WKT in WGS84; `since`/`until`: on the layer's time field, until exclusive; `equals`: field
    name -> value, compared as text; `after`: only rows whose id comes after it (keyset
    paging: a page deep into a layer costs what the first does)."""

    unit: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    polygon: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    equals: dict[str, str] = field(default_factory=dict)
    after: str | None = None

    def describe(self) -> dict:
        """The filters as the audit row records them (only those given)."""
        described = {"unit": self.unit, "bbox": list(self.bbox) if self.bbox else None,
                     "polygon": self.polygon,
                     "since": self.since.isoformat() if self.since else None,
                     "until": self.until.isoformat() if self.until else None,
                     "equals": dict(self.equals) or None}
        return {k: v for k, v in described.items() if v is not None}


def _conditions(source: Source, filters: Filters) -> tuple[list[str], dict]:
    where, params = [], {}
    if filters.unit:
        where.append("(starts_with(r.unit_code, :unit)"
                     + (" OR starts_with(:unit, r.unit_code))" if source.boundary else ")"))
        params["unit"] = filters.unit
    if filters.bbox:
        west, south, east, north = filters.bbox
        if source.spatial and (east - west) * (north - south) <= INDEXED_BBOX_DEG2:
            table, column = source.spatial
            where.append(f"r.{column} = ANY (ARRAY(SELECT onemap.viewport_ids('{table}', :west,"
                         " :south, :east, :north)))")
        where.append("r.geom && ST_MakeEnvelope(:west, :south, :east, :north, 4326)")
        params.update(zip(("west", "south", "east", "north"), filters.bbox))
    if filters.polygon:
        where.append("ST_Intersects(r.geom, ST_GeomFromText(:polygon, 4326))")
        params["polygon"] = filters.polygon
    if filters.since or filters.until:
        if source.time_field is None:
            raise BadFilter(f"{source.name} has no time to filter on / 该图层没有时间字段")
        if filters.since:
            where.append(f"r.{source.time_field} >= :since")
            params["since"] = filters.since
        if filters.until:
            where.append(f"r.{source.time_field} < :until")
            params["until"] = filters.until
    if filters.after is not None:
        if source.aggregate is not None:
            raise BadFilter(f"{source.name} is an aggregate: page it by offset")
        kind = "bigint" if source.field(source.id_field).kind == "int" else "text"
        where.append(f"r.{source.id_field} > CAST(:after AS {kind})")
        params["after"] = filters.after
    for i, (name, value) in enumerate(sorted(filters.equals.items())):
        if source.aggregate is not None:
            raise BadFilter(f"{source.name} is an aggregate: filter by unit, area or time")
        try:
            column = source.field(name)
        except KeyError as exc:
            raise BadFilter(str(exc.args[0])) from None
        if column.personal:
            raise BadFilter(f"{name} is personal: no export filters on it"
                            " / 个人信息字段不能作为筛选条件")
        where.append(f"CAST(r.{column.name} AS text) = :value_{i}")
        params[f"value_{i}"] = str(value)
    return where, params


def layer_sql(source: Source, filters: Filters, *, count: bool = False,
              limit: bool = False) -> tuple[str, dict]:
    """The SQL and parameters of the layer's rows under `filters`, ordered by id; the geometry
    as `geom` (WGS84). `count`: their number instead; `limit`: a page (:limit, :offset)."""
    where, params = _conditions(source, filters)
    filtered = f"SELECT * FROM ({source.select}) r" + (
        " WHERE " + " AND ".join(where) if where else "")
    if source.aggregate is not None:
        rows = f"WITH filtered AS ({filtered}) {source.aggregate.strip()}"
        if rows.count("WITH") > 1:  # the aggregate's own WITH joins the filtered rows' one
            rows = f"WITH filtered AS ({filtered}), " + source.aggregate.strip()[len("WITH"):]
        filtered = f"SELECT * FROM ({rows}) a"
    if count:
        return f"SELECT count(*) FROM ({filtered}) c", params
    columns = ", ".join(f.name for f in source.fields)
    sql = f"SELECT {columns}, geom FROM ({filtered}) f ORDER BY {source.id_field}"
    if limit:
        sql += " LIMIT :limit OFFSET :offset"
    return sql, params


def count_rows(conn: Connection, source: Source, filters: Filters) -> int:
    """How many rows the layer has under `filters` in the connection's scope."""
    sql, params = layer_sql(source, filters, count=True)
    return conn.execute(statement(sql), params).scalar_one()


def read_rows(conn: Connection, source: Source, filters: Filters,
              page: tuple[int, int] | None = None) -> gpd.GeoDataFrame:
    """The layer's rows under `filters` as a GeoDataFrame in WGS84 (EPSG:4326), times as
    UTC-aware; `page`: (limit, offset)."""
    sql, params = layer_sql(source, filters, limit=page is not None)
    if page is not None:
        params.update(limit=page[0], offset=page[1])
    return gpd.read_postgis(statement(sql), conn, geom_col="geom", params=params, crs=4326)

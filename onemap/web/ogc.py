"""OGC API – Features (Core, GeoJSON, OpenAPI 3.0; Part 2 CRS) at /ogc/, for QGIS and GDAL.

The collections are the layer sources a role may export (layers/registry.py, exports/run.py
`may_export`), read in the caller's scope (row-level security) and masked for their role as
an export is (exports/run.py `prepare_rows`); every page of items is one audit row. Desktop
clients sign in with HTTP Basic (user name + personal token) and get 401 with
WWW-Authenticate otherwise (onemap/web/auth.py). Coordinates are CRS84 unless `crs` names
another of the collection's list; those come in their EPSG axis order (EPSG:4326 and 4490
latitude first, the Gauss-Krüger zones northing first), as Part 2 requires and GDAL expects.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from urllib.parse import quote

import geopandas as gpd
import pandas as pd
import shapely
from flask import Blueprint, Response, request
from flask_login import current_user
from pyproj import CRS, Transformer

from exports.crs import CRS84, UnknownCrs, epsg_of_uri, north_first
from exports.formats import as_text_times
from exports.run import may_export, prepare_rows
from geodata.db import statement
from geodata.scope import scoped
from layers.registry import SOURCES
from layers.rows import BadFilter, Filters, count_rows, read_rows
from onemap.domain.roles import Capability

from . import ogc_documents as documents
from .auth import audit_request, current_scope, requires
from .errors import InvalidRequest, NotFound

api = Blueprint("ogc", __name__, url_prefix="/ogc")

_DISTRICT_EXTENT = "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM" \
                   " (SELECT ST_Extent(geom) AS e FROM onemap.district) d"


def _base() -> str:
    return request.host_url.rstrip("/") + "/ogc"


def _json(document: dict, media: str = documents.JSON, headers: dict | None = None):
    return Response(json.dumps(document, ensure_ascii=False, default=str), mimetype=media,
                    headers=headers)


def _readable() -> list:
    """The sources the caller's role may read, in the registry's order."""
    return [s for s in SOURCES.values() if may_export(current_user.role, s)]


def _source(collection_id: str):
    source = SOURCES.get(collection_id)
    if source is None or not may_export(current_user.role, source):
        raise NotFound("没有该图层", "no such collection")  # refused and missing alike
    return source


def _extent(conn) -> tuple[float, float, float, float]:
    row = conn.execute(statement(_DISTRICT_EXTENT)).one()
    return tuple(row) if row[0] is not None else (-180.0, -90.0, 180.0, 90.0)


@api.get("/")
@api.get("")
@requires(Capability.EXPORT)
def landing():
    return _json(documents.landing(_base()))


@api.get("/api")
@requires(Capability.EXPORT)
def service_description():
    return _json(documents.openapi(_base(), _readable()), documents.OPENAPI)


@api.get("/conformance")
@requires(Capability.EXPORT)
def conformance():
    return _json(documents.conformance())


@api.get("/collections")
@requires(Capability.EXPORT)
def collections():
    with scoped(current_scope()) as conn:
        extent = _extent(conn)
    return _json(documents.collections(_base(), _readable(), extent))


@api.get("/collections/<collection_id>")
@requires(Capability.EXPORT)
def collection(collection_id: str):
    source = _source(collection_id)
    with scoped(current_scope()) as conn:
        extent = _extent(conn)
    return _json(documents.collection(_base(), source, extent))


def _crs_param(name: str) -> str:
    uri = request.args.get(name, CRS84)
    try:
        epsg_of_uri(uri)
    except UnknownCrs as exc:
        raise InvalidRequest("不支持的坐标系", str(exc), parameter=name) from None
    return uri.strip().strip("[]")


def _bbox() -> tuple[float, float, float, float] | None:
    """The bbox parameter in WGS84 longitude-latitude, whatever bbox-crs it came in."""
    text = request.args.get("bbox")
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 4:
        raise InvalidRequest("bbox 应为四个数", "bbox takes four numbers", parameter="bbox")
    uri = _crs_param("bbox-crs")
    if north_first(uri):
        values = [values[1], values[0], values[3], values[2]]
    code = epsg_of_uri(uri)
    if code != 4326:
        values = list(Transformer.from_crs(CRS.from_epsg(code), CRS.from_epsg(4326),
                                           always_xy=True).transform_bounds(*values))
    west, south, east, north = values
    if not (west < east and south < north):
        raise InvalidRequest("bbox 范围有误", "bbox must run from its lower to its upper corner",
                             parameter="bbox")
    return west, south, east, north


def _moment(text: str) -> datetime | None:
    if text in ("..", ""):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequest("datetime 格式有误", "datetime takes RFC 3339 times or an "
                             "interval a/b with .. for open ends", parameter="datetime") from None


def _interval(source) -> tuple[datetime | None, datetime | None]:
    text = request.args.get("datetime")
    if text is None:
        return None, None
    if source.time_field is None:
        raise InvalidRequest("该图层没有时间", f"{source.name} has no time to filter on",
                             parameter="datetime")
    if "/" in text:
        start, end = (_moment(part) for part in text.split("/", 1))
        return start, (end + timedelta(microseconds=1)) if end else None
    instant = _moment(text)
    return instant, instant + timedelta(seconds=1)


def _int(name: str, default: int, low: int, high: int) -> int:
    text = request.args.get(name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidRequest(f"{name} 超出范围", f"{name} must be an integer from {low} to "
                             f"{high}", parameter=name)
    return int(text)


def _features(frame: gpd.GeoDataFrame, source, uri: str) -> list[dict]:
    """GeoJSON features of `frame` (masked, WGS84) in `uri`'s coordinates and axis order."""
    frame, kept, _treatment = prepare_rows(frame, source, current_user.role)
    code = epsg_of_uri(uri)
    geometries = frame.geometry.values if code == 4326 else frame.to_crs(code).geometry.values
    if north_first(uri):
        geometries = shapely.transform(geometries, lambda xy: xy[:, ::-1])
    table = as_text_times(pd.DataFrame(frame[kept]))
    properties = json.loads(table.to_json(orient="records", force_ascii=False))
    return [{"type": "Feature", "id": props[source.id_field],
             "geometry": json.loads(shapely.to_geojson(geometry)) if geometry else None,
             "properties": props}
            for props, geometry in zip(properties, geometries)]


@api.get("/collections/<collection_id>/items")
@requires(Capability.EXPORT)
def items(collection_id: str):
    source = _source(collection_id)
    uri = _crs_param("crs")
    limit = _int("limit", documents.DEFAULT_LIMIT, 1, documents.MAX_LIMIT)
    offset = _int("offset", 0, 0, 10**9)
    since, until = _interval(source)
    filters = Filters(bbox=_bbox(), since=since, until=until)
    # our own next links carry the last id as well: a page deep into 300,000 cases then
    # costs what the first does, where an offset sorts every row before it
    after = request.args.get("after")
    numeric = source.field(source.id_field).kind == "int"
    if after is not None and (source.aggregate is not None or not after.strip()
                              or len(after) > 64 or (numeric and not after.isdigit())):
        raise InvalidRequest("after 参数有误", "after takes the last id of the page before",
                             parameter="after")
    try:
        with scoped(current_scope()) as conn:
            matched = count_rows(conn, source, filters)
            page = (limit, 0) if after is not None else (limit, offset)
            frame = read_rows(conn, source, Filters(**{**filters.__dict__, "after": after}),
                              page=page)
            audit_request(conn, "ogc_items", object_kind="layer", object_id=source.name,
                          details={"rows": len(frame), "offset": offset, "limit": limit,
                                   "crs": uri, "filters": filters.describe()})
    except BadFilter as exc:
        raise InvalidRequest("筛选条件有误", str(exc)) from None
    base = f"{_base()}/collections/{source.name}/items"
    links = [{"href": request.url, "rel": "self", "type": documents.GEOJSON}]
    if offset + len(frame) < matched:
        following = request.args.to_dict() | {"offset": offset + len(frame), "limit": limit}
        if source.aggregate is None:
            following["after"] = frame[source.id_field].iloc[-1]
        query = "&".join(f"{k}={_quote(str(v))}" for k, v in following.items())
        links.append({"href": f"{base}?{query}", "rel": "next", "type": documents.GEOJSON})
    return _json({
        "type": "FeatureCollection",
        "features": _features(frame, source, uri),
        "numberMatched": matched,
        "numberReturned": len(frame),
        "timeStamp": datetime.now().astimezone().isoformat(timespec="seconds"),
        "links": links,
    }, documents.GEOJSON, headers={"Content-Crs": f"<{uri}>"})


@api.get("/collections/<collection_id>/items/<feature_id>")
@requires(Capability.EXPORT)
def item(collection_id: str, feature_id: str):
    source = _source(collection_id)
    uri = _crs_param("crs")
    filters = Filters(equals={source.id_field: feature_id})
    with scoped(current_scope()) as conn:
        frame = read_rows(conn, source, filters)
        if frame.empty:
            raise NotFound("没有该要素", "no such feature")
        audit_request(conn, "ogc_item", object_kind="layer", object_id=source.name,
                      details={"feature": feature_id, "crs": uri})
    feature = _features(frame, source, uri)[0]
    feature["links"] = [
        {"href": request.url, "rel": "self", "type": documents.GEOJSON},
        {"href": f"{_base()}/collections/{source.name}", "rel": "collection",
         "type": documents.JSON}]
    return _json(feature, documents.GEOJSON, headers={"Content-Crs": f"<{uri}>"})


def _quote(value: str) -> str:
    return quote(value, safe=",:/.")

"""The documents of the OGC API – Features at /ogc/: landing page, conformance, collections,
and the OpenAPI 3.0 description, built from the layer sources (layers/registry.py) so a layer
declared once is a collection here too. Plain functions of their inputs (no request, no
database), so each can be checked on its own.
"""

from __future__ import annotations

from exports.crs import CRS84, ogc_crs_uris
from layers.base import Source

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]

# a page of items: what QGIS and GDAL ask for by default fits, a runaway request does not
DEFAULT_LIMIT, MAX_LIMIT = 100, 10_000


def _link(href: str, rel: str, media: str, title: str) -> dict:
    return {"href": href, "rel": rel, "type": media, "title": title}


def landing(base: str) -> dict:
    """The landing page: QGIS and GDAL need its service-desc, conformance and data links."""
    return {
        "title": "OneMap 一张图 · OGC API – Features",
        "description": "城市网格化管理图层 · the layers of urban grid management, in the "
                       "caller's scope, personal fields masked",
        "links": [
            _link(f"{base}/", "self", JSON, "this document"),
            _link(f"{base}/api", "service-desc", OPENAPI, "OpenAPI 3.0 definition"),
            _link(f"{base}/conformance", "conformance", JSON, "conformance classes"),
            _link(f"{base}/collections", "data", JSON, "图层 · collections"),
        ],
    }


def conformance() -> dict:
    return {"conformsTo": CONFORMANCE}


def collection(base: str, source: Source, extent: tuple[float, float, float, float]) -> dict:
    """One collection: its links, its extent (the district's, WGS84), the coordinate systems
    it can answer in (CRS84 stored)."""
    href = f"{base}/collections/{source.name}"
    described = {
        "id": source.name,
        "title": source.title,
        "description": f"{source.title_zh} · {source.title_en} ({source.geometry})",
        "itemType": "feature",
        "extent": {"spatial": {"bbox": [list(extent)], "crs": CRS84}},
        "crs": ogc_crs_uris(),
        "storageCrs": CRS84,
        "links": [
            _link(href, "self", JSON, source.title),
            _link(f"{href}/items", "items", GEOJSON, f"{source.title} · features"),
        ],
    }
    if source.time_field:
        described["extent"]["temporal"] = {
            "interval": [[None, None]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return described


def collections(base: str, sources: list[Source],
                extent: tuple[float, float, float, float]) -> dict:
    return {
        "links": [_link(f"{base}/collections", "self", JSON, "collections")],
        "collections": [collection(base, source, extent) for source in sources],
        "crs": ogc_crs_uris(),
    }


def openapi(base: str, sources: list[Source]) -> dict:
    """The OpenAPI 3.0 document of /ogc/: one path per document kind and the items' query
    parameters, the collection ids as an enum (only those the caller may read)."""
    collection_id = {"name": "collectionId", "in": "path", "required": True,
                     "schema": {"type": "string", "enum": [s.name for s in sources]}}
    query = [
        {"name": "bbox", "in": "query", "style": "form", "explode": False,
         "schema": {"type": "array", "minItems": 4, "maxItems": 4,
                    "items": {"type": "number"}}},
        {"name": "bbox-crs", "in": "query", "schema": {"type": "string", "format": "uri"}},
        {"name": "crs", "in": "query", "schema": {"type": "string", "format": "uri"}},
        {"name": "datetime", "in": "query", "schema": {"type": "string"}},
        {"name": "limit", "in": "query",
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                    "default": DEFAULT_LIMIT}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    ]

    def answer(media: str, text: str) -> dict:
        return {"200": {"description": text, "content": {media: {"schema": {"type": "object"}}}},
                "401": {"description": "未登录 · HTTP Basic: user name and personal token"}}

    return {
        "openapi": "3.0.3",
        "info": {"title": "OneMap OGC API – Features", "version": "1.0.0"},
        "servers": [{"url": base}],
        "components": {"securitySchemes": {"basic": {"type": "http", "scheme": "basic"},
                                           "bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"basic": []}, {"bearer": []}],
        "paths": {
            "/": {"get": {"summary": "landing page", "responses": answer(JSON, "links")}},
            "/conformance": {"get": {"summary": "conformance classes",
                                     "responses": answer(JSON, "conformsTo")}},
            "/collections": {"get": {"summary": "collections",
                                     "responses": answer(JSON, "collections")}},
            "/collections/{collectionId}": {"get": {
                "summary": "one collection", "parameters": [collection_id],
                "responses": answer(JSON, "collection")}},
            "/collections/{collectionId}/items": {"get": {
                "summary": "features", "parameters": [collection_id, *query],
                "responses": answer(GEOJSON, "a page of features")}},
            "/collections/{collectionId}/items/{featureId}": {"get": {
                "summary": "one feature",
                "parameters": [collection_id, {"name": "featureId", "in": "path",
                                               "required": True, "schema": {"type": "string"}},
                               query[2]],
                "responses": answer(GEOJSON, "a feature")}},
        },
    }

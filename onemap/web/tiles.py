"""Vector tiles of the layer sources, for QGIS, GDAL and web maps (MapLibre, OpenLayers).

GET /tiles/<layer>.json              TileJSON 3.0.0: the tile URL, zooms, the district's bounds
                                     and the layer's fields
GET /tiles/<layer>/<z>/<x>/<y>.pbf   one Mapbox Vector Tile (layers/tiles.py)

Every tile is read on the caller's scoped connection (on the read replica when there is one:
the wall draws buildings and cameras from here), so two users get different tiles for
the same URL: answers are private to the user and cached for a minute only. A tile with
nothing in it is 200 with an empty body (an MVT of no layers), which every client reads as an
empty tile; 204 is not understood by all of them. Desktop clients sign in with HTTP Basic
(user name + personal token) or a Bearer token (onemap/web/auth.py).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from geodata.scope import scoped_read
from layers.base import Source
from layers.registry import SOURCES, VIEWPORT_LAYERS
from layers.tiles import (MAX_ZOOM, MIN_ZOOM, district_bounds, tile, tile_fields, tiled,
                          valid_tile)
from onemap.domain.roles import Capability

from .auth import current_scope, requires
from .errors import NotFound

api = Blueprint("tiles", __name__, url_prefix="/tiles")

MVT = "application/vnd.mapbox-vector-tile"
# per user (scope) and short: a browser shared by two users must not hand one the other's tile
PRIVATE = {"Cache-Control": "private, max-age=60", "Vary": "Authorization, Cookie"}
# TileJSON's maxzoom: beyond it a 4096-unit tile is finer than 4 cm, and clients draw the
# z18 tile larger (overzoom) instead of asking for more; /tiles/ still serves up to MAX_ZOOM
DECLARED_MAX_ZOOM = 18


def _source(layer: str) -> Source:
    source = SOURCES.get(layer)
    if source is None or not tiled(source):  # people are not tiled: as if there were no layer
        raise NotFound("无此图层", "no such layer",
                       layers=sorted(s.name for s in SOURCES.values() if tiled(s)))
    return source


def min_zoom(source: Source) -> int:
    """The zoom tiles start at: the source's own (Source.tile_min_zoom), or where the map
    starts drawing the layer of the same name, whichever is higher."""
    layer = VIEWPORT_LAYERS.get(source.name)
    return max(source.tile_min_zoom, layer.min_zoom if layer is not None else 0)


def tile_json(source: Source, base_url: str, bounds: tuple[float, ...]) -> dict:
    """The TileJSON 3.0.0 document of the source's tiles under `base_url` (…/tiles)."""
    fields = {f.name: f"{f.title_zh} {f.title_en}" for f in tile_fields(source)}
    zooms = {"minzoom": min_zoom(source), "maxzoom": DECLARED_MAX_ZOOM}
    return {
        "tilejson": "3.0.0", "name": source.name, "description": source.title,
        "scheme": "xyz", "tiles": [f"{base_url}/{source.name}/{{z}}/{{x}}/{{y}}.pbf"],
        **zooms, "bounds": list(bounds),
        "vector_layers": [{"id": source.name, "description": source.title, **zooms,
                           "fields": fields}],
    }


@api.get("/<layer>.json")
@requires(Capability.VIEW_MAP)
def tilejson(layer: str):
    """The layer's TileJSON; 404 for an unknown layer or one not served as tiles."""
    source = _source(layer)
    with scoped_read(current_scope()) as conn:
        bounds = district_bounds(conn)
    base_url = request.host_url.rstrip("/") + api.url_prefix
    response = jsonify(tile_json(source, base_url, bounds))
    response.headers.update(PRIVATE)
    return response


@api.get("/<layer>/<int:z>/<int:x>/<int:y>.pbf")
@requires(Capability.VIEW_MAP)
def vector_tile(layer: str, z: int, x: int, y: int):
    """One tile of the layer in the user's scope; 404 for an unknown layer or a tile outside
    zooms 0–22 and their x/y range."""
    source = _source(layer)
    if not valid_tile(z, x, y) or z < source.tile_min_zoom:
        raise NotFound("无此瓦片", "no such tile",
                       zooms=[max(MIN_ZOOM, source.tile_min_zoom), MAX_ZOOM])
    with scoped_read(current_scope()) as conn:  # the wall's buildings and cameras
        payload = tile(conn, source, z, x, y)
    return Response(payload, mimetype=MVT, headers=PRIVATE)

"""Map layers and the live clock over HTTP.

GET /api/layers                      the viewport layers and their options (JSON)
GET /api/layers/<name>?bbox=&zoom=   one layer's features in a viewport (geobuf), in the
                                     user's scope (row-level security), for the map and QGIS
GET /api/live?since=<token>          204 when nothing changed since the token; otherwise the
                                     new token, the version of each topic and which moved
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from geodata import live
from geodata.scope import scoped, scoped_read
from layers.features import BadRequest, Viewport, features_geobuf
from layers.registry import VIEWPORT_LAYERS
from onemap.domain.roles import Capability

from .auth import current_scope, requires
from .bodies import LiveQuery, ViewportQuery
from .errors import InvalidRequest, NotFound
from .openapi import documented, parsed_query

api = Blueprint("layers", __name__, url_prefix="/api")
GEOBUF = "application/x-protobuf"


@api.get("/layers")
@documented("图层目录 · the layers, their zooms and options", errors=(401,))
@requires(Capability.VIEW_MAP)
def catalogue():
    """What layers there are, with their titles, zooms and options."""
    return jsonify([
        {"name": layer.name, "title_zh": layer.title_zh, "title_en": layer.title_en,
         "min_zoom": layer.min_zoom, "fields": list(layer.fields),
         "options": {o.name: o.values() for o in layer.query_options()},
         "live_topic": layer.live_topic}
        for layer in VIEWPORT_LAYERS.values()
    ])


@api.get("/layers/<name>")
@documented("视窗内要素 · a layer's features in a viewport (geobuf)", query=ViewportQuery,
            binary=GEOBUF, errors=(400, 401, 404))
@requires(Capability.VIEW_MAP)
def features(name: str):
    """One layer's features in the viewport as geobuf; 400 says which parameter is wrong."""
    layer = VIEWPORT_LAYERS.get(name)
    if layer is None:  # the name is not repeated: the list of layers says what exists
        raise NotFound("无此图层", "no such layer", layers=sorted(VIEWPORT_LAYERS))
    try:
        asked = parsed_query(ViewportQuery)
        viewport = Viewport.parse(asked.bbox, asked.zoom)
        with scoped(current_scope()) as conn:
            payload = features_geobuf(conn, layer, viewport, request.args.to_dict())
    except BadRequest as exc:
        raise InvalidRequest("查询参数有误", str(exc), layer=name) from None
    return Response(payload, mimetype=GEOBUF, headers={"Cache-Control": "private, no-store"})


@api.get("/live")
@documented("变化检测 · what changed since a token (204: nothing)", query=LiveQuery,
            answers={200: "the new token and the topics that moved", 204: "nothing moved"},
            errors=(400, 401))
@requires(Capability.VIEW_MAP)
def live_changes():
    """Change detection for open screens: no body at all when nothing moved."""
    # on the read replica when there is one, even for a session it has not replayed yet (the
    # clock is no one's in particular): a screen then never hears of a change before the
    # replica its layers read from has it; the primary is never behind the replica
    with scoped_read(current_scope(), needs_session=False) as conn:
        versions = live.clock(conn)
    changed = live.changed_topics(parsed_query(LiveQuery).since, versions)
    if not changed:
        return Response(status=204, headers={"Cache-Control": "no-store"})
    # `token` goes back as ?since=; the screen compares `versions[topic]` per layer and never
    # needs to read the token
    return (jsonify(token=live.token(versions), versions=versions, changed=changed), 200,
            {"Cache-Control": "no-store"})

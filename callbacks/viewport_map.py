"""Callbacks of the map component (pages/viewport_map.py), registered once per map page.

Viewport layers reload when the view, the layer's checkbox, its query options or its live
topic change, and only then (assets/map.js decides); every query runs in the user's scope
(geodata/scope.py). A click on a feature (drawn as GeoJSON or from vector tiles), or a page's
own selection (the wall's feed and banner), opens the feature's card.
"""

from __future__ import annotations

import base64
import math

from dash import (
    ALL,
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    ctx,
    html,
    no_update,
)

from geodata.queries import details
from geodata.scope import scoped, scoped_read
from geodata.shared_answers import SHARED
from layers.features import BadRequest, Viewport, features_geobuf
from layers.maps import MapSpec
from onemap.domain.coordinates import gcj02_to_wgs84, wgs84_to_gcj02
from onemap.web.auth import current_role, current_scope
from onemap.web.request_guard import InvalidInput
from pages.map_parts import overlays_need_gcj02

from . import cards

VIEWPORT_PADDING = 0.15  # a short pan stays inside what was fetched
# what a direct call may not send: answered 400 (request_guard), never repeating the value
BAD_VIEW = "invalid map view or layer option / 地图视图或图层选项有误"
BAD_INPUT = "invalid map input / 地图请求内容有误"
MAX_ID = 2**63 - 1  # PostgreSQL bigint
SELECTABLE = ("alarms",)  # besides the layers' cards: a sensor alarm opens its sensor's card


def number(value) -> bool:
    """A finite JSON number (a boolean is not one)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def object_id(value) -> int:
    """A database id from the browser, or 400."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise InvalidInput(BAD_INPUT)
    return value


def viewport_from_map(view: dict | None) -> Viewport | None:
    """The WGS84 viewport of what the map shows (in GCJ-02 over a GCJ-02 basemap)."""
    if not view:
        return None
    keys = ("west", "south", "east", "north", "zoom")
    if not isinstance(view, dict) or not all(number(view.get(k)) for k in keys):
        raise InvalidInput(BAD_VIEW)
    west, south, east, north, zoom = (view[k] for k in keys)
    if overlays_need_gcj02():
        (west, east), (south, north) = gcj02_to_wgs84([west, east], [south, north])
    viewport = Viewport(max(float(west), -180), max(float(south), -90), min(float(east), 180),
                        min(float(north), 90), int(round(zoom)))
    try:
        return viewport.checked().padded(VIEWPORT_PADDING).snapped()
    except BadRequest as exc:  # its message names the rule, not the value
        raise InvalidInput(f"{BAD_VIEW} ({exc})") from None


def _register_layer(spec: MapSpec, layer) -> None:
    reader = scoped_read if spec.replica else scoped

    @callback(Output(spec.layer_id(layer.name), "data"),
              Input(spec.request_id(layer.name), "data"), prevent_initial_call=True)
    def load(request):
        """The layer's features for the view the browser asked for."""
        if request is not None and not isinstance(request, dict):
            raise InvalidInput(BAD_VIEW)
        viewport = viewport_from_map((request or {}).get("view"))
        if viewport is None:
            return no_update
        options = request.get("options") or {}
        if not isinstance(options, dict) or not all(
                isinstance(v, str) for v in options.values()):
            raise InvalidInput(BAD_VIEW)
        scope = current_scope()

        def encoded(conn) -> str:
            return base64.b64encode(features_geobuf(conn, layer, viewport, options)).decode()

        try:
            with reader(scope) as conn:
                if not layer.shared:
                    return encoded(conn)
                return SHARED.answer(
                    conn, role=current_role(), scope_code=scope.code, name=f"layer:{layer.name}",
                    params=(viewport, tuple(sorted(options.items()))), topics=(layer.live_topic,),
                    compute=encoded)
        except BadRequest as exc:
            raise InvalidInput(f"{BAD_VIEW} ({exc})") from None


def _fly_to(lat: float, lng: float, zoom) -> dict:
    if overlays_need_gcj02():
        lng, lat = (float(v) for v in wgs84_to_gcj02(lng, lat))
    return {"center": [lat, lng], "zoom": max(int(zoom or 0), 16), "transition": "flyTo"}


def _clicked(spec: MapSpec, trigger, value) -> tuple[str, int, bool] | None:
    """(card kind, id, whether to fly there) of what was clicked or selected; None when
    nothing was (a layer redrawn, a store cleared)."""
    if not value:
        return None
    if trigger == spec.id("select"):
        kinds = (*(layer.display.card for layer in spec.layers if layer.display.card),
                 *SELECTABLE)
        if not isinstance(value, dict) or value.get("kind") not in kinds:
            raise InvalidInput(BAD_INPUT)
        return value["kind"], object_id(value.get("id")), True
    if not isinstance(trigger, dict):  # a layer's GeoJSON, or its vector tiles' LayerGroup
        raise InvalidInput(BAD_INPUT)
    layer = next((layer for layer in spec.layers if layer.name == trigger.get("name")), None)
    properties = value.get("properties") if isinstance(value, dict) else None
    if layer is None or layer.display.card is None or not isinstance(properties, dict):
        raise InvalidInput(BAD_INPUT)
    return layer.display.card, object_id(properties.get("id")), False


def register(spec: MapSpec) -> None:
    """Every callback of one map page's component."""
    clientside_callback(
        ClientsideFunction("map", "poll"),
        Output(spec.id("live"), "data"), Output(spec.id("status"), "children"),
        Output(spec.id("status"), "className"),
        Input(spec.id("tick"), "n_intervals"), State(spec.id("live"), "data"),
        State(spec.id("spec"), "data"),
    )
    clientside_callback(
        ClientsideFunction("map", "viewFromMap"),
        Output(spec.id("view"), "data"),
        Input(spec.id("map"), "n_loads"), Input(spec.id("map"), "zoom"),
        Input(spec.id("map"), "center"), State(spec.id("spec"), "data"),
    )
    option_values = Input({"type": spec.id("option"), "name": ALL}, "value")
    clientside_callback(
        ClientsideFunction("map", "requestLayers"),
        Output({"type": spec.id("request"), "name": ALL}, "data"),
        Input(spec.id("view"), "data"), Input(spec.id("overlays"), "data"),
        Input(spec.id("live"), "data"), option_values, State(spec.id("spec"), "data"),
    )
    clientside_callback(
        ClientsideFunction("map", "styleLayers"),
        Output({"type": spec.id("layer"), "name": ALL}, "hideout"),
        option_values, State(spec.id("spec"), "data"), prevent_initial_call=True,
    )
    clientside_callback(
        ClientsideFunction("map", "rememberView"),
        Output(spec.id("spec"), "id"),  # never changed: the function only rewrites the URL
        Input(spec.id("overlays"), "data"), Input(spec.id("map"), "zoom"),
        Input(spec.id("map"), "center"), option_values, State(spec.id("spec"), "data"),
    )
    for layer in spec.layers:
        _register_layer(spec, layer)

    @callback(
        Output(spec.id("card-body"), "children"), Output(spec.id("card"), "hidden"),
        Output(spec.id("map"), "viewport"),
        Input({"type": spec.id("layer"), "name": ALL}, "clickData"),
        Input(spec.id("select"), "data"),
        Input(spec.id("card-close"), "n_clicks"),
        State(spec.id("map"), "zoom"),
        prevent_initial_call=True,
    )
    def show_card(_clicks, _selected, _close, zoom):
        """The card of what was clicked on the map or selected by the page."""
        value = ctx.triggered[0]["value"] if ctx.triggered else None
        if zoom is not None and not number(zoom):
            raise InvalidInput(BAD_INPUT)
        if ctx.triggered_id == spec.id("card-close"):
            return ([], True, no_update) if value else (no_update,) * 3
        clicked = _clicked(spec, ctx.triggered_id, value)
        if clicked is None:
            return (no_update,) * 3
        kind, found_id, fly = clicked
        with scoped(current_scope()) as conn:
            if kind == "alarms":
                kind, found_id = "sensors", details.sensor_of_alarm(conn, found_id)
            record = details.card(conn, kind, found_id) if found_id is not None else None
            if record is None:
                return ([html.P("无此对象或不在您的管辖范围 · Not found or outside your area")],
                        False, no_update)
            card = cards.render(conn, kind, record)
        viewport = _fly_to(record["lat"], record["lng"], zoom) if fly else no_update
        return card, False, viewport

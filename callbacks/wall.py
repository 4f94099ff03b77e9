"""Callbacks of the wall screen (pages/wall.py).

Viewport layers reload when the view, the layer's checkbox, its options or its live topic
change, and only then; every query runs in the user's scope (geodata/scope.py).
"""

from __future__ import annotations

import base64
import math
import re
from datetime import datetime, timezone

from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, html, no_update
from dash import ClientsideFunction

from onemap.domain.coordinates import gcj02_to_wgs84, wgs84_to_gcj02
from geodata.queries import details, nearby, wall
from geodata.scope import scoped
from onemap.domain.vocab import EVENT_STATES
from layers.events import HEATMAP
from layers.features import EMPTY, BadRequest, Viewport, features_geobuf
from layers.registry import VIEWPORT_LAYERS
from onemap.domain.roles import Capability
from onemap.web.auth import audit_request, current_scope, current_user
from onemap.web.request_guard import InvalidInput
from pages.map_parts import overlays_need_gcj02
from pages.wall_ids import BUILDING_COLOURS, layer_id, request_id

from . import wall_cards

EMPTY_DATA = base64.b64encode(EMPTY).decode()
VIEWPORT_PADDING = 0.15  # a short pan stays inside what was fetched
HEAT_TOP = {"1h": 3, "24h": 12, "7d": 60}  # a cell this full is drawn at full heat
BANNER_WINDOW = "1 hour"
CARD_LAYERS = ("events", "buildings", "cameras", "sensors", "places", "staff", "dispatch")
# what a direct call may not send: answered 400 (request_guard), never repeating the value
BAD_VIEW = "invalid map view or layer option / 地图视图或图层选项有误"
BAD_INPUT = "invalid wall screen input / 大屏请求内容有误"
MAX_ID = 2**63 - 1  # PostgreSQL bigint
_BANNER_KEY = re.compile(r"(event|alarm|overdue):([0-9]{1,18})")


def _number(value) -> bool:
    """A finite JSON number (a boolean is not one)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _object_id(value) -> int:
    """A database id from the browser, or 400."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise InvalidInput(BAD_INPUT)
    return value


def _strings(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


clientside_callback(
    ClientsideFunction("wall", "poll"),
    Output("wall-live", "data"), Output("wall-status", "children"),
    Output("wall-status", "className"),
    Input("wall-tick", "n_intervals"), State("wall-live", "data"),
)
clientside_callback(
    ClientsideFunction("wall", "viewFromMap"),
    Output("wall-view", "data"),
    Input("wall-map", "n_loads"), Input("wall-map", "zoom"), Input("wall-map", "center"),
)
clientside_callback(
    ClientsideFunction("wall", "requestLayers"),
    Output({"type": "wall-request", "name": ALL}, "data"),
    Input("wall-view", "data"), Input("wall-overlays", "data"), Input("wall-live", "data"),
    Input("wall-heat-window", "value"), State("wall-layer-spec", "data"),
)
clientside_callback(
    ClientsideFunction("wall", "clock"),
    Output("wall-clock", "children"), Input("wall-clock-tick", "n_intervals"),
)
clientside_callback(
    ClientsideFunction("wall", "rememberView"),
    Output("wall-titles", "id"),  # never changed: the function only rewrites the URL
    Input("wall-overlays", "data"), Input("wall-map", "zoom"), Input("wall-map", "center"),
    Input("wall-building-colour", "value"), Input("wall-heat-window", "value"),
    State("wall-titles", "data"),
)


def viewport_from_map(view: dict | None) -> Viewport | None:
    """The WGS84 viewport of what the map shows (in GCJ-02 over a GCJ-02 basemap)."""
    if not view:
        return None
    keys = ("west", "south", "east", "north", "zoom")
    if not isinstance(view, dict) or not all(_number(view.get(k)) for k in keys):
        raise InvalidInput(BAD_VIEW)
    west, south, east, north, zoom = (view[k] for k in keys)
    if overlays_need_gcj02():
        (west, east), (south, north) = gcj02_to_wgs84([west, east], [south, north])
    viewport = Viewport(max(float(west), -180), max(float(south), -90), min(float(east), 180),
                        min(float(north), 90), int(round(zoom)))
    try:
        return viewport.checked().padded(VIEWPORT_PADDING)
    except BadRequest as exc:  # its message names the rule, not the value
        raise InvalidInput(f"{BAD_VIEW} ({exc})") from None


def _register_layer(name: str) -> None:
    layer = VIEWPORT_LAYERS[name]
    outputs = [Output(layer_id(name), "data")]
    if layer is HEATMAP:
        outputs.append(Output(layer_id(name), "hideout"))

    @callback(output=outputs, inputs=[Input(request_id(name), "data")],
              prevent_initial_call=True)
    def load(request):
        """The layer's features for the view the browser asked for (assets/wall.js decides
        when: a shown layer whose view, options or live topic changed)."""
        if request is not None and not isinstance(request, dict):
            raise InvalidInput(BAD_VIEW)
        viewport = viewport_from_map((request or {}).get("view"))
        if viewport is None:
            return [no_update] * len(outputs)
        options = {"window": request.get("window")} if layer is HEATMAP else {}
        if options.get("window") not in (None, "", *HEATMAP.options["window"]):
            raise InvalidInput(BAD_VIEW)
        if viewport.zoom < layer.min_zoom:
            data = EMPTY_DATA
        else:
            try:
                with scoped(current_scope()) as conn:
                    data = base64.b64encode(
                        features_geobuf(conn, layer, viewport, options)).decode()
            except BadRequest as exc:
                raise InvalidInput(f"{BAD_VIEW} ({exc})") from None
        if layer is HEATMAP:
            window = options["window"] or HEATMAP.options["window"][0]
            return [data, {"pane": "wall-heat", "top": HEAT_TOP.get(window, 12)}]
        return [data]


for _name in VIEWPORT_LAYERS:
    _register_layer(_name)


@callback(Output(layer_id("buildings"), "hideout"), Input("wall-building-colour", "value"),
          prevent_initial_call=True)
def colour_buildings(colour: str):
    """Recolour the buildings already drawn; no new data needed."""
    if not isinstance(colour, str) or colour not in BUILDING_COLOURS:
        raise InvalidInput(BAD_INPUT)
    return {"pane": "wall-buildings", "colour": colour}


# -- the rail: counters, feed, banner ---------------------------------------------------------

def _feed_item(event: dict, now: datetime) -> html.Li:
    classes = f"feed-item level-{event['level']}" + (" overdue" if event["overdue"] else "")
    return html.Li(
        id={"type": "wall-feed-item", "id": event["id"]}, className=classes, n_clicks=0,
        children=[
            html.Span(wall_cards.feed_time(event["reported_at"], now), className="feed-time"),
            html.Span(event["title"], className="feed-title"),
            html.Span(EVENT_STATES.get(event["state"], (event["state"],))[0],
                      className="feed-state"),
        ],
    )


_BANNER_KINDS = {"urgent": "紧急事件", "sensor_alarm": "感知告警", "overdue": "事件超期"}


def _banner(items: list[dict], acknowledged: list[str]) -> tuple[list, list[str]]:
    # kept in the browser's local storage: whatever else it holds is ignored, not trusted
    seen = {key for key in acknowledged if isinstance(key, str)} if isinstance(
        acknowledged, list) else set()
    fresh = [item for item in items if item["key"] not in seen]
    if not fresh:
        return [], []
    shown = fresh[:3]
    children = [
        html.Button(
            id={"type": "wall-banner-item", "key": item["key"]}, n_clicks=0,
            className=f"banner-item banner-{item['kind']}",
            children=[html.Span(_BANNER_KINDS[item["kind"]], className="banner-kind"),
                      html.Span(item["text"], className="banner-text"),
                      html.Span(item["at"].strftime("%H:%M"), className="banner-time")],
        )
        for item in shown
    ]
    if len(fresh) > len(shown):
        children.append(html.Span(f"另有 {len(fresh) - len(shown)} 条 · {len(fresh) - len(shown)}"
                                  " more", className="banner-more"))
    return children, [item["key"] for item in fresh]


@callback(
    Output("wall-count-reported", "children"), Output("wall-count-working", "children"),
    Output("wall-count-closed", "children"), Output("wall-count-overdue", "children"),
    Output("wall-count-alarms", "children"), Output("wall-count-cameras", "children"),
    Output("wall-feed", "children"), Output("wall-banner", "children"),
    Output("wall-banner-keys", "data"), Output("wall-banner-ack", "hidden"),
    Input("wall-live", "data"), Input("wall-acknowledged", "data"),
    Input("wall-minute", "n_intervals"),
)
def refresh_rail(live, acknowledged, _minute):
    """Counters, feed and banner, again whenever events or sensors changed, and each minute
    (a case running out of time changes nothing in the database)."""
    if live is not None and not (isinstance(live, dict) and _strings(live.get("changed", []))):
        raise InvalidInput(BAD_INPUT)
    if ctx.triggered_id == "wall-live" and live and not (
            {"event", "sensor"} & set(live.get("changed", []))):
        return [no_update] * 10
    with scoped(current_scope()) as conn:
        counts = wall.counters(conn)
        events = wall.feed(conn)
        alarms = wall.banner(conn, BANNER_WINDOW)
    banner, keys = _banner(alarms, acknowledged)
    return (
        *wall_cards.counter_texts(counts),
        [_feed_item(e, datetime.now(timezone.utc)) for e in events],
        banner,
        keys,
        not keys,
    )


@callback(Output("wall-acknowledged", "data"), Input("wall-banner-ack", "n_clicks"),
          State("wall-banner-keys", "data"), prevent_initial_call=True)
def acknowledge(clicks, keys):
    """Hide what the banner shows now; only keys still in the banner are kept (no growth)."""
    if not clicks:
        return no_update
    if keys is not None and not _strings(keys):
        raise InvalidInput(BAD_INPUT)
    return keys or []


# -- detail cards -----------------------------------------------------------------------------

def _event_card(conn, event: dict) -> list:
    event_id = event["id"]
    cameras = nearby.cameras_near(conn, event_id)
    staff = nearby.staff_near(conn, event_id)
    residents = nearby.key_groups_near(conn, event_id)
    names_allowed = current_user.can(Capability.LOOKUP_PERSON)
    if names_allowed and residents:
        audit_request(conn, "nearby_residents", object_kind="event", object_id=str(event_id),
                      details={"people": len({r["person_id"] for r in residents})})
    return wall_cards.event_card(event, cameras, staff, residents if names_allowed else None,
                                 wall_cards.resident_counts(residents))


def _fly_to(lat: float, lng: float, zoom) -> dict:
    if overlays_need_gcj02():
        lng, lat = (float(v) for v in wgs84_to_gcj02(lng, lat))
    return {"center": [lat, lng], "zoom": max(int(zoom or 0), 16), "transition": "flyTo"}


def _clicked(trigger, value) -> tuple[str, int, bool] | None:
    """(kind, id, whether to fly there) of what was clicked; None for a re-render."""
    if not value:
        return None
    if not isinstance(trigger, dict):
        raise InvalidInput(BAD_INPUT)
    if trigger.get("type") == "wall-feed-item":
        return "events", _object_id(trigger.get("id")), True
    if trigger.get("type") == "wall-banner-item":
        key = trigger.get("key")
        found = _BANNER_KEY.fullmatch(key) if isinstance(key, str) else None
        if found is None:
            raise InvalidInput(BAD_INPUT)
        kind = "alarms" if found.group(1) == "alarm" else "events"
        return kind, _object_id(int(found.group(2))), True
    kind = trigger.get("name")
    properties = value.get("properties") if isinstance(value, dict) else None
    if kind not in CARD_LAYERS or not isinstance(properties, dict):
        raise InvalidInput(BAD_INPUT)
    return ("events" if kind == "dispatch" else kind), _object_id(properties.get("id")), False


@callback(
    Output("wall-card-body", "children"), Output("wall-card", "hidden"),
    Output("wall-map", "viewport"),
    *[Input(layer_id(name), "clickData") for name in CARD_LAYERS],
    Input({"type": "wall-feed-item", "id": ALL}, "n_clicks"),
    Input({"type": "wall-banner-item", "key": ALL}, "n_clicks"),
    Input("wall-card-close", "n_clicks"),
    State("wall-map", "zoom"),
    prevent_initial_call=True,
)
def show_card(*args):
    """The card of what was clicked on the map, in the feed or in the banner."""
    value = ctx.triggered[0]["value"] if ctx.triggered else None
    if args[-1] is not None and not _number(args[-1]):  # the map's zoom
        raise InvalidInput(BAD_INPUT)
    if ctx.triggered_id == "wall-card-close":
        return ([], True, no_update) if value else (no_update,) * 3
    clicked = _clicked(ctx.triggered_id, value)
    if clicked is None:
        return (no_update,) * 3
    kind, object_id, fly = clicked
    with scoped(current_scope()) as conn:
        if kind == "alarms":
            kind, object_id = "sensors", details.sensor_of_alarm(conn, object_id)
        record = details.card(conn, kind, object_id) if object_id is not None else None
        if record is None:
            return ([html.P("无此对象或不在您的管辖范围 · Not found or outside your area")],
                    False, no_update)
        card = (_event_card(conn, record) if kind == "events"
                else wall_cards.RENDERERS[kind](record))
    viewport = _fly_to(record["lat"], record["lng"], args[-1]) if fly else no_update
    return card, False, viewport

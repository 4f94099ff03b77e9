"""Callbacks of the wall screen (pages/wall.py).

Viewport layers reload when the view, the layer's checkbox, its options or its live topic
change, and only then; every query runs in the user's scope (geodata/scope.py).
"""

from __future__ import annotations

import base64

from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, html, no_update
from dash import ClientsideFunction
from flask import request

from etl.coordinates import gcj02_to_wgs84, wgs84_to_gcj02
from geodata import users
from geodata.queries import details, nearby, wall
from geodata.scope import scoped
from geodata.vocab import EVENT_STATES
from layers.events import HEATMAP
from layers.features import EMPTY, Viewport, features_geobuf
from layers.registry import VIEWPORT_LAYERS
from onemap.access.roles import Capability
from onemap.web.auth import current_scope, current_user
from pages.map_parts import overlays_need_gcj02
from pages.wall_ids import layer_id

from . import wall_cards

EMPTY_DATA = base64.b64encode(EMPTY).decode()
VIEWPORT_PADDING = 0.15  # a short pan stays inside what was fetched
HEAT_TOP = {"1h": 3, "24h": 12, "7d": 60}  # a cell this full is drawn at full heat
BANNER_WINDOW = "1 hour"
CARD_LAYERS = ("events", "buildings", "cameras", "sensors", "places", "staff", "dispatch")
WORKING_STATES = ("dispatched", "handling", "handled", "verified")

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
    west, south, east, north, zoom = (view[k] for k in ("west", "south", "east", "north", "zoom"))
    if overlays_need_gcj02():
        (west, east), (south, north) = gcj02_to_wgs84([west, east], [south, north])
    viewport = Viewport(max(float(west), -180), max(float(south), -90), min(float(east), 180),
                        min(float(north), 90), int(round(zoom)))
    return viewport.checked().padded(VIEWPORT_PADDING)


def _register_layer(name: str) -> None:
    layer = VIEWPORT_LAYERS[name]
    outputs = [Output(layer_id(name), "data")]
    inputs = [Input("wall-view", "data"), Input("wall-overlays", "data")]
    if layer.live_topic:
        inputs.append(Input("wall-live", "data"))
    if layer is HEATMAP:
        inputs.append(Input("wall-heat-window", "value"))
        outputs.append(Output(layer_id(name), "hideout"))

    @callback(*outputs, *inputs, prevent_initial_call=True)
    def load(view, overlays, *extra):
        nothing = [no_update] * len(outputs)
        if layer.title not in (overlays or []):
            return nothing if len(outputs) > 1 else no_update
        if ctx.triggered_id == "wall-live":
            live = extra[0] or {}
            if layer.live_topic not in live.get("changed", []):
                return nothing if len(outputs) > 1 else no_update
        viewport = viewport_from_map(view)
        if viewport is None:
            return nothing if len(outputs) > 1 else no_update
        options = {}
        if layer is HEATMAP:
            options["window"] = extra[-1]
        if viewport.zoom < layer.min_zoom:
            data = EMPTY_DATA
        else:
            with scoped(current_scope()) as conn:
                data = base64.b64encode(features_geobuf(conn, layer, viewport, options)).decode()
        if layer is HEATMAP:
            window = options["window"] or HEATMAP.options["window"][0]
            return data, {"pane": "wall-heat", "top": HEAT_TOP.get(window, 12)}
        return data


for _name in VIEWPORT_LAYERS:
    _register_layer(_name)


@callback(Output(layer_id("buildings"), "hideout"), Input("wall-building-colour", "value"),
          prevent_initial_call=True)
def colour_buildings(colour: str):
    """Recolour the buildings already drawn; no new data needed."""
    return {"pane": "wall-buildings", "colour": colour}


# -- the rail: counters, feed, banner ---------------------------------------------------------

def _feed_item(event: dict) -> html.Li:
    classes = f"feed-item level-{event['level']}" + (" overdue" if event["overdue"] else "")
    return html.Li(
        id={"type": "wall-feed-item", "id": event["id"]}, className=classes, n_clicks=0,
        children=[
            html.Span(event["reported_at"].strftime("%H:%M"), className="feed-time"),
            html.Span(event["title"], className="feed-title"),
            html.Span(EVENT_STATES.get(event["state"], (event["state"],))[0],
                      className="feed-state"),
        ],
    )


_BANNER_KINDS = {"urgent": "紧急事件", "sensor_alarm": "感知告警", "overdue": "事件超期"}


def _banner(items: list[dict], acknowledged: list[str]) -> tuple[list, list[str]]:
    fresh = [item for item in items if item["key"] not in set(acknowledged or [])]
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
)
def refresh_rail(live, acknowledged):
    """Counters, feed and banner, again whenever events or sensors changed."""
    if ctx.triggered_id == "wall-live" and live and not (
            {"event", "sensor"} & set(live.get("changed", []))):
        return [no_update] * 10
    with scoped(current_scope()) as conn:
        counts = wall.counters(conn)
        events = wall.feed(conn)
        alarms = wall.banner(conn, BANNER_WINDOW)
    today = counts["today_by_state"]
    banner, keys = _banner(alarms, acknowledged)
    return (
        f"{today.get('reported', 0) + today.get('registered', 0):,}",
        f"{sum(today.get(s, 0) for s in WORKING_STATES):,}",
        f"{today.get('closed', 0):,}",
        f"{counts['overdue']:,}",
        f"{counts['sensor_alarms']:,}",
        f"{counts['cameras_online']:,}/{counts['cameras']:,}",
        [_feed_item(e) for e in events],
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
    return keys or []


# -- detail cards -----------------------------------------------------------------------------

def _event_card(conn, event_id: int) -> list | None:
    event = details.card(conn, "events", event_id)
    if event is None:
        return None
    cameras = nearby.cameras_near(conn, event_id)
    staff = nearby.staff_near(conn, event_id)
    residents = nearby.key_groups_near(conn, event_id)
    names_allowed = current_user.can(Capability.LOOKUP_PERSON)
    if names_allowed and residents:
        users.audit(conn, action="nearby_residents", user=current_user.user,
                    object_kind="event", object_id=str(event_id), ip=request.remote_addr,
                    user_agent=request.headers.get("User-Agent"),
                    details={"people": len({r["person_id"] for r in residents})})
    return wall_cards.event_card(event, cameras, staff, residents if names_allowed else None,
                                 wall_cards.resident_counts(residents))


def _fly_to(lat: float, lng: float, zoom) -> dict:
    if overlays_need_gcj02():
        lng, lat = (float(v) for v in wgs84_to_gcj02(lng, lat))
    return {"center": [lat, lng], "zoom": max(int(zoom or 0), 16), "transition": "flyTo"}


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
    zoom = args[-1]
    trigger = ctx.triggered_id
    value = ctx.triggered[0]["value"] if ctx.triggered else None
    if trigger == "wall-card-close":
        return ([], True, no_update) if value else (no_update,) * 3
    if not value:  # a feed or banner re-render, not a click
        return (no_update,) * 3
    fly = None
    if isinstance(trigger, dict) and trigger.get("type") == "wall-feed-item":
        kind, object_id, fly = "events", int(trigger["id"]), True
    elif isinstance(trigger, dict) and trigger.get("type") == "wall-banner-item":
        prefix, _, raw_id = trigger["key"].partition(":")
        kind = "sensors" if prefix == "alarm" else "events"
        object_id, fly = int(raw_id), True
        if kind == "sensors":
            with scoped(current_scope()) as conn:
                object_id = conn.exec_driver_sql(
                    "SELECT sensor_id FROM onemap.sensor_alarm WHERE id = %s", (object_id,)
                ).scalar()
            if object_id is None:
                return (no_update,) * 3
    else:
        kind = trigger["name"]
        object_id = int(value["properties"]["id"])
        if kind == "dispatch":
            kind = "events"
    with scoped(current_scope()) as conn:
        if kind == "events":
            card = _event_card(conn, object_id)
            record = details.card(conn, "events", object_id) if fly and card else None
        else:
            record = details.card(conn, kind, object_id)
            card = wall_cards.RENDERERS[kind](record) if record else None
            if fly and record and kind == "sensors":
                record = conn.exec_driver_sql(
                    "SELECT ST_Y(geom) AS lat, ST_X(geom) AS lng FROM onemap.sensor WHERE id = %s",
                    (object_id,)).mappings().one()
    if card is None:
        return [html.P("无此对象或不在您的管辖范围 · Not found or outside your area")], False, no_update
    viewport = _fly_to(record["lat"], record["lng"], zoom) if fly and record else no_update
    return card, False, viewport

"""一张图 The wall screen: the map filling the screen, live counters, the event feed, alarms.

What the screen shows is remembered in its URL (layers, view, options), so a wall display
that reloads comes back the same.
"""

from __future__ import annotations

import dash
import dash_leaflet as dl
from dash import dcc, html

from geodata.queries.overview import unit_bounds
from geodata.scope import scoped
from onemap.domain.vocab import EVENT_STATES
from layers.admin import BOUNDARY_LAYERS, boundary_geojson
from layers.events import HEAT_WINDOWS, HEATMAP
from layers.registry import VIEWPORT_LAYERS
from onemap.domain.roles import Capability
from onemap.settings import get_settings
from onemap.web.auth import current_scope, current_user
from pages.map_parts import (
    basemap_layers,
    boundary_overlays,
    boundary_panes,
    coordinate_options,
    initial_view,
)
from pages.shell import not_permitted
from pages.wall_ids import BUILDING_COLOURS, layer_id, request_id

dash.register_page(__name__, path="/wall", title="OneMap 一张图 · 指挥大屏", name="指挥大屏")

DEFAULT_LAYERS = ("district", "street", "community", "labels", "heatmap", "sensors", "events")

# pane (drawing order) and drawing functions (assets/wall.js) per viewport layer
_PANES = {"heatmap": ("wall-heat", 350), "buildings": ("wall-buildings", 380),
          "dispatch": ("wall-lines", 450), "labels": ("wall-labels", 460),
          "places": ("wall-points", 470), "cameras": ("wall-points", 470),
          "sensors": ("wall-points", 470), "staff": ("wall-points", 470),
          "events": ("wall-events", 480)}
_JS = "onemap.wall."
_DRAWING = {
    "heatmap": {"pointToLayer": _JS + "heatCell"},
    "buildings": {"style": _JS + "buildingStyle"},
    "labels": {"pointToLayer": _JS + "labelMarker"},
    "places": {"pointToLayer": _JS + "placeMarker", "onEachFeature": _JS + "nameTooltip"},
    "cameras": {"pointToLayer": _JS + "cameraMarker", "clusterToLayer": _JS + "cameraCluster"},
    "sensors": {"pointToLayer": _JS + "sensorMarker"},
    "staff": {"pointToLayer": _JS + "staffMarker"},
    "dispatch": {"style": _JS + "dispatchStyle"},
    "events": {"pointToLayer": _JS + "eventMarker", "onEachFeature": _JS + "eventTooltip"},
}


def _hideout(name: str, pane: str, colour: str) -> dict:
    """What the drawing functions read besides the feature: its pane, the buildings' colouring,
    and for events the Chinese names of their states (tooltips speak the screen's language)."""
    hideout = {"pane": pane, "colour": colour}
    if name == "events":
        hideout["states"] = {code: zh for code, (zh, _en) in EVENT_STATES.items()}
    return hideout


def _viewport_overlay(name: str, checked: bool, colour: str) -> dl.Overlay:
    layer = VIEWPORT_LAYERS[name]
    pane, _z = _PANES[name]
    drawing = {prop: {"variable": fn} for prop, fn in _DRAWING[name].items()}
    extra = {"cluster": True, "superClusterOptions": {"radius": 60, "maxZoom": 16},
             "zoomToBoundsOnClick": True} if name == "cameras" else {}
    return dl.Overlay(
        dl.GeoJSON(id=layer_id(name), format="geobuf", hideout=_hideout(name, pane, colour),
                   **drawing, **extra, **coordinate_options()),
        name=layer.title, checked=checked,
    )


def _counter(key: str, zh: str, en: str) -> html.Div:
    return html.Div(className=f"wall-counter wall-counter-{key}", children=[
        html.Div("–", id=f"wall-count-{key}", className="wall-counter-value"),
        html.Div(zh, className="wall-counter-label"),
        html.Div(en, className="wall-counter-en"),
    ])


def _rail() -> html.Aside:
    return html.Aside(className="wall-rail", children=[
        html.Div(className="wall-rail-head", children=[
            html.Div(id="wall-clock", className="wall-clock"),
            html.Div(id="wall-status", className="wall-status"),
        ]),
        html.H2(["今日事件 ", html.Span("Today's events", className="en")]),
        html.Div(className="wall-counters", children=[
            _counter("reported", "新上报", "new"),
            _counter("working", "处置中", "in hand"),
            _counter("closed", "已结案", "closed"),
            _counter("overdue", "超期", "overdue"),
            _counter("alarms", "感知告警", "sensor alarms"),
            _counter("cameras", "视频在线", "cameras online"),
        ]),
        html.H2(["事件动态 ", html.Span("Live feed", className="en")]),
        html.Ol(id="wall-feed", className="wall-feed"),
    ])


def _options(colour: str, window: str) -> html.Div:
    return html.Div(className="wall-options", children=[
        html.Label(["楼栋着色 Buildings by", dcc.RadioItems(
            id="wall-building-colour", value=colour, inline=True,
            options=[{"label": zh, "value": key} for key, (zh, _en) in BUILDING_COLOURS.items()],
        )]),
        html.Label(["热力时段 Heatmap window", dcc.RadioItems(
            id="wall-heat-window", value=window, inline=True,
            options=[{"label": zh, "value": key} for key, (zh, _en) in HEAT_WINDOWS.items()],
        )]),
    ])


def layout(**query) -> html.Div:
    """The wall screen in the user's scope, restored from the URL's layers, view and options."""
    if not current_user.can(Capability.VIEW_MAP):
        return not_permitted()
    scope = current_scope()
    with scoped(scope) as conn:
        bounds = unit_bounds(conn, scope.code)
        boundaries = [(layer, boundary_geojson(conn, layer)) for layer in BOUNDARY_LAYERS]
    # a key given twice arrives as a list (dash's query parsing): such a value is ignored
    query = {key: value for key, value in query.items() if isinstance(value, str)}
    shown = set((query.get("layers") or ",".join(DEFAULT_LAYERS)).split(","))
    colour = query.get("colour") if query.get("colour") in BUILDING_COLOURS else "use"
    window = query.get("window") if query.get("window") in HEAT_WINDOWS else HEATMAP.options[
        "window"][0]
    titles = {layer.title: layer.name for layer in (*BOUNDARY_LAYERS, *VIEWPORT_LAYERS.values())}
    panes = {pane: z for pane, z in _PANES.values()}
    overlays = [
        *boundary_overlays(boundaries, "wall", shown),
        *[_viewport_overlay(name, name in shown, colour) for name in VIEWPORT_LAYERS],
    ]
    checked = [overlay.name for overlay in overlays if overlay.checked]
    live_ms = int(get_settings().live_poll_seconds * 1000)
    return html.Div(className="wall", children=[
        dcc.Store(id="wall-live"),
        dcc.Store(id="wall-view"),
        dcc.Store(id="wall-overlays", data=checked),
        dcc.Store(id="wall-layer-spec", data={
            name: {"title": layer.title, "topic": layer.live_topic}
            for name, layer in VIEWPORT_LAYERS.items()}),
        *[dcc.Store(id=request_id(name)) for name in VIEWPORT_LAYERS],
        dcc.Store(id="wall-titles", data=titles),
        dcc.Store(id="wall-acknowledged", storage_type="local", data=[]),
        dcc.Store(id="wall-banner-keys", data=[]),
        dcc.Interval(id="wall-tick", interval=live_ms),
        dcc.Interval(id="wall-clock-tick", interval=1000),
        # cases run out of time with nothing changing in the database: recount each minute
        dcc.Interval(id="wall-minute", interval=60_000),
        html.Div(className="wall-main", children=[
            html.Header(className="wall-header", children=[
                html.H1(["OneMap ", html.Span("一张图", className="brand-zh"),
                         html.Span(" 指挥大屏 · Command wall", className="wall-title-en")]),
                html.Div(id="wall-banner", className="wall-banner"),
                html.Button("知道了 Acknowledge", id="wall-banner-ack", n_clicks=0,
                            className="banner-ack", hidden=True),
            ]),
            html.Div(className="wall-map-wrap", children=[
                dl.Map(
                    [*boundary_panes(),
                     *[dl.Pane(name=pane, style={"zIndex": z}) for pane, z in panes.items()],
                     *basemap_layers(),
                     # `overlays` given: its own handlers fail on a list they never received
                     dl.LayersControl(overlays, id="wall-layers", position="topright",
                                      collapsed=False, overlays=checked),
                     dl.ScaleControl(imperial=False, position="bottomleft")],
                    id="wall-map", className="wall-map", preferCanvas=True, zoomSnap=0.25,
                    eventHandlers={"overlayadd": {"variable": _JS + "overlaysChanged"},
                                   "overlayremove": {"variable": _JS + "overlaysChanged"}},
                    **initial_view(bounds, query),
                ),
                _options(colour, window),
                html.Div(id="wall-card", className="wall-card", hidden=True, children=[
                    html.Button("×", id="wall-card-close", className="card-close", n_clicks=0,
                                title="关闭 Close"),
                    html.Div(id="wall-card-body"),
                ]),
            ]),
        ]),
        _rail(),
    ])

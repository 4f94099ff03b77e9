"""The map component every map page places: boundaries, the page's viewport layers with their
layers control, options and legend, the detail card, the live poll and the URL that remembers
it all. Its callbacks are callbacks/viewport_map.py; its drawing, assets/map.js. A page's
densest layers may be drawn from vector tiles instead (MapSpec.tile_layers and draw).

A page builds it from its `MapSpec` (layers/maps.py): `viewport_map(WALL, query)`.
"""

from __future__ import annotations

import dash_leaflet as dl
from dash import dcc, html

from geodata.queries.overview import unit_bounds
from geodata.scope import scoped, scoped_read
from layers.admin import BOUNDARY_LAYERS, boundary_geojson
from layers.base import PANES, Layer
from layers.maps import DRAW_MODES, MapSpec
from onemap.settings import get_settings
from onemap.web.auth import current_scope
from pages.map_parts import (
    basemap_layers,
    boundary_overlays,
    boundary_panes,
    coordinate_options,
    initial_view,
    overlays_need_gcj02,
)

JS = "onemap.map."


def pane_name(layer: Layer) -> str:
    return f"layer-{layer.display.pane}"


def chosen_options(spec: MapSpec, query: dict) -> dict[str, str]:
    """Each option of the page's layers from the URL, or its default when absent or unknown."""
    return {option.name: query[option.name] if query.get(option.name) in option.choices
            else option.default for option in spec.options()}


def base_hideout(layer: Layer) -> dict:
    """What the layer's drawing functions read besides the feature (assets/map.js)."""
    display = layer.display
    hideout = {"pane": pane_name(layer), **display.hideout}
    if display.palette:
        hideout["palette"] = {**display.palette.for_browser(), "names": {
            str(code): names[0] for code, names in display.palette.names.items()}}
    return hideout


def layer_hideout(layer: Layer, chosen: dict[str, str]) -> dict:
    """The base hideout with the options the layer is drawn by; assets/map.js's styleLayers
    computes the same in the browser when an option changes."""
    return {**base_hideout(layer),
            "options": {option.name: chosen[option.name] for option in layer.options}}


def tiled_layers(spec: MapSpec, query: dict) -> set[str]:
    """The layers this view draws from vector tiles: the page's `draw` or the URL's `draw=`,
    never over a GCJ-02 basemap (a tile's shapes cannot be shifted onto it)."""
    mode = query.get("draw") if query.get("draw") in DRAW_MODES else spec.draw
    if mode != "tiles" or overlays_need_gcj02():
        return set()
    return set(spec.tile_layers)


def tile_url(layer: Layer) -> str:
    """The URL template of the layer's vector tiles (onemap/web/tiles.py)."""
    return f"/tiles/{layer.name}/{{z}}/{{x}}/{{y}}.pbf"


def _tiles_overlay(spec: MapSpec, layer: Layer, checked: bool) -> dl.Overlay:
    """A LayerGroup that assets/map.js fills with the layer's vector tiles once it is on the
    map (its `add` event). It has the id a GeoJSON of the layer would: a click sets its
    clickData, and the card opens through the same callback."""
    return dl.Overlay(
        dl.LayerGroup(id=spec.layer_id(layer.name),
                      eventHandlers={"add": {"variable": JS + "vectorTiles"}}),
        name=layer.title, checked=checked,
    )


def _layer_overlay(spec: MapSpec, layer: Layer, checked: bool, chosen: dict) -> dl.Overlay:
    display = layer.display
    drawing = {prop: {"variable": JS + fn} for prop, fn in display.draw.items()}
    cluster = ({"cluster": True, "superClusterOptions": display.cluster,
                "zoomToBoundsOnClick": True} if display.cluster else {})
    return dl.Overlay(
        dl.GeoJSON(id=spec.layer_id(layer.name), format="geobuf",
                   hideout=layer_hideout(layer, chosen), **drawing, **cluster,
                   **coordinate_options()),
        name=layer.title, checked=checked,
    )


def _spec_data(spec: MapSpec, chosen: dict, tiled: set[str]) -> dict:
    """What the browser's functions need to know about the map (assets/map.js); a layer drawn
    from vector tiles has `tiles`: their URL, its drawing functions and from which zoom."""
    return {
        "prefix": spec.prefix,
        "options": [option.name for option in spec.options()],
        "titles": {layer.title: layer.name for layer in (*BOUNDARY_LAYERS, *spec.layers)},
        "layers": {layer.name: {
            "title": layer.title, "topic": layer.live_topic,
            "query": [o.name for o in layer.options if not o.restyle],
            "restyle": [o.name for o in layer.options if o.restyle],
            "hideout": base_hideout(layer),
            "initialHideout": layer_hideout(layer, chosen),
            **({"tiles": {"url": tile_url(layer), "draw": layer.display.draw,
                          "minZoom": layer.min_zoom}} if layer.name in tiled else {}),
        } for layer in spec.layers},
    }


def _options_panel(spec: MapSpec, chosen: dict) -> html.Div:
    return html.Div(className="map-options", children=[
        html.Label([f"{option.title_zh} {option.title_en}", dcc.RadioItems(
            id=spec.option_id(option.name), value=chosen[option.name], inline=True,
            options=[{"label": zh, "value": value}
                     for value, (zh, _en) in option.choices.items()],
        )])
        for option in spec.options()
    ])


def _legend(spec: MapSpec) -> html.Details:
    """The colours of the page's layers, named from their vocabularies."""
    rows = []
    for layer in spec.layers:
        display = layer.display
        if display.palette:
            entries = display.palette.legend()
        elif "colour" in display.hideout:
            entries = [(display.hideout["colour"], layer.title_zh, layer.title_en)]
        else:
            continue
        rings = display.hideout.get("rings", {}).values()
        rows.append(html.Div(className="legend-layer", children=[
            html.Span(layer.title_zh, className="legend-title"),
            *[html.Span(className="legend-entry", title=en, children=[
                html.I(className="legend-swatch", style={"background": colour}), zh])
              for colour, zh, en in entries],
            *[html.Span(className="legend-entry", title=ring["en"], children=[
                html.I(className="legend-swatch legend-ring",
                       style={"borderColor": ring["colour"]}), ring["zh"]])
              for ring in rings],
        ]))
    return html.Details(open=True, className="map-legend", children=[
        html.Summary("图例 Legend"), *rows])


def viewport_map(spec: MapSpec, query: dict) -> html.Div:
    """The map in the user's scope, restored from the URL's layers, view and options."""
    scope = current_scope()
    with (scoped_read if spec.replica else scoped)(scope) as conn:
        bounds = unit_bounds(conn, scope.code)
        boundaries = [(layer, boundary_geojson(conn, layer)) for layer in BOUNDARY_LAYERS]
    # a key given twice arrives as a list (dash's query parsing): such a value is ignored
    query = {key: value for key, value in query.items() if isinstance(value, str)}
    shown = set((query.get("layers") or ",".join(spec.default_layers)).split(","))
    chosen = chosen_options(spec, query)
    tiled = tiled_layers(spec, query)
    overlays = [
        *boundary_overlays(boundaries, spec.prefix, shown),
        *[_tiles_overlay(spec, layer, layer.name in shown) if layer.name in tiled else
          _layer_overlay(spec, layer, layer.name in shown, chosen) for layer in spec.layers],
    ]
    checked = [overlay.name for overlay in overlays if overlay.checked]
    live_ms = int(get_settings().live_poll_seconds * 1000)
    return html.Div(className="map-wrap", children=[
        dcc.Store(id=spec.id("live")),
        dcc.Store(id=spec.id("view")),
        dcc.Store(id=spec.id("overlays"), data=checked),
        dcc.Store(id=spec.id("spec"), data=_spec_data(spec, chosen, tiled)),
        dcc.Store(id=spec.id("select")),  # what the page asks the card to show
        *[dcc.Store(id=spec.request_id(layer.name)) for layer in spec.layers
          if layer.name not in tiled],
        dcc.Interval(id=spec.id("tick"), interval=live_ms),
        dl.Map(
            [*boundary_panes(),
             *[dl.Pane(name=f"layer-{pane}", style={"zIndex": z}) for pane, z in PANES.items()],
             *basemap_layers(),
             # `overlays` given: its own handlers fail on a list they never received. Tiled
             # layers register first: sorted back into this order (assets/map.js, overlayRank)
             dl.LayersControl(overlays, id=spec.id("layers"), position="topright",
                              collapsed=False, overlays=checked,
                              **({"sortLayers": True} if tiled else {})),
             dl.ScaleControl(imperial=False, position="bottomleft")],
            # SVG, not canvas: a canvas per pane would cover the whole map and take every
            # click meant for the panes below it; an SVG pane lets clicks through its gaps
            id=spec.id("map"), className="map", preferCanvas=False, zoomSnap=0.25,
            eventHandlers={"overlayadd": {"variable": JS + "overlaysChanged"},
                           "overlayremove": {"variable": JS + "overlaysChanged"}},
            **initial_view(bounds, query),
        ),
        html.Div(className="map-side", children=[
            html.Div(id=spec.id("card"), className="map-card", hidden=True, children=[
                html.Button("×", id=spec.id("card-close"), className="card-close", n_clicks=0,
                            title="关闭 Close"),
                html.Div(id=spec.id("card-body")),
            ]),
            _options_panel(spec, chosen),
            _legend(spec),
        ]),
    ])


def live_status(spec: MapSpec) -> html.Div:
    """Where the page shows whether the live poll reaches the server."""
    return html.Div(id=spec.id("status"), className="map-status")

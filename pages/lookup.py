"""以房找人 · 以人找房 The look-up: from a unit down to a room and its people, or from a name, an
ID, a phone or an address straight to the room.

Left, the one search box with its results by kind, the breadcrumb (district → street →
community → grid → building → room) with the counts of where one stands and the units one
level down; in the middle, the shared map component (layers/maps.py: LOOKUP) flown to and
outlining the selection, a click on it choosing what lies under it one level down; right, the
building table (楼盘表: units × floors, each room coloured by occupancy) and the household card.
Unit, building and room live in the URL (?unit=&building=&room=), so a link opens the same.
Callbacks: callbacks/lookup.py; drawing: callbacks/lookup_view.py.
"""

from __future__ import annotations

import dash
import dash_leaflet as dl
from dash import dcc, html

from geodata.queries import lookup_nav
from geodata.scope import scoped
from layers.maps import LOOKUP
from onemap.domain.roles import Capability
from onemap.web.auth import current_scope, current_user
from pages.lookup_url import URL_KEYS, selection_from_url
from pages.map_parts import coordinate_options
from pages.shell import nav_links, sign_out_form
from pages.viewport_map import live_status, viewport_map

dash.register_page(__name__, path="/lookup", title="OneMap 一张图 · 以房找人", name="房屋人口",
                   name_en="Look-up", order=3, capability=Capability.LOOKUP_PERSON)

def _header() -> html.Header:
    return html.Header(className="lookup-header", children=[
        html.H1(["OneMap ", html.Span("一张图", className="brand-zh"),
                 html.Span(" 以房找人 · 以人找房 · Look-up", className="lookup-title-en")]),
        live_status(LOOKUP),
        html.Span(current_user.user.display_name, className="lookup-user"),
        html.Details(className="wall-menu", children=[
            html.Summary("菜单 Menu"),
            html.Div(className="wall-menu-box", children=[
                html.Nav(nav_links(), className="wall-menu-links"), sign_out_form()]),
        ]),
    ])


def _with_outline(map_wrap: html.Div) -> html.Div:
    """The map component with a pane of the page's own above every layer: the outline of
    what is selected."""
    the_map = next(child for child in map_wrap.children if isinstance(child, dl.Map))
    the_map.children = [*the_map.children, dl.Pane(
        dl.GeoJSON(id="lookup-outline", interactive=False, pane="lookup-outline",
                   style={"color": "#ffd54f", "weight": 3, "fill": False, "dashArray": ""},
                   **coordinate_options()),
        name="lookup-outline", style={"zIndex": 495, "pointerEvents": "none"})]
    return map_wrap


def layout(**query) -> html.Div:
    """The look-up in the user's scope, restored from the URL's unit, building, room and map."""
    scope = current_scope()
    unit, building, room = selection_from_url(query, scope.code)
    if building is not None:  # the breadcrumb and the URL stand on the building's grid
        with scoped(scope) as conn:
            chosen = lookup_nav.building(conn, building)
        unit = chosen["grid_code"] if chosen else unit
    map_query = {key: value for key, value in query.items()
                 if isinstance(value, str) and key not in URL_KEYS}
    return html.Div(className="lookup", children=[
        dcc.Store(id="lookup-unit", data=unit),
        dcc.Store(id="lookup-building", data=building),
        dcc.Store(id="lookup-room", data=room),
        dcc.Store(id="lookup-url"),
        # the first view flies to the selection unless the URL names a view of its own
        dcc.Store(id="lookup-fly", data="view" if all(k in query for k in ("lat", "lng", "z"))
                  else "fly"),
        dcc.Store(id="lookup-hits"),  # where each search result leads
        dcc.Store(id="lookup-household-data"),  # the household card as drawn (masked)
        dcc.Store(id="lookup-unmask-person"),  # whose unmask button was pressed
        _header(),
        html.Main(className="lookup-main", children=[
            html.Section(className="lookup-left", children=[
                dcc.Input(id="lookup-q", type="search", debounce=0.5, maxLength=64,
                          placeholder="姓名/拼音/身份证/手机/地址/企业 Search",
                          className="lookup-input", autoComplete="off"),
                html.Div(id="lookup-results", className="lookup-results"),
                html.Nav(id="lookup-trail", className="lookup-trail"),
                html.Div(id="lookup-counts", className="lookup-counts"),
                html.Div(id="lookup-children", className="lookup-children"),
            ]),
            html.Section(className="lookup-centre", children=[
                _with_outline(viewport_map(LOOKUP, map_query)),
            ]),
            html.Section(className="lookup-right", children=[
                html.Div(id="lookup-table", className="lookup-table-area", children=[
                    html.P("在地图或左侧列表中选择楼栋 · Pick a building on the map or the list",
                           className="lookup-muted")]),
                html.Div(id="lookup-household", className="lookup-card-area"),
            ]),
        ]),
    ])

"""一张图 The wall screen: the map filling the screen, live counters, the event feed, alarms.

The map is the shared component (pages/viewport_map.py) with the wall's layers
(layers/maps.py: WALL); what it shows is remembered in its URL, so a wall display that reloads,
or signs in again, comes back the same.
"""

from __future__ import annotations

import dash
from dash import dcc, html

from layers.maps import WALL
from onemap.domain.roles import Capability
from pages.shell import nav_links, sign_out_form
from pages.viewport_map import live_status, viewport_map

dash.register_page(__name__, path="/wall", title="OneMap 一张图 · 指挥大屏", name="指挥大屏",
                   name_en="Wall", order=1, capability=Capability.VIEW_MAP)


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
            live_status(WALL),
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


def _menu() -> html.Details:
    """The other pages and sign-out, folded away: the wall is watched, not browsed."""
    return html.Details(className="wall-menu", children=[
        html.Summary("菜单 Menu"),
        html.Div(className="wall-menu-box", children=[
            html.Nav(nav_links(), className="wall-menu-links"),
            sign_out_form(),
        ]),
    ])


def layout(**query) -> html.Div:
    """The wall screen in the user's scope, restored from the URL's layers, view and options."""
    return html.Div(className="wall", children=[
        dcc.Store(id="wall-acknowledged", storage_type="local", data=[]),
        dcc.Store(id="wall-banner-keys", data=[]),
        dcc.Interval(id="wall-clock-tick", interval=1000),
        # cases run out of time with nothing changing in the database: recount each minute
        dcc.Interval(id="wall-minute", interval=60_000),
        html.Div(className="wall-main", children=[
            html.Header(className="wall-header", children=[
                html.H1(["OneMap ", html.Span("一张图", className="brand-zh"),
                         html.Span(" 指挥大屏 · Command wall", className="wall-title-en")]),
                _menu(),
            ]),
            # a strip of its own, always there: alarm titles get the map's whole width, and
            # the map never jumps when one arrives
            html.Div(className="wall-alerts", children=[
                html.Div(id="wall-banner", className="wall-banner"),
                html.Button("知道了 Acknowledge", id="wall-banner-ack", n_clicks=0,
                            className="banner-ack", hidden=True),
            ]),
            viewport_map(WALL, query),
        ]),
        _rail(),
    ])

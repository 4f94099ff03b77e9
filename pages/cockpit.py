"""领导驾驶舱 The leaders' cockpit: the KPIs of a period beside the period before (环比) and a
year earlier (同比), their trend, a map of the child units coloured by one KPI (a click scopes
the cockpit to that unit), and the cases by channel, category and level. Every number opens
the cases it counts. Period, unit and the map's KPI live in the URL, so a link or a reload
opens the same cockpit. Callbacks: callbacks/cockpit.py; the data: onemap/web/cockpit_data.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode

import dash
import dash_leaflet as dl
from dash import dcc, html

from geodata.queries.overview import unit_bounds
from geodata.scope import scoped_read
from onemap.domain import kpi
from onemap.domain.roles import Capability
from onemap.web.auth import current_scope, current_user
from pages.cockpit_ids import MAP_KPIS, ROTATED_KPIS, SIDE_TABS, TILES, ZONE
from pages.cockpit_url import view_from_url
from pages.map_parts import basemap_layers, coordinate_options, initial_view
from pages.shell import nav_links, sign_out_form

dash.register_page(__name__, path="/cockpit", title="OneMap 一张图 · 领导驾驶舱", name="驾驶舱",
                   name_en="Cockpit", order=3, capability=Capability.VIEW_COCKPIT)

LIVE_POLL_MS = 10_000  # as often as a change in the cases can reach the figures


def _tile(key: str) -> html.Button:
    item = kpi.KPIS[key]
    return html.Button(
        id={"type": "cockpit-tile", "kpi": key}, n_clicks=0, className="cockpit-tile",
        title=f"{item.definition}\n依据 Source: {item.reference}\n点击查看案件 Click for the cases",
        children=[
            html.Div([html.Span(item.zh, className="cockpit-tile-zh"),
                      html.Span(item.en, className="cockpit-tile-en")],
                     className="cockpit-tile-name"),
            html.Div([html.Span("–", id={"type": "cockpit-value", "kpi": key},
                                className="cockpit-value"),
                      html.Span(item.unit, className="cockpit-unit")]),
            html.Div(id={"type": "cockpit-change", "kpi": key}, className="cockpit-changes"),
        ])


def _period_controls(view) -> html.Div:
    custom = view.period.kind == "custom"
    return html.Div(className="cockpit-period", children=[
        dcc.RadioItems(id="cockpit-kind", value=view.period.kind, inline=True,
                       className="cockpit-kinds",
                       options=[{"label": zh, "value": key}
                                for key, (zh, _en) in kpi.PERIOD_KINDS.items()]),
        html.Span(id="cockpit-stepper", className="cockpit-stepper", hidden=custom, children=[
            html.Button("◀", id="cockpit-back", n_clicks=0, className="cockpit-step",
                        title="上一期 Previous period"),
            dcc.Input(id="cockpit-date", type="date", value=view.anchor.isoformat(),
                      className="cockpit-input"),
            html.Button("▶", id="cockpit-forward", n_clicks=0, className="cockpit-step",
                        title="下一期 Next period"),
        ]),
        html.Span(id="cockpit-dates", hidden=not custom, children=[
            dcc.Input(id="cockpit-start", type="date", className="cockpit-input",
                      value=view.period.start.isoformat()),
            " 至 ",
            dcc.Input(id="cockpit-end", type="date", className="cockpit-input",
                      value=(view.period.end - timedelta(days=1)).isoformat()),
        ]),
        html.Span(view.period.label, id="cockpit-period-label", className="cockpit-label"),
    ])


def _header(view) -> html.Header:
    return html.Header(className="cockpit-header", children=[
        html.H1(["OneMap ", html.Span("一张图", className="brand-zh"),
                 html.Span(" 领导驾驶舱 · Cockpit", className="cockpit-title-en")]),
        html.Nav(id="cockpit-trail", className="cockpit-trail"),
        _period_controls(view),
        html.Div(id="cockpit-status", className="map-status"),
        html.A("PDF", id="cockpit-pdf", className="cockpit-button cockpit-pdf",
               href="/cockpit/report.pdf?" + urlencode(view.query()),
               title="打印为一页 PDF（周一例会）· The cockpit as a one-page PDF"),
        html.Span(id="cockpit-state", className="cockpit-state"),
        html.Span(current_user.user.display_name, className="cockpit-user"),
        html.Details(className="wall-menu", children=[
            html.Summary("菜单 Menu"),
            html.Div(className="wall-menu-box", children=[
                html.Nav(nav_links(), className="wall-menu-links"), sign_out_form()]),
        ]),
    ])


def _map(bounds) -> dl.Map:
    return dl.Map(
        [*basemap_layers(),
         dl.GeoJSON(id="cockpit-units", data=None, zoomToBounds=False,
                    style={"variable": "onemap.cockpit.unitStyle"},
                    onEachFeature={"variable": "onemap.cockpit.unitTooltip"},
                    hideout={}, **coordinate_options()),
         dl.ScaleControl(imperial=False)],
        id="cockpit-map", className="cockpit-map", zoomSnap=0.25,
        **initial_view(bounds, {}),
    )


def _drill() -> html.Section:
    return html.Section(id="cockpit-drill", className="cockpit-drill", hidden=True, children=[
        html.Div(className="cockpit-drill-head", children=[
            html.H2(id="cockpit-drill-title"),
            html.Div(id="cockpit-drill-counts", className="cockpit-drill-counts"),
            html.Div(id="cockpit-sv-form", className="cockpit-sv-form", hidden=True, children=[
                html.Span(id="cockpit-sv-case", className="cockpit-sv-case"),
                dcc.Input(id="cockpit-sv-note", maxLength=2000, className="cockpit-input",
                          placeholder="督办意见 What is asked of the handler"),
                html.Button("发出督办 Send", id="cockpit-sv-send", n_clicks=0,
                            className="cockpit-button chosen"),
            ]),
            html.Span(id="cockpit-sv-message", className="cockpit-sv-message"),
            html.Button("导出 XLSX Export", id="cockpit-drill-export", n_clicks=0,
                        className="cockpit-button",
                        hidden=not current_user.can(Capability.EXPORT)),
            html.Button("✕ 关闭 Close", id="cockpit-drill-close", n_clicks=0,
                        className="cockpit-button"),
        ]),
        html.Div(id="cockpit-drill-note", className="cockpit-drill-note"),
        html.Div(id="cockpit-drill-table", className="cockpit-drill-table"),
        html.Div(className="cockpit-pager", children=[
            html.Button("◀ 上一页", id="cockpit-page-back", n_clicks=0,
                        className="cockpit-button"),
            html.Span(id="cockpit-page-label"),
            html.Button("下一页 ▶", id="cockpit-page-forward", n_clicks=0,
                        className="cockpit-button"),
        ]),
        dcc.Download(id="cockpit-download"),
    ])


def _panel(title_zh: str, title_en: str, body, class_name: str = "") -> html.Section:
    return html.Section(className=f"cockpit-panel {class_name}", children=[
        html.H2([title_zh, html.Span(f" {title_en}", className="en")]), body])


def layout(**query) -> html.Div:
    """The cockpit the URL names, in the user's scope; the numbers arrive by callback."""
    scope = current_scope()
    view = view_from_url(query, scope.code, datetime.now(ZONE).date())
    with scoped_read(scope) as conn:
        bounds = unit_bounds(conn, view.unit)
    graph = {"displayModeBar": False, "responsive": True}
    # printed (onemap/web/cockpit_report.py): the figures without the controls
    printed = " cockpit-print" if query.get("print") == "1" else ""
    return html.Div(className="cockpit" + (" cockpit-wall" if view.rotate else "") + printed,
                    children=[
        dcc.Store(id="cockpit-view", data=view.query()),
        # the wall's live poll (assets/map.js): a change in the cases refreshes the figures
        dcc.Store(id="cockpit-live"),
        dcc.Store(id="cockpit-live-spec", data={"prefix": "cockpit"}),
        dcc.Store(id="cockpit-screen"),
        dcc.Interval(id="cockpit-live-tick", interval=LIVE_POLL_MS),
        # unattended on a wall: the side panels and the map's KPI take turns
        dcc.Interval(id="cockpit-rotate", interval=1000 * (view.rotate or 60),
                     disabled=not view.rotate),
        dcc.Store(id="cockpit-rotation", data={"tabs": list(SIDE_TABS), "kpis": ROTATED_KPIS}),
        dcc.Store(id="cockpit-url"),
        dcc.Store(id="cockpit-drill-state"),
        dcc.Store(id="cockpit-sv-target"),
        dcc.Interval(id="cockpit-tick", interval=60_000),
        _header(view),
        html.Main(className="cockpit-main", children=[
            html.Div([_tile(key) for key in TILES], className="cockpit-tiles"),
            html.Div(className="cockpit-panels", children=[
                _panel("趋势", "Trend", dcc.Graph(id="cockpit-trend", config=graph,
                                                className="cockpit-graph"), "cockpit-trend"),
                _panel("分布", "By unit", html.Div(className="cockpit-map-wrap", children=[
                    dcc.Dropdown(id="cockpit-kpi", value=view.kpi, clearable=False,
                                 className="cockpit-dropdown",
                                 options=[{"label": f"{kpi.KPIS[k].zh} {kpi.KPIS[k].en}",
                                           "value": k} for k in MAP_KPIS]),
                    _map(bounds),
                    html.Div(id="cockpit-legend", className="cockpit-legend"),
                ]), "cockpit-geo"),
                html.Section(className="cockpit-panel cockpit-side", children=[
                    dcc.Tabs(id="cockpit-side-tab", value="kinds", className="cockpit-tabs",
                             parent_className="cockpit-tabs-parent",
                             content_className="cockpit-tab-content", children=[
                        dcc.Tab(label="构成 Kinds", value="kinds",
                                className="cockpit-tab", selected_className="chosen",
                                children=html.Div(className="cockpit-kinds-box", children=[
                                    dcc.Graph(id={"type": "cockpit-kind", "dimension": d},
                                              config=graph,
                                              className="cockpit-graph cockpit-kind-graph")
                                    for d in ("channel", "category", "level")])),
                        dcc.Tab(label="督办 Supervision", value="supervision",
                                className="cockpit-tab", selected_className="chosen",
                                children=html.Div(id="cockpit-supervision",
                                                  className="cockpit-supervision")),
                        dcc.Tab(label="人口 People", value="population",
                                className="cockpit-tab", selected_className="chosen",
                                children=html.Div(id="cockpit-population",
                                                  className="cockpit-tab-body")),
                        dcc.Tab(label="设施 Facilities", value="infrastructure",
                                className="cockpit-tab", selected_className="chosen",
                                children=html.Div(id="cockpit-infrastructure",
                                                  className="cockpit-tab-body")),
                    ]),
                ]),
            ]),
            _drill(),
        ]),
    ])


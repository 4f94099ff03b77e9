"""数据总览 Data overview: what the database holds, on a map of the district's boundaries."""

from __future__ import annotations

import dash
import dash_leaflet as dl
from dash import html

from geodata.queries.overview import table_counts, unit_bounds
from geodata.scope import scoped
from layers.admin import BOUNDARY_LAYERS, boundary_geojson
from onemap.domain.roles import Capability
from onemap.web.auth import current_scope
from pages.map_parts import basemap_layers, boundary_overlays, boundary_panes, initial_view
from pages.shell import page_header

dash.register_page(__name__, path="/", title="OneMap 一张图 · 数据总览", name="数据总览",
                   name_en="Overview", order=0, capability=Capability.VIEW_MAP)

COUNT_LABELS = {
    "district": ("区", "districts"),
    "street": ("街道", "streets"),
    "community": ("社区", "communities"),
    "grid": ("网格", "grids"),
    "building": ("楼栋", "buildings"),
    "unit": ("单元", "units"),
    "household": ("房屋", "households"),
    "person": ("人口", "people"),
    "enterprise": ("法人", "enterprises"),
    "key_place": ("重点场所", "key places"),
    "camera": ("视频监控", "cameras"),
    "sensor": ("物联感知", "sensors"),
    "staff": ("工作人员", "staff"),
    "event": ("事件", "events"),
}


def _count_tile(table: str, count: int) -> html.Div:
    zh, en = COUNT_LABELS[table]
    return html.Div(className="count-tile", children=[
        html.Div(f"{count:,}", className="count-value"),
        html.Div(zh, className="count-label"),
        html.Div(en, className="count-label-en"),
    ])


def _map(boundaries: list, bounds: list | None) -> dl.Map:
    return dl.Map(
        [*boundary_panes(), *basemap_layers(),
         dl.LayersControl(boundary_overlays(boundaries, "overview"), position="topright"),
         dl.ScaleControl(imperial=False)],
        id="overview-map", className="overview-map", preferCanvas=True,
        **initial_view(bounds, {}),
    )


def layout(**_query) -> html.Div:
    """The page, rendered from the database at every load, inside the user's scope."""
    scope = current_scope()
    with scoped(scope) as conn:
        counts = table_counts(conn)
        bounds = unit_bounds(conn, scope.code)
        boundaries = [(layer, boundary_geojson(conn, layer)) for layer in BOUNDARY_LAYERS]
    empty = counts["district"] == 0
    return html.Div(className="page", children=[
        page_header("数据总览 · Data overview"),
        html.Main(className="overview", children=[
            html.Section(className="overview-map-wrap", children=[
                _map(boundaries, bounds),
                html.Div(
                    ["尚未载入行政区划数据", html.Br(), "No boundaries loaded yet"],
                    className="empty-note",
                ) if empty else None,
            ]),
            html.Aside(className="overview-counts", children=[
                html.H2("库中数据 · In the database"),
                html.Div([_count_tile(t, n) for t, n in counts.items()], className="count-grid"),
            ]),
        ]),
    ])

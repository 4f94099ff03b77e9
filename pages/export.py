"""数据导出 The export page: layers to files, written in the background (exports/jobs.py).

The user picks layers (those their role may take out), narrows them by unit, a drawn area, a
time range and attribute values, chooses a format and a coordinate system, and submits: one
job per layer, run by `onemap worker` as the user (their scope, their masking, audited). Their
jobs are listed below the map with state, progress and a download link while the file is kept.
Callbacks: callbacks/export.py.
"""

from __future__ import annotations

import dash
import dash_leaflet as dl
from dash import dcc, html

from exports.crs import GK_FIRST_CODE, GK_FIRST_MERIDIAN, GK_LAST_CODE
from exports.formats import FORMATS
from exports.run import may_export
from geodata.queries.cockpit_units import child_outlines
from geodata.queries.export_units import units_within
from geodata.queries.overview import unit_bounds
from geodata.scope import scoped
from layers.registry import SOURCES
from onemap.domain.roles import Capability
from onemap.settings import get_settings
from onemap.web.auth import current_scope, current_user
from pages.map_parts import basemap_layers, coordinate_options, initial_view
from pages.shell import page_header

dash.register_page(__name__, path="/export", title="OneMap 一张图 · 数据导出", name="数据导出",
                   name_en="Export", order=5, capability=Capability.EXPORT)

LEVEL_NAMES = {"district": "区", "street": "街道", "community": "社区"}
GEOMETRY_NAMES = {"Point": ("点", "points"), "LineString": ("线", "lines"),
                  "Polygon": ("面", "polygons"), "MultiPolygon": ("面", "polygons")}
DEFAULT_FORMAT = "gpkg"
# the choices say what each system is for; GCJ-02 and BD-09 have no EPSG code to say it
CRS_CHOICES = [
    ("wgs84", "WGS84 · EPSG:4326（GPS、通用 GIS）"),
    ("cgcs2000", "CGCS2000 国家2000 · EPSG:4490"),
    ("gcj02", "GCJ-02 火星坐标（高德、腾讯）· 无 EPSG 编码 no EPSG code"),
    ("bd09", "BD-09（百度）· 无 EPSG 编码 no EPSG code"),
    ("gk", "CGCS2000 3° 高斯-克吕格，按数据经度自动分带 · Gauss-Krüger, zone from the data (m)"),
    *((f"EPSG:{code}", f"CGCS2000 3° 高斯-克吕格 中央经线 {meridian}°E · EPSG:{code} (m)")
      for code, meridian in ((c, GK_FIRST_MERIDIAN + 3 * (c - GK_FIRST_CODE))
                             for c in range(GK_FIRST_CODE, GK_LAST_CODE + 1))),
]
CRS_NOTE = ("GCJ-02、BD-09 没有 EPSG 编码：文件名和文件内的坐标系名称会注明"
            "（如 events_GCJ-02.gpkg）。KML 按标准只用 WGS84。· GCJ-02 and BD-09 have no EPSG "
            "code: the file's name and its coordinate system's name say which. KML is WGS84 "
            "only.")


def exportable(role: str) -> list:
    """The layer sources `role` may export, in the registry's order."""
    return [source for source in SOURCES.values() if may_export(role, source)]


def unit_options(units: list[dict]) -> list[dict]:
    options = []
    for unit in units:
        level = LEVEL_NAMES.get(unit["level"], "")
        above = f"（{unit['parent_name']}）" if unit["level"] == "community" else ""
        label = f"{unit['name']}{above} · {level} {unit['code']}"
        if unit is units[0]:
            label = f"全部（本辖区 {unit['name']}）· whole scope {unit['code']}"
        options.append({"label": label, "value": unit["code"]})
    return options


def _layer_choices(role: str) -> dcc.Checklist:
    return dcc.Checklist(
        id="export-layers", value=[], className="export-layers",
        options=[{"label": html.Span(className="export-layer", children=[
                      html.Span(source.title_zh, className="export-layer-zh"),
                      html.Span(source.title_en, className="en"),
                      html.Span(GEOMETRY_NAMES[source.geometry][0],
                                title=GEOMETRY_NAMES[source.geometry][1],
                                className="export-layer-kind")]),
                  "value": source.name} for source in exportable(role)])


def _personal_note() -> str:
    if current_user.can(Capability.LOOKUP_PERSON):
        return ("姓名、证件号、电话等个人信息按查询规则脱敏导出 · "
                "personal fields are exported masked")
    return "个人信息字段不导出 · personal fields are left out for your role"


def _section(number: int, zh: str, en: str, *children) -> html.Section:
    return html.Section(className="export-step", children=[
        html.H2([html.Span(str(number), className="export-step-no"), zh,
                 html.Span(en, className="en")]), *children])


def _form(units: list[dict]) -> html.Div:
    scope = current_scope()
    return html.Div(className="export-form", children=[
        _section(1, "图层", "Layers", _layer_choices(current_user.role),
                 html.P(_personal_note(), className="export-note")),
        _section(2, "范围", "Area",
                 dcc.Dropdown(id="export-unit", options=unit_options(units), value=scope.code,
                              clearable=False, className="export-dropdown"),
                 html.Div(className="export-inline", children=[
                     html.Span(id="export-drawn", className="export-note",
                               children="可在右侧地图上绘制多边形或矩形进一步限定 · draw a polygon "
                                        "or rectangle on the map to narrow further"),
                     html.Button("清除绘制 Clear", id="export-clear", n_clicks=0,
                                 className="export-button export-small")])),
        _section(3, "时间", "Time",
                 html.Div(className="export-inline", children=[
                     html.Label(["从 From", dcc.Input(id="export-since", type="date",
                                                     className="export-input export-date")]),
                     html.Label(["到 To（含）incl.", dcc.Input(id="export-until", type="date",
                                                          className="export-input export-date")])]),
                 html.P(id="export-time-note", className="export-note")),
        _section(4, "属性", "Attributes",
                 html.Div(className="export-inline", children=[
                     dcc.Dropdown(id="export-field", options=[], placeholder="字段 Field",
                                  className="export-dropdown export-field"),
                     html.Span("=", className="export-equals-sign"),
                     dcc.Input(id="export-value", placeholder="值 Value，如 closed",
                               className="export-input export-value", debounce=False),
                     html.Button("添加 Add", id="export-add", n_clicks=0,
                                 className="export-button export-small")]),
                 html.Div(id="export-conditions", className="export-conditions"),
                 dcc.Store(id="export-equals", data=[])),
        _section(5, "输出", "Output",
                 dcc.RadioItems(id="export-format", value=DEFAULT_FORMAT, inline=True,
                                className="export-formats",
                                options=[{"label": f.title, "value": f.key}
                                         for f in FORMATS.values()]),
                 dcc.Dropdown(id="export-crs", value="wgs84", clearable=False,
                              className="export-dropdown",
                              options=[{"label": label, "value": key}
                                       for key, label in CRS_CHOICES]),
                 html.P(CRS_NOTE, className="export-note"),
                 dcc.RadioItems(id="export-headers", value="zh", inline=True,
                                className="export-formats",
                                options=[{"label": "中文表头 Chinese titles", "value": "zh"},
                                         {"label": "英文字段名 ASCII names", "value": "en"}])),
        html.Div(className="export-submit-row", children=[
            html.Button("提交导出 Export", id="export-submit", n_clicks=0,
                        className="export-button export-primary"),
            html.Div(id="export-message", className="export-message", role="status")]),
    ])


def _map(bounds, outlines: dict) -> dl.Map:
    return dl.Map(
        [*basemap_layers(),
         dl.GeoJSON(data=outlines["community"], interactive=False,
                    style={"color": "#81c784", "weight": 1, "fill": False},
                    **coordinate_options()),
         dl.GeoJSON(data=outlines["street"], interactive=False,
                    style={"color": "#4fc3f7", "weight": 2, "fillOpacity": 0.03},
                    **coordinate_options()),
         dl.GeoJSON(id="export-unit-outline", data=None, interactive=False,
                    style={"color": "#f5c542", "weight": 3, "fill": False},
                    **coordinate_options()),
         dl.FeatureGroup([dl.EditControl(
             id="export-draw", position="topleft",
             draw={"polygon": {"shapeOptions": {"color": "#ff8a65"}},
                   "rectangle": {"shapeOptions": {"color": "#ff8a65"}},
                   "polyline": False, "circle": False, "marker": False,
                   "circlemarker": False},
             edit={"edit": True, "remove": True})]),
         dl.ScaleControl(imperial=False, position="bottomleft")],
        id="export-map", className="export-map", zoomSnap=0.25,
        **initial_view(bounds, {}),
    )


def _map_legend() -> html.Div:
    return html.Div(className="export-map-legend", children=[
        html.Span([html.I(style={"borderColor": colour}), zh, html.Span(en, className="en")])
        for colour, zh, en in (("#4fc3f7", "街道", "streets"), ("#81c784", "社区", "communities"),
                               ("#f5c542", "所选单位", "chosen unit"),
                               ("#ff8a65", "绘制范围", "drawn area"))])


def _jobs() -> html.Section:
    live_ms = int(max(get_settings().live_poll_seconds, 1.0) * 1000)
    return html.Section(className="export-jobs", children=[
        html.Div(className="export-jobs-head", children=[
            html.H2(["我的导出", html.Span("My exports", className="en")]),
            html.Span(f"文件保留 {get_settings().export_hours:g} 小时 · files are kept "
                      f"{get_settings().export_hours:g} hours", className="export-note")]),
        html.Div(id="export-job-list", className="export-job-list"),
        dcc.Interval(id="export-tick", interval=live_ms, disabled=True),
        dcc.Store(id="export-queued", data=0),
    ])


def layout(**_query) -> html.Div:
    """The form, the map of the user's scope to draw on, and the user's jobs."""
    scope = current_scope()
    with scoped(scope) as conn:
        units = units_within(conn, scope.code)
        bounds = unit_bounds(conn, scope.code)
        outlines = {level: child_outlines(conn, scope.code, level)
                    for level in ("street", "community")}
    return html.Div(className="page export", children=[
        page_header("数据导出 · Export"),
        html.Main(className="export-main", children=[
            _form(units),
            html.Div(className="export-side", children=[
                html.Div(className="export-map-wrap", children=[
                    _map(bounds, outlines), _map_legend()]),
                _jobs(),
            ]),
        ]),
    ])

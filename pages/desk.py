"""调度台 The dispatch desk: duty officers and grid workers take cases round the loop.

Left, the queues (new, to register, to dispatch … overdue, possible duplicates) with live
counts, the filters and the chosen queue's cases; in the middle, the selected case with its
actions and its whole history; right, the shared map component (layers/maps.py: DESK) flown to
the case, with what is around it. Filters, queue and case live in the URL, so a desk that
reloads, or a link from the wall (/desk?case=<id>), opens the same. Callbacks:
callbacks/desk.py; the keyboard: assets/desk.js.
"""

from __future__ import annotations

import dash
import dash_leaflet as dl
from dash import dcc, html

from geodata.queries import desk
from geodata.scope import scoped
from layers.maps import DESK
from onemap.domain import lifecycle
from onemap.domain.coordinates import wgs84_to_gcj02
from onemap.domain.roles import Capability
from onemap.domain.vocab import CHANNELS, EVENT_LEVELS
from onemap.domain.working_calendar import UNITS
from onemap.web.auth import current_scope, current_user
from pages.desk_filters import PERIODS, URL_KEYS, FilterValues, from_url
from pages.desk_ids import EXTEND_BUTTON
from pages.map_parts import overlays_need_gcj02
from pages.shell import nav_links, sign_out_form
from pages.viewport_map import live_status, viewport_map

dash.register_page(__name__, path="/desk", title="OneMap 一张图 · 调度台", name="调度台",
                   name_en="Desk", order=2, capability=Capability.HANDLE_EVENT)

# (action, 中文, English, key): every step of the loop, then the duplicate's own decision
SHORTCUTS = {"register": "r", "dispatch": "d", "accept": "a", "report_back": "b",
             "verify": "v", "close": "c"}
ACTION_BUTTONS = [(name, action.zh, name.replace("_", " ").capitalize(), SHORTCUTS.get(name))
                  for name, action in lifecycle.ACTIONS.items()]
ACTION_BUTTONS.append(("dismiss", "排除重复", "Not a duplicate", None))
LEVEL_NAMES = {level: names[0] for level, names in EVENT_LEVELS.items()}
HELP = ("快捷键 Keys: R 立案 · D 派遣 · A 接单 · B 反馈 · V 核查 · C 结案 · J/K 下/上一件 · "
        "/ 搜索 — 新上报: 30 分钟内的上报 · new: reported in the last 30 min")


def _unit_options(units: list[dict]) -> list[dict]:
    indent = {"street": "", "community": "　", "grid": "　　"}
    return [{"label": f"{indent[u['level']]}{u['name']}"
                      + (f"（{u['parent']}）" if u["level"] == "grid" else ""),
             "value": u["code"]} for u in units]


def _category_options(categories: list[dict]) -> list[dict]:
    return [{"label": f"{'　' if c['parent_code'] else ''}{c['code']} {c['name_zh']}",
             "value": c["code"]} for c in categories]


def _filters(values: FilterValues, units: list[dict], categories: list[dict]) -> html.Div:
    return html.Div(className="desk-filters", children=[
        dcc.Input(id="desk-text", value=values.text, placeholder="搜索编号或标题 Search  ( / )",
                  debounce=0.6, className="desk-input desk-search", maxLength=40),
        html.Div(className="desk-filter-row", children=[
            dcc.Dropdown(id="desk-unit", options=_unit_options(units), value=values.unit,
                         placeholder="单位 Unit", className="desk-dropdown"),
            dcc.Dropdown(id="desk-category", options=_category_options(categories),
                         value=values.category, placeholder="类别 Category",
                         className="desk-dropdown"),
        ]),
        html.Div(className="desk-filter-row", children=[
            dcc.Dropdown(id="desk-level", value=values.level, placeholder="等级 Level",
                         options=[{"label": f"{level}级 {name}", "value": level}
                                  for level, name in LEVEL_NAMES.items()],
                         className="desk-dropdown"),
            dcc.Dropdown(id="desk-channel", value=values.channel, placeholder="渠道 Channel",
                         options=[{"label": zh, "value": code}
                                  for code, (zh, _en) in CHANNELS.items()],
                         className="desk-dropdown"),
        ]),
        dcc.RadioItems(id="desk-period", value=values.period, inline=True,
                       className="desk-period",
                       options=[{"label": zh, "value": key}
                                for key, (zh, _en) in PERIODS.items()]),
        html.Div(id="desk-dates", className="desk-filter-row desk-dates",
                 hidden=values.period != "custom", children=[
                     html.Label(["从 From", dcc.Input(id="desk-start", type="date",
                                                     value=values.start,
                                                     className="desk-input desk-date")]),
                     html.Label(["到 To", dcc.Input(id="desk-end", type="date", value=values.end,
                                                   className="desk-input desk-date")]),
                 ]),
    ])


def _queue_tile(queue: desk.Queue, chosen: str) -> html.Button:
    return html.Button(
        id={"type": "desk-queue", "queue": queue.key}, n_clicks=0,
        className=f"desk-queue desk-queue-{queue.key}"
                  + (" chosen" if queue.key == chosen else ""),
        children=[html.Span("–", id={"type": "desk-count", "queue": queue.key},
                            className="desk-count"),
                  html.Span(queue.zh, className="desk-queue-zh"),
                  html.Span(queue.en, className="desk-queue-en")],
    )


def _queues(chosen: str) -> html.Div:
    urgent = ("overdue", "warning", "duplicates")
    return html.Div(className="desk-queues", children=[
        html.Div([_queue_tile(desk.QUEUES[k], chosen) for k in urgent],
                 className="desk-queue-row desk-queue-urgent"),
        html.Div([_queue_tile(q, chosen) for k, q in desk.QUEUES.items() if k not in urgent],
                 className="desk-queue-row"),
    ])


def _action_bar() -> html.Div:
    buttons = [
        html.Button([zh, html.Span(f" {en}", className="en"),
                     html.Kbd(key.upper()) if key else None],
                    id={"type": "desk-action", "action": name}, n_clicks=0, disabled=True,
                    className=f"desk-action desk-action-{name}",
                    **({"data-shortcut": key} if key else {}))
        for name, zh, en, key in ACTION_BUTTONS
    ]
    extension = []
    if current_user.can(Capability.APPROVE_EXTENSION):
        extension = [html.Div(className="desk-extension", children=[
            html.Span(["延期 ", html.Span("Extend", className="en")], className="desk-label"),
            dcc.Input(id="desk-ext-amount", type="number", min=0.5, max=1000, step=0.5,
                      placeholder="时长", className="desk-input desk-ext-amount"),
            dcc.Dropdown(id="desk-ext-unit", value="working_days", clearable=False,
                         options=[{"label": zh, "value": unit}
                                  for unit, (zh, _en) in UNITS.items()],
                         className="desk-dropdown desk-ext-unit"),
            dcc.Input(id="desk-ext-note", placeholder="延期理由 Reason", maxLength=2000,
                      className="desk-input desk-ext-note"),
            html.Button("批准延期 Extend", id=EXTEND_BUTTON, n_clicks=0, disabled=True,
                        className="desk-action desk-action-extend"),
        ])]
    return html.Div(id="desk-actions", className="desk-actions", hidden=True, children=[
        html.Div(buttons, className="desk-action-buttons"),
        html.Div(className="desk-action-inputs", children=[
            dcc.Dropdown(id="desk-staff", placeholder="派遣给 Send to (dispatch)",
                         className="desk-dropdown desk-staff", clearable=False),
            dcc.Input(id="desk-into", placeholder="合并到案件编号 Merge into (code)",
                      maxLength=32, className="desk-input desk-into"),
        ]),
        dcc.Textarea(id="desk-note", placeholder="备注 Note (处理意见，随操作记入办理过程)",
                     maxLength=2000, className="desk-input desk-note"),
        *extension,
    ])


def _report_form(categories: list[dict]) -> html.Div:
    """The small form a click on the map opens in report mode."""
    return html.Div(id="desk-report-form", className="desk-report-form", hidden=True, children=[
        html.H3(["在此上报 ", html.Span("Report a case here", className="en")]),
        html.Div(id="desk-report-where", className="desk-muted"),
        dcc.Input(id="desk-report-title", placeholder="标题 Title", maxLength=200,
                  className="desk-input"),
        dcc.Dropdown(id="desk-report-category", placeholder="类别 Category",
                     options=[{"label": f"{c['code']} {c['name_zh']}", "value": c["code"]}
                              for c in categories if c["parent_code"]],
                     className="desk-dropdown"),
        html.Div(className="desk-filter-row", children=[
            dcc.Dropdown(id="desk-report-level", placeholder="等级 Level (按类别默认)",
                         options=[{"label": f"{level}级 {name}", "value": level}
                                  for level, name in LEVEL_NAMES.items()],
                         className="desk-dropdown"),
            dcc.Dropdown(id="desk-report-channel", value="hotline_12345", clearable=False,
                         options=[{"label": zh, "value": code}
                                  for code, (zh, _en) in CHANNELS.items()],
                         className="desk-dropdown"),
        ]),
        dcc.Textarea(id="desk-report-description", placeholder="描述 Description",
                     maxLength=4000, className="desk-input"),
        html.Div(id="desk-report-error", className="desk-message error"),
        html.Div(className="desk-report-buttons", children=[
            html.Button("上报 Report", id="desk-report-submit", n_clicks=0,
                        className="desk-action desk-primary"),
            html.Button("取消 Cancel", id="desk-report-cancel", n_clicks=0,
                        className="desk-action"),
        ]),
    ])


def _with_highlight(map_wrap: html.Div) -> html.Div:
    """The map component with a pane of the desk's own above every layer: the selected case's
    ring and the point being reported."""
    the_map = next(child for child in map_wrap.children if isinstance(child, dl.Map))
    the_map.children = [*the_map.children, dl.Pane(
        [dl.LayerGroup(id="desk-highlight"), dl.LayerGroup(id="desk-report-marker")],
        name="desk-highlight", style={"zIndex": 490, "pointerEvents": "none"})]
    return map_wrap


def _map_query(query: dict, place: dict | None) -> dict:
    """The map's first view: the URL's own, else the selected case close up."""
    if place is None or all(key in query for key in ("lat", "lng", "z")):
        return query
    lng, lat = place["lng"], place["lat"]
    if overlays_need_gcj02():
        lng, lat = (float(v) for v in wgs84_to_gcj02(lng, lat))
    return {**query, "lat": f"{lat:.6f}", "lng": f"{lng:.6f}", "z": "17"}


def _header() -> html.Header:
    return html.Header(className="desk-header", children=[
        html.H1(["OneMap ", html.Span("一张图", className="brand-zh"),
                 html.Span(" 调度台 · Dispatch desk", className="desk-title-en")]),
        live_status(DESK),
        html.Div(HELP, className="desk-help"),
        html.Span(current_user.user.display_name, className="desk-user"),
        html.Details(className="wall-menu", children=[
            html.Summary("菜单 Menu"),
            html.Div(className="wall-menu-box", children=[
                html.Nav(nav_links(), className="wall-menu-links"), sign_out_form()]),
        ]),
    ])


def layout(**query) -> html.Div:
    """The desk in the user's scope, restored from the URL's filters, queue, case and map."""
    scope = current_scope()
    values, queue, selected = from_url(query, scope.code)
    with scoped(scope) as conn:
        units = desk.units(conn, scope.code)
        categories = desk.categories(conn)
        place = desk.case(conn, selected) if selected is not None else None
    query = {key: value for key, value in query.items()
             if isinstance(value, str) and key not in URL_KEYS.values()}
    return html.Div(className="desk", children=[
        dcc.Store(id="desk-queue", data=queue),
        dcc.Store(id="desk-case", data=selected),
        dcc.Store(id="desk-seen"),
        dcc.Store(id="desk-refresh", data=0),
        dcc.Store(id="desk-place"),
        dcc.Store(id="desk-url"),
        dcc.Store(id="desk-report-mode", data=False),
        dcc.Store(id="desk-report-point"),
        dcc.Store(id="desk-report-ref"),
        # limits run out with nothing changing in the database: recount each minute
        dcc.Interval(id="desk-minute", interval=60_000),
        _header(),
        html.Main(className="desk-main", children=[
            html.Section(className="desk-left", children=[
                _queues(queue),
                _filters(values, units, categories),
                html.Ol(id="desk-list", className="desk-list"),  # assets/desk.js draws it
                dcc.Store(id="desk-list-rows"),
                html.Div(id="desk-list-more", className="desk-more"),
            ]),
            html.Section(className="desk-centre", children=[
                html.Div(id="desk-case-head", className="desk-case-head", children=[
                    html.P("从左侧队列选择案件 · Pick a case from a queue",
                           className="desk-muted")]),
                _action_bar(),
                # outside the bar: a step that finishes the case hides the bar, not its answer
                html.Div(id="desk-message", className="desk-message"),
                html.Div(id="desk-case-body", className="desk-case-body"),
            ]),
            html.Section(className="desk-right", children=[
                html.Div(id="desk-map-area", className="desk-map-area", children=[
                    _with_highlight(viewport_map(DESK, _map_query(query, place))),
                    html.Button("＋ 地图上报 Report on map", id="desk-report-toggle",
                                n_clicks=0, className="desk-report-toggle",
                                hidden=not current_user.can(Capability.REPORT_EVENT)),
                    _report_form(categories),
                ]),
                html.Div(id="desk-nearby", className="desk-nearby"),
            ]),
        ]),
    ])

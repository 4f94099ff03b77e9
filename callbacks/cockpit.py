"""Callbacks of the leaders' cockpit (pages/cockpit.py): the view (period, unit, map KPI) from
the controls, the map and the breadcrumb; the refresh of every number, chart and the map each
minute; the drill-through list behind a number and its XLSX export.

Every callback refuses (audited) a role without `view_cockpit`, reads the view from the browser
without trusting it (pages/cockpit_url.py checks each part again) and queries in the user's
scope, so a street leader calling them directly still sees only their street.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
from dash import ALL, ClientsideFunction, Input, Output, State, callback, clientside_callback
from dash import ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from geodata.queries import kpi_cases
from geodata.queries.overview import unit_bounds
from geodata.scope import scoped, scoped_read
from onemap.domain import kpi
from onemap.domain.roles import Capability
from onemap.domain.vocab import (
    CATEGORY_KINDS,
    CHANNELS,
    CLOSURE_KINDS,
    EVENT_LEVELS,
    EVENT_STATES,
)
from onemap.web.auth import audit_request, current_scope, current_user
from onemap.web.cockpit_data import read_page
from pages.cockpit_ids import TILES, ZONE

from . import cockpit_charts as charts
from .cockpit_common import allowed, screen_scale, view_of, xlsx
from . import cockpit_supervision as supervise_view

PAGE = 50

clientside_callback(
    ClientsideFunction("cockpit", "remember"),
    Output("cockpit-url", "data"), Input("cockpit-view", "data"),
)
clientside_callback(  # how wide the screen is: the figures' text follows it
    "function (_spec) { return window.innerWidth; }",
    Output("cockpit-screen", "data"), Input("cockpit-live-spec", "data"),
)
clientside_callback(  # the wall screen's poll: whether the server is reached, what changed
    ClientsideFunction("map", "poll"),
    Output("cockpit-live", "data"), Output("cockpit-status", "children"),
    Output("cockpit-status", "className"),
    Input("cockpit-live-tick", "n_intervals"), State("cockpit-live", "data"),
    State("cockpit-live-spec", "data"),
)
clientside_callback(  # unattended: the next side panel, and every full round the next KPI
    ClientsideFunction("cockpit", "rotate"),
    Output("cockpit-side-tab", "value"), Output("cockpit-kpi", "value"),
    Input("cockpit-rotate", "n_intervals"), State("cockpit-side-tab", "value"),
    State("cockpit-kpi", "value"), State("cockpit-rotation", "data"),
    prevent_initial_call=True,
)


def _stepped(view, forward: bool):
    """The first day of the period after (or before) the view's, of the same kind."""
    return view.period.end if forward else kpi.previous(view.period).start


@callback(
    Output("cockpit-view", "data"),
    Output("cockpit-date", "value"),
    Output("cockpit-stepper", "hidden"),
    Output("cockpit-dates", "hidden"),
    Input("cockpit-kind", "value"), Input("cockpit-date", "value"),
    Input("cockpit-start", "value"), Input("cockpit-end", "value"),
    Input("cockpit-back", "n_clicks"), Input("cockpit-forward", "n_clicks"),
    Input("cockpit-kpi", "value"), Input("cockpit-units", "clickData"),
    Input({"type": "cockpit-trail-link", "code": ALL}, "n_clicks"),
    State("cockpit-view", "data"),
    prevent_initial_call=True,
)
def chooseview_of(kind, day, start, end, _back, _forward, map_kpi, clicked, _trail, current):
    """The view after a change of period, date, KPI, or a click on a unit or the breadcrumb."""
    allowed()
    view = view_of(current)
    query = dict(view.query())
    trigger = ctx.triggered_id
    if trigger == "cockpit-kind":
        query["period"] = kind
        if kind == "custom":
            query.update(start=view.period.start.isoformat(),
                         end=(view.period.end - timedelta(days=1)).isoformat())
    elif trigger == "cockpit-date":
        query["date"] = day
    elif trigger in ("cockpit-start", "cockpit-end"):
        query.update(start=start, end=end)
    elif trigger in ("cockpit-back", "cockpit-forward"):
        query["date"] = _stepped(view, trigger == "cockpit-forward").isoformat()
    elif trigger == "cockpit-kpi":
        query["kpi"] = map_kpi
    elif trigger == "cockpit-units":
        code = ((clicked or {}).get("properties") or {}).get("code")
        query["unit"] = code if isinstance(code, str) else view.unit
    elif isinstance(trigger, dict) and trigger.get("type") == "cockpit-trail-link":
        if not ctx.triggered[0]["value"]:
            raise PreventUpdate  # the breadcrumb drawn again, not clicked
        query["unit"] = trigger.get("code")
    chosen = view_of(query)
    if chosen == view:
        raise PreventUpdate  # e.g. the date box set to the date it already shows
    custom = chosen.period.kind == "custom"
    day = chosen.anchor.isoformat() if trigger != "cockpit-date" else no_update
    return chosen.query(), day, custom, not custom


def _number(item: kpi.Kpi, value: float | None) -> str:
    if value is None:
        return "—"
    if item.is_rate or item.unit == "小时":
        return f"{value:.1f}"
    return f"{int(round(value)):,}"


def _change(item: kpi.Kpi, label: str, now, before) -> html.Span:
    moved = kpi.change(item, now, before)
    if moved.amount is None:
        return html.Span(f"{label} —", className="cockpit-change")
    arrow = "▲" if moved.amount > 0 else "▼" if moved.amount < 0 else "＝"
    amount = (f"{abs(moved.amount):.1f} 个百分点" if moved.in_points
              else f"{abs(moved.amount) * 100:.1f}%")
    tone = "" if moved.better is None else (" better" if moved.better else " worse")
    return html.Span(f"{label} {arrow} {amount}", className=f"cockpit-change{tone}")


def _class_labels(classes: list[dict]) -> dict[str, str]:
    """A class's name, with its kind where two kinds share the name (市容环境 is both a
    component class and an event class)."""
    names = [c["name_zh"] for c in classes]
    return {c["code"]: c["name_zh"] + (f"（{CATEGORY_KINDS[c['kind']][0]}）"
                                       if names.count(c["name_zh"]) > 1 else "")
            for c in classes}


def _trail(trail: list[tuple[str, str]], unit: str) -> list:
    links = []
    for code, name in trail:
        if links:
            links.append(html.Span(" › ", className="cockpit-trail-sep"))
        links.append(html.Button(name, id={"type": "cockpit-trail-link", "code": code},
                                 n_clicks=0, className="cockpit-trail-link"
                                 + (" current" if code == unit else "")))
    return links


@callback(
    Output({"type": "cockpit-value", "kpi": ALL}, "children"),
    Output({"type": "cockpit-change", "kpi": ALL}, "children"),
    Output("cockpit-trend", "figure"),
    Output({"type": "cockpit-kind", "dimension": ALL}, "figure"),
    Output("cockpit-units", "data"),
    Output("cockpit-units", "hideout"),
    Output("cockpit-legend", "children"),
    Output("cockpit-trail", "children"),
    Output("cockpit-period-label", "children"),
    Output("cockpit-map", "viewport"),
    Output("cockpit-state", "children"),
    Input("cockpit-view", "data"), Input("cockpit-tick", "n_intervals"),
    Input("cockpit-live", "data"), Input("cockpit-screen", "data"),
)
def refresh(query, _tick, _live, screen):
    """Every number, chart and the map of the view, read afresh."""
    allowed()
    view = view_of(query)
    now = datetime.now(timezone.utc)
    scope = current_scope()
    with scoped_read(scope) as conn:  # the replica's when there is one
        data = read_page(conn, view.period, view.unit, scope.code, now)
        bounds = unit_bounds(conn, view.unit) if ctx.triggered_id == "cockpit-view" else None
    values = [_number(kpi.KPIS[k], data.values["now"][k]) for k in TILES]
    changes = [[_change(kpi.KPIS[k], "环比", data.values["now"][k], data.values["previous"][k]),
                _change(kpi.KPIS[k], "同比", data.values["now"][k],
                        data.values["year_before"][k])] for k in TILES]
    item = kpi.KPIS[view.kpi]
    shaded, hideout, legend = charts.choropleth(data.outlines, data.units, item)
    labels = {"channel": {c: zh for c, (zh, _en) in CHANNELS.items()},
              "category": _class_labels(data.category_classes),
              "level": {str(level): f"{level}级 {zh}" for level, (zh, _en) in
                        EVENT_LEVELS.items()}}
    # the figures' text grows with the screen, as the page's does (2× on a 4K wall)
    scale = screen_scale(screen)
    kinds = [charts.breakdown(dimension, data.kinds[dimension], labels[dimension], scale)
             for dimension in ("channel", "category", "level")]
    viewport = {"bounds": bounds, "transition": "flyToBounds"} if bounds else no_update
    stamp = datetime.now(ZONE).strftime("%H:%M")
    return (values, changes, charts.trend(data, scale), kinds, shaded, hideout, legend,
            _trail(data.trail, view.unit),
            view.period.label, viewport, f"更新于 {stamp} · Updated")


# -- drill-through --------------------------------------------------------------------------

def _counts_of(key: str) -> list[str]:
    item = kpi.KPIS[key]
    counts = [item.numerator]
    if item.denominator:
        counts.append(item.denominator)
    # a sum of minutes or points is listed as the cases it is summed over
    listed = [{"handling_minutes": "handled", "satisfaction_points": "rated"}.get(c, c)
              for c in counts]
    return list(dict.fromkeys(listed))


COUNT_NAMES = {
    "received": "受理", "registered": "立案", "rejected": "不予立案", "closed": "结案",
    "closed_on_time": "按期结案", "returned": "返工", "extended": "延期", "proactive": "主动发现",
    "inspector_reports": "监督员上报", "inspector_valid": "监督员有效上报",
    "handled": "已结案(计时)",
    "rated": "有回访评价", "satisfied": "满意", "overdue_open": "超期未结", "due": "应结案",
}


def _drill_state(state) -> dict | None:
    """The open list, checked: a KPI's count, or a supervision board's cell."""
    if not isinstance(state, dict):
        return None
    page, rev = state.get("page"), state.get("rev", 0)
    if not isinstance(page, int) or not 0 <= page < 10_000 or not isinstance(rev, int):
        return None
    if "supervision" in state:
        cell = state["supervision"]
        chosen = supervise_view.list_state(cell.get("cell") if isinstance(cell, dict) else None)
        return {"supervision": {"cell": cell["cell"], **chosen}, "page": page, "rev": rev} \
            if chosen else None
    key, count = state.get("kpi"), state.get("count")
    if key not in kpi.KPIS or count not in _counts_of(key):
        return None
    return {"kpi": key, "count": count, "page": page, "rev": rev}


def _case_link(row: dict) -> dcc.Link:
    if current_user.can(Capability.HANDLE_EVENT):
        return dcc.Link(row["code"], href=f"/desk?case={row['id']}")
    return dcc.Link(row["code"], href=f"/wall?event={row['id']}")


def _when(value) -> str:
    return value.astimezone(ZONE).strftime("%Y-%m-%d %H:%M") if value else ""


def _table(rows: list[dict]) -> html.Table:
    head = ["案件编号 Case", "标题 Title", "类别 Category", "渠道 Channel", "等级", "状态 State",
            "上报 Reported", "结案 Closed", "时限 Due", "结案类型"]
    return html.Table(className="cockpit-table", children=[
        html.Thead(html.Tr([html.Th(h) for h in head])),
        html.Tbody([html.Tr([
            html.Td(_case_link(r)), html.Td(r["title"]), html.Td(r["category"] or ""),
            html.Td(CHANNELS.get(r["channel"], (r["channel"],))[0]), html.Td(r["level"]),
            html.Td(EVENT_STATES.get(r["state"], (r["state"],))[0]),
            html.Td(_when(r["reported_at"])), html.Td(_when(r["closed_at"])),
            html.Td(_when(r["due_at"])),
            html.Td(CLOSURE_KINDS.get(r["closure_kind"], ("",))[0] if r["closure_kind"] else ""),
        ]) for r in rows]),
    ])


@callback(
    Output("cockpit-drill-state", "data"),
    Input({"type": "cockpit-tile", "kpi": ALL}, "n_clicks"),
    Input({"type": "cockpit-count", "count": ALL}, "n_clicks"),
    Input({"type": "cockpit-sv", "cell": ALL}, "n_clicks"),
    Input("cockpit-page-back", "n_clicks"), Input("cockpit-page-forward", "n_clicks"),
    Input("cockpit-drill-close", "n_clicks"),
    State("cockpit-drill-state", "data"),
    prevent_initial_call=True,
)
def choose_drill(_tiles, _counts, _cells, _back, _forward, _close, state):
    """Which list is open: a tile opens its numerator's cases; a count button switches to the
    denominator's; the pager steps."""
    allowed()
    if not ctx.triggered or not ctx.triggered[0]["value"]:
        raise PreventUpdate  # a tile drawn again, not clicked
    trigger = ctx.triggered_id
    state = _drill_state(state)
    if trigger == "cockpit-drill-close":
        return None
    if isinstance(trigger, dict) and trigger.get("type") == "cockpit-tile":
        key = trigger.get("kpi")
        if key not in kpi.KPIS:
            raise PreventUpdate
        return {"kpi": key, "count": _counts_of(key)[0], "page": 0}
    if isinstance(trigger, dict) and trigger.get("type") == "cockpit-sv":
        if supervise_view.list_state(trigger.get("cell")) is None:
            raise PreventUpdate
        return {"supervision": {"cell": trigger["cell"]}, "page": 0}
    if state is None:
        raise PreventUpdate
    if isinstance(trigger, dict) and trigger.get("type") == "cockpit-count":
        if "kpi" not in state or trigger.get("count") not in _counts_of(state["kpi"]):
            raise PreventUpdate
        return {**state, "count": trigger["count"], "page": 0}
    step = 1 if trigger == "cockpit-page-forward" else -1
    return {**state, "page": max(0, state["page"] + step)}


@callback(
    Output("cockpit-drill", "hidden"),
    Output("cockpit-drill-title", "children"),
    Output("cockpit-drill-counts", "children"),
    Output("cockpit-drill-table", "children"),
    Output("cockpit-page-label", "children"),
    Output("cockpit-drill-export", "hidden"),
    Input("cockpit-drill-state", "data"), Input("cockpit-view", "data"),
)
def drill(state, query):
    """The cases behind the chosen count, one page, newest first."""
    allowed()
    state = _drill_state(state)
    if state is None:
        return True, no_update, no_update, no_update, no_update, no_update
    view = view_of(query)
    if "supervision" in state:
        return (*_supervision_list(state, view), not current_user.can(Capability.EXPORT))
    item = kpi.KPIS[state["kpi"]]
    with scoped_read(current_scope()) as conn:
        total, rows = kpi_cases.cases(conn, state["count"], view.period, view.unit,
                                      datetime.now(timezone.utc), offset=state["page"] * PAGE,
                                      limit=PAGE)
    buttons = [html.Button(COUNT_NAMES[c], id={"type": "cockpit-count", "count": c},
                           n_clicks=0, className="cockpit-button"
                           + (" chosen" if c == state["count"] else ""))
               for c in _counts_of(state["kpi"])]
    pages = max(1, -(-total // PAGE))
    title = [f"{item.zh} · {COUNT_NAMES[state['count']]} ",
             html.Span(f"{total:,}", className="cockpit-drill-total", id="cockpit-drill-total"),
             " 件 ", html.Span(f"{view.period.label}", className="en")]
    return (False, title, buttons, _table(rows),
            f"第 {min(state['page'] + 1, pages)} / {pages} 页",
            not current_user.can(Capability.EXPORT))


def _supervision_list(state: dict, view) -> tuple:
    chosen, now = state["supervision"], datetime.now(timezone.utc)
    with scoped_read(current_scope()) as conn:
        total, rows = supervise_view.cases(conn, view.unit, chosen, now,
                                           offset=state["page"] * PAGE, limit=PAGE)
    pages = max(1, -(-total // PAGE))
    title = [f"{supervise_view.title(chosen)} ",
             html.Span(f"{total:,}", className="cockpit-drill-total", id="cockpit-drill-total"),
             " 件"]
    return (False, title, [], supervise_view.table(rows, now),
            f"第 {min(state['page'] + 1, pages)} / {pages} 页")


HEADERS = {"code": "案件编号", "title": "标题", "category": "类别", "channel": "渠道",
           "level": "等级", "state": "状态", "grid_code": "网格编码", "department_code": "处置部门",
           "reported_at": "上报时间", "registered_at": "立案时间", "closed_at": "结案时间",
           "due_at": "时限", "closure_kind": "结案类型", "returned_count": "返工次数",
           "extended": "延期", "handling_hours": "处置时长(工作小时)", "satisfaction": "满意度"}
# rows a click exports at once (whole layers: the export page's background jobs)
EXPORT_MAX = kpi_cases.PAGE_MAX


@callback(
    Output("cockpit-download", "data"),
    Output("cockpit-drill-note", "children"),
    Input("cockpit-drill-export", "n_clicks"),
    State("cockpit-drill-state", "data"), State("cockpit-view", "data"),
    prevent_initial_call=True,
)
def export(clicks, state, query):
    """The whole list as XLSX with Chinese headers; one audit row names it."""
    allowed(Capability.EXPORT)
    state = _drill_state(state)
    if not clicks or state is None:
        raise PreventUpdate
    view = view_of(query)
    if "supervision" in state:
        return supervise_view.export(state["supervision"], view.unit, EXPORT_MAX), ""
    with scoped(current_scope()) as conn:
        total, rows = kpi_cases.cases(conn, state["count"], view.period, view.unit,
                                      datetime.now(timezone.utc), limit=EXPORT_MAX)
        if total > EXPORT_MAX:
            return no_update, (f"共 {total:,} 件，超过单次导出上限 {EXPORT_MAX:,} 件："
                               "请缩短时段或选择下级单位"
                               f" · {total:,} cases, more than {EXPORT_MAX:,} at once:"
                               " choose a shorter period or a smaller unit")
        audit_request(conn, "export", object_kind="cockpit_cases", object_id=state["count"],
                      details={"kpi": state["kpi"], "unit": view.unit, "rows": len(rows),
                               "period": [view.period.start.isoformat(),
                                          view.period.end.isoformat()], "format": "xlsx"})
    table = pd.DataFrame(rows, columns=["id", *HEADERS]).drop(columns="id")
    for column in ("reported_at", "registered_at", "closed_at", "due_at"):
        table[column] = pd.to_datetime(table[column], utc=True).dt.tz_convert(ZONE) \
            .dt.strftime("%Y-%m-%d %H:%M:%S%z")
    table["channel"] = table["channel"].map(lambda c: CHANNELS.get(c, (c,))[0])
    table["state"] = table["state"].map(lambda s: EVENT_STATES.get(s, (s,))[0])
    table["closure_kind"] = table["closure_kind"].map(
        lambda k: CLOSURE_KINDS.get(k, (k,))[0] if k else "")
    name = f"onemap-{state['kpi']}-{state['count']}-{view.unit}-{view.period.start}.xlsx"
    return xlsx(table.rename(columns=HEADERS), kpi.KPIS[state["kpi"]].zh, name), ""

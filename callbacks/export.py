"""Callbacks of the export page (pages/export.py). Each checks the export right again (a
callback is a URL anyone signed in can call), reads in the user's scope, and trusts nothing
the browser sends (callbacks/export_form.py reads it). Submitting queues one job per layer in
the user's session (geodata/export_jobs.py; row-level security names the user); the list
polls while any of their jobs is queued or running."""

from __future__ import annotations

from dash import ALL, Input, Output, State, callback, ctx, html, no_update
from dash.exceptions import PreventUpdate

from exports.jobs import filters_to_json
from geodata import export_jobs
from geodata.queries.cockpit_units import LEVEL_TABLES, child_outlines, names_of
from geodata.queries.overview import unit_bounds
from geodata.scope import scoped
from layers.registry import SOURCES
from onemap.domain.roles import Capability
from onemap.web.auth import current_scope, current_user
from pages.map_parts import overlays_need_gcj02

from .cockpit_common import allowed
from .export_form import (
    MAX_CONDITIONS, MAX_VALUE_CHARS, BadForm, drawn_area, filterable_fields, read_form,
)
from .export_view import job_table, units_named

# a user's jobs waiting or running at once: more waits until these are done
MAX_ACTIVE = 10
LISTED = 30


def _allowed() -> None:
    allowed(Capability.EXPORT)


def _time_title(source) -> str:
    if source.time_field is None:
        return "无时间字段 no time"
    if source.aggregate is not None:  # the time of the rows it counts, not a field of its own
        return source.time_field
    return source.field(source.time_field).title_zh


@callback(
    Output("export-field", "options"), Output("export-field", "placeholder"),
    Output("export-time-note", "children"),
    Input("export-layers", "value"),
)
def layer_fields(layers):
    """The attribute fields every chosen layer has, and which time each would filter on."""
    _allowed()
    sources = [SOURCES[name] for name in layers or [] if name in SOURCES]
    fields = [{"label": title, "value": name} for name, title in filterable_fields(sources)]
    if any(source.aggregate is not None for source in sources):
        placeholder = "热力网格只按范围和时间筛选 · the heat grid: area and time only"
    else:
        placeholder = "字段 Field" if sources else "先选图层 · choose layers first"
    times = [f"{s.title_zh}：{_time_title(s)}" for s in sources]
    note = ("按时间筛选 · the dates filter on " + "；".join(times)) if times else \
        "日期按北京时间，含起止两天 · China's dates, both days included"
    return fields, placeholder, note


@callback(
    Output("export-equals", "data"), Output("export-value", "value"),
    Input("export-add", "n_clicks"),
    Input({"type": "export-condition-remove", "field": ALL}, "n_clicks"),
    State("export-field", "value"), State("export-value", "value"),
    State("export-equals", "data"),
    prevent_initial_call=True,
)
def edit_conditions(_add, _removes, field, value, conditions):
    """Add a field = value condition, or remove one."""
    _allowed()
    conditions = [c for c in conditions or [] if isinstance(c, list) and len(c) == 2]
    trigger = ctx.triggered_id
    if isinstance(trigger, dict):
        if not ctx.triggered[0]["value"]:
            raise PreventUpdate  # a button just drawn, not clicked
        return [c for c in conditions if c[0] != trigger.get("field")], no_update
    if not isinstance(field, str) or not isinstance(value, str) or not value.strip():
        raise PreventUpdate
    kept = [c for c in conditions if c[0] != field][:MAX_CONDITIONS - 1]
    return [*kept, [field, value.strip()[:MAX_VALUE_CHARS]]], ""


@callback(Output("export-conditions", "children"), Input("export-equals", "data"))
def show_conditions(conditions):
    _allowed()
    return [html.Span(className="export-condition", children=[
        f"{field} = {value}",
        html.Button("×", id={"type": "export-condition-remove", "field": field}, n_clicks=0,
                    className="export-condition-remove", title="移除 Remove")])
        for field, value in conditions or []]


@callback(
    Output("export-crs", "options"), Output("export-crs", "value"),
    Input("export-format", "value"), State("export-crs", "options"),
    State("export-crs", "value"),
)
def crs_for_format(format_value, options, crs):
    """KML is WGS84 by its standard: the other systems are offered for the other formats."""
    _allowed()
    kml = format_value == "kml"
    offered = [{**option, "disabled": kml and option["value"] != "wgs84"}
               for option in options or []]
    return offered, "wgs84" if kml else crs


@callback(
    Output("export-unit-outline", "data"), Output("export-map", "viewport"),
    Input("export-unit", "value"),
    prevent_initial_call=True,
)
def show_unit(unit):
    """Outline the chosen unit and fly to it."""
    _allowed()
    scope = current_scope()
    if not isinstance(unit, str) or not unit.startswith(scope.code) \
            or len(unit) not in LEVEL_TABLES:
        raise PreventUpdate
    with scoped(scope) as conn:
        # the unit's own outline (its level's outlines under its code: itself); the scope's
        # district is the whole map already
        outline = (child_outlines(conn, unit, LEVEL_TABLES[len(unit)])
                   if len(unit) > 6 and unit != scope.code else None)
        bounds = unit_bounds(conn, unit)
    viewport = {"bounds": bounds, "transition": "flyToBounds"} if bounds else no_update
    return outline, viewport


@callback(Output("export-drawn", "children"), Input("export-draw", "geojson"))
def drawn_note(geojson):
    _allowed()
    try:
        area = drawn_area(geojson, overlays_need_gcj02())
    except BadForm as exc:
        return html.Span(str(exc), className="export-error")
    if area is None:
        return ("可在右侧地图上绘制多边形或矩形进一步限定 · draw a polygon or rectangle on the map "
                "to narrow further")
    count = len((geojson or {}).get("features") or [])
    return f"已绘制 {count} 个区域，只导出其中的要素 · {count} drawn: only what lies inside"


@callback(
    Output("export-draw", "editToolbar"),
    Input("export-clear", "n_clicks"),
    prevent_initial_call=True,
)
def clear_drawing(clicks):
    _allowed()
    return {"mode": "remove", "action": "clear all", "n_clicks": clicks}


@callback(
    Output("export-message", "children"), Output("export-queued", "data"),
    Input("export-submit", "n_clicks"),
    State("export-layers", "value"), State("export-unit", "value"),
    State("export-draw", "geojson"), State("export-since", "value"),
    State("export-until", "value"), State("export-equals", "data"),
    State("export-format", "value"), State("export-crs", "value"),
    State("export-headers", "value"), State("export-queued", "data"),
    prevent_initial_call=True,
    running=[(Output("export-submit", "disabled"), True, False)],
)
def submit(_clicks, layers, unit, drawn, since, until, conditions, format_value, crs_value,
           headers, queued):
    """One job per chosen layer, queued in the user's session."""
    _allowed()
    scope = current_scope()
    try:
        asked = read_form(role=current_user.role, scope_code=scope.code, layers=layers,
                          unit=unit, drawn=drawn, since=since, until=until,
                          conditions=conditions, format_value=format_value,
                          crs_value=crs_value, headers=headers,
                          shifted=overlays_need_gcj02())
    except BadForm as exc:
        return html.Span(str(exc), className="export-error"), no_update
    filters = filters_to_json(asked.filters)
    with scoped(scope) as conn:
        waiting = export_jobs.active_count(conn)
        if waiting + len(asked.layers) > MAX_ACTIVE:
            return html.Span(
                f"已有 {waiting} 个任务在排队或导出，最多 {MAX_ACTIVE} 个：请稍候再提交 · "
                f"{waiting} of your exports are waiting or running (at most {MAX_ACTIVE}): "
                "submit again when some are done", className="export-error"), no_update
        ids = [export_jobs.add(conn, layer=layer, format=asked.format, crs=asked.crs,
                               filters=filters, headers=asked.headers)
               for layer in asked.layers]
    names = "、".join(SOURCES[layer].title_zh for layer in asked.layers)
    return (html.Span(f"已提交 {len(ids)} 个导出任务（{names}），完成后在下方下载 · "
                      f"{len(ids)} export job{'s' if len(ids) > 1 else ''} queued: download "
                      "below when done", className="export-ok"),
            (queued or 0) + len(ids))


@callback(
    Output("export-job-list", "children"), Output("export-tick", "disabled"),
    Input("export-tick", "n_intervals"), Input("export-queued", "data"),
)
def job_list(_tick, _queued):
    """The user's newest jobs; polling on while any is queued or running."""
    _allowed()
    with scoped(current_scope()) as conn:
        jobs = export_jobs.mine(conn, limit=LISTED)
        names = names_of(conn, units_named(jobs))
    active = any(job.state in export_jobs.ACTIVE for job in jobs)
    return job_table(jobs, names), not active

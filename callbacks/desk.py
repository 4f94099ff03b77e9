"""Callbacks of the dispatch desk (pages/desk.py): its map (the shared component's callbacks),
the queues, the selected case, its actions and reports made on the map.

Callbacks are URLs anyone signed in can call, so each checks the role again (the page's
capability, handle_event; extension its own) and refuses, audited, with nothing in the answer;
every query runs in the user's scope, so a case id from elsewhere reads as no case at all.
Every step goes through onemap/web/case_steps.py, as the JSON API's do: one transaction with
its history and audit rows, acknowledged only once committed.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone

import dash_leaflet as dl
from dash import ALL, ClientsideFunction, Input, Output, State, callback, clientside_callback
from dash import ctx, html, no_update
from dash.exceptions import PreventUpdate

from geodata.queries import assignment, desk, events, nearby
from geodata.scope import scoped
from layers.maps import DESK
from onemap.domain import lifecycle
from onemap.domain.coordinates import wgs84_to_gcj02
from onemap.domain.intake import InvalidReport, parse_report
from onemap.domain.roles import Capability
from onemap.domain.vocab import EVENT_STATES
from onemap.web import case_steps
from onemap.web.auth import current_scope, current_user, refused
from onemap.web.errors import ApiError, Conflict, InvalidRequest, NotFound
from onemap.web.request_guard import InvalidInput
from pages.desk_filters import BadInput, FilterValues, case_id, checked, query_filters, queue_key
from pages.desk_ids import EXTEND_BUTTON
from pages.map_parts import overlays_need_gcj02

from . import desk_view, viewport_map

LIST_LIMIT = 100
SUGGESTIONS = 8
MAX_NOTE = 2000
ACTIONS = (*lifecycle.ACTIONS, "dismiss")
NO_CASE = "您的管辖范围内无此案件 · No such case in your area"

viewport_map.register(DESK)


def _allowed(capability: Capability = Capability.HANDLE_EVENT) -> None:
    """Refuse (and audit) a role without the capability: the answer is empty (204)."""
    if not current_user.is_authenticated or refused(capability):
        raise PreventUpdate


def _input(check, *args):
    """A browser value through its check; 400 naming the field when it fails."""
    try:
        return check(*args)
    except BadInput as exc:
        raise InvalidInput(f"{exc} / 调度台请求内容有误") from None


def _live_changed(live) -> set[str]:
    if live is None:
        return set()
    changed = live.get("changed") if isinstance(live, dict) else None
    if not isinstance(changed, list) or not all(isinstance(t, str) for t in changed):
        raise InvalidInput("invalid live data / 实时数据有误")
    return set(changed)


def _counter(value) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
        raise InvalidInput("invalid refresh / 刷新计数有误")
    return value


def _now() -> datetime:
    return datetime.now(timezone.utc)


# -- the browser's own: queue and case choices, the URL, flying to the case, report mode ----

clientside_callback(
    ClientsideFunction("desk", "chooseQueue"),
    Output("desk-queue", "data"),
    Input({"type": "desk-queue", "queue": ALL}, "n_clicks"), prevent_initial_call=True,
)
clientside_callback(  # the queue's rows, drawn in the browser; a click on one picks the case
    ClientsideFunction("desk", "drawList"),
    Output("desk-list", "className"),
    Input("desk-list-rows", "data"), State("desk-case", "data"),
)
clientside_callback(
    ClientsideFunction("desk", "rememberDesk"),
    Output("desk-url", "data"),
    Input("desk-queue", "data"), Input("desk-case", "data"), Input("desk-unit", "value"),
    Input("desk-category", "value"), Input("desk-level", "value"),
    Input("desk-channel", "value"), Input("desk-period", "value"), Input("desk-start", "value"),
    Input("desk-end", "value"), Input("desk-text", "value"),
)
clientside_callback(
    ClientsideFunction("desk", "customDates"),
    Output("desk-dates", "hidden"), Input("desk-period", "value"),
)
clientside_callback(
    ClientsideFunction("desk", "fly"),
    Output(DESK.id("map"), "viewport", allow_duplicate=True),
    Input("desk-place", "data"), State(DESK.id("map"), "zoom"), prevent_initial_call=True,
)
clientside_callback(
    ClientsideFunction("desk", "toggleReport"),
    Output("desk-report-mode", "data"), Output("desk-map-area", "className"),
    Output("desk-report-toggle", "className"),
    Input("desk-report-toggle", "n_clicks"), State("desk-report-mode", "data"),
    prevent_initial_call=True,
)
clientside_callback(
    ClientsideFunction("desk", "pickPoint"),
    Output("desk-report-point", "data"),
    Input(DESK.id("map"), "clickData"), State("desk-report-mode", "data"),
    prevent_initial_call=True,
)
clientside_callback(
    ClientsideFunction("desk", "cancelReport"),
    Output("desk-report-form", "hidden", allow_duplicate=True),
    Output("desk-report-marker", "children", allow_duplicate=True),
    Input("desk-report-cancel", "n_clicks"), prevent_initial_call=True,
)


# -- the queues -------------------------------------------------------------------------------

FILTER_INPUTS = [Input("desk-unit", "value"), Input("desk-category", "value"),
                 Input("desk-level", "value"), Input("desk-channel", "value"),
                 Input("desk-period", "value"), Input("desk-start", "value"),
                 Input("desk-end", "value"), Input("desk-text", "value")]


@callback(
    Output({"type": "desk-count", "queue": ALL}, "children"),
    Output({"type": "desk-queue", "queue": ALL}, "className"),
    Output("desk-list-rows", "data"), Output("desk-list-more", "children"),
    Input(DESK.id("live"), "data"), *FILTER_INPUTS, Input("desk-queue", "data"),
    Input("desk-refresh", "data"), Input("desk-minute", "n_intervals"),
)
def refresh_queues(live, unit, category, level, channel, period, start, end, text, queue,
                   _refresh, _minute):
    """Counts of every queue and the chosen queue's first cases, under the filters; again
    whenever events change (the map's live poll), a step is taken here, or a minute passes."""
    _allowed()
    changed = _live_changed(live)
    if ctx.triggered_id == DESK.id("live") and "event" not in changed:
        raise PreventUpdate
    values = _input(checked, FilterValues(unit, category, level, channel, period, start, end,
                                          text), current_scope().code)
    queue = _input(queue_key, queue)
    filters = query_filters(values, _now())
    with scoped(current_scope()) as conn:
        counts = desk.queue_counts(conn, filters)
        cases = desk.queue_cases(conn, queue, filters, LIST_LIMIT)
    tiles = [output["id"]["queue"] for output in ctx.outputs_list[1]]
    now = _now()
    return (
        [f"{counts.get(key, 0):,}" for key in (o["id"]["queue"] for o in ctx.outputs_list[0])],
        [f"desk-queue desk-queue-{key}" + (" chosen" if key == queue else "")
         + (" empty" if not counts.get(key) else "") for key in tiles],
        [desk_view.queue_row(c, now) for c in cases],
        desk_view.more_text(counts[queue], len(cases)),
    )


# -- the selected case ------------------------------------------------------------------------

def _enabled(case: dict) -> dict[str, bool]:
    """Which actions apply to the case as it stands."""
    enabled = {name: case["state"] in action.from_states
               for name, action in lifecycle.ACTIONS.items()}
    enabled["dismiss"] = bool(case.get("duplicate_of_id")) and lifecycle.is_open(case["state"])
    return enabled


def _shifted(lat: float, lng: float) -> tuple[float, float]:
    """A WGS84 point where the map draws it (shifted onto a GCJ-02 basemap)."""
    if overlays_need_gcj02():
        lng, lat = (float(v) for v in wgs84_to_gcj02(lng, lat))
    return lat, lng


def _head(case: dict, now: datetime) -> list:
    lat, lng = _shifted(case["lat"], case["lng"])
    wall = f"/wall?lat={lat:.5f}&lng={lng:.5f}&z=17"
    return [*desk_view.case_head(case, now),
            html.A("在大屏查看 On the wall ↗", href=wall, className="desk-wall-link")]


def _highlight(case: dict) -> list:
    lat, lng = _shifted(case["lat"], case["lng"])
    return [dl.CircleMarker(center=[lat, lng], radius=18, weight=3, color="#ffffff",
                            fill=False, interactive=False, pane="desk-highlight",
                            className="desk-ring"),
            dl.CircleMarker(center=[lat, lng], radius=30, weight=2, color="#4fc3f7",
                            fill=False, interactive=False, pane="desk-highlight",
                            className="desk-ring desk-ring-outer")]


def _seen(value) -> dict | None:
    """The case and state the officer is looking at (the page's own store)."""
    if value is None:
        return None
    if (not isinstance(value, dict) or not isinstance(value.get("state"), str)
            or value.get("state") not in EVENT_STATES):
        raise InvalidInput("invalid case view / 案件视图有误")
    return {"id": _input(case_id, value.get("id")), "state": value["state"]}


@callback(
    Output("desk-case-head", "children"), Output("desk-case-body", "children"),
    Output("desk-nearby", "children"), Output("desk-highlight", "children"),
    Output("desk-seen", "data"), Output({"type": "desk-action", "action": ALL}, "disabled"),
    Output("desk-staff", "options"), Output("desk-staff", "value"),
    Output("desk-into", "value"), Output("desk-place", "data"), Output("desk-actions", "hidden"),
    Output("desk-staff", "disabled"), Output("desk-into", "disabled"),
    Output({"type": "desk-gated", "name": ALL}, "disabled"),
    Input("desk-case", "data"), Input("desk-refresh", "data"), Input(DESK.id("live"), "data"),
    Input("desk-minute", "n_intervals"), State("desk-seen", "data"),
)
def show_case(selected, _refresh, live, _minute, seen):
    """The case with its history, what is around it, and the actions that apply to it now;
    again when events change (staff walking about alone does not redraw it: their distances
    follow at the next change or minute). The staff to send and the case to merge into are set
    afresh only when another case is picked or the case moved on, never under an officer's
    hand."""
    _allowed()
    changed = _live_changed(live)
    if ctx.triggered_id == DESK.id("live") and "event" not in changed:
        raise PreventUpdate
    selected = _input(case_id, selected)
    seen = _seen(seen)
    buttons = [output["id"]["action"] for output in ctx.outputs_list[5]]
    gated = len(ctx.outputs_list[13])  # the extension's button, on duty officers' pages
    if selected is None:
        raise PreventUpdate
    with scoped(current_scope()) as conn:
        case = desk.case(conn, selected)
        if case is None:
            return ([html.P(NO_CASE, className="desk-message error")], [], [], [], None,
                    [True] * len(buttons), [], None, None, no_update, True, True, True,
                    [True] * gated)
        history = desk.history(conn, selected)
        stage = lifecycle.STAGE_OF_STATE.get(case["state"])
        limit = events.stage_limit(conn, stage, case["category_code"]) if stage else None
        cameras = nearby.cameras_near(conn, selected)
        staff = nearby.staff_near(conn, selected, limit=6)
        key_groups = nearby.key_group_counts(conn, selected)
        same_view = seen is not None and seen["id"] == selected
        fresh = not (same_view and seen["state"] == case["state"])
        suggested = (assignment.suggest_staff(conn, selected, SUGGESTIONS)
                     if fresh and case["state"] in lifecycle.ACTIONS["dispatch"].from_states
                     else [])
    now = _now()
    enabled = _enabled(case)
    lat, lng = _shifted(case["lat"], case["lng"])
    return (
        _head(case, now),
        desk_view.case_body(case, limit, history),
        desk_view.nearby(cameras, staff, key_groups),
        _highlight(case) if not same_view else no_update,
        {"id": selected, "state": case["state"]},
        [not enabled.get(name, False) for name in buttons],
        [desk_view.staff_option(s) for s in suggested] if fresh else no_update,
        (suggested[0]["id"] if suggested else None) if fresh else no_update,
        (case.get("duplicate_of_code") or "") if fresh else no_update,
        {"id": selected, "lat": lat, "lng": lng} if not same_view else no_update,
        not case["open"],
        not enabled["dispatch"], not enabled["merge"],
        [case["state"] not in lifecycle.EXTENDABLE_STATES] * gated,
    )


# -- steps ------------------------------------------------------------------------------------

def _note(value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_NOTE:
        raise InvalidInput(f"备注 note: text of at most {MAX_NOTE} characters / 最多 {MAX_NOTE}"
                           " 个字符")
    return value.strip() or None


def _error_text(error: ApiError) -> str:
    fields = error.details.get("fields") if isinstance(error, InvalidRequest) else None
    if fields:
        return f"{error.zh} · " + "; ".join(f"{k}: {v}" for k, v in fields.items())
    return error.message


def _refused_message(error: ApiError, seen: dict) -> str:
    """What the officer reads when a step was refused: a case somebody else moved meanwhile is
    named as such, with where it stands now."""
    if isinstance(error, Conflict):
        with scoped(current_scope()) as conn:
            now_state = desk.state_of(conn, seen["id"])
        if now_state is not None and now_state != seen["state"]:
            zh, en = EVENT_STATES.get(now_state, (now_state, now_state))
            return (f"此案件已被他人处理，当前状态：{zh} · The case was moved meanwhile by "
                    f"someone else: now {en}")
        return f"当前状态下不能执行此操作 · {error.en}"
    if isinstance(error, NotFound):
        return NO_CASE
    return _error_text(error)


def _into(value) -> int | None:
    """The case a report is merged into, from its code (or id) as the officer typed it."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(fields={"into": "合并到的案件编号 the code of the case to join"})
    code = value.strip().upper()
    if len(code) > 32:
        raise InvalidRequest(fields={"into": "a case code / 案件编号"})
    with scoped(current_scope()) as conn:
        found = desk.case_id_of(conn, code)
    if found is None:
        raise InvalidRequest(fields={"into": "no such open case in your area / 范围内无此案件"})
    return found


@callback(
    Output("desk-message", "children"), Output("desk-message", "className"),
    Output("desk-refresh", "data"), Output("desk-note", "value"),
    Input({"type": "desk-action", "action": ALL}, "n_clicks"),
    State("desk-seen", "data"), State("desk-note", "value"), State("desk-staff", "value"),
    State("desk-into", "value"), State("desk-refresh", "data"),
    prevent_initial_call=True,
)
def act(_clicks, seen, note, staff, into, refresh):
    """One step on the case the officer sees, through the same function as the JSON API; the
    queues and the case refresh, the note is cleared once the step is recorded."""
    _allowed()
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered or not ctx.triggered[0]["value"]:
        raise PreventUpdate
    action = trigger.get("action")
    if action not in ACTIONS:
        raise InvalidInput(f"action: one of {', '.join(ACTIONS)} / 操作有误")
    seen, note, refresh = _seen(seen), _note(note), _counter(refresh)
    if seen is None:
        raise PreventUpdate
    if staff is not None and (isinstance(staff, bool) or not isinstance(staff, int)):
        raise InvalidInput("staff: a staff id / 派遣人员有误")
    try:
        if action == "dismiss":
            case_steps.dismiss_duplicate(seen["id"], note)
            done = "已排除重复 · Not a duplicate"
        else:
            moved = case_steps.move(
                seen["id"], action, note, staff if action == "dispatch" else None,
                _into(into) if action == "merge" else None)
            zh, en = EVENT_STATES.get(moved["state"], (moved["state"], moved["state"]))
            done = f"{lifecycle.ACTIONS[action].zh}：{moved['code']} 现为{zh} · now {en}"
    except ApiError as error:
        return _refused_message(error, seen), "desk-message error", refresh + 1, no_update
    return done, "desk-message ok", refresh + 1, ""


@callback(
    Output("desk-message", "children", allow_duplicate=True),
    Output("desk-message", "className", allow_duplicate=True),
    Output("desk-refresh", "data", allow_duplicate=True),
    Output("desk-ext-note", "value"),
    Input(EXTEND_BUTTON, "n_clicks"),
    State("desk-seen", "data"), State("desk-ext-amount", "value"),
    State("desk-ext-unit", "value"), State("desk-ext-note", "value"),
    State("desk-refresh", "data"),
    prevent_initial_call=True,
)
def extend(clicks, seen, amount, unit, reason, refresh):
    """延期: more time to handle the case, with the reason; duty officers only."""
    _allowed(Capability.APPROVE_EXTENSION)
    if not clicks:
        raise PreventUpdate
    seen, refresh = _seen(seen), _counter(refresh)
    if seen is None:
        raise PreventUpdate
    try:
        extra, note = case_steps.extension_asked(amount, unit, reason)
        moved = case_steps.extend(seen["id"], extra, note)
    except ApiError as error:
        return _refused_message(error, seen), "desk-message error", refresh + 1, no_update
    due = desk_view.local_time(moved["due_at"])
    return (f"已延期至 {due} · Extended to {due}", "desk-message ok", refresh + 1, "")


# -- reporting on the map ---------------------------------------------------------------------

def _point(value) -> tuple[float, float]:
    """(lat, lng) of a click on the map, in the map's datum."""
    ok = isinstance(value, dict) and all(
        viewport_map.number(value.get(k)) for k in ("lat", "lng"))
    if not ok or not (-90 <= value["lat"] <= 90 and -180 <= value["lng"] <= 180):
        raise InvalidInput("invalid map point / 地图位置有误")
    return float(value["lat"]), float(value["lng"])


@callback(
    Output("desk-report-form", "hidden"), Output("desk-report-where", "children"),
    Output("desk-report-marker", "children"), Output("desk-report-ref", "data"),
    Output("desk-report-error", "children"),
    Input("desk-report-point", "data"), prevent_initial_call=True,
)
def open_report(point):
    """A click in report mode: the form, at that point, with a reference of its own so that a
    second click on "report" files one case, not two."""
    _allowed(Capability.REPORT_EVENT)
    if point is None:
        raise PreventUpdate
    lat, lng = _point(point)
    marker = dl.CircleMarker(center=[lat, lng], radius=10, weight=3, color="#ffd600",
                             fillColor="#ffd600", fillOpacity=0.4, interactive=False,
                             pane="desk-highlight")
    return (False, f"位置 {lat:.5f}, {lng:.5f}", [marker],
            f"DESK-{secrets.token_hex(8)}", "")


@callback(
    Output("desk-report-error", "children", allow_duplicate=True),
    Output("desk-report-form", "hidden", allow_duplicate=True),
    Output("desk-report-marker", "children", allow_duplicate=True),
    Output("desk-report-mode", "data", allow_duplicate=True),
    Output("desk-map-area", "className", allow_duplicate=True),
    Output("desk-report-toggle", "className", allow_duplicate=True),
    Output("desk-case", "data", allow_duplicate=True),
    Output("desk-queue", "data", allow_duplicate=True),
    Output("desk-message", "children", allow_duplicate=True),
    Output("desk-message", "className", allow_duplicate=True),
    Output("desk-report-title", "value"), Output("desk-report-description", "value"),
    Input("desk-report-submit", "n_clicks"),
    State("desk-report-point", "data"), State("desk-report-title", "value"),
    State("desk-report-category", "value"), State("desk-report-level", "value"),
    State("desk-report-channel", "value"), State("desk-report-description", "value"),
    State("desk-report-ref", "data"),
    prevent_initial_call=True,
)
def submit_report(clicks, point, title, category, level, channel, description, ref):
    """The report, registered as POST /api/events registers one (case_steps.report: the case,
    its first history row and the audit row together); the new case is then selected."""
    _allowed(Capability.REPORT_EVENT)
    if not clicks or point is None:
        raise PreventUpdate
    lat, lng = _point(point)
    payload = {"title": title, "category_code": category, "level": level, "channel": channel,
               "description": description, "lon": lng, "lat": lat, "external_ref": ref,
               "crs": "gcj02" if overlays_need_gcj02() else "wgs84"}
    try:
        report = parse_report(payload, default_channel="hotline_12345")
        made, _created = case_steps.report(report)
    except InvalidReport as exc:
        return ("上报内容有误 · " + "; ".join(f"{k}: {v}" for k, v in exc.errors.items()),
                *(no_update,) * 11)
    except ApiError as error:
        return _error_text(error), *(no_update,) * 11
    queue = "duplicates" if made.get("duplicate_of_id") else "new"
    return ("", True, [], False, "desk-map-area", "desk-report-toggle", made["id"], queue,
            f"已上报 {made['code']} · Reported", "desk-message ok", "", "")

"""督办 on the cockpit (pages/cockpit.py, its "督办 Supervision" tab): the board of cases near
and past their limit by tier and department, each count opening its cases in the cockpit's
list (callbacks/cockpit.py draws it with the rows from here), and the notice itself, sent
through the same case step as the API's (onemap/web/case_steps.py: history and audit rows).
"""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from geodata.queries import supervision
from geodata.scope import scoped, scoped_read
from onemap.domain.escalation import TIER_NAMES
from onemap.domain.roles import Capability
from onemap.domain.vocab import EVENT_STATES
from onemap.web import case_steps
from onemap.web.auth import audit_request, current_scope, current_user
from onemap.web.errors import ApiError
from pages.cockpit_ids import ZONE

from .cockpit_common import allowed, view_of, xlsx

BY = {"tier": ("按处置层级", "by tier"), "department": ("按处置部门", "by department")}
MAX_NOTE = 2000


def _cell(by: str, key: str | None, kind: str, count: int) -> html.Td:
    if not count:
        return html.Td("0", className="cockpit-sv-zero")
    return html.Td(html.Button(f"{count:,}", n_clicks=0, className=f"cockpit-sv-count {kind}",
                               id={"type": "cockpit-sv", "cell": f"{by}|{key or ''}|{kind}"}))


def _name(by: str, row: dict) -> str:
    if by == "tier":
        return TIER_NAMES.get(row["key"], (row["key"],))[0] + "级"
    return row["name"] or ("未派遣" if row["key"] is None else row["key"])


def board_view(board: dict[str, list[dict]]) -> list:
    """The two tables of the tab: near / past the limit, by tier and by department."""
    tables = [html.P("在办案件（当前，不限统计期）· Cases in hand now, whatever the period",
                     className="cockpit-sv-note-line")]
    for by, (zh, en) in BY.items():
        rows = board[by]
        tables.append(html.Table(className="cockpit-table cockpit-sv-table", children=[
            html.Thead(html.Tr([html.Th([zh, html.Span(f" {en}", className="en")]),
                                html.Th("临期 near"), html.Th("超期 past")])),
            html.Tbody([html.Tr([html.Td(_name(by, row)),
                                 _cell(by, row["key"], "warning", row["warning"]),
                                 _cell(by, row["key"], "overdue", row["overdue"])])
                        for row in rows] or [html.Tr(html.Td("无 · none", colSpan=3))]),
        ]))
    return tables


def list_state(cell: str) -> dict | None:
    """The list a board cell opens, from its id (checked: it comes from the browser)."""
    parts = cell.split("|") if isinstance(cell, str) else []
    if len(parts) != 3 or parts[0] not in BY or parts[2] not in supervision.KINDS \
            or len(parts[1]) > 32:
        return None
    return {"by": parts[0], "key": parts[1] or None, "kind": parts[2]}


def cases(conn, unit: str, chosen: dict, now: datetime, offset: int, limit: int):
    by, key = chosen["by"], chosen["key"]
    return supervision.cases(conn, unit, chosen["kind"], now, offset=offset, limit=limit,
                             tier=key if by == "tier" else None,
                             department=key if by == "department" else None)


def title(chosen: dict) -> str:
    zh = supervision.KINDS[chosen["kind"]][0]
    if chosen["by"] == "tier":
        return f"督办 · {TIER_NAMES.get(chosen['key'], ('',))[0]}级{zh}"
    return f"督办 · {chosen['key'] or '未派遣'} {zh}"


def _when(value) -> str:
    return value.astimezone(ZONE).strftime("%m-%d %H:%M") if value else ""


def table(rows: list[dict], now: datetime) -> html.Table:
    may = current_user.can(Capability.SUPERVISE)
    head = ["案件编号 Case", "标题 Title", "层级 Tier", "处置部门 Department", "时限 Due",
            "已督办 Notices", ""]
    link = "/desk?case={}" if current_user.can(Capability.HANDLE_EVENT) else "/wall?event={}"
    return html.Table(className="cockpit-table", children=[
        html.Thead(html.Tr([html.Th(h) for h in head])),
        html.Tbody([html.Tr([
            html.Td(dcc.Link(r["code"], href=link.format(r["id"]))), html.Td(r["title"]),
            html.Td(TIER_NAMES.get(r["tier"], (r["tier"],))[0]),
            html.Td(r["department"] or "—"),
            html.Td(_when(r["due_at"]), className="overdue" if r["kind"] == "overdue" else ""),
            html.Td(str(r["notices"])),
            html.Td(html.Button("督办", n_clicks=0, className="cockpit-button",
                                id={"type": "cockpit-supervise", "id": r["id"]},
                                **{"data-code": r["code"]}) if may else ""),
        ]) for r in rows]),
    ])


@callback(
    Output("cockpit-supervision", "children"),
    Input("cockpit-view", "data"), Input("cockpit-tick", "n_intervals"),
    Input("cockpit-live", "data"), Input("cockpit-side-tab", "value"),
)
def board(query, _tick, _live, tab):
    """The board, read afresh each minute while its tab is open."""
    allowed()
    if tab != "supervision":
        raise PreventUpdate
    view = view_of(query)
    with scoped_read(current_scope()) as conn:
        found = supervision.board(conn, view.unit, datetime.now(timezone.utc))
    return board_view(found)


@callback(
    Output("cockpit-sv-target", "data"),
    Output("cockpit-sv-form", "hidden"),
    Output("cockpit-sv-case", "children"),
    Output("cockpit-sv-note", "value"),
    Input({"type": "cockpit-supervise", "id": ALL}, "n_clicks"),
    Input("cockpit-drill-state", "data"),
    prevent_initial_call=True,
)
def choose_case(_clicks, _state):
    """A row's 督办 opens the notice form for that case (another list closes it)."""
    allowed()
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict):
        return None, True, "", ""
    if not ctx.triggered[0]["value"]:
        raise PreventUpdate  # the list drawn again, not clicked
    case = trigger.get("id")
    if not isinstance(case, int) or case <= 0:
        raise PreventUpdate
    return case, False, f"督办案件 #{case}：", ""


@callback(
    Output("cockpit-sv-message", "children"),
    Output("cockpit-sv-form", "hidden", allow_duplicate=True),
    Output("cockpit-drill-state", "data", allow_duplicate=True),
    Input("cockpit-sv-send", "n_clicks"),
    State("cockpit-sv-target", "data"), State("cockpit-sv-note", "value"),
    State("cockpit-drill-state", "data"),
    prevent_initial_call=True,
)
def send(clicks, case, note, state):
    """The notice, through the case step the API uses; the list drawn again to show it."""
    allowed(Capability.SUPERVISE)
    if not clicks or not isinstance(case, int):
        raise PreventUpdate
    note = note.strip() if isinstance(note, str) else ""
    if not note or len(note) > MAX_NOTE:
        return "请填写督办意见 · Say what is asked (up to 2,000 characters)", no_update, no_update
    try:
        notice = case_steps.supervise(case, note)
    except ApiError as error:
        return f"未能督办 · {error.zh} ({error.en})", no_update, no_update
    again = {**state, "rev": int(state.get("rev", 0)) + 1} if isinstance(state, dict) else no_update
    return f"已督办 {notice['code']} · notice sent", True, again


HEADERS = {"code": "案件编号", "title": "标题", "tier": "处置层级", "department": "处置部门",
           "grid_code": "网格编码", "state": "状态", "due_at": "时限", "notices": "已督办次数"}


def export(chosen: dict, unit: str, limit: int) -> dict:
    """The whole list as XLSX with Chinese headers and times in Asia/Shanghai; one audit row."""
    now = datetime.now(timezone.utc)
    with scoped(current_scope()) as conn:
        _total, rows = cases(conn, unit, chosen, now, offset=0, limit=limit)
        audit_request(conn, "export", object_kind="supervision_cases", object_id=chosen["cell"],
                      details={"unit": unit, "rows": len(rows), "format": "xlsx"})
    table = pd.DataFrame(rows, columns=list(HEADERS))
    table["tier"] = table["tier"].map(lambda t: TIER_NAMES.get(t, (t,))[0])
    table["state"] = table["state"].map(lambda s: EVENT_STATES.get(s, (s,))[0])
    table["due_at"] = pd.to_datetime(table["due_at"], utc=True).dt.tz_convert(ZONE) \
        .dt.strftime("%Y-%m-%d %H:%M:%S%z")
    return xlsx(table.rename(columns=HEADERS), "督办", f"onemap-supervision-{unit}.xlsx")

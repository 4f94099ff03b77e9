"""Callbacks of the audit-log page; each checks the user's right again (callbacks are URLs)."""

from __future__ import annotations

import csv
import io
from datetime import date

from dash import Input, Output, State, callback, html, no_update
from dash.exceptions import PreventUpdate
from flask import request

from geodata import users
from geodata.queries import audit
from geodata.scope import app_engine
from onemap.access.roles import Capability
from onemap.web.auth import current_user

HEADERS = {"at": "时间 Time", "username": "用户 User", "action": "操作 Action",
           "object_kind": "对象 Object", "object_id": "编号 Id", "purpose": "原因 Purpose",
           "ip": "地址 Address", "details": "详情 Details"}
EXPORT_LIMIT = 100_000


def _allowed() -> None:
    if not current_user.is_authenticated or not current_user.can(Capability.VIEW_AUDIT):
        raise PreventUpdate


def _filters(username, action, since, until) -> dict:
    return {"username": (username or "").strip() or None, "action": action or None,
            "since": date.fromisoformat(since) if since else None,
            "until": date.fromisoformat(until) if until else None}


@callback(Output("audit-table", "children"), Output("audit-count", "children"),
          Input("audit-username", "value"), Input("audit-action", "value"),
          Input("audit-since", "value"), Input("audit-until", "value"))
def show(username, action, since, until):
    """The newest 500 rows that match; every value rendered as text (Dash escapes it)."""
    _allowed()
    with app_engine().connect() as conn:
        rows = audit.search(conn, **_filters(username, action, since, until))
    head = html.Thead(html.Tr([html.Th(label) for label in HEADERS.values()]))
    body = html.Tbody([
        html.Tr([html.Td(_cell(row[key])) for key in HEADERS]) for row in rows
    ])
    count = f"显示最新 {len(rows)} 条 · Newest {len(rows)} rows"
    return html.Table([head, body]), count


def _cell(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


@callback(Output("audit-download", "data"), Input("audit-export", "n_clicks"),
          State("audit-username", "value"), State("audit-action", "value"),
          State("audit-since", "value"), State("audit-until", "value"),
          prevent_initial_call=True)
def export(n_clicks, username, action, since, until):
    """CSV for Excel (UTF-8 with BOM) of every matching row; the export is audited."""
    _allowed()
    if not n_clicks:
        return no_update
    filters = _filters(username, action, since, until)
    with app_engine().begin() as conn:
        rows = audit.search(conn, **filters, limit=EXPORT_LIMIT)
        users.audit(conn, action="export", user=current_user.user, object_kind="audit_log",
                    ip=request.remote_addr, user_agent=request.headers.get("User-Agent"),
                    details={"filters": {k: str(v) for k, v in filters.items() if v},
                             "rows": len(rows)})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS.values())
    for row in rows:
        writer.writerow([_cell(row[key]) for key in HEADERS])
    return {"content": "\ufeff" + buffer.getvalue(), "filename": "onemap-audit.csv",
            "type": "text/csv"}

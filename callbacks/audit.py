"""Callbacks of the audit-log page; each checks the page's right again (callbacks are URLs)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import dash
from dash import Input, Output, State, callback, html, no_update
from dash.exceptions import PreventUpdate

from geodata.queries import audit
from geodata.scope import scoped
from onemap.domain.masking import mask_audit_details
from onemap.domain.roles import Capability
from onemap.web.auth import audit_request, current_scope, current_user, refused
from onemap.web.request_guard import InvalidInput

HEADERS = {"at": "时间 Time", "username": "用户 User", "action": "操作 Action",
           "object_kind": "对象 Object", "object_id": "编号 Id", "purpose": "原因 Purpose",
           "ip": "地址 Address", "details": "详情 Details"}
EXPORT_LIMIT = 100_000


def _allowed() -> None:
    """Callbacks are URLs anyone signed in can call: refuse (and audit) every role that may not
    open the page itself (the capability its registration declares)."""
    capability = dash.page_registry["pages.audit"]["capability"]
    if not current_user.is_authenticated or refused(capability):
        raise PreventUpdate


class BadFilter(ValueError):
    """A filter the search cannot use; the message (bilingual) never repeats the value."""


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)  # `until` + 1 day must exist
MAX_FILTER_TEXT = 64  # usernames and action names are no longer than this


def _day(value, label: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        if not isinstance(value, str) or not _DAY.fullmatch(value):
            raise ValueError
        day = date.fromisoformat(value)
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValueError
    except ValueError:
        raise BadFilter(f"{label}: a date YYYY-MM-DD between {FIRST_DAY} and {LAST_DAY}"
                        f" is expected / 须为 {FIRST_DAY} 至 {LAST_DAY} 之间的日期") from None
    return day


def _word(value, label: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value.strip()) > MAX_FILTER_TEXT:
        raise BadFilter(f"{label}: text of at most {MAX_FILTER_TEXT} characters"
                        f" / 须为不超过 {MAX_FILTER_TEXT} 个字符的文本")
    return value.strip() or None


def _filters(username, action, since, until) -> dict:
    """The search's filters from the page's inputs; BadFilter names the one that is wrong."""
    return {"username": _word(username, "用户名 Username"), "action": _word(action, "操作 Action"),
            "since": _day(since, "从 From"), "until": _day(until, "到 To")}


@callback(Output("audit-table", "children"), Output("audit-count", "children"),
          Input("audit-username", "value"), Input("audit-action", "value"),
          Input("audit-since", "value"), Input("audit-until", "value"))
def show(username, action, since, until):
    """The newest 500 rows that match; every value rendered as text (Dash escapes it)."""
    _allowed()
    try:
        filters = _filters(username, action, since, until)
    except BadFilter as exc:
        return html.P(str(exc), className="audit-error"), "筛选条件有误 · Check the filters"
    with scoped(current_scope()) as conn:
        rows = audit.search(conn, **filters)
    head = html.Thead(html.Tr([html.Th(label) for label in HEADERS.values()]))
    body = html.Tbody([
        html.Tr([html.Td(_cell(value)) for value in _shown(row)]) for row in rows
    ])
    count = f"显示最新 {len(rows)} 条 · Newest {len(rows)} rows"
    return html.Table([head, body]), count


def _shown(row) -> list:
    """A row's cells as this viewer may see them: people searched for stay masked unless the
    viewer may unmask (administrators may not look people up)."""
    details = row["details"]
    if not current_user.can(Capability.UNMASK_PERSON):
        details = mask_audit_details(details)
    return [details if key == "details" else row[key] for key in HEADERS]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
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
    try:
        filters = _filters(username, action, since, until)
    except BadFilter as exc:  # the table says why; nothing to download
        raise InvalidInput(str(exc)) from None
    with scoped(current_scope()) as conn:
        rows = audit.search(conn, **filters, limit=EXPORT_LIMIT)
        audit_request(conn, "export", object_kind="audit_log",
                      details={"filters": {k: str(v) for k, v in filters.items() if v},
                               "rows": len(rows)})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS.values())
    for row in rows:
        writer.writerow([_cell(value) for value in _shown(row)])
    return {"content": "\ufeff" + buffer.getvalue(), "filename": "onemap-audit.csv",
            "type": "text/csv"}

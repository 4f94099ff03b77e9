"""审计日志 Audit log: administrators search who did what, when, from where and why."""

from __future__ import annotations

import dash
from dash import dcc, html

from geodata.queries import audit
from geodata.scope import scoped
from onemap.domain.roles import Capability
from onemap.web.auth import current_scope
from pages.shell import page_header

# order 2: after the overview (0) and the wall (1)
dash.register_page(__name__, path="/admin/audit", title="OneMap 一张图 · 审计日志",
                   name="审计日志", name_en="Audit", order=2, capability=Capability.VIEW_AUDIT)


def layout(**_query) -> html.Div:
    """Filters, the newest matching rows, and a CSV export (itself audited)."""
    with scoped(current_scope()) as conn:
        kinds = audit.actions(conn)
    return html.Div(className="page", children=[
        page_header("审计日志 · Audit log"),
        html.Main(className="audit", children=[
            html.Div(className="audit-filters", children=[
                dcc.Input(id="audit-username", placeholder="用户名 Username", debounce=True,
                          className="audit-input"),
                dcc.Dropdown(id="audit-action", options=kinds, placeholder="操作 Action",
                             className="audit-dropdown"),
                html.Label(["从 From", dcc.Input(id="audit-since", type="date",
                                                className="audit-input")]),
                html.Label(["到 To", dcc.Input(id="audit-until", type="date",
                                              className="audit-input")]),
                html.Button("导出 CSV · Export", id="audit-export", className="audit-button"),
                dcc.Download(id="audit-download"),
            ]),
            html.Div(id="audit-count", className="audit-count"),
            html.Div(id="audit-table", className="audit-table"),
        ]),
    ])

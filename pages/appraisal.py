"""绩效考评 The appraisal: streets, communities, grids, departments and grid workers ranked by
the composite score of a month (onemap/domain/appraisal.py), frozen months first (what was
published stays as it was), the running month live. Month and level live in the URL.
Callbacks: callbacks/appraisal.py.
"""

from __future__ import annotations

import dash
from dash import dcc, html

from geodata import appraisal as stored
from geodata.scope import scoped
from onemap.domain import appraisal
from onemap.domain.roles import Capability
from onemap.web.auth import current_scope, current_user
from pages.shell import page_header

dash.register_page(__name__, path="/appraisal", title="OneMap 一张图 · 绩效考评", name="绩效考评",
                   name_en="Appraisal", order=4, capability=Capability.VIEW_COCKPIT)

LIVE = "live"


def month_options(frozen: list) -> list[dict]:
    return [*({"label": f"{month.year}年{month.month}月 · 已冻结 frozen (v{version})",
               "value": f"{month:%Y-%m}"} for month, version in frozen),
            {"label": "本月 · 实时 this month, live (未冻结 not frozen)", "value": LIVE}]


def layout(month: str | None = None, level: str | None = None, **_query) -> html.Div:
    """Frozen months newest first, the latest by default; the URL's month and level if valid."""
    with scoped(current_scope()) as conn:
        frozen = stored.frozen_months(conn)
    options = month_options(frozen)
    values = {o["value"] for o in options}
    month = month if month in values else options[0]["value"]
    level = level if level in appraisal.LEVELS else "street"
    return html.Div(className="page appraisal", children=[
        page_header("绩效考评 · Appraisal"),
        html.Main(className="appraisal-main", children=[
            html.Div(className="appraisal-controls", children=[
                dcc.Dropdown(id="appraisal-month", options=options, value=month,
                             clearable=False, className="appraisal-month"),
                dcc.RadioItems(id="appraisal-level", value=level, inline=True,
                               className="appraisal-levels",
                               options=[{"label": zh, "value": key}
                                        for key, (zh, _en) in appraisal.LEVELS.items()]),
                html.Button("导出 XLSX Export", id="appraisal-export", n_clicks=0,
                            className="cockpit-button",
                            hidden=not current_user.can(Capability.EXPORT)),
                dcc.Download(id="appraisal-download"),
                dcc.Store(id="appraisal-url"),
            ]),
            html.Div(id="appraisal-scheme", className="appraisal-scheme"),
            html.Div(id="appraisal-table", className="appraisal-table"),
        ]),
    ])

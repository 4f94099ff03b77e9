"""Callbacks of the appraisal page (pages/appraisal.py): the ranking of a month at a level —
a frozen month exactly as it was frozen, or this month worked out live by the newest scheme —
and its XLSX export. Each checks the page's right, reads in the user's scope, and checks the
month and level it is sent."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pandas as pd
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback
from dash import html
from dash.exceptions import PreventUpdate

from geodata import appraisal as stored
from geodata.scope import scoped
from onemap.domain import appraisal, kpi
from onemap.domain.roles import Capability
from onemap.web.auth import audit_request, current_scope
from pages.cockpit_ids import ZONE

from .cockpit_common import allowed, xlsx

LIVE = "live"
SHOWN = ("received", "due", "closure_rate", "on_time_closure_rate", "rework_rate",
         "average_handling_hours")

clientside_callback(
    ClientsideFunction("appraisal", "remember"),
    Output("appraisal-url", "data"),
    Input("appraisal-month", "value"), Input("appraisal-level", "value"),
)


def _month(value) -> date | None:
    if value == LIVE:
        return None
    try:
        return datetime.strptime(value, "%Y-%m").date()
    except (TypeError, ValueError):
        raise PreventUpdate from None


def rows_of(month_value, level) -> tuple[list[dict], appraisal.Scheme, bool]:
    """(rows, scheme, frozen) of the asked month and level, in the user's scope."""
    if level not in appraisal.LEVELS:
        raise PreventUpdate
    month = _month(month_value)
    scope = current_scope()
    with scoped(scope) as conn:
        schemes = {s.version: s for s in stored.schemes(conn)}
        if month is None:
            scheme = max(schemes.values(), key=lambda s: s.version)
            today = datetime.now(ZONE).date()
            rows = stored.month_rows(conn, today, level, scope.code,
                                     datetime.now(timezone.utc), scheme)
            return rows, scheme, False
        rows = stored.snapshot(conn, month, level)
    version = rows[0]["scheme_version"] if rows else max(schemes)
    return rows, schemes[version], True


def _pct(value) -> str:
    return "—" if value is None else f"{value:.1f}"


def _by_weight(scheme: appraisal.Scheme) -> list[tuple[str, float]]:
    return sorted(scheme.weights.items(), key=lambda item: (-item[1], item[0]))


def _scheme_line(scheme: appraisal.Scheme, frozen: bool) -> list:
    parts = " + ".join(f"{weight * 100:g}% × {appraisal.COMPONENT_NAMES[key]}"
                       for key, weight in _by_weight(scheme))
    state = ("已冻结：之后的数据变化不会改变此排名 · frozen: later changes never alter it"
             if frozen else "实时计算，未冻结 · live, not frozen")
    return [html.Span(f"考评方案 v{scheme.version}", className="appraisal-version"),
            html.Span(f"综合得分 = {parts}"), html.Span(state, className="appraisal-state")]


@callback(
    Output("appraisal-table", "children"),
    Output("appraisal-scheme", "children"),
    Input("appraisal-month", "value"), Input("appraisal-level", "value"),
)
def show(month_value, level):
    """The ranking, best first; units without a case due are listed last, unranked."""
    allowed()
    rows, scheme, frozen = rows_of(month_value, level)
    components = [key for key, _weight in _by_weight(scheme)]
    shown = [k for k in SHOWN if k not in components]  # the score's parts are shown once
    head = ["排名 Rank", "名称 Name", "综合得分 Score",
            *(appraisal.COMPONENT_NAMES[c] for c in components),
            *(kpi.KPIS[k].zh for k in shown), "被督办 Supervised"]
    body = []
    for row in rows:
        values, counts = row["values"], row["counts"]
        parts = [appraisal.component(c, values, counts.get("supervised", 0), counts["due"])
                 for c in components]
        body.append(html.Tr([
            html.Td(row["rank"] or "—", className="appraisal-rank"),
            html.Td(row["name"] or row["key"]),
            html.Td(_pct(row["score"]), className="appraisal-score"),
            *(html.Td(_pct(p)) for p in parts),
            *(html.Td(_pct(values[k]) if kpi.KPIS[k].unit != "件"
                      else f"{int(values[k]):,}") for k in shown),
            html.Td(str(counts.get("supervised", 0))),
        ]))
    if not body:
        body = [html.Tr(html.Td("本月尚无案件 · no cases this month", colSpan=len(head)))]
    return (html.Table(className="cockpit-table appraisal-ranking", children=[
        html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)]),
        _scheme_line(scheme, frozen))


@callback(
    Output("appraisal-download", "data"),
    Input("appraisal-export", "n_clicks"),
    State("appraisal-month", "value"), State("appraisal-level", "value"),
    prevent_initial_call=True,
)
def export(clicks, month_value, level):
    """The ranking as XLSX with Chinese headers; one audit row."""
    allowed(Capability.EXPORT)
    if not clicks:
        raise PreventUpdate
    rows, scheme, frozen = rows_of(month_value, level)
    table = pd.DataFrame([{
        "排名": row["rank"], "编码": row["key"], "名称": row["name"],
        "综合得分": row["score"], "考评方案": f"v{scheme.version}",
        **{kpi.KPIS[k].zh: row["values"][k] for k in SHOWN},
        "被督办": row["counts"].get("supervised", 0)} for row in rows])
    with scoped(current_scope()) as conn:
        audit_request(conn, "export", object_kind="appraisal", object_id=str(month_value),
                      details={"level": level, "rows": len(rows), "format": "xlsx",
                               "scheme": scheme.version, "frozen": frozen})
    return xlsx(table, appraisal.LEVELS[level][0], f"onemap-appraisal-{month_value}-{level}.xlsx")

"""The cockpit's population and infrastructure tabs (pages/cockpit.py): an age pyramid and the
key groups by unit one level down; rooms by occupancy, cameras online and sensor alarms by
kind. Counts only: no name, no record. Each refresh reads them in the user's scope."""

from __future__ import annotations

from datetime import datetime, timezone

import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html, no_update
from dash.exceptions import PreventUpdate

from geodata.queries import cockpit_panels as panels
from geodata.queries import cockpit_units
from geodata.scope import scoped_read
from onemap.domain.vocab import DEVICE_STATUSES, PERSON_TAGS, SENSOR_KINDS
from onemap.web.auth import current_scope

from .cockpit_charts import CLOSED, MUTED, RECEIVED, _layout
from .cockpit_common import allowed, screen_scale, view_of

OCCUPANCY = {"self_occupied": "自住", "rented": "出租", "vacant": "空置", "commercial": "商用"}
GRAPH = {"displayModeBar": False, "responsive": True}


def pyramid(rows: list[tuple[str, int, int]], now: datetime, scale: float) -> go.Figure:
    """Residents by five-year age band, men to the left and women to the right."""
    bands: dict[tuple[str, int], int] = {}
    for gender, born, people in rows:
        key = (gender, panels.age_band(born, now))
        bands[key] = bands.get(key, 0) + people
    lows = list(range(0, 90, 5))
    names = [f"{low}–{low + 4}" if low < 85 else "85+" for low in lows]
    figure = go.Figure([
        go.Bar(y=names, x=[-bands.get(("M", low), 0) for low in lows], orientation="h",
               name="男 men", marker_color=RECEIVED,
               customdata=[bands.get(("M", low), 0) for low in lows],
               hovertemplate="%{y} 岁 男 %{customdata:,}<extra></extra>"),
        go.Bar(y=names, x=[bands.get(("F", low), 0) for low in lows], orientation="h",
               name="女 women", marker_color="#f48fb1",
               hovertemplate="%{y} 岁 女 %{x:,}<extra></extra>"),
    ])
    figure.update_layout(**_layout(scale, barmode="relative", bargap=0.08,
                                   legend=dict(orientation="h", y=1.08, x=1, xanchor="right",
                                               font=dict(color=MUTED)),
                                   margin=dict(l=round(52 * scale), r=8, t=round(26 * scale),
                                               b=round(20 * scale)),
                                   title=dict(text="年龄结构 age (by birth year)",
                                              font=dict(size=round(13 * scale), color=MUTED),
                                              x=0, y=0.98)))
    figure.update_xaxes(tickformat="~s")
    return figure


def key_groups(children: dict[str, dict], names: dict[str, str], scale: float) -> go.Figure:
    """Key groups (the non-sensitive ones: the statistics keep no other) by unit one level
    down, the units with the most first."""
    shown = sorted(children.values(), key=lambda c: -sum((c["key_groups"] or {}).values()))[:12]
    shown.reverse()
    figure = go.Figure([
        go.Bar(y=[names.get(c["code"], c["code"]) for c in shown],
               x=[(c["key_groups"] or {}).get(tag, 0) for c in shown], orientation="h",
               name=zh)
        for tag, (zh, _en, sensitive) in PERSON_TAGS.items() if not sensitive])
    figure.update_layout(**_layout(scale, barmode="stack",
                                   margin=dict(l=8, r=8, t=round(26 * scale), b=round(20 * scale)),
                                   legend=dict(orientation="h", y=-0.12, x=0,
                                               font=dict(color=MUTED, size=round(11 * scale))),
                                   title=dict(text="重点人群 key groups",
                                              font=dict(size=round(13 * scale), color=MUTED),
                                              x=0, y=0.98)))
    figure.update_yaxes(automargin=True)
    return figure


def rooms(own: dict | None, scale: float) -> go.Figure:
    """Rooms by occupancy."""
    values = [(own or {}).get(key, 0) for key in OCCUPANCY]
    figure = go.Figure([go.Bar(x=list(OCCUPANCY.values()), y=values, marker_color=CLOSED,
                               text=[f"{v:,}" for v in values], textposition="auto")])
    figure.update_layout(**_layout(scale, showlegend=False,
                                   title=dict(text="房屋 rooms by occupancy",
                                              font=dict(size=round(13 * scale), color=MUTED),
                                              x=0, y=0.98)))
    return figure


def alarms(by_kind: dict[str, dict[str, int]], scale: float) -> go.Figure:
    """Sensor alarms by kind: raised in the period, and open now."""
    kinds = sorted(by_kind, key=lambda k: by_kind[k]["raised"])
    labels = [SENSOR_KINDS.get(k, (k,))[0] for k in kinds]
    figure = go.Figure([
        go.Bar(y=labels, x=[by_kind[k]["raised"] for k in kinds], orientation="h",
               name="期内告警 raised", marker_color=RECEIVED),
        go.Bar(y=labels, x=[by_kind[k]["open"] for k in kinds], orientation="h",
               name="当前未解除 open now", marker_color="#e57373"),
    ])
    figure.update_layout(**_layout(scale, barmode="group",
                                   margin=dict(l=8, r=8, t=round(26 * scale), b=round(20 * scale)),
                                   title=dict(text="感知告警 sensor alarms",
                                              font=dict(size=round(13 * scale), color=MUTED),
                                              x=0, y=0.98)))
    figure.update_yaxes(automargin=True)
    return figure


def _camera_line(by_status: dict[str, int]) -> html.Div:
    total = sum(by_status.values())
    online = by_status.get("online", 0)
    rate = f"{online / total * 100:.1f}" if total else "—"
    return html.Div(className="cockpit-cameras", children=[
        html.Span("视频监控在线率 cameras online ", className="cockpit-tile-zh"),
        html.Span(rate, className="cockpit-value"), html.Span("%", className="cockpit-unit"),
        html.Span(" · ".join(f"{DEVICE_STATUSES.get(s, (s,))[0]} {n:,}"
                             for s, n in sorted(by_status.items())),
                  className="cockpit-cameras-counts"),
    ])


@callback(
    Output("cockpit-population", "children"),
    Output("cockpit-infrastructure", "children"),
    Input("cockpit-view", "data"), Input("cockpit-tick", "n_intervals"),
    Input("cockpit-side-tab", "value"), State("cockpit-screen", "data"),
)
def show(query, _tick, tab, screen):
    """The open tab's figures, read afresh (the other tab is left as it was)."""
    allowed()
    if tab not in ("population", "infrastructure"):
        raise PreventUpdate
    view = view_of(query)
    scale = screen_scale(screen)
    now = datetime.now(timezone.utc)
    with scoped_read(current_scope()) as conn:
        if tab == "population":
            rows = panels.ages(conn, view.unit)
            own, children = panels.unit_stats(conn, view.unit)
            names = cockpit_units.names_of(conn, list(children))
            return html.Div(className="cockpit-panel-pair", children=[
                dcc.Graph(figure=pyramid(rows, now, scale), config=GRAPH,
                          className="cockpit-graph"),
                dcc.Graph(figure=key_groups(children, names, scale), config=GRAPH,
                          className="cockpit-graph"),
            ]), no_update
        own, _children = panels.unit_stats(conn, view.unit)
        by_status = panels.cameras(conn, view.unit)
        by_kind = panels.sensor_alarms(conn, view.unit, view.period)
    return no_update, html.Div(className="cockpit-panel-trio", children=[
        _camera_line(by_status),
        dcc.Graph(figure=rooms(own, scale), config=GRAPH, className="cockpit-graph"),
        dcc.Graph(figure=alarms(by_kind, scale), config=GRAPH, className="cockpit-graph"),
    ])


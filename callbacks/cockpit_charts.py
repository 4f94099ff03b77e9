"""The cockpit's figures (plotly, in the wall's dark colours) and its choropleth's data: pure
functions from counts to what the browser draws, so a test can read them without a server."""

from __future__ import annotations

import plotly.graph_objects as go
from dash import html

from onemap.domain import kpi
from onemap.web.cockpit_data import Cockpit

TEXT, MUTED, LINE, PANEL = "#e6edf5", "#8aa0b8", "#1f3248", "rgba(0,0,0,0)"
RECEIVED, CLOSED, ON_TIME = "#4fc3f7", "#81c784", "#f5c542"
FONT = ('"Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei", '
        "sans-serif")
BUCKET_NAMES = {"day": "按日 daily", "week": "按周 weekly", "month": "按月 monthly"}


def _layout(scale: float = 1.0, **more) -> dict:
    """The wall's dark theme at the screen's scale (2 on a 4K wall), with `more` over it."""
    m = round(48 * scale)
    return {**dict(paper_bgcolor=PANEL, plot_bgcolor=PANEL,
                   margin=dict(l=m, r=m, t=round(28 * scale), b=round(32 * scale)),
                   font=dict(family=FONT, color=TEXT, size=round(13 * scale)), showlegend=True,
                   legend=dict(orientation="h", y=1.12, x=0, font=dict(color=MUTED)),
                   xaxis=dict(gridcolor=LINE, linecolor=LINE),
                   yaxis=dict(gridcolor=LINE, linecolor=LINE, rangemode="tozero")), **more}


def trend(data: Cockpit, scale: float = 1.0) -> go.Figure:
    """Cases received and closed per bucket (bars) and the on-time closure rate (line)."""
    days = [day for day, _ in data.trend_counts]
    figure = go.Figure([
        go.Bar(x=days, y=[c["received"] for _, c in data.trend_counts], name="受理 received",
               marker_color=RECEIVED),
        go.Bar(x=days, y=[c["closed"] for _, c in data.trend_counts], name="结案 closed",
               marker_color=CLOSED),
        go.Scatter(x=days, y=[v["on_time_closure_rate"] for _, v in data.trend],
                   name="按期结案率 on-time %", yaxis="y2", mode="lines+markers",
                   line=dict(color=ON_TIME, width=2), marker=dict(size=4),
                   connectgaps=False),
    ])
    figure.update_layout(**_layout(
        scale, barmode="group", bargap=0.25,
        title=dict(text=BUCKET_NAMES[data.trend_bucket],
                   font=dict(size=round(13 * scale), color=MUTED),
                   x=1, xanchor="right", y=0.99),
        yaxis2=dict(overlaying="y", side="right", range=[0, 100], ticksuffix="%",
                    gridcolor=LINE, showgrid=False)))
    return figure


def breakdown(dimension: str, counts: dict[str, dict[str, int]],
              labels: dict[str, str], scale: float = 1.0) -> go.Figure:
    """Cases received by channel, category class or level, largest first, with how many of
    them are closed."""
    ordered = sorted(counts.items(), key=lambda item: item[1]["received"])[-10:]
    names = [labels.get(value, value or "—") for value, _ in ordered]
    figure = go.Figure([
        go.Bar(y=names, x=[c["received"] for _, c in ordered], orientation="h",
               name="受理", marker_color=RECEIVED),
        go.Bar(y=names, x=[c["closed"] for _, c in ordered], orientation="h",
               name="结案", marker_color=CLOSED),
    ])
    titles = {"channel": "渠道 channel", "category": "大类 category", "level": "等级 level"}
    figure.update_layout(**_layout(
        scale, barmode="overlay", showlegend=False,
        margin=dict(l=8, r=round(12 * scale), t=round(26 * scale), b=round(20 * scale)),
        title=dict(text=titles[dimension], font=dict(size=round(13 * scale), color=MUTED), x=0,
                   y=0.98)))
    figure.update_yaxes(automargin=True)
    figure.update_traces(opacity=0.9)
    return figure


def choropleth(outlines: dict | None, units: dict[str, dict], item: kpi.Kpi
               ) -> tuple[dict | None, dict, list]:
    """The child units' outlines with the KPI's value and label on each; the colour scale's
    range for assets/cockpit.js (green is better whichever way the KPI runs); its legend."""
    if outlines is None:
        return None, {}, []
    values = []
    for feature in outlines["features"]:
        value = units.get(feature["properties"]["code"], {}).get(item.key)
        feature["properties"]["value"] = value
        shown = "—" if value is None else (f"{value:.1f}{item.unit}" if item.is_rate
                                           or item.unit == "小时" else f"{int(value):,}{item.unit}")
        feature["properties"]["label"] = f"{feature['properties']['name']}<br>{shown}"
        if value is not None:
            values.append(value)
    low, high = (min(values), max(values)) if values else (0, 0)
    # a volume (cases received) has no better end: one hue, darker for more
    neutral = item.higher_is_better is None
    rising = item.higher_is_better is not False
    hideout = {"low": low, "high": high, "higherIsBetter": rising, "neutral": neutral}
    worse, better = ("cockpit-legend-bad", "cockpit-legend-good")
    ends = ("cockpit-legend-low", "cockpit-legend-high") if neutral else \
        (worse, better) if rising else (better, worse)
    legend = [html.Span(f"{item.zh}", className="cockpit-legend-name"),
              html.Span(f"{low:.1f}" if values else "—", className=ends[0]),
              html.Span(className="cockpit-legend-ramp" + (" neutral" if neutral else ""
                                                           if rising else " reversed")),
              html.Span(f"{high:.1f}" if values else "—", className=ends[1]),
              html.Span("点击单位下钻 Click a unit to drill in", className="en")]
    return outlines, hideout, legend

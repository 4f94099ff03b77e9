"""页面不存在 Page not found."""

import dash
from dash import dcc, html

dash.register_page(__name__, path="/404", title="OneMap 一张图 · 404")

layout = html.Div(className="page", children=[
    html.Header(className="page-header", children=[
        html.H1(["OneMap ", html.Span("一张图", className="brand-zh")]),
    ]),
    html.Main(className="not-found", children=[
        html.H2("页面不存在 · Page not found"),
        dcc.Link("返回数据总览 · Back to the overview", href="/"),
    ]),
])

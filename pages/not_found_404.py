"""页面不存在 Page not found."""

import dash
from dash import dcc, html

from pages.shell import page_header

# capability=None: open to everybody signed in (the path was wrong, not the user's role)
dash.register_page(__name__, path="/404", title="OneMap 一张图 · 404", name="页面不存在",
                   name_en="Not found", capability=None)


def layout(**_query) -> html.Div:
    """A page that does not exist, said plainly, with the way back."""
    return html.Div(className="page", children=[
        page_header(),
        html.Main(className="not-found", children=[
            html.H2("页面不存在 · Page not found"),
            dcc.Link("返回数据总览 · Back to the overview", href="/"),
        ]),
    ])

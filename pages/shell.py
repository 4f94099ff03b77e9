"""What every signed-in page shares: the header with the product, the page's name and the user."""

from __future__ import annotations

from dash import dcc, html

from onemap.domain.roles import ROLE_NAMES, Capability
from onemap.web.auth import current_user


def user_bar() -> html.Div:
    """Who is signed in, their role and unit, and a sign-out button."""
    user = current_user.user
    role_zh, role_en = ROLE_NAMES[user.role]
    return html.Div(className="user-bar", children=[
        html.Span(user.display_name, className="user-name"),
        html.Span(f"{role_zh} · {role_en}", className="user-role"),
        html.Span(user.scope_code, className="user-scope"),
        html.Form(html.Button("退出 Sign out", type="submit", className="sign-out"),
                  method="post", action="/logout"),
    ])


def not_permitted(explanation: str | None = None) -> html.Div:
    """What a role without the right sees instead of a page."""
    return html.Div(className="page", children=[
        page_header(),
        html.Main(className="not-found", children=[
            html.H2("无权限 · Not permitted"),
            html.P(explanation) if explanation else None,
            dcc.Link("返回数据总览 · Back to the overview", href="/"),
        ]),
    ])


def page_header(subtitle: str | None = None) -> html.Header:
    """OneMap 一张图, the page's name (Chinese · English), and the user bar when signed in."""
    children = [html.H1(["OneMap ", html.Span("一张图", className="brand-zh")])]
    if subtitle:
        children.append(html.Div(subtitle, className="page-subtitle"))
    if current_user.is_authenticated:
        links = [dcc.Link("数据总览 Overview", href="/"), dcc.Link("指挥大屏 Wall", href="/wall")]
        if current_user.can(Capability.VIEW_AUDIT):
            links.append(dcc.Link("审计日志 Audit", href="/admin/audit"))
        children.append(html.Nav(links, className="page-nav"))
        children.append(user_bar())
    return html.Header(className="page-header", children=children)

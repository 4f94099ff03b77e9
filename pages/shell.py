"""What every signed-in page shares: the header with the product, the page's name and the user;
and the one place where a page's permission is kept.

A page says what it needs where it is registered, and nowhere else:

    dash.register_page(__name__, path="/wall", name="指挥大屏", name_en="Wall", order=1,
                       capability=Capability.VIEW_MAP)

`capability` decides who may open it (`permit_pages` wraps every page's layout once, at start)
and whether it is in the header's links; `name` and `name_en` are its link, `order` (Dash's
own key) its place among them. A page registered with `capability=None` is open to everybody
signed in and has no link (the not-found page).
"""

from __future__ import annotations

import dash
from dash import dcc, html

from onemap.domain.roles import ROLE_NAMES, Capability
from onemap.web.auth import current_user, refused
from onemap.web.errors import NotSignedIn


def user_bar() -> html.Div:
    """Who is signed in, their role and unit, and a sign-out button."""
    user = current_user.user
    role_zh, role_en = ROLE_NAMES[user.role]
    return html.Div(className="user-bar", children=[
        html.Span(user.display_name, className="user-name"),
        html.Span(f"{role_zh} · {role_en}", className="user-role"),
        html.Span(user.scope_code, className="user-scope"),
        sign_out_form(),
    ])


def sign_out_form() -> html.Form:
    """The sign-out button (a POST: a link could be followed by anything)."""
    return html.Form(html.Button("退出 Sign out", type="submit", className="sign-out"),
                     method="post", action="/logout")


def not_permitted() -> html.Div:
    """What a role without the right sees instead of a page."""
    role_zh, role_en = ROLE_NAMES[current_user.role]
    return html.Div(className="page", children=[
        page_header(),
        html.Main(className="not-found not-permitted", children=[
            html.H2("无权限 · Not permitted"),
            html.P(f"{role_zh}无权打开此页面 · A {role_en} may not open this page."),
            dcc.Link("返回数据总览 · Back to the overview", href="/"),
        ]),
    ])


def nav_links() -> list[dcc.Link]:
    """A link to each page the signed-in user may open, in the registry's order (Dash sorts it
    by `order`), named in Chinese and English."""
    return [
        dcc.Link(" ".join(filter(None, (page["name"], page.get("name_en")))),
                 href=page["relative_path"])
        for page in dash.page_registry.values()
        if page.get("capability") is not None and current_user.can(page["capability"])
    ]


def page_header(subtitle: str | None = None) -> html.Header:
    """OneMap 一张图, the page's name (Chinese · English), and the user bar when signed in."""
    children = [html.H1(["OneMap ", html.Span("一张图", className="brand-zh")])]
    if subtitle:
        children.append(html.Div(subtitle, className="page-subtitle"))
    if current_user.is_authenticated:
        children.append(html.Nav(nav_links(), className="page-nav"))
        children.append(user_bar())
    return html.Header(className="page-header", children=children)


def _permitted_only(layout, capability: Capability):
    """The page's layout (a function of the query, or a fixed component) for roles with
    `capability`; "not permitted" (and one audit row naming the capability) for the others."""

    def guarded(**query):
        if not current_user.is_authenticated:  # sign-in runs first; this is the second lock
            raise NotSignedIn()
        if refused(capability):
            return not_permitted()
        return layout(**query) if callable(layout) else layout

    guarded.required_capability = capability
    return guarded


def permit_pages() -> None:
    """Hold every registered page to its declared `capability`. Called once, after Dash has
    imported the pages: Dash's router reads each page's layout from the registry at every
    visit, so the wrapped layout is the only one it can reach."""
    for page in dash.page_registry.values():
        capability = page.get("capability")
        if capability is not None and not hasattr(page["layout"], "required_capability"):
            page["layout"] = _permitted_only(page["layout"], capability)

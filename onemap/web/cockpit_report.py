"""The cockpit as a one-page PDF for the Monday meeting: GET /cockpit/report.pdf?<the cockpit's
own query> renders /cockpit in Debian's headless Chromium as the requesting user (their own
session cookie and browser, so scope, masking and audit are theirs) and prints it: one
1920×1080 page, dark as on the screen, the CJK fonts embedded by Chromium. No internet: the
page loads nothing from outside. One audit row per report.
"""

from __future__ import annotations

import shutil
from urllib.parse import urlencode

from flask import Blueprint, Response, request

from geodata.scope import scoped
from onemap.domain.roles import Capability
from pages.cockpit_url import URL_KEYS

from .auth import audit_request, current_scope, requires
from .errors import ApiError

report = Blueprint("cockpit_report", __name__)

CHROMIUM = "/usr/bin/chromium"
WIDTH, HEIGHT = 1920, 1080
SESSION_COOKIE = "onemap_session"
# the figures are drawn: every tile has a number, the trend and the map are on the page
_READY = """
() => {
  const tiles = [...document.querySelectorAll('.cockpit-value')];
  return tiles.length > 0 && tiles.every(t => /[0-9—]/.test(t.textContent))
    && document.querySelector('#cockpit-trend .main-svg')
    && document.querySelector('#cockpit-status.ok');
}
"""
RENDER_TIMEOUT_MS = 30_000


class ReportUnavailable(ApiError):
    status = 503
    zh = "报表服务不可用（未安装 Chromium）"
    en = "the report needs Chromium, which is not installed"


class ReportFailed(ApiError):
    status = 503
    zh, en = "报表生成失败，请稍后重试", "the report could not be printed; try again"


def render(base_url: str, query: dict[str, str], cookie: str, user_agent: str) -> bytes:
    """The cockpit at `query` printed to PDF in a browser that presents `cookie` as its own."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright  # loaded on the first report only

    chromium = shutil.which("chromium") or CHROMIUM
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update"])
        try:
            context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT},
                                          user_agent=user_agent, locale="zh-CN")
            context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": base_url}])
            page = context.new_page()
            page.goto(f"{base_url}/cockpit?{urlencode({**query, 'print': '1'})}")
            if not page.url.startswith(f"{base_url}/cockpit"):
                # the session did not carry over (a client that sends no User-Agent: sessions
                # are bound to the browser that opened them): the sign-in page, not a report
                raise ReportFailed(zh="报表需要浏览器会话", en="the report needs a browser session")
            try:
                page.wait_for_function(_READY, timeout=RENDER_TIMEOUT_MS)
            except PlaywrightTimeout:
                raise ReportFailed() from None
            page.emulate_media(media="screen")  # print what the screen shows, dark and all
            return page.pdf(width=f"{WIDTH}px", height=f"{HEIGHT}px", print_background=True,
                            page_ranges="1")
        finally:
            browser.close()


@report.get("/cockpit/report.pdf")
@requires(Capability.VIEW_COCKPIT)
def cockpit_pdf():
    """The cockpit of the query's period, unit and map KPI as a one-page PDF."""
    if not (shutil.which("chromium") or shutil.which(CHROMIUM)):
        raise ReportUnavailable()
    query = {key: request.args[key] for key in URL_KEYS
             if key in request.args and key != "rotate"}
    pdf = render(request.host_url.rstrip("/"), query, request.cookies.get(SESSION_COOKIE, ""),
                 request.headers.get("User-Agent", ""))
    with scoped(current_scope()) as conn:
        audit_request(conn, "export", object_kind="cockpit_report", object_id="pdf",
                      details={"query": query, "bytes": len(pdf)})
    name = "onemap-cockpit-" + "-".join(query.get(k, "") for k in ("unit", "period", "date"))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name.rstrip("-")}.pdf"',
        "Cache-Control": "private, no-store"})

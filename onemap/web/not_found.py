"""Paths that lead nowhere answer 404: JSON under /api/, the not-found page with HTTP 404
elsewhere.

Dash serves its page shell for every path it does not know (a catch-all route), so without
this an unknown API path answered 200 with HTML, and the not-found page answered 200 too:
monitors and API clients could not tell a typo from a page.
"""

from __future__ import annotations

import dash
from flask import Flask, request

from .errors import NotFound

CATCH_ALL = "/<path:path>"


def _page_paths() -> set[str]:
    return {page["path"] for page in dash.page_registry.values() if page["path"] != "/404"}


def init_not_found(server: Flask) -> None:
    """Answer unknown API paths and unknown pages with 404 (pages keep their Dash layout)."""

    @server.before_request
    def unknown_api_path():
        rule = request.url_rule
        if (request.path.startswith(("/api/", "/ogc/", "/tiles/"))
                and (rule is None or rule.rule == CATCH_ALL)):
            raise NotFound()
        return None

    @server.after_request
    def unknown_page(response):
        rule = request.url_rule
        if (rule is not None and rule.rule == CATCH_ALL and response.status_code == 200
                and request.path.rstrip("/") not in _page_paths()):
            response.status_code = 404  # the shell still renders the not-found page
        return response

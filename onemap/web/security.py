"""Request hardening: same-origin checks on state-changing requests, and security headers."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request

from layers.basemaps import BASEMAPS
from onemap.settings import get_settings

from .auth import OPEN311, bearer_token, open311_key
from .errors import NotPermitted, NotSignedIn

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def content_security_policy() -> str:
    """Offline by design: everything comes from this origin, except the tiles of a configured
    basemap. Dash needs inline scripts and eval."""
    settings = get_settings()
    tiles = BASEMAPS[settings.basemap].origins(settings.basemap_url, settings.tianditu_key)
    images = " ".join(["'self'", "data:", "blob:", *tiles])
    return ("default-src 'self'; "
            f"img-src {images}; "
            "style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-inline' 'unsafe-eval'; connect-src 'self'; "
            "font-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def _same_origin(url: str | None) -> bool:
    if not url:
        return False
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" == request.host_url.rstrip("/")


def init_security(server: Flask) -> None:
    """Refuse cross-site state changes (CSRF) and send security headers on every answer."""
    csp = content_security_policy()

    @server.before_request
    def same_origin_only():
        if request.method not in STATE_CHANGING:
            return None
        # a machine client's token: no browser sends it cross-site (a custom header needs a
        # CORS preflight, which this server never grants), so there is no forgery to stop
        if request.path.startswith("/api/") and bearer_token() is not None:
            return None
        # Open311: a token (api_key or Bearer) or nothing; a cookie never opens it, so a
        # forged post has nothing to ride on
        if request.path.startswith(OPEN311):
            if open311_key() is None:
                raise NotSignedIn()
            return None
        # browsers send Origin on every cross-site POST; Referer is the fallback some omit
        origin = request.headers.get("Origin")
        if origin is not None:
            ok = _same_origin(origin)
        else:
            ok = _same_origin(request.headers.get("Referer"))
        if not ok:
            raise NotPermitted("拒绝跨站请求", "cross-site request refused")
        return None

    @server.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.path.startswith("/_dash-") or request.path == "/login":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

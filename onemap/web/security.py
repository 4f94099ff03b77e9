"""Request hardening: same-origin checks on state-changing requests, and security headers."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, jsonify, request

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Offline by design: everything comes from this origin. Dash needs inline scripts and eval.
CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
       "script-src 'self' 'unsafe-inline' 'unsafe-eval'; connect-src 'self'; "
       "font-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def _same_origin(url: str | None) -> bool:
    if not url:
        return False
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" == request.host_url.rstrip("/")


def init_security(server: Flask) -> None:
    """Refuse cross-site state changes (CSRF) and send security headers on every answer."""

    @server.before_request
    def same_origin_only():
        if request.method not in STATE_CHANGING:
            return None
        # browsers send Origin on every cross-site POST; Referer is the fallback some omit
        origin = request.headers.get("Origin")
        if origin is not None:
            ok = _same_origin(origin)
        else:
            ok = _same_origin(request.headers.get("Referer"))
        if not ok:
            return jsonify(error="cross-site request refused / 拒绝跨站请求"), 403
        return None

    @server.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.path.startswith("/_dash-") or request.path == "/login":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

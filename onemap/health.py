"""GET /healthz: is the app up and does the database answer? (No login, no personal data.)"""

from __future__ import annotations

from flask import Flask, jsonify
from sqlalchemy import text

from geodata.scope import app_engine
from onemap.web.outage import RETRY_AFTER_SECONDS, note_failure


def register_health(server: Flask) -> None:
    """Add /healthz to the Flask server under Dash."""

    @server.get("/healthz")
    def healthz():
        try:
            # the app's own role: a web worker holds no owner connection (and so never starts
            # an embedded cluster that was stopped on purpose)
            with app_engine().connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # any failure means "not healthy"; say which kind
            note_failure(exc)  # one log line per outage, shared with every other request
            return (jsonify(status="error", database=exc.__class__.__name__), 503,
                    {"Retry-After": str(RETRY_AFTER_SECONDS)})
        return jsonify(status="ok", database="ok")

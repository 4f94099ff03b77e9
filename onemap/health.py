"""GET /healthz: is the app up and does the database answer? (No login, no personal data.)"""

from __future__ import annotations

from flask import Flask, jsonify
from sqlalchemy import text

from geodata.db import get_engine


def register_health(server: Flask) -> None:
    """Add /healthz to the Flask server under Dash."""

    @server.get("/healthz")
    def healthz():
        try:
            with get_engine().connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # any failure means "not healthy"; say which kind
            return jsonify(status="error", database=exc.__class__.__name__), 503
        return jsonify(status="ok", database="ok")

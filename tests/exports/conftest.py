"""Exports against the demo district (built by the real `onemap demo`), as real users: each
export runs through exports/run.py with a session of its user, as the page and the CLI do."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from exports.run import ExportRequest, export_layer
from geodata import sessions, users
from geodata.scope import Scope
from onemap.domain.roles import ROLE_CAPABILITIES
from tests.support.in_process import app_pointed_at


@pytest.fixture(scope="module")
def owner(demo_district):
    """The demo database as its owner (no row-level security): what the files must equal."""
    engine = create_engine(demo_district[0].replace("postgresql://", "postgresql+psycopg://", 1))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def exporter(demo_district, owner):
    """export(username, request, out) -> ExportResult, as that demo user; `add_user(role,
    scope)` makes a user of another scope and returns its name."""
    _url, env = demo_district

    class Exporter:
        def session(self, username: str) -> tuple[Scope, str]:
            with owner.begin() as conn:
                user = users.by_username(conn, username)
                token = sessions.open_token(conn, user, lifetime=timedelta(hours=1),
                                            capabilities=ROLE_CAPABILITIES[user.role])
            return Scope(user.scope_code, session=token), user.role

        def export(self, username: str, request: ExportRequest, out):
            scope, role = self.session(username)
            return export_layer(scope, role, request, out, user_agent="pytest", via="test")

        def add_user(self, role: str, scope: str) -> str:
            name = f"x-{secrets.token_hex(4)}"
            with owner.begin() as conn:
                users.add(conn, username=name, display_name=name, password_hash="!token",
                          role=role, scope_code=scope)
            return name

    with app_pointed_at(env):
        yield Exporter()


@pytest.fixture(scope="module")
def street(owner) -> str:
    """The street with the most events."""
    with owner.connect() as conn:
        return conn.execute(text(
            "SELECT left(grid_code, 9) FROM onemap.event GROUP BY 1 ORDER BY count(*) DESC"
            " LIMIT 1")).scalar_one()

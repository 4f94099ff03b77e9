"""Acting as the app's role inside the test's own transaction: SET LOCAL ROLE and a
transaction-local session, so nothing is left behind."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from tests.fixtures.sessions import open_test_session

APP_ROLE = "onemap_app"


@contextmanager
def as_app(conn: Connection, scope: str | None, sensitive: bool = False
           ) -> Iterator[Connection]:
    """The same connection acting as the app's role with a session in `scope` (None: with no
    session at all), until the block ends."""
    token = "" if scope is None else open_test_session(conn, scope, sensitive=sensitive)
    conn.execute(text(f"SET LOCAL ROLE {APP_ROLE}"))
    conn.execute(text("SELECT set_config('onemap.session', :t, true)"), {"t": token})
    assert conn.execute(text("SELECT current_user")).scalar() == APP_ROLE
    yield conn
    conn.execute(text("RESET ROLE"))
    conn.execute(text("SELECT set_config('onemap.session', '', true)"))


def refused(conn: Connection, sql: str, params: dict | None = None,
            match: str = "permission denied") -> None:
    """The statement fails (in a savepoint, so the test's transaction carries on)."""
    with pytest.raises(DBAPIError, match=match):
        with conn.begin_nested():
            conn.execute(text(sql), params or {})

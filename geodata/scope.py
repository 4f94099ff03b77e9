"""The one scope mechanism: every query a user's request makes runs inside `scoped()`.

The database does the limiting (row-level security, migration 0002): a scoped connection is
the app's role (`onemap_app`) with the user's unit code set for the transaction, so a query
that forgets a filter still cannot see outside the scope, and one that never set a scope sees
nothing scoped at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Connection, Engine, event, text

from onemap.settings import Settings, get_settings

from .db import database_url, embedded_cluster, make_engine

APP_ROLE = "onemap_app"
_CODE = re.compile(r"([0-9]{3}){2,5}")
LEVELS = {6: "district", 9: "street", 12: "community", 15: "grid"}


@dataclass(frozen=True)
class Scope:
    """An administrative unit a user is bound to, and whether they may read sensitive tags."""

    code: str
    sensitive: bool = False

    def __post_init__(self) -> None:
        if not _CODE.fullmatch(self.code or ""):
            raise ValueError(f"{self.code!r} is not a district, street, community or grid code")

    @property
    def level(self) -> str:
        """district, street, community or grid."""
        return LEVELS[len(self.code)]

    def contains(self, code: str | None) -> bool:
        """Whether a unit code lies inside this scope (the same rule as onemap.in_scope)."""
        return bool(code) and code.startswith(self.code)


def app_login_url(settings: Settings | None = None) -> str | None:
    """A URL that logs in as the app's role itself, or None when only SET ROLE is available."""
    s = settings or get_settings()
    if s.app_database_url:
        return s.app_database_url
    if s.embedded:
        cluster = embedded_cluster(s)
        cluster.start()
        password = cluster.login_for(APP_ROLE)
        return cluster.libpq_url(user=APP_ROLE, password=password).replace(
            "postgresql://", "postgresql+psycopg://", 1)
    return None


def app_engine_for(url: str) -> Engine:
    """An engine whose connections act as the app's role after logging in as the owner
    (the fallback for an external server without ONEMAP_APP_DATABASE_URL)."""
    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _become_app(dbapi_connection, _record) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET ROLE {APP_ROLE}")
        dbapi_connection.commit()

    return engine


@lru_cache(maxsize=1)
def app_engine() -> Engine:
    """The process-wide engine for user requests: logged in as the app's role where possible."""
    login = app_login_url()
    return make_engine(login) if login else app_engine_for(database_url())


@contextmanager
def scoped(scope: Scope, engine: Engine | None = None) -> Iterator[Connection]:
    """A connection in a transaction that sees only the scope's rows; commits at the end."""
    with (engine or app_engine()).connect() as conn, conn.begin():
        conn.execute(
            text("SELECT set_config('onemap.scope', :code, true),"
                 " set_config('onemap.sensitive', :sensitive, true)"),
            {"code": scope.code, "sensitive": "on" if scope.sensitive else "off"},
        )
        yield conn

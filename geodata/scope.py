"""The one scope mechanism: every query a user's request makes runs inside `scoped()`.

The database does the limiting (row-level security, migrations 0002 and 0004): a scoped
connection is the app's role (`onemap_app`) with the user's session token set for the
transaction. The database looks the session up and takes the scope and capabilities from it,
so a query that forgets a filter still cannot see outside the scope, one that never presented
a live session sees nothing scoped at all, and SQL that sets a scope of its own choosing gains
nothing. Sign-in runs as a second role (`onemap_auth`) on its own engine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import Connection, Engine, event

from onemap.settings import THREADS_PER_WORKER, Settings, get_settings

from .db import database_url, embedded_cluster, make_engine, statement

APP_ROLE = "onemap_app"
AUTH_ROLE = "onemap_auth"
_CODE = re.compile(r"([0-9]{3}){2,5}")


@dataclass(frozen=True)
class Scope:
    """An administrative unit a user is bound to, and the session token that makes the
    database grant exactly that (geodata/sessions.py); what the session may read beyond the
    scope (sensitive tags) the database takes from the session too."""

    code: str
    session: str | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _CODE.fullmatch(self.code or ""):
            raise ValueError(f"{self.code!r} is not a district, street, community or grid code")


def role_login_url(role: str, settings: Settings | None = None) -> str | None:
    """A URL that logs in as one of the app's roles itself, or None when only SET ROLE is
    available (an external server without ONEMAP_APP_DATABASE_URL / _AUTH_DATABASE_URL)."""
    s = settings or get_settings()
    configured = {APP_ROLE: s.app_database_url, AUTH_ROLE: s.auth_database_url}[role]
    if configured:
        return configured
    if s.embedded:
        cluster = embedded_cluster(s)
        # a web worker must not start a cluster someone stopped on purpose: once the role
        # has its login, only the URL is needed
        password = cluster.known_login(role)
        if password is None:
            cluster.start()
            password = cluster.login_for(role)
        return cluster.libpq_url(user=role, password=password).replace(
            "postgresql://", "postgresql+psycopg://", 1)
    return None


def app_login_url(settings: Settings | None = None) -> str | None:
    """A URL that logs in as the app's role itself, or None when only SET ROLE is available."""
    return role_login_url(APP_ROLE, settings)


def engine_as(role: str, url: str, **kwargs) -> Engine:
    """An engine whose connections act as `role` after logging in as the owner (the fallback
    for an external server without a login of the role's own)."""
    engine = make_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _become(dbapi_connection, _record) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET ROLE {role}")
        dbapi_connection.commit()

    return engine


def app_engine_for(url: str, **kwargs) -> Engine:
    """An engine whose connections act as the app's role after logging in as the owner."""
    return engine_as(APP_ROLE, url, **kwargs)


@lru_cache(maxsize=1)
def app_engine() -> Engine:
    """The process-wide engine for user requests: logged in as the app's role where possible."""
    login = app_login_url()
    return (make_engine(login, pool_size=THREADS_PER_WORKER) if login
            else app_engine_for(database_url(), pool_size=THREADS_PER_WORKER))


@lru_cache(maxsize=1)
def auth_engine() -> Engine:
    """The process-wide engine for sign-in and sessions, as `onemap_auth` (reads password
    hashes, writes sessions; used by no other code path)."""
    login = role_login_url(AUTH_ROLE)
    return (make_engine(login, pool_size=THREADS_PER_WORKER) if login
            else engine_as(AUTH_ROLE, database_url(), pool_size=THREADS_PER_WORKER))


@contextmanager
def scoped(scope: Scope, engine: Engine | None = None) -> Iterator[Connection]:
    """A connection in a transaction that sees only what the scope's session may see; commits
    at the end. A scope without a live session sees nothing scoped."""
    with (engine or app_engine()).connect() as conn, conn.begin():
        conn.execute(statement("SELECT set_config('onemap.session', :token, true)"),
                     {"token": scope.session or ""})
        yield conn

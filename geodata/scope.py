"""The one scope mechanism: every query a user's request makes runs inside `scoped()`.

The database does the limiting (row-level security, migrations 0002 and 0004): a scoped
connection is the app's role (`onemap_app`) with the user's session token set for the
transaction. The database looks the session up and takes the scope and capabilities from it,
so a query that forgets a filter still cannot see outside the scope, one that never presented
a live session sees nothing scoped at all, and SQL that sets a scope of its own choosing gains
nothing. Sign-in runs as a second role (`onemap_auth`) on its own engine. What the wall and
the cockpit only read runs in `scoped_read()`: the same transaction on a streaming replica
when ONEMAP_READ_DATABASE_URL names one (roles, sessions and policies replicate with the data).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import Connection, Engine, event, make_url
from sqlalchemy.exc import DBAPIError

from onemap.settings import THREADS_PER_WORKER, Settings, get_settings

from .db import database_url, embedded_cluster, make_engine, statement

log = logging.getLogger(__name__)

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


# -- a streaming replica for the screens' reads (ONEMAP_READ_DATABASE_URL) ---------------------


def read_login_url(settings: Settings | None = None) -> tuple[str, bool] | None:
    """The replica's URL and whether it logs in as the app's role itself (else the engine SETs
    ROLE to it), or None without ONEMAP_READ_DATABASE_URL. A URL naming no user borrows the
    login the app uses on the primary: roles and their passwords replicate."""
    s = settings or get_settings()
    if not s.read_database_url:
        return None
    url = make_url(s.read_database_url)
    if url.username is None:
        borrowed = make_url(app_login_url(s) or database_url(s))
        url = url.set(username=borrowed.username, password=borrowed.password)
    return url.render_as_string(hide_password=False), url.username == APP_ROLE


@lru_cache(maxsize=1)
def read_engine() -> Engine | None:
    """The process-wide engine on the replica, or None when every read goes to the primary."""
    login = read_login_url()
    if login is None:
        return None
    url, as_app = login
    return (make_engine(url, pool_size=THREADS_PER_WORKER) if as_app
            else app_engine_for(url, pool_size=THREADS_PER_WORKER))


# One round trip: the session token set for the transaction, then whether the replica knows the
# session yet (current_scope() is NULL for a session it has not replayed, or one it still
# holds as live after the primary ended it: that request was let in by the primary's check)
_SCOPE_ON_REPLICA = """
WITH token AS MATERIALIZED (SELECT set_config('onemap.session', :token, true))
SELECT onemap.current_scope() IS NOT NULL FROM token
"""
_replica_down = False  # said once in the log, not at every poll of every screen


def _replica_connection(engine: Engine, scope: Scope,
                        needs_session: bool) -> tuple[Connection, object] | None:
    """A replica connection in a transaction scoped like `scoped`'s, or None when the replica
    cannot serve this read: not reachable, or (`needs_session`) without the session yet."""
    global _replica_down
    try:
        conn = engine.connect()
    except DBAPIError as exc:
        if not _replica_down:
            log.warning("read replica not reachable, reading from the primary: %s",
                        type(exc.orig or exc).__name__)
        _replica_down = True
        return None
    if _replica_down:
        log.warning("read replica reachable again")
        _replica_down = False
    try:
        transaction = conn.begin()
        known = conn.execute(statement(_SCOPE_ON_REPLICA), {"token": scope.session or ""}
                             ).scalar()
    except BaseException:
        conn.close()
        raise
    if needs_session and not known:
        conn.close()  # rolled back: nothing was written
        return None
    return conn, transaction


@contextmanager
def scoped_read(scope: Scope, *, needs_session: bool = True) -> Iterator[Connection]:
    """`scoped` for what only reads (the wall's and the cockpit's screens): on the replica
    when ONEMAP_READ_DATABASE_URL names one, else on the primary. A session the replica has
    not replayed yet (just signed in: replication lag) reads on the primary for that request,
    as does every read while the replica cannot be reached; `needs_session=False` is for reads
    of what no session limits (the live clock), which the replica serves at once. Never for a
    transaction that writes (an audit row, say): a replica refuses writes."""
    engine = read_engine()
    found = (_replica_connection(engine, scope, needs_session)
             if engine is not None and (scope.session or not needs_session) else None)
    if found is None:
        with scoped(scope) as conn:
            yield conn
        return
    conn, transaction = found
    with conn, transaction:
        yield conn

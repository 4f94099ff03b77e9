"""Where the database is and how to talk to it: one engine per process, schema `onemap`."""

from __future__ import annotations

import select
from functools import lru_cache

from sqlalchemy import Engine, TextClause, create_engine, event, text
from sqlalchemy.exc import DisconnectionError

from onemap.settings import Settings, get_settings

from .embedded import EmbeddedPostgres

SCHEMA = "onemap"


@lru_cache(maxsize=1024)
def statement(sql: str) -> TextClause:
    """`text(sql)`, built once per distinct SQL string: building one parses its bind
    parameters with a regular expression on every call, a tenth of the app's CPU on a
    reported case (four statements). Statements are immutable and safe to share."""
    return text(sql)


def embedded_cluster(settings: Settings | None = None) -> EmbeddedPostgres:
    """The embedded cluster the settings describe (not started)."""
    s = settings or get_settings()
    return EmbeddedPostgres(
        s.pg_dir,
        port=s.pg_port,
        bin_dir=s.pg_bin,
        db_name=s.db_name,
        listen=s.pg_listen,
        shared_buffers=s.pg_shared_buffers,
        fsync=s.pg_fsync,
    )


def database_url(settings: Settings | None = None, *, start: bool = True) -> str:
    """The SQLAlchemy URL to use: ONEMAP_DATABASE_URL, or the embedded cluster (started on
    demand)."""
    s = settings or get_settings()
    if not s.embedded:
        return s.database_url  # type: ignore[return-value]
    cluster = embedded_cluster(s)
    if start:
        cluster.start()
    return cluster.sqlalchemy_url()


def make_engine(url: str, **kwargs) -> Engine:
    """An engine whose connections see OneMap's schema first and PostGIS (in public) second.

    Its errors never carry the statement's parameters (names, phones, search text): an error
    message may end up in a log. A server that does not answer fails a connection in seconds
    (the web app then answers 503) instead of holding a request until the worker is killed.
    A pooled connection the server has closed (a restart, a killed backend) is replaced at
    checkout, so the request that draws it never sees the error."""
    kwargs["hide_parameters"] = True
    engine = create_engine(
        url,
        connect_args={"options": f"-c search_path={SCHEMA},public", "connect_timeout": 10},
        **kwargs,
    )
    event.listen(engine, "checkout", _refuse_closed)
    return engine


def closed_by_server(dbapi_connection) -> bool:
    """True when the server has closed this idle connection. An idle connection has nothing
    to read unless the server said goodbye (its "terminating connection" message, or the end
    of the stream), so one poll of the socket tells, without a round trip."""
    if dbapi_connection.closed or dbapi_connection.broken:
        return True
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def _refuse_closed(dbapi_connection, _record, _proxy) -> None:
    """Refuse a pooled connection the server has closed: the pool then connects anew (up to
    three times). Cheaper than pool_pre_ping's SELECT 1, a round trip on every checkout: a
    reported case made nine round trips, and two of them were pings."""
    if closed_by_server(dbapi_connection):
        raise DisconnectionError("the server closed the connection")


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """The process-wide engine (created after a gunicorn fork, never before)."""
    return make_engine(database_url())

"""When the database is out of reach: 503 with Retry-After everywhere, one log line per change.

An unreachable database is not a bug in a request, so it gets neither a generic 500 nor a
traceback per request. Every API and Dash call answers 503 with a JSON body and every page a
small bilingual page (no external assets; it reloads itself), both with `Retry-After`. The log
gets one WARNING per process when the database is first found unreachable and one INFO when a
connection succeeds again; nothing in between.

A database whose disk is full (SQLSTATE 53100: it answers, reads work, writes fail) is the
same for a client: 503 with Retry-After, its report kept for a retry; the log says so once a
minute per process, not once per request.

A statement that fails inside a reachable database (a constraint, a bad cast) is still a 500,
logged with where it happened but without the error's text: PostgreSQL's messages quote the
values involved ("Failing row contains (张三, 138…)", `invalid input syntax … "张三"`), and
those are personal data. The engine already hides bound parameters (geodata/db.py).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback

import psycopg
from flask import Flask, Response, g, has_app_context, jsonify, request, request_started
from limits.errors import StorageError
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import Pool

from geodata.db import closed_by_server
from geodata.embedded import EmbeddedError
from onemap.settings import get_settings

log = logging.getLogger("onemap.outage")

RETRY_AFTER_SECONDS = 5
UNAVAILABLE = "database unavailable / 数据库暂不可用"
INTERNAL = "internal error / 服务器内部错误"

# SQLSTATEs that mean "cannot talk to the database" rather than "this statement failed":
# class 08 (connection exception), the server shutting down or starting up, no free slots
_UNREACHABLE_STATES = {"57P01", "57P02", "57P03", "53300"}
# the database answers but cannot write: its disk is full
_DISK_FULL_STATES = {"53100"}
DISK_FULL_LOG_EVERY = 60.0
_DIAG_NAMES = ("schema_name", "table_name", "column_name", "datatype_name", "constraint_name")

UNAVAILABLE_PAGE = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="{RETRY_AFTER_SECONDS}">
<title>数据库暂不可用 · Database unavailable</title>
<style>body{{margin:0;font-family:sans-serif;background:#0b1a2b;color:#e3eaf2;display:flex;
align-items:center;justify-content:center;min-height:100vh}}main{{text-align:center}}
h1{{color:#ff8a80;font-size:2.4em}}p{{color:#9fb3c8;font-size:1.3em}}</style></head>
<body><main><h1>数据库暂不可用 · Database unavailable</h1>
<p>系统正在重试，本页将自动刷新。<br>The server is retrying; this page reloads by itself.</p>
</main></body></html>
"""

ERROR_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>服务器内部错误 · Internal error</title>
</head><body><h1>服务器内部错误 · Internal error</h1></body></html>
"""


# -- what kind of database error -----------------------------------------------------------

def _chain(error: BaseException):
    """The error, what it wraps (SQLAlchemy's .orig, limits' .storage_error) and its causes."""
    seen: set[int] = set()
    todo = [error]
    while todo and len(seen) < 10:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [getattr(current, "orig", None), getattr(current, "storage_error", None),
                 current.__cause__, current.__context__]


def database_unreachable(error: BaseException) -> bool:
    """True for connection-level failures: refused, lost, shut down, out of slots."""
    for current in _chain(error):
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, psycopg.OperationalError):
            state = current.sqlstate
            # libpq's own failures (no server answer at all) carry no SQLSTATE
            if state is None or state.startswith("08") or state in _UNREACHABLE_STATES:
                return True
        if isinstance(current, EmbeddedError):  # the embedded cluster could not be started
            return True
    return False


def database_disk_full(error: BaseException) -> bool:
    """True when the database refused a write for want of disk space."""
    return any(isinstance(current, psycopg.Error) and current.sqlstate in _DISK_FULL_STATES
               for current in _chain(error))


def _database_error(error: BaseException) -> BaseException | None:
    for current in _chain(error):
        if isinstance(current, (sa_exc.DBAPIError, psycopg.Error)):
            return current
    return None


def describe(error: BaseException) -> str:
    """Error classes, SQLSTATE and the schema objects involved; never the error's message,
    the statement's parameters or PostgreSQL's DETAIL, which quote the values."""
    names = [type(error).__name__]
    driver = next((e for e in _chain(error) if isinstance(e, psycopg.Error)), None)
    if driver is not None and driver is not error:
        kind = type(driver)
        names.append(kind.__name__ if kind.__name__ != names[0]
                     else f"{kind.__module__.split('.')[0]}.{kind.__name__}")
    text = " / ".join(names)
    if driver is not None:
        details = [f"SQLSTATE {driver.sqlstate}"] if driver.sqlstate else []
        diag = driver.diag
        details += [f"{name.removesuffix('_name')} {getattr(diag, name)}"
                    for name in _DIAG_NAMES if getattr(diag, name, None)]
        if details:
            text += f" ({', '.join(details)})"
    return text


def _connection_reason(error: BaseException) -> str:
    """The driver's first line for a connection failure (a socket, a host, a shutdown notice:
    nothing a user typed), bounded."""
    driver = next((e for e in _chain(error) if isinstance(e, (psycopg.Error, EmbeddedError))),
                  None)
    if driver is None:
        return ""
    first = (str(driver).strip().splitlines() or [""])[0]
    return f": {first[:200]}" if first else ""


# -- one log line per change ------------------------------------------------------------------

class _OutageState:
    """Whether this process last found the database down; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.down_since: float | None = None
        self.recovered_at = float("-inf")

    def failed(self, error: BaseException, request_began: float | None = None) -> None:
        with self._lock:
            if self.down_since is not None:
                return
            if request_began is not None and request_began < self.recovered_at:
                return  # a request from before the database came back: old news
            self.down_since = time.monotonic()
        log.warning("database unreachable: %s%s", describe(error), _connection_reason(error))

    def reached(self) -> None:
        if self.down_since is None:  # the common case, without the lock
            return
        with self._lock:
            if self.down_since is None:
                return
            now = time.monotonic()
            seconds, self.down_since, self.recovered_at = now - self.down_since, None, now
        log.info("database reachable again after %.0f s", seconds)


outage = _OutageState()


class _DiskFullLog:
    """Logs a full database disk at most once every DISK_FULL_LOG_EVERY seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = float("-inf")

    def failed(self, error: BaseException) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._last < DISK_FULL_LOG_EVERY:
                return
            self._last = now
        log.warning("database disk full, writes refused (503): %s", describe(error))


disk_full = _DiskFullLog()


def _on_checkout(dbapi_connection, _record, _proxy) -> None:
    """A connection was handed out alive (new, or pooled and still open): the database
    answers. (A closed one is refused by geodata.db's own checkout listener, which may run
    after this one.)"""
    if not closed_by_server(dbapi_connection):
        outage.reached()


def note_failure(error: BaseException) -> bool:
    """Record a connection-level failure seen outside a request handler (the health check);
    True when it was one."""
    if not database_unreachable(error):
        return False
    outage.failed(error, g.get("onemap_request_began") if has_app_context() else None)
    return True


def _log_to_server_log() -> None:
    """OneMap's loggers write where gunicorn's error log goes (stderr outside gunicorn)."""
    onemap_log = logging.getLogger("onemap")
    if onemap_log.handlers:
        return
    gunicorn = logging.getLogger("gunicorn.error")
    if gunicorn.handlers:
        for handler in gunicorn.handlers:
            onemap_log.addHandler(handler)
        onemap_log.setLevel(gunicorn.level)
        onemap_log.propagate = False
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(
        "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s",
        "%Y-%m-%d %H:%M:%S %z"))
    onemap_log.addHandler(handler)
    onemap_log.setLevel(get_settings().log_level.upper())


# -- the answers ------------------------------------------------------------------------------

def _wants_json() -> bool:
    if request.path.startswith(("/api/", "/_dash-")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def unavailable_response() -> Response:
    """503 with Retry-After: JSON for API and Dash calls, a small page for pages."""
    if _wants_json():
        response = jsonify(error=UNAVAILABLE)
    else:
        response = Response(UNAVAILABLE_PAGE, mimetype="text/html")
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def _internal_error_response() -> Response:
    response = jsonify(error=INTERNAL) if _wants_json() else Response(ERROR_PAGE,
                                                                      mimetype="text/html")
    response.status_code = 500
    return response


def init_outage(server: Flask) -> None:
    """Answer database outages with 503 + Retry-After, and log them once per change."""
    _log_to_server_log()
    if not event.contains(Pool, "checkout", _on_checkout):
        event.listen(Pool, "checkout", _on_checkout)

    def _began(_sender, **_extra) -> None:
        g.onemap_request_began = time.monotonic()

    request_started.connect(_began, server, weak=False)

    def handle(error: Exception):
        if database_unreachable(error):
            outage.failed(error, g.get("onemap_request_began"))
            return unavailable_response()
        if database_disk_full(error):
            disk_full.failed(error)
            return unavailable_response()
        if _database_error(error) is None:
            raise error  # a rate-limit storage error that is not the database's: Flask's 500
        log.error("database error in %s %s: %s\n%s", request.method, request.path,
                  describe(error), "".join(traceback.format_tb(error.__traceback__)).rstrip())
        return _internal_error_response()

    # Flask looks handlers up by the exception's class; Dash lets callback exceptions reach
    # Flask (dash/_callback.py re-raises when no on_error is set), and an exception from a
    # before_request hook (Flask-Login's user_loader) lands here as well.
    for kind in (sa_exc.DBAPIError, psycopg.Error, StorageError, EmbeddedError):
        server.register_error_handler(kind, handle)

"""Signed-in sessions, kept in the database so that they can be ended (migration 0004).

The browser's cookie carries a random token; `web_session` keeps only its SHA-256 with the
user, the scope and the role's capabilities as they were at sign-in. A session ends at
sign-out, when the user is disabled, changes password, role or scope (a trigger), when an
administrator signs the user out everywhere, after `idle` without a request, and at its
absolute `lifetime` however busy it is. A request from another browser (User-Agent) with
the same cookie is refused.

These functions run on the sign-in role's connection (`onemap_auth`, see geodata/scope.py):
the app's own role can neither read this table nor the password hashes.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import Connection

from .db import statement
from .users import User

# the last-seen stamp moves at most once a minute: a wall polling every 1.5 s must not write
# a row per poll
TOUCH_EVERY_SECONDS = 60


def token_hash(token: str) -> bytes:
    """What the database keeps of a token (it computes the same with sha256(convert_to(…)))."""
    return hashlib.sha256(token.encode()).digest()


def _agent_hash(user_agent: str | None) -> bytes:
    return hashlib.sha256((user_agent or "").encode("utf-8", "replace")).digest()


_OPEN = """
INSERT INTO onemap.web_session (token_hash, user_id, scope_code, capabilities, kind,
  user_agent_hash, ip, idle_until, expires_at)
VALUES (:hash, :user_id, :scope, :capabilities, :kind, :agent, :ip,
  now() + make_interval(secs => :idle), now() + make_interval(secs => :lifetime))
"""

# sessions long over are no use to anyone (sign-ins and sign-outs are in the audit log)
KEEP_ENDED_DAYS = 30
_SWEEP = f"""
DELETE FROM onemap.web_session WHERE id IN (
  SELECT id FROM onemap.web_session
  WHERE coalesce(ended_at, least(expires_at, idle_until))
        < now() - interval '{KEEP_ENDED_DAYS} days'
  LIMIT 1000)
"""

_LOAD = f"""
SELECT s.user_agent_hash, s.last_seen_at < now() - interval '{TOUCH_EVERY_SECONDS} seconds'
         AS stale,
       u.id, u.username, u.display_name, u.role_code, u.scope_code, u.active,
       u.lookup_locked_at IS NOT NULL AS lookup_locked
FROM onemap.web_session s JOIN onemap.app_user u ON u.id = s.user_id
WHERE s.token_hash = :hash AND s.ended_at IS NULL AND now() < s.expires_at
  AND now() < s.idle_until AND u.active
"""

_TOUCH = """
UPDATE onemap.web_session
   SET last_seen_at = now(), idle_until = now() + make_interval(secs => :idle)
WHERE token_hash = :hash AND ended_at IS NULL AND now() < idle_until
"""

_END = """
UPDATE onemap.web_session SET ended_at = now(), end_reason = :reason
WHERE token_hash = :hash AND ended_at IS NULL
"""

_END_ALL = """
UPDATE onemap.web_session SET ended_at = now(), end_reason = :reason
WHERE user_id = :user_id AND ended_at IS NULL
"""


def open_session(conn: Connection, user: User, *, capabilities: Iterable[str],
                 user_agent: str | None, ip: str | None, idle: timedelta, lifetime: timedelta,
                 scope_code: str | None = None, kind: str = "web") -> str:
    """Start a session for `user`; returns the token (the only copy: it goes in the cookie)."""
    token = secrets.token_urlsafe(32)
    conn.execute(statement(_SWEEP))
    conn.execute(statement(_OPEN), {
        "hash": token_hash(token), "user_id": user.id,
        "scope": user.scope_code if scope_code is None else scope_code,
        "capabilities": sorted(getattr(c, "value", c) for c in capabilities), "kind": kind,
        "agent": _agent_hash(user_agent), "ip": ip, "idle": idle.total_seconds(),
        "lifetime": lifetime.total_seconds(),
    })
    return token


def load(conn: Connection, token: str, *, user_agent: str | None, idle: timedelta) -> User | None:
    """The user of a live session presented from the browser that opened it, else None.
    Moves the idle deadline (at most once a minute)."""
    if not token:
        return None
    digest = token_hash(token)
    row = conn.execute(statement(_LOAD), {"hash": digest}).mappings().one_or_none()
    if row is None or not secrets.compare_digest(row["user_agent_hash"] or b"",
                                                 _agent_hash(user_agent)):
        return None
    if row["stale"]:
        conn.execute(statement(_TOUCH), {"hash": digest, "idle": idle.total_seconds()})
    return User(row["id"], row["username"], row["display_name"], row["role_code"],
                row["scope_code"], row["active"], row["lookup_locked"])


_LOAD_TOKEN = f"""
SELECT s.last_seen_at < now() - interval '{TOUCH_EVERY_SECONDS} seconds' AS stale,
       u.id, u.username, u.display_name, u.role_code, u.scope_code, u.active,
       u.lookup_locked_at IS NOT NULL AS lookup_locked
FROM onemap.web_session s JOIN onemap.app_user u ON u.id = s.user_id
WHERE s.token_hash = :hash AND s.kind = 'token' AND s.ended_at IS NULL
  AND now() < s.expires_at AND u.active
"""

_TOUCH_TOKEN = "UPDATE onemap.web_session SET last_seen_at = now() WHERE token_hash = :hash"


def open_token(conn: Connection, user: User, *, capabilities: Iterable[str],
               lifetime: timedelta) -> str:
    """An API token for a machine client: a session of kind `token`, bound to no browser, that
    lasts until it expires or is revoked (no idle end); returns the token, its only copy."""
    return open_session(conn, user, capabilities=capabilities, user_agent=None, ip=None,
                        idle=lifetime, lifetime=lifetime, kind="token")


def load_token(conn: Connection, token: str) -> User | None:
    """The user of a live API token, else None (expired, revoked, disabled, or no token)."""
    if not token:
        return None
    digest = token_hash(token)
    row = conn.execute(statement(_LOAD_TOKEN), {"hash": digest}).mappings().one_or_none()
    if row is None:
        return None
    if row["stale"]:  # `token list` says when it was last used, to the minute
        conn.execute(statement(_TOUCH_TOKEN), {"hash": digest})
    return User(row["id"], row["username"], row["display_name"], row["role_code"],
                row["scope_code"], row["active"], row["lookup_locked"])


_TOKENS = """
SELECT u.username, u.role_code, u.scope_code, s.created_at, s.last_seen_at, s.expires_at,
       s.ended_at, s.end_reason
FROM onemap.web_session s JOIN onemap.app_user u ON u.id = s.user_id
WHERE s.kind = 'token'
ORDER BY u.username, s.created_at
"""


def tokens(conn: Connection) -> list[dict]:
    """Every API token there is or was: whose, since when, last used, until when, revoked."""
    return [dict(row) for row in conn.execute(statement(_TOKENS)).mappings()]


def end_tokens(conn: Connection, user_id: int, reason: str = "revoked") -> int | None:
    """Revoke a user's API tokens; how many were live, None when the user never had one."""
    had = conn.execute(statement("SELECT count(*) FROM onemap.web_session"
                            " WHERE user_id = :u AND kind = 'token'"), {"u": user_id}).scalar()
    if not had:
        return None
    return conn.execute(statement(
        "UPDATE onemap.web_session SET ended_at = now(), end_reason = :reason"
        " WHERE user_id = :u AND kind = 'token' AND ended_at IS NULL"),
        {"u": user_id, "reason": reason}).rowcount


def end(conn: Connection, token: str, reason: str = "signed out") -> bool:
    """End one session; False when it had ended already."""
    ended = conn.execute(statement(_END), {"hash": token_hash(token), "reason": reason})
    return ended.rowcount == 1


def end_all(conn: Connection, user_id: int, reason: str = "signed out everywhere") -> int:
    """End every open session of a user; returns how many were open."""
    return conn.execute(statement(_END_ALL), {"user_id": user_id, "reason": reason}).rowcount

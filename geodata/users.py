"""Users: who they are, their role and scope, their password hash; and the audit log."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, text


@dataclass(frozen=True)
class User:
    """A user as the app needs them (never the password hash)."""

    id: int
    username: str
    display_name: str
    role: str
    scope_code: str
    active: bool
    lookup_locked: bool = False


_COLUMNS = ("id, username, display_name, role_code, scope_code, active,"
            " lookup_locked_at IS NOT NULL")


def _user(row) -> User | None:
    return User(*row) if row else None


def credentials(conn: Connection, username: str) -> tuple[User, str] | None:
    """The user and their password hash, by username (case-insensitive)."""
    row = conn.execute(text(
        f"SELECT {_COLUMNS}, password_hash FROM onemap.app_user"
        " WHERE lower(username) = lower(:u)"), {"u": username}).one_or_none()
    return (User(*row[:7]), row[7]) if row else None


def add(conn: Connection, *, username: str, display_name: str, password_hash: str, role: str,
        scope_code: str) -> int:
    """Create a user; the database checks the role and that the scope is a real unit."""
    return conn.execute(text(
        "INSERT INTO onemap.app_user (username, display_name, password_hash, role_code,"
        " scope_code) VALUES (:u, :n, :h, :r, :s) RETURNING id"),
        {"u": username, "n": display_name, "h": password_hash, "r": role, "s": scope_code},
    ).scalar_one()


def set_password(conn: Connection, username: str, password_hash: str) -> bool:
    """Replace a user's password hash; False when there is no such user."""
    return conn.execute(text(
        "UPDATE onemap.app_user SET password_hash = :h WHERE lower(username) = lower(:u)"),
        {"u": username, "h": password_hash}).rowcount == 1


def set_active(conn: Connection, username: str, active: bool) -> bool:
    """Enable or disable a user; False when there is no such user."""
    return conn.execute(text(
        "UPDATE onemap.app_user SET active = :a WHERE lower(username) = lower(:u)"),
        {"u": username, "a": active}).rowcount == 1


def set_role_scope(conn: Connection, username: str, role: str | None,
                   scope_code: str | None) -> bool:
    """Change a user's role and/or scope (their sessions end: a trigger); False when no such
    user. The scope is checked only when it is given (an unchanged one is not re-validated)."""
    found = conn.execute(text("SELECT 1 FROM onemap.app_user WHERE lower(username) = lower(:u)"),
                         {"u": username}).first() is not None
    for column, value in (("role_code", role), ("scope_code", scope_code)):
        if found and value is not None:
            conn.execute(text(f"UPDATE onemap.app_user SET {column} = :v"
                              " WHERE lower(username) = lower(:u)"), {"u": username, "v": value})
    return found


def unlock_lookups(conn: Connection, username: str) -> bool:
    """Lift a look-up lock and forget the misses that led to it; False when no such user."""
    user_id = conn.execute(text(
        "UPDATE onemap.app_user SET lookup_locked_at = NULL WHERE lower(username) = lower(:u)"
        " RETURNING id"), {"u": username}).scalar()
    if user_id is None:
        return False
    # the miss counters' keys (api_persons) end in .../lookup-miss/<user id>/<limit>
    conn.execute(text("DELETE FROM onemap.rate_counter WHERE key LIKE :k"),
                 {"k": f"%/lookup-miss/{user_id}/%"})
    return True


def by_username(conn: Connection, username: str) -> User | None:
    """The user with this username (case-insensitive), or None."""
    row = conn.execute(text(f"SELECT {_COLUMNS} FROM onemap.app_user"
                            " WHERE lower(username) = lower(:u)"), {"u": username}).one_or_none()
    return _user(row)


def touch_login(conn: Connection, user_id: int) -> None:
    """Remember when the user last logged in."""
    conn.execute(text("UPDATE onemap.app_user SET last_login_at = now() WHERE id = :id"),
                 {"id": user_id})


def all_users(conn: Connection) -> list[dict]:
    """Every user with their unit's name, for `onemap user list`."""
    return [dict(r._mapping) for r in conn.execute(text(
        "SELECT u.username, u.display_name, u.role_code, u.scope_code, a.name AS scope_name,"
        " u.active, u.last_login_at FROM onemap.app_user u"
        " LEFT JOIN onemap.admin_unit a ON a.code = u.scope_code ORDER BY u.username"))]


# onemap.write_audit's call: who comes from the session, so the app cannot write a row in
# anyone else's name. A statement may carry it along with the change it records.
WRITE_AUDIT = ("onemap.write_audit(:audit_action, :audit_kind, :audit_oid, :audit_purpose,"
               " CAST(:audit_ip AS inet), :audit_ua, CAST(:audit_details AS jsonb))")


def audit_parameters(*, action: str, object_kind: str | None = None,
                     object_id: str | None = None, purpose: str | None = None,
                     ip: str | None = None, user_agent: str | None = None,
                     details: dict | None = None) -> dict:
    """The parameters of WRITE_AUDIT for one row."""
    return {"audit_action": action, "audit_kind": object_kind, "audit_oid": object_id,
            "audit_purpose": purpose, "audit_ip": ip,
            "audit_ua": (user_agent or "")[:500] or None,
            "audit_details": json.dumps(details, ensure_ascii=False) if details else None}


def audit_session(conn: Connection, **what) -> None:
    """Append one row (audit_parameters) for the signed-in session this scoped connection acts
    for: the database fills in who (onemap.write_audit)."""
    conn.execute(text(f"SELECT {WRITE_AUDIT}"), audit_parameters(**what))


def audit(conn: Connection, *, action: str, user: User | None = None,
          username: str | None = None, object_kind: str | None = None,
          object_id: str | None = None, purpose: str | None = None, ip: str | None = None,
          user_agent: str | None = None, details: dict | None = None) -> None:
    """Append one row to the audit log (who, when, what, from where, why), on the owner's or
    the sign-in role's connection (the CLI, sign-in and sign-out)."""
    conn.execute(text(
        "INSERT INTO onemap.audit_log (user_id, username, action, object_kind, object_id,"
        " purpose, ip, user_agent, details) VALUES (:user_id, :username, :action, :kind, :oid,"
        " :purpose, :ip, :ua, CAST(:details AS jsonb))"),
        {"user_id": user.id if user else None,
         "username": user.username if user else username, "action": action,
         "kind": object_kind, "oid": object_id, "purpose": purpose, "ip": ip,
         "ua": (user_agent or "")[:500] or None,
         "details": json.dumps(details, ensure_ascii=False) if details else None})

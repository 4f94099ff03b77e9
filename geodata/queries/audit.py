"""Reading the audit log for the administrators' page and its export."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection, text

COLUMNS = ("at", "username", "action", "object_kind", "object_id", "purpose", "ip", "details")

_SEARCH = """
SELECT at, username, action, object_kind, object_id, purpose, host(ip) AS ip,
       details
FROM onemap.audit_log
WHERE (CAST(:username AS text) IS NULL OR lower(username) = lower(:username))
  AND (CAST(:action AS text) IS NULL OR action = :action)
  AND (CAST(:since AS date) IS NULL OR at >= CAST(:since AS date))
  AND (CAST(:until AS date) IS NULL OR at < CAST(:until AS date))
ORDER BY at DESC, id DESC
LIMIT :limit
"""


def actions(conn: Connection) -> list[str]:
    """The kinds of action the log holds."""
    return list(conn.execute(text("SELECT DISTINCT action FROM onemap.audit_log ORDER BY 1"))
                .scalars())


def search(conn: Connection, *, username: str | None = None, action: str | None = None,
           since: date | None = None, until: date | None = None,
           limit: int = 500) -> list[dict]:
    """Newest first; `until` is inclusive (the whole day)."""
    rows = conn.execute(text(_SEARCH), {
        "username": username or None, "action": action or None, "since": since,
        "until": until + timedelta(days=1) if until else None, "limit": limit,
    })
    return [dict(r) for r in rows.mappings()]

"""What Open311 GeoReport v2 reads: the services (leaf event categories) and the cases as
service requests. Cases are read on a scoped connection, so row-level security keeps each
client to its token's area; categories and departments are reference data anyone may read.
Reporter names and phones are never selected.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, text

from onemap.domain.open311 import CLOSED_STATES, MAX_REQUESTS, RequestQuery

# a service is a category nothing else hangs under; its group, the category above it
_SERVICES = """
SELECT c.code, c.name_zh, c.name_en, p.name_zh AS group_zh, p.name_en AS group_en
  FROM onemap.event_category c
  LEFT JOIN onemap.event_category p ON p.code = c.parent_code
 WHERE NOT EXISTS (SELECT 1 FROM onemap.event_category k WHERE k.parent_code = c.code)
   AND (CAST(:code AS text) IS NULL OR c.code = :code)
 ORDER BY c.code
"""

# status_notes says why the case is where it is: the note of the step that brought it there
_REQUESTS = """
SELECT e.id, e.code, e.state, e.description, e.category_code, c.name_zh, c.name_en,
       d.name_zh AS agency_zh, d.name_en AS agency_en, e.reported_at, e.updated_at,
       e.closed_at, e.due_at, e.address, ST_Y(e.geom) AS lat, ST_X(e.geom) AS lon,
       e.photo_urls[1] AS media_url,
       (SELECT m.code FROM onemap.event m WHERE m.id = e.merged_into_id) AS merged_into,
       (SELECT h.note FROM onemap.event_history h
         WHERE h.event_id = e.id AND h.to_state = e.state
           AND h.from_state IS DISTINCT FROM h.to_state AND h.action <> 'report'
         ORDER BY h.at DESC, h.id DESC LIMIT 1) AS note
  FROM onemap.event e
  JOIN onemap.event_category c ON c.code = e.category_code
  LEFT JOIN onemap.department d ON d.code = e.department_code
 WHERE {where}
 ORDER BY e.reported_at DESC, e.id DESC
 LIMIT :limit
"""

_BY_CODES = "e.code = ANY(:codes)"

_IN_WINDOW = """e.reported_at >= :start AND e.reported_at <= :end
   AND (CAST(:services AS text[]) IS NULL OR e.category_code = ANY(:services))
   AND (CAST(:closed AS boolean) IS NULL OR (e.state = ANY(:closed_states)) = :closed)"""


def services(conn: Connection, code: str | None = None) -> list[dict]:
    """Every service, or the one with this code (an empty list when there is none)."""
    return [dict(row) for row in conn.execute(text(_SERVICES), {"code": code}).mappings()]


def service(conn: Connection, code: str) -> dict | None:
    """One service by its code; None for an unknown code or a category that has children."""
    found = services(conn, code)
    return found[0] if found else None


def requests(conn: Connection, query: RequestQuery) -> list[dict]:
    """The cases the query names, newest first, at most MAX_REQUESTS, in the connection's
    scope."""
    if query.codes:
        sql, params = _REQUESTS.format(where=_BY_CODES), {"codes": list(query.codes)}
    else:
        sql = _REQUESTS.format(where=_IN_WINDOW)
        params = {"start": query.start, "end": query.end,
                  "services": list(query.services) or None, "closed": query.closed,
                  "closed_states": list(CLOSED_STATES)}
    rows = conn.execute(text(sql), {**params, "limit": MAX_REQUESTS}).mappings()
    return [dict(row) for row in rows]


def request(conn: Connection, code: str) -> dict | None:
    """One case by its code; None when there is none in the connection's scope."""
    found = requests(conn, RequestQuery(codes=(code,)))
    return found[0] if found else None


def now(conn: Connection) -> datetime:
    """The database's time: the default window ends there."""
    return conn.execute(text("SELECT now()")).scalar_one()

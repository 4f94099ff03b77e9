"""督办 Supervision: the cases in hand near their limit (临期: past the 80 % warning, not yet
due) and past it (超期), by tier (who handles it: grid, community, street, district) and by
handling department; and the supervision notice, a step in a case's history that changes
nothing else (the case stays where it is; the desk shows the notice in its timeline).

Runs on a scoped connection: row-level security keeps a street's leader to their street.
Near and past are read from the case's own times (warn_at, due_at) against `now`, not from the
escalation job's marks, so a case that ran out a second ago is already past.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, text

KINDS = {"warning": ("临期", "near its limit"), "overdue": ("超期", "past its limit")}

# active: in the loop and its clock running (not finished, not shelved)
_KIND_OF = """
CASE WHEN e.due_at <= :now THEN 'overdue'
     WHEN e.warn_at <= :now THEN 'warning' END
"""
_IN_HAND = f"""
onemap.event_is_open(e.state) AND onemap.event_is_active(e.state) AND e.due_at IS NOT NULL
AND ({_KIND_OF}) IS NOT NULL
AND starts_with(e.grid_code, :unit)
"""

_BOARD = f"""
SELECT 'tier' AS by, e.tier AS key, NULL AS name,
       count(*) FILTER (WHERE ({_KIND_OF}) = 'warning') AS warning,
       count(*) FILTER (WHERE ({_KIND_OF}) = 'overdue') AS overdue
  FROM onemap.event e WHERE {_IN_HAND} GROUP BY e.tier
UNION ALL
SELECT 'department', e.department_code, d.name_zh,
       count(*) FILTER (WHERE ({_KIND_OF}) = 'warning'),
       count(*) FILTER (WHERE ({_KIND_OF}) = 'overdue')
  FROM onemap.event e LEFT JOIN onemap.department d ON d.code = e.department_code
 WHERE {_IN_HAND} GROUP BY e.department_code, d.name_zh
"""


def board(conn: Connection, unit: str, now: datetime) -> dict[str, list[dict]]:
    """{"tier": [...], "department": [...]}: each row a key (tier, or department code and
    name; None for cases not yet sent to one) with its counts near and past the limit, the
    most overdue first."""
    found: dict[str, list[dict]] = {"tier": [], "department": []}
    for row in conn.execute(text(_BOARD), {"unit": unit, "now": now}).mappings():
        found[row["by"]].append({"key": row["key"], "name": row["name"],
                                 "warning": row["warning"], "overdue": row["overdue"]})
    for rows in found.values():
        rows.sort(key=lambda r: (-r["overdue"], -r["warning"], r["key"] or ""))
    return found


_CASES = f"""
SELECT e.id, e.code, e.title, e.state, e.tier, e.department_code, d.name_zh AS department,
       e.grid_code, e.due_at, ({_KIND_OF}) AS kind,
       (SELECT count(*) FROM onemap.event_history h
         WHERE h.event_id = e.id AND h.action = 'supervise') AS notices,
       count(*) OVER () AS total
  FROM onemap.event e LEFT JOIN onemap.department d ON d.code = e.department_code
 WHERE {_IN_HAND} AND ({_KIND_OF}) = :kind
   AND (CAST(:tier AS text) IS NULL OR e.tier = :tier)
   AND (CAST(:department AS text) IS NULL OR e.department_code = :department)
 ORDER BY e.due_at, e.id
 LIMIT :limit OFFSET :offset
"""


def cases(conn: Connection, unit: str, kind: str, now: datetime, *, tier: str | None = None,
          department: str | None = None, offset: int = 0, limit: int = 50
          ) -> tuple[int, list[dict]]:
    """(how many, one page) of the cases near (`warning`) or past (`overdue`) their limit, of
    one tier or department or all, the longest overdue first, each with how many notices it
    has had."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    rows = conn.execute(text(_CASES), {
        "unit": unit, "now": now, "kind": kind, "tier": tier, "department": department,
        "limit": limit, "offset": offset}).mappings().all()
    total = int(rows[0]["total"]) if rows else 0
    return total, [{k: v for k, v in row.items() if k != "total"} for row in rows]


class NotSupervisable(ValueError):
    """Only a case in hand with its clock running can be supervised; the message says why."""


_LOCKED = """
SELECT id, code, state, tier, due_at, onemap.event_is_active(state) AS active
  FROM onemap.event WHERE id = :id FOR UPDATE
"""

_NOTICE = """
INSERT INTO onemap.event_history (event_id, action, from_state, to_state, actor_user_id, note,
                                  data)
VALUES (:id, 'supervise', :state, :state, :user_id, :note, CAST(:data AS jsonb))
RETURNING at
"""


def supervise(conn: Connection, event_id: int, user_id: int | None, note: str,
              now: datetime) -> dict | None:
    """督办: a notice on the case in its history (who, when, what it says, its limit then);
    None when the case is not in the caller's reach."""
    case = conn.execute(text(_LOCKED), {"id": event_id}).mappings().one_or_none()
    if case is None:
        return None
    if not case["active"] or case["due_at"] is None:
        raise NotSupervisable(f"a case that is {case['state']} has no running limit to"
                              " supervise")
    kind = "overdue" if case["due_at"] <= now else "warning"
    at = conn.execute(text(_NOTICE), {
        "id": event_id, "state": case["state"], "user_id": user_id, "note": note,
        "data": json.dumps({"due_at": case["due_at"].isoformat(), "tier": case["tier"],
                            "kind": kind})}).scalar_one()
    return {"id": case["id"], "code": case["code"], "state": case["state"], "at": at,
            "kind": kind, "due_at": case["due_at"]}

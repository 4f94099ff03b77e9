"""Reports of one thing: flagged on arrival (疑似重复), then merged into the case they repeat
or the flag dismissed, each with its history row. Merging itself is a step of the loop
(lifecycle action `merge`, geodata/queries/events.transition).

Runs on the caller's scoped connection: a report is compared only with cases the caller may
see, and can join only such a case.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, text

from onemap.domain.assignment import DUPLICATE_HOURS, DUPLICATE_METRES

# The open case of the same category nearest `point.p`, reported in the day before
# `clock.now`; the (category_code, reported_at) index narrows it to that day's few cases of the
# category. A scalar subquery: events.register asks it with the rest of a new case's arrival.
NEAREST_OPEN = """
SELECT e.id FROM onemap.event e
 WHERE e.category_code = :category
   AND e.reported_at > clock.now - make_interval(hours => :duplicate_hours)
   AND e.reported_at <= clock.now
   -- IS TRUE: read as a filter on the day's rows, not as the open-case index's predicate
   -- (a bitmap of all 3,000 open cases ANDed with the day's 80: measured 2.9 → 1.2 ms)
   AND onemap.event_is_open(e.state) IS TRUE
   AND e.geom && ST_Expand(point.p, :duplicate_box)  -- over 100 m: the cheap box first
   AND ST_DWithin(e.geom::geography, point.p::geography, :duplicate_metres)
 ORDER BY ST_Distance(e.geom::geography, point.p::geography), e.reported_at DESC
 LIMIT 1
"""

# the box is in degrees and wider than the distance anywhere in China (a degree of longitude
# at 53° N is still 67 km): it only keeps the exact test to the few candidates
WINDOW = {"duplicate_hours": DUPLICATE_HOURS, "duplicate_metres": DUPLICATE_METRES,
          "duplicate_box": DUPLICATE_METRES / 30_000}

class NotFlagged(ValueError):
    """The report carries no duplicate flag to dismiss."""


_TARGET = """
SELECT id, code, state FROM onemap.event WHERE id = :id FOR UPDATE
"""

_FLAGGED = """
SELECT id, state, duplicate_of_id FROM onemap.event WHERE id = :id FOR UPDATE
"""

_CLEAR = """
UPDATE onemap.event SET duplicate_of_id = NULL, updated_at = :now WHERE id = :id
"""

_NOTE = """
INSERT INTO onemap.event_history (event_id, action, from_state, to_state, actor_user_id,
  note, data)
VALUES (:event_id, :action, :state, :state, :user_id, :note, CAST(:data AS jsonb))
"""


def joinable(conn: Connection, into: int, event_id: int) -> dict | None:
    """The case a report may be merged into, locked: open, in the caller's scope, not the
    report itself; None otherwise."""
    if into == event_id:
        return None
    row = conn.execute(text(_TARGET), {"id": into}).mappings().one_or_none()
    if row is None or row["state"] in ("closed", "rejected", "merged"):
        return None
    return dict(row)


def record_joined(conn: Connection, case: dict, report: dict, user_id: int | None,
                  note: str | None) -> None:
    """The case's own history row: which report joined it (its state does not change)."""
    conn.execute(text(_NOTE), {
        "event_id": case["id"], "action": "merged_in", "state": case["state"],
        "user_id": user_id, "note": note,
        "data": json.dumps({"event_id": report["id"], "code": report["code"]}),
    })


def dismiss(conn: Connection, event_id: int, user_id: int | None, note: str | None,
            now: datetime) -> dict:
    """Not a duplicate after all: clear the flag, with a history row naming the case it was
    thought to repeat. LookupError for a report not in the caller's scope, NotFlagged for
    one without a flag."""
    row = conn.execute(text(_FLAGGED), {"id": event_id}).mappings().one_or_none()
    if row is None:
        raise LookupError(event_id)
    if row["duplicate_of_id"] is None:
        raise NotFlagged("the report is not flagged as a possible duplicate")
    conn.execute(text(_CLEAR), {"id": event_id, "now": now})
    conn.execute(text(_NOTE), {
        "event_id": event_id, "action": "dismiss_duplicate", "state": row["state"],
        "user_id": user_id, "note": note,
        "data": json.dumps({"duplicate_of_id": row["duplicate_of_id"]}),
    })
    return {"id": event_id, "state": row["state"], "duplicate_of_id": None,
            "was_duplicate_of_id": row["duplicate_of_id"]}

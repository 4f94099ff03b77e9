"""Events in the loop: registering reports (idempotent by reference) and moving cases along,
each change with its history row.

Runs on a scoped connection: row-level security refuses an event whose grid lies outside the
reporter's scope (WITH CHECK), so nobody files events into another community.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import Connection

from geodata import users
from geodata.db import statement
from geodata.queries import assignment, duplicates
from geodata.working_calendar import working_calendar
from onemap.domain import lifecycle
from onemap.domain.assignment import GRID_SNAP_METRES, handling_department
from onemap.domain.escalation import initial_tier
from onemap.domain.intake import EventReport
from onemap.domain.working_calendar import (
    WARNING_SHARE,
    TimeLimit,
    counts_in_working_time,
    due_at,
    resumed_due,
)

# the sender is the session's user (a trigger stamps reported_by_user_id from it)
_EXISTING = """
SELECT id, code, state FROM onemap.event
WHERE channel = :channel AND external_ref = :ref
  AND coalesce(reported_by_user_id, 0) = coalesce(onemap.current_app_user_id(), 0)
"""

# Everything a new case needs to know on arrival, in one round trip: the case this sender
# already registered under the reference (a retry: nothing else is worked out), the clock,
# its category's level, kind and owner, its grid (assignment.GRID_OF_POINT), the open case it
# may repeat (duplicates.NEAREST_OPEN) and its registration stage's time limit.
_ARRIVAL = f"""
WITH point AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS p),
     clock AS (SELECT {{now}} AS now),
     known AS ({_EXISTING})
SELECT clock.now, known.id AS known_id, known.code AS known_code, known.state AS known_state,
       c.code IS NOT NULL AS known_category, c.default_level, c.kind, c.department_code,
       CASE WHEN known.id IS NULL THEN ({{grid}}) END AS grid,
       CASE WHEN known.id IS NULL THEN ({{duplicate}}) END AS duplicate_of,
       s.amount AS limit_amount, s.unit AS limit_unit
  FROM clock CROSS JOIN point
  LEFT JOIN known ON true
  LEFT JOIN onemap.event_category c ON c.code = :category
  LEFT JOIN onemap.event_stage_limit s ON s.stage = 'register'
"""

_INSERT = """
INSERT INTO onemap.event (id, code, title, description, category_code, level, channel,
  external_ref, state, address, grid_code, reporter_name, reporter_phone, reported_at,
  stage_started_at, due_at, warn_at, tier, department_code, duplicate_of_id, photo_urls,
  geom)
SELECT n.id, 'AJ' || to_char(:now, 'YYYYMMDD') || lpad(CAST(n.id AS text), 7, '0'), :title,
  :description, :category, :level, :channel, :ref, 'reported', :address, :grid,
  :reporter_name, :reporter_phone, :now, :now, :due, :warn, :tier, :department,
  :duplicate_of, :photos, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)
  FROM (SELECT nextval(pg_get_serial_sequence('onemap.event', 'id')) AS id) n
RETURNING id, code, state, grid_code, level, tier, department_code, due_at, duplicate_of_id
"""

# its own statement: the history's policy looks the event up, and a statement's parts see
# the rows as they were when it began
_HISTORY = """
INSERT INTO onemap.event_history (event_id, action, from_state, to_state, actor_user_id, note)
VALUES (:event_id, 'report', NULL, 'reported', :user_id, :note)
"""

# the history row and the audit row in one round trip
_HISTORY_AND_AUDIT = f"""
WITH history AS ({_HISTORY} RETURNING event_id)
SELECT {users.WRITE_AUDIT} FROM history
"""

# a stage's limit; for handling, the category's own when it has one
_STAGE_LIMIT = """
SELECT CASE WHEN s.stage = 'handle' AND c.time_limit IS NOT NULL THEN c.time_limit
            ELSE s.amount END AS amount,
       CASE WHEN s.stage = 'handle' AND c.time_limit IS NOT NULL THEN c.time_limit_unit
            ELSE s.unit END AS unit
  FROM onemap.event_stage_limit s
  LEFT JOIN onemap.event_category c ON c.code = :category
 WHERE s.stage = :stage
"""

class UnknownCategory(ValueError):
    """The category code is not in the catalogue."""


class OutsideEveryGrid(ValueError):
    """The point lies in no grid of the district, nor within 50 m of one."""


def existing(conn: Connection, channel: str, external_ref: str | None) -> dict | None:
    """The event this sender already registered for this channel's reference (idempotent
    intake)."""
    if not external_ref:
        return None
    row = conn.execute(statement(_EXISTING), {"channel": channel, "ref": external_ref}).mappings()
    found = row.one_or_none()
    return dict(found) if found else None


def clock(conn: Connection) -> datetime:
    """The transaction's time: one moment for every stamp and limit of one change."""
    return conn.execute(statement("SELECT now()")).scalar_one()


def stage_limit(conn: Connection, stage: str, category: str) -> TimeLimit | None:
    """The limit of `stage` for a case of `category` (None when the district set none)."""
    row = conn.execute(statement(_STAGE_LIMIT),
                       {"stage": stage, "category": category}).one_or_none()
    return TimeLimit(float(row.amount), row.unit) if row else None


def stage_times(conn: Connection, stage: str, category: str, level: int,
                start: datetime) -> tuple[datetime | None, datetime | None]:
    """When `stage`, started at `start`, runs out of time on the working calendar, and when
    80 % of it is used (the warning); (None, None) without a limit."""
    limit = stage_limit(conn, stage, category)
    if limit is None:
        return None, None
    return limit_times(limit, level, start)


def limit_times(limit: TimeLimit, level: int, start: datetime) -> tuple[datetime, datetime]:
    """(due, warn) of a limit started at `start`: its end and 80 % of it, on the working
    calendar (on the clock for emergencies)."""
    warning = TimeLimit(limit.amount * WARNING_SHARE, limit.unit)
    return (due_at(working_calendar(), start, limit, level),
            due_at(working_calendar(), start, warning, level))


def register(conn: Connection, report: EventReport, user_id: int | None,
             now: datetime | None = None, audit: dict | None = None) -> tuple[dict, bool]:
    """Insert the event (state 'reported', its registration stage's limit running) and its
    first history row, assigned on arrival: its grid (the nearest within 50 m of a point on a
    boundary), tier by level, handling department by category, and flagged when it may repeat
    an open case. Returns (id, code, grid, level, tier, department, due time and the flag;
    True), or (id, code and state of the case; False) when this sender already registered the
    report's reference (a retry). `now`: the transaction's time unless a test injects one;
    `audit`: the audit row of a new case (users.audit_parameters; its object the case)."""
    # the database's own clock unless a test injects one (the planner plans the duplicate
    # check's time range on the index only for a plain now() or a value, not for a choice)
    sql = _ARRIVAL.format(now="CAST(:now AS timestamptz)" if now else "now()",
                          grid=assignment.GRID_OF_POINT, duplicate=duplicates.NEAREST_OPEN)
    arrival = conn.execute(statement(sql), {
        "lon": report.lon, "lat": report.lat, "now": now, "category": report.category_code,
        "channel": report.channel, "ref": report.external_ref,
        "snap": GRID_SNAP_METRES, **duplicates.WINDOW,
    }).mappings().one()
    if arrival["known_id"] is not None:
        return {"id": arrival["known_id"], "code": arrival["known_code"],
                "state": arrival["known_state"]}, False
    if not arrival["known_category"]:
        raise UnknownCategory(report.category_code)
    if arrival["grid"] is None:
        raise OutsideEveryGrid(f"{report.lon:.6f}, {report.lat:.6f}")
    now, level = arrival["now"], report.level or arrival["default_level"]
    tier = initial_tier(level)
    due = warn = None
    if arrival["limit_amount"] is not None:
        limit = TimeLimit(float(arrival["limit_amount"]), arrival["limit_unit"])
        due, warn = limit_times(limit, level, now)
    row = conn.execute(statement(_INSERT), {
        "title": report.title, "description": report.description,
        "category": report.category_code, "level": level, "now": now, "due": due,
        "warn": warn, "tier": tier, "duplicate_of": arrival["duplicate_of"],
        "department": handling_department(arrival["kind"], arrival["department_code"], tier),
        "photos": list(report.photos) or None, "channel": report.channel,
        "ref": report.external_ref, "address": report.address, "grid": arrival["grid"],
        "reporter_name": report.reporter_name, "reporter_phone": report.reporter_phone,
        "lon": report.lon, "lat": report.lat,
    }).mappings().one()
    history = {"event_id": row["id"], "user_id": user_id, "note": f"channel {report.channel}"}
    if audit is None:
        conn.execute(statement(_HISTORY), history)
    else:
        conn.execute(statement(_HISTORY_AND_AUDIT), {
            **history, **audit, "audit_kind": "event", "audit_oid": str(row["id"])})
    return dict(row), True


_CURRENT = """
SELECT id, state, level, category_code, due_at, warn_at, urgency, paused_at, overran,
       registered_at, coalesce(onemap.event_is_active(state) AND due_at < :now, false) AS overdue
  FROM onemap.event
 WHERE id = :id FOR UPDATE
"""

_STAFF_IN_SCOPE = "SELECT id FROM onemap.staff WHERE id = :id"

_MOVE = """
UPDATE onemap.event SET state = :to_state, updated_at = :now, due_at = :due, warn_at = :warn,
       urgency = :urgency, stage_started_at = coalesce(:stage_started, stage_started_at),
       paused_at = :paused, overran = overran OR :late{stamp}{staff}{returned}{closure}{merge}
 WHERE id = :id
RETURNING id, code, state, due_at, merged_into_id
"""

_MOVED = """
INSERT INTO onemap.event_history (event_id, action, from_state, to_state, actor_user_id,
  note, data)
VALUES (:event_id, :action, :from_state, :to_state, :user_id, :note, CAST(:data AS jsonb))
"""


class NoSuchEvent(LookupError):
    """The event does not exist, or lies outside the caller's scope (the same to the caller)."""


class NoSuchStaff(LookupError):
    """The staff member does not exist, or lies outside the caller's scope."""


class NoSuchCase(LookupError):
    """The case to merge into does not exist, is finished, is the report itself, or lies
    outside the caller's scope."""


def _urgency(now: datetime, warn: datetime | None, due: datetime | None) -> str | None:
    """What the escalation job would have marked by `now` for these times: a case given more
    time (resumed, extended) can be warned and escalated again."""
    if due is not None and due <= now:
        return "overdue"
    return "warning" if warn is not None and warn <= now else None


def _limits_after(conn: Connection, current: dict, action: lifecycle.Action,
                  now: datetime) -> dict:
    """due_at, warn_at, urgency, stage_started_at and paused_at once `action` has moved the
    case at `now`."""
    due, warn, paused = current["due_at"], current["warn_at"], current["paused_at"]
    unchanged = {"due": due, "warn": warn, "urgency": current["urgency"],
                 "stage_started": None, "paused": paused}
    stage = lifecycle.starts_stage(action, current["state"])
    if stage is not None:
        due, warn = stage_times(conn, stage, current["category_code"], current["level"], now)
        return {"due": due, "warn": warn, "urgency": None, "stage_started": now, "paused": None}
    if action.name == "suspend":
        return {**unchanged, "paused": now}
    if action.name == "resume" and due is not None and paused is not None:
        limit = stage_limit(conn, "handle", current["category_code"])
        working = limit is not None and counts_in_working_time(limit, current["level"])
        calendar = working_calendar()
        due = resumed_due(calendar, paused, due, now, working)
        if warn is not None and warn > paused:  # a warning not reached moves on as well
            warn = resumed_due(calendar, paused, warn, now, working)
        return {**unchanged, "due": due, "warn": warn, "paused": None,
                "urgency": current["urgency"] if current["urgency"] == "overdue"
                else _urgency(now, warn, due)}
    return unchanged


def _locked(conn: Connection, event_id: int, now: datetime) -> dict:
    current = conn.execute(statement(_CURRENT), {"id": event_id, "now": now}).mappings()
    found = current.one_or_none()
    if found is None:
        raise NoSuchEvent(event_id)
    return dict(found)


def transition(conn: Connection, event_id: int, action_name: str, user_id: int | None,
               note: str | None = None, staff_id: int | None = None,
               now: datetime | None = None, into: int | None = None) -> dict:
    """Move one event along the loop, with its history row, in the caller's transaction; a
    new stage starts its time limit on the working calendar, a shelved case's stands still.
    `merge` needs `into`, the open case the report joins (which gets a history row too).

    The row is locked first, so two officers acting on one case at once go one after the
    other and the second sees the state the first left. `now`: the transaction's time unless
    a test injects one."""
    now = now or clock(conn)
    current = _locked(conn, event_id, now)
    action = lifecycle.plan(current["state"], action_name, staff_id, into)
    if action.needs_staff:
        if conn.execute(statement(_STAFF_IN_SCOPE), {"id": staff_id}).scalar() is None:
            raise NoSuchStaff(staff_id)
    case = duplicates.joinable(conn, into, event_id) if action.needs_case else None
    if action.needs_case and case is None:
        raise NoSuchCase(into)
    limits = _limits_after(conn, current, action, now)
    sql = _MOVE.format(
        stamp=f", {action.stamps} = :now" if action.stamps else "",
        staff=", assigned_staff_id = :staff_id" if action.needs_staff else "",
        returned=(", returned_count = returned_count + 1" if action.name == "return" else
                  ", sent_back_count = sent_back_count + 1" if action.name == "send_back"
                  else ""),
        closure=(", closure_kind = :closure, handling_minutes = :handling_minutes"
                 if action.name == "close" else ""),
        merge=", merged_into_id = :into, duplicate_of_id = NULL" if case else "",
    )
    moved = conn.execute(statement(sql), {
        "id": event_id, "to_state": action.to_state, "staff_id": staff_id, "now": now,
        "into": into,
        "late": current["overdue"],  # the stage it leaves ran past its limit
        "closure": lifecycle.closure_kind(current["overdue"] or current["overran"]),
        "handling_minutes": (handling_minutes(current["registered_at"], now)
                             if action.name == "close" else None), **limits,
    }).mappings().one()
    data = {"staff_id": staff_id} if staff_id is not None else {}
    if case:
        data.update(into=case["id"], into_code=case["code"])
    if moved["due_at"] != current["due_at"]:
        data["due_at"] = moved["due_at"].isoformat() if moved["due_at"] else None
    conn.execute(statement(_MOVED), {
        "event_id": event_id, "action": action.name, "from_state": current["state"],
        "to_state": action.to_state, "user_id": user_id, "note": note,
        "data": json.dumps(data) if data else None,
    })
    if case:
        duplicates.record_joined(conn, case, moved, user_id, note)
    return {**dict(moved), "from_state": current["state"], "action": action.name}


def handling_minutes(registered_at: datetime | None, closed_at: datetime) -> int | None:
    """Working minutes from registration to closure on the calendar in force now (the
    cockpit's average handling time, 平均处置时长)."""
    if registered_at is None:
        return None
    return int(working_calendar().working_time_between(registered_at, closed_at)
               / timedelta(minutes=1))


class NotExtendable(ValueError):
    """Only a case being handled gets more time; the message says why not this one."""


_EXTEND = """
UPDATE onemap.event SET due_at = :due, warn_at = :warn, urgency = :urgency, extended = true,
       updated_at = :now
 WHERE id = :id
RETURNING id, code, state, due_at
"""


def extend(conn: Connection, event_id: int, extra: TimeLimit, user_id: int | None,
           note: str, now: datetime | None = None) -> dict:
    """延期: move a handled case's limit on by `extra`, counted from its current limit on the
    working calendar (on the clock for emergencies); recorded in its history."""
    now = now or clock(conn)
    current = _locked(conn, event_id, now)
    if current["state"] not in lifecycle.EXTENDABLE_STATES or current["due_at"] is None:
        raise NotExtendable(f"a case that is {current['state']} has no handling limit to extend;"
                            f" only {', '.join(lifecycle.EXTENDABLE_STATES)} cases")
    calendar = working_calendar()
    due = due_at(calendar, current["due_at"], extra, current["level"])
    warn = due_at(calendar, current["warn_at"], extra, current["level"]) if current[
        "warn_at"] else None
    moved = conn.execute(statement(_EXTEND), {"id": event_id, "due": due, "warn": warn, "now": now,
                                         "urgency": _urgency(now, warn, due)}).mappings()
    moved = dict(moved.one())
    conn.execute(statement(_MOVED), {
        "event_id": event_id, "action": "extend", "from_state": current["state"],
        "to_state": current["state"], "user_id": user_id, "note": note,
        "data": json.dumps({"amount": extra.amount, "unit": extra.unit,
                            "from": current["due_at"].isoformat(), "due_at": due.isoformat()}),
    })
    return {**moved, "from_due_at": current["due_at"]}

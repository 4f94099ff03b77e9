"""What the dispatch desk (调度台) reads: its queues with their counts, one case with its whole
history, and who and what is around it. All within the caller's scope (row-level security).

Every queue is a set of open cases, so each query starts from the open-case partial index
(`ix_event_open`: `onemap.event_is_open(state)`), a few thousand rows of a district's
hundreds of thousands; the filters and the queues' conditions are checked on those.

What the queues mean (the desk's help line says the same):
- 新上报 new: reported in the last 30 minutes (the time GB/T 30428 gives an on-site check), the
  reports the duty officer looks at first; 待立案 to register: reported longer ago and still
  not registered. Together they are every report waiting to be registered, each in one of them.
  A report flagged as a possible duplicate (疑似重复) is in neither, but in that queue.
- 待派遣 registered; 处置中 dispatched, being handled or shelved (挂账, tagged); 待核查 reported
  back; 待结案 verified.
- 预警 yellow: active and 80 % of its stage's limit used (the escalation job's mark, or the
  time itself should the job be late); 超期 red: active and past its limit. These cut across
  the loop's queues.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

NEW_WINDOW = "30 minutes"

# past its limit: the job's mark, or the clock itself should the job be late
_LATE = "coalesce(e.urgency = 'overdue' OR e.due_at < now(), false)"
_WARNED = "coalesce(e.urgency = 'warning' OR e.warn_at <= now(), false)"
_FRESH = f"e.reported_at >= now() - interval '{NEW_WINDOW}'"

# emergencies (levels 1-2) first, then whatever runs out of time first
URGENT_FIRST = "(e.level <= 2) DESC, e.due_at ASC NULLS LAST, e.reported_at DESC, e.id DESC"
NEWEST_FIRST = "e.reported_at DESC, e.id DESC"


@dataclass(frozen=True)
class Queue:
    """One of the desk's queues: its names, which open cases are in it, and their order."""

    key: str
    zh: str
    en: str
    condition: str  # SQL on `e`, an open case
    order: str


QUEUES: dict[str, Queue] = {q.key: q for q in (
    Queue("overdue", "超期", "overdue",
          f"onemap.event_is_active(e.state) AND {_LATE}", URGENT_FIRST),
    Queue("warning", "预警", "warned",
          f"onemap.event_is_active(e.state) AND NOT {_LATE} AND {_WARNED}", URGENT_FIRST),
    Queue("duplicates", "疑似重复", "possible duplicates",
          "e.state = 'reported' AND e.duplicate_of_id IS NOT NULL", NEWEST_FIRST),
    Queue("new", "新上报", "new",
          f"e.state = 'reported' AND e.duplicate_of_id IS NULL AND {_FRESH}", NEWEST_FIRST),
    Queue("register", "待立案", "to register",
          f"e.state = 'reported' AND e.duplicate_of_id IS NULL AND NOT ({_FRESH})",
          URGENT_FIRST),
    Queue("dispatch", "待派遣", "to dispatch", "e.state = 'registered'", URGENT_FIRST),
    Queue("in_hand", "处置中", "in hand",
          "e.state IN ('dispatched', 'handling', 'suspended')", URGENT_FIRST),
    Queue("verify", "待核查", "to verify", "e.state = 'handled'", URGENT_FIRST),
    Queue("close", "待结案", "to close", "e.state = 'verified'", URGENT_FIRST),
)}


@dataclass(frozen=True)
class Filters:
    """What the officer narrowed the desk to; None is "any". `unit` and `category` match
    themselves and everything under them (codes nest: a street's code starts every grid's)."""

    unit: str | None = None
    category: str | None = None
    level: int | None = None
    channel: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None  # the start of the case's code, or anywhere in its title

    def params(self) -> dict:
        return {"unit": self.unit, "category": self.category, "level": self.level,
                "channel": self.channel, "since": self.since, "until": self.until,
                "text": self.text}


# The filters, each void when its parameter is NULL. The typed casts let PostgreSQL plan the
# NULL test once for the statement.
_FILTERED = """
    onemap.event_is_open(e.state)
    AND (CAST(:unit AS text) IS NULL OR e.grid_code LIKE CAST(:unit AS text) || '%')
    AND (CAST(:category AS text) IS NULL
         OR e.category_code LIKE CAST(:category AS text) || '%')
    AND (CAST(:level AS smallint) IS NULL OR e.level = CAST(:level AS smallint))
    AND (CAST(:channel AS text) IS NULL OR e.channel = CAST(:channel AS text))
    AND (CAST(:since AS timestamptz) IS NULL OR e.reported_at >= CAST(:since AS timestamptz))
    AND (CAST(:until AS timestamptz) IS NULL OR e.reported_at < CAST(:until AS timestamptz))
    AND (CAST(:text AS text) IS NULL OR starts_with(e.code, upper(CAST(:text AS text)))
         OR strpos(e.title, CAST(:text AS text)) > 0)
"""

_COUNTS = f"""
SELECT {", ".join(f"count(*) FILTER (WHERE {q.condition}) AS {q.key}" for q in QUEUES.values())}
  FROM onemap.event e
 WHERE {_FILTERED}
"""


def queue_counts(conn: Connection, filters: Filters) -> dict[str, int]:
    """How many cases each queue holds under the filters."""
    row = conn.execute(text(_COUNTS), filters.params()).mappings().one()
    return {key: int(row[key]) for key in QUEUES}


# the queue's first rows are picked from the event table alone, then named: the joins run on
# a page of rows, not on every open case
_CASES = """
SELECT e.id, e.code, e.title, e.level, e.state, e.channel, e.reported_at, e.due_at,
       e.grid_code, e.tier, c.name_zh AS category, g.name AS grid, cm.name AS community,
       e.overdue, e.warned, e.duplicate
  FROM (SELECT e.id, e.code, e.title, e.level, e.state, e.channel, e.reported_at, e.due_at,
               e.grid_code, e.tier, e.category_code, {late} AS overdue,
               {warned} AND NOT {late} AS warned,
               e.duplicate_of_id IS NOT NULL AS duplicate
          FROM onemap.event e
         WHERE {filtered} AND ({condition})
         ORDER BY {order}
         LIMIT :limit) AS e
  JOIN onemap.event_category c ON c.code = e.category_code
  LEFT JOIN onemap.grid g ON g.code = e.grid_code
  LEFT JOIN onemap.community cm ON cm.code = g.community_code
 ORDER BY {order}
"""


def queue_cases(conn: Connection, key: str, filters: Filters, limit: int = 100) -> list[dict]:
    """The first `limit` cases of one queue (KeyError for a queue that does not exist), in the
    queue's order: emergencies and the nearest limits first, or the newest first."""
    queue = QUEUES[key]
    sql = _CASES.format(late=_LATE, warned=_WARNED, filtered=_FILTERED,
                        condition=queue.condition, order=queue.order)
    rows = conn.execute(text(sql), {**filters.params(), "limit": limit}).mappings()
    return [dict(r) for r in rows]


_CASE = f"""
SELECT e.id, e.code, e.title, e.description, e.level, e.state, e.channel, e.address,
       e.category_code, c.name_zh AS category, c.name_en AS category_en,
       e.reported_at, e.registered_at, e.dispatched_at, e.handled_at, e.verified_at,
       e.closed_at, e.stage_started_at, e.due_at, e.warn_at, e.paused_at, e.urgency, e.tier,
       e.extended, e.returned_count, e.closure_kind, e.photo_urls,
       e.reporter_name, e.reporter_phone,
       e.grid_code, g.name AS grid, cm.name AS community, st.name AS street,
       d.name_zh AS department, s.id AS staff_id, s.name AS staff_name,
       e.duplicate_of_id, dup.code AS duplicate_of_code, dup.title AS duplicate_of_title,
       e.merged_into_id, mrg.code AS merged_into_code,
       onemap.event_is_open(e.state) AS open,
       onemap.event_is_active(e.state) AND {_LATE} AS overdue,
       onemap.event_is_active(e.state) AND NOT {_LATE} AND {_WARNED} AS warned,
       ST_Y(e.geom) AS lat, ST_X(e.geom) AS lng
  FROM onemap.event e
  JOIN onemap.event_category c ON c.code = e.category_code
  LEFT JOIN onemap.grid g ON g.code = e.grid_code
  LEFT JOIN onemap.community cm ON cm.code = g.community_code
  LEFT JOIN onemap.street st ON st.code = cm.street_code
  LEFT JOIN onemap.department d ON d.code = e.department_code
  LEFT JOIN onemap.staff s ON s.id = e.assigned_staff_id
  LEFT JOIN onemap.event dup ON dup.id = e.duplicate_of_id
  LEFT JOIN onemap.event mrg ON mrg.id = e.merged_into_id
 WHERE e.id = :id
"""


def case(conn: Connection, event_id: int) -> dict | None:
    """One case with its names resolved; None when it does not exist or lies outside the
    caller's scope (the same to the caller). Personal fields come back unmasked: the caller
    masks them. A case it duplicates or joined is named only when the caller may see it."""
    row = conn.execute(text(_CASE), {"id": event_id}).mappings().one_or_none()
    return dict(row) if row is not None else None


_HISTORY = """
SELECT h.id, h.at, h.action, h.from_state, h.to_state, h.note, h.data,
       coalesce(u.display_name, actor.name) AS actor, staff.name AS staff_name
  FROM onemap.event_history h
  LEFT JOIN onemap.app_user u ON u.id = h.actor_user_id
  LEFT JOIN onemap.staff actor ON actor.id = h.actor_staff_id
  LEFT JOIN onemap.staff staff
    ON jsonb_typeof(h.data -> 'staff_id') = 'number'
   AND staff.id = CAST(h.data ->> 'staff_id' AS bigint)
 WHERE h.event_id = :id
 ORDER BY h.at, h.id
"""


def history(conn: Connection, event_id: int) -> list[dict]:
    """Every step of the case, oldest first: when, what, from and to which state, who (their
    display name; None for the system's jobs), the note, and its data with the staff member's
    name when one was sent (only staff inside the caller's scope are named)."""
    return [dict(r) for r in conn.execute(text(_HISTORY), {"id": event_id}).mappings()]


_UNITS = """
SELECT u.code, u.level, u.name, p.name AS parent
  FROM onemap.admin_unit u
  LEFT JOIN onemap.admin_unit p ON p.code = u.parent_code
 WHERE u.code LIKE :scope || '%' AND u.level <> 'district'
 ORDER BY u.code
"""


def units(conn: Connection, scope_code: str) -> list[dict]:
    """The streets, communities and grids within a scope (boundaries are open to every role,
    so the scope's code bounds the list), in code order: each street before its communities,
    each community before its grids."""
    return [dict(r) for r in conn.execute(text(_UNITS), {"scope": scope_code}).mappings()]


_CATEGORIES = """
SELECT code, parent_code, name_zh, name_en FROM onemap.event_category ORDER BY code
"""


def categories(conn: Connection) -> list[dict]:
    """The category catalogue, each class before its sub-classes."""
    return [dict(r) for r in conn.execute(text(_CATEGORIES)).mappings()]


_STATE = "SELECT state FROM onemap.event WHERE id = :id"


def state_of(conn: Connection, event_id: int) -> str | None:
    """Where the case stands now; None when it is out of the caller's reach."""
    return conn.execute(text(_STATE), {"id": event_id}).scalar()


_BY_CODE = "SELECT id FROM onemap.event WHERE code = :code"


def case_id_of(conn: Connection, code: str) -> int | None:
    """The id of the case with this code (AJ…), or of this id given as digits; None when
    there is none in the caller's reach."""
    if code.isdigit() and len(code) < 19:
        return conn.execute(text("SELECT id FROM onemap.event WHERE id = :id"),
                            {"id": int(code)}).scalar()
    return conn.execute(text(_BY_CODE), {"code": code}).scalar()

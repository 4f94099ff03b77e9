"""The cases behind a cockpit number (drill-through): the cases of a period and unit that a
count is made of, by the same `onemap.event_measures` the kept sums add up, so the list's
length is the number shown. No personal field is listed (reporters' names and phones stay on
the case's own page, under its masking).

Runs on a scoped connection, like geodata/queries/kpi_sums.py.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, text

from onemap.domain.kpi import CASE_COUNTS, Period

from .kpi_sums import ZONE

_OVERDUE_OPEN = ("onemap.event_is_open(e.state) AND e.due_at < :now"
                 " AND e.registered_at IS NOT NULL")
_PREDICATES = {
    **{count: f"(onemap.event_measures(e)).{count} = 1" for count in CASE_COUNTS
       if count not in ("overdue_open", "due")},
    "overdue_open": _OVERDUE_OPEN,
    "due": f"((onemap.event_measures(e)).closed = 1 OR ({_OVERDUE_OPEN}))",
}

_CASES = f"""
SELECT e.id, e.code, e.title, e.category_code, c.name_zh AS category, e.channel, e.level,
       e.state, e.grid_code, e.department_code, e.reported_at, e.registered_at, e.closed_at,
       e.due_at, e.closure_kind, e.returned_count, e.extended,
       round(e.handling_minutes / 60.0, 1) AS handling_hours, e.satisfaction,
       count(*) OVER () AS total
  FROM onemap.event e
  LEFT JOIN onemap.event_category c ON c.code = e.category_code
 WHERE e.reported_at >= CAST(:first AS timestamp) AT TIME ZONE '{ZONE}'
   AND e.reported_at < CAST(:last AS timestamp) AT TIME ZONE '{ZONE}'
   AND (CAST(:unit AS text) IS NULL OR starts_with(e.grid_code, :unit))
   AND {{predicate}}
 ORDER BY e.reported_at DESC, e.id DESC
 LIMIT :limit OFFSET :offset
"""

PAGE_MAX = 100_000  # an export's rows at most (callbacks/cockpit.py)


def cases(conn: Connection, count: str, period: Period, unit: str | None, now: datetime,
          offset: int = 0, limit: int = 50) -> tuple[int, list[dict]]:
    """(how many cases make up `count` in the period and unit, one page of them, newest
    first)."""
    if count not in _PREDICATES:
        raise ValueError(f"no case list for {count!r}")
    if not 0 < limit <= PAGE_MAX or offset < 0:
        raise ValueError("a page is 1 to 100,000 cases from a non-negative offset")
    rows = conn.execute(text(_CASES.format(predicate=_PREDICATES[count])), {
        "first": period.start, "last": period.end, "unit": unit, "now": now,
        "limit": limit, "offset": offset}).mappings().all()
    if not rows and offset:
        total, _ = cases(conn, count, period, unit, now)
        return total, []
    total = int(rows[0]["total"]) if rows else 0
    return total, [{k: v for k, v in row.items() if k != "total"} for row in rows]

"""The cockpit's counts: sums of `onemap.event_measures` kept by day and community, and the
district's by day and kind (migration 0024), plus the one count that moves with the clock
(registered cases still open past their limit), counted live from the few open cases.

Every function runs on a scoped connection: row-level security keeps the sums to the caller's
communities as it keeps the events to their grids. `unit` narrows further to an administrative
unit's code (street 9, community 12, grid 15 digits); None is everything the caller may see.
A grid, or counts by grid, come from the grid's own cases (a few hundred a year), summed by the
same `onemap.event_measures`. Dates are local days (Asia/Shanghai), `end` excluded. The
formulas over these counts are onemap/domain/kpi.py's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import Connection, text

from onemap.domain.kpi import KEPT_COUNTS, Period

ZONE = "Asia/Shanghai"
KIND_COUNTS = ("received", "registered", "closed", "closed_on_time")
DIMENSIONS = ("channel", "category", "level")
UNIT_LENGTHS = {"district": 6, "street": 9, "community": 12, "grid": 15}
BUCKETS = ("day", "week", "month")

_DAY = f"(e.reported_at AT TIME ZONE '{ZONE}')::date"
_IN_WINDOW = (f"e.reported_at >= CAST(:first AS timestamp) AT TIME ZONE '{ZONE}'"
              f" AND e.reported_at < CAST(:last AS timestamp) AT TIME ZONE '{ZONE}'")
# a unit's grids by the grid index (codes are digits: ':' sorts right after '9')
_IN_UNIT_GRIDS = "e.grid_code >= :unit AND e.grid_code < :unit || ':'"

# (day, code, counts…) of the window: kept by community, or a unit's own cases by grid
_KEPT = f"""
SELECT s.day, s.community_code AS code, {", ".join(f"s.{c}" for c in KEPT_COUNTS)}
  FROM onemap.event_day_stat s
 WHERE s.day >= :first AND s.day < :last
   AND (CAST(:unit AS text) IS NULL OR starts_with(s.community_code, :unit))
"""
_OWN = f"""
SELECT {_DAY} AS day, e.grid_code AS code,
       {", ".join(f"(m).{c}" for c in KEPT_COUNTS)}
  FROM (SELECT e.reported_at, e.grid_code, onemap.event_measures(e) AS m
          FROM onemap.event e WHERE {{where}} AND {_IN_WINDOW}) e
"""

# the open cases past their limit, registered (not a report waiting for registration): the
# partial index ix_event_open holds only open cases
_OVERDUE_OPEN = f"""
SELECT {_DAY} AS day, e.grid_code AS code, count(*) AS overdue_open
  FROM onemap.event e
 WHERE onemap.event_is_open(e.state) AND e.due_at < :now AND e.registered_at IS NOT NULL
   AND {_IN_WINDOW} AND (CAST(:unit AS text) IS NULL OR starts_with(e.grid_code, :unit))
 GROUP BY 1, 2
"""

_SUMS = ", ".join(f"coalesce(sum(s.{c}), 0) AS {c}" for c in KEPT_COUNTS)


def _source(unit: str | None, by_grid: bool) -> str:
    if by_grid:
        return _OWN.format(where=_IN_UNIT_GRIDS if unit else "e.grid_code IS NOT NULL")
    if unit is not None and len(unit) > UNIT_LENGTHS["community"]:
        return _OWN.format(where=_IN_UNIT_GRIDS)
    return _KEPT


def _counts(row: Mapping) -> dict[str, int]:
    return {c: int(row[c] or 0) for c in (*KEPT_COUNTS, "overdue_open")}


def _window(periods) -> dict:
    return {"first": min(p.start for p in periods), "last": max(p.end for p in periods)}


_BY_PERIOD = f"""
WITH period (label, first, last) AS (
  SELECT * FROM jsonb_to_recordset(CAST(:periods AS jsonb))
    AS p(label text, first date, last date)),
kept AS (
  SELECT p.label, {_SUMS}
    FROM period p JOIN ({{source}}) s ON s.day >= p.first AND s.day < p.last
   GROUP BY p.label),
live AS (
  SELECT p.label, sum(o.overdue_open) AS overdue_open
    FROM period p JOIN ({_OVERDUE_OPEN}) o ON o.day >= p.first AND o.day < p.last
   GROUP BY p.label)
SELECT p.label, {", ".join(f"kept.{c}" for c in KEPT_COUNTS)},
       coalesce(live.overdue_open, 0) AS overdue_open
  FROM period p LEFT JOIN kept USING (label) LEFT JOIN live USING (label)
"""


def sums_by_period(conn: Connection, periods: Mapping[str, Period], unit: str | None,
                   now: datetime) -> dict[str, dict[str, int]]:
    """The counts of each named period (the current one, 环比, 同比), one round trip."""
    rows = conn.execute(text(_BY_PERIOD.format(source=_source(unit, by_grid=False))), {
        "periods": json.dumps([{"label": label, "first": p.start.isoformat(),
                                "last": p.end.isoformat()} for label, p in periods.items()]),
        "unit": unit, "now": now, **_window(periods.values()),
    }).mappings()
    return {row["label"]: _counts(row) for row in rows}


_TREND = f"""
WITH kept AS (
  SELECT CAST(date_trunc(:bucket, s.day) AS date) AS bucket, {_SUMS}
    FROM ({{source}}) s GROUP BY 1),
live AS (
  SELECT CAST(date_trunc(:bucket, o.day) AS date) AS bucket, sum(o.overdue_open) AS overdue_open
    FROM ({_OVERDUE_OPEN}) o GROUP BY 1)
SELECT kept.*, coalesce(live.overdue_open, 0) AS overdue_open
  FROM kept LEFT JOIN live USING (bucket)
 ORDER BY bucket
"""


def trend(conn: Connection, period: Period, unit: str | None, bucket: str,
          now: datetime) -> list[tuple[date, dict[str, int]]]:
    """The counts by day, week (from Monday) or month within the period, oldest first;
    buckets without a case are left out."""
    if bucket not in BUCKETS:
        raise ValueError(f"unknown bucket {bucket!r}")
    rows = conn.execute(text(_TREND.format(source=_source(unit, by_grid=False))), {
        "bucket": bucket, "unit": unit, "now": now, "first": period.start,
        "last": period.end}).mappings()
    return [(row["bucket"], _counts(row)) for row in rows]


_BY_UNIT = f"""
WITH kept AS (
  SELECT left(s.code, :length) AS code, {_SUMS}
    FROM ({{source}}) s WHERE s.code IS NOT NULL GROUP BY 1),
live AS (
  SELECT left(o.code, :length) AS code, sum(o.overdue_open) AS overdue_open
    FROM ({_OVERDUE_OPEN}) o WHERE o.code IS NOT NULL GROUP BY 1)
SELECT kept.*, coalesce(live.overdue_open, 0) AS overdue_open
  FROM kept LEFT JOIN live USING (code)
 ORDER BY code
"""


def by_unit(conn: Connection, period: Period, level: str, unit: str | None,
            now: datetime) -> dict[str, dict[str, int]]:
    """The counts of each street, community or grid (`level`) within `unit`."""
    sql = _BY_UNIT.format(source=_source(unit, by_grid=level == "grid"))
    rows = conn.execute(text(sql), {
        "length": UNIT_LENGTHS[level], "unit": unit, "now": now,
        "first": period.start, "last": period.end}).mappings()
    return {row["code"]: _counts(row) for row in rows}


_KIND_SUMS = ", ".join(f"coalesce(sum(s.{c}), 0) AS {c}" for c in KIND_COUNTS)

# the whole district: its kept sums by kind
_BY_KIND_KEPT = f"""
SELECT s.dimension, s.value, {_KIND_SUMS}
  FROM onemap.event_day_kind_stat s
 WHERE s.day >= :first AND s.day < :last
 GROUP BY s.dimension, s.value
"""

# a street, community or grid: its own cases (tens of thousands a year at most), every kind
# in one pass
_BY_KIND_OWN = f"""
SELECT k.dimension, k.value, {", ".join(f"sum((k.m).{c}) AS {c}" for c in KIND_COUNTS)}
  FROM (SELECT e.m, d.dimension, d.value
          FROM (SELECT e.channel, e.level, coalesce(c.parent_code, e.category_code) AS class,
                       onemap.event_measures(e) AS m
                  FROM onemap.event e
                  LEFT JOIN onemap.event_category c ON c.code = e.category_code
                 WHERE {_IN_UNIT_GRIDS} AND {_IN_WINDOW}) e
         CROSS JOIN LATERAL (VALUES ('channel', e.channel), ('category', e.class),
                                    ('level', CAST(e.level AS text))) d(dimension, value)) k
 GROUP BY k.dimension, k.value
"""


def by_kind(conn: Connection, period: Period,
            unit: str | None) -> dict[str, dict[str, dict[str, int]]]:
    """Cases received, registered, closed and closed on time by channel, category class and
    level: {dimension: {value: counts}}. `unit` None is the whole district (the kept sums are
    the district's: a narrower scope must name its unit)."""
    sql = _BY_KIND_KEPT if unit is None or len(unit) <= UNIT_LENGTHS["district"] \
        else _BY_KIND_OWN
    rows = conn.execute(text(sql), {"unit": unit, "first": period.start,
                                    "last": period.end}).mappings()
    kinds: dict[str, dict[str, dict[str, int]]] = {d: {} for d in DIMENSIONS}
    for row in rows:
        if any(row[c] for c in KIND_COUNTS):
            kinds[row["dimension"]][row["value"]] = {c: int(row[c]) for c in KIND_COUNTS}
    return kinds

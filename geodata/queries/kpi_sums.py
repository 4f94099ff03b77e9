"""The cockpit's counts: sums of `onemap.event_measures` kept by day and unit (district,
street, community) and by kind (migration 0024), plus the one count that moves with the clock
(registered cases still open past their limit), counted live from the few open cases.

Every function runs on a scoped connection: row-level security keeps the sums to the caller's
units as it keeps the events to their grids. `unit` is the administrative unit counted
(district 6, street 9, community 12, grid 15 digits). A grid, or a community's counts by
grid, come from the cases themselves (a few thousand a year at most), summed by the same
`onemap.event_measures`; cases without a grid are in no unit's figures. Dates are local days
(Asia/Shanghai), `end` excluded. The formulas over these counts are onemap/domain/kpi.py's.
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

# (day, code, in_total, in_units, counts…) of the window: the kept sums of the unit itself
# (in its total) and of its children one level down (in the units), or a unit's own cases by
# grid (in both)
_KEPT = f"""
SELECT s.day, s.unit_code AS code, s.unit_code = :unit AS in_total,
       s.unit_code <> :unit AS in_units, {", ".join(f"s.{c}" for c in KEPT_COUNTS)}
  FROM onemap.event_day_stat s
 WHERE (s.unit_code = :unit
        OR (length(s.unit_code) = :length AND starts_with(s.unit_code, :unit)))
   AND s.day >= :first AND s.day < :last
"""
_OWN = f"""
SELECT {_DAY} AS day, e.grid_code AS code, true AS in_total, true AS in_units,
       {", ".join(f"(m).{c}" for c in KEPT_COUNTS)}
  FROM (SELECT e.reported_at, e.grid_code, onemap.event_measures(e) AS m
          FROM onemap.event e WHERE {_IN_UNIT_GRIDS} AND {_IN_WINDOW}) e
"""

# the open cases past their limit, registered (not a report waiting for registration): the
# partial index ix_event_open holds only open cases
_OVERDUE_OPEN = f"""
SELECT {_DAY} AS day, e.grid_code AS code, count(*) AS overdue_open
  FROM onemap.event e
 WHERE onemap.event_is_open(e.state) AND e.due_at < :now AND e.registered_at IS NOT NULL
   AND {_IN_WINDOW} AND starts_with(e.grid_code, :unit)
 GROUP BY 1, 2
"""

_SUMS = ", ".join(f"coalesce(sum(r.{c}), 0) AS {c}" for c in (*KEPT_COUNTS, "overdue_open"))
_NO_COUNTS = ", ".join(f"0 AS {c}" for c in KEPT_COUNTS)


def _source(unit: str, level: str | None) -> str:
    """The kept sums, except for a grid and for the grids of a community: their own cases."""
    if level == "grid" or len(unit) >= UNIT_LENGTHS["grid"]:
        return _OWN
    return _KEPT


# One pass over the window's sums (and the open cases past their limit), then as many
# groupings of it as the caller asks for: the named periods, the trend's buckets, the child
# units of the current period. The source is read once (row-level security and all); each
# grouping works on the rows in memory.
_SUMMED = f"""
WITH period AS MATERIALIZED (
  SELECT * FROM jsonb_to_recordset(CAST(:periods AS jsonb))
    AS p(label text, first date, last date)),
counted AS MATERIALIZED (
  SELECT s.*, 0 AS overdue_open FROM ({{source}}) s
  UNION ALL
  SELECT o.day, o.code, true, true, {_NO_COUNTS}, o.overdue_open FROM ({_OVERDUE_OPEN}) o)
SELECT 'period' AS part, p.label AS key, {_SUMS}
  FROM period p JOIN counted r ON r.day >= p.first AND r.day < p.last AND r.in_total
 GROUP BY p.label
UNION ALL
SELECT 'trend', CAST(CAST(date_trunc(:bucket, r.day) AS date) AS text), {_SUMS}
  FROM counted r
 WHERE :bucket <> '' AND r.in_total AND r.day >= :trend_first AND r.day < :trend_last
 GROUP BY 2
UNION ALL
SELECT 'unit', left(r.code, :length), {_SUMS}
  FROM counted r
 WHERE :length > 0 AND r.in_units AND r.day >= :unit_first AND r.day < :unit_last
 GROUP BY 2
"""


def _counts(row: Mapping) -> dict[str, int]:
    return {c: int(row.get(c) or 0) for c in (*KEPT_COUNTS, "overdue_open")}


def summed(conn: Connection, periods: Mapping[str, Period], unit: str, now: datetime,
           trend_of: tuple[Period, str] | None = None,
           units_of: tuple[Period, str] | None = None) -> dict[str, dict]:
    """In one round trip: the counts of each named period (the current one, 环比, 同比); with
    `trend_of` (period, bucket) its counts by day, week or month; with `units_of` (period,
    level) its counts by street, community or grid within `unit`. Returns {"period": {label:
    counts}, "trend": {bucket start: counts} (buckets without a case left out), "unit": {code:
    counts}}."""
    if trend_of and trend_of[1] not in BUCKETS:
        raise ValueError(f"unknown bucket {trend_of[1]!r}")
    if units_of and units_of[1] not in UNIT_LENGTHS:
        raise ValueError(f"unknown level {units_of[1]!r}")
    spans = [*periods.values(), *(p for p, _ in filter(None, (trend_of, units_of)))]
    none = Period("custom", date.min, date.min.replace(day=2))  # an empty span, never matched
    trend_period, bucket = trend_of or (none, "")
    unit_period, level = units_of or (none, None)
    # a plan for these values: a generic plan (psycopg prepares a statement run five times)
    # cannot tell a month of a district from a year of a community, and took 3× as long
    conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    rows = conn.execute(text(_SUMMED.format(source=_source(unit, level))), {
        "periods": json.dumps([{"label": label, "first": p.start.isoformat(),
                                "last": p.end.isoformat()} for label, p in periods.items()]),
        "unit": unit, "now": now, "first": min(p.start for p in spans),
        "last": max(p.end for p in spans), "bucket": bucket,
        "trend_first": trend_period.start, "trend_last": trend_period.end,
        "length": UNIT_LENGTHS[level] if level else 0,
        "unit_first": unit_period.start, "unit_last": unit_period.end,
    }).mappings()
    found: dict[str, dict] = {"period": {label: _counts({}) for label in periods},
                              "trend": {}, "unit": {}}
    for row in rows:
        key = date.fromisoformat(row["key"]) if row["part"] == "trend" else row["key"]
        found[row["part"]][key] = _counts(row)
    found["trend"] = dict(sorted(found["trend"].items()))
    return found


def sums_by_period(conn: Connection, periods: Mapping[str, Period], unit: str,
                   now: datetime) -> dict[str, dict[str, int]]:
    """The counts of each named period (the current one, 环比, 同比)."""
    return summed(conn, periods, unit, now)["period"]


def trend(conn: Connection, period: Period, unit: str, bucket: str,
          now: datetime) -> list[tuple[date, dict[str, int]]]:
    """The counts by day, week (from Monday) or month within the period, oldest first;
    buckets without a case are left out."""
    return list(summed(conn, {}, unit, now, trend_of=(period, bucket))["trend"].items())


def by_unit(conn: Connection, period: Period, level: str, unit: str,
            now: datetime) -> dict[str, dict[str, int]]:
    """The counts of each street, community or grid (`level`) within `unit`."""
    return summed(conn, {}, unit, now, units_of=(period, level))["unit"]


_KIND_SUMS = ", ".join(f"coalesce(sum(s.{c}), 0) AS {c}" for c in KIND_COUNTS)

# a district or a street: its kept sums by kind
_BY_KIND_KEPT = f"""
SELECT s.dimension, s.value, {_KIND_SUMS}
  FROM onemap.event_day_kind_stat s
 WHERE s.unit_code = :unit AND s.day >= :first AND s.day < :last
 GROUP BY s.dimension, s.value
"""

# a community or a grid: its own cases (a few thousand a year at most), every kind in one
# pass
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
            unit: str) -> dict[str, dict[str, dict[str, int]]]:
    """Cases received, registered, closed and closed on time by channel, category class and
    level: {dimension: {value: counts}}."""
    sql = _BY_KIND_KEPT if len(unit) <= UNIT_LENGTHS["street"] else _BY_KIND_OWN
    conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))  # as summed() says
    rows = conn.execute(text(sql), {"unit": unit, "first": period.start,
                                    "last": period.end}).mappings()
    kinds: dict[str, dict[str, dict[str, int]]] = {d: {} for d in DIMENSIONS}
    for row in rows:
        if any(row[c] for c in KIND_COUNTS):
            kinds[row["dimension"]][row["value"]] = {c: int(row[c]) for c in KIND_COUNTS}
    return kinds

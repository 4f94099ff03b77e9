"""绩效考评 in the database: the weight schemes, a month's scores worked out from the cases, and
frozen months (migration 0025; the formula is onemap/domain/appraisal.py's).

A month is scored from its cases by the same `onemap.event_measures` the cockpit sums (a case
counts in the month it was reported, in the grid it is in and with the department and worker
it is assigned to now), plus the cases that drew a supervision notice. Freezing writes those
rows once; the appraisal page shows frozen months by default and never recomputes them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import Connection, text

from onemap.domain import appraisal, kpi

ZONE = "Asia/Shanghai"
KEYS = {"street": "left(e.grid_code, 9)", "community": "left(e.grid_code, 12)",
        "grid": "e.grid_code", "department": "e.department_code",
        "staff": "CAST(e.assigned_staff_id AS text)"}
# grid workers only: the departments' responders are appraised with their department
ONLY = {"staff": "AND e.assigned_staff_id IN (SELECT id FROM onemap.staff"
                 " WHERE tier = 'grid_worker')"}
NAMES = {
    "street": "SELECT code, name FROM onemap.admin_unit WHERE level = 'street'",
    # with the unit above: community names repeat across streets
    "community": ("SELECT a.code, a.name || '（' || p.name || '）' FROM onemap.admin_unit a"
                  " JOIN onemap.admin_unit p ON p.code = a.parent_code"
                  " WHERE a.level = 'community'"),
    "grid": ("SELECT a.code, a.name || '（' || p.name || '）' FROM onemap.admin_unit a"
             " JOIN onemap.admin_unit p ON p.code = a.parent_code WHERE a.level = 'grid'"),
    "department": "SELECT code, name_zh FROM onemap.department",
    "staff": "SELECT CAST(id AS text), name FROM onemap.staff WHERE tier = 'grid_worker'",
}

# a month's cases by key, counted as the cockpit counts them, with the live count of cases
# past their limit (cases due = closed + those) and of cases that drew a supervision notice
_COUNTS = f"""
SELECT k.key, {", ".join(f"sum((k.m).{c}) AS {c}" for c in kpi.KEPT_COUNTS)},
       count(*) FILTER (WHERE k.overdue_open) AS overdue_open,
       count(*) FILTER (WHERE k.supervised AND ((k.m).closed = 1 OR k.overdue_open))
         AS supervised
  FROM (SELECT {{key}} AS key, onemap.event_measures(e) AS m,
               onemap.event_is_open(e.state) AND e.due_at < :now
                 AND e.registered_at IS NOT NULL AS overdue_open,
               EXISTS (SELECT 1 FROM onemap.event_history h
                        WHERE h.event_id = e.id AND h.action = 'supervise') AS supervised
          FROM onemap.event e
         WHERE starts_with(e.grid_code, :unit)
           AND e.reported_at >= CAST(:first AS timestamp) AT TIME ZONE '{ZONE}'
           AND e.reported_at < CAST(:last AS timestamp) AT TIME ZONE '{ZONE}'
           AND {{key}} IS NOT NULL {{only}}) k
 GROUP BY k.key
"""


def schemes(conn: Connection) -> list[appraisal.Scheme]:
    """Every scheme there has been, newest first."""
    rows = conn.execute(text("SELECT version, weights, note FROM onemap.appraisal_scheme"
                             " ORDER BY version DESC")).all()
    return [appraisal.Scheme(r.version, dict(r.weights), r.note or "") for r in rows]


def current_scheme(conn: Connection) -> appraisal.Scheme:
    """The newest scheme: what a month is scored by when it is frozen."""
    return schemes(conn)[0]


def add_scheme(conn: Connection, weights: Mapping[str, float], note: str,
               created_by: str) -> appraisal.Scheme:
    """A new version with these weights (checked); earlier versions stay as they were."""
    checked = appraisal.checked_weights(weights)
    version = conn.execute(text(
        "INSERT INTO onemap.appraisal_scheme (weights, note, created_by)"
        " VALUES (CAST(:w AS jsonb), :note, :by) RETURNING version"),
        {"w": json.dumps(checked), "note": note, "by": created_by}).scalar_one()
    return appraisal.Scheme(version, checked, note)


def month_rows(conn: Connection, month: date, level: str, unit: str, now: datetime,
               scheme: appraisal.Scheme) -> list[dict]:
    """Every street, community, grid, department or grid worker (`level`) of `unit` with
    cases in the month: name, counts, KPIs, score and rank, best first."""
    if level not in KEYS:
        raise ValueError(f"unknown level {level!r}")
    period = kpi.period_of("month", month)
    conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    found = conn.execute(text(_COUNTS.format(key=KEYS[level], only=ONLY.get(level, ""))), {
        "unit": unit, "now": now, "first": period.start, "last": period.end}).mappings().all()
    names = dict(conn.execute(text(NAMES[level])).all())
    rows = []
    for row in found:
        counts = kpi.with_derived({c: int(row[c] or 0) for c in (
            *kpi.KEPT_COUNTS, "overdue_open", "supervised")})
        values = kpi.values(counts)
        rows.append({"key": row["key"], "name": names.get(row["key"], row["key"]),
                     "counts": counts, "values": values,
                     "score": appraisal.score(scheme, values, counts["supervised"],
                                              counts["due"])})
    ranks = appraisal.ranked((r["key"], r["score"]) for r in rows)
    for row in rows:
        row["rank"] = ranks.get(row["key"])
    return sorted(rows, key=lambda r: (r["rank"] is None, r["rank"] or 0, r["key"]))


class AlreadyFrozen(ValueError):
    """A frozen month is never written again."""


def freeze(conn: Connection, month: date, unit: str, now: datetime, frozen_by: str,
           scheme: appraisal.Scheme | None = None) -> dict[str, int]:
    """Score the month at every level by the current (or the given) scheme and keep it; rows
    written per level. AlreadyFrozen for a month that has been."""
    month = month.replace(day=1)
    if conn.execute(text("SELECT 1 FROM onemap.appraisal_snapshot WHERE month = :m LIMIT 1"),
                    {"m": month}).first():
        raise AlreadyFrozen(f"{month:%Y-%m} is frozen already")
    scheme = scheme or current_scheme(conn)
    written = {}
    for level in appraisal.LEVELS:
        rows = month_rows(conn, month, level, unit, now, scheme)
        for row in rows:
            conn.execute(text(
                "INSERT INTO onemap.appraisal_snapshot (month, level, key, name, scheme_version,"
                " counts, score, rank, frozen_by) VALUES (:month, :level, :key, :name, :v,"
                " CAST(:counts AS jsonb), :score, :rank, :by)"), {
                "month": month, "level": level, "key": row["key"], "name": row["name"],
                "v": scheme.version, "counts": json.dumps(row["counts"]),
                "score": None if row["score"] is None else round(row["score"], 2),
                "rank": row["rank"], "by": frozen_by})
        written[level] = len(rows)
    return written


def frozen_months(conn: Connection) -> list[tuple[date, int]]:
    """(month, scheme version) of every frozen month the caller may see, newest first."""
    return [tuple(r) for r in conn.execute(text(
        "SELECT month, min(scheme_version) FROM onemap.appraisal_snapshot"
        " GROUP BY month ORDER BY month DESC")).all()]


def snapshot(conn: Connection, month: date, level: str) -> list[dict]:
    """A frozen month's rows at one level, as they were frozen, best first."""
    rows = conn.execute(text(
        "SELECT key, name, counts, score, rank, scheme_version FROM onemap.appraisal_snapshot"
        " WHERE month = :m AND level = :level ORDER BY rank NULLS LAST, key"),
        {"m": month.replace(day=1), "level": level}).mappings().all()
    return [{"key": r["key"], "name": r["name"], "counts": dict(r["counts"]),
             "values": kpi.values(r["counts"]),
             "score": None if r["score"] is None else float(r["score"]), "rank": r["rank"],
             "scheme_version": r["scheme_version"]} for r in rows]

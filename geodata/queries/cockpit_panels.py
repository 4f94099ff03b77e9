"""The cockpit's population and infrastructure panels: counts only, never a name.

People come from the maintained statistics (admin_unit_stat, admin_unit_age_stat: migrations
0020, 0026), so a district's 800 k residents are not counted on a page view; a grid's few
hundred are counted from the people themselves. Cameras and sensor alarms are counted live
(thousands, not hundreds of thousands). Runs on a scoped connection.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, text

from onemap.domain.kpi import Period

ZONE = "Asia/Shanghai"
GRID_LENGTH = 15

_AGES_KEPT = """
SELECT gender, birth_year, people FROM onemap.admin_unit_age_stat WHERE code = :unit
"""
# a grid: its residents themselves (as refresh_age_stats counts them)
_AGES_OWN = """
SELECT r.gender, r.born AS birth_year, count(*) AS people
  FROM (SELECT DISTINCT ON (p.id) p.gender, CAST(extract(year FROM p.birth_date) AS integer)
               AS born
          FROM onemap.person p
          JOIN onemap.person_household ph ON ph.person_id = p.id AND ph.kind = 'residence'
          JOIN onemap.household h ON h.id = ph.household_id
          JOIN onemap.building b ON b.id = h.building_id
         WHERE b.grid_code = :unit
         ORDER BY p.id, ph.household_id) r
 GROUP BY 1, 2
"""


def ages(conn: Connection, unit: str) -> list[tuple[str, int, int]]:
    """(gender, birth year, residents) of the unit."""
    sql = _AGES_OWN if len(unit) >= GRID_LENGTH else _AGES_KEPT
    return [tuple(row) for row in conn.execute(text(sql), {"unit": unit}).all()]


_UNIT_STATS = """
SELECT code, level, rooms, self_occupied, rented, vacant, commercial, residents, key_groups
  FROM onemap.admin_unit_stat
 WHERE code = :unit OR (length(code) = :child AND starts_with(code, :unit))
"""


def unit_stats(conn: Connection, unit: str) -> tuple[dict | None, dict[str, dict]]:
    """(the unit's rooms by occupancy, residents and key groups; the same of each unit one
    level down)."""
    own, children = None, {}
    for row in conn.execute(text(_UNIT_STATS), {"unit": unit, "child": len(unit) + 3}).mappings():
        if row["code"] == unit:
            own = dict(row)
        else:
            children[row["code"]] = dict(row)
    return own, children


_CAMERAS = """
SELECT status, count(*) AS cameras FROM onemap.camera
 WHERE starts_with(grid_code, :unit) GROUP BY status
"""


def cameras(conn: Connection, unit: str) -> dict[str, int]:
    """Cameras of the unit by status (online, offline, fault)."""
    return dict(conn.execute(text(_CAMERAS), {"unit": unit}).all())


_ALARMS = f"""
SELECT s.kind,
       count(*) FILTER (WHERE a.raised_at >= CAST(:first AS timestamp) AT TIME ZONE '{ZONE}'
                          AND a.raised_at < CAST(:last AS timestamp) AT TIME ZONE '{ZONE}')
         AS raised,
       count(*) FILTER (WHERE a.cleared_at IS NULL) AS open
  FROM onemap.sensor_alarm a JOIN onemap.sensor s ON s.id = a.sensor_id
 WHERE starts_with(s.grid_code, :unit)
   AND (a.cleared_at IS NULL
        OR a.raised_at >= CAST(:first AS timestamp) AT TIME ZONE '{ZONE}')
 GROUP BY s.kind
"""


def sensor_alarms(conn: Connection, unit: str, period: Period) -> dict[str, dict[str, int]]:
    """Sensor alarms of the unit by kind: raised in the period, and open now."""
    rows = conn.execute(text(_ALARMS), {"unit": unit, "first": period.start,
                                        "last": period.end}).mappings()
    return {row["kind"]: {"raised": row["raised"], "open": row["open"]} for row in rows}


def age_band(birth_year: int, now: datetime, width: int = 5, top: int = 85) -> int:
    """The lower bound of the age band a birth year falls in this year (85: 85 and over)."""
    return min(max(now.year - birth_year, 0) // width * width, top)

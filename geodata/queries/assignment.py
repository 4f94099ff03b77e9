"""Where a case goes on arrival and who could take it: the grid of a point (or the nearest
within 50 m; asked by events.register with the rest of a case's arrival), and the staff to
suggest for dispatch.

Runs on the caller's scoped connection: only grids and staff inside the caller's scope are
candidates, so a suggestion never names somebody the user may not see.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from onemap.domain.lifecycle import WITH_STAFF_STATES

# The grid covering the point `point.p`; else the nearest one within the snap distance. The
# KNN operator (<->) walks the GiST index nearest first, so this reads a handful of grids
# whatever the district's size. A scalar subquery: events.register asks it along with the
# rest of what a new case needs, in one statement.
GRID_OF_POINT = """
SELECT code FROM (
  SELECT g.code, ST_Covers(g.geom, point.p) AS inside,
         ST_Distance(g.geom::geography, point.p::geography) AS metres
    FROM onemap.grid g
   ORDER BY g.geom <-> point.p
   LIMIT 4
) nearest
WHERE inside OR metres <= :snap
ORDER BY inside DESC, metres, code
LIMIT 1
"""

_BUSY = ", ".join(f"'{state}'" for state in WITH_STAFF_STATES)

# The case's own grid's workers on duty first (the least loaded of them leading), then the
# nearest available staff of its community or of no grid (departments), by their last
# position; each with distance and load.
_SUGGEST = f"""
WITH e AS (SELECT id, geom, grid_code FROM onemap.event WHERE id = :id),
candidates AS (
  (SELECT s.id, 0 AS rank FROM onemap.staff s, e
    WHERE s.grid_code = e.grid_code AND s.on_duty
      AND s.tier IN ('grid_worker', 'part_time', 'piece_leader'))
  UNION ALL
  (SELECT s.id, 1 AS rank FROM onemap.staff s, e
    WHERE s.on_duty AND s.status = 'available' AND s.last_position IS NOT NULL
      -- a worker of another community's grid would be sent a case they may not open
      AND (s.grid_code IS NULL OR left(s.grid_code, 12) = left(e.grid_code, 12))
    ORDER BY s.last_position <-> e.geom
    LIMIT :limit)
)
SELECT * FROM (
  SELECT s.id, s.name, s.tier, s.grid_code, s.on_duty, s.status,
         round(ST_Distance(s.last_position::geography, e.geom::geography)) AS distance_m,
         (SELECT count(*) FROM onemap.event x
           WHERE x.assigned_staff_id = s.id AND x.state IN ({_BUSY})) AS open_cases,
         s.grid_code IS NOT DISTINCT FROM e.grid_code AS same_grid,
         min(c.rank) AS rank
    FROM candidates c JOIN onemap.staff s ON s.id = c.id CROSS JOIN e
   GROUP BY s.id, e.geom, e.grid_code
) suggestion
ORDER BY rank, CASE WHEN rank = 0 THEN open_cases END, distance_m NULLS LAST, id
LIMIT :limit
"""


def suggest_staff(conn: Connection, event_id: int, limit: int = 5) -> list[dict]:
    """Who could take the case, best first (`suggested` marks the first): the on-duty workers
    of its grid, least loaded first, then the nearest available staff. Empty for a case not
    in the caller's scope."""
    rows = conn.execute(text(_SUGGEST), {"id": event_id, "limit": limit}).mappings().all()
    return [{**{k: v for k, v in row.items() if k != "rank"},
             "distance_m": None if row["distance_m"] is None else int(row["distance_m"]),
             "suggested": i == 0} for i, row in enumerate(rows)]

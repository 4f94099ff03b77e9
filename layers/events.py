"""Events on the map: the open cases, their dispatch lines, and the heatmap of reports."""

from __future__ import annotations

from onemap.domain.lifecycle import WITH_STAFF_STATES

from .base import Layer
from .sql import VIEWPORT

_WITH_STAFF = ", ".join(f"'{s}'" for s in WITH_STAFF_STATES)

EVENTS = Layer(
    "events", "事件", "Events", "event", ("id", "level", "state", "overdue", "title"),
    live_topic="event",
    features_sql=f"""
        SELECT id, level, state, onemap.event_is_overdue(state, due_at)::int AS overdue, title,
               geom
          FROM onemap.event
         WHERE onemap.event_is_active(state)  -- somebody works on it (the open-case index)
           AND geom && {VIEWPORT}
    """,
)

DISPATCH = Layer(
    "dispatch", "派遣连线", "Dispatch lines", "event", ("id", "overdue"),
    live_topic="event",
    features_sql=f"""
        WITH assigned AS MATERIALIZED (  -- the few hundred cases out with staff, by the
          SELECT id, state, due_at, geom, assigned_staff_id  -- open-case index; staff by key
            FROM onemap.event
           WHERE onemap.event_is_open(state) AND state IN ({_WITH_STAFF})
        )
        SELECT e.id, onemap.event_is_overdue(e.state, e.due_at)::int AS overdue,
               ST_MakeLine(e.geom, s.last_position) AS geom
          FROM assigned e
          JOIN onemap.staff s ON s.id = e.assigned_staff_id
         WHERE s.last_position IS NOT NULL
           AND (e.geom && {VIEWPORT} OR s.last_position && {VIEWPORT})
    """,
)

# PostgreSQL reads these as intervals
HEAT_WINDOWS = {"1h": ("1小时", "1 h"), "24h": ("24小时", "24 h"), "7d": ("7天", "7 d")}

# Binned in Web Mercator metres by arithmetic (the cheapest way PostGIS bins, see MEASURED.md),
# so the payload is bounded by the number of cells on the screen, not by the number of events.
HEATMAP = Layer(
    "heatmap", "事件热力", "Event heatmap", "event", ("n",),
    live_topic="event",
    options={"window": ("24h", "1h", "7d")},  # the first is the default
    features_sql=f"""
        WITH cells AS (
          SELECT floor(ST_X(p) / :cell_m) AS cx, floor(ST_Y(p) / :cell_m) AS cy, count(*) AS n
            FROM (SELECT ST_Transform(geom, 3857) AS p FROM onemap.event
                   WHERE reported_at >= now() - CAST(:window AS interval)
                     AND geom && {VIEWPORT}) AS recent
           GROUP BY 1, 2
        )
        SELECT n::int AS n,
               ST_Transform(ST_SetSRID(ST_MakePoint((cx + 0.5) * :cell_m, (cy + 0.5) * :cell_m),
                                       3857), 4326) AS geom
          FROM cells
    """,
)

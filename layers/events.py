"""Events on the map: the open cases, their dispatch lines, and the heatmap of reports."""

from __future__ import annotations

from onemap.domain.lifecycle import WITH_STAFF_STATES
from onemap.domain.vocab import EVENT_LEVELS, EVENT_STATES

from .base import Display, Layer, Option, Palette
from .sql import VIEWPORT

_WITH_STAFF = ", ".join(f"'{s}'" for s in WITH_STAFF_STATES)

LEVEL_PALETTE = Palette("level", {1: "#ff1744", 2: "#ff6d00", 3: "#ffc400", 4: "#29b6f6",
                                  5: "#90a4ae"}, EVENT_LEVELS)

# the outline of a case running late: yellow at 80 % of its stage's limit (预警), red past it
# (超期); assets/map.js draws them and the legend names them from here
EVENT_RINGS = {"warning": {"colour": "#ffd600", "zh": "预警", "en": "warning (80 % of the limit)"},
               "overdue": {"colour": "#ff1744", "zh": "超期", "en": "overdue"}}

EVENTS = Layer(
    "events", "事件", "Events", "event", ("id", "level", "state", "overdue", "warning", "title"),
    live_topic="event",
    features_sql=f"""
        SELECT id, level, state, onemap.event_is_overdue(state, due_at)::int AS overdue,
               (coalesce(warn_at <= now(), false)
                AND NOT onemap.event_is_overdue(state, due_at))::int
                 AS warning,  -- 预警: 80 % of its stage's limit used
               title, geom
          FROM onemap.event
         WHERE onemap.event_is_active(state)  -- somebody works on it (the open-case index)
           AND geom && {VIEWPORT}
    """,
    # tooltips speak the screen's language: the states' Chinese names go to the browser
    display=Display("events", {"pointToLayer": "eventMarker", "onEachFeature": "eventTooltip"},
                    palette=LEVEL_PALETTE, card="events",
                    hideout={"states": {code: zh for code, (zh, _en) in EVENT_STATES.items()},
                             "rings": EVENT_RINGS}),
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
    display=Display("lines", {"style": "dispatchStyle"}, card="events"),
)

HEAT_WINDOWS = {"1h": ("1小时", "1 h"), "24h": ("24小时", "24 h"), "7d": ("7天", "7 d")}

# Binned in Web Mercator metres by arithmetic (the cheapest way PostGIS bins, see MEASURED.md),
# so the payload is bounded by the number of cells on the screen, not by the number of events.
# The browser blurs the cells into one heat surface (leaflet.heat, assets/vendor/).
HEATMAP = Layer(
    "heatmap", "事件热力", "Event heatmap", "event", ("n",),
    live_topic="event",
    options=(Option("window", "热力时段", "Heatmap window", HEAT_WINDOWS, preset="24h"),),
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
    display=Display("heat", {"pointToLayer": "heatCell"}),
)

"""Events on the map: the open cases, their dispatch lines, and the heatmap of reports."""

from __future__ import annotations

from onemap.domain.lifecycle import WITH_STAFF_STATES
from onemap.domain.vocab import EVENT_LEVELS, EVENT_STATES

from .base import Display, Field, Layer, ONEMAP_ID, Option, Palette, Source
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
    live_topic="event", shared=True,
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
    live_topic="event", shared=True,
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

# a case's reporter is a person: masked, and only for roles that may look people up
EVENTS_SOURCE = Source(
    "events", "事件", "Events", """
    SELECT id, code, title, description, category_code, level, channel, state, address,
           grid_code, department_code, tier, reporter_name, reporter_phone, reported_at,
           registered_at, dispatched_at, handled_at, verified_at, closed_at, due_at,
           onemap.event_is_overdue(state, due_at) AS overdue, closure_kind, satisfaction,
           returned_count, handling_minutes, grid_code AS unit_code, geom
      FROM onemap.event""",
    (ONEMAP_ID, Field("code", "案卷编号", "case number"),
     Field("title", "标题", "title"), Field("description", "描述", "description"),
     Field("category_code", "类别", "category"), Field("level", "等级", "level", "int"),
     Field("channel", "来源", "channel"), Field("state", "状态", "state"),
     Field("address", "地址", "address"), Field("grid_code", "网格编码", "grid code"),
     Field("department_code", "处置部门", "department"), Field("tier", "处置层级", "tier"),
     Field("reporter_name", "上报人", "reporter", mask="name"),
     Field("reporter_phone", "上报人电话", "reporter phone", mask="phone"),
     Field("reported_at", "上报时间", "reported at", "time"),
     Field("registered_at", "立案时间", "registered at", "time"),
     Field("dispatched_at", "派遣时间", "dispatched at", "time"),
     Field("handled_at", "处置时间", "handled at", "time"),
     Field("verified_at", "核查时间", "verified at", "time"),
     Field("closed_at", "结案时间", "closed at", "time"),
     Field("due_at", "时限", "due at", "time"), Field("overdue", "超期", "overdue", "bool"),
     Field("closure_kind", "结案方式", "closure"),
     Field("satisfaction", "满意度", "satisfaction", "int"),
     Field("returned_count", "返工次数", "times returned", "int"),
     Field("handling_minutes", "处置用时(工作分钟)", "handling (working minutes)", "int")),
    "Point", time_field="reported_at", spatial=("event", "id"),
    # what a map styles and labels a case by; its texts stay in the OGC API and the exports
    tile_fields=("id", "code", "title", "category_code", "level", "state", "overdue",
                 "reported_at", "due_at"),
    tile_min_zoom=14)

# Square cells of HEAT_CELL_M metres on the ground (Web Mercator stretched back by the
# district's latitude), each with the reports in it: the heatmap as a layer an analyst can
# style, never a single report's place.
HEAT_CELL_M = 200
HEAT_GRID_SOURCE = Source(
    "heat_grid", "事件热力网格", "Event heat grid",
    "SELECT id, reported_at, grid_code AS unit_code, geom FROM onemap.event",
    (Field("cell", "网格单元", "cell"), Field("reports", "事件数", "reports", "int"),
     Field("first_at", "最早上报", "first report", "time"),
     Field("last_at", "最晚上报", "last report", "time")),
    "Polygon", id_field="cell", time_field="reported_at", spatial=("event", "id"),
    aggregate=f"""
    WITH size AS (
      SELECT {HEAT_CELL_M} / cos(radians(ST_Y(ST_Centroid(geom)))) AS m
        FROM onemap.district ORDER BY code LIMIT 1
    ), cells AS (
      SELECT floor(ST_X(p) / size.m) AS cx, floor(ST_Y(p) / size.m) AS cy, size.m,
             count(*) AS reports, min(reported_at) AS first_at, max(reported_at) AS last_at
        FROM (SELECT reported_at, ST_Transform(geom, 3857) AS p FROM filtered) f, size
       GROUP BY 1, 2, 3
    )
    SELECT concat(cx::bigint, '_', cy::bigint) AS cell, reports::int AS reports, first_at,
           last_at,
           ST_Transform(ST_MakeEnvelope(cx * m, cy * m, (cx + 1) * m, (cy + 1) * m, 3857), 4326)
             AS geom
      FROM cells""")

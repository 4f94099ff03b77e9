"""What the wall screen's rail shows: today's counters, the event feed and the alarm banner.

All within the caller's scope (row-level security). "Today" is the local day of the
command centre (Asia/Shanghai), however the server's clock is set.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

_TODAY = "(date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai')"

_COUNTERS = f"""
SELECT
  (SELECT coalesce(jsonb_object_agg(state, n), '{{}}') FROM (
     SELECT state, count(*) AS n FROM onemap.event WHERE reported_at >= {_TODAY} GROUP BY state
   ) AS today) AS today_by_state,
  (SELECT count(*) FROM onemap.event WHERE onemap.event_is_overdue(state, due_at)) AS overdue,
  (SELECT count(*) FROM onemap.sensor_alarm WHERE cleared_at IS NULL) AS sensor_alarms,
  (SELECT count(*) FILTER (WHERE status = 'online') FROM onemap.camera) AS cameras_online,
  (SELECT count(*) FROM onemap.camera) AS cameras
"""


def counters(conn: Connection) -> dict:
    """Today's events by state, overdue cases, open sensor alarms, cameras online of all."""
    row = conn.execute(text(_COUNTERS)).mappings().one()
    return {**row, "today_by_state": dict(row["today_by_state"])}


_FEED = """
SELECT e.id, e.code, e.title, e.level, e.state, e.reported_at, e.address,
       onemap.event_is_overdue(e.state, e.due_at) AS overdue,
       ST_Y(e.geom) AS lat, ST_X(e.geom) AS lng
  FROM onemap.event e
 ORDER BY e.reported_at DESC, e.id DESC
 LIMIT :limit
"""


def feed(conn: Connection, limit: int = 30) -> list[dict]:
    """The newest events, newest first."""
    return [dict(r) for r in conn.execute(text(_FEED), {"limit": limit}).mappings()]


# what makes the banner: a level-1/2 case while it is open (an emergency stays until the duty
# officer acknowledges it, however long ago it came in), a sensor alarm, a case that just ran
# out of time
_BANNER = """
(SELECT 'event:' || e.id AS key, 'urgent' AS kind, e.id AS event_id, NULL::bigint AS sensor_id,
        e.title AS text, e.level, e.reported_at AS at, ST_Y(e.geom) AS lat, ST_X(e.geom) AS lng,
        NULL AS tier
   FROM onemap.event e
  WHERE e.level <= 2 AND onemap.event_is_open(e.state))
UNION ALL
(SELECT 'alarm:' || a.id, 'sensor_alarm', a.event_id, s.id,
        -- a worn sensor by its code: the name a register gave it may carry its wearer's
        CASE WHEN s.person_id IS NULL THEN s.name ELSE s.code END, NULL, a.raised_at,
        ST_Y(s.geom), ST_X(s.geom), NULL
   FROM onemap.sensor_alarm a JOIN onemap.sensor s ON s.id = a.sensor_id
  WHERE a.raised_at >= now() - CAST(:window AS interval) AND a.cleared_at IS NULL)
UNION ALL
(SELECT 'overdue:' || e.id, 'overdue', e.id, NULL, e.title, e.level, e.due_at,
        ST_Y(e.geom), ST_X(e.geom),
        CASE WHEN e.urgency = 'overdue' THEN e.tier END  -- where the escalation job sent it
   FROM onemap.event e
  WHERE e.due_at >= now() - CAST(:window AS interval)
    AND onemap.event_is_overdue(e.state, e.due_at))
ORDER BY at DESC
LIMIT :limit
"""


def banner(conn: Connection, window: str = "1 hour", limit: int = 50) -> list[dict]:
    """Open emergencies, and alarms and overdue cases of the last `window`, newest first;
    `key` identifies each."""
    rows = conn.execute(text(_BANNER), {"window": window, "limit": limit}).mappings()
    return [dict(r) for r in rows]

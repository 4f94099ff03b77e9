"""Per-case KPI measures, kept summed by day and unit (district, street, community) and kind.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04

The leaders' cockpit reads a year of a district's cases on every refresh: counting 300 k
events under row-level security takes ~470 ms for one headline row, and a cockpit wants a
dozen figures, a trend, breakdowns and a map. So:

- `onemap.event_measures(e)`: the one definition of what a case adds to each count
  (received, registered, closed on time, …); the drill-through filters events by it, the sums
  below are made of it.
- `event_day_stat` (day, unit: the district, each street and each community) and
  `event_day_kind_stat` (day, unit: the district and each street, channel / category class /
  level): the sums, kept as an append-only log of changes. A unit's year is 365 rows, its
  children's a few thousand (by grid it would be 112 k rows, nearly one per case: a grid
  counts its own cases). Integers: a sum of integers adds in 64 bits, a sum of bigints in
  numeric. A statement trigger on
  `event` appends what each INSERT, UPDATE or DELETE changed (new rows' measures minus old
  rows'; nothing when a step changes no count, as most steps do), so the sums are exact at
  every commit. Appending takes no lock another report waits on (an upsert of a grid's row
  would serialise the grid's reports until commit); `onemap.compact_event_stats()` folds the
  log into one row per key now and then (the worker, the demo load). Readers always sum.
- `event.handling_minutes`: working minutes from registration to closure on the working
  calendar in force at closure (set by the loop when it closes a case; the calendar lives in
  Python, so existing closed cases are filled in here); `event.sent_back_count`: how often the
  case was sent back as not theirs by whoever it was dispatched to (退回重派), what dispatch
  accuracy counts.

Time-dependent counts (cases past their limit and still open) are not kept: they change with
the clock, and the open cases are few (the ix_event_open index).
"""

import json
from datetime import timedelta

from alembic import op
from sqlalchemy import text

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

APP_ROLE = "onemap_app"
ZONE = "Asia/Shanghai"  # the district's day (the working calendar's zone)
# a scope sees its own unit's rows and those of the units inside it
POLICY = "starts_with(unit_code, (SELECT onemap.current_scope()))"
# the levels kept: district, street, community (a grid counts its own cases)
LEVELS = "(VALUES (6), (9), (12))"
KIND_LEVELS = "(VALUES (6), (9))"

# kept by (day, grid); the kinds' table keeps the first four
MEASURES = ("received", "registered", "rejected", "closed", "closed_on_time", "returned",
            "extended", "proactive", "inspector_reports", "inspector_valid", "handled",
            "handling_minutes", "rated", "satisfaction_points", "satisfied", "dispatched",
            "dispatched_right")
KIND_MEASURES = ("received", "registered", "closed", "closed_on_time")

MEASURE_FUNCTION = f"""
CREATE TYPE onemap.event_measure AS (
  {", ".join(f"{m} integer" for m in MEASURES)}
);

-- what one case adds to each count; a merged report adds nothing (its case counts it)
CREATE FUNCTION onemap.event_measures(e onemap.event) RETURNS onemap.event_measure
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ROW(
    (e.state <> 'merged')::int,
    (e.registered_at IS NOT NULL AND e.state NOT IN ('rejected', 'merged'))::int,
    (e.state = 'rejected')::int,
    (e.state = 'closed')::int,
    (e.state = 'closed' AND e.closure_kind IS DISTINCT FROM 'overdue')::int,
    (e.registered_at IS NOT NULL AND e.state NOT IN ('rejected', 'merged')
       AND e.returned_count > 0)::int,
    (e.registered_at IS NOT NULL AND e.state NOT IN ('rejected', 'merged') AND e.extended)::int,
    (e.state <> 'merged' AND e.channel IN ('inspector', 'grid_worker', 'sensor', 'camera'))::int,
    (e.state <> 'merged' AND e.channel = 'inspector')::int,
    (e.state NOT IN ('rejected', 'merged') AND e.channel = 'inspector')::int,
    (e.state = 'closed' AND e.handling_minutes IS NOT NULL)::int,
    CASE WHEN e.state = 'closed' THEN coalesce(e.handling_minutes, 0) ELSE 0 END,
    (e.state <> 'merged' AND e.satisfaction IS NOT NULL)::int,
    CASE WHEN e.state <> 'merged' THEN coalesce(e.satisfaction, 0) ELSE 0 END,
    (e.state <> 'merged' AND coalesce(e.satisfaction >= 4, false))::int,
    (e.dispatched_at IS NOT NULL AND e.state NOT IN ('rejected', 'merged'))::int,
    (e.dispatched_at IS NOT NULL AND e.state NOT IN ('rejected', 'merged')
       AND e.sent_back_count = 0)::int
  )::onemap.event_measure
$$;
GRANT EXECUTE ON FUNCTION onemap.event_measures(onemap.event) TO {APP_ROLE};
"""


def _columns(measures) -> str:
    return ",\n  ".join(f"{m} integer NOT NULL DEFAULT 0" for m in measures)


TABLES = f"""
ALTER TABLE onemap.event ADD COLUMN handling_minutes integer
  CONSTRAINT ck_event_handling_minutes_not_negative CHECK (handling_minutes >= 0);
COMMENT ON COLUMN onemap.event.handling_minutes IS
  'Working minutes from registration to closure, on the calendar in force at closure.';
ALTER TABLE onemap.event ADD COLUMN sent_back_count smallint NOT NULL DEFAULT 0
  CONSTRAINT ck_event_sent_back_count_not_negative CHECK (sent_back_count >= 0);

CREATE TABLE onemap.event_day_stat (
  day date NOT NULL,
  unit_code varchar(12) NOT NULL,
  {_columns(MEASURES)}
);
COMMENT ON TABLE onemap.event_day_stat IS
  'Sums of onemap.event_measures by reporting day (Asia/Shanghai) and unit: the district, '
  'each street and each community; several rows per key until compacted: always sum.';
CREATE INDEX ix_event_day_stat_unit_code_day ON onemap.event_day_stat (unit_code, day);

CREATE TABLE onemap.event_day_kind_stat (
  day date NOT NULL,
  unit_code varchar(9) NOT NULL,
  dimension text NOT NULL CONSTRAINT ck_event_day_kind_stat_dimension
    CHECK (dimension IN ('channel', 'category', 'level')),
  value text,
  {_columns(KIND_MEASURES)}
);
COMMENT ON TABLE onemap.event_day_kind_stat IS
  'Sums of onemap.event_measures by reporting day, unit (the district, each street) and '
  'channel / category class / level; always sum.';
CREATE INDEX ix_event_day_kind_stat_unit_code_day ON onemap.event_day_kind_stat (unit_code, day);
"""

GRANTS = f"""
ALTER TABLE onemap.event_day_stat ENABLE ROW LEVEL SECURITY;
CREATE POLICY scope ON onemap.event_day_stat TO {APP_ROLE} USING ({POLICY})
  WITH CHECK (false);
REVOKE ALL ON onemap.event_day_stat FROM {APP_ROLE};
GRANT SELECT ON onemap.event_day_stat TO {APP_ROLE};
ALTER TABLE onemap.event_day_kind_stat ENABLE ROW LEVEL SECURITY;
CREATE POLICY scope ON onemap.event_day_kind_stat TO {APP_ROLE} USING ({POLICY})
  WITH CHECK (false);
REVOKE ALL ON onemap.event_day_kind_stat FROM {APP_ROLE};
GRANT SELECT ON onemap.event_day_kind_stat TO {APP_ROLE};
"""


def _nonzero(measures) -> str:
    return " OR ".join(f"sum(sign * (m).{m}) <> 0" for m in measures)


# the changed rows' keys and measures, signed: +1 for the rows as they are now, -1 for the rows
# as they were (UPDATE has both)
def _rows(source: str) -> str:
    return f"""
SELECT 1 AS sign, (n.reported_at AT TIME ZONE '{ZONE}')::date AS day, n.grid_code,
       n.channel, n.category_code, n.level, onemap.event_measures(n) AS m
  FROM {source} n
"""


_CHANGES = _rows("new_rows")
_GONE = f"""
SELECT -1 AS sign, (o.reported_at AT TIME ZONE '{ZONE}')::date AS day, o.grid_code,
       o.channel, o.category_code, o.level, onemap.event_measures(o) AS m
  FROM old_rows o
"""


def _append(changes: str) -> str:
    """Each change counted in its district, street and community (a case without a grid is in
    no unit's figures), and by kind in its district and street."""
    unit_sums = ", ".join(f"sum(sign * (m).{m})" for m in MEASURES)
    kind_sums = ", ".join(f"sum(sign * (m).{m})" for m in KIND_MEASURES)
    return f"""
  WITH change AS ({changes})
  INSERT INTO onemap.event_day_stat (day, unit_code, {", ".join(MEASURES)})
  SELECT c.day, left(c.grid_code, l.n), {unit_sums}
    FROM change c CROSS JOIN {LEVELS} l(n)
   WHERE c.grid_code IS NOT NULL
   GROUP BY c.day, left(c.grid_code, l.n)
  HAVING {_nonzero(MEASURES)};
  WITH change AS ({changes}),
       kinds AS (
    SELECT c.sign, c.day, left(c.grid_code, l.n) AS unit_code, k.dimension, k.value, c.m
      FROM change c
      CROSS JOIN {KIND_LEVELS} l(n)
      LEFT JOIN onemap.event_category cat ON cat.code = c.category_code
      CROSS JOIN LATERAL (VALUES ('channel', c.channel),
                                 ('category', coalesce(cat.parent_code, c.category_code)),
                                 ('level', CAST(c.level AS text))) k(dimension, value)
     WHERE c.grid_code IS NOT NULL)
  INSERT INTO onemap.event_day_kind_stat (day, unit_code, dimension, value,
                                          {", ".join(KIND_MEASURES)})
  SELECT day, unit_code, dimension, value, {kind_sums}
    FROM kinds GROUP BY day, unit_code, dimension, value
  HAVING {_nonzero(KIND_MEASURES)};"""


TRIGGERS = f"""
CREATE FUNCTION onemap.event_stats_added() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN {_append(_CHANGES)}
  RETURN NULL;
END $$;

CREATE FUNCTION onemap.event_stats_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN {_append(_CHANGES + " UNION ALL " + _GONE)}
  RETURN NULL;
END $$;

CREATE FUNCTION onemap.event_stats_removed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN {_append(_GONE)}
  RETURN NULL;
END $$;

CREATE FUNCTION onemap.event_stats_cleared() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  TRUNCATE onemap.event_day_stat, onemap.event_day_kind_stat;
  RETURN NULL;
END $$;

REVOKE EXECUTE ON FUNCTION onemap.event_stats_added(), onemap.event_stats_changed(),
  onemap.event_stats_removed(), onemap.event_stats_cleared() FROM PUBLIC, {APP_ROLE};

CREATE TRIGGER event_stats_added AFTER INSERT ON onemap.event
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION onemap.event_stats_added();
CREATE TRIGGER event_stats_changed AFTER UPDATE ON onemap.event
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION onemap.event_stats_changed();
CREATE TRIGGER event_stats_removed AFTER DELETE ON onemap.event
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
  EXECUTE FUNCTION onemap.event_stats_removed();
CREATE TRIGGER event_stats_cleared AFTER TRUNCATE ON onemap.event
  FOR EACH STATEMENT EXECUTE FUNCTION onemap.event_stats_cleared();
"""


def _fold(table: str, keys: tuple[str, ...], measures, into: str) -> str:
    columns = ", ".join(keys)
    same_key = " AND ".join(f"t.{k} IS NOT DISTINCT FROM d.{k}" for k in keys)
    sums = ", ".join(f"sum({m})" for m in measures)
    return f"""
  WITH doubled AS (SELECT {columns} FROM onemap.{table} GROUP BY {columns} HAVING count(*) > 1),
       gone AS (DELETE FROM onemap.{table} t USING doubled d WHERE {same_key} RETURNING t.*),
       summed AS (INSERT INTO onemap.{table} ({columns}, {", ".join(measures)})
                  SELECT {columns}, {sums} FROM gone GROUP BY {columns}
                  HAVING {" OR ".join(f"sum({m}) <> 0" for m in measures)})
  SELECT count(*) INTO {into} FROM gone;"""


COMPACT = f"""
-- one row per key: the rows of keys with several summed into one (none where they cancel
-- out); returns how many rows it folded. Rows appended while it runs are not in its
-- snapshot, so they stay as they are, and a second compaction at once deletes only rows the
-- first left (nothing lost or doubled).
CREATE FUNCTION onemap.compact_event_stats() RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  folded bigint;
  more bigint;
BEGIN {_fold("event_day_stat", ("day", "unit_code"), MEASURES, "folded")}
  {_fold("event_day_kind_stat", ("day", "unit_code", "dimension", "value"), KIND_MEASURES,
         "more")}
  RETURN folded + more;
END $$;
REVOKE EXECUTE ON FUNCTION onemap.compact_event_stats() FROM PUBLIC, {APP_ROLE};

-- the sums afresh from the cases there are (after a bulk load with the triggers off, or to
-- prove the log right: tests compare the two)
CREATE FUNCTION onemap.rebuild_event_stats() RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  LOCK TABLE onemap.event IN SHARE MODE;  -- no change in flight is lost between the two
  TRUNCATE onemap.event_day_stat, onemap.event_day_kind_stat; {_append(_rows("onemap.event"))}
END $$;
REVOKE EXECUTE ON FUNCTION onemap.rebuild_event_stats() FROM PUBLIC, {APP_ROLE};
"""


def _sql(statements: str) -> None:
    op.get_bind().exec_driver_sql(statements.replace("%", "%%"))


def _fill_handling_minutes() -> None:
    """Closed cases' working minutes from registration to closure on today's calendar."""
    from geodata.working_calendar import working_calendar  # the calendar lives in Python

    calendar = working_calendar()
    conn = op.get_bind()
    rows = conn.execute(text(
        "SELECT id, registered_at, closed_at FROM onemap.event"
        " WHERE state = 'closed' AND registered_at IS NOT NULL AND closed_at IS NOT NULL"
    )).all()
    minutes = [{"id": row.id, "minutes": int(
        calendar.working_time_between(row.registered_at, row.closed_at) / timedelta(minutes=1))}
        for row in rows]
    for start in range(0, len(minutes), 20_000):
        conn.execute(text(
            "UPDATE onemap.event e SET handling_minutes = CAST(v.m ->> 'minutes' AS integer)"
            "  FROM jsonb_array_elements(CAST(:rows AS jsonb)) v(m)"
            " WHERE e.id = CAST(v.m ->> 'id' AS bigint)"),
            {"rows": json.dumps(minutes[start:start + 20_000])})


def upgrade() -> None:
    _sql(TABLES)
    _fill_handling_minutes()
    _sql(MEASURE_FUNCTION)
    _sql(GRANTS)
    _sql(TRIGGERS)
    _sql(COMPACT)
    _sql("SELECT onemap.rebuild_event_stats();")


def downgrade() -> None:
    _sql("""
        DROP TRIGGER event_stats_cleared ON onemap.event;
        DROP TRIGGER event_stats_removed ON onemap.event;
        DROP TRIGGER event_stats_changed ON onemap.event;
        DROP TRIGGER event_stats_added ON onemap.event;
        DROP FUNCTION onemap.rebuild_event_stats();
        DROP FUNCTION onemap.compact_event_stats();
        DROP FUNCTION onemap.event_stats_cleared();
        DROP FUNCTION onemap.event_stats_removed();
        DROP FUNCTION onemap.event_stats_changed();
        DROP FUNCTION onemap.event_stats_added();
        DROP TABLE onemap.event_day_kind_stat;
        DROP TABLE onemap.event_day_stat;
        DROP FUNCTION onemap.event_measures(onemap.event);
        DROP TYPE onemap.event_measure;
        ALTER TABLE onemap.event DROP COLUMN handling_minutes;
        ALTER TABLE onemap.event DROP COLUMN IF EXISTS sent_back_count;
    """)

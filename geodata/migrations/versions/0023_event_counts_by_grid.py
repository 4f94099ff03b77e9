"""Events counted by grid up to a mark, and only the newer ones live.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04

The overview counted a district's 300 k events live, by their grid index, under row-level
security: 40 ms with an all-visible table, 95-170 ms when the visibility map lags behind the
day's writes (most of the overview's time). Events are added all day and never edited in
place where it matters here (their grid), so the count splits in two:

- `event_grid_count`: events per grid (one row for those without a grid) with ids up to
  `event_count_mark.counted_through`, rebuilt by `onemap.refresh_event_counts()`;
- the events past the mark, counted live by the primary key: the day's few.

The sum is exact at any moment, refreshed or not (the mark starts at 0: everything is live).
Nothing is added to the intake path (a per-grid counter bumped by each insert would serialise
reports in one grid on its row). The recount locks `event` in SHARE mode for its ~50 ms so
that every id up to the mark is committed: a report still being written when the mark is read
would otherwise get an id below it and be counted nowhere. Deletes and grid changes of counted
events adjust the rows (statement and row triggers; rare: cleanup, corrections); TRUNCATE
clears them and the mark.

`onemap worker` calls the recount every pass with `older_than` 10 minutes: whichever worker
comes first recounts, the others find it fresh and skip.
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

APP_ROLE = "onemap_app"
# the event table's own policy: a grid's rows to its scope, gridless ones to a district
POLICY = ("starts_with(grid_code, (SELECT onemap.current_scope()))"
          " OR (grid_code IS NULL AND (SELECT onemap.scope_is_district()))")

TABLES = f"""
CREATE TABLE onemap.event_grid_count (
  grid_code varchar(15),
  events bigint NOT NULL,
  CONSTRAINT uq_event_grid_count_grid_code UNIQUE NULLS NOT DISTINCT (grid_code)
);
COMMENT ON TABLE onemap.event_grid_count IS
  'Events per grid (NULL: without a grid) with ids up to event_count_mark.counted_through.';
ALTER TABLE onemap.event_grid_count ENABLE ROW LEVEL SECURITY;
CREATE POLICY scope ON onemap.event_grid_count TO {APP_ROLE} USING ({POLICY}) WITH CHECK (false);
REVOKE ALL ON onemap.event_grid_count FROM {APP_ROLE};
GRANT SELECT ON onemap.event_grid_count TO {APP_ROLE};

CREATE TABLE onemap.event_count_mark (
  only_row boolean DEFAULT true CONSTRAINT pk_event_count_mark PRIMARY KEY,
  counted_through bigint NOT NULL DEFAULT 0,
  refreshed_at timestamptz,
  CONSTRAINT ck_event_count_mark_one_row CHECK (only_row)
);
COMMENT ON TABLE onemap.event_count_mark IS
  'The last event id event_grid_count holds; later ones are counted live.';
INSERT INTO onemap.event_count_mark DEFAULT VALUES;
REVOKE ALL ON onemap.event_count_mark FROM {APP_ROLE};
GRANT SELECT ON onemap.event_count_mark TO {APP_ROLE};
"""

FUNCTIONS = f"""
CREATE FUNCTION onemap.refresh_event_counts(older_than interval DEFAULT interval '0')
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  mark bigint;
  counted bigint;
BEGIN
  IF (SELECT refreshed_at > now() - older_than FROM onemap.event_count_mark) THEN
    RETURN NULL;
  END IF;
  -- writers in flight finish first, new ones wait: every id up to the mark is committed.
  -- Taken before the counts' lock: a delete holds event and then asks for the counts.
  LOCK TABLE onemap.event IN SHARE MODE;
  LOCK TABLE onemap.event_grid_count IN SHARE ROW EXCLUSIVE MODE;
  IF (SELECT refreshed_at > now() - older_than FROM onemap.event_count_mark) THEN
    RETURN NULL;  -- another worker recounted while this one waited
  END IF;
  SELECT coalesce(max(id), 0) INTO mark FROM onemap.event;
  DELETE FROM onemap.event_grid_count;
  INSERT INTO onemap.event_grid_count (grid_code, events)
  SELECT grid_code, count(*) FROM onemap.event WHERE id <= mark GROUP BY grid_code;
  SELECT coalesce(sum(events), 0) INTO counted FROM onemap.event_grid_count;
  UPDATE onemap.event_count_mark SET counted_through = mark, refreshed_at = now();
  RETURN counted;
END $$;
REVOKE EXECUTE ON FUNCTION onemap.refresh_event_counts(interval) FROM PUBLIC, {APP_ROLE};

CREATE FUNCTION onemap.event_counts_forget() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  -- after a recount in flight has committed, so the mark read below is the one it set
  LOCK TABLE onemap.event_grid_count IN SHARE ROW EXCLUSIVE MODE;
  UPDATE onemap.event_grid_count c SET events = c.events - gone.n
    FROM (SELECT grid_code, count(*) AS n FROM old_rows
           WHERE id <= (SELECT counted_through FROM onemap.event_count_mark)
           GROUP BY grid_code) gone
   WHERE c.grid_code IS NOT DISTINCT FROM gone.grid_code;
  RETURN NULL;
END $$;

CREATE FUNCTION onemap.event_counts_move() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  LOCK TABLE onemap.event_grid_count IN SHARE ROW EXCLUSIVE MODE;
  IF OLD.id <= (SELECT counted_through FROM onemap.event_count_mark) THEN
    UPDATE onemap.event_grid_count SET events = events - 1
     WHERE grid_code IS NOT DISTINCT FROM OLD.grid_code;
    INSERT INTO onemap.event_grid_count (grid_code, events) VALUES (NEW.grid_code, 1)
    ON CONFLICT (grid_code) DO UPDATE SET events = onemap.event_grid_count.events + 1;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION onemap.event_counts_clear() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  DELETE FROM onemap.event_grid_count;
  UPDATE onemap.event_count_mark SET counted_through = 0, refreshed_at = NULL;
  RETURN NULL;
END $$;

REVOKE EXECUTE ON FUNCTION onemap.event_counts_forget(), onemap.event_counts_move(),
  onemap.event_counts_clear() FROM PUBLIC, {APP_ROLE};

CREATE TRIGGER event_counts_forget AFTER DELETE ON onemap.event
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
  EXECUTE FUNCTION onemap.event_counts_forget();
CREATE TRIGGER event_counts_move AFTER UPDATE OF grid_code ON onemap.event
  FOR EACH ROW WHEN (OLD.grid_code IS DISTINCT FROM NEW.grid_code)
  EXECUTE FUNCTION onemap.event_counts_move();
CREATE TRIGGER event_counts_clear AFTER TRUNCATE ON onemap.event
  FOR EACH STATEMENT EXECUTE FUNCTION onemap.event_counts_clear();
"""


def _sql(statements: str) -> None:
    op.get_bind().exec_driver_sql(statements.replace("%", "%%"))


def upgrade() -> None:
    _sql(TABLES)
    _sql(FUNCTIONS)
    _sql("SELECT onemap.refresh_event_counts();")


def downgrade() -> None:
    _sql("""
        DROP TRIGGER event_counts_clear ON onemap.event;
        DROP TRIGGER event_counts_move ON onemap.event;
        DROP TRIGGER event_counts_forget ON onemap.event;
        DROP FUNCTION onemap.event_counts_clear();
        DROP FUNCTION onemap.event_counts_move();
        DROP FUNCTION onemap.event_counts_forget();
        DROP FUNCTION onemap.refresh_event_counts(interval);
        DROP TABLE onemap.event_count_mark;
        DROP TABLE onemap.event_grid_count;
    """)

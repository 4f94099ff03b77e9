"""The wall screen's change clock, and per-building population counts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

`live_clock` holds one version number per topic (events, sensors, staff). Statement-level
triggers bump it in the writing transaction, so a screen polling it sees a new version only
once the change has committed, and an idle poll reads three rows instead of scanning events.
It reveals that something changed somewhere, never what: it carries no scope.

`building_stat` keeps each building's resident and key-group counts for colouring the map;
counting 800 k people per map move would be far too slow. `onemap.refresh_building_stats()`
rebuilds it (the demo load and the person importer call it). Row-level security by grid, as
for buildings.

`onemap.current_scope()` checks the scope's length instead of matching a pattern: the policy
evaluates it for every row, and the pattern cost 5 µs a row (a map viewport of 3,600
buildings: 48 ms instead of 9 ms). It still fails closed: anything but a 6/9/12/15-character
setting is no scope, and a setting of that length that is no unit's code prefixes no row.
`onemap.scope_is_district()` (what grid-less events and staff, and unlinked people, need)
asks whether the scope is a district that exists, once per query, rather than trusting the
length: a setting like 'abcdef' or '999999' sees none of them.
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

APP_ROLE = "onemap_app"
LIVE_TOPICS = {
    "event": ("event",),
    "sensor": ("sensor", "sensor_alarm"),
    "staff": ("staff",),
}


def _sql(statements: str) -> None:
    op.get_bind().exec_driver_sql(statements.replace("%", "%%"))


SCOPE_BY_LENGTH = r"""
CREATE OR REPLACE FUNCTION onemap.current_scope() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN length(current_setting('onemap.scope', true)) IN (6, 9, 12, 15)
              THEN current_setting('onemap.scope', true) END
$$;

CREATE OR REPLACE FUNCTION onemap.scope_is_district() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT EXISTS (SELECT 1 FROM onemap.district WHERE code = onemap.current_scope())
$$;
"""
SCOPE_BY_PATTERN = r"""
CREATE OR REPLACE FUNCTION onemap.current_scope() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN current_setting('onemap.scope', true) ~ '^([0-9]{3}){2,5}$'
              THEN current_setting('onemap.scope', true) END
$$;

CREATE OR REPLACE FUNCTION onemap.scope_is_district() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT length(onemap.current_scope()) = 6
$$;
"""


def upgrade() -> None:
    _sql(SCOPE_BY_LENGTH)
    _sql(f"""
        CREATE TABLE onemap.live_clock (
          topic varchar(16) PRIMARY KEY,
          version bigint NOT NULL DEFAULT 0,
          changed_at timestamptz NOT NULL DEFAULT now()
        );
        INSERT INTO onemap.live_clock (topic) VALUES {", ".join(f"('{t}')" for t in LIVE_TOPICS)};
        REVOKE ALL ON onemap.live_clock FROM {APP_ROLE};
        GRANT SELECT ON onemap.live_clock TO {APP_ROLE};

        -- runs as the owner: the app may move the clock only by changing what it watches
        CREATE FUNCTION onemap.tick_live_clock() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = onemap, pg_temp AS $$
        BEGIN
          UPDATE onemap.live_clock SET version = version + 1, changed_at = now()
           WHERE topic = TG_ARGV[0];
          RETURN NULL;
        END $$;
    """)
    for topic, tables in LIVE_TOPICS.items():
        for table in tables:
            _sql(f"""
                CREATE TRIGGER tick_live_clock
                AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON onemap.{table}
                FOR EACH STATEMENT EXECUTE FUNCTION onemap.tick_live_clock('{topic}');
            """)
    _sql(f"""
        CREATE TABLE onemap.building_stat (
          building_id bigint PRIMARY KEY REFERENCES onemap.building(id) ON DELETE CASCADE,
          grid_code varchar(15) NOT NULL,
          residents integer NOT NULL,
          key_group integer NOT NULL,
          refreshed_at timestamptz NOT NULL DEFAULT now()
        );
        ALTER TABLE onemap.building_stat ENABLE ROW LEVEL SECURITY;
        CREATE POLICY scope ON onemap.building_stat TO {APP_ROLE}
          USING (onemap.in_scope(grid_code)) WITH CHECK (false);
        REVOKE ALL ON onemap.building_stat FROM {APP_ROLE};
        GRANT SELECT ON onemap.building_stat TO {APP_ROLE};

        -- residents: people whose actual residence (居住地) is in the building; key group:
        -- those of them with a key-group tag that is not sensitive (a count of sensitive tags
        -- per building would disclose them to every role that sees the map)
        CREATE FUNCTION onemap.refresh_building_stats() RETURNS bigint
        LANGUAGE sql SECURITY DEFINER SET search_path = onemap, pg_temp AS $$
          DELETE FROM onemap.building_stat;
          WITH residents AS (
            SELECT DISTINCT h.building_id, ph.person_id
              FROM onemap.person_household ph
              JOIN onemap.household h ON h.id = ph.household_id
             WHERE ph.kind = 'residence'
          ), tagged AS (
            SELECT DISTINCT person_id FROM onemap.person_tag
          ), counts AS (
            SELECT r.building_id, count(*) AS residents,
                   count(*) FILTER (WHERE t.person_id IS NOT NULL) AS key_group
              FROM residents r LEFT JOIN tagged t USING (person_id)
             GROUP BY r.building_id
          ), inserted AS (
            INSERT INTO onemap.building_stat (building_id, grid_code, residents, key_group)
            SELECT b.id, b.grid_code, coalesce(c.residents, 0), coalesce(c.key_group, 0)
              FROM onemap.building b LEFT JOIN counts c ON c.building_id = b.id
            RETURNING 1
          )
          SELECT count(*) FROM inserted
        $$;
        REVOKE EXECUTE ON FUNCTION onemap.refresh_building_stats() FROM PUBLIC, {APP_ROLE};
    """)


def downgrade() -> None:
    _sql(SCOPE_BY_PATTERN)
    _sql("""
        DROP FUNCTION onemap.refresh_building_stats();
        DROP TABLE onemap.building_stat;
    """)
    for tables in LIVE_TOPICS.values():
        for table in tables:
            _sql(f"DROP TRIGGER tick_live_clock ON onemap.{table};")
    _sql("""
        DROP FUNCTION onemap.tick_live_clock();
        DROP TABLE onemap.live_clock;
    """)

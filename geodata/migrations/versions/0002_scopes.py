"""Scopes in the database: the app's role, its grants, and row-level security by scope.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

The web app runs every query as `onemap_app` (SET ROLE at connect), with the user's scope
in the setting `onemap.scope` (a district, street, community or grid code). Row-level
security then shows only rows inside that scope, on every path: pages, API, tiles, exports.
A connection that never set a scope sees no scoped rows at all (fail closed).
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APP_ROLE = "onemap_app"

# Tables whose rows carry a grid code directly.
BY_GRID = ("building", "enterprise", "key_place", "camera", "sensor")
# Tables reached through a parent that is itself protected (its policy applies inside ours).
# Correlated EXISTS: a look-up by id checks one chain of primary keys (milliseconds). RLS runs
# these before any filter that is not leakproof, so queries filter with leakproof operators
# (=, <, >=) on indexed columns and the check then runs only on what they find.
BY_PARENT = {
    "unit": "EXISTS (SELECT 1 FROM onemap.building b WHERE b.id = building_id)",
    "floor": "EXISTS (SELECT 1 FROM onemap.building b WHERE b.id = building_id)",
    "household": "EXISTS (SELECT 1 FROM onemap.building b WHERE b.id = building_id)",
    "person_household": "EXISTS (SELECT 1 FROM onemap.household h WHERE h.id = household_id)",
    # a person is in scope through a visible link; one with no link at all (imported without
    # a household) belongs to the district (the link count ignores scopes, see person_links)
    "person": "EXISTS (SELECT 1 FROM onemap.person_household ph WHERE ph.person_id = person.id)"
              " OR (onemap.scope_is_district() AND onemap.person_links(person.id) = 0)",
    "person_tag": "EXISTS (SELECT 1 FROM onemap.person p WHERE p.id = person_id)",
    "person_sensitive_tag": "onemap.sensitive_allowed()"
                            " AND EXISTS (SELECT 1 FROM onemap.person p WHERE p.id = person_id)",
    "sensor_reading": "EXISTS (SELECT 1 FROM onemap.sensor s WHERE s.id = sensor_id)",
    "sensor_alarm": "EXISTS (SELECT 1 FROM onemap.sensor s WHERE s.id = sensor_id)",
    "event_history": "EXISTS (SELECT 1 FROM onemap.event e WHERE e.id = event_id)",
}
# Rows with no grid (an event outside every grid, a department's staff) belong to the district.
GRID_OR_DISTRICT = ("event", "staff")
# Evidence: the app may add and read, never change or remove.
APPEND_ONLY = ("audit_log", "event_history")

FUNCTIONS = r"""
CREATE FUNCTION onemap.current_scope() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  -- a missing or malformed scope matches nothing, never everything
  SELECT CASE WHEN current_setting('onemap.scope', true) ~ '^([0-9]{3}){2,5}$'
              THEN current_setting('onemap.scope', true) END
$$;

CREATE FUNCTION onemap.in_scope(code text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT code IS NOT NULL AND left(code, length(onemap.current_scope())) = onemap.current_scope()
$$;

CREATE FUNCTION onemap.scope_is_district() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT length(onemap.current_scope()) = 6
$$;

-- counts every link, whatever the caller's scope (SECURITY DEFINER: runs as the owner)
CREATE FUNCTION onemap.person_links(person bigint) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = onemap, pg_temp AS $$
  SELECT count(*) FROM onemap.person_household WHERE person_id = person
$$;

CREATE FUNCTION onemap.sensitive_allowed() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(current_setting('onemap.sensitive', true), '') = 'on'
$$;
"""


def _sql(statements: str) -> None:
    # psycopg wants % doubled when SQLAlchemy hands it parameters (even none)
    op.get_bind().exec_driver_sql(statements.replace("%", "%%"))


def upgrade() -> None:
    _sql(f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            CREATE ROLE {APP_ROLE} NOLOGIN;
          END IF;
        END $$;
        GRANT {APP_ROLE} TO CURRENT_USER;
    """)
    _sql(FUNCTIONS)
    _sql(f"""
        GRANT USAGE ON SCHEMA onemap TO {APP_ROLE};
        GRANT USAGE ON SCHEMA public TO {APP_ROLE};
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA onemap TO {APP_ROLE};
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA onemap TO {APP_ROLE};
        GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA onemap TO {APP_ROLE};
        REVOKE UPDATE, DELETE, TRUNCATE ON onemap.audit_log, onemap.event_history FROM {APP_ROLE};
        REVOKE INSERT, UPDATE, DELETE ON onemap.alembic_version FROM {APP_ROLE};
        ALTER DEFAULT PRIVILEGES IN SCHEMA onemap
          GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE};
        ALTER DEFAULT PRIVILEGES IN SCHEMA onemap GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE};
    """)
    for table in BY_GRID:
        _policy(table, "onemap.in_scope(grid_code)")
    for table in GRID_OR_DISTRICT:
        _policy(table, "onemap.in_scope(grid_code)"
                       " OR (grid_code IS NULL AND onemap.scope_is_district())")
    for table, rule in BY_PARENT.items():
        _policy(table, rule)
    # name look-ups go through the index with leakproof comparisons (see geodata/queries/people)
    op.create_index("ix_person_name", "person", ["name"], schema="onemap")


def _policy(table: str, rule: str) -> None:
    _sql(f"""
        ALTER TABLE onemap.{table} ENABLE ROW LEVEL SECURITY;
        CREATE POLICY scope ON onemap.{table} TO {APP_ROLE} USING ({rule}) WITH CHECK ({rule});
    """)


def downgrade() -> None:
    op.drop_index("ix_person_name", table_name="person", schema="onemap")
    for table in (*BY_GRID, *GRID_OR_DISTRICT, *BY_PARENT):
        _sql(f"""
            DROP POLICY IF EXISTS scope ON onemap.{table};
            ALTER TABLE onemap.{table} DISABLE ROW LEVEL SECURITY;
        """)
    _sql(f"""
        ALTER DEFAULT PRIVILEGES IN SCHEMA onemap
          REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {APP_ROLE};
        ALTER DEFAULT PRIVILEGES IN SCHEMA onemap REVOKE USAGE, SELECT ON SEQUENCES FROM {APP_ROLE};
        REVOKE ALL ON ALL TABLES IN SCHEMA onemap FROM {APP_ROLE};
        REVOKE ALL ON ALL SEQUENCES IN SCHEMA onemap FROM {APP_ROLE};
        REVOKE ALL ON ALL FUNCTIONS IN SCHEMA onemap FROM {APP_ROLE};
        REVOKE USAGE ON SCHEMA onemap FROM {APP_ROLE};
        DROP FUNCTION onemap.sensitive_allowed(), onemap.person_links(bigint),
          onemap.scope_is_district(),
          onemap.in_scope(text), onemap.current_scope();
    """)

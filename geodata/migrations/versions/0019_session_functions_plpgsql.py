"""The session look-ups as PL/pgSQL: planned once per connection, not once per statement.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03

Every scoped statement asks `current_scope()` (row-level security), every write
`current_app_user_id()` (the stamp triggers) and every audit row `current_session()`. As SQL
functions with their own search_path and SECURITY DEFINER they cannot be inlined, so each call
planned its body again: 0.20-0.23 ms a call, three to five calls for one reported case. PL/pgSQL
keeps the plan for the connection's life: 0.02 ms a call (pg_stat_statements, bench/intake.py).
Same rows, same rules: an unknown, ended or expired session is no session.
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_LIVE_SESSION = """
   WHERE s.token_hash = sha256(convert_to(current_setting('onemap.session', true), 'UTF8'))
     AND s.ended_at IS NULL AND now() < s.expires_at AND now() < s.idle_until"""

_HEAD = "STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp"

PLPGSQL = f"""
CREATE OR REPLACE FUNCTION onemap.current_session() RETURNS SETOF onemap.web_session
LANGUAGE plpgsql {_HEAD} AS $$
BEGIN
  RETURN QUERY SELECT s.* FROM onemap.web_session s {_LIVE_SESSION};
END $$;

CREATE OR REPLACE FUNCTION onemap.current_scope() RETURNS text
LANGUAGE plpgsql {_HEAD} AS $$
DECLARE
  scope text;
BEGIN
  SELECT s.scope_code INTO scope FROM onemap.web_session s {_LIVE_SESSION};
  -- a scope that is no 6/9/12/15-character code matches nothing, never everything
  RETURN CASE WHEN length(scope) IN (6, 9, 12, 15) THEN scope END;
END $$;

CREATE OR REPLACE FUNCTION onemap.current_app_user_id() RETURNS bigint
LANGUAGE plpgsql {_HEAD} AS $$
DECLARE
  found bigint;
BEGIN
  SELECT s.user_id INTO found FROM onemap.web_session s {_LIVE_SESSION};
  RETURN found;
END $$;

CREATE OR REPLACE FUNCTION onemap.session_can(capability text) RETURNS boolean
LANGUAGE plpgsql {_HEAD} AS $$
#variable_conflict use_variable
DECLARE
  allowed boolean;
BEGIN
  SELECT capability = ANY (s.capabilities) INTO allowed FROM onemap.web_session s
  {_LIVE_SESSION};
  RETURN coalesce(allowed, false);
END $$;
"""

SQL = f"""
CREATE OR REPLACE FUNCTION onemap.current_session() RETURNS SETOF onemap.web_session
LANGUAGE sql {_HEAD} AS $$
  SELECT s.* FROM onemap.web_session s {_LIVE_SESSION}
$$;

CREATE OR REPLACE FUNCTION onemap.current_scope() RETURNS text
LANGUAGE sql {_HEAD} AS $$
  SELECT CASE WHEN length(s.scope_code) IN (6, 9, 12, 15) THEN s.scope_code END
    FROM onemap.current_session() s
$$;

CREATE OR REPLACE FUNCTION onemap.current_app_user_id() RETURNS bigint
LANGUAGE sql {_HEAD} AS $$
  SELECT s.user_id FROM onemap.current_session() s
$$;

CREATE OR REPLACE FUNCTION onemap.session_can(capability text) RETURNS boolean
LANGUAGE sql {_HEAD} AS $$
  SELECT coalesce((SELECT capability = ANY (s.capabilities) FROM onemap.current_session() s),
                  false)
$$;
"""


def upgrade() -> None:
    op.execute(PLPGSQL)


def downgrade() -> None:
    op.execute(SQL)

"""Server-side sessions, a scope the app cannot forge, least privilege for the app's role.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

A scope held in a setting the app chooses (`onemap.scope`) would let any SQL that runs as
`onemap_app` set it to the district and see everyone. So a sign-in creates a row in
`web_session` (only the hash of its secret token is stored), and the app hands the database
the token (`onemap.session`); the scope, the role's capabilities and the acting user are read
from that row by SECURITY DEFINER functions. Forging a scope needs another user's token, and
`onemap_app` cannot read the session table. Ending a session (sign-out, disable, password,
role or scope change, "sign out everywhere") is one UPDATE, seen by the next request's
first query.

Sign-in and session bookkeeping run as a second role, `onemap_auth`, on a connection of their
own: it may read password hashes and write sessions; `onemap_app` may do neither and may not
change users at all. `onemap_app` writes audit rows only through `onemap.write_audit`,
which takes the user from the session, and reads them only in an administrator's session.
Apart from events and their history it reads and never writes: imports and the demo run as
the owner.

The policies read the scope as `(SELECT onemap.current_scope())`, an uncorrelated sub-select
that PostgreSQL evaluates once per query (an InitPlan), so the session look-up costs once per
query, not once per row.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

APP_ROLE = "onemap_app"
AUTH_ROLE = "onemap_auth"

SCOPE = "(SELECT onemap.current_scope())"
DISTRICT = "(SELECT onemap.scope_is_district())"
BY_GRID = ("building", "enterprise", "key_place", "camera", "sensor")
GRID_OR_DISTRICT = ("event", "staff")
PERSON = ("EXISTS (SELECT 1 FROM onemap.person_household ph WHERE ph.person_id = person.id)"
          f" OR ({DISTRICT} AND onemap.person_links(person.id) = 0)")
SENSITIVE_TAG = ("(SELECT onemap.sensitive_allowed())"
                 " AND EXISTS (SELECT 1 FROM onemap.person p WHERE p.id = person_id)")
# what the app writes; everything else it only reads
APP_WRITES = {"event": "INSERT, UPDATE", "event_history": "INSERT", "rate_counter":
              "SELECT, INSERT, UPDATE, DELETE"}
APP_USER_COLUMNS = ("id, username, display_name, role_code, scope_code, active, created_at,"
                    " last_login_at, lookup_locked_at")


def _sql(statements: str) -> None:
    op.get_bind().exec_driver_sql(statements.replace("%", "%%"))


SESSION_FUNCTIONS = r"""
-- the signed-in session this transaction acts for, or no row: unknown, ended or expired
CREATE FUNCTION onemap.current_session() RETURNS SETOF onemap.web_session
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT s.* FROM onemap.web_session s
   WHERE s.token_hash = sha256(convert_to(current_setting('onemap.session', true), 'UTF8'))
     AND s.ended_at IS NULL AND now() < s.expires_at AND now() < s.idle_until
$$;

CREATE OR REPLACE FUNCTION onemap.current_scope() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  -- a scope that is no 6/9/12/15-character code matches nothing, never everything
  SELECT CASE WHEN length(s.scope_code) IN (6, 9, 12, 15) THEN s.scope_code END
    FROM onemap.current_session() s
$$;

CREATE OR REPLACE FUNCTION onemap.scope_is_district() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM onemap.district WHERE code = onemap.current_scope())
$$;

CREATE FUNCTION onemap.session_can(capability text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce((SELECT capability = ANY (s.capabilities) FROM onemap.current_session() s),
                  false)
$$;

CREATE OR REPLACE FUNCTION onemap.sensitive_allowed() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT onemap.session_can('view_sensitive_tags')
$$;

CREATE FUNCTION onemap.current_app_user_id() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT s.user_id FROM onemap.current_session() s
$$;

-- the only way the app writes the audit log: who acted comes from the session
CREATE FUNCTION onemap.write_audit(action text, object_kind text, object_id text,
                                   purpose text, ip inet, user_agent text, details jsonb)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
  written bigint;
BEGIN
  INSERT INTO onemap.audit_log (user_id, username, action, object_kind, object_id, purpose,
                                ip, user_agent, details)
  SELECT s.user_id, u.username, action, object_kind, object_id, purpose, ip, user_agent,
         details
    FROM onemap.current_session() s JOIN onemap.app_user u ON u.id = s.user_id
  RETURNING id INTO written;
  IF written IS NULL THEN
    RAISE EXCEPTION 'no signed-in session to audit for' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN written;
END $$;

-- a user whose person look-ups were locked (enumeration suspected) stays locked until an
-- administrator unlocks them; the alert is the audit row
CREATE FUNCTION onemap.lock_lookups(reason jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  UPDATE onemap.app_user SET lookup_locked_at = now()
   WHERE id = onemap.current_app_user_id() AND lookup_locked_at IS NULL;
  IF FOUND THEN
    PERFORM onemap.write_audit('lookup_locked', 'user', NULL, NULL, NULL, NULL, reason);
  END IF;
END $$;

-- who acted is the session's user whenever the app writes (the column is the trigger's
-- argument: event_history.actor_user_id, event.reported_by_user_id)
CREATE FUNCTION onemap.stamp_session_user() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_user = 'onemap_app' THEN
    NEW := jsonb_populate_record(NEW, jsonb_build_object(TG_ARGV[0],
                                                         onemap.current_app_user_id()));
  END IF;
  RETURN NEW;
END $$;

-- any change to who a user is or what they may do ends their sessions
CREATE FUNCTION onemap.end_sessions_on_user_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  why text;
BEGIN
  why := CASE
    WHEN NEW.active IS DISTINCT FROM OLD.active THEN CASE WHEN NEW.active THEN 'enabled'
                                                          ELSE 'disabled' END
    WHEN NEW.password_hash IS DISTINCT FROM OLD.password_hash THEN 'password changed'
    WHEN NEW.role_code IS DISTINCT FROM OLD.role_code THEN 'role changed'
    WHEN NEW.scope_code IS DISTINCT FROM OLD.scope_code THEN 'scope changed'
  END;
  IF why IS NOT NULL THEN
    UPDATE onemap.web_session SET ended_at = now(), end_reason = why
     WHERE user_id = NEW.id AND ended_at IS NULL;
  END IF;
  RETURN NULL;
END $$;
"""


def upgrade() -> None:
    _sql(f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{AUTH_ROLE}') THEN
            CREATE ROLE {AUTH_ROLE} NOLOGIN;
          END IF;
        END $$;
        GRANT {AUTH_ROLE} TO CURRENT_USER;

        CREATE TABLE onemap.web_session (
          id bigserial CONSTRAINT pk_web_session PRIMARY KEY,
          token_hash bytea NOT NULL CONSTRAINT uq_web_session_token_hash UNIQUE,
          user_id bigint NOT NULL CONSTRAINT fk_web_session_user_id_app_user
            REFERENCES onemap.app_user(id) ON DELETE CASCADE,
          scope_code varchar(15) NOT NULL,
          capabilities text[] NOT NULL,
          kind varchar(16) NOT NULL DEFAULT 'web'
            CONSTRAINT ck_web_session_kind_valid CHECK (kind IN ('web', 'job')),
          user_agent_hash bytea,
          ip inet,
          created_at timestamptz NOT NULL DEFAULT now(),
          last_seen_at timestamptz NOT NULL DEFAULT now(),
          idle_until timestamptz NOT NULL,
          expires_at timestamptz NOT NULL,
          ended_at timestamptz,
          end_reason varchar(32)
        );
        CREATE INDEX ix_web_session_user_open ON onemap.web_session (user_id)
          WHERE ended_at IS NULL;
        COMMENT ON TABLE onemap.web_session IS
          'Signed-in sessions; the cookie holds the token, this table only its SHA-256.';

        ALTER TABLE onemap.app_user ADD COLUMN lookup_locked_at timestamptz;

        CREATE TABLE onemap.rate_counter (
          key varchar(200) CONSTRAINT pk_rate_counter PRIMARY KEY,
          hits integer NOT NULL,
          expires_at timestamptz NOT NULL
        );
        COMMENT ON TABLE onemap.rate_counter IS
          'Fixed-window rate-limit counters shared by every worker and server.';

        ALTER TABLE onemap.event ADD COLUMN reported_by_user_id bigint
          CONSTRAINT fk_event_reported_by_user_id_app_user REFERENCES onemap.app_user(id);
        -- a reference is the sender's: idempotent per (channel, sender), so nobody learns
        -- whether another area's reference exists by reusing it
        ALTER TABLE onemap.event DROP CONSTRAINT uq_event_channel_external_ref;
        CREATE UNIQUE INDEX uq_event_sender_reference ON onemap.event
          (channel, coalesce(reported_by_user_id, 0), external_ref)
          WHERE external_ref IS NOT NULL;
    """)
    _sql(SESSION_FUNCTIONS)
    _sql("""
        CREATE TRIGGER end_sessions AFTER UPDATE ON onemap.app_user
          FOR EACH ROW EXECUTE FUNCTION onemap.end_sessions_on_user_change();
        CREATE TRIGGER stamp_actor BEFORE INSERT ON onemap.event_history
          FOR EACH ROW EXECUTE FUNCTION onemap.stamp_session_user('actor_user_id');
        CREATE TRIGGER stamp_reporter BEFORE INSERT ON onemap.event
          FOR EACH ROW EXECUTE FUNCTION onemap.stamp_session_user('reported_by_user_id');
    """)
    _policies()
    _privileges()


def _replace_policy(table: str, rule: str, check: str | None = None) -> None:
    _sql(f"""
        DROP POLICY IF EXISTS scope ON onemap.{table};
        CREATE POLICY scope ON onemap.{table} TO {APP_ROLE}
          USING ({rule}) WITH CHECK ({check or rule});
    """)


def _policies() -> None:
    for table in BY_GRID:
        _replace_policy(table, f"starts_with(grid_code, {SCOPE})")
    for table in GRID_OR_DISTRICT:
        _replace_policy(table, f"starts_with(grid_code, {SCOPE})"
                               f" OR (grid_code IS NULL AND {DISTRICT})")
    _replace_policy("building_stat", f"starts_with(grid_code, {SCOPE})", check="false")
    _replace_policy("person", PERSON)
    _replace_policy("person_sensitive_tag", SENSITIVE_TAG)
    _sql(f"""
        ALTER TABLE onemap.audit_log ENABLE ROW LEVEL SECURITY;
        CREATE POLICY administrators ON onemap.audit_log FOR SELECT TO {APP_ROLE}
          USING ((SELECT onemap.session_can('view_audit')));
        CREATE POLICY sign_in ON onemap.audit_log FOR INSERT TO {AUTH_ROLE}
          WITH CHECK (action IN ('login', 'login_failed', 'logout', 'signout_everywhere'));
    """)


def _privileges() -> None:
    writes = "\n".join(f"GRANT {what} ON onemap.{table} TO {APP_ROLE};"
                       for table, what in APP_WRITES.items())
    _sql(f"""
        REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA onemap FROM {APP_ROLE};
        REVOKE ALL ON onemap.app_user, onemap.web_session FROM {APP_ROLE};
        GRANT SELECT ({APP_USER_COLUMNS}) ON onemap.app_user TO {APP_ROLE};
        {writes}
        ALTER DEFAULT PRIVILEGES IN SCHEMA onemap
          REVOKE INSERT, UPDATE, DELETE ON TABLES FROM {APP_ROLE};

        REVOKE EXECUTE ON FUNCTION onemap.current_session() FROM PUBLIC, {APP_ROLE};
        REVOKE EXECUTE ON FUNCTION onemap.end_sessions_on_user_change() FROM PUBLIC, {APP_ROLE};

        GRANT USAGE ON SCHEMA onemap TO {AUTH_ROLE};
        GRANT SELECT ON onemap.app_user TO {AUTH_ROLE};
        GRANT UPDATE (last_login_at) ON onemap.app_user TO {AUTH_ROLE};
        GRANT SELECT, INSERT, UPDATE, DELETE ON onemap.web_session TO {AUTH_ROLE};
        GRANT USAGE ON SEQUENCE onemap.web_session_id_seq TO {AUTH_ROLE};
        GRANT INSERT ON onemap.audit_log TO {AUTH_ROLE};
        GRANT USAGE ON SEQUENCE onemap.audit_log_id_seq TO {AUTH_ROLE};
    """)


SCOPE_BY_SETTING = r"""
CREATE OR REPLACE FUNCTION onemap.current_scope() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SECURITY INVOKER AS $$
  SELECT CASE WHEN length(current_setting('onemap.scope', true)) IN (6, 9, 12, 15)
              THEN current_setting('onemap.scope', true) END
$$;
CREATE OR REPLACE FUNCTION onemap.scope_is_district() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY INVOKER AS $$
  SELECT EXISTS (SELECT 1 FROM onemap.district WHERE code = onemap.current_scope())
$$;
CREATE OR REPLACE FUNCTION onemap.sensitive_allowed() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY INVOKER AS $$
  SELECT coalesce(current_setting('onemap.sensitive', true), '') = 'on'
$$;
"""


def downgrade() -> None:
    _sql(SCOPE_BY_SETTING)
    for table in BY_GRID:
        _replace_policy(table, "onemap.in_scope(grid_code)")
    for table in GRID_OR_DISTRICT:
        _replace_policy(table, "onemap.in_scope(grid_code)"
                               " OR (grid_code IS NULL AND onemap.scope_is_district())")
    _replace_policy("building_stat", "onemap.in_scope(grid_code)", check="false")
    _replace_policy("person", PERSON.replace(DISTRICT, "onemap.scope_is_district()"))
    _replace_policy("person_sensitive_tag", SENSITIVE_TAG.replace(
        "(SELECT onemap.sensitive_allowed())", "onemap.sensitive_allowed()"))
    _sql(f"""
        DROP TRIGGER end_sessions ON onemap.app_user;
        DROP TRIGGER stamp_actor ON onemap.event_history;
        DROP TRIGGER stamp_reporter ON onemap.event;
        DROP POLICY administrators ON onemap.audit_log;
        DROP POLICY sign_in ON onemap.audit_log;
        ALTER TABLE onemap.audit_log DISABLE ROW LEVEL SECURITY;
        REVOKE ALL ON ALL TABLES IN SCHEMA onemap FROM {AUTH_ROLE};
        REVOKE ALL ON ALL SEQUENCES IN SCHEMA onemap FROM {AUTH_ROLE};
        REVOKE USAGE ON SCHEMA onemap FROM {AUTH_ROLE};
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA onemap TO {APP_ROLE};
        REVOKE UPDATE, DELETE, TRUNCATE ON onemap.audit_log, onemap.event_history
          FROM {APP_ROLE};
        REVOKE INSERT, UPDATE, DELETE ON onemap.alembic_version FROM {APP_ROLE};
        REVOKE ALL ON onemap.live_clock FROM {APP_ROLE};
        GRANT SELECT ON onemap.live_clock TO {APP_ROLE};
        REVOKE ALL ON onemap.building_stat FROM {APP_ROLE};
        GRANT SELECT ON onemap.building_stat TO {APP_ROLE};
        ALTER DEFAULT PRIVILEGES IN SCHEMA onemap
          GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE};
        DROP INDEX onemap.uq_event_sender_reference;
        ALTER TABLE onemap.event DROP COLUMN reported_by_user_id;
        ALTER TABLE onemap.event ADD CONSTRAINT uq_event_channel_external_ref
          UNIQUE (channel, external_ref);
        DROP FUNCTION onemap.lock_lookups(jsonb);
        DROP FUNCTION onemap.write_audit(text, text, text, text, inet, text, jsonb);
        DROP FUNCTION onemap.stamp_session_user();
        DROP FUNCTION onemap.end_sessions_on_user_change();
        DROP FUNCTION onemap.current_app_user_id();
        DROP FUNCTION onemap.session_can(text);
        DROP FUNCTION onemap.current_session();
        DROP TABLE onemap.web_session;
        DROP TABLE onemap.rate_counter;
        ALTER TABLE onemap.app_user DROP COLUMN lookup_locked_at;
    """)

"""One definition of "open", "active" and "overdue" for every query and the open-case index.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

Queries that each spell the states out drift apart (a shelved (挂账) case past its limit came
out overdue in the feed and the cards but not in the counters, the layer or the banner).
These functions say it once, the same as onemap/domain/lifecycle.py (a test holds the
two equal): open = not closed and not rejected; active = open and not shelved (its clock
runs); overdue = active and past due_at. They are plain SQL, so PostgreSQL inlines them: the
partial index `ix_event_open` is declared with `event_is_open(state)`, and a query that says
`event_is_open(state)` (or `event_is_active`, which starts with it) can use it.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

FUNCTIONS = r"""
CREATE FUNCTION onemap.event_is_open(state text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT state NOT IN ('closed', 'rejected')
$$;

CREATE FUNCTION onemap.event_is_active(state text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT onemap.event_is_open(state) AND state NOT IN ('suspended')
$$;

CREATE FUNCTION onemap.event_is_overdue(state text, due_at timestamptz) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT onemap.event_is_active(state) AND due_at IS NOT NULL AND due_at < now()
$$;
"""


def _sql(statements: str) -> None:
    op.get_bind().exec_driver_sql(statements.replace("%", "%%"))


def upgrade() -> None:
    _sql(FUNCTIONS)
    _sql("""
        DROP INDEX onemap.ix_event_open;
        CREATE INDEX ix_event_open ON onemap.event (state, due_at)
          WHERE onemap.event_is_open(state);
    """)


def downgrade() -> None:
    _sql("""
        DROP INDEX onemap.ix_event_open;
        CREATE INDEX ix_event_open ON onemap.event (state, due_at)
          WHERE state NOT IN ('closed', 'rejected');
        DROP FUNCTION onemap.event_is_overdue(text, timestamptz);
        DROP FUNCTION onemap.event_is_active(text);
        DROP FUNCTION onemap.event_is_open(text);
    """)

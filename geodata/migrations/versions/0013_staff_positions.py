"""Field staff report where they are and whether they are on duty, from their phones.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

The app may change four columns of `staff`, and only on the row linked to the session's own
user (a restrictive policy on top of the scope policy): a grid worker moves themself, nobody
moves anyone else.
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

APP_ROLE = "onemap_app"


def upgrade() -> None:
    op.execute(f"""
        GRANT UPDATE (last_position, last_seen_at, on_duty, status) ON onemap.staff
          TO {APP_ROLE};
        CREATE POLICY own_row ON onemap.staff AS RESTRICTIVE FOR UPDATE TO {APP_ROLE}
          USING (user_id = (SELECT onemap.current_app_user_id()))
          WITH CHECK (user_id = (SELECT onemap.current_app_user_id()));
    """)


def downgrade() -> None:
    op.execute(f"""
        DROP POLICY own_row ON onemap.staff;
        REVOKE UPDATE (last_position, last_seen_at, on_duty, status) ON onemap.staff
          FROM {APP_ROLE};
    """)

"""One index fewer to keep up on every new case.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

`ix_event_category_reported` (category, reported_at; migration 0014) serves everything the
single-column `ix_event_category_code` did, and intake writes one index less per case.
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX onemap.ix_event_category_code")


def downgrade() -> None:
    op.execute("CREATE INDEX ix_event_category_code ON onemap.event (category_code)")

"""Photos of a report: links to where the sender keeps them (a phone app's storage, the
hotline's system), not the images themselves.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        ALTER TABLE onemap.event ADD COLUMN photo_urls text[]
          CHECK (photo_urls IS NULL OR cardinality(photo_urls) <= 9);
    """)


def downgrade() -> None:
    op.execute("ALTER TABLE onemap.event DROP COLUMN photo_urls")

"""Idempotent intake stays fast under row-level security.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

The look-up of a retried report (channel, sender, reference) ran as a scan of every reference
of the channel: under row-level security the sender's test (`coalesce(reported_by_user_id, 0)
= …`) is not leakproof, so PostgreSQL will not use it inside the index scan, and it was the
index's middle column. With the reference second, channel and reference find the one entry
and the sender is checked on it (measured on the district: 668 index pages → a handful, 2.5 ms
→ 0.1 ms). The set of what is unique does not change.
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _index(columns: str) -> str:
    return f"""
        DROP INDEX onemap.uq_event_sender_reference;
        CREATE UNIQUE INDEX uq_event_sender_reference ON onemap.event ({columns})
          WHERE external_ref IS NOT NULL;
    """


def upgrade() -> None:
    op.execute(_index("channel, external_ref, coalesce(reported_by_user_id, 0)"))


def downgrade() -> None:
    op.execute(_index("channel, coalesce(reported_by_user_id, 0), external_ref"))

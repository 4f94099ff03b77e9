"""Warnings (预警) and escalation: the tier that handles a case, and how far its stage has run.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

`tier` is who handles a case (grid, community, street, district: 琐事不出网格, 小事不出社区,
大事不出街道, 难事不出区), set from its level at intake and moved one up each time a stage runs
out of time. `warn_at` is when 80 % of the current stage's limit is used (computed with the
limit, on the working calendar); `urgency` what the escalation job last marked for this stage
(warning, overdue), cleared when a new stage starts, so each step is acted on once.
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TIERS = "('grid', 'community', 'street', 'district')"
# the tier a level starts at (onemap/domain/escalation.py: INITIAL_TIER holds the same)
TIER_OF_LEVEL = "CASE level WHEN 1 THEN 'district' WHEN 2 THEN 'street' WHEN 3 THEN 'community'" \
                " ELSE 'grid' END"


def upgrade() -> None:
    op.execute(f"""
        ALTER TABLE onemap.event
          ADD COLUMN tier text NOT NULL DEFAULT 'grid' CHECK (tier IN {TIERS}),
          ADD COLUMN warn_at timestamptz,
          ADD COLUMN urgency text CHECK (urgency IN ('warning', 'overdue'));
        UPDATE onemap.event SET tier = {TIER_OF_LEVEL} WHERE level <= 3;
        -- the job's two look-ups: active cases whose warning or limit has come
        CREATE INDEX ix_event_warn_at ON onemap.event (warn_at)
          WHERE onemap.event_is_active(state) AND urgency IS NULL;
        CREATE INDEX ix_event_due_unmarked ON onemap.event (due_at)
          WHERE onemap.event_is_active(state) AND urgency IS DISTINCT FROM 'overdue';
    """)


def downgrade() -> None:
    op.execute("""
        DROP INDEX onemap.ix_event_warn_at;
        DROP INDEX onemap.ix_event_due_unmarked;
        ALTER TABLE onemap.event DROP COLUMN tier, DROP COLUMN warn_at, DROP COLUMN urgency;
    """)

"""Time limits per stage of the loop, counted on the working calendar.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

Each stage (register, dispatch, handle, verify, close) has a limit (event_stage_limit, from
geodata/reference/stage_limits.csv); a category's own handling limit (event_category.time_limit,
from event_categories.csv) wins for the handle stage. An event keeps when its current stage
started, when it was shelved (its clock stands still until resumed) and whether any stage
ran past its limit (an overdue closure, 超期结案, even when the last stage was on time). The
limits are
configuration: a district edits the rows; rows already there are kept.
"""

import csv
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

REFERENCE = Path(__file__).resolve().parents[2] / "reference"
UNITS = "('working_hours', 'working_days', 'hours', 'days')"
STAGES = "('register', 'dispatch', 'handle', 'verify', 'close')"


def _csv(name: str) -> list[dict]:
    with open(REFERENCE / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def upgrade() -> None:
    op.execute(f"""
        ALTER TABLE onemap.event_category
          ADD COLUMN time_limit numeric CHECK (time_limit > 0),
          ADD COLUMN time_limit_unit text NOT NULL DEFAULT 'working_hours'
            CHECK (time_limit_unit IN {UNITS});
        CREATE TABLE onemap.event_stage_limit (
          stage text PRIMARY KEY CHECK (stage IN {STAGES}),
          name_zh text NOT NULL,
          name_en text NOT NULL,
          amount numeric NOT NULL CHECK (amount > 0),
          unit text NOT NULL CHECK (unit IN {UNITS})
        );
        ALTER TABLE onemap.event
          ADD COLUMN stage_started_at timestamptz,
          ADD COLUMN paused_at timestamptz,
          ADD COLUMN overran boolean NOT NULL DEFAULT false;
    """)
    conn = op.get_bind()
    for row in _csv("stage_limits.csv"):
        conn.execute(sa.text(
            "INSERT INTO onemap.event_stage_limit (stage, name_zh, name_en, amount, unit)"
            " VALUES (:stage, :name_zh, :name_en, CAST(:amount AS numeric), :unit)"
            " ON CONFLICT (stage) DO NOTHING"), row)
    for row in _csv("event_categories.csv"):
        if row["time_limit_hours"]:
            conn.execute(sa.text(
                "UPDATE onemap.event_category SET time_limit = CAST(:hours AS numeric)"
                " WHERE code = :code AND time_limit IS NULL"),
                {"hours": row["time_limit_hours"], "code": row["code"]})


def downgrade() -> None:
    op.execute("""
        ALTER TABLE onemap.event DROP COLUMN stage_started_at, DROP COLUMN paused_at,
          DROP COLUMN overran;
        DROP TABLE onemap.event_stage_limit;
        ALTER TABLE onemap.event_category DROP COLUMN time_limit, DROP COLUMN time_limit_unit;
    """)

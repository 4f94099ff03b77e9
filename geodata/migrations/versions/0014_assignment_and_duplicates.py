"""Where a case goes on arrival, and reports of one thing counted once.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

- `event_category.department_code`: the department that owns a category's components or
  matters (部件先属主: components go to their owner), loaded from
  geodata/reference/event_categories.csv like the rest of the catalogue (rows a district
  already edited are left as they are).
- `event.duplicate_of_id`: set on arrival when an open case of the same category was reported
  within 50 m in the last 24 hours (a possible duplicate, 疑似重复), cleared when an officer
  dismisses the flag.
- `event.merged_into_id` and the state `merged` (已合并): a report merged into the case it
  duplicates. It leaves the loop (it is not open), so the case counts once in every KPI, and
  it stays linked to the case it joined.
"""

import csv
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

REFERENCE = Path(__file__).resolve().parents[2] / "reference"
STATES_BEFORE = ("reported", "registered", "dispatched", "handling", "handled", "verified",
                 "closed", "rejected", "suspended")
STATES_AFTER = (*STATES_BEFORE, "merged")


def _state_check(states: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{s}'" for s in states)
    return f"""
        ALTER TABLE onemap.event DROP CONSTRAINT ck_event_state_valid;
        ALTER TABLE onemap.event ADD CONSTRAINT ck_event_state_valid
          CHECK (state IN ({quoted}));
    """


def _is_open(finished: str) -> str:
    # same signature and still IMMUTABLE: the partial index ix_event_open keeps using it, and
    # no row is 'merged' before this revision, so the index needs no rebuild
    return f"""
        CREATE OR REPLACE FUNCTION onemap.event_is_open(state text) RETURNS boolean
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
          SELECT state NOT IN ({finished})
        $$;
    """


def _owners() -> list[dict]:
    with open(REFERENCE / "event_categories.csv", encoding="utf-8", newline="") as f:
        return [{"code": row["code"], "department": row["department_code"]}
                for row in csv.DictReader(f) if row["department_code"]]


def upgrade() -> None:
    op.execute(f"""
        ALTER TABLE onemap.event_category ADD COLUMN department_code varchar(16)
          REFERENCES onemap.department (code);
        ALTER TABLE onemap.event
          ADD COLUMN duplicate_of_id bigint REFERENCES onemap.event (id),
          ADD COLUMN merged_into_id bigint REFERENCES onemap.event (id),
          ADD CONSTRAINT ck_event_not_own_duplicate
            CHECK (duplicate_of_id <> id AND merged_into_id <> id),
          ADD CONSTRAINT ck_event_merged_has_case
            CHECK ((state = 'merged') = (merged_into_id IS NOT NULL));
        CREATE INDEX ix_event_duplicate_of ON onemap.event (duplicate_of_id)
          WHERE duplicate_of_id IS NOT NULL;
        CREATE INDEX ix_event_merged_into ON onemap.event (merged_into_id)
          WHERE merged_into_id IS NOT NULL;
        -- the arrival check: same category, reported in the last day
        CREATE INDEX ix_event_category_reported ON onemap.event (category_code, reported_at);
        {_state_check(STATES_AFTER)}
        {_is_open("'closed', 'rejected', 'merged'")}
    """)
    owner = sa.text("UPDATE onemap.event_category SET department_code = :department"
                    " WHERE code = :code AND department_code IS NULL"
                    " AND EXISTS (SELECT 1 FROM onemap.department WHERE code = :department)")
    for row in _owners():
        op.get_bind().execute(owner, row)


def downgrade() -> None:
    op.execute(f"""
        UPDATE onemap.event SET state = 'rejected', merged_into_id = NULL
         WHERE state = 'merged';
        {_is_open("'closed', 'rejected'")}
        {_state_check(STATES_BEFORE)}
        DROP INDEX onemap.ix_event_category_reported;
        ALTER TABLE onemap.event DROP COLUMN merged_into_id, DROP COLUMN duplicate_of_id;
        ALTER TABLE onemap.event_category DROP COLUMN department_code;
    """)

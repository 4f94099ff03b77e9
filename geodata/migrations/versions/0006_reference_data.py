"""Reference data every district needs: the departments and the event categories.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

Every district needs them, not only a demo one: without them a district built with
`onemap import` answers "unknown category" to every report. They come from
geodata/reference/*.csv (configuration: a district edits the rows it needs to, and rows it adds
stay). Rows already there are kept as they are.
"""

import csv
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

REFERENCE = Path(__file__).resolve().parents[2] / "reference"
TABLES = {
    "department": ("departments.csv", ("code", "name_zh", "name_en", "phone")),
    # parents first: a category's parent must exist before it
    "event_category": ("event_categories.csv",
                       ("code", "parent_code", "kind", "name_zh", "name_en", "default_level")),
}


def _rows(file_name: str, columns: tuple[str, ...]) -> list[dict]:
    with open(REFERENCE / file_name, encoding="utf-8", newline="") as f:
        rows = [{c: (row[c] or None) for c in columns} for row in csv.DictReader(f)]
    return sorted(rows, key=lambda r: r.get("parent_code") is not None)


def upgrade() -> None:
    conn = op.get_bind()
    for table, (file_name, columns) in TABLES.items():
        values = ", ".join(f"CAST(:{c} AS {'smallint' if c == 'default_level' else 'text'})"
                           for c in columns)
        statement = sa.text(f"INSERT INTO onemap.{table} ({', '.join(columns)}) VALUES ({values})"
                            " ON CONFLICT (code) DO NOTHING")
        for row in _rows(file_name, columns):
            conn.execute(statement, row)


def downgrade() -> None:
    """Leave the rows: they are a district's data now (its events and staff point at them),
    and the tables go with revision 0001's downgrade."""

"""Events found by a bounding box through the spatial index (the OGC API's and the tiles' bbox
on the 300,000 cases): re-creates onemap.viewport_ids (migration 0007) with `event` among the
tables it may read. The event's scope policy is the rule the function keeps (its grid within
the session's scope), so the ids it gives are the ones the policy lets through.
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def _migration(name: str):
    """A migration's module (a migration file is not an importable module)."""
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(f"onemap_migration_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tables() -> dict[str, str]:
    return {**_migration("0007_viewport_ids.py").VIEWPORT_TABLES, "enterprise": "geom"}


def _replace_function(tables: dict[str, str]) -> None:
    cases = " ".join(f"WHEN '{table}' THEN '{column}'" for table, column in tables.items())
    sql = _migration("0007_viewport_ids.py").FUNCTION.replace(
        "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
    op.get_bind().exec_driver_sql(sql.replace("{cases}", cases).replace("%", "%%"))


def upgrade() -> None:
    _replace_function({**_tables(), "event": "geom"})


def downgrade() -> None:
    _replace_function(_tables())

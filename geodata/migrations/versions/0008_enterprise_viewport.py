"""Enterprises (法人) on the map: their viewport look-up goes through the spatial index too.

Re-creates onemap.viewport_ids (migration 0007) with `enterprise` among the tables it may read;
everything else about the function stays as 0007 wrote it.
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _migration_0007():
    """0007's function text and tables (a migration file is not an importable module)."""
    path = Path(__file__).with_name("0007_viewport_ids.py")
    spec = importlib.util.spec_from_file_location("onemap_migration_0007", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _replace_function(tables: dict[str, str]) -> None:
    cases = " ".join(f"WHEN '{table}' THEN '{column}'" for table, column in tables.items())
    sql = _migration_0007().FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
    op.get_bind().exec_driver_sql(sql.replace("{cases}", cases).replace("%", "%%"))


def upgrade() -> None:
    _replace_function({**_migration_0007().VIEWPORT_TABLES, "enterprise": "geom"})


def downgrade() -> None:
    _replace_function(_migration_0007().VIEWPORT_TABLES)

"""Viewport queries that keep their spatial index under row-level security.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

PostGIS's `&&` is not LEAKPROOF, so under a scope policy PostgreSQL must check the policy on
every row before it may apply the bounding-box test: a building viewport as `onemap_app`
scanned all 15,000 buildings of the district (15 ms) where the owner's GiST scan took 1 ms,
and the cost grew with the district, not the screen. (Marking `&&` LEAKPROOF needs a
superuser and would be undone by a PostGIS upgrade.)

`onemap.viewport_ids(layer, west, south, east, north)` runs the bounding-box test through the
GiST index as the owner and keeps only rows inside the caller's session scope (the policy's
own rule), returning their ids. The layer queries then ask for `id = ANY (ARRAY(SELECT
viewport_ids(…)))`: an equality on the primary key, which is leakproof, so the planner uses the
key's index and the policy still checks every row it returns. (A set gathered by a sub-select,
not an array returned by the function: the planner runs a function whose array it can see
while planning, to guess its length.) The function gives away nothing the caller's
scope does not already see.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# table -> its geometry column; only these may be asked for
VIEWPORT_TABLES = {"building": "geom", "camera": "geom", "sensor": "geom", "key_place": "geom",
                   "staff": "last_position"}

FUNCTION = r"""
CREATE FUNCTION onemap.viewport_ids(layer text, west float8, south float8, east float8,
                                    north float8) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 200
-- public: PostGIS's && and ST_MakeEnvelope (CREATE on public is the owner's alone)
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  geom_column text := CASE layer {cases} END;
  scope text := onemap.current_scope();
BEGIN
  IF geom_column IS NULL THEN
    RAISE EXCEPTION 'no viewport look-up for this table' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF scope IS NULL THEN
    RETURN;
  END IF;
  RETURN QUERY EXECUTE format(
    'SELECT id FROM onemap.%I WHERE %I && ST_MakeEnvelope($1, $2, $3, $4, 4326)'
    ' AND (starts_with(grid_code, $5) OR (grid_code IS NULL AND $6))', layer, geom_column)
    USING west, south, east, north, scope, onemap.scope_is_district();
END $$;
"""


def upgrade() -> None:
    cases = " ".join(f"WHEN '{table}' THEN '{column}'" for table, column in VIEWPORT_TABLES.items())
    op.get_bind().exec_driver_sql(FUNCTION.replace("{cases}", cases).replace("%", "%%"))


def downgrade() -> None:
    op.execute("DROP FUNCTION onemap.viewport_ids(text, float8, float8, float8, float8)")

"""Residents by gender and birth year per district, street and community (the cockpit's age
pyramid).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04

Counting 800 k people by age under row-level security takes most of a second; the pyramid
reads `admin_unit_age_stat` instead: one row per unit, gender and birth year (a birth year's
count stays true as the years pass; the age band is worked out when it is read).
`onemap.refresh_age_stats()` rebuilds it; geodata/building_stats.py calls it beside
refresh_building_stats() wherever people come in (importers, the demo). People count where
they live (their residence's building's grid), as the unit counts do.
"""

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

APP_ROLE = "onemap_app"

UPGRADE = f"""
CREATE TABLE onemap.admin_unit_age_stat (
  code varchar(12) NOT NULL,
  gender varchar(1) NOT NULL,
  birth_year smallint NOT NULL,
  people integer NOT NULL,
  CONSTRAINT pk_admin_unit_age_stat PRIMARY KEY (code, gender, birth_year)
);
COMMENT ON TABLE onemap.admin_unit_age_stat IS
  'Residents per district, street and community by gender and birth year.';
ALTER TABLE onemap.admin_unit_age_stat ENABLE ROW LEVEL SECURITY;
CREATE POLICY scope ON onemap.admin_unit_age_stat TO {APP_ROLE}
  USING (starts_with(code, (SELECT onemap.current_scope()))) WITH CHECK (false);
REVOKE ALL ON onemap.admin_unit_age_stat FROM {APP_ROLE};
GRANT SELECT ON onemap.admin_unit_age_stat TO {APP_ROLE};

CREATE FUNCTION onemap.refresh_age_stats() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  counted bigint;
BEGIN
  DELETE FROM onemap.admin_unit_age_stat;
  WITH resident AS (
    SELECT DISTINCT ON (p.id) p.gender, extract(year FROM p.birth_date)::smallint AS born,
           b.grid_code
      FROM onemap.person p
      JOIN onemap.person_household ph ON ph.person_id = p.id AND ph.kind = 'residence'
      JOIN onemap.household h ON h.id = ph.household_id
      JOIN onemap.building b ON b.id = h.building_id
     WHERE b.grid_code IS NOT NULL
     ORDER BY p.id, ph.household_id)
  INSERT INTO onemap.admin_unit_age_stat (code, gender, birth_year, people)
  SELECT left(r.grid_code, l.n), r.gender, r.born, count(*)
    FROM resident r CROSS JOIN (VALUES (6), (9), (12)) l(n)
   GROUP BY 1, 2, 3;
  SELECT coalesce(sum(people), 0) INTO counted FROM onemap.admin_unit_age_stat
   WHERE length(code) = 6;
  RETURN counted;
END $$;
REVOKE EXECUTE ON FUNCTION onemap.refresh_age_stats() FROM PUBLIC, {APP_ROLE};
"""


def upgrade() -> None:
    op.get_bind().exec_driver_sql(UPGRADE.replace("%", "%%"))
    op.get_bind().exec_driver_sql("SELECT onemap.refresh_age_stats()")


def downgrade() -> None:
    op.get_bind().exec_driver_sql("""
        DROP FUNCTION onemap.refresh_age_stats();
        DROP TABLE onemap.admin_unit_age_stat;
    """)

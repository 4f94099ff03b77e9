"""Maintained counts per administrative unit and per building (the navigator, the overview).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03

Counting 800 k people under row-level security costs about 1.3 s at district scale, on every
overview load and every navigator step. `admin_unit_stat` keeps one row per district, street,
community and grid: buildings, units, rooms by occupancy, people (registered there, living
there, living apart from their registration, floating, foreign), residents with non-sensitive
key-group tags (in total and per tag). `building_stat` gains the same room and people counts
per building, for the navigator below a grid.

Where people are counted:
- `residents`: actual residence (居住地) in the unit; `registered`: registration (户籍) there;
- `living_apart` (人户分离): residents whose registered household is another one; counted where
  they live. Floating and foreign residents have no registered household in the district and
  are counted as `floating` / `foreign`, not as living apart.
- `people`: exactly the rows of onemap.person a session scoped to this unit sees: everyone
  living or registered in it, plus, for a district, the people with no home at all (the person
  policy shows them to district scopes).
- Sensitive tags are left out of every aggregate: a count per unit would disclose them to
  every role that sees the map.

Row-level security as for building_stat: a session reads the rows of its own unit and the
units inside it, never a parent's totals (a grid worker does not read the district's row).
Only the SECURITY DEFINER `onemap.refresh_building_stats()` writes either table; it now ends by
calling `onemap.refresh_unit_stats()`, so every caller that kept building counts true
(importers, demo) keeps these true as well. Open cases and cameras are counted live.
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

APP_ROLE = "onemap_app"
SCOPE = "(SELECT onemap.current_scope())"
OCCUPANCY = ("self_occupied", "rented", "vacant", "commercial")
ROOM_COLUMNS = ("units", "rooms") + OCCUPANCY
PEOPLE_COLUMNS = ("registered", "living_apart")
# the levels' code lengths, district to grid
LEVELS = "ARRAY[6, 9, 12, 15]"


def _sql(statements: str) -> None:
    op.get_bind().exec_driver_sql(statements.replace("%", "%%"))


def _int_columns(names) -> str:
    return ",\n".join(f"{n} integer NOT NULL DEFAULT 0" for n in names)


REFRESH_BUILDING_STATS = f"""
CREATE OR REPLACE FUNCTION onemap.refresh_building_stats() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = onemap, pg_temp AS $$
DECLARE
  counted bigint;
BEGIN
  DELETE FROM onemap.building_stat;
  WITH links AS (
    SELECT h.building_id, ph.person_id, ph.kind, ph.household_id
      FROM onemap.person_household ph JOIN onemap.household h ON h.id = ph.household_id
  ), tagged AS (
    SELECT DISTINCT person_id FROM onemap.person_tag
  ), people AS (
    SELECT l.building_id,
           count(*) FILTER (WHERE l.kind = 'residence') AS residents,
           count(*) FILTER (WHERE l.kind = 'residence' AND t.person_id IS NOT NULL) AS key_group,
           count(*) FILTER (WHERE l.kind = 'registered') AS registered,
           count(*) FILTER (WHERE l.kind = 'residence' AND reg.household_id <> l.household_id)
             AS living_apart
      FROM links l
      LEFT JOIN tagged t USING (person_id)
      LEFT JOIN onemap.person_household reg
        ON reg.person_id = l.person_id AND reg.kind = 'registered' AND l.kind = 'residence'
     GROUP BY l.building_id
  ), rooms AS (
    SELECT building_id, count(*) AS rooms,
           {", ".join(f"count(*) FILTER (WHERE occupancy = '{o}') AS {o}" for o in OCCUPANCY)}
      FROM onemap.household GROUP BY building_id
  ), units AS (
    SELECT building_id, count(*) AS units FROM onemap.unit GROUP BY building_id
  ), inserted AS (
    INSERT INTO onemap.building_stat (building_id, grid_code, residents, key_group,
                                      {", ".join(ROOM_COLUMNS + PEOPLE_COLUMNS)})
    SELECT b.id, b.grid_code, coalesce(p.residents, 0), coalesce(p.key_group, 0),
           {", ".join(f"coalesce({c}, 0)" for c in ROOM_COLUMNS + PEOPLE_COLUMNS)}
      FROM onemap.building b
      LEFT JOIN people p ON p.building_id = b.id
      LEFT JOIN rooms r ON r.building_id = b.id
      LEFT JOIN units u ON u.building_id = b.id
    RETURNING 1
  )
  SELECT count(*) INTO counted FROM inserted;
  PERFORM onemap.refresh_unit_stats();
  RETURN counted;
END $$;
REVOKE EXECUTE ON FUNCTION onemap.refresh_building_stats() FROM PUBLIC, {APP_ROLE};
"""

# Rolled up from building_stat (rooms) and from people grouped by (where they live, where they
# are registered): a few thousand pairs instead of 800 k people per level. A person counts once
# in `people` of a unit that holds both their homes.
REFRESH_UNIT_STATS = f"""
CREATE FUNCTION onemap.refresh_unit_stats() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = onemap, pg_temp AS $$
DECLARE
  counted bigint;
BEGIN
  DELETE FROM onemap.admin_unit_stat;
  CREATE TEMPORARY TABLE unit_stat_homes ON COMMIT DROP AS
    SELECT ph.person_id,
           max(b.grid_code) FILTER (WHERE ph.kind = 'residence') AS home_grid,
           max(b.grid_code) FILTER (WHERE ph.kind = 'registered') AS reg_grid,
           max(ph.household_id) FILTER (WHERE ph.kind = 'residence') AS home,
           max(ph.household_id) FILTER (WHERE ph.kind = 'registered') AS reg
      FROM onemap.person_household ph
      JOIN onemap.household h ON h.id = ph.household_id
      JOIN onemap.building b ON b.id = h.building_id
     GROUP BY ph.person_id;
  ANALYZE pg_temp.unit_stat_homes;
  WITH pairs AS (
    SELECT x.home_grid, x.reg_grid, count(*) AS people,
           count(*) FILTER (WHERE x.home <> x.reg) AS living_apart,
           count(*) FILTER (WHERE x.home IS NOT NULL AND p.population_type = 'floating')
             AS floating,
           count(*) FILTER (WHERE x.home IS NOT NULL AND p.population_type = 'foreign')
             AS foreign_residents
      FROM pg_temp.unit_stat_homes x JOIN onemap.person p ON p.id = x.person_id
     GROUP BY 1, 2
  ), pair_levels AS (
    SELECT left(home_grid, n) AS home_unit, left(reg_grid, n) AS reg_unit, pairs.*
      FROM pairs CROSS JOIN unnest({LEVELS}) AS n
  ), people AS (
    SELECT code, sum(people) AS people, sum(residents) AS residents,
           sum(registered) AS registered, sum(living_apart) AS living_apart,
           sum(floating) AS floating, sum(foreign_residents) AS foreign_residents
      FROM (
        SELECT home_unit AS code, people, people AS residents,
               CASE WHEN reg_unit = home_unit THEN people ELSE 0 END AS registered,
               living_apart, floating, foreign_residents
          FROM pair_levels WHERE home_unit IS NOT NULL
        UNION ALL
        SELECT reg_unit, people, 0, people, 0, 0, 0
          FROM pair_levels WHERE reg_unit IS NOT NULL AND reg_unit IS DISTINCT FROM home_unit
      ) by_unit
     GROUP BY code
  ), tags AS (
    SELECT code, jsonb_object_agg(tag, residents) AS key_groups
      FROM (
        SELECT left(x.home_grid, n) AS code, t.tag, count(*) AS residents
          FROM pg_temp.unit_stat_homes x
          JOIN onemap.person_tag t ON t.person_id = x.person_id
          CROSS JOIN unnest({LEVELS}) AS n
         WHERE x.home_grid IS NOT NULL
         GROUP BY 1, 2
      ) per_tag
     GROUP BY code
  ), houses AS (
    SELECT left(grid_code, n) AS code, count(*) AS buildings, sum(key_group) AS key_group,
           {", ".join(f"sum({c}) AS {c}" for c in ROOM_COLUMNS)}
      FROM onemap.building_stat CROSS JOIN unnest({LEVELS}) AS n
     GROUP BY 1
  ), homeless AS (
    SELECT count(*) AS people FROM onemap.person p
     WHERE NOT EXISTS (SELECT 1 FROM pg_temp.unit_stat_homes x WHERE x.person_id = p.id)
  ), inserted AS (
    INSERT INTO onemap.admin_unit_stat (code, level, buildings, {", ".join(ROOM_COLUMNS)},
                                        people, residents, registered, living_apart, floating,
                                        foreign_residents, key_group, key_groups)
    SELECT u.code, u.level, coalesce(h.buildings, 0),
           {", ".join(f"coalesce(h.{c}, 0)" for c in ROOM_COLUMNS)},
           coalesce(p.people, 0)
             + CASE WHEN u.level = 'district' THEN (SELECT people FROM homeless) ELSE 0 END,
           coalesce(p.residents, 0), coalesce(p.registered, 0), coalesce(p.living_apart, 0),
           coalesce(p.floating, 0), coalesce(p.foreign_residents, 0), coalesce(h.key_group, 0),
           coalesce(t.key_groups, '{{}}'::jsonb)
      FROM onemap.admin_unit u
      LEFT JOIN houses h ON h.code = u.code
      LEFT JOIN people p ON p.code = u.code
      LEFT JOIN tags t ON t.code = u.code
    RETURNING 1
  )
  SELECT count(*) INTO counted FROM inserted;
  DROP TABLE pg_temp.unit_stat_homes;
  RETURN counted;
END $$;
REVOKE EXECUTE ON FUNCTION onemap.refresh_unit_stats() FROM PUBLIC, {APP_ROLE};
"""

# migration 0003's function, as it was
REFRESH_BUILDING_STATS_0003 = f"""
DROP FUNCTION onemap.refresh_building_stats();
CREATE FUNCTION onemap.refresh_building_stats() RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = onemap, pg_temp AS $$
  DELETE FROM onemap.building_stat;
  WITH residents AS (
    SELECT DISTINCT h.building_id, ph.person_id
      FROM onemap.person_household ph
      JOIN onemap.household h ON h.id = ph.household_id
     WHERE ph.kind = 'residence'
  ), tagged AS (
    SELECT DISTINCT person_id FROM onemap.person_tag
  ), counts AS (
    SELECT r.building_id, count(*) AS residents,
           count(*) FILTER (WHERE t.person_id IS NOT NULL) AS key_group
      FROM residents r LEFT JOIN tagged t USING (person_id)
     GROUP BY r.building_id
  ), inserted AS (
    INSERT INTO onemap.building_stat (building_id, grid_code, residents, key_group)
    SELECT b.id, b.grid_code, coalesce(c.residents, 0), coalesce(c.key_group, 0)
      FROM onemap.building b LEFT JOIN counts c ON c.building_id = b.id
    RETURNING 1
  )
  SELECT count(*) FROM inserted
$$;
REVOKE EXECUTE ON FUNCTION onemap.refresh_building_stats() FROM PUBLIC, {APP_ROLE};
"""


def upgrade() -> None:
    _sql(f"""
        ALTER TABLE onemap.building_stat
          {", ".join(f"ADD COLUMN {c} integer NOT NULL DEFAULT 0"
                     for c in ROOM_COLUMNS + PEOPLE_COLUMNS)};

        CREATE TABLE onemap.admin_unit_stat (
          code varchar(15) PRIMARY KEY,
          level varchar(16) NOT NULL,
          buildings integer NOT NULL DEFAULT 0,
          {_int_columns(ROOM_COLUMNS)},
          people integer NOT NULL DEFAULT 0,
          residents integer NOT NULL DEFAULT 0,
          registered integer NOT NULL DEFAULT 0,
          living_apart integer NOT NULL DEFAULT 0,
          floating integer NOT NULL DEFAULT 0,
          foreign_residents integer NOT NULL DEFAULT 0,
          key_group integer NOT NULL DEFAULT 0,
          key_groups jsonb NOT NULL DEFAULT '{{}}'::jsonb,
          refreshed_at timestamptz NOT NULL DEFAULT now(),
          CONSTRAINT ck_admin_unit_stat_level_valid
            CHECK (level IN ('district', 'street', 'community', 'grid'))
        );
        ALTER TABLE onemap.admin_unit_stat ENABLE ROW LEVEL SECURITY;
        CREATE POLICY scope ON onemap.admin_unit_stat TO {APP_ROLE}
          USING (starts_with(code, {SCOPE})) WITH CHECK (false);
        REVOKE ALL ON onemap.admin_unit_stat FROM {APP_ROLE};
        GRANT SELECT ON onemap.admin_unit_stat TO {APP_ROLE};
    """)
    _sql(REFRESH_UNIT_STATS)
    _sql(REFRESH_BUILDING_STATS)
    _sql("SELECT onemap.refresh_building_stats();")


def downgrade() -> None:
    _sql(REFRESH_BUILDING_STATS_0003)
    _sql(f"""
        DROP FUNCTION onemap.refresh_unit_stats();
        DROP TABLE onemap.admin_unit_stat;
        ALTER TABLE onemap.building_stat
          {", ".join(f"DROP COLUMN {c}" for c in ROOM_COLUMNS + PEOPLE_COLUMNS)};
    """)

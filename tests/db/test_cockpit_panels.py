"""The cockpit's population and infrastructure counts (geodata/queries/cockpit_panels.py):
the maintained ages equal the residents counted one by one, at every level and for a grid
counted live; cameras by status and sensor alarms by kind within the scope."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import create_engine, text

from geodata.queries import cockpit_panels as panels
from onemap.domain import kpi
from tests.db.map_layers.app_role import as_app

_RESIDENTS = """
SELECT p.gender, CAST(extract(year FROM p.birth_date) AS integer), count(DISTINCT p.id)
  FROM onemap.person p
  JOIN onemap.person_household ph ON ph.person_id = p.id AND ph.kind = 'residence'
  JOIN onemap.household h ON h.id = ph.household_id
  JOIN onemap.building b ON b.id = h.building_id
 WHERE starts_with(b.grid_code, :unit)
 GROUP BY 1, 2
"""


def test_ages_equal_the_residents_counted_one_by_one(demo_district):
    # the demo's load refreshes them, as the importers do (geodata/building_stats.py)
    engine = create_engine(demo_district[0].replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        grid = conn.execute(text(
            "SELECT b.grid_code FROM onemap.person_household ph JOIN onemap.household h"
            " ON h.id = ph.household_id JOIN onemap.building b ON b.id = h.building_id"
            " WHERE ph.kind = 'residence' ORDER BY ph.person_id LIMIT 1")).scalar_one()
        for unit in (grid[:6], grid[:9], grid[:12], grid):
            counted = sorted(tuple(r) for r in conn.execute(text(_RESIDENTS), {"unit": unit}))
            assert counted and sorted(panels.ages(conn, unit)) == counted, unit
    engine.dispose()


def test_age_bands():
    now = datetime(2026, 12, 4, tzinfo=timezone.utc)
    assert panels.age_band(2026, now) == 0
    assert panels.age_band(2021, now) == 5
    assert panels.age_band(1966, now) == 60
    assert panels.age_band(1900, now) == 85
    assert panels.age_band(2030, now) == 0  # a wrong future birth year is not a negative age


def test_cameras_and_alarms_by_scope(conn):
    from tests.db.map_layers.world import add_camera, point
    from tests.fixtures.hierarchy import insert_hierarchy

    codes = insert_hierarchy(conn)
    mine = codes["grid"][0]
    theirs = next(g for g in codes["grid"] if g[:9] != mine[:9])
    for n, (grid, status) in enumerate([(mine, "online"), (mine, "offline"), (theirs, "online")]):
        add_camera(conn, f"CAM-{n}", grid, point(conn, grid, 0.001, 0.001), status=status)
    sensor = conn.execute(text(
        "INSERT INTO sensor (code, kind, name, status, grid_code, geom) VALUES ('S-1', 'gas',"
        " '燃气', 'alarm', :g, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"),
        {"g": mine, **dict(zip("xy", point(conn, mine, 0.002, 0.002)))}).scalar_one()
    for raised, cleared in (("2031-03-05", "2031-03-06"), ("2031-03-20", None),
                            ("2031-01-02", "2031-01-03")):
        conn.execute(text("INSERT INTO sensor_alarm (sensor_id, raised_at, value, threshold,"
                          " direction, cleared_at) VALUES (:s, :r, 30, 25, 'high', :c)"),
                     {"s": sensor, "r": raised, "c": cleared})
    march = kpi.period_of("month", date(2031, 3, 1))
    assert panels.cameras(conn, mine[:6]) == {"online": 2, "offline": 1}
    assert panels.sensor_alarms(conn, mine[:6], march) == {"gas": {"raised": 2, "open": 1}}
    with as_app(conn, mine[:9]):
        assert panels.cameras(conn, mine[:6]) == {"online": 1, "offline": 1}
    with as_app(conn, theirs[:9]):
        assert panels.sensor_alarms(conn, mine[:6], march) == {}

"""Maintained per-unit counts (migration 0020): equal to the counts taken the slow way, after the
demo load and after an import; read only in scope; the overview's numbers unchanged."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from etl.importers import import_file
from geodata.building_stats import refresh_building_stats
from geodata.db import make_engine
from geodata.queries.overview import exact_table_counts, table_counts
from geodata.queries.unit_stats import child_counts, unit_counts
from tests.db.map_layers.app_role import as_app, refused
from tests.db.map_layers.world import add_event, add_person, point
from tests.fixtures.hierarchy import DISTRICT, insert_building, insert_hierarchy, insert_household
from tests.importers.conftest import GRID, add_households, person_id, write_csv

LEVEL_LENGTHS = (6, 9, 12, 15)

# Each count taken directly from the base tables, one unit length at a time: no pairs, no
# roll-up, no building_stat (the refresh's way); `:n` is the code length of the level.
SLOW = """
WITH rooms AS (
  SELECT left(b.grid_code, :n) AS code, h.id AS household_id, h.occupancy
    FROM household h JOIN building b ON b.id = h.building_id
), links AS (
  SELECT r.code, ph.person_id, ph.kind, ph.household_id, p.population_type
    FROM person_household ph JOIN rooms r USING (household_id)
    JOIN person p ON p.id = ph.person_id
)
SELECT u.code,
  (SELECT count(*) FROM building b WHERE left(b.grid_code, :n) = u.code) AS buildings,
  (SELECT count(*) FROM unit x JOIN building b ON b.id = x.building_id
    WHERE left(b.grid_code, :n) = u.code) AS units,
  (SELECT count(*) FROM rooms r WHERE r.code = u.code) AS rooms,
  (SELECT count(*) FROM rooms r WHERE r.code = u.code AND occupancy = 'self_occupied')
    AS self_occupied,
  (SELECT count(*) FROM rooms r WHERE r.code = u.code AND occupancy = 'rented') AS rented,
  (SELECT count(*) FROM rooms r WHERE r.code = u.code AND occupancy = 'vacant') AS vacant,
  (SELECT count(*) FROM rooms r WHERE r.code = u.code AND occupancy = 'commercial')
    AS commercial,
  (SELECT count(DISTINCT person_id) FROM links l WHERE l.code = u.code)
    + CASE WHEN :n = 6 THEN (SELECT count(*) FROM person p WHERE NOT EXISTS
        (SELECT 1 FROM person_household x WHERE x.person_id = p.id)) ELSE 0 END AS people,
  (SELECT count(*) FROM links l WHERE l.code = u.code AND kind = 'residence') AS residents,
  (SELECT count(*) FROM links l WHERE l.code = u.code AND kind = 'registered') AS registered,
  (SELECT count(*) FROM links l WHERE l.code = u.code AND kind = 'residence'
      AND EXISTS (SELECT 1 FROM person_household g WHERE g.person_id = l.person_id
                   AND g.kind = 'registered' AND g.household_id <> l.household_id))
    AS living_apart,
  (SELECT count(*) FROM links l WHERE l.code = u.code AND kind = 'residence'
      AND population_type = 'floating') AS floating,
  (SELECT count(*) FROM links l WHERE l.code = u.code AND kind = 'residence'
      AND population_type = 'foreign') AS foreign_residents,
  (SELECT count(*) FROM links l WHERE l.code = u.code AND kind = 'residence'
      AND EXISTS (SELECT 1 FROM person_tag t WHERE t.person_id = l.person_id)) AS key_group,
  (SELECT coalesce(jsonb_object_agg(tag, c), '{}'::jsonb) FROM (
     SELECT t.tag, count(*) AS c FROM links l JOIN person_tag t USING (person_id)
      WHERE l.code = u.code AND l.kind = 'residence' GROUP BY t.tag) x) AS key_groups
FROM admin_unit u WHERE length(u.code) = :n
"""
STORED = """
SELECT code, buildings, units, rooms, self_occupied, rented, vacant, commercial, people,
       residents, registered, living_apart, floating, foreign_residents, key_group, key_groups
  FROM admin_unit_stat WHERE length(code) = :n
"""


def _by_code(conn: Connection, sql: str, n: int) -> dict[str, dict]:
    return {r["code"]: dict(r) for r in conn.execute(text(sql), {"n": n}).mappings()}


def assert_stats_are_exact(conn: Connection) -> None:
    for n in LEVEL_LENGTHS:
        slow = _by_code(conn, SLOW, n)
        assert slow, f"no units of code length {n}"
        assert _by_code(conn, STORED, n) == slow


@pytest.fixture(scope="module")
def demo(demo_district):
    engine = make_engine(demo_district[0].replace("postgresql://", "postgresql+psycopg://", 1))
    yield engine
    engine.dispose()


@pytest.fixture
def demo_conn(demo):
    """A transaction on the demo district, rolled back after the test."""
    with demo.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


def test_the_demo_loads_true_counts_for_every_unit(demo_conn):
    assert_stats_are_exact(demo_conn)
    district = demo_conn.execute(text("SELECT people, residents, living_apart FROM"
                                      " admin_unit_stat WHERE level = 'district'")).one()
    # the demo has people living apart from their registration, and they live somewhere
    assert 0 < district.living_apart < district.residents <= district.people


def test_an_import_that_moves_people_keeps_the_counts_true(conn, tmp_path):
    insert_hierarchy(conn)
    insert_building(conn, GRID, "B-1")
    add_households(conn)  # B-1: unit 1 rooms 101 and 501, unit 2 room 302
    refresh_building_stats(conn)
    row = {"姓名": "张一", "公民身份号码": person_id(1), "人口类型": "户籍人口", "楼栋编码": "B-1",
           "单元": "1", "房号": "501", "与户主关系": "户主", "居住类型": "户籍"}
    second = {**row, "姓名": "张二", "公民身份号码": person_id(2), "与户主关系": "子女"}
    rows = [row, {**row, "单元": "2", "房号": "302", "居住类型": "居住", "与户主关系": "租户"},
            second, {**second, "居住类型": "居住"}]
    result = import_file(conn, "persons", write_csv(tmp_path / "p.csv", rows))
    assert result.errors == [] and result.written
    assert_stats_are_exact(conn)
    grid = conn.execute(text("SELECT people, residents, registered, living_apart, rooms"
                             " FROM admin_unit_stat WHERE code = :g"), {"g": GRID}).one()
    # 张一 registered in 1-501, living in 2-302 (人户分离); 张二 both in 1-501
    assert tuple(grid) == (2, 2, 2, 1, 3)
    # a new room for a kind moves the person: 张一 home again, no longer living apart
    moved = [{**row, "居住类型": "居住"}]
    assert import_file(conn, "persons", write_csv(tmp_path / "q.csv", moved)).errors == []
    assert_stats_are_exact(conn)
    assert conn.execute(text("SELECT living_apart FROM admin_unit_stat WHERE code = :d"),
                        {"d": DISTRICT}).scalar_one() == 0


def test_imported_boundaries_get_their_counts_at_once(conn, tmp_path):
    from tests.importers.test_boundaries import hierarchy_frame

    path = tmp_path / "units.gpkg"
    hierarchy_frame().to_file(path, driver="GPKG")
    assert import_file(conn, "boundaries", path).errors == []
    assert_stats_are_exact(conn)
    with as_app(conn, DISTRICT):
        assert unit_counts(conn, GRID)["buildings"] == 0
        assert len(child_counts(conn, DISTRICT)) == 2


def test_sensitive_tags_are_never_counted(conn):
    codes = insert_hierarchy(conn)
    room = insert_household(conn, insert_building(conn, codes["grid"][0], "B-1"), "101")
    add_person(conn, 1, room, tag="elderly_alone")
    add_person(conn, 2, room, sensitive_tag="community_correction")
    refresh_building_stats(conn)
    assert_stats_are_exact(conn)
    row = conn.execute(text("SELECT residents, key_group, key_groups::text FROM admin_unit_stat"
                            " WHERE code = :c"), {"c": codes["grid"][0]}).one()
    assert (row.residents, row.key_group) == (2, 1)
    assert "community_correction" not in row.key_groups and "elderly_alone" in row.key_groups
    with as_app(conn, codes["grid"][0], sensitive=True):
        counts = unit_counts(conn, codes["grid"][0])
        assert counts["key_groups"] == {"elderly_alone": 1} and counts["key_group"] == 1


@pytest.fixture
def small(conn):
    """Two grids of one community with a building each, people, an open and a closed case
    at the first building, and a person nobody has housed (the district sees them)."""
    codes = insert_hierarchy(conn)
    a, b = codes["grid"][0], codes["grid"][1]
    conn.execute(text("INSERT INTO event_category (code, kind, name_zh)"
                      " VALUES ('X01', 'event', '暴露垃圾')"))
    buildings = {g: insert_building(conn, g, f"B-{g[-3:]}") for g in (a, b)}
    room_a = insert_household(conn, buildings[a], "101")
    room_b = insert_household(conn, buildings[b], "201")
    add_person(conn, 1, room_a, tag="disabled")
    add_person(conn, 2, room_b)
    add_person(conn, 3, None)
    at_a = conn.execute(text("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c"
                             " FROM building WHERE id = :b) x"), {"b": buildings[a]}).one()
    add_event(conn, "E-OPEN", a, tuple(at_a), state="dispatched")
    add_event(conn, "E-CLOSED", a, tuple(at_a), state="closed")
    add_event(conn, "E-ELSEWHERE", b, point(conn, b, 0.001, 0.001), state="reported")
    refresh_building_stats(conn)
    return {"codes": codes, "a": a, "b": b, "buildings": buildings}


def test_a_grid_worker_reads_only_their_grid(conn, small):
    a, b, codes = small["a"], small["b"], small["codes"]
    community = a[:12]
    with as_app(conn, a):
        assert conn.execute(text("SELECT code FROM admin_unit_stat")).scalars().all() == [a]
        assert unit_counts(conn, DISTRICT) is None
        assert unit_counts(conn, community) is None
        assert unit_counts(conn, b) is None
        assert child_counts(conn, community) == []  # not even their own grid through it
        assert child_counts(conn, DISTRICT) == []
        grid = unit_counts(conn, a)
        assert (grid["buildings"], grid["residents"], grid["people"]) == (1, 1, 1)
        assert (grid["open_cases"], grid["key_group"], grid["key_groups"]) == (
            1, 1, {"disabled": 1})
        buildings = child_counts(conn, a)
        assert [x["id"] for x in buildings] == [small["buildings"][a]]
        assert buildings[0]["open_cases"] == 1 and buildings[0]["rooms"] == 1
        refused(conn, "UPDATE onemap.admin_unit_stat SET people = 0")
        refused(conn, "INSERT INTO onemap.admin_unit_stat (code, level) VALUES ('1', 'grid')")
        refused(conn, "DELETE FROM onemap.admin_unit_stat")
        refused(conn, "SELECT onemap.refresh_unit_stats()")
    with as_app(conn, community):
        children = child_counts(conn, community)
        assert [c["code"] for c in children] == [a, b]
        assert [(c["people"], c["open_cases"]) for c in children] == [(1, 1), (1, 1)]
    with as_app(conn, DISTRICT):
        district = unit_counts(conn, DISTRICT)
        assert district["people"] == 3  # the unhoused person too, as the person policy shows
        assert district["residents"] == 2 and district["open_cases"] == 2
        assert [c["code"] for c in child_counts(conn, DISTRICT)] == codes["street"]
    with as_app(conn, None):
        assert unit_counts(conn, a) is None and child_counts(conn, a) == []


def test_malformed_codes_are_no_unit(conn, small):
    with as_app(conn, DISTRICT):
        for code in ("", "21010", "2101030", "21010３", "210103'--", "x" * 15):
            assert unit_counts(conn, code) is None and child_counts(conn, code) == []


def test_the_overview_counts_equal_the_exact_counts(demo_conn):
    grid = demo_conn.execute(text("SELECT min(grid_code) FROM building")).scalar_one()
    for scope in (None, DISTRICT, grid[:9], grid[:12], grid):
        with as_app(demo_conn, scope):
            exact = exact_table_counts(demo_conn)
            assert table_counts(demo_conn) == exact, scope
            if scope:
                assert exact["person"] > 0 and exact["event"] > 0, scope

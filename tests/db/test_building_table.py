"""The building table and the household card (geodata/queries/building_table.py) on a real
PostGIS, through scoped sessions: the matrix holds every room once, counts and badges are
right, sensitive badges follow the session's right, cases are put at the building and the
room by the module's rule, a person living apart from their registration shows both homes,
and nothing outside the scope is found; then the same checks on the demo district."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from geodata.db import make_engine
from geodata.queries import building_table as housing
from geodata.scope import app_engine_for, scoped
from onemap.domain import idcard
from tests.fixtures.hierarchy import insert_building, insert_hierarchy
from tests.fixtures.sessions import session_scope

ADDRESS = "青年大街 1 号 1 栋"


def _room(conn, building: int, unit: int, floor: int, room: str, occupancy: str) -> int:
    unit_id = conn.execute(text(
        "INSERT INTO unit (building_id, number) VALUES (:b, :n)"
        " ON CONFLICT (building_id, number) DO UPDATE SET number = :n RETURNING id"),
        {"b": building, "n": unit}).scalar_one()
    floor_id = conn.execute(text(
        "INSERT INTO floor (unit_id, building_id, number) VALUES (:u, :b, :n)"
        " ON CONFLICT (unit_id, number) DO UPDATE SET number = :n RETURNING id"),
        {"u": unit_id, "b": building, "n": floor}).scalar_one()
    return conn.execute(text(
        "INSERT INTO household (floor_id, unit_id, building_id, room_number, occupancy, area_m2)"
        " VALUES (:f, :u, :b, :r, :o, 88.5) RETURNING id"),
        {"f": floor_id, "u": unit_id, "b": building, "r": room, "o": occupancy}).scalar_one()


def _person(conn, n: int, born: date, links: list[tuple[int, str, str]]) -> tuple[int, str]:
    id_number = idcard.make("210103", born, "F", n)
    pid = conn.execute(text(
        "INSERT INTO person (id_number, name, gender, birth_date, phone, population_type)"
        " VALUES (:i, :name, 'F', :b, :phone, 'registered') RETURNING id"),
        {"i": id_number, "name": f"楼盘{n}号", "b": born, "phone": f"1381234{n:04d}"},
    ).scalar_one()
    for household, kind, relation in links:
        conn.execute(text(
            "INSERT INTO person_household (person_id, household_id, kind, relation)"
            " VALUES (:p, :h, :k, :r)"), {"p": pid, "h": household, "k": kind, "r": relation})
    return pid, id_number


def _tag(conn, person: int, tag: str, sensitive: bool = False) -> None:
    table = "person_sensitive_tag" if sensitive else "person_tag"
    conn.execute(text(f"INSERT INTO {table} (person_id, tag) VALUES (:p, :t)"),
                 {"p": person, "t": tag})


def _event(conn, grid: str, code: str, state: str, address: str | None, lon: float,
           lat: float, reported: str) -> int:
    return conn.execute(text(
        "INSERT INTO event (code, title, category_code, level, channel, state, reported_at,"
        " closed_at, address, grid_code, geom) VALUES (:code, '楼盘表测试', 'C01', 5,"
        " 'inspector', :state, CAST(:reported AS timestamptz),"
        " CASE WHEN CAST(:state AS varchar) = 'closed' THEN now() END, :address, :grid,"
        " ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"),
        {"code": code, "state": state, "address": address, "grid": grid, "x": lon, "y": lat,
         "reported": reported}).scalar_one()


def build_world(conn) -> dict:
    """Building A (two units, six floors and a basement) in the first grid with its rooms,
    people and cases; building B in another community; building C elsewhere in A's grid."""
    codes = insert_hierarchy(conn)
    mine, theirs = codes["grid"][0], codes["grid"][3]
    a = insert_building(conn, mine, "HT-A")
    conn.execute(text("UPDATE building SET floors_below = 1 WHERE id = :a"), {"a": a})
    b = insert_building(conn, theirs, "HT-B")
    c = insert_building(conn, mine, "HT-C", where=(123.41, 41.81))
    conn.execute(text("UPDATE building SET address = '青年大街 2 号 1 栋' WHERE id = :b"),
                 {"b": b})
    conn.execute(text("UPDATE building SET address = '青年大街 3 号 1 栋' WHERE id = :c"),
                 {"c": c})
    rooms = {
        "1-101": _room(conn, a, 1, 1, "101", "commercial"),
        "1-501": _room(conn, a, 1, 5, "501", "self_occupied"),
        "1-502": _room(conn, a, 1, 5, "502", "rented"),
        "2-201": _room(conn, a, 2, 2, "201", "vacant"),
        "2-601": _room(conn, a, 2, 6, "601", "self_occupied"),
    }
    b_room = _room(conn, b, 1, 3, "301", "self_occupied")
    c_room = _room(conn, c, 1, 2, "202", "self_occupied")
    alone, alone_id = _person(conn, 1, date(1941, 5, 17), [
        (rooms["1-501"], "residence", "householder"),
        (rooms["1-501"], "registered", "householder")])
    _tag(conn, alone, "elderly_alone")
    _tag(conn, alone, "severe_mental_disorder", sensitive=True)
    # lives in A, registered in B (another community): 人户分离 across scopes
    apart, apart_id = _person(conn, 2, date(1985, 2, 3), [
        (rooms["1-502"], "residence", "householder"), (b_room, "registered", "householder")])
    _tag(conn, apart, "disabled")
    # lives in A, registered in C (the same grid)
    tenant, _ = _person(conn, 3, date(1990, 8, 9), [
        (rooms["1-502"], "residence", "tenant"), (c_room, "registered", "householder")])
    _tag(conn, tenant, "low_income")
    # registered in A, lives in B
    away, _ = _person(conn, 4, date(1970, 1, 30), [
        (rooms["2-601"], "registered", "householder"), (b_room, "residence", "other")])
    x, y = 123.401, 41.801  # A's footprint is (x, y) .. (x + 0.0003, y + 0.0002)
    inside = (x + 0.00015, y + 0.0001)
    near_50m = (x + 0.00015, y + 0.0002 + 0.00045)
    far_500m = (x + 0.00015, y + 0.0002 + 0.0045)
    events = {
        "room_open": _event(conn, mine, "HT-E1", "handling", f"{ADDRESS} 1-501", *inside,
                            "2026-11-02 09:00+08"),
        "room_closed": _event(conn, mine, "HT-E2", "closed", f"{ADDRESS}1单元501室", *inside,
                              "2026-10-01 09:00+08"),
        "named_near": _event(conn, mine, "HT-E3", "registered", f"{ADDRESS}附近", *near_50m,
                             "2026-11-01 09:00+08"),
        "on_footprint": _event(conn, mine, "HT-E4", "dispatched", None, *inside,
                               "2026-11-01 10:00+08"),
        "named_far": _event(conn, mine, "HT-E5", "registered", f"{ADDRESS}附近", *far_500m,
                            "2026-11-01 11:00+08"),
        "other_room": _event(conn, mine, "HT-E6", "reported", f"{ADDRESS} 2单元601", *inside,
                             "2026-11-01 12:00+08"),
        "beside": _event(conn, mine, "HT-E7", "registered", f"{ADDRESS}东侧", *near_50m,
                         "2026-11-01 13:00+08"),
        "other_building": _event(conn, mine, "HT-E8", "registered",
                                 "青年大街 1 号 11 栋 1-501", *near_50m, "2026-11-01 14:00+08"),
        "closed_near": _event(conn, mine, "HT-E9", "closed", f"{ADDRESS}附近", *near_50m,
                              "2026-11-01 15:00+08"),
    }
    return {"mine": mine, "theirs": theirs, "a": a, "b": b, "c": c, "rooms": rooms,
            "b_room": b_room, "c_room": c_room, "alone": alone, "alone_id": alone_id,
            "apart": apart, "apart_id": apart_id, "tenant": tenant, "away": away,
            "events": events}


def remove_world(conn) -> None:
    conn.execute(text("ALTER TABLE event_history DISABLE TRIGGER event_history_append_only"))
    conn.execute(text("DELETE FROM event_history"))
    conn.execute(text("ALTER TABLE event_history ENABLE TRIGGER event_history_append_only"))
    for table in ("event", "person_tag", "person_sensitive_tag", "person_household", "person",
                  "household", "floor", "unit", "building", "grid", "community", "street",
                  "district"):
        conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(scope="module")
def world(engine):
    with engine.begin() as conn:
        made = build_world(conn)
    yield made
    with engine.begin() as conn:
        remove_world(conn)


@pytest.fixture(scope="module")
def app_engine(db_url):
    engine = app_engine_for(db_url)
    yield engine
    engine.dispose()


def _table(engine, app_engine, scope_code: str, building: int, **session):
    with scoped(session_scope(engine, scope_code, **session), app_engine) as conn:
        return housing.building_table(conn, building)


def _card(engine, app_engine, scope_code: str, household: int, **session):
    with scoped(session_scope(engine, scope_code, **session), app_engine) as conn:
        return housing.household_card(conn, household)


def _cell(table: dict, label: str) -> dict:
    (cell,) = [c for c in table["cells"] if c["label"] == label]
    return cell


def test_the_matrix_holds_every_room_once_with_its_floor_and_unit(engine, app_engine, world):
    table = _table(engine, app_engine, "210103", world["a"], role="duty_officer")
    assert table["units"] == [1, 2]
    assert table["floors"] == [6, 5, 4, 3, 2, 1, -1]  # top first, the basement last
    assert sorted(c["household_id"] for c in table["cells"]) == sorted(world["rooms"].values())
    assert {c["label"]: (c["unit"], c["floor"], c["occupancy"]) for c in table["cells"]} == {
        "1-101": (1, 1, "commercial"), "1-501": (1, 5, "self_occupied"),
        "1-502": (1, 5, "rented"), "2-201": (2, 2, "vacant"), "2-601": (2, 6, "self_occupied")}
    building = table["building"]
    assert building["address"] == ADDRESS and building["floors_below"] == 1
    (south, west), (north, east) = building["bounds"]
    assert south < building["lat"] < north and west < building["lon"] < east


def test_residents_and_registered_people_are_counted_per_room(engine, app_engine, world):
    table = _table(engine, app_engine, "210103", world["a"], role="duty_officer")
    counts = {c["label"]: (c["residents"], c["registered"]) for c in table["cells"]}
    assert counts == {"1-101": (0, 0), "1-501": (1, 1), "1-502": (2, 0), "2-201": (0, 0),
                      "2-601": (0, 1)}


def test_sensitive_badges_follow_the_sessions_right(engine, app_engine, world):
    without = _table(engine, app_engine, "210103", world["a"], role="duty_officer")
    assert [b["code"] for b in _cell(without, "1-501")["badges"]] == ["elderly_alone"]
    assert "severe_mental_disorder" not in str(without)
    grid = _table(engine, app_engine, world["mine"], world["a"], role="grid_worker",
                  sensitive=True)
    badges = _cell(grid, "1-501")["badges"]
    assert [(b["code"], b["sensitive"], b["count"]) for b in badges] == [
        ("elderly_alone", False, 1), ("severe_mental_disorder", True, 1)]
    assert [(b["code"], b["count"]) for b in _cell(grid, "1-502")["badges"]] == [
        ("disabled", 1), ("low_income", 1)]
    # a person registered here who lives elsewhere puts no badge on this room
    assert _cell(grid, "2-601")["badges"] == []


def test_open_cases_are_put_at_the_room_and_the_building_by_the_rule(engine, app_engine, world):
    table = _table(engine, app_engine, "210103", world["a"], role="duty_officer")
    assert _cell(table, "1-501")["open_cases"] == 1       # E1 (E2 is closed)
    assert _cell(table, "2-601")["open_cases"] == 1       # "2单元601"
    assert _cell(table, "1-502")["open_cases"] == 0
    # E1 and E6 at rooms, E3 named after the building 50 m off, E4 on the footprint; not E5
    # (named but 500 m off), E7 (another place 50 m off), E8 (another building), E9 (closed)
    assert table["open_cases"] == 4


def test_outside_the_scope_is_none_like_a_missing_one(engine, app_engine, world):
    assert _table(engine, app_engine, world["theirs"], world["a"], role="grid_worker",
                  sensitive=True) is None
    assert _card(engine, app_engine, world["theirs"], world["rooms"]["1-501"],
                 role="grid_worker", sensitive=True) is None
    assert _table(engine, app_engine, world["mine"], world["b"], role="grid_worker") is None
    assert _card(engine, app_engine, world["mine"], world["b_room"], role="grid_worker") is None
    missing = max(world["rooms"].values()) + 10_000
    assert _card(engine, app_engine, "210103", missing, role="duty_officer") is None
    assert _table(engine, app_engine, "210103", world["c"] + 10_000) is None


def _members(card: dict) -> dict:
    return {m["person_id"]: m for m in card["members"]}


def test_a_person_living_apart_from_their_registration_shows_both_homes(
        engine, app_engine, world):
    card = _card(engine, app_engine, "210103", world["rooms"]["1-502"], role="duty_officer")
    members = _members(card)
    assert [m["person_id"] for m in card["members"]] == [world["apart"], world["tenant"]]
    apart = members[world["apart"]]
    assert (apart["kind"], apart["registered_here"], apart["relation"]) == (
        "residence", False, "householder")
    assert apart["other_home"] == {"kind": "registered", "household_id": world["b_room"],
                                   "building_id": world["b"], "label": "1-301",
                                   "address": "青年大街 2 号 1 栋"}
    assert members[world["tenant"]]["other_home"]["household_id"] == world["c_room"]
    assert members[world["tenant"]]["relation"] == "tenant"
    away = _members(_card(engine, app_engine, "210103", world["rooms"]["2-601"],
                          role="duty_officer"))[world["away"]]
    assert away["kind"] == "registered"
    assert away["other_home"]["kind"] == "residence"
    assert away["other_home"]["household_id"] == world["b_room"]


def test_a_home_outside_the_scope_is_not_shown(engine, app_engine, world):
    card = _card(engine, app_engine, world["mine"], world["rooms"]["1-502"],
                 role="grid_worker", sensitive=True)
    members = _members(card)
    assert members[world["apart"]]["other_home"] is None      # B is another community's
    assert members[world["tenant"]]["other_home"]["household_id"] == world["c_room"]
    away = _members(_card(engine, app_engine, world["mine"], world["rooms"]["2-601"],
                          role="grid_worker", sensitive=True))[world["away"]]
    assert away["kind"] == "registered" and away["other_home"] is None
    assert "青年大街 2 号" not in str(card)


def test_a_members_tags_follow_the_sessions_right(engine, app_engine, world):
    room = world["rooms"]["1-501"]
    plain = _card(engine, app_engine, "210103", room, role="duty_officer")
    assert [t["code"] for t in plain["members"][0]["tags"]] == ["elderly_alone"]
    entitled = _card(engine, app_engine, world["mine"], room, role="grid_worker",
                     sensitive=True)
    assert [t["code"] for t in entitled["members"][0]["tags"]] == [
        "elderly_alone", "severe_mental_disorder"]


def test_the_card_lists_the_rooms_cases_newest_first(engine, app_engine, world):
    card = _card(engine, app_engine, "210103", world["rooms"]["1-501"], role="duty_officer")
    assert card["label"] == "1-501" and card["building_address"] == ADDRESS
    assert (card["unit"], card["floor"], card["occupancy"]) == (1, 5, "self_occupied")
    assert [c["code"] for c in card["cases"]] == ["HT-E1", "HT-E2"]
    assert [c["state"] for c in card["cases"]] == ["handling", "closed"]
    assert _card(engine, app_engine, "210103", world["rooms"]["1-502"])["cases"] == []


# -- the demo district --------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(demo_district):
    url = demo_district[0]
    owner = make_engine(url)
    app = app_engine_for(url)
    yield owner, app
    app.dispose()
    owner.dispose()


def test_the_demo_districts_tables_match_its_rooms(demo):
    owner, app = demo
    with owner.connect() as conn:
        district = conn.execute(text("SELECT code FROM onemap.district")).scalar_one()
        picked = list(conn.execute(text(
            "(SELECT building_id FROM onemap.household GROUP BY building_id"
            "  ORDER BY count(*) DESC, building_id LIMIT 2)"
            " UNION (SELECT id FROM onemap.building ORDER BY floors_above DESC, id LIMIT 1)"
            " UNION (SELECT building_id FROM onemap.household GROUP BY building_id"
            "  ORDER BY building_id LIMIT 1)")).scalars())
        truth = {}
        for building in picked:
            truth[building] = {
                "rooms": {r.id: (r.unit, r.floor, r.room_number, r.occupancy) for r in
                          conn.execute(text(
                              "SELECT h.id, u.number AS unit, f.number AS floor,"
                              " h.room_number, h.occupancy FROM onemap.household h"
                              " JOIN onemap.unit u ON u.id = h.unit_id"
                              " JOIN onemap.floor f ON f.id = h.floor_id"
                              " WHERE h.building_id = :b"), {"b": building})},
                "residents": conn.execute(text(
                    "SELECT count(*) FROM onemap.person_household ph"
                    " JOIN onemap.household h ON h.id = ph.household_id"
                    " WHERE h.building_id = :b AND ph.kind = 'residence'"),
                    {"b": building}).scalar_one(),
                "floors": conn.execute(text(
                    "SELECT floors_above, floors_below, unit_count FROM onemap.building"
                    " WHERE id = :b"), {"b": building}).one(),
            }
    scope = session_scope(owner, district, role="duty_officer")
    for building, expected in truth.items():
        with scoped(scope, app) as conn:
            table = housing.building_table(conn, building)
        cells = table["cells"]
        assert len(cells) == len(expected["rooms"])  # every room once
        assert {c["household_id"]: (c["unit"], c["floor"], c["room_number"], c["occupancy"])
                for c in cells} == expected["rooms"]
        assert sum(c["residents"] for c in cells) == expected["residents"]
        above, below, units = expected["floors"]
        assert len(table["floors"]) == above + below and table["floors"][0] == above
        assert table["units"] == list(range(1, units + 1))
        assert {(c["unit"], c["floor"]) for c in cells} <= {
            (u, f) for u in table["units"] for f in table["floors"]}

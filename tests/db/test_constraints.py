"""The database refuses rows that break the domain's rules, whoever writes them."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from onemap.domain import idcard, uscc
from tests.fixtures.hierarchy import DISTRICT, _mp, grid_box, insert_building, insert_hierarchy


def refused(conn, sql: str, params: dict | None = None, match: str | None = None):
    """Assert the statement fails, inside a savepoint so the test can go on."""
    with pytest.raises((IntegrityError, DBAPIError), match=match):
        with conn.begin_nested():
            conn.execute(text(sql), params or {})


# -- validators: the SQL functions and the Python modules agree ------------------------------

def _random_ids(n: int) -> list[str]:
    rng = random.Random(7)
    ids = []
    for i in range(n):
        born = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 34000))
        ids.append(idcard.make("210103", born, rng.choice("MF"), rng.randrange(0, 500)))
    return ids


def _corrupt(code: str, rng: random.Random, alphabet: str) -> str:
    i = rng.randrange(len(code))
    replacement = rng.choice([c for c in alphabet if c != code[i]])
    return code[:i] + replacement + code[i + 1:]


def test_citizen_id_sql_and_python_agree(conn):
    rng = random.Random(11)
    valid = _random_ids(300)
    candidates = valid + [_corrupt(v, rng, "0123456789X") for v in valid]
    candidates += ["11010519491231002X", "110105194912310021", "11010520230230001X", "X" * 18]
    sql_answers = conn.execute(
        text("SELECT citizen_id_valid(x) FROM unnest(CAST(:ids AS text[])) AS x"),
        {"ids": candidates},
    ).scalars().all()
    python_answers = [idcard.validate(c) is None for c in candidates]
    assert sql_answers == python_answers
    assert sum(sql_answers) >= 300  # the valid ones all pass; most corruptions do not


def test_credit_code_sql_and_python_agree(conn):
    rng = random.Random(5)
    charset = uscc.CHARSET
    valid = [
        uscc.make("9", "1", "210103", "".join(rng.choice("0123456789ABCDEFGH") for _ in range(8)))
        for _ in range(300)
    ] + ["91350100M000100Y43", "914403001922038216"]
    candidates = valid + [_corrupt(v, rng, charset) for v in valid] + ["91350100M000100Y4O"]
    sql_answers = conn.execute(
        text("SELECT uscc_valid(x) FROM unnest(CAST(:codes AS text[])) AS x"), {"codes": candidates}
    ).scalars().all()
    assert sql_answers == [uscc.validate(c) is None for c in candidates]
    assert all(sql_answers[: len(valid)])


# -- people -----------------------------------------------------------------------------------

PERSON = ("INSERT INTO person (id_number, name, gender, birth_date, population_type)"
          " VALUES (:id, '张三', :g, :b, 'registered')")


def test_person_id_must_match_birth_date_and_sex(conn):
    male = idcard.make("210103", date(1980, 5, 17), "M", 12)
    conn.execute(text(PERSON), {"id": male, "g": "M", "b": date(1980, 5, 17)})
    other = idcard.make("210103", date(1981, 5, 17), "M", 13)
    refused(conn, PERSON, {"id": other, "g": "F", "b": date(1981, 5, 17)}, "id_number_matches")
    refused(conn, PERSON, {"id": other, "g": "M", "b": date(1981, 5, 18)}, "id_number_matches")
    bad_checksum = other[:17] + ("0" if other[17] != "0" else "1")
    refused(conn, PERSON, {"id": bad_checksum, "g": "M", "b": date(1981, 5, 17)})
    refused(conn, PERSON, {"id": male, "g": "M", "b": date(1980, 5, 17)}, "uq_person_id_number")


def test_foreigner_needs_a_passport_when_there_is_no_id(conn):
    sql = ("INSERT INTO person (passport_number, name, gender, birth_date, population_type)"
           " VALUES (:p, 'John Smith', 'M', '1990-01-01', 'foreign')")
    conn.execute(text(sql), {"p": "E12345678"})
    refused(conn, sql, {"p": None}, "identified")


def test_sensitive_tags_only_go_to_their_own_table(conn):
    pid = conn.execute(text(PERSON + " RETURNING id"), {
        "id": idcard.make("210103", date(1950, 1, 1), "F", 3), "g": "F", "b": date(1950, 1, 1),
    }).scalar_one()
    conn.execute(text("INSERT INTO person_tag (person_id, tag) VALUES (:p, 'elderly_alone')"),
                 {"p": pid})
    conn.execute(text(
        "INSERT INTO person_sensitive_tag (person_id, tag) VALUES (:p, 'community_correction')"
    ), {"p": pid})
    refused(conn, "INSERT INTO person_tag (person_id, tag) VALUES (:p, 'community_correction')",
            {"p": pid})
    refused(conn, "INSERT INTO person_sensitive_tag (person_id, tag) VALUES (:p, 'disabled')",
            {"p": pid})


# -- the hierarchy ----------------------------------------------------------------------------

def test_codes_nest_by_prefix(conn):
    insert_hierarchy(conn)
    refused(conn, "INSERT INTO street (code, district_code, name, geom)"
                  " VALUES ('210104009', '210103', 'x', ST_GeomFromText(:g, 4326))",
            {"g": _mp(123.41, 41.79, 123.42, 41.80)}, "code_in_district")
    refused(conn, "INSERT INTO grid (code, community_code, name, geom)"
                  " VALUES ('21010300100100', '210103001001', 'x', ST_GeomFromText(:g, 4326))",
            {"g": _mp(123.41, 41.81, 123.42, 41.815)}, "code_format")


def test_a_grid_must_lie_inside_its_community(conn):
    codes = insert_hierarchy(conn)
    community = codes["community"][0]
    x0, y0, x1, y1 = grid_box(conn, codes["grid"][0])
    # shifted 0.03° (~2.5 km) east: half of it lies outside the community
    refused(conn, "INSERT INTO grid (code, community_code, name, geom)"
                  " VALUES (:c, :p, 'x', ST_GeomFromText(:g, 4326))",
            {"c": community + "009", "p": community,
             "g": _mp(x0 + 0.03, y0, x1 + 0.03, y1)}, "lies outside community")
    # moving an existing grid out is refused too
    refused(conn, "UPDATE grid SET geom = ST_Translate(geom, 0.05, 0) WHERE code = :c",
            {"c": codes["grid"][0]}, "lies outside community")


def test_a_grid_sharing_its_communitys_edge_is_accepted(conn):
    codes = insert_hierarchy(conn)
    # the fixture's grids tile their communities exactly: all inserted without complaint
    n = conn.execute(text("SELECT count(*) FROM grid")).scalar()
    assert n == len(codes["grid"]) == 8


def test_a_building_must_stand_in_its_grid(conn):
    codes = insert_hierarchy(conn)
    insert_building(conn, codes["grid"][0], "B-1")
    x0, y0, x1, y1 = grid_box(conn, codes["grid"][1])
    with pytest.raises(DBAPIError, match="building B-2 lies outside grid"):
        with conn.begin_nested():
            insert_building(conn, codes["grid"][0], "B-2", where=(x0 + 0.001, y0 + 0.001))


def test_rooms_cannot_point_at_another_buildings_floor(conn):
    codes = insert_hierarchy(conn)
    b1 = insert_building(conn, codes["grid"][0], "B-1")
    b2 = insert_building(conn, codes["grid"][1], "B-2")
    unit = conn.execute(text("INSERT INTO unit (building_id, number) VALUES (:b, 1) RETURNING id"),
                        {"b": b1}).scalar_one()
    floor = conn.execute(text(
        "INSERT INTO floor (unit_id, building_id, number) VALUES (:u, :b, 5) RETURNING id"
    ), {"u": unit, "b": b1}).scalar_one()
    conn.execute(text(
        "INSERT INTO household (floor_id, unit_id, building_id, room_number, occupancy)"
        " VALUES (:f, :u, :b, '501', 'self_occupied')"), {"f": floor, "u": unit, "b": b1})
    refused(conn, "INSERT INTO household (floor_id, unit_id, building_id, room_number, occupancy)"
                  " VALUES (:f, :u, :b, '502', 'rented')", {"f": floor, "u": unit, "b": b2},
            "fk_household_floor_id_unit_id_building_id_floor")
    refused(conn, "INSERT INTO floor (unit_id, building_id, number) VALUES (:u, :b, 0)",
            {"u": unit, "b": b1}, "number_not_zero")


def test_one_registered_and_one_actual_residence_per_person(conn):
    codes = insert_hierarchy(conn)
    b = insert_building(conn, codes["grid"][0], "B-1")
    unit = conn.execute(text("INSERT INTO unit (building_id, number) VALUES (:b, 1) RETURNING id"),
                        {"b": b}).scalar_one()
    floor = conn.execute(text(
        "INSERT INTO floor (unit_id, building_id, number) VALUES (:u, :b, 1) RETURNING id"),
        {"u": unit, "b": b}).scalar_one()
    rooms = [conn.execute(text(
        "INSERT INTO household (floor_id, unit_id, building_id, room_number, occupancy)"
        " VALUES (:f, :u, :b, :r, 'self_occupied') RETURNING id"),
        {"f": floor, "u": unit, "b": b, "r": r}).scalar_one() for r in ("101", "102")]
    pid = conn.execute(text(PERSON + " RETURNING id"), {
        "id": idcard.make("210103", date(1970, 3, 3), "M", 9), "g": "M", "b": date(1970, 3, 3),
    }).scalar_one()
    link = ("INSERT INTO person_household (person_id, household_id, kind, relation)"
            " VALUES (:p, :h, :k, 'householder')")
    conn.execute(text(link), {"p": pid, "h": rooms[0], "k": "registered"})
    conn.execute(text(link), {"p": pid, "h": rooms[1], "k": "residence"})  # 人户分离
    refused(conn, link, {"p": pid, "h": rooms[1], "k": "registered"},
            "uq_person_household_person_kind")


# -- access and evidence ----------------------------------------------------------------------

def test_user_scope_must_be_a_real_unit(conn):
    insert_hierarchy(conn)
    sql = ("INSERT INTO app_user (username, display_name, password_hash, role_code, scope_code)"
           " VALUES (:u, 'x', 'x', 'grid_worker', :s)")
    conn.execute(text(sql), {"u": "w1", "s": DISTRICT + "001001"})
    refused(conn, sql, {"u": "w2", "s": DISTRICT + "009009"}, "is not a district, street")
    refused(conn, sql, {"u": "W1", "s": DISTRICT}, "uq_app_user_username_lower")


@pytest.mark.parametrize("table", ["audit_log", "event_history"])
def test_evidence_tables_are_append_only(conn, table):
    insert_hierarchy(conn)
    if table == "audit_log":
        conn.execute(text("INSERT INTO audit_log (action, username) VALUES ('login', 'alice')"))
    else:
        conn.execute(text(
            "INSERT INTO event_category (code, kind, name_zh) VALUES ('01', 'event', '市容环境')"))
        eid = conn.execute(text(
            "INSERT INTO event (code, title, category_code, level, channel, state, reported_at,"
            " geom) VALUES ('E1', '垃圾暴露', '01', 4, 'inspector', 'reported', now(),"
            " ST_SetSRID(ST_MakePoint(123.41, 41.81), 4326)) RETURNING id")).scalar_one()
        conn.execute(text("INSERT INTO event_history (event_id, action, to_state)"
                          " VALUES (:e, 'report', 'reported')"), {"e": eid})
    refused(conn, f"UPDATE {table} SET at = now() - interval '1 day'", match="append-only")
    refused(conn, f"DELETE FROM {table}", match="append-only")
    refused(conn, f"TRUNCATE {table} CASCADE", match="append-only")


def test_event_stages_cannot_precede_the_report(conn):
    conn.execute(text(
        "INSERT INTO event_category (code, kind, name_zh) VALUES ('01', 'event', '市容环境')"))
    refused(conn, "INSERT INTO event (code, title, category_code, level, channel, state,"
                  " reported_at, registered_at, geom) VALUES ('E2', 'x', '01', 4, 'inspector',"
                  " 'registered', now(), now() - interval '1 hour',"
                  " ST_SetSRID(ST_MakePoint(123.41, 41.81), 4326))",
            match="registered_at_after_report")
    refused(conn, "INSERT INTO event (code, title, category_code, level, channel, state,"
                  " reported_at, geom) VALUES ('E3', 'x', '01', 6, 'inspector', 'reported', now(),"
                  " ST_SetSRID(ST_MakePoint(123.41, 41.81), 4326))", match="level_valid")

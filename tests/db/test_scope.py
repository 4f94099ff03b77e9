"""Scopes hold in the database itself: guessing ids, forgetting filters, or no scope at all."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from onemap.domain import idcard
from geodata.scope import Scope, app_engine_for, scoped
from tests.fixtures.sessions import session_scope
from tests.fixtures.hierarchy import (
    DISTRICT,
    grid_box,
    insert_building,
    insert_hierarchy,
    insert_household,
)


@pytest.fixture(scope="module")
def app_engine(db_url):
    engine = app_engine_for(db_url)
    yield engine
    engine.dispose()


def _person(conn, n: int, household: int | None) -> int:
    born = date(1950 + n, 1, 1)
    pid = conn.execute(text(
        "INSERT INTO person (id_number, name, gender, birth_date, population_type)"
        " VALUES (:i, :n, 'M', :b, 'registered') RETURNING id"),
        {"i": idcard.make("210103", born, "M", n), "n": f"居民{n}", "b": born}).scalar_one()
    if household:
        conn.execute(text("INSERT INTO person_household (person_id, household_id, kind, relation)"
                          " VALUES (:p, :h, 'residence', 'householder')"),
                     {"p": pid, "h": household})
    return pid


@pytest.fixture(scope="module")
def world(engine):
    """Two communities' worth of buildings, rooms, people, events; removed afterwards."""
    with engine.begin() as conn:
        codes = insert_hierarchy(conn)
        mine, theirs = codes["grid"][0], codes["grid"][2]  # communities 001 and 002
        b_mine = insert_building(conn, mine, "B-MINE")
        b_theirs = insert_building(conn, theirs, "B-THEIRS")
        p_mine = _person(conn, 1, insert_household(conn, b_mine, "501"))
        p_theirs = _person(conn, 2, insert_household(conn, b_theirs, "502"))
        p_nowhere = _person(conn, 3, None)
        conn.execute(text("INSERT INTO person_sensitive_tag (person_id, tag)"
                          " VALUES (:p, 'community_correction')"), {"p": p_mine})
        conn.execute(text("INSERT INTO event_category (code, kind, name_zh)"
                          " VALUES ('X01', 'event', '测试')"))
        events = {}
        for name, grid in (("mine", mine), ("theirs", theirs)):
            x0, y0, _x1, _y1 = grid_box(conn, grid)
            events[name] = conn.execute(text(
                "INSERT INTO event (code, title, category_code, level, channel, state,"
                " reported_at, grid_code, geom) VALUES (:c, '暴露垃圾', 'X01', 5, 'inspector',"
                " 'reported', now(), :g, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"),
                {"c": f"E-{name}", "g": grid, "x": x0 + 0.001, "y": y0 + 0.001}).scalar_one()
    yield {"mine": mine, "theirs": theirs, "community": mine[:12], "p_mine": p_mine,
           "p_theirs": p_theirs, "p_nowhere": p_nowhere, "b_theirs": b_theirs, "events": events}
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM event"))
        conn.execute(text("DELETE FROM event_category WHERE code = 'X01'"))
        for table in ("person_sensitive_tag", "person_household",
                      "person", "household", "floor", "unit", "building", "grid", "community",
                      "street", "district"):
            conn.execute(text(f"DELETE FROM {table}"))


def ids(conn, sql: str, **params) -> list:
    return list(conn.execute(text(sql), params).scalars())


def test_a_community_sees_its_own_rows_only(engine, app_engine, world):
    with scoped(session_scope(engine, world["community"]), app_engine) as conn:
        assert ids(conn, "SELECT code FROM building") == ["B-MINE"]
        assert ids(conn, "SELECT id FROM person") == [world["p_mine"]]
        assert ids(conn, "SELECT id FROM event") == [world["events"]["mine"]]
        assert len(ids(conn, "SELECT id FROM household")) == 1


def test_guessing_another_communitys_ids_finds_nothing(engine, app_engine, world):
    with scoped(session_scope(engine, world["community"]), app_engine) as conn:
        assert ids(conn, "SELECT id FROM person WHERE id = :p", p=world["p_theirs"]) == []
        assert ids(conn, "SELECT id FROM building WHERE id = :b", b=world["b_theirs"]) == []
        assert ids(conn, "SELECT h.id FROM household h WHERE h.building_id = :b",
                   b=world["b_theirs"]) == []
        # the unlinked person belongs to the district, not to a community
        assert ids(conn, "SELECT id FROM person WHERE id = :p", p=world["p_nowhere"]) == []


def test_writing_outside_the_scope_changes_nothing_or_is_refused(engine, app_engine, world):
    with scoped(session_scope(engine, world["community"]), app_engine) as conn:
        changed = conn.execute(text("UPDATE event SET title = 'x' WHERE id = :e"),
                               {"e": world["events"]["theirs"]}).rowcount
        assert changed == 0
        with pytest.raises(ProgrammingError, match="row-level security"):
            with conn.begin_nested():
                conn.execute(text(
                    "INSERT INTO event (code, title, category_code, level, channel, state,"
                    " reported_at, grid_code, geom) VALUES ('E-sneak', 'x', 'X01', 5,"
                    " 'inspector', 'reported', now(), :g, ST_SetSRID(ST_MakePoint(123.46, 41.79),"
                    " 4326))"), {"g": world["theirs"]})


def test_the_district_sees_everything_including_unlinked_people(engine, app_engine, world):
    with scoped(session_scope(engine, DISTRICT), app_engine) as conn:
        assert set(ids(conn, "SELECT id FROM person")) == {
            world["p_mine"], world["p_theirs"], world["p_nowhere"]}


def test_no_scope_or_a_malformed_one_sees_nothing(engine, app_engine, world):
    with app_engine.connect() as conn:
        assert ids(conn, "SELECT id FROM building") == []
        assert ids(conn, "SELECT id FROM person") == []
        conn.rollback()
    for bogus in ("", "%", "21010", "210103%", "' OR true --", "abcdef", "999999"):
        with scoped(session_scope(engine, bogus), app_engine) as conn:
            assert ids(conn, "SELECT id FROM building") == [], bogus
            assert ids(conn, "SELECT id FROM person") == [], bogus
            assert ids(conn, "SELECT id FROM event") == [], bogus
    with pytest.raises(ValueError):
        Scope("210103%")


def test_a_scope_the_app_sets_itself_is_ignored(engine, app_engine, world):
    """The old hole: set_config('onemap.scope', <district>) made the app see everyone."""
    with app_engine.connect() as conn:
        conn.execute(text("SELECT set_config('onemap.scope', :s, false),"
                          " set_config('onemap.sensitive', 'on', false)"), {"s": DISTRICT})
        assert ids(conn, "SELECT id FROM person") == []
        assert ids(conn, "SELECT id FROM event") == []
        conn.rollback()
    with scoped(session_scope(engine, world["community"]), app_engine) as conn:
        conn.execute(text("SELECT set_config('onemap.scope', :s, true)"), {"s": DISTRICT})
        assert world["p_theirs"] not in ids(conn, "SELECT id FROM person")
        assert ids(conn, "SELECT person_id FROM person_sensitive_tag") == []


def test_a_made_up_or_ended_session_sees_nothing(engine, app_engine, world):
    district = session_scope(engine, DISTRICT)
    with scoped(Scope(DISTRICT, session="made-up-token"), app_engine) as conn:
        assert ids(conn, "SELECT id FROM person") == []
    with scoped(district, app_engine) as conn:
        assert len(ids(conn, "SELECT id FROM person")) == 3
    with engine.begin() as conn:
        conn.execute(text("UPDATE web_session SET ended_at = now(), end_reason = 'test'"
                          " WHERE token_hash = sha256(convert_to(:t, 'UTF8'))"),
                     {"t": district.session})
    with scoped(district, app_engine) as conn:
        assert ids(conn, "SELECT id FROM person") == []


def test_sensitive_tags_need_the_right_as_well_as_the_scope(engine, app_engine, world):
    with scoped(session_scope(engine, world["community"]), app_engine) as conn:
        assert ids(conn, "SELECT person_id FROM person_sensitive_tag") == []
    with scoped(session_scope(engine, world["community"], sensitive=True), app_engine) as conn:
        assert ids(conn, "SELECT person_id FROM person_sensitive_tag") == [world["p_mine"]]
    with scoped(session_scope(engine, world["theirs"][:12], sensitive=True), app_engine) as conn:
        assert ids(conn, "SELECT person_id FROM person_sensitive_tag") == []


def test_the_app_writes_audit_rows_only_in_its_sessions_name_and_never_changes_them(
        engine, app_engine, world):
    scope = session_scope(engine, world["community"])
    with scoped(scope, app_engine) as conn:
        for statement in ("INSERT INTO audit_log (action, username) VALUES ('login', 'alice')",
                          "UPDATE audit_log SET username = 'mallory'", "DELETE FROM audit_log",
                          "TRUNCATE audit_log", "DELETE FROM event_history"):
            with pytest.raises(DBAPIError, match="permission denied"):
                with conn.begin_nested():
                    conn.execute(text(statement))
        written = conn.execute(text(
            "SELECT onemap.write_audit('person_search', NULL, NULL, NULL, NULL, NULL, NULL)"
        )).scalar_one()
    with engine.connect() as conn:
        row = conn.execute(text("SELECT a.username, s.scope_code FROM audit_log a"
                                " JOIN web_session s ON s.user_id = a.user_id WHERE a.id = :id"),
                           {"id": written}).one()
    assert row.scope_code == world["community"] and row.username.startswith("t-")
    with app_engine.connect() as conn:  # no session: nothing to write in anyone's name
        with pytest.raises(DBAPIError, match="no signed-in session"):
            conn.execute(text(
                "SELECT onemap.write_audit('login', NULL, NULL, NULL, NULL, NULL, NULL)"))


def test_user_queries_run_as_the_app_role(app_engine):
    with app_engine.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar() == "onemap_app"


def test_the_embedded_app_logs_in_as_its_role_and_cannot_become_the_owner(pg_cluster, db_url):
    from sqlalchemy.exc import DBAPIError as Refused

    from geodata.db import make_engine
    from geodata.scope import app_login_url
    from onemap.settings import Settings

    settings = Settings(pg_dir=pg_cluster.root, pg_port=pg_cluster.port,
                        db_name=pg_cluster.db_name, database_url=None)
    engine = make_engine(app_login_url(settings))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT session_user")).scalar() == "onemap_app"
            conn.execute(text("RESET ROLE"))
            assert conn.execute(text("SELECT current_user")).scalar() == "onemap_app"
            with pytest.raises(Refused, match="permission denied"):
                conn.execute(text("SET ROLE onemap"))
    finally:
        engine.dispose()

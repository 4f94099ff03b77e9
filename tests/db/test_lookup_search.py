"""The search's database side: onemap.lookup_person_ids keeps to the session's scope and
refuses partial kinds without the unmask right; the pinyin dictionary fills once."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from geodata.pinyin import fill_name_pinyin
from geodata.queries.lookup_search import search
from geodata.scope import app_engine_for, scoped
from onemap.domain import idcard
from onemap.domain.lookup_query import parse_query
from tests.fixtures.hierarchy import insert_building, insert_hierarchy, insert_household
from tests.fixtures.sessions import session_scope

IDS = "SELECT onemap.lookup_person_ids(:kind, :q, :after, 20)"


def _resident(conn, n: int, building: int, name: str) -> int:
    home = insert_household(conn, building, f"{500 + n}")
    born = date(1970, 1, n)
    pid = conn.execute(text(
        "INSERT INTO person (id_number, name, gender, birth_date, phone, population_type)"
        " VALUES (:i, :name, 'F', :b, :phone, 'registered') RETURNING id"),
        {"i": idcard.make("210103", born, "F", n), "name": name, "b": born,
         "phone": f"+86 139-1234-{n:04d}"}).scalar_one()
    conn.execute(text("INSERT INTO person_household (person_id, household_id, kind, relation)"
                      " VALUES (:p, :h, 'residence', 'householder')"), {"p": pid, "h": home})
    return pid


@pytest.fixture(scope="module")
def town(engine, db_url, demo_users):
    with engine.begin() as conn:
        codes = insert_hierarchy(conn)
        mine = insert_building(conn, codes["grid"][0], "S-MINE")
        theirs = insert_building(conn, codes["grid"][3], "S-THEIRS")
        people = {"mine": _resident(conn, 1, mine, "欧阳娜娜"),
                  "theirs": _resident(conn, 2, theirs, "欧阳丽丽")}
        added = fill_name_pinyin(conn)
        again = fill_name_pinyin(conn)
    app = app_engine_for(db_url)
    yield {"codes": codes, "people": people, "added": added, "again": again, "app": app}
    app.dispose()
    with engine.begin() as conn:
        for table in ("name_pinyin", "person_household", "person", "household", "floor", "unit",
                      "building", "grid", "community", "street", "district"):
            conn.execute(text(f"DELETE FROM {table}"))


def _ids(town, scope, kind: str, q: str) -> list[int]:
    with scoped(scope, town["app"]) as conn:
        return [r[0] for r in conn.execute(text(IDS), {"kind": kind, "q": q,
                                                       "after": q[:-1] + chr(ord(q[-1]) + 1)})]


def test_the_dictionary_fills_each_name_once(town, engine):
    assert town["added"] >= 2 and town["again"] == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT pinyin, initials FROM name_pinyin WHERE name ="
                                 " '欧阳娜娜'")).one() == ("ouyangnana", "oynn")


def test_a_grid_scope_sees_its_own_people_only(town, engine):
    grid = session_scope(engine, town["codes"]["grid"][0], role="grid_worker")
    district = session_scope(engine, town["codes"]["grid"][0][:6], role="duty_officer")
    mine, theirs = town["people"]["mine"], town["people"]["theirs"]
    for kind, q in (("name_prefix", "欧"), ("initials", "oy"), ("pinyin_prefix", "ouyang"),
                    ("fuzzy", "ouyanglili"), ("name_fuzzy", "欧阳丽娜"),
                    ("phone", "13912340002")):
        assert theirs not in _ids(town, grid, kind, q), kind
        assert theirs in _ids(town, district, kind, q), kind
    assert _ids(town, grid, "name_prefix", "欧阳") == [mine]
    # one wrong character that sounds nothing like the right one: near by trigrams
    assert _ids(town, grid, "name_fuzzy", "欧阳娜丽") == [mine]
    assert _ids(town, grid, "id_suffix", idcard.make("210103", date(1970, 1, 2), "F", 2)
                [-4:][::-1]) == []


def test_partial_kinds_need_the_unmask_right_in_the_database_too(town, engine):
    analyst = session_scope(engine, town["codes"]["grid"][0][:6], role="analyst")
    assert town["people"]["mine"] in _ids(town, analyst, "name", "欧阳娜娜")
    for kind in ("name_prefix", "initials", "id_suffix", "phone", "id_number", "fuzzy",
                 "name_fuzzy"):
        with pytest.raises(ProgrammingError, match="unmask"):
            _ids(town, analyst, kind, "欧")


def test_search_groups_and_masks_nothing_itself(town, engine):
    grid = session_scope(engine, town["codes"]["grid"][0], role="grid_worker")
    with scoped(grid, town["app"]) as conn:
        found = search(conn, parse_query("oynn", may_unmask=True))
    person = found["people"][0]
    assert person["id"] == town["people"]["mine"] and person["matched"] == "initials"
    assert person["room"] == "1-501" or person["room"].endswith("-1-501")

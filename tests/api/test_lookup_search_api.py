"""POST /api/lookup/search on the demo district: every kind, scope, masking, refusals, audit.

Known people, rooms and enterprises are read from the demo database as its owner; the searches
go through the API as the demo users (a district duty officer and a grid worker, both with the
unmask right; an analyst without it).
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from geodata.db import make_engine
from onemap.domain.lookup_query import room_label
from onemap.domain.masking import mask_search_term
from tests.support.clients import demo_client, signed_in

SEARCH = "/api/lookup/search"
HOMOPHONES = {"伟": "玮", "明": "鸣", "华": "化", "丽": "力", "军": "君", "杰": "洁", "强": "墙",
              "敏": "民", "静": "敬", "娜": "那", "涛": "韬", "磊": "垒", "燕": "艳", "勇": "涌"}


@pytest.fixture(scope="module")
def owner(demo_district):
    engine = make_engine(demo_district[0])
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def grid(owner) -> str:
    """A grid with residents (the demo grid worker's own grid has none at this scale)."""
    with owner.connect() as conn:
        return conn.execute(text(
            "SELECT b.grid_code FROM person_household ph JOIN household h ON h.id ="
            " ph.household_id JOIN building b ON b.id = h.building_id WHERE ph.kind ="
            " 'residence' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")).scalar_one()


GRID_WORKER = ("search-gridworker", "search-grid-2026")


@pytest.fixture(scope="module")
def grid_worker(demo_app_server, owner, grid):
    """A grid worker of that grid, signed in."""
    from geodata import users
    from onemap.access.passwords import hash_password

    with owner.begin() as conn:
        if not users.credentials(conn, GRID_WORKER[0]):
            users.add(conn, username=GRID_WORKER[0], display_name="网格员 测试", role="grid_worker",
                      scope_code=grid, password_hash=hash_password(GRID_WORKER[1]))
    return signed_in(demo_app_server, *GRID_WORKER)


# people living in the grid worker's grid, with their home
_IN_GRID = """
SELECT p.id, p.name, p.id_number, p.phone, n.pinyin, n.initials, h.id AS household_id,
       h.building_id, b.name AS building_name, u.number AS unit, h.room_number
FROM person p JOIN name_pinyin n ON n.name = p.name
JOIN person_household ph ON ph.person_id = p.id AND ph.kind = 'residence'
JOIN household h ON h.id = ph.household_id JOIN unit u ON u.id = h.unit_id
JOIN building b ON b.id = h.building_id
WHERE b.grid_code = :grid AND p.id_number IS NOT NULL {extra}
ORDER BY p.id
"""


def _people_in_grid(owner, grid: str, extra: str = "", **params) -> list[dict]:
    with owner.connect() as conn:
        return [dict(r) for r in conn.execute(text(_IN_GRID.format(extra=extra)),
                                              {"grid": grid, **params}).mappings()]


def _search(client, q: str, **context):
    reply = client.post_json(SEARCH, {"q": q, **context})
    return reply.status, reply.json()


def _people_ids(answer: dict) -> list[int]:
    return [p["id"] for p in answer["groups"].get("people", [])]


def _audit_rows(owner, after_id: int) -> list[dict]:
    with owner.connect() as conn:
        return [dict(r) for r in conn.execute(text(
            "SELECT action, username, details FROM audit_log WHERE id > :id AND action IN"
            " ('lookup_search', 'refused') ORDER BY id"), {"id": after_id}).mappings()]


def _last_audit_id(owner) -> int:
    with owner.connect() as conn:
        return conn.execute(text("SELECT coalesce(max(id), 0) FROM audit_log")).scalar_one()


@pytest.fixture(scope="module")
def duty(demo_app_server):
    return demo_client(demo_app_server, "duty")


@pytest.fixture(scope="module")
def analyst(demo_app_server):
    return demo_client(demo_app_server, "analyst")


def test_pinyin_initials_and_whole_pinyin_find_a_known_person(grid_worker, owner, grid):
    # a person whose initials few others in the grid share, so they are in the first page
    everyone = _people_in_grid(owner, grid, "AND length(n.initials) = 3")
    shared = {}
    for p in everyone:
        shared[p["initials"]] = shared.get(p["initials"], 0) + 1
    person = min(everyone, key=lambda p: (shared[p["initials"]], p["id"]))
    for q in (person["initials"], person["initials"].upper(), person["pinyin"]):
        status, answer = _search(grid_worker, q)
        assert status == 200, answer
        assert person["id"] in _people_ids(answer), q
    found = next(p for p in answer["groups"]["people"] if p["id"] == person["id"])
    # masked, with where the map should go
    assert found["name"] != person["name"] and found["name"][0] == person["name"][0]
    assert person["id_number"] not in str(answer) and "birth_date" not in found
    assert found["household_id"] == person["household_id"]
    assert found["building_id"] == person["building_id"]
    assert found["room"] == room_label(person["building_name"], person["unit"],
                                       person["room_number"])


def test_a_typo_in_pinyin_and_a_wrong_character_still_find_the_person(grid_worker, owner,
                                                                       grid):
    person = _people_in_grid(owner, grid, "AND length(p.name) = 3 AND length(n.pinyin) >= 9"
                             " AND right(p.name, 1) = ANY (:ends)", ends=list(HOMOPHONES))[0]
    pinyin = person["pinyin"]
    typo = pinyin[:4] + pinyin[5] + pinyin[4] + pinyin[6:]  # two letters swapped
    assert typo != pinyin
    status, answer = _search(grid_worker, typo)
    assert status == 200 and person["id"] in _people_ids(answer), answer
    wrong = person["name"][:2] + HOMOPHONES[person["name"][2]]
    status, answer = _search(grid_worker, wrong)
    assert status == 200 and person["id"] in _people_ids(answer), answer


def test_a_name_prefix_finds_the_person(grid_worker, owner, grid):
    person = _people_in_grid(owner, grid, "AND length(p.name) = 3")[0]
    status, answer = _search(grid_worker, person["name"][:2])
    assert status == 200 and person["id"] in _people_ids(answer)


def test_ids_with_a_lower_case_x_and_spaces_and_by_their_last_digits(duty, owner, grid):
    person = _people_in_grid(owner, grid, "AND right(p.id_number, 1) = 'X'")[0]
    spaced = f"{person['id_number'][:6]} {person['id_number'][6:14]} {person['id_number'][14:]}"
    status, answer = _search(duty, spaced.lower())
    assert status == 200 and _people_ids(answer) == [person["id"]], answer
    assert answer["kinds"] == ["id_number"]
    person = _people_in_grid(owner, grid, "AND right(p.id_number, 1) <> 'X'")[0]
    status, answer = _search(duty, person["id_number"][-6:])
    assert status == 200 and person["id"] in _people_ids(answer)
    assert all(p["id_number"].endswith(person["id_number"][-4:])
               for p in answer["groups"]["people"])


def test_phones_with_spaces_dashes_and_country_codes(duty, owner, grid):
    person = _people_in_grid(owner, grid, "AND p.phone ~ '^1[0-9]{10}$'")[0]
    phone = person["phone"]
    for q in (phone, f"{phone[:3]} {phone[3:7]} {phone[7:]}", f"+86 {phone[:3]}-{phone[3:7]}"
              f"-{phone[7:]}", f"0086{phone}"):
        status, answer = _search(duty, q)
        assert status == 200 and person["id"] in _people_ids(answer), q
        assert answer["kinds"] == ["phone"]


def test_a_room_number_within_a_building_and_within_a_community(grid_worker, duty, owner,
                                                                grid):
    person = _people_in_grid(owner, grid)[0]
    label = room_label(person["building_name"], person["unit"], person["room_number"])
    status, answer = _search(grid_worker, label, building_id=person["building_id"])
    assert status == 200, answer
    assert person["household_id"] in [r["household_id"] for r in answer["groups"]["rooms"]]
    status, answer = _search(duty, label, community=grid[:12])
    assert person["household_id"] in [r["household_id"] for r in answer["groups"]["rooms"]]
    assert all(r["room"] == label and r["grid_code"].startswith(grid[:12])
               for r in answer["groups"]["rooms"])
    # unit-room inside the chosen building
    status, answer = _search(duty, f"{person['unit']}-{person['room_number']}",
                             building_id=person["building_id"])
    assert [r["household_id"] for r in answer["groups"]["rooms"]] == [person["household_id"]]


def test_road_and_number_enterprises_credit_codes_and_places(duty, owner):
    with owner.connect() as conn:
        building = conn.execute(text(
            "SELECT id, road, house_number FROM building WHERE road IS NOT NULL"
            " AND house_number ~ '^[0-9]+号$' ORDER BY id LIMIT 1")).mappings().one()
        enterprise = conn.execute(text("SELECT id, name, credit_code FROM enterprise"
                                       " ORDER BY id LIMIT 1")).mappings().one()
        place = conn.execute(text("SELECT id, name FROM key_place ORDER BY id LIMIT 1")
                             ).mappings().one()
    status, answer = _search(duty, building["road"] + building["house_number"])
    assert status == 200 and building["id"] in [b["id"] for b in answer["groups"]["buildings"]]
    assert all(-180 <= b["lon"] <= 180 and -90 <= b["lat"] <= 90
               for b in answer["groups"]["buildings"])
    status, answer = _search(duty, enterprise["credit_code"].lower())
    assert [e["id"] for e in answer["groups"]["enterprises"]] == [enterprise["id"]]
    status, answer = _search(duty, enterprise["name"])
    assert answer["groups"]["enterprises"][0]["name"] == enterprise["name"]
    status, answer = _search(duty, place["name"])
    assert place["id"] in [p["id"] for p in answer["groups"]["places"]]


@pytest.mark.parametrize("q", ["%", "_", "\\", "%%", "张%", "_伟", "' OR '1'='1", "'; DROP TABLE"
                               " person; --", "\\%", "z%", "a_b"])
def test_wildcards_and_injection_match_literally_and_never_everything(duty, q):
    status, answer = _search(duty, q)
    assert status == 200, answer
    assert answer["groups"] == {}, q


@pytest.mark.parametrize("q,message", [("", "required"), ("   ", "required"),
                                       ("张" * 65, "at most 64"), ("123", "mobile phone")])
def test_empty_long_and_unsearchable_queries_are_a_clear_400_naming_q(duty, q, message):
    status, answer = _search(duty, q)
    assert status == 400
    assert list(answer["fields"]) == ["q"] and message in answer["fields"]["q"]


def test_a_grid_worker_never_finds_anyone_outside_their_grid(grid_worker, owner, grid):
    with owner.connect() as conn:
        outside = conn.execute(text(
            "SELECT p.name, p.id_number, p.phone FROM person p WHERE p.phone IS NOT NULL"
            " AND p.id_number IS NOT NULL AND NOT EXISTS (SELECT 1 FROM person q"
            " JOIN person_household ph ON ph.person_id = q.id"
            " JOIN household h ON h.id = ph.household_id JOIN building b ON b.id = h.building_id"
            " WHERE q.name = p.name AND b.grid_code = :grid) ORDER BY p.id LIMIT 1"),
            {"grid": grid}).mappings().one()
    before = _last_audit_id(owner)
    for q in (outside["name"], outside["id_number"], outside["phone"],
              outside["id_number"][-6:]):
        status, answer = _search(grid_worker, q)
        assert status == 200
        assert "people" not in answer["groups"], q
        assert all(r["grid_code"] == grid for rows in answer["groups"].values()
                   for r in rows if "grid_code" in r)
    rows = _audit_rows(owner, before)
    assert [r["action"] for r in rows] == ["lookup_search"] * 4
    assert all("people" not in r["details"]["results"] for r in rows)


def test_a_role_without_unmask_searches_whole_names_only(analyst, owner, grid):
    person = _people_in_grid(owner, grid, "AND length(p.name) = 3")[0]
    before = _last_audit_id(owner)
    for q in (person["id_number"], person["phone"], person["id_number"][-4:]):
        status, answer = _search(analyst, q)
        assert status == 403 and "unmask" in answer["error"], q
    assert [r["action"] for r in _audit_rows(owner, before)] == ["refused"] * 3
    # a prefix or initials match nothing but whole names and whole pinyin
    status, answer = _search(analyst, person["name"][:2])
    assert status == 200 and "name_prefix" not in answer["kinds"]
    found = _people_ids(answer)
    with owner.connect() as conn:
        names = conn.execute(text("SELECT DISTINCT name FROM person WHERE id = ANY(:ids)"),
                             {"ids": found}).scalars().all()
    assert set(names) <= {person["name"][:2]}
    status, answer = _search(analyst, person["initials"])
    assert "initials" not in answer["kinds"] and "pinyin_prefix" not in answer["kinds"]
    status, answer = _search(analyst, person["name"])
    assert person["id"] in _people_ids(answer)


def test_each_search_writes_one_audit_row_with_the_query_masked(duty, owner, grid):
    person = _people_in_grid(owner, grid)[0]
    before = _last_audit_id(owner)
    status, answer = _search(duty, person["name"])
    assert status == 200
    rows = _audit_rows(owner, before)
    assert len(rows) == 1 and rows[0]["username"] == "duty"
    details = rows[0]["details"]
    assert details["query"] == mask_search_term(person["name"]) != person["name"]
    assert details["results"]["people"] == len(answer["groups"]["people"])
    assert "name" in details["kinds"]
    before = _last_audit_id(owner)
    _search(duty, person["id_number"])
    rows = _audit_rows(owner, before)
    assert len(rows) == 1 and person["id_number"] not in str(rows[0]["details"])

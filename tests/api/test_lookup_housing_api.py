"""GET /api/lookup/buildings/<id>/table and /api/lookup/households/<id>: who may ask, what a
grid worker cannot reach (404 alike for missing and out of scope), masking that no other field
undoes, sensitive badges by role, one audit row per table and card, and the look-up lock."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import text

from tests.db.test_building_table import build_world, remove_world
from tests.support.clients import Client
from tests.support.in_process import settings_changed
from tests.support.users import FRESH_USER_PASSWORD


@pytest.fixture(scope="module")
def world(engine, demo_users):
    with engine.begin() as conn:
        made = build_world(conn)
    yield made
    with engine.begin() as conn:
        remove_world(conn)


def signed_in(base, username: str, password: str | None = None) -> Client:
    client = Client(base)
    signed = client.sign_in(username, password) if password else client.sign_in(username)
    assert signed[0] == 302
    return client


def _get(client: Client, path: str) -> tuple[int, str]:
    status, _h, body, _c = client.request("GET", path)
    return status, body


def _audit_rows(engine, action: str, object_id: int) -> list:
    with engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT a.username, a.object_kind, a.details FROM audit_log a"
            " WHERE a.action = :a AND a.object_id = :o ORDER BY a.id"),
            {"a": action, "o": str(object_id)}).mappings())


def test_the_table_and_its_audit_row(app_server, world, engine):
    client = signed_in(app_server, "duty")
    before = len(_audit_rows(engine, "building_table", world["a"]))
    status, body = _get(client, f"/api/lookup/buildings/{world['a']}/table")
    assert status == 200, body
    table = json.loads(body)
    assert sorted(c["household_id"] for c in table["cells"]) == sorted(world["rooms"].values())
    assert table["floors"][0] == 6 and table["open_cases"] == 4
    rows = _audit_rows(engine, "building_table", world["a"])
    assert len(rows) == before + 1
    assert rows[-1]["username"] == "duty" and rows[-1]["object_kind"] == "building"


def test_sensitive_badges_only_for_a_role_with_the_right(app_server, world):
    duty = json.loads(_get(signed_in(app_server, "duty"),
                           f"/api/lookup/buildings/{world['a']}/table")[1])
    grid = json.loads(_get(signed_in(app_server, "gridworker"),
                           f"/api/lookup/buildings/{world['a']}/table")[1])
    codes = {c["label"]: [b["code"] for b in c["badges"]] for c in duty["cells"]}
    assert codes["1-501"] == ["elderly_alone"]
    assert "severe_mental_disorder" not in json.dumps(duty)
    codes = {c["label"]: [b["code"] for b in c["badges"]] for c in grid["cells"]}
    assert codes["1-501"] == ["elderly_alone", "severe_mental_disorder"]


def test_a_grid_worker_gets_404_outside_their_grid_as_for_a_missing_one(
        app_server, world, engine):
    client = signed_in(app_server, "gridworker")
    outside_table = _get(client, f"/api/lookup/buildings/{world['b']}/table")
    missing_table = _get(client, f"/api/lookup/buildings/{world['c'] + 100000}/table")
    assert outside_table[0] == missing_table[0] == 404
    assert outside_table[1] == missing_table[1]
    outside_card = _get(client, f"/api/lookup/households/{world['b_room']}")
    missing_card = _get(client, f"/api/lookup/households/{world['c_room'] + 100000}")
    assert outside_card[0] == missing_card[0] == 404
    assert outside_card[1] == missing_card[1]
    assert "青年大街 2 号" not in outside_card[1] + outside_table[1]
    # the attempt is recorded, found or not
    (row,) = _audit_rows(engine, "household_card", world["b_room"])[-1:]
    assert row["username"] == "gridworker" and row["details"]["found"] is False


def test_the_card_is_masked_and_audited_once(app_server, world, engine):
    client = signed_in(app_server, "duty")
    room = world["rooms"]["1-501"]
    before = len(_audit_rows(engine, "household_card", room))
    status, body = _get(client, f"/api/lookup/households/{room}")
    assert status == 200, body
    card = json.loads(body)
    (member,) = card["members"]
    full = world["alone_id"]
    assert member["name"] == "楼***"
    assert member["id_number"] == full[:6] + "********" + full[-4:]
    assert member["phone"] == "138****0001"
    assert member["age_band"] == "80-89" and "birth_date" not in member
    rows = _audit_rows(engine, "household_card", room)
    assert len(rows) == before + 1
    assert rows[-1]["object_kind"] == "household" and rows[-1]["details"]["members"] == 1
    assert [c["code"] for c in card["cases"]] == ["HT-E1", "HT-E2"]


@pytest.mark.parametrize("room", ["1-501", "1-502", "2-601"])
def test_no_other_field_gives_the_masked_parts_back(app_server, world, engine, room):
    """Masking fails by combination: the hidden digits of an ID are the birth date, so no
    form of it may appear anywhere in the card, nor the name, phone or full ID."""
    with engine.connect() as conn:
        people = conn.execute(text(
            "SELECT p.name, p.id_number, p.phone, p.birth_date FROM person p"
            " JOIN person_household ph ON ph.person_id = p.id WHERE ph.household_id = :h"),
            {"h": world["rooms"][room]}).all()
    assert people
    for username in ("duty", "gridworker", "analyst"):
        status, body = _get(signed_in(app_server, username),
                            f"/api/lookup/households/{world['rooms'][room]}")
        assert status == 200, (username, body)
        digits = re.sub(r"\D", "", body)
        for name, id_number, phone, born in people:
            for secret in (name, id_number, phone, born.isoformat(), born.strftime("%Y%m%d"),
                           born.strftime("%Y/%m/%d"), born.strftime("%Y年%m月%d日")):
                assert secret not in body, (username, secret)
            assert id_number not in digits and phone not in digits
            assert born.strftime("%Y%m%d") not in digits
        for member in json.loads(body)["members"]:
            assert "birth_date" not in member and "age_band" in member


def test_the_card_shows_both_homes_within_the_scope_only(app_server, world):
    path = f"/api/lookup/households/{world['rooms']['1-502']}"
    duty = {m["person_id"]: m for m in json.loads(_get(signed_in(app_server, "duty"),
                                                       path)[1])["members"]}
    assert duty[world["apart"]]["kind"] == "residence"
    assert duty[world["apart"]]["other_home"]["household_id"] == world["b_room"]
    assert duty[world["apart"]]["other_home"]["building_id"] == world["b"]
    grid = {m["person_id"]: m for m in json.loads(_get(signed_in(app_server, "gridworker"),
                                                       path)[1])["members"]}
    assert grid[world["apart"]]["other_home"] is None
    assert grid[world["tenant"]]["other_home"]["household_id"] == world["c_room"]


def test_roles_without_look_up_are_refused(app_server, world):
    for username in ("leader", "admin"):
        client = signed_in(app_server, username)
        assert _get(client, f"/api/lookup/buildings/{world['a']}/table")[0] == 403
        assert _get(client, f"/api/lookup/households/{world['rooms']['1-501']}")[0] == 403
    anonymous = Client(app_server)
    assert _get(anonymous, f"/api/lookup/households/{world['rooms']['1-501']}")[0] == 401


def test_walking_room_ids_locks_the_users_look_ups(app_server, world, fresh_user):
    client = signed_in(app_server, fresh_user, FRESH_USER_PASSWORD)
    missing = max(world["rooms"].values()) + 500_000
    with settings_changed(LOOKUP_MISS_LIMIT="3 per day"):
        statuses = [_get(client, f"/api/lookup/households/{missing + n}")[0] for n in range(5)]
        # three misses allowed, the fourth locks (it was run and audited, so it is answered)
        assert statuses == [404, 404, 404, 404, 423], statuses
        assert _get(client, f"/api/lookup/buildings/{world['a']}/table")[0] == 423
        assert _get(client, f"/api/lookup/households/{world['rooms']['1-501']}")[0] == 423

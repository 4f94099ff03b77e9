"""The look-up page's Dash callbacks called directly (POST /_dash-update-component), in-process
on the demo district, as a client that skips the page would call them: a role without the
look-up right gets nothing (and an audit row), a grid worker's forged unit or another area's
building is nothing of theirs, a role without the unmask right searches no IDs and unmasks
nobody, and the household card a callback answers is masked and audited."""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.support.clients import Client, demo_client
from tests.support.dash_calls import callback_call, id_text

PATTERNS = ("lookup-go", "lookup-pick-building", "lookup-pick-room", "lookup-pick-home",
            "lookup-hit")


def _post(client: Client, body: dict) -> tuple[int, str]:
    status, _h, text, _c = client.request("POST", "/_dash-update-component", json_body=body,
                                          headers=client.same_origin())
    if text.startswith("{"):
        text = json.dumps(json.loads(text), ensure_ascii=False)
    return status, text


def _none(_pattern: str) -> list:
    return []


def show_table(building_id: int) -> dict:
    return callback_call("lookup-table.children", {("lookup-building", "data"): building_id},
                         ("lookup-building", "data"), _none)


def open_card(household_id: int) -> dict:
    return callback_call("lookup-household-data.data", {("lookup-room", "data"): household_id},
                         ("lookup-room", "data"), _none)


def search(query: str, unit: str) -> dict:
    return callback_call("lookup-results.children", {
        ("lookup-q", "value"): query, ("lookup-unit", "data"): unit,
        ("lookup-building", "data"): None}, ("lookup-q", "value"), _none)


def unmask(person_id: int, card: dict) -> dict:
    return callback_call("lookup-unmask-message.children", {
        ("lookup-unmask-confirm", "n_clicks"): 1, ("lookup-unmask-person", "data"): person_id,
        ("lookup-purpose", "value"): "核实 check", ("lookup-household-data", "data"): card},
        ("lookup-unmask-confirm", "n_clicks"), _none)


def go(code: str, unit: str) -> dict:
    forged = {"type": "lookup-go", "code": code}

    def many(pattern: str) -> list:
        return [forged] if json.loads(pattern)["type"] == "lookup-go" else []

    return callback_call("lookup-room.data", {
        (id_text(forged), "n_clicks"): 1, ("lookup-unit", "data"): unit},
        (forged, "n_clicks"), many)


def _one(url: str, sql: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchone()


@pytest.fixture(scope="module")
def homes(demo_district):
    """A room with residents inside the grid worker's grid (or none at demo scale), one
    outside it, and the grid worker's grid."""
    url = demo_district[0]
    grid = _one(url, "SELECT scope_code FROM onemap.app_user WHERE username = 'gridworker'")[0]
    outside = _one(url, "SELECT h.id, h.building_id, p.id, p.name FROM onemap.household h"
                        " JOIN onemap.building b ON b.id = h.building_id"
                        " JOIN onemap.person_household ph ON ph.household_id = h.id"
                        " JOIN onemap.person p ON p.id = ph.person_id"
                        " WHERE b.grid_code <> %s AND ph.kind = 'residence'"
                        " ORDER BY h.id LIMIT 1", grid)
    id_number = _one(url, "SELECT id_number FROM onemap.person WHERE id_number IS NOT NULL"
                          " ORDER BY id LIMIT 1")[0]
    return {"url": url, "grid": grid, "household": outside[0], "building": outside[1],
            "person": outside[2], "name": outside[3], "id_number": id_number}


def test_a_role_without_the_look_up_right_gets_nothing_and_is_audited(demo_app_server, homes):
    leader = demo_client(demo_app_server, "leader")
    before = _one(homes["url"], "SELECT count(*) FROM onemap.audit_log WHERE username ="
                                " 'leader' AND action = 'refused'")[0]
    for body in (show_table(homes["building"]), open_card(homes["household"]),
                 search("张", "210103")):
        status, text = _post(leader, body)
        assert status == 204, text
    after = _one(homes["url"], "SELECT count(*) FROM onemap.audit_log WHERE username ="
                               " 'leader' AND action = 'refused'")[0]
    assert after == before + 3


def test_a_grid_worker_reaches_nothing_outside_their_grid(demo_app_server, homes):
    worker = demo_client(demo_app_server, "gridworker")
    status, text = _post(worker, show_table(homes["building"]))
    assert status == 200 and "范围内无此楼栋" in text, text
    assert "lookup-room" not in text
    status, text = _post(worker, open_card(homes["household"]))
    assert status == 200 and homes["name"] not in text and "members" not in text, text
    # a forged breadcrumb step to the district: refused as bad input, nothing selected
    status, text = _post(worker, go(homes["grid"][:6], homes["grid"]))
    assert status == 400, text
    # the same unit in the page's own store, forged too
    status, text = _post(worker, search(homes["name"], homes["grid"][:6]))
    assert status == 400, text
    status, text = _post(worker, search(homes["name"], homes["grid"]))
    assert status == 200 and "lookup-hit-people" not in text, text


def test_an_analyst_searches_no_ids_and_unmasks_nobody(demo_app_server, homes):
    analyst = demo_client(demo_app_server, "analyst")
    status, text = _post(analyst, search(homes["id_number"], "210103"))
    assert status == 200 and "需要查看明文权限" in text and "lookup-hit-" not in text, text
    status, card = _post(analyst, open_card(homes["household"]))
    assert status == 200 and homes["name"] not in card
    drawn = json.loads(card)["response"]["lookup-household-data"]["data"]
    status, text = _post(analyst, unmask(homes["person"], drawn))
    assert status == 200 and homes["name"] not in text and "无查看明文权限" in text, text
    assert _one(homes["url"], "SELECT count(*) FROM onemap.audit_log WHERE username ="
                              " 'analyst' AND action = 'unmask'")[0] == 0


def test_the_card_a_callback_answers_is_masked_and_audited(demo_app_server, homes):
    duty = demo_client(demo_app_server, "duty")
    before = _one(homes["url"], "SELECT count(*) FROM onemap.audit_log WHERE username ="
                                " 'duty' AND action = 'household_card' AND object_id = %s",
                  str(homes["household"]))[0]
    status, text = _post(duty, open_card(homes["household"]))
    assert status == 200 and homes["name"] not in text, text
    card = json.loads(text)["response"]["lookup-household-data"]["data"]
    assert all("birth_date" not in member for member in card["members"])
    assert _one(homes["url"], "SELECT count(*) FROM onemap.audit_log WHERE username = 'duty'"
                              " AND action = 'household_card' AND object_id = %s",
                str(homes["household"]))[0] == before + 1
    status, text = _post(duty, unmask(homes["person"], card))
    assert status == 200 and homes["name"] in text, text

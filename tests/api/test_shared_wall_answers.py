"""The wall's shared answers (geodata/shared_answers.py) tried as an attacker would: the same
Dash calls, the same view, one process, from users of different scopes, before and after a
change and after signing out. What one screen got is never what another scope receives, a
change is never hidden behind an earlier answer, and a dead session's cookie gets nothing."""

from __future__ import annotations

import base64
import json

import geobuf
import pytest
from sqlalchemy import text

from geodata.shared_answers import SHARED
from tests.fixtures.hierarchy import (
    EAST,
    NORTH,
    SOUTH,
    WEST,
    grid_box,
    insert_hierarchy,
    remove_events_and_hierarchy,
)
from tests.support.answers import send_json
from tests.support.clients import Client, signed_in_browser
from tests.support.users import FRESH_USER_PASSWORD

VIEW = {"west": WEST, "south": SOUTH, "east": EAST, "north": NORTH, "zoom": 13}


def _layer_call(name: str, options: dict | None = None) -> dict:
    return {
        "output": f'{{"name":"{name}","type":"wall-layer"}}.data',
        "outputs": {"id": {"name": name, "type": "wall-layer"}, "property": "data"},
        "inputs": [{"id": {"name": name, "type": "wall-request"}, "property": "data",
                    "value": {"view": VIEW, "options": options or {}}}],
        "changedPropIds": [f'{{"name":"{name}","type":"wall-request"}}.data'], "state": [],
    }


RAIL_OUTPUTS = ["wall-count-reported.children", "wall-count-working.children",
                "wall-count-closed.children", "wall-count-overdue.children",
                "wall-count-alarms.children", "wall-count-cameras.children",
                "wall-feed.children", "wall-banner.children", "wall-banner-keys.data",
                "wall-banner-ack.hidden"]
RAIL_CALL = {
    "output": ".." + "...".join(RAIL_OUTPUTS) + "..",
    "outputs": [dict(zip(("id", "property"), o.split("."))) for o in RAIL_OUTPUTS],
    "inputs": [{"id": "wall-live", "property": "data", "value": None},
               {"id": "wall-acknowledged", "property": "data", "value": []},
               {"id": "wall-minute", "property": "n_intervals", "value": 1}],
    "changedPropIds": ["wall-minute.n_intervals"], "state": [],
}


@pytest.fixture(scope="module")
def cases(engine, demo_users):
    """An open case in the grid worker's grid and one in another street's grid."""
    with engine.begin() as conn:
        codes = insert_hierarchy(conn)
        category = conn.execute(text(
            "SELECT code FROM onemap.event_category c WHERE NOT EXISTS (SELECT 1 FROM"
            " onemap.event_category k WHERE k.parent_code = c.code) ORDER BY code LIMIT 1")
        ).scalar_one()
        mine, other = codes["grid"][0], codes["grid"][-1]
        made = {grid: _add(conn, f"共享测试 {grid}", grid, category) for grid in (mine, other)}
    yield {"mine": mine, "other": other, "ids": made, "category": category}
    with engine.begin() as conn:
        remove_events_and_hierarchy(conn)


def _add(conn, title: str, grid: str, category: str) -> int:
    x0, y0, x1, y1 = grid_box(conn, grid)
    return conn.execute(text(
        "INSERT INTO onemap.event (code, title, category_code, level, channel, state,"
        " reported_at, grid_code, geom) VALUES ('SH-' || left(md5(:t), 16), :t, :c, 2,"
        " 'inspector', 'reported', now(), :g, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
        " RETURNING id"),
        {"t": title, "g": grid, "c": category, "x": (x0 + x1) / 2, "y": (y0 + y1) / 2}
    ).scalar_one()


def _signed_in(app_server, username: str) -> Client:
    client = Client(app_server)
    assert client.sign_in(username)[0] == 302
    return client


def _event_ids(client: Client) -> set[int]:
    code, _type, body = send_json(client, "/_dash-update-component", _layer_call("events"))
    assert code == 200, body[:300]
    encoded = json.loads(body)["response"][json.dumps(
        {"name": "events", "type": "wall-layer"}, separators=(",", ":"))]["data"]
    collection = geobuf.decode(base64.b64decode(encoded))
    return {feature["properties"]["id"] for feature in collection["features"]}


def _feed_text(client: Client) -> str:
    code, _type, body = send_json(client, "/_dash-update-component", RAIL_CALL)
    assert code == 200, body[:300]
    return json.dumps(json.loads(body)["response"]["wall-feed"], ensure_ascii=False)


def test_a_screen_of_another_scope_gets_its_own_answer(app_server, cases):
    duty, worker = _signed_in(app_server, "duty"), _signed_in(app_server, "gridworker")
    mine, other = cases["ids"][cases["mine"]], cases["ids"][cases["other"]]
    shared_before = SHARED.shared
    assert {mine, other} <= _event_ids(duty)
    assert {mine, other} <= _event_ids(_signed_in(app_server, "duty"))  # a second screen
    assert SHARED.shared > shared_before  # the district's answer was shared...
    seen = _event_ids(worker)  # ...and not with the grid worker, who asked the same
    assert mine in seen and other not in seen
    assert f"共享测试 {cases['other']}" in _feed_text(duty)
    worker_feed = _feed_text(worker)
    assert f"共享测试 {cases['mine']}" in worker_feed
    assert f"共享测试 {cases['other']}" not in worker_feed


def test_a_change_is_on_the_next_answer(app_server, engine, cases):
    duty = _signed_in(app_server, "duty")
    before = _event_ids(duty)
    with engine.begin() as conn:
        added = _add(conn, "共享测试 新案", cases["mine"], cases["category"])
    assert added not in before and added in _event_ids(duty)
    assert "共享测试 新案" in _feed_text(_signed_in(app_server, "duty"))


def test_a_signed_out_cookie_gets_nothing_shared(app_server, cases, fresh_user):
    duty = signed_in_browser(app_server, fresh_user, FRESH_USER_PASSWORD)
    assert cases["ids"][cases["other"]] in _event_ids(duty)
    _event_ids(_signed_in(app_server, "duty"))  # the answer another screen keeps sharing
    stolen = Client(app_server, duty.agent)
    stolen.cookies = dict(duty.cookies)
    status, _h, _b, _c = duty.request("POST", "/logout", {}, duty.same_origin())
    assert status == 302
    code, _type, body = send_json(stolen, "/_dash-update-component", _layer_call("events"))
    assert code == 401, (code, body[:300])
    assert "共享测试" not in body

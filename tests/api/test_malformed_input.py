"""Malformed input over HTTP (in-process): 400 with a JSON error, never a 500, and the input is
never repeated back (the outside security test's findings, one test each). Oversized bodies
are sent to a served app, byte by byte over a socket: tests/browser/test_body_limit.py."""

from __future__ import annotations

import json
import re

import pytest

from onemap.domain.lifecycle import ACTIONS
from tests.fixtures.hierarchy import (
    grid_box,
    insert_hierarchy,
    remove_events_and_hierarchy,
)
from tests.support.answers import raw, refused, send_json, signed_in_clients
from tests.support.clients import Client
from tests.support.dash_calls import audit_table_call

MARKER = "ZQXMARKERQXZ"  # put in bad input; must not come back
VIEW = {"west": 123.3, "south": 41.7, "east": 123.5, "north": 41.9, "zoom": 14}


@pytest.fixture(scope="module")
def area(engine, demo_users):
    """The hierarchy and one category, so that reports reach the database; removed after."""
    with engine.begin() as conn:
        codes = insert_hierarchy(conn)
        x0, y0, x1, y1 = grid_box(conn, codes["grid"][0])
    yield {"lon": (x0 + x1) / 2, "lat": (y0 + y1) / 2}
    with engine.begin() as conn:
        remove_events_and_hierarchy(conn)


@pytest.fixture(scope="module")
def clients(app_server, demo_users):
    return signed_in_clients(app_server)



# -- 2. malformed JSON, on every JSON endpoint ----------------------------------------------

def _wall_layer_call(bad) -> dict:
    """The wall's heatmap request with `bad` where the time window goes."""
    return _layer_call("heatmap", {"view": dict(VIEW, zoom=1), "window": bad})


# endpoint -> a body with `bad` in its text fields
ENDPOINTS = {
    "/api/events": lambda bad: {"title": bad, "category_code": bad, "lon": 123.4, "lat": 41.8},
    "/api/events/1/transitions": lambda bad: {"action": bad, "note": bad},
    "/api/persons/search": lambda bad: {"q": bad},
    "/api/persons/1/unmask": lambda bad: {"purpose": bad},
    "/_dash-update-component": _wall_layer_call,
}


def _all_refused(client: Client, data_for) -> None:
    for path, body in ENDPOINTS.items():
        data = data_for(body)
        error = refused(raw(client, path, data))
        assert MARKER not in error, path


def test_a_list_where_an_object_is_expected(clients):
    _all_refused(clients["duty"], lambda _body: b"[1, 2]")


def test_invalid_json(clients):
    _all_refused(clients["duty"], lambda body: json.dumps(body(MARKER)).encode()[:-3])


def test_bodies_that_are_not_utf8(clients):
    _all_refused(clients["duty"],
                 lambda body: json.dumps(body("上报" + MARKER), ensure_ascii=False).encode("gbk"))


def test_nul_characters_in_any_string(clients):
    _all_refused(clients["duty"], lambda body: json.dumps(body("a\x00" + MARKER)).encode())
    # in a key, too
    _all_refused(clients["duty"],
                 lambda body: json.dumps(dict(body("E0102"), **{"k\x00": 1})).encode())


def test_nul_in_the_sign_in_form(app_server):
    """Not JSON, but the same NUL would reach PostgreSQL (and the password hash)."""
    client = Client(app_server)
    _status, _h, page, _ = client.request("GET", "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    for username, password in (("du\x00ty", "duty-test-2026"), ("duty", "pass\x00word")):
        status, headers, body, _ = client.request(
            "POST", "/login", {"csrf_token": token, "username": username, "next": "/",
                               "password": password}, client.same_origin())
        assert status == 400, body[:300]
        assert headers["Content-Type"].startswith("application/json")


def test_lone_surrogates_in_any_string(clients):
    _all_refused(clients["duty"], lambda body: json.dumps(body("\ud800" + MARKER)).encode())


def test_nesting_a_thousand_deep(clients):
    deep = "[" * 1000 + "]" * 1000
    _all_refused(clients["duty"],
                 lambda body: json.dumps(body("@")).replace('"@"', deep, 1).encode())


# -- 3. event intake: a boolean is not a number ---------------------------------------------

@pytest.mark.parametrize(("field", "value", "named"), [
    ("level", True, "level"), ("level", 1.0, "level"), ("channel", {"a": 1}, "channel"),
    ("lon", True, "lon/lat"),
])
def test_a_report_with_a_value_of_the_wrong_type_names_the_field(clients, area, field, value,
                                                                 named):
    body = {"title": "暴露垃圾", "category_code": "E0102", **area, field: value}
    code, _type, answer = send_json(clients["gridworker"], "/api/events", body)
    assert code == 400, answer[:300]
    assert set(json.loads(answer)["fields"]) == {named}


# -- 4. transitions: an unknown action is not repeated back ---------------------------------

def test_an_unknown_action_is_refused_listing_the_actions_without_echoing_it(clients, area):
    worker = clients["gridworker"]
    code, _type, made = send_json(worker, "/api/events",
                              {"title": "井盖缺失", "category_code": "E0102", **area})
    assert code == 201, made
    event_id = json.loads(made)["id"]
    action = MARKER + "x" * 50_000
    code, _type, answer = send_json(worker, f"/api/events/{event_id}/transitions",
                                {"action": action})
    assert code == 400, answer[:300]
    assert MARKER not in answer and len(answer) < 1000
    assert json.loads(answer)["fields"]["action"] == f"one of {', '.join(ACTIONS)}"
    code, _type, answer = send_json(worker, f"/api/events/{event_id}/transitions",
                                {"action": "register"})
    assert code == 200, answer  # the case itself was not touched by the refusal


# -- 5. the audit page's filters --------------------------------------------------------------

def _audit_call(username=None, since=None, until=None) -> dict:
    return audit_table_call(username=username, since=since, until=until, changed="audit-since")


@pytest.mark.parametrize("filters", [
    {"since": "2026-13-45"}, {"since": "not a date " + MARKER}, {"until": "9" * 200_000},
    {"until": "9999-12-31"}, {"since": 20260101}, {"until": ["2026-01-01"]},
    {"username": "x" * 100_000 + MARKER}, {"username": {"a": 1}},
])
def test_bad_filters_are_explained_on_the_audit_page(clients, filters):
    code, _type, body = send_json(clients["admin"], "/_dash-update-component",
                              _audit_call(**filters))
    assert code == 200, body[:300]
    shown = json.dumps(json.loads(body)["response"], ensure_ascii=False)
    assert "audit-error" in shown and "筛选条件有误" in shown
    assert MARKER not in shown and len(shown) < 2000


def test_good_filters_still_search(clients):
    code, _type, body = send_json(clients["admin"], "/_dash-update-component",
                              _audit_call(username="duty", since="2026-01-01",
                                          until="2026-12-31"))
    assert code == 200 and "audit-error" not in body and "Newest" in body


def test_exporting_with_a_bad_filter_is_a_400(clients):
    call = {
        "output": "audit-download.data", "outputs": {"id": "audit-download", "property": "data"},
        "inputs": [{"id": "audit-export", "property": "n_clicks", "value": 1}],
        "state": [{"id": "audit-username", "property": "value", "value": None},
                  {"id": "audit-action", "property": "value", "value": None},
                  {"id": "audit-since", "property": "value", "value": "2026-13-45"},
                  {"id": "audit-until", "property": "value", "value": None}],
        "changedPropIds": ["audit-export.n_clicks"],
    }
    assert "YYYY-MM-DD" in refused(send_json(clients["admin"], "/_dash-update-component", call))


# -- 6. the wall's callbacks --------------------------------------------------------------------

def _layer_call(name: str, value) -> dict:
    """A viewport layer's request, as the map component's browser code sends it."""
    output = f'{{"name":"{name}","type":"wall-layer"}}.data'
    return {
        "output": output,
        "outputs": {"id": {"name": name, "type": "wall-layer"}, "property": "data"},
        "inputs": [{"id": {"name": name, "type": "wall-request"}, "property": "data",
                    "value": value}],
        "changedPropIds": [f'{{"name":"{name}","type":"wall-request"}}.data'], "state": [],
    }


def _card_call(trigger: str, value, zoom=15) -> dict:
    """The map's card: `trigger` is a layer's name (a click on its feature, `value` its
    clickData) or "select" (the page's selection, `value` the store's data)."""
    from layers.maps import WALL

    clicks = [{"id": {"name": name, "type": "wall-layer"}, "property": "clickData",
               "value": value if name == trigger else None} for name in WALL.layer_names]
    if trigger == "select":
        changed = "wall-select.data"
    else:
        changed = json.dumps({"name": trigger, "type": "wall-layer"},
                             separators=(",", ":")) + ".clickData"
    return {
        "output": "..wall-card-body.children...wall-card.hidden...wall-map.viewport..",
        "outputs": [{"id": "wall-card-body", "property": "children"},
                    {"id": "wall-card", "property": "hidden"},
                    {"id": "wall-map", "property": "viewport"}],
        "inputs": [clicks,
                   {"id": "wall-select", "property": "data",
                    "value": value if trigger == "select" else None},
                   {"id": "wall-card-close", "property": "n_clicks", "value": 0}],
        "changedPropIds": [changed],
        "state": [{"id": "wall-map", "property": "zoom", "value": zoom}],
    }


def _rail_call(live, acknowledged, trigger="wall-live.data") -> dict:
    outputs = ["wall-count-reported.children", "wall-count-working.children",
               "wall-count-closed.children", "wall-count-overdue.children",
               "wall-count-alarms.children", "wall-count-cameras.children",
               "wall-feed.children", "wall-banner.children", "wall-banner-keys.data",
               "wall-banner-ack.hidden"]
    return {
        "output": ".." + "...".join(outputs) + "..",
        "outputs": [dict(zip(("id", "property"), o.split("."))) for o in outputs],
        "inputs": [{"id": "wall-live", "property": "data", "value": live},
                   {"id": "wall-acknowledged", "property": "data", "value": acknowledged},
                   {"id": "wall-minute", "property": "n_intervals", "value": 1}],
        "changedPropIds": [trigger], "state": [],
    }


def _pages_call(pathname, search) -> dict:
    return {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": pathname},
                   {"id": "_pages_location", "property": "search", "value": search}],
        "changedPropIds": ["_pages_location.pathname"], "state": [],
    }


WALL_CALLS = {
    "unknown layer": _layer_call("nope", {"view": VIEW}),
    "request is text": _layer_call("events", "a string " + MARKER),
    "request is a list": _layer_call("events", [VIEW]),
    "view is text": _layer_call("events", {"view": MARKER}),
    "view holds text": _layer_call("events", {"view": dict(VIEW, west=MARKER)}),
    "view holds a boolean": _layer_call("events", {"view": dict(VIEW, zoom=True)}),
    "view lacks a side": _layer_call("events", {"view": {"west": 1, "zoom": 3}}),
    "zoom out of range": _layer_call("events", {"view": dict(VIEW, zoom=99)}),
    "west past east": _layer_call("events", {"view": dict(VIEW, west=124)}),
    "options are text": _layer_call("heatmap", {"view": VIEW, "options": MARKER}),
    "window is a list": _layer_call("heatmap", {"view": dict(VIEW, zoom=1),
                                                "options": {"window": ["1h"]}}),
    "window unknown": _layer_call("heatmap", {"view": VIEW, "options": {"window": MARKER}}),
    "clicked feature is text": _card_call("events", MARKER),
    "clicked feature without properties": _card_call("events", {"type": "Feature"}),
    "clicked id is text": _card_call("events", {"properties": {"id": MARKER}}),
    "clicked id past bigint": _card_call("cameras", {"properties": {"id": 10**30}}),
    "clicked id is a boolean": _card_call("cameras", {"properties": {"id": True}}),
    "clicked a layer without cards": _card_call("heatmap", {"properties": {"id": 1}}),
    "selected id is text": _card_call("select", {"kind": "events", "id": MARKER}),
    "selected kind unknown": _card_call("select", {"kind": MARKER, "id": 1}),
    "selection is text": _card_call("select", MARKER),
    "zoom is text": _card_call("select", {"kind": "events", "id": 1}, zoom=MARKER),
    "live is text": _rail_call(MARKER, []),
    "live changes are a number": _rail_call({"changed": 5}, []),
    "banner keys are a dict": {
        "output": "wall-acknowledged.data",
        "outputs": {"id": "wall-acknowledged", "property": "data"},
        "inputs": [{"id": "wall-banner-ack", "property": "n_clicks", "value": 1}],
        "state": [{"id": "wall-banner-keys", "property": "data", "value": {MARKER: 1}},
                  {"id": "wall-acknowledged", "property": "data", "value": []}],
        "changedPropIds": ["wall-banner-ack.n_clicks"]},
    # a layer's style (hideout) is the browser's own business: no server callback sets it
    "building colour": {
        "output": '{"name":"buildings","type":"wall-layer"}.hideout',
        "outputs": {"id": {"name": "buildings", "type": "wall-layer"}, "property": "hideout"},
        "inputs": [{"id": {"name": "colour", "type": "wall-option"}, "property": "value",
                    "value": {"a": MARKER}}],
        "changedPropIds": ['{"name":"colour","type":"wall-option"}.value'], "state": []},
    "page search is a number": _pages_call("/wall", 5),
    "page path is a list": _pages_call(["/wall"], ""),
    "inputs of another callback": dict(_layer_call("events", {"view": VIEW}),
                                       inputs=[{"id": "wall-live", "property": "data"}]),
    "clientside callback": {"output": "wall-view.data",
                            "outputs": {"id": "wall-view", "property": "data"},
                            "inputs": [], "changedPropIds": [], "state": []},
}


@pytest.mark.parametrize("name", list(WALL_CALLS))
def test_malformed_wall_calls_are_400(clients, name):
    error = refused(send_json(clients["duty"], "/_dash-update-component", WALL_CALLS[name]))
    assert MARKER not in error


@pytest.mark.parametrize("call", [
    _layer_call("events", {"view": VIEW}),
    _layer_call("heatmap", {"view": VIEW, "options": {"window": "7d"}}),
    _card_call("events", {"properties": {"id": 123456789}}),
    _card_call("select", {"kind": "alarms", "id": 123456789, "at": 1}),
    _rail_call({"token": "t", "changed": ["event"]}, []),
    # acknowledged keys live in the browser's local storage: anything else there is ignored
    _rail_call(None, [{"a": 1}, 5, "event:1"], trigger="wall-acknowledged.data"),
    _pages_call("/wall", "?colour=use&colour=residents&layers=events&layers=x"),
], ids=["layer", "heatmap", "card", "selection", "rail", "odd acknowledged keys",
        "repeated query keys"])
def test_well_formed_wall_calls_still_answer(clients, call):
    code, _type, body = send_json(clients["duty"], "/_dash-update-component", call)
    assert code == 200, body[:500]

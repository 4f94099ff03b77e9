"""The layer API and the live clock over HTTP, on the demo district: answers, errors, and
scope escapes (a grid worker asking for the whole district, or for another community)."""

from __future__ import annotations

import base64
import json

import geobuf
import psycopg
import pytest

from geodata import live
from layers.registry import VIEWPORT_LAYERS
from tests.support.clients import Client, demo_client

# tables whose ids the layers carry, and how each row's grid is found
GRID_OF = {
    "events": "SELECT grid_code FROM onemap.event WHERE id = %s",
    "cameras": "SELECT grid_code FROM onemap.camera WHERE id = %s",
    "sensors": "SELECT grid_code FROM onemap.sensor WHERE id = %s",
    "buildings": "SELECT grid_code FROM onemap.building WHERE id = %s",
    "places": "SELECT grid_code FROM onemap.key_place WHERE id = %s",
    "staff": "SELECT grid_code FROM onemap.staff WHERE id = %s",
}


def _raw_get(client: Client, path: str) -> tuple[int, bytes]:
    reply = client.get(path)
    return reply.status, reply.body


@pytest.fixture(scope="module")
def district(demo_district):
    url, _env = demo_district
    with psycopg.connect(url) as conn:
        extent = conn.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
                              " (SELECT ST_Extent(geom) AS e FROM onemap.district) x").fetchone()
        worker_grid = conn.execute("SELECT scope_code FROM onemap.app_user"
                                   " WHERE username = 'gridworker'").fetchone()[0]
        other = conn.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
            " (SELECT ST_Extent(geom) AS e FROM onemap.community WHERE left(code, 9) <> left(%s, 9)"
            " AND code = (SELECT max(code) FROM onemap.community)) x", (worker_grid,)).fetchone()
    return {"url": url, "bbox": ",".join(map(str, extent)), "grid": worker_grid,
            "other_bbox": ",".join(map(str, other))}


def _features(client: Client, layer: str, bbox: str, zoom: int, **options) -> list[dict]:
    query = "".join(f"&{k}={v}" for k, v in options.items())
    status, body = _raw_get(client, f"/api/layers/{layer}?bbox={bbox}&zoom={zoom}{query}")
    assert status == 200, body[:300]
    return geobuf.decode(body)["features"]


def test_catalogue_lists_every_layer(demo_app_server):
    status, body = _raw_get(demo_client(demo_app_server, "analyst"), "/api/layers")
    assert status == 200
    listed = {layer["name"]: layer for layer in json.loads(body)}
    assert set(listed) == set(VIEWPORT_LAYERS)
    assert listed["heatmap"]["options"] == {"window": ["24h", "1h", "7d"]}
    assert listed["events"]["live_topic"] == "event"


def test_layers_need_a_login(demo_app_server):
    status, _ = _raw_get(Client(demo_app_server), "/api/layers/events?bbox=123,41,124,42&zoom=13")
    assert status == 401
    status, _ = _raw_get(Client(demo_app_server), "/api/live")
    assert status == 401


@pytest.mark.parametrize(("query", "says"), [
    ("", "bbox"), ("bbox=1,2,3&zoom=13", "bbox"), ("bbox=a,b,c,d&zoom=13", "bbox"),
    ("bbox=124,41,123,42&zoom=13", "west < east"), ("bbox=123,41,124,42", "zoom"),
    ("bbox=123,41,124,42&zoom=40", "zoom"), ("bbox=123,41,124,nan&zoom=13", "bbox"),
    ("bbox=123,41,124,1e999&zoom=13", "finite"),
])
def test_bad_viewports_are_refused_with_the_reason(demo_app_server, query, says):
    """The form of each parameter (ViewportQuery, named in `fields`), then what the numbers
    mean (in the message)."""
    status, body = _raw_get(demo_client(demo_app_server, "duty"), f"/api/layers/events?{query}")
    assert status == 400
    answer = json.loads(body)
    assert says in answer["error"] + " ".join(answer.get("fields", {}))


def test_unknown_layers_and_options_are_refused(demo_app_server, district):
    client = demo_client(demo_app_server, "duty")
    status, body = _raw_get(client, f"/api/layers/persons?bbox={district['bbox']}&zoom=13")
    assert status == 404 and "events" in json.loads(body)["layers"]
    status, body = _raw_get(client, f"/api/layers/heatmap?bbox={district['bbox']}&zoom=13"
                                    "&window=1%20year")
    assert status == 400 and "window" in json.loads(body)["error"]


def test_district_user_sees_the_district(demo_app_server, district):
    client = demo_client(demo_app_server, "duty")
    events = _features(client, "events", district["bbox"], 13)
    assert len(events) > 50
    cells = _features(client, "heatmap", district["bbox"], 13, window="7d")
    with psycopg.connect(district["url"]) as conn:
        week = conn.execute("SELECT count(*) FROM onemap.event"
                            " WHERE reported_at >= now() - interval '7 days'").fetchone()[0]
    assert sum(cell["properties"]["n"] for cell in cells) == week
    assert len(cells) < week  # aggregated, not shipped point by point


@pytest.mark.parametrize("layer", sorted(GRID_OF))
def test_a_grid_worker_gets_nothing_outside_their_grid(demo_app_server, district, layer):
    client = demo_client(demo_app_server, "gridworker")
    mine = _features(client, layer, district["bbox"], 18)  # the whole district, closest zoom
    with psycopg.connect(district["url"]) as conn:
        grids = {conn.execute(GRID_OF[layer], (f["properties"]["id"],)).fetchone()[0]
                 for f in mine}
    assert grids <= {district["grid"]}, grids
    # another street's community: there is plenty there, and none of it reaches the worker
    theirs = _features(demo_client(demo_app_server, "duty"), layer, district["other_bbox"], 18)
    if layer in ("events", "cameras", "buildings", "sensors"):
        assert theirs
    assert _features(client, layer, district["other_bbox"], 18) == []


def test_a_grid_worker_sees_no_other_community_through_the_map_callback(demo_app_server, district):
    """The wall screen's own request for a layer, replayed with another community's view."""
    client = demo_client(demo_app_server, "gridworker")
    west, south, east, north = map(float, district["other_bbox"].split(","))
    payload = {
        "output": '{"name":"events","type":"wall-layer"}.data',
        "outputs": {"id": {"name": "events", "type": "wall-layer"}, "property": "data"},
        "inputs": [
            {"id": {"name": "events", "type": "wall-request"}, "property": "data",
             "value": {"view": {"west": west, "south": south, "east": east, "north": north,
                                "zoom": 16}}},
        ],
        "changedPropIds": ['{"name":"events","type":"wall-request"}.data'], "state": [],
    }
    status, _h, body, _ = client.request("POST", "/_dash-update-component", json_body=payload,
                                         headers=client.same_origin())
    assert status == 200, body[:300]
    data = json.loads(body)["response"]['{"name":"events","type":"wall-layer"}']["data"]
    features = geobuf.decode(base64.b64decode(data))["features"]
    with psycopg.connect(district["url"]) as conn:
        grids = {conn.execute(GRID_OF["events"], (f["properties"]["id"],)).fetchone()[0]
                 for f in features}
    assert grids <= {district["grid"]}


def test_live_poll_is_empty_until_something_changes(demo_app_server, district):
    client = demo_client(demo_app_server, "duty")
    status, body = _raw_get(client, "/api/live")
    assert status == 200
    token = json.loads(body)["token"]
    status, body = _raw_get(client, f"/api/live?since={token}")
    assert (status, body) == (204, b"")
    with psycopg.connect(district["url"]) as conn:
        conn.execute("UPDATE onemap.sensor SET last_reading_at = now() WHERE id ="
                     " (SELECT min(id) FROM onemap.sensor)")
    status, body = _raw_get(client, f"/api/live?since={token}")
    assert status == 200
    answer = json.loads(body)
    assert answer["changed"] == ["sensor"]
    # one list of topics: the clock's, the answer's and the layers' (the browser reads
    # versions[layer.topic] and never parses the token)
    assert set(answer["versions"]) == set(live.TOPICS)
    layer_topics = {spec["live_topic"] for spec in json.loads(_raw_get(client, "/api/layers")[1])
                    if spec.get("live_topic")}
    assert layer_topics <= set(live.TOPICS)


def _card(client: Client, kind: str, object_id: int) -> str:
    """The wall screen's card request for a map click on one feature, as the browser sends it."""
    from layers.maps import WALL

    click = {"type": "Feature", "properties": {"id": object_id}}
    clicks = [{"id": {"name": name, "type": "wall-layer"}, "property": "clickData",
               "value": click if name == kind else None} for name in WALL.layer_names]
    inputs = [clicks, {"id": "wall-select", "property": "data", "value": None},
              {"id": "wall-card-close", "property": "n_clicks", "value": 0}]
    payload = {
        "output": "..wall-card-body.children...wall-card.hidden...wall-map.viewport..",
        "outputs": [{"id": "wall-card-body", "property": "children"},
                    {"id": "wall-card", "property": "hidden"},
                    {"id": "wall-map", "property": "viewport"}],
        "inputs": inputs,
        "changedPropIds": [json.dumps({"name": kind, "type": "wall-layer"},
                                      separators=(",", ":")) + ".clickData"],
        "state": [{"id": "wall-map", "property": "zoom", "value": 15}],
    }
    status, _h, body, _ = client.request("POST", "/_dash-update-component", json_body=payload,
                                         headers=client.same_origin())
    assert status == 200, body[:500]
    return json.dumps(json.loads(body), ensure_ascii=False)  # the card as readable text


def _audit_rows(url: str, action: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM onemap.audit_log WHERE action = %s",
                            (action,)).fetchone()[0]


def test_cards_stay_inside_the_scope(demo_app_server, district):
    with psycopg.connect(district["url"]) as conn:
        theirs = conn.execute("SELECT id FROM onemap.event WHERE grid_code <> %s LIMIT 1",
                              (district["grid"],)).fetchone()[0]
        camera = conn.execute("SELECT id FROM onemap.camera WHERE grid_code <> %s LIMIT 1",
                              (district["grid"],)).fetchone()[0]
    worker = demo_client(demo_app_server, "gridworker")
    for kind, object_id in (("events", theirs), ("cameras", camera)):
        body = _card(worker, kind, object_id)
        assert "不在您的管辖范围" in body
    assert "不在您的管辖范围" not in _card(demo_client(demo_app_server, "duty"), "events", theirs)


def test_names_near_an_event_only_for_roles_that_look_people_up_and_audited(demo_app_server,
                                                                             district):
    with psycopg.connect(district["url"]) as conn:
        # an event with key-group residents within 100 m
        event_id = conn.execute("""
            SELECT e.id FROM onemap.event e
             WHERE EXISTS (SELECT 1 FROM onemap.building b
                             JOIN onemap.building_stat s ON s.building_id = b.id
                            WHERE s.key_group > 0
                              AND ST_DWithin(b.geom::geography, e.geom::geography, 100))
             ORDER BY e.id LIMIT 1""").fetchone()[0]
        surnames = {name[0] for (name,) in conn.execute("""
            SELECT p.name FROM onemap.person p JOIN onemap.person_tag t ON t.person_id = p.id
             LIMIT 1""")}
    before = _audit_rows(district["url"], "nearby_residents")
    leader = _card(demo_client(demo_app_server, "leader"), "events", event_id)
    assert "重点人群" in leader and "card-names" not in leader
    assert _audit_rows(district["url"], "nearby_residents") == before
    duty = _card(demo_client(demo_app_server, "duty"), "events", event_id)
    assert "card-names" in duty and "*" in duty  # masked: 张*
    assert surnames  # the demo has tagged people
    assert _audit_rows(district["url"], "nearby_residents") == before + 1

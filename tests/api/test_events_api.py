"""Event intake over HTTP: scoped, idempotent, audited, acknowledged only once committed."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from onemap.domain.coordinates import wgs84_to_gcj02
from tests.fixtures.hierarchy import (
    grid_box,
    insert_hierarchy,
    remove_events_and_hierarchy,
)
from tests.support.clients import Client

MARKUP = '<img src=x onerror="alert(1)">'


@pytest.fixture(scope="module")
def grids(engine, demo_users):
    """The hierarchy and one category; events made here are removed afterwards."""
    with engine.begin() as conn:
        codes = insert_hierarchy(conn)
        boxes = {g: grid_box(conn, g) for g in codes["grid"]}
    yield codes, boxes
    with engine.begin() as conn:
        remove_events_and_hierarchy(conn)


def _inside(box) -> tuple[float, float]:
    x0, y0, x1, y1 = box
    return (x0 + x1) / 2, (y0 + y1) / 2


def _post(client: Client, body: dict):
    status, _h, payload, _ = client.request("POST", "/api/events", json_body=body,
                                            headers=client.same_origin())
    return status, json.loads(payload)


def _signed_in(base: str, username: str) -> Client:
    client = Client(base)
    assert client.sign_in(username)[0] == 302
    return client


def _count(engine, sql: str, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_a_grid_worker_reports_in_their_grid_once_however_often_it_arrives(app_server, grids,
                                                                           engine):
    codes, boxes = grids
    mine = codes["grid"][0]
    lon, lat = _inside(boxes[mine])
    client = _signed_in(app_server, "gridworker")
    audits = _count(engine, "SELECT count(*) FROM audit_log WHERE action = 'event_report'")
    body = {"title": "暴露垃圾", "description": MARKUP, "category_code": "E0102", "lon": lon,
            "lat": lat, "external_ref": "PDA-0001"}
    status, made = _post(client, body)
    assert status == 201, made
    assert made["state"] == "reported" and made["grid_code"] == mine
    assert made["code"].startswith("AJ")
    again_status, again = _post(client, body)
    assert again_status == 200 and again["id"] == made["id"]
    assert _count(engine, "SELECT count(*) FROM event WHERE external_ref = 'PDA-0001'") == 1
    assert _count(engine, "SELECT count(*) FROM event_history WHERE event_id = :e"
                  " AND action = 'report'", e=made["id"]) == 1
    assert _count(engine, "SELECT count(*) FROM audit_log WHERE action = 'event_report'") \
        == audits + 1
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT description, level FROM event WHERE id = :e"),
                              {"e": made["id"]}).one()
    assert stored == (MARKUP, 5)  # kept as the text it is; the category's level by default


def test_reporting_into_another_community_is_refused_and_stores_nothing(app_server, grids,
                                                                        engine):
    codes, boxes = grids
    lon, lat = _inside(boxes[codes["grid"][3]])
    client = _signed_in(app_server, "gridworker")
    before = _count(engine, "SELECT count(*) FROM event")
    status, answer = _post(client, {"title": "x", "category_code": "E0102", "lon": lon,
                                    "lat": lat})
    assert status == 403, answer
    assert _count(engine, "SELECT count(*) FROM event") == before


def test_shifted_coordinates_land_where_they_belong(app_server, grids, engine):
    codes, boxes = grids
    lon, lat = _inside(boxes[codes["grid"][0]])
    glon, glat = (float(v) for v in wgs84_to_gcj02(lon, lat))
    client = _signed_in(app_server, "duty")
    status, made = _post(client, {"title": "井盖缺失", "category_code": "E0102", "lon": glon,
                                  "lat": glat, "crs": "gcj02", "channel": "wechat"})
    assert status == 201, made
    metres = _count(engine, "SELECT ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y),"
                    " 4326)::geography) FROM event WHERE id = :e", x=lon, y=lat, e=made["id"])
    assert metres < 1.0


def test_bad_reports_and_wrong_roles_are_refused(app_server, grids):
    codes, boxes = grids
    lon, lat = _inside(boxes[codes["grid"][0]])
    client = _signed_in(app_server, "duty")
    status, answer = _post(client, {"title": "", "lon": lon})
    assert status == 400 and {"title", "category_code", "lon/lat"} <= set(answer["fields"])
    status, answer = _post(client, {"title": "x", "category_code": "Z9999", "lon": lon,
                                    "lat": lat})
    assert status == 400 and "category_code" in answer["fields"]
    status, _ = _post(client, {"title": "x", "category_code": "E0102", "lon": 100.0, "lat": 30.0})
    assert status == 422
    for username in ("leader", "analyst", "admin"):
        status, _ = _post(_signed_in(app_server, username),
                          {"title": "x", "category_code": "E0102", "lon": lon, "lat": lat})
        assert status == 403, username
    stranger = Client(app_server)
    assert stranger.request("POST", "/api/events", json_body={},
                            headers=stranger.same_origin())[0] == 401


def test_another_senders_reference_reveals_nothing(app_server, grids, engine):
    """The outside test: a grid worker reusing another area's `external_ref` got a 500, which
    told them the reference existed. References are the sender's own now: the duty officer's
    hotline ticket elsewhere in the district does not stop, or show through, the grid worker's
    report with the same number."""
    codes, boxes = grids
    elsewhere, mine = _inside(boxes[codes["grid"][3]]), _inside(boxes[codes["grid"][0]])
    status, theirs = _post(_signed_in(app_server, "duty"), {
        "title": "热线工单", "category_code": "E0102", "lon": elsewhere[0], "lat": elsewhere[1],
        "channel": "hotline_12345", "external_ref": "12345-0042"})
    assert status == 201
    worker = _signed_in(app_server, "gridworker")
    report = {"title": "暴露垃圾", "category_code": "E0102", "lon": mine[0], "lat": mine[1],
              "channel": "hotline_12345", "external_ref": "12345-0042"}
    status, answer = _post(worker, report)
    assert status == 201 and answer["id"] != theirs["id"]
    assert answer["grid_code"] == codes["grid"][0]
    again_status, again = _post(worker, report)  # and the worker's own retry is still one event
    assert (again_status, again["id"]) == (200, answer["id"])
    assert _count(engine, "SELECT count(*) FROM event WHERE external_ref = '12345-0042'") == 2
    reporters = _count(engine, "SELECT count(DISTINCT reported_by_user_id) FROM event"
                               " WHERE external_ref = '12345-0042'")
    assert reporters == 2

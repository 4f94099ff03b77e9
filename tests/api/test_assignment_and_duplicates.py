"""Where a case goes on arrival and reports of one thing, over HTTP on the demo district: the
grid of a point on a boundary or just outside one, the handling department by the routing
rule, the possible-duplicate flag, merging (counted once, linked both ways, audited) and
dismissing, and the staff suggested for dispatch — each inside the caller's scope."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from tests.support.clients import Client, demo_client


def _post(client: Client, path: str, body: dict) -> tuple[int, dict]:
    status, _h, payload, _ = client.request("POST", path, json_body=body,
                                            headers=client.same_origin())
    return status, json.loads(payload)


def _get(client: Client, path: str) -> tuple[int, dict]:
    status, _h, payload, _ = client.request("GET", path)
    return status, json.loads(payload)


def _row(url: str, sql: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchone()


@pytest.fixture
def spot(demo_district):
    """A point of the grid worker's grid that no open case of E0103 is near."""
    url = demo_district[0]
    grid = _row(url, "SELECT scope_code FROM onemap.app_user WHERE username = 'gridworker'")[0]
    lon, lat = _row(url, """
        SELECT ST_X(p), ST_Y(p) FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, 40, 11))).geom
          AS p FROM onemap.grid WHERE code = %s) points
         WHERE NOT EXISTS (SELECT 1 FROM onemap.event e WHERE e.category_code = 'E0103'
                            AND ST_DWithin(e.geom::geography, p::geography, 120))
         LIMIT 1""", grid)
    return {"url": url, "grid": grid, "lon": lon, "lat": lat}


def _report(client: Client, lon: float, lat: float, category: str = "E0103", **extra) -> dict:
    status, made = _post(client, "/api/events", {
        "title": "积存渣土", "category_code": category, "lon": lon, "lat": lat,
        "external_ref": f"DUP-{uuid.uuid4().hex[:12]}", **extra})
    assert status == 201, made
    return made


def test_a_point_just_outside_every_grid_goes_to_the_nearest_within_50_m(demo_app_server,
                                                                         demo_district):
    url = demo_district[0]
    # points 30 m and 80 m beyond the district's outer edge, due outward from a grid's edge
    near, far = (_row(url, """
        WITH d AS (SELECT ST_Union(geom) AS g FROM onemap.grid),
             edge AS (SELECT ST_PointN(ST_ExteriorRing(ST_GeometryN(g, 1)), 1) AS p,
                             ST_Centroid(g) AS c FROM d)
        SELECT ST_X(q), ST_Y(q), (SELECT code FROM onemap.grid
                                   ORDER BY geom <-> q LIMIT 1)
          FROM (SELECT ST_Project(p::geography, %s, ST_Azimuth(c, p))::geometry AS q
                  FROM edge) moved""", metres) for metres in (30, 80))
    assert _row(url, "SELECT count(*) FROM onemap.grid WHERE ST_Covers(geom,"
                " ST_SetSRID(ST_MakePoint(%s, %s), 4326))", near[0], near[1])[0] == 0
    duty = demo_client(demo_app_server, "duty")
    made = _report(duty, near[0], near[1])
    assert made["grid_code"] == near[2]
    status, refused = _post(duty, "/api/events", {
        "title": "积存渣土", "category_code": "E0103", "lon": far[0], "lat": far[1]})
    assert status == 422, refused


@pytest.mark.parametrize("category, level, department, tier", [
    ("C0101", None, "SW", "grid"),      # a component: its owner, the water bureau
    ("E0103", None, "JD", "grid"),      # a matter: the territory, the street office
    ("E0103", 1, "HW", "district"),     # a district-tier matter: its owning department
])
def test_the_handling_department_follows_the_routing_rule(demo_app_server, spot, category,
                                                          level, department, tier):
    extra = {"level": level} if level else {}
    made = _report(demo_client(demo_app_server, "duty"), spot["lon"], spot["lat"], category,
                   **extra)
    assert (made["department_code"], made["tier"]) == (department, tier)
    assert _row(spot["url"], "SELECT department_code, tier FROM onemap.event WHERE id = %s",
                made["id"]) == (department, tier)


def test_a_second_report_nearby_is_flagged_and_merged_counting_once(demo_app_server, spot):
    duty = demo_client(demo_app_server, "duty")
    first = _report(duty, spot["lon"], spot["lat"])
    assert first["duplicate_of_id"] is None
    second = _report(duty, spot["lon"] + 0.0002, spot["lat"])  # about 20 m east
    assert second["duplicate_of_id"] == first["id"]
    other_kind = _report(duty, spot["lon"], spot["lat"], "E0102")
    assert other_kind["duplicate_of_id"] is None  # another category is another matter

    status, merged = _post(duty, f"/api/events/{second['id']}/transitions",
                           {"action": "merge", "into": first["id"], "note": "同一处渣土"})
    assert status == 200, merged
    assert (merged["state"], merged["merged_into_id"]) == ("merged", first["id"])
    url = spot["url"]
    assert _row(url, "SELECT state, merged_into_id, duplicate_of_id FROM onemap.event"
                " WHERE id = %s", second["id"]) == ("merged", first["id"], None)
    assert _row(url, "SELECT onemap.event_is_open(state) FROM onemap.event WHERE id = %s",
                second["id"]) == (False,)
    joined = _row(url, "SELECT action, data FROM onemap.event_history WHERE event_id = %s"
                  " ORDER BY id DESC LIMIT 1", first["id"])
    assert joined == ("merged_in", {"event_id": second["id"], "code": second["code"]})
    assert _row(url, "SELECT count(*) FROM onemap.audit_log WHERE action = 'event_merge'"
                " AND object_id = %s", str(second["id"]))[0] == 1
    # counted once: of the two reports only the case is open
    assert _row(url, "SELECT count(*) FROM onemap.event WHERE id IN (%s, %s)"
                " AND onemap.event_is_open(state)", first["id"], second["id"])[0] == 1
    # a third report nearby is flagged against the open case, never the merged report
    third = _report(duty, spot["lon"] + 0.0001, spot["lat"])
    assert third["duplicate_of_id"] == first["id"]


def test_merging_into_a_finished_case_itself_or_nothing_is_refused(demo_app_server, spot):
    duty = demo_client(demo_app_server, "duty")
    case = _report(duty, spot["lon"], spot["lat"])
    report = _report(duty, spot["lon"], spot["lat"])
    rejected = _report(duty, spot["lon"], spot["lat"] + 0.003)
    assert _post(duty, f"/api/events/{rejected['id']}/transitions",
                 {"action": "reject"})[0] == 200
    for body in ({"action": "merge"}, {"action": "merge", "into": report["id"]},
                 {"action": "merge", "into": rejected["id"]},
                 {"action": "merge", "into": 10 ** 12}, {"action": "merge", "into": "1"}):
        status, answer = _post(duty, f"/api/events/{report['id']}/transitions", body)
        assert status in (400, 409), (body, answer)
    assert _row(spot["url"], "SELECT state FROM onemap.event WHERE id = %s",
                report["id"]) == ("reported",)
    del case


def test_a_flag_is_dismissed_once_with_a_history_row(demo_app_server, spot):
    duty = demo_client(demo_app_server, "duty")
    first = _report(duty, spot["lon"], spot["lat"])
    second = _report(duty, spot["lon"], spot["lat"])
    assert second["duplicate_of_id"] == first["id"]
    status, cleared = _post(duty, f"/api/events/{second['id']}/duplicate/dismiss",
                            {"note": "两处不同堆放点"})
    assert status == 200 and cleared["was_duplicate_of_id"] == first["id"]
    assert _row(spot["url"], "SELECT duplicate_of_id FROM onemap.event WHERE id = %s",
                second["id"]) == (None,)
    assert _row(spot["url"], "SELECT action, note FROM onemap.event_history WHERE event_id = %s"
                " ORDER BY id DESC LIMIT 1", second["id"]) == ("dismiss_duplicate",
                                                               "两处不同堆放点")
    assert _post(duty, f"/api/events/{second['id']}/duplicate/dismiss", {})[0] == 409


def test_a_grid_worker_cannot_merge_into_or_see_a_case_outside_their_grid(demo_app_server,
                                                                          spot):
    url = spot["url"]
    lon, lat = _row(url, "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))"
                    " FROM onemap.grid WHERE code <> %s ORDER BY code DESC LIMIT 1",
                    spot["grid"])
    foreign = _report(demo_client(demo_app_server, "duty"), lon, lat)
    worker = demo_client(demo_app_server, "gridworker")
    mine = _report(worker, spot["lon"], spot["lat"])
    status, answer = _post(worker, f"/api/events/{mine['id']}/transitions",
                           {"action": "merge", "into": foreign["id"]})
    assert status == 400 and "into" in answer["fields"]
    assert _get(worker, f"/api/events/{foreign['id']}/suggestions")[0] == 404
    assert _post(worker, f"/api/events/{foreign['id']}/duplicate/dismiss", {})[0] == 404


def test_suggestions_put_the_grids_on_duty_worker_first(demo_app_server, spot):
    url = spot["url"]
    with psycopg.connect(url) as conn:  # one of the grid's workers on duty and idle
        worker = conn.execute("SELECT id FROM onemap.staff WHERE grid_code = %s AND tier ="
                              " 'grid_worker' ORDER BY id LIMIT 1", (spot["grid"],)).fetchone()[0]
        conn.execute("UPDATE onemap.staff SET on_duty = true, status = 'available'"
                     " WHERE id = %s", (worker,))
    made = _report(demo_client(demo_app_server, "duty"), spot["lon"], spot["lat"])
    status, answer = _get(demo_client(demo_app_server, "duty"),
                          f"/api/events/{made['id']}/suggestions")
    assert status == 200
    staff = answer["staff"]
    assert staff and staff[0]["suggested"] and staff[0]["same_grid"]
    assert [s["suggested"] for s in staff].count(True) == 1
    assert all(isinstance(s["open_cases"], int) for s in staff)
    nearest = [s["distance_m"] for s in staff if not s["same_grid"]]
    assert nearest and nearest == sorted(nearest)  # then the nearest available, nearest first
    assert all(s["status"] == "available" for s in staff if not s["same_grid"])
    # never a worker of another community's grid, who could not open the case
    assert all(s["grid_code"] is None or s["grid_code"][:12] == spot["grid"][:12]
               for s in staff)

"""GET /api/lookup/units/<code> on the demo district: the counts the navigator shows, the same
404 for a unit that does not exist and one outside the caller's scope, 400 for a bad code."""

from __future__ import annotations

import psycopg
import pytest

from tests.support.clients import Client, demo_client

DISTRICT = "210103"


@pytest.fixture(scope="module")
def district(demo_district):
    url, _env = demo_district
    with psycopg.connect(url) as conn:
        worker_grid = conn.execute("SELECT scope_code FROM onemap.app_user"
                                   " WHERE username = 'gridworker'").fetchone()[0]
        other_grid = conn.execute("SELECT min(code) FROM onemap.grid WHERE code <> %s",
                                  (worker_grid,)).fetchone()[0]
        built_grid = conn.execute("SELECT grid_code FROM onemap.building GROUP BY grid_code"
                                  " ORDER BY count(*) DESC, grid_code LIMIT 1").fetchone()[0]
        buildings = {g: [r[0] for r in conn.execute(
            "SELECT id FROM onemap.building WHERE grid_code = %s ORDER BY code", (g,))]
            for g in (worker_grid, built_grid)}
        streets = [r[0] for r in conn.execute("SELECT code FROM onemap.street ORDER BY code")]
        people = conn.execute("SELECT count(*) FROM onemap.person").fetchone()[0]
        open_cases = conn.execute("SELECT count(*) FROM onemap.event WHERE grid_code IS NOT NULL"
                                  " AND onemap.event_is_open(state)").fetchone()[0]
    return {"grid": worker_grid, "other_grid": other_grid, "built_grid": built_grid,
            "buildings": buildings,
            "streets": streets, "people": people, "open_cases": open_cases}


def _get(client: Client, code: str):
    reply = client.get(f"/api/lookup/units/{code}")
    return reply.status, reply.json()


def test_the_district_with_its_streets(demo_app_server, district):
    status, body = _get(demo_client(demo_app_server, "duty"), DISTRICT)
    assert status == 200, body
    unit = body["unit"]
    assert (unit["code"], unit["level"]) == (DISTRICT, "district")
    assert unit["people"] == district["people"] and unit["open_cases"] == district["open_cases"]
    assert unit["rooms"] == sum(unit[k] for k in ("self_occupied", "rented", "vacant",
                                                   "commercial"))
    (south, west), (north, east) = unit["bounds"]
    assert south < north and west < east
    assert [c["code"] for c in body["children"]] == district["streets"]
    assert sum(c["residents"] for c in body["children"]) == unit["residents"]
    assert sum(c["open_cases"] for c in body["children"]) == unit["open_cases"]
    # counts only: nobody's name, ID or phone, and no sensitive tag among the key groups
    text = str(body)
    assert "community_correction" not in text and "severe_mental_disorder" not in text


def test_a_grid_lists_its_buildings(demo_app_server, district):
    grid = district["built_grid"]
    status, body = _get(demo_client(demo_app_server, "duty"), grid)
    assert status == 200, body
    assert body["unit"]["level"] == "grid"
    assert [b["id"] for b in body["children"]] == district["buildings"][grid] != []
    assert sum(b["residents"] for b in body["children"]) == body["unit"]["residents"] > 0
    assert sum(b["rooms"] for b in body["children"]) == body["unit"]["rooms"] > 0
    assert {b["level"] for b in body["children"]} == {"building"}


def test_a_grid_worker_reads_their_own_grid(demo_app_server, district):
    status, body = _get(demo_client(demo_app_server, "gridworker"), district["grid"])
    assert status == 200, body
    assert body["unit"]["code"] == district["grid"]
    assert [b["id"] for b in body["children"]] == district["buildings"][district["grid"]]


@pytest.mark.parametrize("whose", ["district", "community", "other_grid", "unknown"])
def test_a_grid_worker_gets_the_same_404_outside_their_grid(demo_app_server, district, whose):
    code = {"district": DISTRICT, "community": district["grid"][:12],
            "other_grid": district["other_grid"], "unknown": "999999999999999"}[whose]
    status, body = _get(demo_client(demo_app_server, "gridworker"), code)
    assert status == 404
    assert body == {"error": "范围内无此区划 / no such unit in your scope"}


@pytest.mark.parametrize("code", ["abc", "2101030", "21010３", "210103%25", "210103_01",
                                  "2" * 16, "210103%20"])
def test_a_malformed_code_is_a_400_naming_the_field(demo_app_server, code):
    status, body = _get(demo_client(demo_app_server, "duty"), code)
    assert status == 400
    assert set(body["fields"]) == {"code"}


def test_it_needs_a_sign_in(demo_app_server):
    assert Client(demo_app_server).get(f"/api/lookup/units/{DISTRICT}").status == 401

"""Grid workers' phones report position and duty (issue 11, point 7, the staff half): a worker
moves their own row only, positions arrive in the phone's datum, open screens hear of it."""

from __future__ import annotations

import json

import psycopg
import pytest
from sqlalchemy import text

from geodata.db import make_engine
from geodata.scope import app_engine_for, scoped
from onemap.domain.coordinates import wgs84_to_gcj02
from tests.fixtures.sessions import session_scope
from tests.support.clients import demo_client


@pytest.fixture
def worker_staff(demo_district):
    """The demo grid worker linked to a staff row of their grid (and unlinked afterwards)."""
    url = demo_district[0]
    with psycopg.connect(url, autocommit=True) as conn:
        staff_id, grid = conn.execute(
            "UPDATE onemap.staff SET user_id = (SELECT id FROM onemap.app_user"
            " WHERE username = 'gridworker') WHERE id = (SELECT s.id FROM onemap.staff s"
            " JOIN onemap.app_user u ON u.username = 'gridworker' AND s.grid_code = u.scope_code"
            " ORDER BY s.id LIMIT 1) RETURNING id, grid_code").fetchone()
    yield {"id": staff_id, "grid": grid, "url": url}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE onemap.staff SET user_id = NULL WHERE id = %s", (staff_id,))


def _put(client, path: str, body: dict) -> tuple[int, dict]:
    status, _h, payload, _c = client.request("PUT", path, json_body=body,
                                             headers=client.same_origin())
    return status, json.loads(payload)


def test_a_worker_reports_where_they_are_in_the_phones_datum(demo_app_server, worker_staff):
    worker = demo_client(demo_app_server, "gridworker")
    lon, lat = 123.4567, 41.7891
    with psycopg.connect(worker_staff["url"]) as conn:
        clock = conn.execute("SELECT sum(version) FROM onemap.live_clock WHERE topic = 'staff'"
                             ).fetchone()[0]
    shifted = [float(v) for v in wgs84_to_gcj02(lon, lat)]  # what AMap on the phone says
    status, moved = _put(worker, "/api/staff/me/position",
                         {"lon": shifted[0], "lat": shifted[1], "crs": "gcj02"})
    assert status == 200 and moved["id"] == worker_staff["id"], moved
    with psycopg.connect(worker_staff["url"]) as conn:
        x, y, seen = conn.execute("SELECT ST_X(last_position), ST_Y(last_position),"
                                  " last_seen_at IS NOT NULL FROM onemap.staff WHERE id = %s",
                                  (worker_staff["id"],)).fetchone()
        after = conn.execute("SELECT sum(version) FROM onemap.live_clock WHERE topic = 'staff'"
                             ).fetchone()[0]
    assert (round(x, 5), round(y, 5), seen) == (lon, lat, True)
    assert after > clock  # open wall screens reload the staff layer


def test_going_off_and_on_duty(demo_app_server, worker_staff):
    worker = demo_client(demo_app_server, "gridworker")
    assert _put(worker, "/api/staff/me/duty", {"on_duty": False}) == (
        200, {"id": worker_staff["id"], "on_duty": False, "status": "off_duty"})
    status, back = _put(worker, "/api/staff/me/duty", {"on_duty": True})
    assert status == 200 and back["on_duty"] and back["status"] in ("available", "busy")
    assert _put(worker, "/api/staff/me/duty", {"on_duty": "yes"})[0] == 400
    assert _put(worker, "/api/staff/me/position", {"lon": 500, "lat": 41.8})[0] == 400


def test_only_staff_report_and_nobody_moves_anyone_else(demo_app_server, demo_district,
                                                        worker_staff):
    duty = demo_client(demo_app_server, "duty")  # an officer, not on the staff list
    assert _put(duty, "/api/staff/me/position", {"lon": 123.45, "lat": 41.79})[0] == 404
    assert _put(demo_client(demo_app_server, "leader"), "/api/staff/me/duty",
                {"on_duty": True})[0] == 403
    # as the app's database role, with a session of the whole district: other rows stay put
    owner = make_engine(demo_district[0].replace("postgresql://", "postgresql+psycopg://"))
    app = app_engine_for(demo_district[0].replace("postgresql://", "postgresql+psycopg://"))
    try:
        with psycopg.connect(demo_district[0]) as conn:
            district = conn.execute("SELECT code FROM onemap.district").fetchone()[0]
        with scoped(session_scope(owner, district, role="duty_officer"), app) as conn:
            moved = conn.execute(text(
                "UPDATE onemap.staff SET last_position = ST_SetSRID(ST_MakePoint(0, 0), 4326)"
                " WHERE id = :id"), {"id": worker_staff["id"]}).rowcount
        assert moved == 0
    finally:
        owner.dispose()
        app.dispose()

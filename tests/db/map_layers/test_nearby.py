"""What is near an event: cameras that cover it, staff on duty, key groups living close."""

from __future__ import annotations

import pytest
from geodata.queries.nearby import cameras_near, key_groups_near, staff_near
from sqlalchemy import text

from tests.db.map_layers.app_role import as_app
from tests.db.map_layers.world import add_camera, add_event, add_person, add_staff, point, projected
from tests.fixtures.hierarchy import DISTRICT, grid_box, insert_building, insert_household


@pytest.fixture
def scene(conn, world):
    """An event in grid a and cameras placed around it by distance and bearing."""
    a = world["a"]
    spot = point(conn, a, 0.01, 0.01)
    event = add_event(conn, "E-scene", a, spot)

    def cam(code: str, metres: float, bearing: float, **kw) -> int:
        return add_camera(conn, code, a, projected(conn, spot, metres, bearing), **kw)

    cams = {
        # 50 m north, facing south at the event
        "facing": cam("N-facing", 50, 0, heading=180, fov=60, range_m=100),
        # 60 m north, facing north: the event is behind it
        "away": cam("N-away", 60, 0, heading=0, fov=60, range_m=100),
        # 80 m east, no heading: it pans, so range alone decides
        "pans": cam("E-pans", 80, 90, heading=None, fov=60, range_m=100),
        # 40 m south, facing 355°: the event is 5° off its heading, across north
        "wraps": cam("S-wraps", 40, 180, heading=355, fov=30, range_m=100),
        # 150 m south, facing north at the event, but it only sees 100 m
        "short": cam("S-short", 150, 180, heading=0, fov=60, range_m=100),
        # 250 m west facing east with a long lens: covers from far
        "long": cam("W-long", 250, 270, heading=90, fov=20, range_m=300),
        # 30 m west facing north-east: the event (east) is 45° off, outside a 60° view
        "askew": cam("W-askew", 30, 270, heading=45, fov=60, range_m=100),
        # 400 m away: not near at all
        "far": cam("N-far", 400, 0, heading=180, fov=60, range_m=500),
    }
    return {"event": event, "spot": spot, "cams": cams, **world}


def test_cameras_near_an_event_cover_it_by_range_and_field_of_view(conn, scene):
    cams = scene["cams"]
    with as_app(conn, DISTRICT):
        rows = cameras_near(conn, scene["event"])
    by_id = {r["id"]: r for r in rows}
    name = {v: k for k, v in cams.items()}
    assert cams["far"] not in by_id
    covers = {name[i]: r["covers"] for i, r in by_id.items() if i in name}
    assert covers == {"facing": True, "away": False, "pans": True, "wraps": True,
                      "short": False, "long": True, "askew": False}
    assert by_id[cams["facing"]]["metres"] == pytest.approx(50, abs=1)
    assert by_id[cams["short"]]["metres"] == pytest.approx(150, abs=1)


def test_cameras_near_list_covering_ones_first_then_by_distance(conn, scene):
    cams = scene["cams"]
    with as_app(conn, DISTRICT):
        rows = cameras_near(conn, scene["event"])
    name = {v: k for k, v in cams.items()}
    order = [name.get(r["id"], r["id"]) for r in rows]
    # the world's camera in grid a is ~1 km away: not listed
    assert order == ["wraps", "facing", "pans", "long", "askew", "away", "short"]
    keys = [(not r["covers"], r["metres"]) for r in rows]
    assert keys == sorted(keys)


def test_turning_a_camera_away_loses_the_event(conn, scene):
    facing = scene["cams"]["facing"]
    conn.execute(text("UPDATE camera SET heading = 0 WHERE id = :c"), {"c": facing})
    with as_app(conn, DISTRICT):
        row = next(r for r in cameras_near(conn, scene["event"]) if r["id"] == facing)
    assert row["covers"] is False
    conn.execute(text("UPDATE camera SET heading = NULL WHERE id = :c"), {"c": facing})
    with as_app(conn, DISTRICT):
        row = next(r for r in cameras_near(conn, scene["event"]) if r["id"] == facing)
    assert row["covers"] is True


def test_cameras_near_respect_the_radius_argument(conn, scene):
    cams = scene["cams"]
    with as_app(conn, DISTRICT):
        assert {r["id"] for r in cameras_near(conn, scene["event"], radius_m=500)} >= {
            cams["far"]}
        assert {r["id"] for r in cameras_near(conn, scene["event"], radius_m=45)} == {
            cams["wraps"], cams["askew"]}


def test_cameras_near_stay_inside_the_scope(conn, scene):
    a, b = scene["a"], scene["b"]
    # grid b starts where grid a ends: a camera just across the line, ~850 m from the event
    ax0, _ay0, ax1, _ay1 = grid_box(conn, a)
    ex, ey = scene["spot"]
    across = add_camera(conn, "B-across", b, (ax1 + 0.0001, ey), heading=None, range_m=2000)
    with as_app(conn, DISTRICT):
        assert across in {r["id"] for r in cameras_near(conn, scene["event"], radius_m=1500)}
    with as_app(conn, a):
        assert across not in {r["id"] for r in cameras_near(conn, scene["event"], radius_m=1500)}
    with as_app(conn, b):  # the event itself is out of this scope: nothing around it
        assert cameras_near(conn, scene["event"]) == []


def test_staff_near_an_event_nearest_on_duty_first(conn, scene):
    a = scene["a"]
    spot = scene["spot"]
    near = add_staff(conn, "T-near", a, projected(conn, spot, 100, 45))
    nearer = add_staff(conn, "T-nearer", a, projected(conn, spot, 20, 200))
    add_staff(conn, "T-resting", a, projected(conn, spot, 5, 0), on_duty=False, status="off_duty")
    with as_app(conn, DISTRICT):
        rows = staff_near(conn, scene["event"], limit=2)
        assert [r["id"] for r in rows] == [nearer, near]
        assert rows[0]["metres"] == pytest.approx(20, abs=1)
        assert rows[1]["metres"] == pytest.approx(100, abs=1)
        assert len(staff_near(conn, scene["event"])) == 3  # the default limit


def test_key_groups_near_an_event(conn, scene):
    a = scene["a"]
    ex, ey = scene["spot"]
    close = insert_building(conn, a, "B-close", where=(ex + 0.0002, ey + 0.0002))
    far = insert_building(conn, a, "B-far", where=(ex + 0.003, ey + 0.003))  # ~400 m
    room = insert_household(conn, close, "301")
    room2 = insert_household(conn, close, "302")
    tagged = add_person(conn, 11, room, tag="elderly_alone")
    secret = add_person(conn, 12, room2, sensitive_tag="community_correction")
    add_person(conn, 13, insert_household(conn, close, "303"))  # no tag
    # registered here but living elsewhere: not a resident
    add_person(conn, 14, insert_household(conn, close, "304"), kind="registered", tag="disabled")
    add_person(conn, 15, insert_household(conn, far, "101"), tag="disabled")
    with as_app(conn, DISTRICT):
        rows = key_groups_near(conn, scene["event"])
    assert [(r["person_id"], r["tag"]) for r in rows] == [(tagged, "elderly_alone")]
    assert rows[0]["name_zh"] == "独居老人"
    with as_app(conn, DISTRICT, sensitive=True):
        rows = key_groups_near(conn, scene["event"])
    assert [(r["person_id"], r["tag"]) for r in rows] == [
        (tagged, "elderly_alone"), (secret, "community_correction")]
    with as_app(conn, scene["b"], sensitive=True):
        assert key_groups_near(conn, scene["event"]) == []

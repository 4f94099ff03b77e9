"""What each viewport layer shows, and from which zoom."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.db.map_layers.app_role import as_app
from tests.db.map_layers.geobuf_reading import ids, layer_features
from tests.db.map_layers.world import add_camera, add_event, add_staff, all_rows, point
from tests.fixtures.hierarchy import DISTRICT


def test_events_show_open_cases_only(conn, world):
    a = world["a"]
    x, y = point(conn, a, 0.009, 0.009)
    shown = {add_event(conn, f"E-{state}", a, (x, y), state=state)
             for state in ("reported", "registered", "handling", "handled", "verified")}
    hidden = {add_event(conn, f"E-{state}", a, (x, y), state=state)
              for state in ("closed", "rejected", "suspended")}
    with as_app(conn, DISTRICT):
        got = ids(layer_features(conn, "events", 16))
    assert shown <= got
    assert not hidden & got
    assert got == shown | all_rows(world, "events")
    closed = conn.execute(text("SELECT id FROM event WHERE code LIKE :p"), {"p": "E-%-closed"})
    closed = set(closed.scalars())
    assert len(closed) == len(world["grids"])
    assert not closed & got


def test_sensors_in_alarm_show_at_every_zoom_the_rest_close_up(conn, world):
    alarms = set(world["sensor_alarm"].values())
    everything = alarms | set(world["sensor_ok"].values())
    with as_app(conn, DISTRICT):
        assert ids(layer_features(conn, "sensors", 13)) == alarms
        assert ids(layer_features(conn, "sensors", 15)) == alarms
        assert ids(layer_features(conn, "sensors", 16)) == everything
        statuses = {f["properties"]["status"] for f in layer_features(conn, "sensors", 13)}
    assert statuses == {"alarm"}


def test_buildings_show_close_up_only(conn, world):
    buildings = set(world["building"].values())
    with as_app(conn, DISTRICT):
        for zoom in (12, 13, 15):
            assert layer_features(conn, "buildings", zoom) == [], zoom
        got = layer_features(conn, "buildings", 16)
        assert ids(got) == buildings
        assert ids(layer_features(conn, "buildings", 18)) == buildings
    for f in got:
        assert f["properties"]["use"] == "residential"
        assert f["properties"]["residents"] == 0 and f["properties"]["key_group"] == 0
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_places_show_from_zoom_14(conn, world):
    places = all_rows(world, "places")
    with as_app(conn, DISTRICT):
        assert layer_features(conn, "places", 13) == []
        assert ids(layer_features(conn, "places", 14)) == places


def test_cameras_show_with_their_status(conn, world):
    a = world["a"]
    offline = add_camera(conn, "C-off", a, point(conn, a, 0.011, 0.011), status="offline")
    with as_app(conn, DISTRICT):
        got = {int(f["properties"]["id"]): f["properties"]["status"]
               for f in layer_features(conn, "cameras", 13)}
    assert got[offline] == "offline"
    assert set(got) == all_rows(world, "cameras") | {offline}
    assert list(got.values()).count("online") == len(world["grids"])


def test_staff_show_on_duty_with_a_position_only(conn, world):
    a = world["a"]
    off = add_staff(conn, "T-off", a, point(conn, a, 0.012, 0.012), on_duty=False,
                    status="off_duty")
    nowhere = add_staff(conn, "T-nowhere", a, None)
    with as_app(conn, DISTRICT):
        got = layer_features(conn, "staff", 13)
    assert ids(got) == all_rows(world, "staff")
    assert off not in ids(got) and nowhere not in ids(got)
    assert {f["properties"]["tier"] for f in got} == {"grid_worker"}


def test_dispatch_draws_a_line_from_the_case_to_its_staff(conn, world):
    a = world["a"]
    staff = next(iter(world["rows"][a]["staff"]))
    event = next(iter(world["rows"][a]["events"]))
    # not drawn: an unassigned case, a case whose staff has no position, a finished case
    add_event(conn, "E-unassigned", a, point(conn, a, 0.013, 0.013), state="dispatched")
    lost = add_staff(conn, "T-lost", a, None)
    add_event(conn, "E-lost", a, point(conn, a, 0.014, 0.014), state="handling", staff=lost)
    add_event(conn, "E-done", a, point(conn, a, 0.015, 0.015), state="closed", staff=staff)
    with as_app(conn, DISTRICT):
        lines = layer_features(conn, "dispatch", 13)
    assert ids(lines) == all_rows(world, "dispatch")
    line = next(f for f in lines if int(f["properties"]["id"]) == event)
    assert line["geometry"]["type"] == "LineString"
    start, end = line["geometry"]["coordinates"]
    assert start == pytest.approx(list(point(conn, a)), abs=1e-6)
    assert end == pytest.approx(list(point(conn, a, 0.007, 0.007)), abs=1e-6)


def test_dispatch_line_shows_when_only_the_staff_end_is_in_view(conn, world):
    a = world["a"]
    event = next(iter(world["rows"][a]["events"]))
    sx, sy = point(conn, a, 0.007, 0.007)
    around_staff = (sx - 0.0005, sy - 0.0005, sx + 0.0005, sy + 0.0005)
    with as_app(conn, DISTRICT):
        assert event in ids(layer_features(conn, "dispatch", 18, around_staff))


def test_labels_name_streets_far_out_and_grids_close_up(conn, world):
    codes = world["codes"]
    with as_app(conn, world["a"]):  # labels are names of areas: the same in every scope
        streets = layer_features(conn, "labels", 12)
        communities = layer_features(conn, "labels", 14)
        grids = layer_features(conn, "labels", 17)
    assert {f["properties"]["name"] for f in streets} == {"第1街道", "第2街道"}
    assert {f["properties"]["code"] for f in streets} == set(codes["street"])
    assert {f["properties"]["code"] for f in communities} == set(codes["community"])
    assert {f["properties"]["code"] for f in grids} == set(codes["grid"])
    assert {f["properties"]["name"] for f in grids} == {"网格1", "网格2"}
    assert {f["properties"]["level"] for f in grids} == {"grid"}
    # "网格1" repeats in every community: a grid's label carries its community's name
    community_of = dict(conn.execute(text(
        "SELECT g.code, c.name FROM grid g JOIN community c ON c.code = g.community_code")).all())
    assert {f["properties"]["code"]: f["properties"]["parent"] for f in grids} == community_of
    assert {f["properties"]["parent"] for f in streets + communities} == {""}

"""Viewport layers, the live clock, building counts and "what is near an event", on the real
database: every query runs as the app's role in a scope, inside the test's rolled-back
transaction (SET LOCAL ROLE + a transaction-local scope), so nothing is left behind."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import geobuf
import pytest
from geobuf import geobuf_pb2
from geobuf.decode import Decoder
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from onemap.domain import idcard
from geodata import live
from geodata.building_stats import refresh_building_stats
from geodata.queries.details import card
from geodata.queries.nearby import cameras_near, key_groups_near, staff_near
from geodata.queries.wall import banner, counters, feed
from layers.features import EMPTY, Viewport, features_geobuf, option_params
from layers.registry import VIEWPORT_LAYERS
from tests.fixtures.hierarchy import (
    DISTRICT,
    EAST,
    NORTH,
    SOUTH,
    WEST,
    grid_box,
    insert_building,
    insert_hierarchy,
    insert_household,
)
from tests.fixtures.sessions import open_test_session

APP_ROLE = "onemap_app"
WHOLE_DISTRICT = (WEST, SOUTH, EAST, NORTH)


# -- helpers ----------------------------------------------------------------------------------

@contextmanager
def as_app(conn: Connection, scope: str | None, sensitive: bool = False
           ) -> Iterator[Connection]:
    """The same connection acting as the app's role with a session in `scope` (None: with no
    session at all), until the block ends."""
    token = "" if scope is None else open_test_session(conn, scope, sensitive=sensitive)
    conn.execute(text(f"SET LOCAL ROLE {APP_ROLE}"))
    conn.execute(text("SELECT set_config('onemap.session', :t, true)"), {"t": token})
    assert conn.execute(text("SELECT current_user")).scalar() == APP_ROLE
    yield conn
    conn.execute(text("RESET ROLE"))
    conn.execute(text("SELECT set_config('onemap.session', '', true)"))


def _top_level_fields(payload: bytes) -> set[int]:
    """The field numbers present at the top level of a protobuf message."""

    def varint(i: int) -> tuple[int, int]:
        value, shift = 0, 0
        while True:
            byte = payload[i]
            value |= (byte & 0x7F) << shift
            i, shift = i + 1, shift + 7
            if not byte & 0x80:
                return value, i

    fields, i = set(), 0
    while i < len(payload):
        key, i = varint(i)
        fields.add(key >> 3)
        wire = key & 7
        if wire == 0:
            _, i = varint(i)
        elif wire == 2:
            size, i = varint(i)
            i += size
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
        else:
            raise ValueError(f"wire type {wire}")
    return fields


class SpecDecoder(Decoder):
    """geobuf 2.0.1's decoder, reading a missing `precision` as the format's default (6 decimal
    places) as the JavaScript decoder does; geobuf 2.0.1 (proto3) reads it as 0, and PostGIS
    leaves the field out whenever it encodes at 6 places."""

    def decode(self, payload: bytes):
        data = self.data = geobuf_pb2.Data()
        data.ParseFromString(payload)
        self.e = 10 ** (data.precision if 3 in _top_level_fields(payload) else 6)
        self.dim = data.dimensions or 2
        kind = data.WhichOneof("data_type")
        return getattr(self, f"decode_{kind}")(getattr(data, kind))


def decode(payload: bytes) -> dict:
    return SpecDecoder().decode(payload)


def layer_features(conn: Connection, name: str, zoom: int, bbox=WHOLE_DISTRICT,
                   **options) -> list[dict]:
    payload = features_geobuf(conn, VIEWPORT_LAYERS[name], Viewport(*bbox, zoom).checked(),
                              options)
    assert isinstance(payload, bytes)
    collection = decode(payload)
    assert collection["type"] == "FeatureCollection"
    return collection["features"]


def ids(features: list[dict]) -> set[int]:
    return {int(f["properties"]["id"]) for f in features}


# real coordinates are not round numbers (the geobuf encoder picks its precision from them)
JITTER = 0.0000123


def point(conn: Connection, grid: str, dx: float = 0.005, dy: float = 0.005) -> tuple[float, float]:
    """A point inside a grid, offset from its south-west corner."""
    x0, y0, _x1, _y1 = grid_box(conn, grid)
    return x0 + dx + JITTER, y0 + dy + JITTER


def projected(conn: Connection, origin: tuple[float, float], metres: float,
              azimuth_deg: float) -> tuple[float, float]:
    """The point `metres` from `origin` towards `azimuth_deg` (0 north, 90 east) on the spheroid."""
    return tuple(conn.execute(text(
        "SELECT ST_X(p::geometry), ST_Y(p::geometry) FROM (SELECT ST_Project("
        "ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography, :m, radians(:a)) AS p) q"),
        {"x": origin[0], "y": origin[1], "m": metres, "a": azimuth_deg}).one())


def add_category(conn: Connection) -> None:
    conn.execute(text("INSERT INTO event_category (code, kind, name_zh)"
                      " VALUES ('X01', 'event', '暴露垃圾')"))


def add_event(conn: Connection, code: str, grid: str | None, where: tuple[float, float], *,
              state: str = "reported", staff: int | None = None, age: str = "1 second",
              level: int = 4, due: str | None = None) -> int:
    return conn.execute(text(
        "INSERT INTO event (code, title, category_code, level, channel, state, reported_at,"
        " closed_at, due_at, grid_code, assigned_staff_id, geom)"
        " VALUES (:c, :t, 'X01', :lvl, 'inspector', :s, now() - CAST(:age AS interval),"
        " CASE WHEN :closed THEN now() END, now() + CAST(:due AS interval), :g, :staff,"
        " ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"),
        {"c": code, "t": f"事件 {code}", "lvl": level, "s": state, "closed": state == "closed",
         "age": age, "due": due,
         "g": grid, "staff": staff, "x": where[0], "y": where[1]}).scalar_one()


def add_camera(conn: Connection, code: str, grid: str, where: tuple[float, float], *,
               heading: int | None = 0, fov: int = 60, range_m: int = 100,
               status: str = "online") -> int:
    return conn.execute(text(
        "INSERT INTO camera (code, name, owner, kind, heading, fov_deg, range_m, status,"
        " grid_code, geom) VALUES (:c, :n, 'police', 'hd_bullet', :h, :f, :r, :st, :g,"
        " ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"),
        {"c": code, "n": f"摄像机 {code}", "h": heading, "f": fov, "r": range_m, "st": status,
         "g": grid, "x": where[0], "y": where[1]}).scalar_one()


def add_sensor(conn: Connection, code: str, grid: str, where: tuple[float, float],
               status: str = "normal") -> int:
    return conn.execute(text(
        "INSERT INTO sensor (code, kind, name, status, grid_code, geom)"
        " VALUES (:c, 'gas', :n, :s, :g, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"),
        {"c": code, "n": f"燃气 {code}", "s": status, "g": grid, "x": where[0], "y": where[1]}
    ).scalar_one()


def add_staff(conn: Connection, code: str, grid: str | None,
              where: tuple[float, float] | None, *, on_duty: bool = True,
              status: str = "available") -> int:
    return conn.execute(text(
        "INSERT INTO staff (code, name, tier, grid_code, on_duty, status, last_position)"
        " VALUES (:c, :n, 'grid_worker', :g, :d, :s,"
        " CASE WHEN CAST(:x AS float8) IS NOT NULL"
        " THEN ST_SetSRID(ST_MakePoint(:x, :y), 4326) END) RETURNING id"),
        {"c": code, "n": f"网格员 {code}", "g": grid, "d": on_duty, "s": status,
         "x": where[0] if where else None, "y": where[1] if where else None}).scalar_one()


def add_place(conn: Connection, code: str, grid: str, where: tuple[float, float]) -> int:
    return conn.execute(text(
        "INSERT INTO key_place (code, name, kind, risk_level, grid_code, geom)"
        " VALUES (:c, :n, 'school', 2, :g, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"),
        {"c": code, "n": f"学校 {code}", "g": grid, "x": where[0], "y": where[1]}).scalar_one()


def add_person(conn: Connection, n: int, household: int | None, kind: str = "residence",
               tag: str | None = None, sensitive_tag: str | None = None) -> int:
    born = date(1950 + n, 1, 1)
    pid = conn.execute(text(
        "INSERT INTO person (id_number, name, gender, birth_date, population_type)"
        " VALUES (:i, :n, 'M', :b, 'registered') RETURNING id"),
        {"i": idcard.make(DISTRICT, born, "M", n), "n": f"居民{n:02d}", "b": born}).scalar_one()
    if household:
        conn.execute(text("INSERT INTO person_household (person_id, household_id, kind, relation)"
                          " VALUES (:p, :h, :k, 'householder')"),
                     {"p": pid, "h": household, "k": kind})
    if tag:
        conn.execute(text("INSERT INTO person_tag (person_id, tag) VALUES (:p, :t)"),
                     {"p": pid, "t": tag})
    if sensitive_tag:
        conn.execute(text("INSERT INTO person_sensitive_tag (person_id, tag) VALUES (:p, :t)"),
                     {"p": pid, "t": sensitive_tag})
    return pid


def refused(conn: Connection, sql: str, params: dict | None = None,
            match: str = "permission denied") -> None:
    """The statement fails (in a savepoint, so the test's transaction carries on)."""
    with pytest.raises(DBAPIError, match=match):
        with conn.begin_nested():
            conn.execute(text(sql), params or {})


# -- a small world ----------------------------------------------------------------------------

@pytest.fixture
def world(conn: Connection) -> dict:
    """The same rows in four grids: a and b share a community, c is in the same street's other
    community, d in the other street. Per grid: a building, a camera, a sensor in alarm and a
    quiet one, a key place, a member of staff on duty, an open case assigned to them and a
    closed case."""
    codes = insert_hierarchy(conn)
    a, b, c, d = codes["grid"][0], codes["grid"][1], codes["grid"][2], codes["grid"][4]
    add_category(conn)
    w: dict = {"codes": codes, "a": a, "b": b, "c": c, "d": d, "grids": (a, b, c, d),
               "rows": {}, "sensor_alarm": {}, "sensor_ok": {}, "building": {}}

    def keep(grid: str, layer: str, row_id: int) -> int:
        w["rows"].setdefault(grid, {}).setdefault(layer, set()).add(row_id)
        return row_id

    for g in w["grids"]:
        tag = g[6:]
        w["building"][g] = keep(g, "buildings", insert_building(conn, g, f"B-{tag}"))
        keep(g, "cameras", add_camera(conn, f"C-{tag}", g, point(conn, g, 0.002, 0.002)))
        w["sensor_alarm"][g] = keep(g, "sensors", add_sensor(
            conn, f"S-{tag}-alarm", g, point(conn, g, 0.003, 0.003), "alarm"))
        w["sensor_ok"][g] = keep(g, "sensors", add_sensor(
            conn, f"S-{tag}-ok", g, point(conn, g, 0.004, 0.004)))
        keep(g, "places", add_place(conn, f"P-{tag}", g, point(conn, g, 0.006, 0.006)))
        staff = keep(g, "staff", add_staff(conn, f"T-{tag}", g, point(conn, g, 0.007, 0.007)))
        event = keep(g, "events", add_event(conn, f"E-{tag}-open", g, point(conn, g),
                                            state="dispatched", staff=staff))
        keep(g, "dispatch", event)
        add_event(conn, f"E-{tag}-closed", g, point(conn, g, 0.008, 0.008), state="closed")
    return w


def all_rows(world: dict, layer: str) -> set[int]:
    return set().union(*(world["rows"][g][layer] for g in world["grids"]))


# -- every layer answers ----------------------------------------------------------------------

@pytest.mark.parametrize("zoom", [13, 16, 18])
@pytest.mark.parametrize("name", list(VIEWPORT_LAYERS))
def test_every_layer_answers_on_an_empty_database(conn, name, zoom):
    insert_hierarchy(conn)  # areas only: nothing else to show but their names
    with as_app(conn, DISTRICT):
        payload = features_geobuf(conn, VIEWPORT_LAYERS[name],
                                  Viewport(*WHOLE_DISTRICT, zoom).checked())
        decoded = decode(payload)
    assert decoded["type"] == "FeatureCollection"
    if name == "labels":
        expected = {13: "street", 16: "grid", 18: "grid"}[zoom]
        assert {f["properties"]["level"] for f in decoded["features"]} == {expected}
    else:
        assert payload == EMPTY
        assert decoded == geobuf.decode(payload) == {"type": "FeatureCollection", "features": []}


@pytest.mark.parametrize("zoom", [13, 16, 18])
@pytest.mark.parametrize("name", list(VIEWPORT_LAYERS))
def test_every_layer_answers_with_its_fields(conn, world, name, zoom):
    layer = VIEWPORT_LAYERS[name]
    with as_app(conn, DISTRICT):
        features = layer_features(conn, name, zoom)
    if zoom >= layer.min_zoom:
        assert features, f"{name} at zoom {zoom} returned nothing"
    else:
        assert features == [], f"{name} at zoom {zoom} is below its minimum zoom"
    for f in features:
        assert f["type"] == "Feature"
        assert set(f["properties"]) == set(layer.fields), f["properties"]
        assert f["geometry"]["type"] in ("Point", "LineString", "Polygon", "MultiPolygon")


def test_a_viewport_elsewhere_gets_the_empty_collection(conn, world):
    far = (2.30, 48.80, 2.40, 48.90)  # Paris
    with as_app(conn, DISTRICT):
        for name, layer in VIEWPORT_LAYERS.items():
            payload = features_geobuf(conn, layer, Viewport(*far, 18))
            assert payload == EMPTY, name


# -- what each layer shows --------------------------------------------------------------------

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


def test_event_properties_and_position(conn, world):
    a = world["a"]
    late = add_event(conn, "E-late", a, point(conn, a, 0.01, 0.01), level=2, due="-1 hour")
    with as_app(conn, DISTRICT):
        by_id = {int(f["properties"]["id"]): f for f in layer_features(conn, "events", 16)}
    assert by_id[late]["properties"]["level"] == 2
    assert by_id[late]["properties"]["title"] == "事件 E-late"
    assert by_id[late]["properties"]["state"] == "reported"
    x, y = point(conn, a, 0.01, 0.01)
    assert by_id[late]["geometry"]["type"] == "Point"
    assert by_id[late]["geometry"]["coordinates"] == pytest.approx([x, y], abs=2e-6)


def test_overdue_arrives_as_0_or_1(conn, world):
    """ST_AsGeobuf (PostGIS 3.3) would write a boolean as the strings 't' and 'f' (and 'f' is
    true in JavaScript): the layers send 0 and 1."""
    a = world["a"]
    late = add_event(conn, "E-late", a, point(conn, a, 0.01, 0.01), due="-1 hour",
                     state="handling", staff=next(iter(world["rows"][a]["staff"])))
    early = add_event(conn, "E-early", a, point(conn, a, 0.01, 0.011), due="2 hours")
    with as_app(conn, DISTRICT):
        events = {int(f["properties"]["id"]): f["properties"]["overdue"]
                  for f in layer_features(conn, "events", 16)}
        lines = {int(f["properties"]["id"]): f["properties"]["overdue"]
                 for f in layer_features(conn, "dispatch", 16)}
    assert events[early] == 0 and isinstance(events[early], int)
    assert events[late] == 1
    assert lines[late] == 1
    assert not any(lines[e] for e in all_rows(world, "dispatch"))


@pytest.mark.parametrize("name", ["events", "cameras", "sensors", "staff", "places"])
def test_a_lone_feature_arrives_where_it_is(conn, world, name):
    """ST_AsGeobuf (PostGIS 3.3) alone would give a single point 2 decimals (~1 km off)."""
    a = world["a"]
    where = point(conn, a, 0.0123456, 0.0123456)
    add = {"events": lambda: add_event(conn, "E-lone", a, where),
           "cameras": lambda: add_camera(conn, "C-lone", a, where),
           "sensors": lambda: add_sensor(conn, "S-lone", a, where, "alarm"),
           "staff": lambda: add_staff(conn, "T-lone", a, where),
           "places": lambda: add_place(conn, "P-lone", a, where)}[name]
    lone = add()
    around = (where[0] - 0.0005, where[1] - 0.0005, where[0] + 0.0005, where[1] + 0.0005)
    with as_app(conn, DISTRICT):
        features = layer_features(conn, name, 18, around)
    assert ids(features) == {lone}
    assert features[0]["geometry"]["coordinates"] == pytest.approx(list(where), abs=1e-5)


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


@pytest.mark.parametrize("window, expected_ages", [
    ("1h", ("10 minutes", "50 minutes")),
    ("24h", ("10 minutes", "50 minutes", "3 hours", "23 hours")),
    ("7d", ("10 minutes", "50 minutes", "3 hours", "23 hours", "3 days")),
])
def test_heatmap_counts_the_events_reported_in_the_window(conn, world, window, expected_ages):
    a, d = world["a"], world["d"]
    ages = ("10 minutes", "50 minutes", "3 hours", "23 hours", "3 days", "30 days")
    for n, age in enumerate(ages):
        for g in (a, d):
            add_event(conn, f"H-{g[6:]}-{n}", g, point(conn, g, 0.002 * n, 0.001), age=age,
                      state="closed" if n % 2 else "reported")
    # the world's events (an open and a closed case per grid) are new: in every window
    expected = 2 * len(expected_ages) + 2 * len(world["grids"])
    for zoom in (13, 16, 18):
        with as_app(conn, DISTRICT):
            cells = layer_features(conn, "heatmap", zoom, window=window)
        counts = [f["properties"]["n"] for f in cells]
        assert all(n > 0 for n in counts)
        assert sum(counts) == expected, (zoom, counts)
        assert all(f["geometry"]["type"] == "Point" for f in cells)


def test_heatmap_bins_fewer_cells_when_zoomed_out(conn, world):
    a = world["a"]
    for n in range(10):
        add_event(conn, f"H-{n}", a, point(conn, a, 0.0015 * n, 0.0015 * n))
    with as_app(conn, DISTRICT):
        near = layer_features(conn, "heatmap", 18)
        far = layer_features(conn, "heatmap", 12)
    assert len(far) < len(near)
    total = 10 + 2 * len(world["grids"])
    assert sum(f["properties"]["n"] for f in far) == total
    assert sum(f["properties"]["n"] for f in near) == total


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


# -- scope ------------------------------------------------------------------------------------

SCOPED_LAYERS = ("events", "cameras", "buildings", "sensors", "staff", "places", "dispatch")


@pytest.mark.parametrize("level", ["grid", "community", "street", "district"])
def test_a_scope_never_receives_another_areas_features(conn, world, level):
    a, b, c, d = world["grids"]
    scope = a[: {"grid": 15, "community": 12, "street": 9, "district": 6}[level]]
    inside = [g for g in world["grids"] if g.startswith(scope)]
    assert inside == {"grid": [a], "community": [a, b], "street": [a, b, c],
                      "district": [a, b, c, d]}[level]
    with as_app(conn, scope):
        for name in SCOPED_LAYERS:
            got = ids(layer_features(conn, name, 18))
            assert got == set().union(*(world["rows"][g][name] for g in inside)), name


def test_a_grid_sees_only_its_own_heat(conn, world):
    a, b = world["a"], world["b"]
    for n in range(3):
        add_event(conn, f"H-b-{n}", b, point(conn, b, 0.001 * n, 0.001))
    # each grid has an open and a closed case of its own: both were reported today
    with as_app(conn, a):
        assert sum(f["properties"]["n"] for f in layer_features(conn, "heatmap", 16)) == 2
    with as_app(conn, b):
        assert sum(f["properties"]["n"] for f in layer_features(conn, "heatmap", 16)) == 5


def test_cases_and_staff_of_no_grid_belong_to_the_district(conn, world):
    a = world["a"]
    where = point(conn, a, 0.016, 0.016)
    nomad = add_staff(conn, "T-dept", None, where)
    case = add_event(conn, "E-nogrid", None, where, state="dispatched", staff=nomad)
    with as_app(conn, DISTRICT):
        assert case in ids(layer_features(conn, "events", 18))
        assert nomad in ids(layer_features(conn, "staff", 18))
        assert case in ids(layer_features(conn, "dispatch", 18))
    for scope in (a, a[:12], a[:9]):
        with as_app(conn, scope):
            assert case not in ids(layer_features(conn, "events", 18)), scope
            assert nomad not in ids(layer_features(conn, "staff", 18)), scope
            assert case not in ids(layer_features(conn, "dispatch", 18)), scope


# (a session's scope holds at most 15 characters: longer ones cannot reach the database)
@pytest.mark.parametrize("bogus", ["", "abc", "21010", "2101030", "21010300100100",
                                   "%", "210103%"])
def test_a_malformed_scope_sees_nothing(conn, world, bogus):
    add_staff(conn, "T-dept", None, point(conn, world["a"], 0.016, 0.016))
    add_event(conn, "E-nogrid", None, point(conn, world["a"], 0.016, 0.016))
    with as_app(conn, bogus):
        for name in (*SCOPED_LAYERS, "heatmap"):
            assert layer_features(conn, name, 18) == [], (bogus, name)


@pytest.mark.parametrize("bogus", ["abcdef", "%%%%%%", "999999"])
def test_a_malformed_six_character_scope_sees_nothing(conn, world, bogus):
    add_staff(conn, "T-dept", None, point(conn, world["a"], 0.016, 0.016))
    add_event(conn, "E-nogrid", None, point(conn, world["a"], 0.016, 0.016))
    with as_app(conn, bogus):
        for name in (*SCOPED_LAYERS, "heatmap"):
            assert layer_features(conn, name, 18) == [], (bogus, name)


# -- the live clock ---------------------------------------------------------------------------

def test_the_clock_has_one_version_per_topic(conn):
    versions = live.clock(conn)
    assert set(versions) == set(live.TOPICS)
    assert all(isinstance(v, int) and v >= 0 for v in versions.values())


def test_changing_events_moves_the_event_topic_only(conn, world):
    before = live.clock(conn)
    token = live.token(before)
    event = add_event(conn, "E-new", world["a"], point(conn, world["a"], 0.01, 0.01))
    after_insert = live.clock(conn)
    assert after_insert == {**before, "event": before["event"] + 1}
    assert live.changed_topics(token, after_insert) == ["event"]
    conn.execute(text("UPDATE event SET title = 'x' WHERE id = :e"), {"e": event})
    assert live.clock(conn) == {**before, "event": before["event"] + 2}
    # one statement, however many rows: one tick
    conn.execute(text("UPDATE event SET title = 'y'"))
    assert live.clock(conn) == {**before, "event": before["event"] + 3}
    conn.execute(text("DELETE FROM event WHERE id = :e"), {"e": event})
    assert live.clock(conn)["event"] == before["event"] + 4


def test_sensor_alarms_and_sensors_move_the_sensor_topic(conn, world):
    sensor = world["sensor_ok"][world["a"]]
    before = live.clock(conn)
    conn.execute(text("INSERT INTO sensor_alarm (sensor_id, raised_at, value, threshold,"
                      " direction) VALUES (:s, now(), 30, 20, 'high')"), {"s": sensor})
    assert live.clock(conn) == {**before, "sensor": before["sensor"] + 1}
    conn.execute(text("UPDATE sensor SET status = 'alarm' WHERE id = :s"), {"s": sensor})
    assert live.clock(conn) == {**before, "sensor": before["sensor"] + 2}


def test_staff_moving_moves_the_staff_topic(conn, world):
    staff = next(iter(world["rows"][world["a"]]["staff"]))
    before = live.clock(conn)
    conn.execute(text("UPDATE staff SET last_position = ST_SetSRID(ST_MakePoint(123.405,"
                      " 41.805), 4326), last_seen_at = now() WHERE id = :s"), {"s": staff})
    assert live.clock(conn) == {**before, "staff": before["staff"] + 1}


def test_other_connections_see_the_clock_move_only_after_commit(conn, engine, world):
    with engine.connect() as other:
        committed = live.clock(other)
        mine = live.clock(conn)
        # the world's rows, not yet committed, have moved this transaction's clock already
        assert mine["event"] > committed["event"] and mine["staff"] > committed["staff"]
        add_event(conn, "E-uncommitted", world["a"], point(conn, world["a"], 0.01, 0.01))
        assert live.clock(conn)["event"] == mine["event"] + 1
        assert live.clock(other) == committed
        other.rollback()


def test_the_app_reads_the_clock_but_cannot_set_it(conn, world):
    with as_app(conn, world["a"]):
        versions = live.clock(conn)
        assert set(versions) == set(live.TOPICS)
        refused(conn, "UPDATE onemap.live_clock SET version = version + 1")
        refused(conn, "UPDATE onemap.live_clock SET version = 0 WHERE topic = 'event'")
        refused(conn, "INSERT INTO onemap.live_clock (topic) VALUES ('x')")
        refused(conn, "DELETE FROM onemap.live_clock")
        refused(conn, "TRUNCATE onemap.live_clock")
        assert live.clock(conn) == versions


def test_the_app_moves_the_clock_by_changing_what_it_watches(conn, world):
    a = world["a"]
    event = next(iter(world["rows"][a]["events"]))
    with as_app(conn, a):
        before = live.clock(conn)
        conn.execute(text("UPDATE event SET state = 'handling' WHERE id = :e"), {"e": event})
        assert live.clock(conn) == {**before, "event": before["event"] + 1}


def test_a_connection_with_no_scope_still_reads_the_clock(conn):
    with as_app(conn, None):
        assert set(live.clock(conn)) == set(live.TOPICS)


# -- building counts --------------------------------------------------------------------------

def test_building_counts_residents_and_key_groups(conn, world):
    a = world["a"]
    building = world["building"][a]
    room1 = insert_household(conn, building, "101", floor=1)
    room2 = insert_household(conn, building, "102", floor=1)
    add_person(conn, 1, room1, tag="elderly_alone")
    add_person(conn, 2, room2)
    add_person(conn, 3, room2, kind="registered", tag="disabled")  # lives elsewhere
    # a sensitive tag is never counted: the count would disclose it to every role
    other = insert_building(conn, a, "B-OTHER", inset=0.004)
    add_person(conn, 4, insert_household(conn, other, "201"), sensitive_tag="community_correction")
    counted = refresh_building_stats(conn)
    total = conn.execute(text("SELECT count(*) FROM building")).scalar_one()
    assert counted == total == len(world["grids"]) + 1
    stats = {row.building_id: (row.residents, row.key_group, row.grid_code) for row in conn.execute(
        text("SELECT building_id, residents, key_group, grid_code FROM building_stat"))}
    assert stats[building] == (2, 1, a)
    assert stats[other] == (1, 0, a)
    assert stats[world["building"][world["b"]]] == (0, 0, world["b"])
    with as_app(conn, a):
        shown = {int(f["properties"]["id"]): f["properties"]
                 for f in layer_features(conn, "buildings", 16)}
        assert shown[building]["residents"] == 2 and shown[building]["key_group"] == 1
        assert shown[other]["residents"] == 1 and shown[other]["key_group"] == 0
        assert set(shown) == {building, other}
        assert card(conn, "buildings", building)["residents"] == 2
        assert card(conn, "buildings", building)["households"] == 2


def test_refreshing_again_replaces_the_counts(conn, world):
    a = world["a"]
    building = world["building"][a]
    room = insert_household(conn, building, "101")
    refresh_building_stats(conn)
    assert conn.execute(text("SELECT residents FROM building_stat WHERE building_id = :b"),
                        {"b": building}).scalar_one() == 0
    add_person(conn, 5, room, tag="veteran")
    refresh_building_stats(conn)
    assert conn.execute(text("SELECT residents, key_group FROM building_stat"
                             " WHERE building_id = :b"), {"b": building}).one() == (1, 1)
    assert conn.execute(text("SELECT count(*) FROM building_stat")).scalar_one() == len(
        world["grids"])


def test_the_app_reads_building_counts_in_scope_but_never_writes_them(conn, world):
    a, b = world["a"], world["b"]
    refresh_building_stats(conn)
    with as_app(conn, a):
        assert list(conn.execute(text("SELECT building_id FROM building_stat")).scalars()) == [
            world["building"][a]]
        refused(conn, "INSERT INTO onemap.building_stat (building_id, grid_code, residents,"
                      " key_group) VALUES (:b, :g, 99, 99)",
                {"b": world["building"][b], "g": b})
        refused(conn, "UPDATE onemap.building_stat SET residents = 99")
        refused(conn, "DELETE FROM onemap.building_stat")
        refused(conn, "SELECT onemap.refresh_building_stats()")


# -- near an event ----------------------------------------------------------------------------

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


# -- cards and the wall rail ------------------------------------------------------------------

def test_cards_show_in_scope_and_nothing_outside(conn, world):
    a, b = world["a"], world["b"]
    event = next(iter(world["rows"][a]["events"]))
    staff = next(iter(world["rows"][a]["staff"]))
    with as_app(conn, a):
        c = card(conn, "events", event)
        assert c["id"] == event and c["category"] == "暴露垃圾"
        assert c["staff_name"] == f"网格员 T-{a[6:]}" and c["overdue"] is False
        assert card(conn, "staff", staff)["open_cases"] == 1
        assert card(conn, "sensors", world["sensor_alarm"][a])["status"] == "alarm"
        for kind in ("events", "buildings", "cameras", "sensors", "places", "staff"):
            theirs = next(iter(world["rows"][b][kind]))
            assert card(conn, kind, theirs) is None, kind
            assert card(conn, kind, 10 ** 12) is None, kind


def test_wall_counts_feeds_and_banners_in_scope(conn, world):
    a = world["a"]
    add_event(conn, "E-urgent", a, point(conn, a, 0.01, 0.01), level=1)
    add_event(conn, "E-late", a, point(conn, a, 0.01, 0.011), due="-10 minutes")
    conn.execute(text("INSERT INTO sensor_alarm (sensor_id, raised_at, value, threshold,"
                      " direction) VALUES (:s, now(), 30, 20, 'high')"),
                 {"s": world["sensor_alarm"][a]})
    conn.execute(text("INSERT INTO sensor_alarm (sensor_id, raised_at, value, threshold,"
                      " direction) VALUES (:s, now(), 30, 20, 'high')"),
                 {"s": world["sensor_alarm"][world["b"]]})
    with as_app(conn, a):
        got = counters(conn)
        assert got["overdue"] == 1
        assert got["sensor_alarms"] == 1
        assert (got["cameras_online"], got["cameras"]) == (1, 1)
        assert sum(got["today_by_state"].values()) == 4  # open, closed, urgent, late
        codes = [r["code"] for r in feed(conn)]
        assert set(codes) == {f"E-{a[6:]}-open", f"E-{a[6:]}-closed", "E-urgent", "E-late"}
        kinds = sorted(r["kind"] for r in banner(conn))
        assert kinds == ["overdue", "sensor_alarm", "urgent"]


def test_a_shelved_case_past_its_limit_is_overdue_nowhere(conn, world):
    """The outside review: a shelved (挂账) overdue case was overdue in the feed and the card
    but not in the counters, the layer or the banner. Its clock is stopped: overdue nowhere."""
    a = world["a"]
    late = add_event(conn, "E-late", a, point(conn, a, 0.01, 0.011), due="-10 minutes")
    shelved = add_event(conn, "E-shelved", a, point(conn, a, 0.01, 0.012), state="suspended",
                        due="-10 minutes")
    with as_app(conn, a):
        assert counters(conn)["overdue"] == 1
        overdue_in_feed = {r["id"]: r["overdue"] for r in feed(conn)}
        assert overdue_in_feed[late] is True and overdue_in_feed[shelved] is False
        assert card(conn, "events", late)["overdue"] is True
        assert card(conn, "events", shelved)["overdue"] is False
        assert [r["event_id"] for r in banner(conn) if r["kind"] == "overdue"] == [late]
        on_layer = {f["properties"]["id"]: f["properties"]["overdue"]
                    for f in layer_features(conn, "events", 18)}
        assert on_layer[late] == 1 and shelved not in on_layer  # shelved: off the wall


@pytest.mark.parametrize("name, table", [("buildings", "building"), ("cameras", "camera"),
                                         ("sensors", "sensor"), ("places", "key_place"),
                                         ("staff", "staff")])
def test_viewport_queries_use_an_index_as_the_app_role(conn, world, name, table):
    """Row-level security must not switch off the spatial index: PostGIS's && is not
    leakproof, so `geom && bbox` under the scope policy scanned the whole table."""
    layer = VIEWPORT_LAYERS[name]
    x, y = point(conn, world["a"])
    params = {**Viewport(x - 0.01, y - 0.01, x + 0.01, y + 0.01, 18).checked().params(),
              **option_params(layer, {})}
    with as_app(conn, world["a"][:6]):
        conn.execute(text("SET LOCAL enable_seqscan = off"))  # tables this small would scan
        plan = "\n".join(conn.execute(text("EXPLAIN " + layer.features_sql), params).scalars())
        conn.execute(text("SET LOCAL enable_seqscan = on"))
    # an index condition on the table's own scan narrows the rows before the policy runs;
    # without one the whole table is read (the scope policy first, then the bounding box)
    assert _scan_is_narrowed(plan, table), plan


def _scan_is_narrowed(plan: str, table: str) -> bool:
    """Whether the plan's scan of `table` has an index condition of its own."""
    lines = plan.splitlines()
    for number, line in enumerate(lines):
        if f" on {table} " in line + " " and "Scan" in line:
            details = []
            for following in lines[number + 1:]:
                if "->" in following:
                    break
                details.append(following)
            return any(("Index Cond" in d or "Recheck Cond" in d) for d in details)
    return False

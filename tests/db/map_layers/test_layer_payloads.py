"""Every viewport layer answers with a geobuf FeatureCollection: empty, with its declared
fields, and with properties and positions that survive the encoding."""

from __future__ import annotations

import geobuf
import pytest
from layers.features import EMPTY, Viewport, features_geobuf
from layers.registry import VIEWPORT_LAYERS

from tests.db.map_layers.app_role import as_app
from tests.db.map_layers.geobuf_reading import WHOLE_DISTRICT, decode, ids, layer_features
from tests.db.map_layers.world import (
    add_camera,
    add_event,
    add_place,
    add_sensor,
    add_staff,
    all_rows,
    point,
)
from tests.fixtures.hierarchy import DISTRICT, insert_hierarchy


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


def test_below_its_minimum_zoom_a_layer_is_empty_without_asking_the_database(conn):
    """min_zoom is kept in one place (layers/features.py), not in each layer's SQL: below it,
    even a query that could not run answers an empty collection."""
    from dataclasses import replace

    from layers.features import EMPTY, Viewport, features_geobuf
    from layers.registry import VIEWPORT_LAYERS

    broken = replace(VIEWPORT_LAYERS["buildings"], features_sql="SELECT no_such_column")
    viewport = Viewport(123.40, 41.75, 123.52, 41.83, 15).checked()
    assert features_geobuf(conn, broken, viewport) == EMPTY

"""A session's scope decides which features every layer sends; a malformed one sees nothing."""

from __future__ import annotations

import pytest

from tests.db.map_layers.app_role import as_app
from tests.db.map_layers.geobuf_reading import ids, layer_features
from tests.db.map_layers.world import add_event, add_staff, point
from tests.fixtures.hierarchy import DISTRICT

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

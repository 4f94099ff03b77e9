"""Tests for onemap.domain.coordinates (WGS-84 / GCJ-02 / BD-09)."""

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from onemap.domain import coordinates as co

TIANANMEN = (116.391275, 39.907501)
SHENYANG = (123.43, 41.80)
PARIS = (2.3522, 48.8566)


def haversine_m(lon1, lat1, lon2, lat2):
    """Great-circle distance in metres on a 6371 km sphere (vectorised)."""
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    dlat, dlon = lat2 - lat1, lon2 - lon1
    h = np.sin(dlat / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(dlon / 2) ** 2
    return 2 * 6371008.8 * np.arcsin(np.sqrt(h))


@pytest.mark.parametrize("point", [TIANANMEN, SHENYANG])
def test_wgs_gcj_shift_and_round_trip(point):
    gcj = co.wgs84_to_gcj02(*point)
    assert 100 < haversine_m(*point, *gcj) < 700
    back = co.gcj02_to_wgs84(*gcj)
    assert haversine_m(*point, *back) < 0.01


def test_tiananmen_shift_direction():
    lon, lat = co.wgs84_to_gcj02(*TIANANMEN)
    assert lon - TIANANMEN[0] == pytest.approx(0.0062, abs=0.0005)
    assert lat - TIANANMEN[1] == pytest.approx(0.0014, abs=0.0005)


def test_matches_published_reference_values():
    # Values from the widely used coordtransform implementations (same forward formulas).
    assert co.wgs84_to_gcj02(116.404, 39.915) == pytest.approx(
        (116.41024449916938, 39.91640428150164), abs=1e-9
    )
    assert co.gcj02_to_bd09(116.404, 39.915) == pytest.approx(
        (116.41036949371029, 39.92133699351021), abs=1e-9
    )
    # Their bd09->gcj02 is the one-step approximation; ours is exact, so allow ~0.5 m.
    assert co.bd09_to_gcj02(116.404, 39.915) == pytest.approx(
        (116.39762729119315, 39.90865673957631), abs=5e-6
    )


def test_gcj_inverse_beats_one_step_approximation():
    # The naive inverse (subtract the offset at the GCJ point) is metres off near Beijing;
    # a round trip through ours must be sub-millimetre.
    gcj = co.wgs84_to_gcj02(*TIANANMEN)
    naive = (2 * gcj[0] - co.wgs84_to_gcj02(*gcj)[0], 2 * gcj[1] - co.wgs84_to_gcj02(*gcj)[1])
    assert haversine_m(*TIANANMEN, *naive) > 0.01
    assert haversine_m(*TIANANMEN, *co.gcj02_to_wgs84(*gcj)) < 0.001


@pytest.mark.parametrize("point", [TIANANMEN, SHENYANG])
def test_bd09_round_trips(point):
    bd = co.gcj02_to_bd09(*point)
    assert 100 < haversine_m(*point, *bd) < 1500
    assert haversine_m(*point, *co.bd09_to_gcj02(*bd)) < 0.01
    bd = co.wgs84_to_bd09(*point)
    assert haversine_m(*point, *co.bd09_to_wgs84(*bd)) < 0.01


@pytest.mark.parametrize("point", [PARIS, (-74.006, 40.7128), (150.0, -33.9), (137.9, 35.0)])
def test_out_of_china_unchanged(point):
    assert co.out_of_china(*point)
    assert co.wgs84_to_gcj02(*point) == point
    assert co.gcj02_to_wgs84(*point) == point


def test_in_china_flag():
    assert not co.out_of_china(*TIANANMEN)
    np.testing.assert_array_equal(
        co.out_of_china(np.array([116.4, 2.35]), np.array([39.9, 48.85])), [False, True]
    )


def test_scalar_in_scalar_out():
    lon, lat = co.wgs84_to_gcj02(*TIANANMEN)
    assert np.ndim(lon) == 0 and isinstance(lon, float)
    assert np.ndim(lat) == 0 and isinstance(lat, float)


def test_arrays_broadcast_and_keep_shape():
    lon = np.array([[116.3, 116.4], [121.4, 123.4]])
    out_lon, out_lat = co.wgs84_to_gcj02(lon, 39.9)
    assert out_lon.shape == out_lat.shape == (2, 2)
    assert co.wgs84_to_gcj02([116.3, 116.4], [39.9, 39.9])[0].shape == (2,)


def test_numpy_round_trip_10000_points():
    rng = np.random.default_rng(2024)
    lon = rng.uniform(73.5, 134.8, 10_000)
    lat = rng.uniform(18.0, 53.5, 10_000)
    back = co.gcj02_to_wgs84(*co.wgs84_to_gcj02(lon, lat))
    assert np.max(haversine_m(lon, lat, *back)) < 0.01
    back = co.bd09_to_wgs84(*co.wgs84_to_bd09(lon, lat))
    assert np.max(haversine_m(lon, lat, *back)) < 0.01
    back = co.bd09_to_gcj02(*co.gcj02_to_bd09(lon, lat))
    assert np.max(haversine_m(lon, lat, *back)) < 0.01


def test_mixed_array_inside_and_outside():
    lon = np.array([TIANANMEN[0], PARIS[0]])
    lat = np.array([TIANANMEN[1], PARIS[1]])
    out_lon, out_lat = co.wgs84_to_gcj02(lon, lat)
    assert out_lon[1] == PARIS[0] and out_lat[1] == PARIS[1]
    assert out_lon[0] != TIANANMEN[0]
    back = co.gcj02_to_wgs84(out_lon, out_lat)
    assert np.max(haversine_m(lon, lat, *back)) < 0.01


def test_empty_arrays():
    lon, lat = co.gcj02_to_wgs84(np.array([]), np.array([]))
    assert lon.shape == lat.shape == (0,)


@pytest.mark.parametrize(
    ("crs", "expected"),
    [("gcj02", co.gcj02_to_wgs84), ("GCJ02", co.gcj02_to_wgs84), ("Bd09", co.bd09_to_wgs84)],
)
def test_to_wgs84_lookup(crs, expected):
    assert co.to_wgs84(crs) is expected


def test_to_wgs84_identity():
    func = co.to_wgs84("WGS84")
    assert func(*TIANANMEN) == TIANANMEN
    lon, lat = func([1, 2], [3, 4])
    np.testing.assert_array_equal(lon, [1.0, 2.0])
    np.testing.assert_array_equal(lat, [3.0, 4.0])


@pytest.mark.parametrize("crs", ["epsg:4326", "", "gcj-02"])
def test_to_wgs84_rejects_unknown(crs):
    with pytest.raises(ValueError, match="wgs84.*gcj02.*bd09"):
        co.to_wgs84(crs)


def test_transform_geometry_point_and_polygon():
    gcj = co.wgs84_to_gcj02(*TIANANMEN)
    pt = co.transform_geometry(Point(*gcj), co.gcj02_to_wgs84)
    assert haversine_m(*TIANANMEN, pt.x, pt.y) < 0.01

    ring = [(116.38, 39.90), (116.40, 39.90), (116.40, 39.92), (116.38, 39.92)]
    poly = Polygon(ring, holes=[[(116.385, 39.905), (116.39, 39.905), (116.39, 39.91)]])
    there = co.transform_geometry(poly, co.wgs84_to_gcj02)
    back = co.transform_geometry(there, co.gcj02_to_wgs84)
    assert there.geom_type == back.geom_type == "Polygon"
    assert len(back.interiors) == 1
    orig_xy = shapely.get_coordinates(poly)
    back_xy = shapely.get_coordinates(back)
    assert np.max(haversine_m(orig_xy[:, 0], orig_xy[:, 1], back_xy[:, 0], back_xy[:, 1])) < 0.01
    moved = shapely.get_coordinates(there)
    assert np.all(haversine_m(orig_xy[:, 0], orig_xy[:, 1], moved[:, 0], moved[:, 1]) > 100)


def test_transform_geometry_multi_array_and_empty():
    beijing = Polygon([(116, 39), (116.1, 39), (116.1, 39.1)])
    paris = Polygon([(2, 48), (2.1, 48), (2.1, 48.1)])
    multi = MultiPolygon([beijing, paris])
    out = co.transform_geometry(multi, co.wgs84_to_bd09)
    assert out.geom_type == "MultiPolygon"
    assert shapely.get_coordinates(out.geoms[0])[0, 0] != 116  # moved
    assert shapely.get_coordinates(out.geoms[1])[0, 0] != 2  # BD-09 shift applies everywhere
    geoms = np.array([LineString([(116, 39), (117, 40)]), Point(123.43, 41.8), Point()])
    out = co.transform_geometry(geoms, co.to_wgs84("gcj02"))
    assert out.shape == (3,) and out[2].is_empty


@pytest.mark.skipif(
    not co._shapely_at_least(2, 1), reason="per-geometry Z detection needs shapely >= 2.1"
)
def test_transform_geometry_keeps_z():
    out = co.transform_geometry(Point(116.39, 39.9, 42.0), co.wgs84_to_gcj02)
    assert out.has_z and out.z == 42.0
    assert not co.transform_geometry(Point(116.39, 39.9), co.wgs84_to_gcj02).has_z

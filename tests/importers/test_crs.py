"""CRS: declared values, the file's own CRS, and GCJ-02/BD-09/EPSG conversion to WGS84."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from pyproj import CRS
from shapely.geometry import Point, Polygon

from onemap.domain.coordinates import wgs84_to_bd09, wgs84_to_gcj02
from etl.importers import import_file
from etl.importers.crs import CrsError, SourceCrs, choose, from_file, parse_crs, to_wgs84_geometries
from tests.importers.conftest import GRID, inside

SHENYANG = [(123.405, 41.805), (123.45, 41.79), (123.475, 41.815)]


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (spherical; plenty for a 1 m check)."""
    lon1, lat1, lon2, lat2 = map(np.radians, (*a, *b))
    h = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return float(2 * 6371008.8 * np.arcsin(np.sqrt(h)))


@pytest.mark.parametrize(("value", "expected"), [
    ("wgs84", SourceCrs("wgs84", 4326)), ("EPSG:4326", SourceCrs("wgs84", 4326)),
    ("gcj02", SourceCrs("gcj02")), ("GCJ-02", SourceCrs("gcj02")), ("amap", SourceCrs("gcj02")),
    ("bd09", SourceCrs("bd09")), ("baidu", SourceCrs("bd09")),
    ("cgcs2000", SourceCrs("epsg", 4490)), ("epsg:4550", SourceCrs("epsg", 4550)),
    ("4549", SourceCrs("epsg", 4549)),
])
def test_declared_values(value, expected):
    assert parse_crs(value) == expected


@pytest.mark.parametrize("value", ["mars", "EPSG:99999", "epsg:"])
def test_unknown_values_are_refused(value):
    with pytest.raises(CrsError):
        parse_crs(value)


def test_declared_beats_file_and_nothing_is_refused_with_the_hint():
    assert choose(SourceCrs("gcj02"), SourceCrs("wgs84", 4326), "x") == SourceCrs("gcj02")
    assert choose(None, from_file(CRS.from_epsg(4490)), "x") == SourceCrs("epsg", 4490)
    with pytest.raises(CrsError, match=r"declare it with --crs wgs84\|gcj02\|bd09\|EPSG:<code>"):
        choose(None, None, "cameras.csv")


@pytest.mark.parametrize(("kind", "shift"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_shifted_datums_land_back_within_a_metre(kind, shift):
    shifted = [tuple(map(float, shift(*p))) for p in SHENYANG]
    assert all(metres(p, s) > 100 for p, s in zip(SHENYANG, shifted, strict=True))
    polygon = Polygon(shifted)
    back = to_wgs84_geometries(gpd.GeoSeries([Point(shifted[0]), polygon]), SourceCrs(kind))
    assert back.crs.to_epsg() == 4326
    assert metres(SHENYANG[0], back.iloc[0].coords[0]) < 1.0
    for true, got in zip(SHENYANG, back.iloc[1].exterior.coords, strict=False):
        assert metres(true, got) < 1.0


def test_projected_cgcs2000_gauss_kruger_goes_through_pyproj():
    projected = gpd.GeoSeries([Point(SHENYANG[0])], crs=4326).to_crs(4550)
    assert projected.iloc[0].x > 100_000  # metres, not degrees
    back = to_wgs84_geometries(gpd.GeoSeries(projected.to_numpy()), SourceCrs("epsg", 4550))
    assert metres(SHENYANG[0], back.iloc[0].coords[0]) < 0.01


def test_gcj02_geojson_is_converted_on_import(conn, tmp_path, hierarchy):
    """GeoJSON claims WGS84 by definition; --crs gcj02 overrides that, and the point lands true."""
    true = inside(GRID, 0.003, 0.004)
    path = tmp_path / "amap.geojson"
    gpd.GeoDataFrame({"场所编码": ["KP-1"], "场所名称": ["学校"], "场所类型": ["学校"],
                      "风险等级": [2]}, geometry=[Point(*map(float, wgs84_to_gcj02(*true)))],
                     crs=4326).to_file(path)
    result = import_file(conn, "places", path, crs="gcj02")
    assert result.errors == [] and "coordinates converted from GCJ-02 to WGS84" in result.notes
    from sqlalchemy import text

    x, y = conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM key_place")).one()
    assert metres(true, (x, y)) < 1.0

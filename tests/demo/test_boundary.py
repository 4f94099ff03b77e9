"""Boundaries come in any format and datum, and land in WGS84."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely

from onemap.domain.coordinates import transform_geometry, wgs84_to_gcj02
from etl.demo.boundary import DEFAULT_BOUNDARY, read_boundary
from etl.importers.crs import CrsError


def _metres(a, b) -> float:
    series = gpd.GeoSeries([a, b], crs=4326).to_crs(32651)
    return series.iloc[0].hausdorff_distance(series.iloc[1])


def test_the_shipped_boundary_is_shenhe():
    boundary = read_boundary()
    assert boundary.code == "210103" and boundary.name == "沈河区"
    area_km2 = gpd.GeoSeries([boundary.geometry], crs=4326).to_crs(32651).area.iloc[0] / 1e6
    assert 55 < area_km2 < 75


def test_a_gcj02_file_is_shifted_back_to_wgs84(tmp_path):
    truth = read_boundary().geometry
    shifted = transform_geometry(truth, wgs84_to_gcj02)
    assert _metres(truth, shifted) > 100  # AMap's offset is hundreds of metres
    path = tmp_path / "amap.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "沈河区"},
        "geometry": shapely.geometry.mapping(shifted)}]}), encoding="utf-8")
    back = read_boundary(path, "gcj02").geometry
    assert _metres(truth, back) < 1.0


def test_a_projected_shapefile_uses_its_own_crs(tmp_path):
    truth = read_boundary().geometry
    path = tmp_path / "district.shp"
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[truth], crs=4326).to_crs(4526).to_file(path)
    assert _metres(truth, read_boundary(path).geometry) < 0.01


def test_a_shapefile_without_prj_is_refused_with_how_to_declare(tmp_path):
    path = tmp_path / "outline.shp"
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[read_boundary().geometry]).to_file(path)
    assert not path.with_suffix(".prj").exists()
    with pytest.raises(CrsError, match="--crs wgs84"):
        read_boundary(path)
    assert read_boundary(path, "wgs84").geometry.area > 0


def test_default_path_exists():
    assert DEFAULT_BOUNDARY.is_file()

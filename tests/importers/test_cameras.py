"""Cameras: GCJ-02 CSV (AMap coordinates) through the CLI, GeoPackage points, CRS refusal."""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import Point
from sqlalchemy import text

from onemap.domain.coordinates import wgs84_to_gcj02
from etl.importers import import_file
from tests.importers.conftest import GRID, OTHER_GRID, count, inside, run_cli, write_csv


def _camera(code: str, lon: float, lat: float, **overrides) -> dict:
    row = {"设备编码": code, "名称": "青年大街路口", "权属": "公安", "类型": "高清球机",
           "视场角": "360", "可视距离": "80米", "状态": "在线", "经度": lon, "纬度": lat}
    row.update(overrides)
    return row


def test_gcj02_csv_through_the_cli_lands_within_a_metre(tmp_path, cli_env, engine, committed):
    true = [inside(GRID, 0.002, 0.003), inside(OTHER_GRID, 0.01, 0.01)]
    rows = [_camera(f"2101030000131000000{i}", *map(float, wgs84_to_gcj02(*p)), 朝向=str(90 * i))
            for i, p in enumerate(true, start=1)]
    path = write_csv(tmp_path / "amap_cameras.csv", rows, encoding="gbk")
    result = run_cli(cli_env, "cameras", path, "--crs", "gcj02")
    assert result.returncode == 0, result.stderr
    assert "2 inserted" in result.stdout
    with engine.connect() as conn:
        for (lon, lat), grid in zip(true, (GRID, OTHER_GRID), strict=True):
            metres, got_grid = conn.execute(text(
                "SELECT min(ST_Distance(geom::geography, ST_MakePoint(:x, :y)::geography)),"
                " min(grid_code) FROM camera WHERE grid_code = :g"),
                {"x": lon, "y": lat, "g": grid}).one()
            assert metres < 1.0 and got_grid == grid
        assert conn.execute(text("SELECT range_m FROM camera LIMIT 1")).scalar_one() == 80
    again = run_cli(cli_env, "cameras", path, "--crs", "gcj02")
    assert "0 inserted, 0 updated, 2 unchanged" in again.stdout


def test_a_csv_without_crs_is_refused_saying_how_to_declare_it(tmp_path, cli_env, committed):
    path = write_csv(tmp_path / "cameras.csv", [_camera("C1", *inside())])
    result = run_cli(cli_env, "cameras", path)
    assert result.returncode == 2
    assert "no coordinate reference system: declare it with --crs wgs84|gcj02|bd09|EPSG:<code>" \
        in result.stderr


def test_geopackage_points_and_row_errors(conn, tmp_path, hierarchy):
    frame = gpd.GeoDataFrame(
        {"code": ["C1", "C2", "C3", "C4"], "name": ["a", "b", "c", "d"],
         "owner": ["police", "学校", "police", "police"],
         "kind": ["dome", "全景", "ufo", "dome"], "heading": [None, 400, 0, 10],
         "fov_deg": [90, 360, 90, 90], "range_m": [50, 50, 50, 50],
         "status": ["online", "离线", "online", "online"], "grid_code": [None, None, None, GRID]},
        geometry=[Point(inside()), Point(inside(OTHER_GRID)), Point(inside()),
                  Point(inside(OTHER_GRID))], crs=4326)
    path = tmp_path / "cameras.gpkg"
    frame.to_file(path, layer="cameras")
    result = import_file(conn, "cameras", path)
    assert [(e.row, e.field, e.reason) for e in result.errors] == [
        (2, "heading", "more than 359"),
        (3, "kind", "not one of 高清枪机/高清球机/枪机/球机/全景 (or their English codes)"),
        (4, "grid_code", "the location lies outside this grid"),
    ]
    assert count(conn, "camera") == 0
    import_file(conn, "cameras", path, skip_invalid=True)
    assert conn.execute(text("SELECT code, grid_code FROM camera")).all() == [("C1", GRID)]

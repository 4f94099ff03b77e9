"""Key places: GeoJSON through the CLI; points outside every grid are refused."""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import Point
from sqlalchemy import text

from etl.importers import import_file
from etl.importers.report import read_report
from tests.importers.conftest import GRID, OTHER_GRID, inside, run_cli, write_csv


def test_geojson_through_the_cli(tmp_path, cli_env, engine, committed):
    frame = gpd.GeoDataFrame(
        {"场所编码": ["KP-1", "KP-2"], "场所名称": ["第一小学", "加油站"], "场所类型": ["学校", "加油加气站"],
         "风险等级": ["2级", "1"], "联系人": ["李老师", "王站长"], "联系电话": ["13900001111", "024-2345678"]},
        geometry=[Point(inside(GRID)), Point(inside(OTHER_GRID))], crs=4326)
    path = tmp_path / "places.geojson"
    frame.to_file(path)
    result = run_cli(cli_env, "places", path)
    assert result.returncode == 0, result.stderr
    with engine.connect() as conn:
        assert conn.execute(text(
            "SELECT code, kind, risk_level, grid_code FROM key_place ORDER BY code")).all() == [
            ("KP-1", "school", 2, GRID), ("KP-2", "gas_station", 1, OTHER_GRID)]


def test_outside_the_district_is_a_row_error(tmp_path, cli_env, engine, committed):
    rows = [{"场所编码": "KP-1", "场所名称": "远方", "场所类型": "网吧", "风险等级": "3",
             "联系人": "张三丰", "联系电话": "13812345678", "经度": "120.0", "纬度": "30.0"}]
    path = write_csv(tmp_path / "places.csv", rows)
    result = run_cli(cli_env, "places", path, "--crs", "EPSG:4326")
    assert result.returncode == 1
    report = read_report(tmp_path / "places.errors.csv")
    assert [(r["row"], r["field"], r["value"]) for r in report] == [
        ("2", "经度/纬度", "POINT(120 30)")]
    assert report[0]["reason"].startswith("outside the district")


def test_personal_contact_values_are_masked_in_errors(conn, tmp_path, hierarchy):
    rows = [{"场所编码": "KP-1", "场所名称": "网吧", "场所类型": "网吧", "风险等级": "9",
             "联系人": "张三丰", "联系电话": "1381234567890123456789", "经度": inside()[0],
             "纬度": inside()[1]}]
    result = import_file(conn, "places", write_csv(tmp_path / "p.csv", rows), crs="wgs84")
    assert [(e.field, e.value) for e in result.errors] == [
        ("风险等级", "9"), ("联系电话", "138****6789")]

"""Buildings: GCJ-02 GeoJSON through the CLI, GBK CSV with WKT, grid lookup and grid checks."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import box
from sqlalchemy import text

from onemap.domain.coordinates import wgs84_to_gcj02
from etl.importers import import_file
from tests.importers.conftest import GRID, OTHER_GRID, count, inside, run_cli, write_csv


def footprint(grid: str = GRID, dx: float = 0.005, dy: float = 0.005):
    """A 25 m × 20 m footprint inside a test grid (WGS84)."""
    x, y = inside(grid, dx, dy)
    return box(x, y, x + 0.0003, y + 0.0002)


def _row(code: str, geom, **overrides) -> dict:
    row = {"楼栋编码": code, "楼栋名称": "3 栋", "地址": "青年大街 100 号 3 栋", "用途": "住宅",
           "地上层数": "18", "单元数": "3", "几何": geom.wkt}
    row.update(overrides)
    return row


def test_gcj02_geojson_through_the_cli_lands_on_true_wgs84(tmp_path, cli_env, engine, committed):
    true = [footprint(dx=0.004), footprint(dx=0.008)]
    shifted = [shapely.transform(g, lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])))
               for g in true]
    frame = gpd.GeoDataFrame({"楼栋编码": ["B-10", "B-11"], "楼栋名称": ["10 栋", "11 栋"],
                              "地址": ["青年大街 10 号", "青年大街 11 号"], "用途": ["住宅", "商业"],
                              "地上层数": [6, 30], "单元数": [2, 1]}, geometry=shifted, crs=4326)
    path = tmp_path / "amap_buildings.geojson"
    frame.to_file(path)
    result = run_cli(cli_env, "buildings", path, "--crs", "gcj02")
    assert result.returncode == 0, result.stderr
    assert "2 inserted" in result.stdout and "GCJ-02" in result.stdout
    with engine.connect() as conn:
        for code, geom in zip(["B-10", "B-11"], true, strict=True):
            # every corner within 1 m of the true one (the shift itself is hundreds of metres)
            worst, grid = conn.execute(text(
                "SELECT max(ST_Distance(p.geom::geography, t.geom::geography)), min(b.grid_code)"
                " FROM building b,"
                " ST_DumpPoints(b.geom) p JOIN ST_DumpPoints(ST_GeomFromText(:g, 4326)) t"
                "   ON p.path[3] = t.path[2]"
                " WHERE b.code = :c"), {"g": geom.wkt, "c": code}).one()
            assert worst < 1.0
            assert grid == GRID


def test_gbk_csv_with_wkt_finds_the_grid_and_reimports_unchanged(conn, tmp_path, hierarchy):
    rows = [_row("B-1", footprint()), _row("B-2", footprint(OTHER_GRID), 用途="商住混合",
                                            地下层数="2层", 建成年份="1998")]
    path = write_csv(tmp_path / "楼栋.csv", rows, encoding="gbk")
    first = import_file(conn, "buildings", path, crs="wgs84")
    assert first.errors == [] and first.counts.inserted == 2
    got = conn.execute(text(
        "SELECT code, grid_code, use, floors_below, built_year FROM building ORDER BY code")).all()
    assert got == [("B-1", GRID, "residential", 0, None), ("B-2", OTHER_GRID, "mixed", 2, 1998)]
    again = import_file(conn, "buildings", path, crs="wgs84")
    assert (again.counts.inserted, again.counts.updated, again.counts.unchanged) == (0, 0, 2)
    rows[0]["地上层数"] = "7"
    changed = import_file(conn, "buildings", write_csv(tmp_path / "b2.csv", rows), crs="wgs84")
    assert (changed.counts.updated, changed.counts.unchanged) == (1, 1)


def test_grid_and_district_checks(conn, tmp_path, hierarchy):
    rows = [
        _row("B-1", footprint(), 网格编码=OTHER_GRID),  # footprint is in GRID
        _row("B-2", box(124.0, 42.0, 124.001, 42.001)),  # far outside the district
        _row("B-3", footprint(), 网格编码="210103999999999"),
        _row("B-4", footprint(), 用途="住宅楼", 单元数="0"),
        _row("B-4", footprint()),
    ]
    result = import_file(conn, "buildings", write_csv(tmp_path / "b.csv", rows), crs="wgs84")
    assert [(e.row, e.field, e.reason) for e in result.errors] == [
        (2, "网格编码", "the location lies outside this grid"),
        (3, "几何", "outside the district (no district boundary in the database covers it)"),
        (4, "网格编码", "unknown grid"),
        (5, "用途", "not one of 住宅/商业/商住混合/公共建筑/工业 (or their English codes)"),
        (5, "单元数", "less than 1"),
        (6, "楼栋编码", "duplicate 楼栋编码 (first on row 5)"),
    ]
    assert count(conn, "building") == 0


def test_buildings_need_the_boundaries_first(conn, tmp_path):
    import pytest

    from etl.importers import ImportRefused

    path = write_csv(tmp_path / "b.csv", [_row("B-1", footprint())])
    with pytest.raises(ImportRefused, match="no grids"):
        import_file(conn, "buildings", path, crs="wgs84")


def test_a_csv_without_crs_is_refused_with_the_way_to_declare_it(conn, tmp_path, hierarchy):
    import pytest

    from etl.importers import ImportRefused

    path = write_csv(tmp_path / "b.csv", [_row("B-1", footprint())])
    with pytest.raises(ImportRefused, match=r"--crs wgs84\|gcj02\|bd09\|EPSG:<code>"):
        import_file(conn, "buildings", path)

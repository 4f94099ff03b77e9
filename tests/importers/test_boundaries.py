"""Boundaries: zipped Shapefile (GBK, CGCS2000) through the CLI, GeoPackage, nesting rules,
geometry repair, all-or-nothing and re-import."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import MultiPolygon, Polygon, box
from sqlalchemy import text

from etl.importers import import_file
from etl.importers.report import read_report
from tests.fixtures.hierarchy import DISTRICT, EAST, NORTH, SOUTH, WEST, insert_building
from tests.importers.conftest import count, run_cli, wipe

MID_X, MID_Y = (WEST + EAST) / 2, (SOUTH + NORTH) / 2


def hierarchy_frame() -> gpd.GeoDataFrame:
    """The test hierarchy (1 district, 2 streets, 4 communities, 8 grids) as one layer."""
    rows = [(DISTRICT, "沈河区", box(WEST, SOUTH, EAST, NORTH))]
    for s, (x0, x1) in enumerate([(WEST, MID_X), (MID_X, EAST)], start=1):
        street = f"{DISTRICT}{s:03d}"
        rows.append((street, f"第{s}街道", box(x0, SOUTH, x1, NORTH)))
        for k, (y0, y1) in enumerate([(MID_Y, NORTH), (SOUTH, MID_Y)], start=1):
            community = f"{street}{k:03d}"
            rows.append((community, f"第{s}-{k}社区", box(x0, y0, x1, y1)))
            cx = (x0 + x1) / 2
            for n, (gx0, gx1) in enumerate([(x0, cx), (cx, x1)], start=1):
                rows.append((f"{community}{n:03d}", f"网格{n}", box(gx0, y0, gx1, y1)))
    codes, names, geoms = zip(*rows, strict=True)
    return gpd.GeoDataFrame({"编码": codes, "名称": names}, geometry=list(geoms), crs=4326)


def zipped_shapefile(frame: gpd.GeoDataFrame, folder: Path, name: str) -> Path:
    """Write a GBK-encoded Shapefile (with .cpg and .prj) and zip its parts, as agencies ship."""
    shp_dir = folder / name
    shp_dir.mkdir()
    frame.to_file(shp_dir / f"{name}.shp", encoding="GBK")
    archive = folder / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in shp_dir.iterdir():
            z.write(part, part.name)
    return archive


def test_zipped_shapefile_in_cgcs2000_through_the_cli(tmp_path, cli_env, engine):
    wipe(engine)
    frame = hierarchy_frame().to_crs(4490)  # Tianditu's datum; .prj says so
    archive = zipped_shapefile(frame, tmp_path, "boundaries")
    try:
        result = run_cli(cli_env, "boundaries", archive)
        assert result.returncode == 0, result.stderr
        assert "15 inserted, 0 updated, 0 unchanged" in result.stdout
        assert "district 1, street 2, community 4, grid 8" in result.stdout
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM street ORDER BY code")).scalars().all() \
                == ["第1街道", "第2街道"]
            assert count(conn, "grid", "ST_GeometryType(geom) = 'ST_MultiPolygon'") == 8
        again = run_cli(cli_env, "boundaries", archive)
        assert "0 inserted, 0 updated, 15 unchanged" in again.stdout
    finally:
        wipe(engine)


def test_geopackage_layer_levels_one_by_one(conn, tmp_path):
    frame = hierarchy_frame()
    path = tmp_path / "admin.gpkg"
    for level, length in (("district", 6), ("street", 9), ("community", 12), ("grid", 15)):
        frame[frame["编码"].str.len() == length].to_file(path, layer=level)
    for level in ("district", "street", "community", "grid"):
        result = import_file(conn, "boundaries", path, layer=level, level=level)
        assert result.errors == [] and result.written, level
    assert count(conn, "grid") == 8


def test_a_boundary_outside_its_parent_is_a_row_error_and_nothing_is_written(conn, tmp_path):
    frame = hierarchy_frame()
    # the second grid of the first community reaches 0.01° (≈ 830 m) east out of it
    i = frame.index[frame["编码"] == f"{DISTRICT}001001002"][0]
    x0, y0, x1, y1 = frame.geometry[i].bounds
    frame.loc[i, "geometry"] = box(x0, y0, x1 + 0.01, y1)
    path = tmp_path / "admin.geojson"
    frame.to_file(path)
    result = import_file(conn, "boundaries", path)
    assert [(e.row, e.field) for e in result.errors] == [(i + 1, "geometry")]
    assert result.errors[0].reason.startswith(f"lies outside its community {DISTRICT}001001 by")
    assert not result.written and count(conn, "district") == 0

    skipped = import_file(conn, "boundaries", path, skip_invalid=True)
    assert skipped.written and skipped.counts.inserted == 14


def test_wrong_level_nesting(conn, tmp_path):
    rows = [
        {"编码": DISTRICT, "名称": "沈河区", "级别": "区",
         "几何": box(WEST, SOUTH, EAST, NORTH).wkt},
        {"编码": f"{DISTRICT}001", "名称": "一街", "级别": "社区",  # a street code
         "几何": box(WEST, SOUTH, MID_X, NORTH).wkt},
        {"编码": f"{DISTRICT}002", "名称": "二街", "上级编码": "210104",
         "几何": box(MID_X, SOUTH, EAST, NORTH).wkt},
        {"编码": f"{DISTRICT}0030", "名称": "十位数", "几何": box(WEST, SOUTH, MID_X, NORTH).wkt},
        {"编码": f"{DISTRICT}009001", "名称": "孤儿社区", "几何": box(WEST, SOUTH, MID_X, MID_Y).wkt},
    ]
    path = tmp_path / "admin.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    result = import_file(conn, "boundaries", path, crs="wgs84")
    assert [(e.row, e.field, e.reason) for e in result.errors] == [
        (3, "级别", "级别 社区 needs a 12-digit code"),
        (4, "上级编码", f"not the code's prefix (the parent of {DISTRICT}002 is {DISTRICT})"),
        (5, "编码", "must be 6 (区), 9 (街道), 12 (社区) or 15 (网格) digits"),
        (6, "编码", f"unknown parent street {DISTRICT}009 (neither in the database nor valid "
                  "in this file)"),
    ]
    only_streets = import_file(conn, "boundaries", path, crs="wgs84", level="street")
    assert (2, "编码", "--level street needs a 9-digit code") in [
        (e.row, e.field, e.reason) for e in only_streets.errors]


def test_invalid_polygons_are_repaired_when_safe_and_refused_otherwise(conn, tmp_path):
    frame = hierarchy_frame()
    frame = frame[frame["编码"].str.len() <= 9].reset_index(drop=True)
    # street 1 gets a zero-width spike out of its north edge: invalid, repairable (area kept)
    spike = Polygon([(WEST, SOUTH), (MID_X, SOUTH), (MID_X, NORTH), (WEST + 0.01, NORTH),
                     (WEST + 0.01, NORTH - 0.005), (WEST + 0.01, NORTH), (WEST, NORTH)])
    # street 2 is a bow tie: ST_MakeValid would double its (zero) signed area
    bowtie = Polygon([(MID_X, SOUTH), (EAST, NORTH), (EAST, SOUTH), (MID_X, NORTH)])
    frame.loc[1, "geometry"] = MultiPolygon([spike])
    frame.loc[2, "geometry"] = MultiPolygon([bowtie])
    assert not frame.geometry[1].is_valid and not frame.geometry[2].is_valid
    path = tmp_path / "streets.gpkg"
    frame.to_file(path)
    result = import_file(conn, "boundaries", path, skip_invalid=True)
    assert [(e.row, e.field) for e in result.errors] == [(3, "geometry")]
    assert "cannot be repaired safely" in result.errors[0].reason
    assert "Self-intersection" in result.errors[0].value
    assert "1 invalid geometry repaired" in result.notes
    assert conn.execute(text(
        f"SELECT ST_IsValid(geom) FROM street WHERE code = '{DISTRICT}001'")).scalar_one()


def test_cli_report_names_the_row_when_a_child_is_outside(tmp_path, cli_env, engine):
    wipe(engine)
    frame = hierarchy_frame()
    i = frame.index[frame["编码"] == f"{DISTRICT}002"][0]
    frame.loc[i, "geometry"] = box(MID_X, SOUTH, EAST + 0.02, NORTH)
    path = tmp_path / "admin.gpkg"
    frame.to_file(path)
    try:
        result = run_cli(cli_env, "boundaries", path)
        assert result.returncode == 1
        assert f"row {i + 1}, field geometry: lies outside its district {DISTRICT}" \
            in result.stderr
        rows = read_report(tmp_path / "admin.errors.csv")
        assert rows[0]["row"] == str(i + 1)
        with engine.connect() as conn:
            assert count(conn, "district") == 0
    finally:
        wipe(engine)


def test_a_shrunken_parent_may_not_leave_its_children_outside(conn, tmp_path, hierarchy):
    """The triggers look from child to parent only; the importer also looks down."""
    community = f"{DISTRICT}001001"  # x WEST..MID_X, y MID_Y..NORTH; its grids split at 123.42
    grid = f"{community}002"  # x 123.42..MID_X
    insert_building(conn, grid, "B-1")  # in the grid's south-west corner
    shrunk = {"编码": community, "名称": "第1-1社区", "几何": box(WEST, MID_Y, 123.42, NORTH).wkt}
    pd.DataFrame([shrunk]).to_csv(tmp_path / "c.csv", index=False)
    result = import_file(conn, "boundaries", tmp_path / "c.csv", crs="wgs84")
    assert [(e.row, e.value) for e in result.errors] == [(2, grid)]
    assert result.errors[0].reason.startswith(f"would leave its grid {grid} outside by")

    east = {"编码": grid, "名称": "网格2", "几何": box(123.43, MID_Y, MID_X, NORTH).wkt}
    pd.DataFrame([east]).to_csv(tmp_path / "g.csv", index=False)
    result = import_file(conn, "boundaries", tmp_path / "g.csv", crs="wgs84")
    assert [(e.row, e.value, e.reason) for e in result.errors] == [
        (2, "B-1", "would leave building B-1 outside")]

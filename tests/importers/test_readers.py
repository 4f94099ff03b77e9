"""Readers: real files in each format, GBK or UTF-8, row numbers as users see them."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from etl.importers.readers import ReadError, read_table

def test_gbk_csv_with_chinese_headers(tmp_path):
    path = tmp_path / "人口.csv"
    pd.DataFrame({"姓名": ["张三", "李四"], "房号": ["501", "0302"]}).to_csv(
        path, index=False, encoding="gbk")
    table = read_table(path)
    assert table.encoding == "gb18030"
    assert list(table.frame.columns) == ["姓名", "房号"]
    assert table.frame["姓名"].tolist() == ["张三", "李四"]
    assert table.frame["房号"].tolist() == ["501", "0302"]  # text stays text: no lost zeros
    assert table.rows.tolist() == [2, 3]  # the header is row 1
    assert table.tabular and table.crs is None


def test_utf8_with_bom_blank_lines_and_encoding_override(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes("\ufeff姓名,电话\n张三, 138 \n\n,\n李四,\n".encode())
    table = read_table(path)
    assert table.encoding == "utf-8-sig"
    assert table.frame.to_dict("list") == {"姓名": ["张三", "李四"], "电话": ["138", None]}
    assert table.rows.tolist() == [2, 5]  # blank lines 3 and 4 are skipped, not renumbered
    gbk = tmp_path / "g.csv"
    gbk.write_bytes("姓名\n张三\n".encode("gbk"))
    assert read_table(gbk, encoding="gbk").frame["姓名"].tolist() == ["张三"]
    with pytest.raises(ReadError, match="try --encoding"):
        read_table(gbk, encoding="utf-8")


def _shapefile(tmp_path, cpg: bool):
    frame = gpd.GeoDataFrame({"编码": ["210103001"], "名称": ["风雨坛街道"]},
                             geometry=[box(123.40, 41.78, 123.44, 41.82)], crs=4490)
    folder = tmp_path / "shp"
    folder.mkdir()
    frame.to_file(folder / "streets.shp", encoding="GBK")
    if not cpg:
        (folder / "streets.cpg").unlink()
    archive = tmp_path / "streets.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in folder.iterdir():
            z.write(part, part.name)
    return archive


@pytest.mark.parametrize("cpg", [True, False], ids=["with .cpg", "GBK without .cpg"])
def test_zipped_shapefile(tmp_path, cpg):
    table = read_table(_shapefile(tmp_path, cpg))
    assert table.frame["名称"].tolist() == ["风雨坛街道"]
    assert table.crs.to_epsg() == 4490
    assert table.rows.tolist() == [1]  # features count from 1
    assert not table.tabular


def test_geopackage_layers(tmp_path):
    path = tmp_path / "d.gpkg"
    points = gpd.GeoDataFrame({"code": ["C1"]}, geometry=[Point(123.41, 41.81)], crs=4326)
    points.to_file(path, layer="cameras")
    points.to_file(path, layer="sensors")
    with pytest.raises(ReadError, match=r"2 layers \(cameras, sensors\): choose one with --layer"):
        read_table(path)
    table = read_table(path, layer="sensors")
    assert table.geometry.iloc[0].equals(Point(123.41, 41.81))
    with pytest.raises(ReadError, match="no layer 'x'"):
        read_table(path, layer="x")


def test_numbers_typed_by_spatial_formats_read_back_as_text(tmp_path):
    path = tmp_path / "b.geojson"
    gpd.GeoDataFrame({"floors": [6, 18], "area": [89.5, None]},
                     geometry=[Point(0, 0), Point(1, 1)], crs=4326).to_file(path)
    frame = read_table(path).frame
    assert frame["floors"].tolist() == ["6", "18"]
    assert frame["area"].tolist() == ["89.5", None]


def test_unreadable_files_are_refused(tmp_path):
    junk = tmp_path / "x.gpkg"
    junk.write_text("not a geopackage")
    with pytest.raises(ReadError, match="cannot open x.gpkg"):
        read_table(junk)
    with pytest.raises(ReadError, match="save it as .xlsx or CSV"):
        (tmp_path / "old.xls").write_bytes(b"\xd0\xcf")
        read_table(tmp_path / "old.xls")


def test_xlsx_sheet_with_chinese_headers(tmp_path):
    path = tmp_path / "人口.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"说明": ["x"]}).to_excel(writer, sheet_name="说明", index=False)
        pd.DataFrame({"姓名": ["张三"], "房号": ["0501"]}).to_excel(
            writer, sheet_name="人口", index=False)
    table = read_table(path, sheet="人口")
    assert table.frame.to_dict("list") == {"姓名": ["张三"], "房号": ["0501"]}
    assert table.rows.tolist() == [2]

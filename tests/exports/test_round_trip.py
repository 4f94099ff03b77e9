"""Every format × coordinate system, read back with pyogrio, pandas and openpyxl: as many
features as the user's scope holds, each within a metre of where PostGIS (or the project's
GCJ-02 / BD-09 formula) puts it, Chinese field names and values intact, personal fields
masked."""

from __future__ import annotations

import math
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
from sqlalchemy import text

from exports.formats import FORMATS, FormatRefused
from exports.run import ExportRequest
from onemap.domain.coordinates import wgs84_to_bd09, wgs84_to_gcj02

CRSS = ("wgs84", "cgcs2000", "gcj02", "bd09", "gk")
METRE_DEG = 1 / 111_320  # a metre of latitude in degrees


def read_back(path, fmt: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The file's attribute table and its points' x and y."""
    if fmt in ("csv", "xlsx"):
        if fmt == "csv":
            assert path.read_bytes()[:3] == b"\xef\xbb\xbf"  # Excel on zh-CN needs the BOM
            table = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
        else:
            book = openpyxl.load_workbook(path, read_only=True)
            rows = list(book.worksheets[0].iter_rows(values_only=True))
            table = pd.DataFrame(rows[1:], columns=rows[0]).astype(str)
        points = shapely.from_wkt(table.pop("WKT").to_numpy())
    else:
        frame = pyogrio.read_dataframe(path)
        points = frame.geometry.to_numpy()
        table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return table, shapely.get_x(points), shapely.get_y(points)


def expected_points(owner, crs: str, ids: list[int]) -> dict[int, tuple[float, float]]:
    """Where each place should be in `crs`: PostGIS's transform, or the project's formula for
    the shifted systems; gk in the zone of the places' mean longitude."""
    with owner.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, ST_X(geom), ST_Y(geom) FROM onemap.key_place WHERE id = ANY(:ids)"),
            {"ids": ids}).all()
        if crs == "gk":
            lon = sum(r[1] for r in rows) / len(rows)
            code = 4534 + (3 * round(lon / 3) - 75) // 3
            rows = conn.execute(text(
                "SELECT id, ST_X(p), ST_Y(p) FROM (SELECT id, ST_Transform(geom, :code) AS p"
                " FROM onemap.key_place WHERE id = ANY(:ids)) t"), {"ids": ids, "code": code}
                ).all()
    shift = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}.get(crs)
    found = {}
    for pid, x, y in rows:
        found[pid] = tuple(map(float, shift(x, y))) if shift else (x, y)
    return found


@pytest.mark.parametrize("crs", CRSS)
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_and_coordinate_system_reads_back(exporter, owner, tmp_path, fmt, crs):
    request = ExportRequest("places", fmt, crs)
    if fmt == "kml" and crs != "wgs84":
        with pytest.raises(FormatRefused, match="WGS84"):
            exporter.export("analyst", request, tmp_path)
        assert not list(tmp_path.iterdir())  # nothing half-written left behind
        return
    result = exporter.export("analyst", request, tmp_path)
    assert result.path.parent == tmp_path and result.path.suffix == "." + FORMATS[fmt].extension
    if crs in ("gcj02", "bd09"):
        assert {"gcj02": "GCJ-02", "bd09": "BD-09"}[crs] in result.path.name
    table, xs, ys = read_back(result.path, fmt)

    with owner.connect() as conn:
        scoped = conn.execute(text("SELECT count(*) FROM onemap.key_place")).scalar_one()
        name_of = dict(conn.execute(text("SELECT id, name FROM onemap.key_place")).all())
    assert len(table) == result.rows == scoped  # the analyst's scope is the whole district

    ascii_names = fmt == "shp"
    id_column = "id" if ascii_names else "系统编号"
    # KML gives the name to each placemark's <name>
    name_column = "Name" if fmt == "kml" else "name" if ascii_names else "名称"
    contact_column = "contact_na" if ascii_names else "联系人"
    ids = [int(float(v)) for v in table[id_column]]
    assert [str(v) for v in table[name_column]] == [name_of[i] for i in ids]  # Chinese intact
    contacts = [str(v) for v in table[contact_column] if v not in (None, "None", "nan")]
    assert contacts and all("*" in c for c in contacts)  # masked as the person API masks

    expected = expected_points(owner, crs, ids)
    for pid, x, y in zip(ids, xs, ys):
        ex, ey = expected[pid]
        if crs == "gk":
            off = math.hypot(x - ex, y - ey)
        else:
            off = math.hypot((x - ex) * math.cos(math.radians(ey)), y - ey) / METRE_DEG
        assert off < 1.0, (fmt, crs, pid, off)


def test_shapefile_has_short_ascii_names_utf8_and_a_field_sidecar(exporter, tmp_path):
    result = exporter.export("analyst", ExportRequest("events", "shp", "wgs84"), tmp_path)
    with zipfile.ZipFile(result.path) as archive:
        names = archive.namelist()
        assert archive.read("events.cpg").decode().strip().upper() in ("UTF-8", "UTF8")
        sidecar = archive.read("events_fields.csv").decode("utf-8-sig")
    assert {"events.shp", "events.dbf", "events.prj", "events.shx"} <= set(names)
    fields = pyogrio.read_info(result.path)["fields"]
    assert all(len(name.encode()) <= 10 and name.isascii() for name in fields)
    assert len(set(fields)) == len(fields)
    assert "reporter_p,reporter_phone,上报人电话,reporter phone" in sidecar


def test_times_are_china_time_with_the_offset(exporter, owner, tmp_path):
    gpkg = exporter.export("analyst", ExportRequest("events", "gpkg", "wgs84"), tmp_path)
    csv = exporter.export("analyst", ExportRequest("events", "csv", "wgs84"), tmp_path)
    frame = pyogrio.read_dataframe(gpkg.path, columns=["系统编号", "上报时间"])
    table = pd.read_csv(csv.path, encoding="utf-8-sig", usecols=["系统编号", "上报时间"])
    with owner.connect() as conn:
        first = conn.execute(text(
            "SELECT id, reported_at FROM onemap.event ORDER BY id LIMIT 1")).one()
    at = frame.set_index("系统编号").loc[first.id, "上报时间"]
    assert at == pd.Timestamp(first.reported_at) and at.utcoffset().total_seconds() == 8 * 3600
    text_time = table.set_index("系统编号").loc[first.id, "上报时间"]
    assert text_time.endswith("+08:00")
    assert pd.Timestamp(text_time) == pd.Timestamp(first.reported_at)


def test_xlsx_continues_on_further_sheets_past_the_row_limit(exporter, owner, tmp_path,
                                                             monkeypatch):
    from exports import formats

    monkeypatch.setattr(formats, "XLSX_ROWS_PER_SHEET", 50)  # Excel's limit, scaled down
    result = exporter.export("analyst", ExportRequest("places", "xlsx", "wgs84"), tmp_path)
    book = openpyxl.load_workbook(result.path, read_only=True)
    data = [sheet for sheet in book.worksheets if sheet.title.startswith("places")]
    counts = [sheet.max_row - 1 for sheet in data]
    assert len(data) == -(-result.rows // 50) >= 2
    assert all(n == 50 for n in counts[:-1]) and sum(counts) == result.rows
    assert "字段说明 fields" in book.sheetnames


def test_a_polygon_layer_in_metres_keeps_its_areas(exporter, owner, tmp_path):
    result = exporter.export("analyst", ExportRequest("buildings", "gpkg", "gk"), tmp_path)
    frame = pyogrio.read_dataframe(result.path, columns=["楼栋ID"])
    code = frame.crs.to_epsg()
    assert 4534 <= code <= 4554
    sample = frame.iloc[:: max(1, len(frame) // 50)]
    with owner.connect() as conn:
        areas = dict(conn.execute(text(
            "SELECT id, ST_Area(ST_Transform(geom, :code)) FROM onemap.building"
            " WHERE id = ANY(:ids)"), {"code": code, "ids": [int(i) for i in sample["楼栋ID"]]}
            ).all())
    for building_id, geometry in zip(sample["楼栋ID"], sample.geometry):
        assert geometry.area == pytest.approx(areas[int(building_id)], rel=1e-6)

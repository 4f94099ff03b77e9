"""Sensors: BD-09 CSV (Baidu coordinates) through the CLI, wearers, thresholds, buildings."""

from __future__ import annotations

from sqlalchemy import text

from onemap.domain.coordinates import wgs84_to_bd09
from etl.importers import import_file
from tests.fixtures.hierarchy import insert_building
from tests.importers.conftest import GRID, inside, person_id, run_cli, write_csv


def _sensor(code: str, lon: float, lat: float, **overrides) -> dict:
    row = {"设备编码": code, "类型": "燃气", "名称": "燃气探测器", "上限": "20", "状态": "正常",
           "楼栋编码": "B-1", "经度": lon, "纬度": lat}
    row.update(overrides)
    return row


def test_bd09_csv_through_the_cli(tmp_path, cli_env, engine, committed):
    true = inside(GRID, 0.0051, 0.0051)  # inside B-1's footprint corner area
    lon, lat = map(float, wgs84_to_bd09(*true))
    path = write_csv(tmp_path / "baidu_sensors.csv", [_sensor("GAS-1", lon, lat)], encoding="gbk")
    result = run_cli(cli_env, "sensors", path, "--crs", "bd09")
    assert result.returncode == 0, result.stderr
    with engine.connect() as conn:
        metres, unit, grid, building = conn.execute(text(
            "SELECT ST_Distance(s.geom::geography, ST_MakePoint(:x, :y)::geography),"
            " s.unit_of_measure, s.grid_code, b.code"
            " FROM sensor s JOIN building b ON b.id = s.building_id"), {"x": true[0], "y": true[1]}
        ).one()
    assert metres < 1.0
    assert (unit, grid, building) == ("%LEL", GRID, "B-1")


def test_wearers_and_thresholds(conn, tmp_path, hierarchy):
    insert_building(conn, GRID, "B-1")
    wearer = person_id(1)
    conn.execute(text(
        "INSERT INTO person (id_number, name, gender, birth_date, population_type)"
        " VALUES (:id, '老王', 'M', '1980-05-17', 'registered')"), {"id": wearer})
    rows = [
        _sensor("W-1", *inside(), 类型="老人手环", 佩戴人身份证号=wearer, 上限="120", 下限="40"),
        _sensor("W-2", *inside(), 类型="老人手环", 佩戴人身份证号=person_id(2)),
        _sensor("G-1", *inside(), 佩戴人身份证号=wearer),
        _sensor("G-2", *inside(), 下限="30"),
        _sensor("G-3", *inside(), 楼栋编码="B-404"),
    ]
    result = import_file(conn, "sensors", write_csv(tmp_path / "s.csv", rows), crs="wgs84")
    masked = wearer[:6] + "********" + wearer[-4:]
    assert [(e.row, e.field, e.value, e.reason) for e in result.errors] == [
        (3, "佩戴人身份证号", person_id(2)[:6] + "********" + person_id(2)[-4:],
         "unknown person (import persons first)"),
        (4, "佩戴人身份证号", masked, "only 老人手环 and 一键通 are worn by a person"),
        (5, "上限", "20", "must be above 下限 (low_threshold)"),
        (6, "楼栋编码", "B-404", "unknown building (import buildings first)"),
    ]
    import_file(conn, "sensors", write_csv(tmp_path / "s.csv", rows), crs="wgs84",
                skip_invalid=True)
    assert conn.execute(text(
        "SELECT s.code, s.unit_of_measure, p.name FROM sensor s JOIN person p ON p.id = s.person_id"
    )).all() == [("W-1", "bpm", "老王")]

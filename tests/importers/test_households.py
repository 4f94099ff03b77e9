"""Households: units and floors created as needed, floors from room numbers, unknown buildings."""

from __future__ import annotations

from sqlalchemy import text

from etl.importers import import_file
from etl.importers.report import read_report
from tests.fixtures.hierarchy import insert_building
from tests.importers.conftest import GRID, count, run_cli, write_csv


def _room(unit: str, room: str, **overrides) -> dict:
    row = {"楼栋编码": "B-1", "单元": unit, "房号": room, "房屋状态": "自住"}
    row.update(overrides)
    return row


def test_gbk_csv_through_the_cli_creates_units_and_floors(tmp_path, cli_env, engine, committed):
    rows = [_room("1", "101"), _room("1", "502", 房屋状态="出租", 面积="89.5"),
            _room("2单元", "601室", 房屋状态="vacant"), _room("2", "B101", 楼层="-1")]
    with engine.begin() as conn:
        conn.execute(text("UPDATE building SET floors_below = 1 WHERE code = 'B-1'"))
    path = write_csv(tmp_path / "房屋.csv", rows, encoding="gbk")
    result = run_cli(cli_env, "households", path)
    assert result.returncode == 0, result.stderr
    assert "4 inserted, 0 updated, 0 unchanged" in result.stdout
    assert "units created 2, floors created 4" in result.stdout
    with engine.connect() as conn:
        got = conn.execute(text(
            "SELECT u.number, f.number, h.room_number, h.occupancy, h.area_m2"
            " FROM household h JOIN unit u ON u.id = h.unit_id JOIN floor f ON f.id = h.floor_id"
            " ORDER BY u.number, f.number")).all()
    assert [tuple(r[:4]) for r in got] == [
        (1, 1, "101", "self_occupied"), (1, 5, "502", "rented"),
        (2, -1, "B101", "self_occupied"), (2, 6, "601", "vacant")]
    again = run_cli(cli_env, "households", path)
    assert "0 inserted, 0 updated, 4 unchanged" in again.stdout
    assert "units created 0, floors created 0" in again.stdout


def test_floor_comes_from_the_room_number(conn, tmp_path, hierarchy):
    insert_building(conn, GRID, "B-1")
    conn.execute(text("UPDATE building SET floors_above = 20 WHERE code = 'B-1'"))
    rows = [_room("1", "501"), _room("1", "1203"), _room("1", "0305")]
    result = import_file(conn, "households", write_csv(tmp_path / "h.csv", rows))
    assert result.errors == []
    floors = conn.execute(text(
        "SELECT h.room_number, f.number FROM household h JOIN floor f ON f.id = h.floor_id"
        " ORDER BY h.room_number")).all()
    assert floors == [("0305", 3), ("1203", 12), ("501", 5)]


def test_unknown_building_and_misfits_commit_nothing(tmp_path, cli_env, engine, committed):
    rows = [_room("1", "101"), _room("1", "101", 楼栋编码="B-404"), _room("3", "301"),
            _room("1", "901"), _room("1", "A座"), _room("1", "101")]
    path = write_csv(tmp_path / "households.csv", rows)
    result = run_cli(cli_env, "households", path)
    assert result.returncode == 1
    assert "row 3, field 楼栋编码: unknown building (import buildings first) (B-404)" \
        in result.stderr
    report = read_report(tmp_path / "households.errors.csv")
    assert [(r["row"], r["field"], r["reason"]) for r in report] == [
        ("3", "楼栋编码", "unknown building (import buildings first)"),
        ("4", "单元", "building B-1 has 2 unit(s)"),
        ("5", "房号", "floor 9 is above the building's 6 floor(s)"),
        ("6", "房号", "cannot tell the floor from this room number: fill in 楼层"),
        ("7", "房号", "duplicate room (same 楼栋编码, 单元 and 房号) (first on row 2)"),
    ]
    with engine.connect() as conn:
        assert count(conn, "household") == 0 and count(conn, "unit") == 0

"""Staff: a CSV without coordinates needs no --crs; grids and departments must exist."""

from __future__ import annotations

from sqlalchemy import text

from etl.importers import import_file
from tests.importers.conftest import GRID, inside, run_cli, write_csv


def test_csv_through_the_cli_without_coordinates(tmp_path, cli_env, engine, committed):
    rows = [{"工号": "GW-1", "姓名": "赵六", "联系电话": "13900001111", "岗位类型": "专职网格员",
             "网格编码": GRID, "是否在岗": "是", "状态": "空闲"},
            {"工号": "V-1", "姓名": "钱七", "岗位类型": "volunteer"}]
    path = write_csv(tmp_path / "staff.csv", rows, encoding="gbk")
    result = run_cli(cli_env, "staff", path)
    assert result.returncode == 0, result.stderr
    with engine.connect() as conn:
        assert conn.execute(text(
            "SELECT code, tier, grid_code, on_duty, status, last_position IS NULL"
            " FROM staff ORDER BY code")).all() == [
            ("GW-1", "grid_worker", GRID, True, "available", True),
            ("V-1", "volunteer", None, False, "off_duty", True)]
    again = run_cli(cli_env, "staff", path)
    assert "0 inserted, 0 updated, 2 unchanged" in again.stdout


def test_unknown_grid_and_department_and_positions(conn, tmp_path, hierarchy):
    conn.execute(text("INSERT INTO department (code, name_zh) VALUES ('CG', '城管局')"
                      " ON CONFLICT (code) DO NOTHING"))  # reference data has it (0006)
    lon, lat = inside()
    rows = [{"工号": "GW-1", "姓名": "赵六", "岗位类型": "监督员", "部门编码": "CG",
             "经度": lon, "纬度": lat},
            {"工号": "GW-2", "姓名": "孙八", "岗位类型": "监督员", "网格编码": "210103999999999"},
            {"工号": "GW-3", "姓名": "周九", "岗位类型": "监督员", "部门编码": "XX"}]
    result = import_file(conn, "staff", write_csv(tmp_path / "s.csv", rows), crs="wgs84",
                         skip_invalid=True)
    assert [(e.row, e.field, e.reason) for e in result.errors] == [
        (3, "网格编码", "unknown grid"), (4, "部门编码", "unknown department")]
    x, y = conn.execute(text(
        "SELECT ST_X(last_position), ST_Y(last_position) FROM staff WHERE code = 'GW-1'")).one()
    assert (round(x, 6), round(y, 6)) == (round(lon, 6), round(lat, 6))

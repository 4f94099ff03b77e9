"""Enterprises: credit codes checked (GB 32100), GBK CSV through the CLI, re-import."""

from __future__ import annotations

from sqlalchemy import text

from etl.importers import import_file
from tests.importers.conftest import GRID, credit_code, inside, run_cli, write_csv


def _enterprise(code: str, **overrides) -> dict:
    lon, lat = inside()
    row = {"统一社会信用代码": code, "企业名称": "沈阳某某科技有限公司", "法定代表人": "王五",
           "从业人数": "25人", "经营状态": "存续", "经度": lon, "纬度": lat}
    row.update(overrides)
    return row


def test_gbk_csv_through_the_cli(tmp_path, cli_env, engine, committed):
    rows = [_enterprise(credit_code(1)), _enterprise(credit_code(2).lower(), 经营状态="注销")]
    path = write_csv(tmp_path / "法人.csv", rows, encoding="gbk")
    result = run_cli(cli_env, "enterprises", path, "--crs", "cgcs2000")
    assert result.returncode == 0, result.stderr
    assert "2 inserted" in result.stdout
    with engine.connect() as conn:
        stored = conn.execute(text(
            "SELECT credit_code, employees, status, grid_code FROM enterprise ORDER BY 1")).all()
    assert stored == [(credit_code(1), 25, "active", GRID),
                      (credit_code(2), 25, "deregistered", GRID)]
    again = run_cli(cli_env, "enterprises", path, "--crs", "cgcs2000")
    assert "0 inserted, 0 updated, 2 unchanged" in again.stdout


def test_bad_credit_code_and_duplicates(conn, tmp_path, hierarchy):
    good = credit_code(3)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    rows = [_enterprise(good), _enterprise(bad), _enterprise(good), _enterprise("12345")]
    result = import_file(conn, "enterprises", write_csv(tmp_path / "e.csv", rows), crs="wgs84")
    assert [(e.row, e.field, e.reason) for e in result.errors] == [
        (3, "统一社会信用代码", "bad checksum"),
        (4, "统一社会信用代码", "duplicate 统一社会信用代码 (first on row 2)"),
        (5, "统一社会信用代码", "wrong length: expected 18 characters, got 5"),
    ]
    assert not result.written

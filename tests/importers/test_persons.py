"""Persons: GBK CSV with Chinese headers, ID checks, household links, all-or-nothing, re-import."""

from __future__ import annotations

from datetime import date

import pandas as pd

from sqlalchemy import text

from etl.importers import import_file
from etl.importers.report import read_report
from tests.importers.conftest import bad_checksum, count, person_id, run_cli, write_csv


def _person(n: int, **overrides) -> dict:
    row = {"姓名": f"张{n}", "公民身份号码": person_id(n), "联系电话": f"1380000{n:04d}",
           "人口类型": "户籍人口", "楼栋编码": "B-1", "单元": "1", "房号": "501",
           "与户主关系": "户主" if n == 1 else "子女", "居住类型": "户籍"}
    row.update(overrides)
    return row


def test_gbk_csv_with_chinese_headers_through_the_cli(tmp_path, cli_env, engine, with_household):
    rows = [_person(1), _person(2, 性别="男", 出生日期="1980-05-17"),
            _person(3, 房号="302", 单元="2单元", 居住类型="居住", 与户主关系="租户",
                    人口类型="流动")]
    path = write_csv(tmp_path / "人口.csv", rows, encoding="gbk")
    result = run_cli(cli_env, "persons", path)
    assert result.returncode == 0, result.stderr
    assert "3 inserted, 0 updated, 0 unchanged" in result.stdout
    with engine.connect() as conn:
        stored = conn.execute(text(
            "SELECT p.name, p.gender, p.birth_date, p.population_type, ph.kind, ph.relation,"
            " h.room_number FROM person p JOIN person_household ph ON ph.person_id = p.id"
            " JOIN household h ON h.id = ph.household_id ORDER BY p.name")).all()
    assert stored == [
        ("张1", "M", date(1980, 5, 17), "registered", "registered", "householder", "501"),
        ("张2", "M", date(1980, 5, 17), "registered", "registered", "child", "501"),
        ("张3", "M", date(1980, 5, 17), "floating", "residence", "tenant", "302"),
    ]
    again = run_cli(cli_env, "persons", path)
    assert again.returncode == 0, again.stderr
    assert "0 inserted, 0 updated, 3 unchanged" in again.stdout
    assert "links inserted 0, links updated 0, links unchanged 3" in again.stdout


def test_a_bad_row_commits_nothing_and_the_report_names_it(tmp_path, cli_env, engine,
                                                           with_household):
    bad_id = bad_checksum(person_id(2))
    rows = [_person(1), _person(2, 公民身份号码=bad_id), _person(3, 楼栋编码="B-404"),
            _person(4, 出生日期="1981-01-01"), _person(5, 联系电话="call me", 楼栋编码="B-9")]
    path = write_csv(tmp_path / "persons.csv", rows, encoding="gbk")
    result = run_cli(cli_env, "persons", path)
    assert result.returncode == 1
    assert "nothing imported" in result.stderr
    assert "row 3, field 公民身份号码: bad checksum (210103********" in result.stderr
    with engine.connect() as conn:
        assert count(conn, "person") == 0
    report = read_report(tmp_path / "persons.errors.csv")
    assert [(r["row"], r["field"], r["reason"]) for r in report] == [
        ("3", "公民身份号码", "bad checksum"),
        ("4", "楼栋编码", "unknown building (import buildings first)"),
        ("5", "出生日期", "does not match the birth date in the ID (digits 7-14)"),
        ("6", "联系电话", "not a phone number (5-20 digits, spaces, + or -)"),
        ("6", "楼栋编码", "unknown building (import buildings first)"),
    ]
    # personal values are masked in the report: ID 6 + 8 stars + 4, phones 3 + 4 stars + 4
    assert report[0]["value"] == bad_id[:6] + "********" + bad_id[-4:]
    assert bad_id not in (tmp_path / "persons.errors.csv").read_text(encoding="utf-8-sig")

    skipped = run_cli(cli_env, "persons", path, "--skip-invalid", "--report",
                      tmp_path / "skipped.csv")
    assert skipped.returncode == 0, skipped.stderr
    assert "1 inserted" in skipped.stdout
    assert len(read_report(tmp_path / "skipped.csv")) == 5
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM person")).scalars().all() == ["张1"]


def test_bad_id_checksum_is_a_row_error(conn, tmp_path, households):
    rows = [_person(1, 公民身份号码=bad_checksum(person_id(1))),
            _person(2, 公民身份号码="2.10103E+17"),
            _person(9, 公民身份号码=person_id(9).lower() + " ")]  # 21010319800517019x: normalised
    result = import_file(conn, "persons", write_csv(tmp_path / "p.csv", rows))
    assert [(e.row, e.field, e.reason) for e in result.errors] == [
        (2, "公民身份号码", "bad checksum"),
        (3, "公民身份号码", "Excel turned the ID into a number: format the column as text (文本) "
                        "and enter the IDs again"),
    ]
    assert not result.written


def test_birth_date_and_sex_come_from_the_id_and_must_match_it(conn, tmp_path, households):
    woman = person_id(7, sex="F", born=date(1990, 2, 28))
    rows = [
        {"姓名": "李四", "公民身份号码": woman, "人口类型": "registered"},
        {"姓名": "王五", "公民身份号码": person_id(8), "性别": "女", "人口类型": "registered"},
        {"姓名": "赵六", "公民身份号码": person_id(9), "出生日期": "1980年5月17日",
         "人口类型": "流动人口"},
    ]
    result = import_file(conn, "persons", write_csv(tmp_path / "p.csv", rows),
                         skip_invalid=True)
    assert [(e.row, e.field) for e in result.errors] == [(3, "性别")]
    assert "does not match the ID" in result.errors[0].reason
    got = conn.execute(text(
        "SELECT name, gender, birth_date FROM person ORDER BY name")).all()
    assert got == [("李四", "F", date(1990, 2, 28)), ("赵六", "M", date(1980, 5, 17))]


def test_living_apart_from_registration_takes_two_rows(conn, tmp_path, households):
    rows = [_person(1), _person(1, 单元="2", 房号="302", 居住类型="居住", 与户主关系="租户")]
    result = import_file(conn, "persons", write_csv(tmp_path / "p.csv", rows))
    assert result.errors == []
    assert (result.counts.inserted, result.counts.extra["links inserted"]) == (1, 2)
    kinds = conn.execute(text("SELECT kind FROM person_household ORDER BY kind")).scalars().all()
    assert kinds == ["registered", "residence"]


def test_duplicates_and_disagreeing_rows_are_refused(conn, tmp_path, households):
    rows = [_person(1), _person(1), _person(2), _person(2, 姓名="别人", 居住类型="居住")]
    result = import_file(conn, "persons", write_csv(tmp_path / "p.csv", rows))
    assert [(e.row, e.field, e.reason) for e in result.errors] == [
        (3, "公民身份号码", "duplicate person and 居住类型 (first on row 2)"),
        (5, "姓名", "differs from row 4 about the same person"),
    ]
    assert count(conn, "person") == 0


def test_unknown_unit_and_room_are_named(conn, tmp_path, households):
    rows = [_person(1, 单元="9"), _person(2, 房号="999")]
    result = import_file(conn, "persons", write_csv(tmp_path / "p.csv", rows))
    assert [(e.row, e.field, e.reason) for e in result.errors] == [
        (2, "单元", "building B-1 has no unit 9 (import households first)"),
        (3, "房号", "unknown room: building B-1 unit 1 has no room 999 (import households "
                  "first)"),
    ]


def test_foreigners_are_keyed_by_passport_and_updates_only_touch_given_columns(
        conn, tmp_path, households):
    rows = [{"姓名": "John Smith", "护照号码": "E12345678", "性别": "M", "出生日期": "1975-03-02",
             "人口类型": "境外人员", "联系电话": "13912345678"}]
    first = import_file(conn, "persons", write_csv(tmp_path / "a.csv", rows))
    assert (first.errors, first.counts.inserted) == ([], 1)
    # a later file without phones renames him and leaves his phone alone
    rows[0].pop("联系电话")
    rows[0]["姓名"] = "John A. Smith"
    second = import_file(conn, "persons", write_csv(tmp_path / "b.csv", rows))
    assert (second.counts.inserted, second.counts.updated) == (0, 1)
    assert conn.execute(text("SELECT name, phone FROM person")).one() == (
        "John A. Smith", "13912345678")


def test_a_file_without_any_identity_column_is_refused(conn, tmp_path):
    import pytest

    from etl.importers import ImportRefused

    path = write_csv(tmp_path / "p.csv", [{"姓名": "张三", "人口类型": "户籍"}])
    with pytest.raises(ImportRefused, match="公民身份号码"):
        import_file(conn, "persons", path)


def test_an_xlsx_sheet_through_the_cli(tmp_path, cli_env, engine, with_household):
    path = tmp_path / "人口.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"填表说明": ["身份证号请以文本格式填写"]}).to_excel(
            writer, sheet_name="说明", index=False)
        pd.DataFrame([_person(1), _person(2)]).to_excel(writer, sheet_name="人口", index=False)
    result = run_cli(cli_env, "persons", path, "--sheet", "人口")
    assert result.returncode == 0, result.stderr
    assert "2 inserted, 0 updated, 0 unchanged" in result.stdout
    with engine.connect() as conn:
        assert count(conn, "person") == 2
        assert count(conn, "person_household") == 2

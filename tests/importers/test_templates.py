"""Templates: the blank CSV (BOM, Chinese then English headers), header matching, and the docs
listing every column."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.importers import import_file
from etl.importers.templates import (
    KINDS,
    TEMPLATES,
    header_key,
    markdown_table,
    match_headers,
    template_csv,
)
from tests.importers.conftest import person_id, run_cli

DOCS = Path(__file__).resolve().parents[2] / "docs" / "importing.md"


@pytest.mark.parametrize("kind", KINDS)
def test_headers_within_a_template_never_clash(kind):
    seen: dict[str, str] = {}
    for col in TEMPLATES[kind].columns:
        for header in {header_key(h) for h in (col.name, col.zh, *col.aliases)}:
            assert seen.setdefault(header, col.name) == col.name, (kind, header)


def test_cli_writes_a_blank_template_excel_opens(tmp_path, cli_env):
    result = run_cli(cli_env, "--template", "persons", "--output", tmp_path / "t.csv")
    assert result.returncode == 0, result.stderr
    raw = (tmp_path / "t.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    chinese, english = raw.decode("utf-8-sig").splitlines()
    assert chinese.startswith("姓名,公民身份号码,护照号码,性别,出生日期,联系电话")
    assert english.startswith("name,id_number,passport_number,gender,birth_date,phone")
    unknown = run_cli(cli_env, "--template", "aliens")
    assert unknown.returncode == 2 and "kinds: boundaries" in unknown.stderr


def test_a_filled_template_imports_with_its_english_row_skipped(conn, tmp_path):
    path = tmp_path / "persons.csv"
    path.write_text(template_csv("persons") + f"张三,{person_id(1)},,,,,户籍人口\r\n",
                    encoding="utf-8-sig")
    result = import_file(conn, "persons", path)
    assert result.errors == [] and result.counts.inserted == 1
    bad = tmp_path / "bad.csv"
    bad.write_text(template_csv("persons") + ",,,,,,户籍人口\r\n", encoding="utf-8-sig")
    errors = import_file(conn, "persons", bad).errors
    assert {e.row for e in errors} == {3}  # row 1 Chinese, row 2 English headers


def test_headers_match_chinese_english_aliases_and_full_width():
    match = match_headers(["姓 名", "ＩＤ_number", "身份证号码", "手机号", "备注"],
                          TEMPLATES["persons"])
    assert match.columns == {"姓 名": "name", "手机号": "phone", "ＩＤ_number": "id_number"}
    assert match.clashes == [("身份证号码", "ＩＤ_number", "id_number")]
    assert match.unknown == ["备注"]


def test_missing_required_columns_refuse_the_file(conn, tmp_path):
    from etl.importers import ImportRefused

    path = tmp_path / "h.csv"
    path.write_text("楼栋编码,房号\nB-1,501\n", encoding="utf-8")
    with pytest.raises(ImportRefused, match=r"lacks required column\(s\): 单元 \(unit\), "
                                            r"房屋状态 \(occupancy\)"):
        import_file(conn, "households", path)


@pytest.mark.parametrize("kind", KINDS)
def test_the_docs_hold_each_template_as_declared(kind):
    """docs/importing.md holds markdown_table(kind) verbatim: regenerate it on column changes."""
    assert markdown_table(kind) in DOCS.read_text(encoding="utf-8")

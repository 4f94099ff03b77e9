"""Departments and event categories are in every database the migrations build, demo or not,
and geodata/reference/ is their only source: a district built with `onemap import` takes reports
in every category at once."""

from __future__ import annotations

import csv
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from etl.demo import events as demo_events
from geodata.db import make_engine
from geodata.migrate import upgrade
from geodata.queries.events import UnknownCategory, register
from onemap.domain.intake import parse_report
from tests.fixtures.hierarchy import insert_hierarchy

REFERENCE = Path(__file__).resolve().parents[2] / "geodata" / "reference"
DEMO_SOURCES = sorted((REFERENCE.parents[1] / "etl" / "demo").glob("*.py"))
DEPARTMENT_COLUMNS = ("code", "name_zh", "name_en", "phone")
CATEGORY_COLUMNS = ("code", "parent_code", "kind", "name_zh", "name_en", "default_level")


def shipped(file_name: str, columns: tuple[str, ...]) -> set[tuple]:
    with open(REFERENCE / file_name, encoding="utf-8", newline="") as f:
        return {tuple(row[c] or None for c in columns) for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def fresh_engine(pg_cluster):
    """A database of its own, migrated to head and nothing else: no demo, no other test's rows."""
    admin = pg_cluster.libpq_url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("drop database if exists reference_fresh")
        conn.execute("create database reference_fresh")
    url = pg_cluster.sqlalchemy_url().replace(f"/{pg_cluster.db_name}?", "/reference_fresh?")
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("drop database reference_fresh with (force)")


def loaded(engine, table: str, columns: tuple[str, ...]) -> set[tuple]:
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {', '.join(columns)} FROM {table}")).all()
    return {tuple(None if v is None else str(v) for v in row) for row in rows}


def test_a_fresh_database_holds_exactly_the_shipped_departments(fresh_engine):
    assert loaded(fresh_engine, "department", DEPARTMENT_COLUMNS) == shipped(
        "departments.csv", DEPARTMENT_COLUMNS)


def test_a_fresh_database_holds_exactly_the_shipped_categories(fresh_engine):
    categories = shipped("event_categories.csv", CATEGORY_COLUMNS)
    assert any(parent for _, parent, *_ in categories)  # the tree, not only its roots
    assert loaded(fresh_engine, "event_category", CATEGORY_COLUMNS) == categories


def test_a_district_with_only_its_boundaries_takes_a_report_in_every_category(fresh_engine):
    codes = sorted(code for code, *_ in shipped("event_categories.csv", CATEGORY_COLUMNS))
    with fresh_engine.connect() as conn, conn.begin() as transaction:
        insert_hierarchy(conn)
        for n, code in enumerate(codes):
            report = parse_report({"title": f"上报 {code}", "category_code": code,
                                   "lon": 123.405, "lat": 41.805, "external_ref": f"ref-{n}"},
                                  default_channel="hotline_12345")
            assert register(conn, report, None)[0]["grid_code"]
        with pytest.raises(UnknownCategory):
            register(conn, parse_report({"title": "x", "category_code": "NOPE", "lon": 123.405,
                                         "lat": 41.805}, default_channel="hotline_12345"), None)
        transaction.rollback()


def quoted(body: str, value: str) -> bool:
    return f'"{value}"' in body or f"'{value}'" in body


def test_the_demo_carries_no_copy_of_the_reference_data():
    """The demo names categories only by code (which sensor kind raises which), and every code
    it names is a shipped one; names, levels and limits it reads from geodata/reference. A copy
    shows as a code next to its own name, or as a list of names (one shared word, such as an
    enterprise called 养老服务, is not a copy)."""
    rows = [row[:4:3] for row in shipped("event_categories.csv", CATEGORY_COLUMNS)]
    rows += [row[:2] for row in shipped("departments.csv", DEPARTMENT_COLUMNS)]
    assert set(demo_events.SENSOR_CATEGORY.values()) <= {code for code, _ in rows}
    for source in DEMO_SOURCES:
        body = source.read_text(encoding="utf-8")
        pairs = [(code, name) for code, name in rows if quoted(body, code) and quoted(body, name)]
        names = [name for _, name in rows if quoted(body, name)]
        assert not pairs and len(names) < 3, f"{source.name} repeats reference rows: {names}"

"""The migrations build exactly what the models declare, and come down again cleanly."""

from __future__ import annotations

import csv
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, inspect, text

from geodata.db import SCHEMA
from geodata.migrate import alembic_config, current_revision, head_revision, reset, upgrade
from geodata.models import Base

REFERENCE = Path(__file__).resolve().parents[2] / "geodata" / "reference"


def _include(obj, name, type_, reflected, compare_to):
    if type_ == "table" and (obj.schema != SCHEMA or name == "alembic_version"):
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


@pytest.fixture
def scratch_url(pg_cluster):
    """An empty database of its own (with PostGIS not yet installed) for destructive tests."""
    admin = pg_cluster.libpq_url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("drop database if exists scratch")
        conn.execute("create database scratch")
    yield pg_cluster.sqlalchemy_url().replace(f"/{pg_cluster.db_name}?", "/scratch?")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("drop database scratch with (force)")


def test_session_database_is_at_head(db_url):
    assert current_revision(db_url) == head_revision()


def test_schema_matches_the_models(db_url):
    # search_path without our schema ("$user" would be it), so reflected foreign keys name their
    # schema as the models do
    engine = create_engine(db_url, connect_args={"options": "-c search_path=public"})
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "include_schemas": True, "include_object": _include, "compare_type": True,
        })
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_every_model_table_has_a_gist_index_on_its_geometry(engine):
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        geometry_columns = [c.name for c in table.columns if c.type.__class__.__name__ == "Geometry"]
        if not geometry_columns:
            continue
        indexes = {ix["column_names"][0] for ix in inspector.get_indexes(table.name, SCHEMA)}
        assert set(geometry_columns) <= indexes, table.name
    with engine.connect() as conn:
        methods = conn.execute(text(
            "select distinct am.amname from pg_index i join pg_class c on c.oid = i.indexrelid"
            " join pg_am am on am.oid = c.relam join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'onemap' and c.relname like 'idx_%_geom'"
        )).scalars().all()
        srids = conn.execute(text(
            "select distinct srid from geometry_columns where f_table_schema = 'onemap'"
        )).scalars().all()
    assert methods == ["gist"]
    assert srids == [4326]


def test_upgrade_on_an_empty_database_then_down_and_up_again(scratch_url):
    upgrade(scratch_url)
    assert current_revision(scratch_url) == head_revision()
    command.downgrade(alembic_config(scratch_url), "base")
    engine = create_engine(scratch_url)
    with engine.connect() as conn:
        left = conn.execute(text(
            "select count(*) from information_schema.tables where table_schema = 'onemap'"
            " and table_name <> 'alembic_version'"
        )).scalar()
    engine.dispose()
    assert left == 0
    upgrade(scratch_url)
    assert current_revision(scratch_url) == head_revision()


def test_reset_drops_the_data_and_rebuilds_the_schema(scratch_url):
    upgrade(scratch_url)
    engine = create_engine(scratch_url)
    with engine.begin() as conn:
        conn.execute(text(
            "insert into onemap.department (code, name_zh) values ('ZZ', '测试局')"
        ))
    reset(scratch_url)
    with engine.connect() as conn:
        codes = set(conn.execute(text("select code from onemap.department")).scalars())
        assert "ZZ" not in codes and {"CG", "SW"} <= codes  # reference rows are back (0006)
        assert conn.execute(text("select count(*) from onemap.role")).scalar() == 5
    engine.dispose()
    assert current_revision(scratch_url) == head_revision()


def test_every_district_has_the_reference_departments_and_categories(db_url):
    """Not only demo districts: one built with `onemap import` takes reports at once."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        loaded = {table: set(conn.execute(text(f"select code from onemap.{table}")).scalars())
                  for table in ("department", "event_category")}
    engine.dispose()
    for table, file_name in (("department", "departments.csv"),
                             ("event_category", "event_categories.csv")):
        with open(REFERENCE / file_name, encoding="utf-8") as f:
            shipped = {row["code"] for row in csv.DictReader(f)}
        assert shipped and shipped <= loaded[table], table

"""Every command `onemap --help` lists works, against the session's embedded cluster."""

from __future__ import annotations

import re
import subprocess

import psycopg
import pytest

from geodata.migrate import head_revision
from tests.conftest import onemap_command

HEAD = head_revision()


def run(env, *args, check=True):
    result = subprocess.run([onemap_command(), *args], env=env, capture_output=True, text=True)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_help_lists_the_commands(cli_env):
    top = run(cli_env, "--help").stdout
    for command in ("db", "serve"):
        assert re.search(rf"│ {command}\b", top), top
    db = run(cli_env, "db", "--help").stdout
    for command in ("start", "stop", "status", "url", "migrate", "reset", "check"):
        assert re.search(rf"│ {command}\b", db), db
    serve = run(cli_env, "serve", "--help").stdout
    for option in ("--host", "--port", "--workers"):
        assert option in serve


def test_status_reports_the_running_cluster_and_schema(cli_env, db_url):
    out = run(cli_env, "db", "status").stdout
    assert "running: yes" in out
    assert "PostGIS: 3." in out
    assert f"schema: {HEAD} (code expects {HEAD})" in out


def test_url_is_what_psql_connects_to(cli_env, db_url):
    url = run(cli_env, "db", "url").stdout.strip()
    assert url.startswith("postgresql://")
    out = subprocess.run(["psql", url, "-tAc", "select postgis_version()"],
                         capture_output=True, text=True, check=True).stdout
    assert "USE_GEOS=1" in out
    assert run(cli_env, "db", "url", "--sqlalchemy").stdout.startswith("postgresql+psycopg://")


def test_start_and_migrate_are_idempotent(cli_env, db_url):
    assert "running:" in run(cli_env, "db", "start").stdout
    assert f"schema at revision {HEAD}" in run(cli_env, "db", "migrate").stdout
    assert f"schema at revision {HEAD}" in run(cli_env, "db", "migrate").stdout


def test_reset_asks_first(cli_env, db_url):
    refused = subprocess.run([onemap_command(), "db", "reset"], env=cli_env, input="n\n",
                             capture_output=True, text=True)
    assert refused.returncode != 0
    assert "Aborted" in refused.stdout + refused.stderr


@pytest.fixture
def external_env(pg_cluster, cli_env, tmp_path):
    """ONEMAP_DATABASE_URL at an empty database with PostGIS; the embedded folder stays unused."""
    admin = pg_cluster.libpq_url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("drop database if exists external_db")
        conn.execute("create database external_db")
    with psycopg.connect(pg_cluster.libpq_url("external_db"), autocommit=True) as conn:
        conn.execute("create extension postgis")
    env = dict(cli_env)
    env["ONEMAP_DATABASE_URL"] = pg_cluster.libpq_url("external_db")
    env["ONEMAP_PG_DIR"] = str(tmp_path / "must-not-exist")
    yield env
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("drop database external_db with (force)")
    assert not (tmp_path / "must-not-exist").exists()


def test_external_database_is_migrated_and_reset_without_starting_anything(external_env):
    assert "starts nothing" in run(external_env, "db", "start").stdout
    assert "no embedded server" in run(external_env, "db", "stop").stdout
    assert f"schema at revision {HEAD}" in run(external_env, "db", "migrate").stdout
    url = external_env["ONEMAP_DATABASE_URL"]
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "select count(*) from information_schema.tables where table_schema = 'onemap'"
        ).fetchone()[0]
        assert tables >= 29
        conn.execute("insert into onemap.department (code, name_zh) values ('ZZ', '测试局')")
    assert "external server" in run(external_env, "db", "status").stdout
    assert f"schema rebuilt at revision {HEAD}" in run(external_env, "db", "reset", "--yes").stdout
    with psycopg.connect(url) as conn:
        # what was added is gone; the reference departments are back (migration 0006)
        codes = {r[0] for r in conn.execute("select code from onemap.department")}
        assert "ZZ" not in codes and {"CG", "SW"} <= codes
        assert conn.execute("select count(*) from onemap.tag_kind").fetchone()[0] == 8


def test_a_non_postgres_url_is_refused_with_a_clear_message(cli_env):
    env = dict(cli_env, ONEMAP_DATABASE_URL="sqlite:///onemap.db")
    result = run(env, "db", "status", check=False)
    assert result.returncode != 0
    assert "ONEMAP_DATABASE_URL must be a PostgreSQL URL" in result.stderr


def test_the_worker_recounts_the_events_by_grid_when_the_count_is_stale(cli_env, db_url):
    """A pass recounts when the last recount is over ten minutes old, then the next does not."""
    with psycopg.connect(db_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("UPDATE onemap.event_count_mark SET refreshed_at = now() - interval '1 hour'")
    first = run(cli_env, "worker", "--once")
    assert "recounted" in first.stderr + first.stdout
    second = run(cli_env, "worker", "--once")
    assert "recounted" not in second.stderr + second.stdout
    with psycopg.connect(db_url.replace("+psycopg", "")) as conn:
        fresh = conn.execute("SELECT refreshed_at > now() - interval '10 minutes'"
                             " FROM onemap.event_count_mark").fetchone()[0]
    assert fresh


def test_the_worker_escalates_an_overdue_case_once(cli_env, db_url):
    """`onemap worker --once` is one pass of the escalation job against the embedded cluster;
    a second pass finds nothing left to do."""
    with psycopg.connect(db_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("INSERT INTO onemap.district (code, name, geom) VALUES ('990001', '测试区',"
                     " ST_Multi(ST_MakeEnvelope(100, 30, 100.1, 30.1, 4326)))")
        case = conn.execute(
            "INSERT INTO onemap.event (code, title, category_code, level, channel, state,"
            " reported_at, due_at, geom) VALUES ('AJ-WORKER', '井盖缺失', 'C0101', 4,"
            " 'inspector', 'registered', now() - interval '2 days', now() - interval '1 day',"
            " ST_SetSRID(ST_MakePoint(100.05, 30.05), 4326)) RETURNING id").fetchone()[0]
    try:
        first = run(cli_env, "worker", "--once")
        assert "escalated 1" in first.stderr + first.stdout
        second = run(cli_env, "worker", "--once")
        assert "escalated" not in second.stderr + second.stdout
        with psycopg.connect(db_url.replace("+psycopg", "")) as conn:
            tier, steps = conn.execute(
                "SELECT tier, (SELECT count(*) FROM onemap.event_history h WHERE h.event_id = e.id"
                " AND h.action = 'escalate') FROM onemap.event e WHERE id = %s",
                (case,)).fetchone()
        assert (tier, steps) == ("community", 1)
    finally:
        with psycopg.connect(db_url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("ALTER TABLE onemap.event_history DISABLE TRIGGER USER")
            conn.execute("ALTER TABLE onemap.audit_log DISABLE TRIGGER USER")
            conn.execute("DELETE FROM onemap.event_history WHERE event_id = %s", (case,))
            conn.execute("DELETE FROM onemap.audit_log WHERE object_id = %s", (str(case),))
            conn.execute("ALTER TABLE onemap.event_history ENABLE TRIGGER USER")
            conn.execute("ALTER TABLE onemap.audit_log ENABLE TRIGGER USER")
            conn.execute("DELETE FROM onemap.event WHERE id = %s", (case,))
            conn.execute("DELETE FROM onemap.district WHERE code = '990001'")

"""`onemap backup` and `onemap restore` on real clusters: a small generated district backed up
through ONEMAP_DATABASE_URL, restored into a fresh embedded cluster (no roles, no PostGIS, no
schema) with the same rows and working app roles; refusals and a failed restore change nothing.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy import text

from etl.demo.boundary import read_boundary
from etl.demo.pipeline import build_and_load
from etl.demo.scales import DEMO
from geodata import backup as backups
from geodata import users
from geodata.db import make_engine
from geodata.migrate import current_revision, head_revision, upgrade
from geodata.scope import APP_ROLE, AUTH_ROLE, Scope, role_login_url, scoped
from onemap.settings import Settings
from tests.conftest import new_cluster, onemap_command
from tests.fixtures.sessions import session_scope

HEAD = head_revision()
PREVIOUS = backups.revision_order()[-2]
TINY = replace(DEMO, name="tiny", streets=2, communities=4, grids=8, buildings=60, people=1500,
               cameras=20, sensors=30, key_places=8, enterprises=40, events=300)
NOW = datetime(2026, 11, 20, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
KEY_TABLES = ("person", "household", "building", "event", "event_history", "audit_log",
              "app_user", "staff", "sensor_reading")


def run(env, *args, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([onemap_command(), *args], env=env, capture_output=True, text=True,
                          input=stdin, timeout=300)


def fingerprints(url: str) -> dict[str, tuple[int, str]]:
    """(rows, md5 of the ordered rows) of every table in the schema; the restore's own audit
    row left out, as it is the one row a restore adds."""
    with psycopg.connect(url) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'onemap' AND c.relkind = 'r' ORDER BY 1")]
        prints = {}
        for table in tables:
            only = " WHERE r.action <> 'db_restore'" if table == "audit_log" else ""
            prints[table] = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), ''))"
                f" FROM onemap.{table} r{only}").fetchone()
        for sequence in ("person_id_seq", "event_history_id_seq", "audit_log_id_seq"):
            prints[sequence] = conn.execute(
                f"SELECT last_value, is_called::text FROM onemap.{sequence}").fetchone()
    return prints


def database(pg_cluster, name: str) -> str:
    """A new, empty database in the session's cluster; its libpq URL."""
    with psycopg.connect(pg_cluster.libpq_url("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return pg_cluster.libpq_url(name)


def drop(pg_cluster, name: str) -> None:
    with psycopg.connect(pg_cluster.libpq_url("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def sqlalchemy(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="module")
def source(pg_cluster, cli_env):
    """A database of its own holding a small generated district (people, households, events
    with their history, readings, staff, users and audit rows), reached as an external server."""
    url = database(pg_cluster, "backup_source")
    upgrade(sqlalchemy(url))
    engine = make_engine(sqlalchemy(url))
    try:
        build_and_load(engine, read_boundary().geometry, code="210103", name="沈河区",
                       scale=TINY, seed=5, now=NOW)
        with engine.begin() as conn:
            for n in range(3):
                users.audit(conn, action="user_add", username="cli:pytest", object_kind="user",
                            object_id=f"u{n}", details={"role": "analyst", "n": n})
    finally:
        engine.dispose()
    yield url, dict(cli_env, ONEMAP_DATABASE_URL=url)
    drop(pg_cluster, "backup_source")


@pytest.fixture(scope="module")
def made(source, tmp_path_factory):
    """`onemap backup` of the source: (file, its output, the source's rows before it)."""
    url, env = source
    before = fingerprints(url)
    path = tmp_path_factory.mktemp("backups") / "onemap.dump"
    done = run(env, "backup", str(path))
    assert done.returncode == 0, done.stderr
    return path, done.stdout, before


@pytest.fixture(scope="module")
def restored(made, cli_env):
    """A fresh embedded cluster, started by `onemap restore` itself: (cluster, environment,
    the restore's output, its rows just after)."""
    cluster = new_cluster("onemap-test-restore-", db_name="restored")
    env = dict(cli_env, ONEMAP_PG_DIR=str(cluster.root), ONEMAP_PG_PORT=str(cluster.port),
               ONEMAP_DB_NAME=cluster.db_name)
    done = run(env, "restore", str(made[0]))  # an empty database: nothing to confirm
    assert done.returncode == 0, done.stdout + done.stderr
    yield cluster, env, done.stdout, fingerprints(cluster.libpq_url())
    cluster.destroy()


@pytest.fixture(scope="module")
def older_file(pg_cluster, tmp_path_factory):
    """A backup made at the revision before the newest, by a database migrated only that far."""
    url = database(pg_cluster, "backup_older")
    upgrade(sqlalchemy(url), PREVIOUS)
    path = tmp_path_factory.mktemp("older") / "older.dump"
    backups.backup(sqlalchemy(url), path, bin_dir=Settings().pg_bin, actor="pytest")
    yield path
    drop(pg_cluster, "backup_older")


def test_the_backup_is_a_private_file_that_names_its_revision(made, source):
    path, output, before = made
    assert "rows in" in output and " s" in output and "schema revision " + HEAD in output
    assert path.stat().st_mode & 0o777 == 0o600  # it holds people's ID numbers and phones
    assert backups.read_archive(path, Settings().pg_bin).revision == HEAD
    assert not list(path.parent.glob(".*partial"))
    with psycopg.connect(source[0]) as conn:
        action, details = conn.execute(
            "SELECT username, details FROM onemap.audit_log WHERE action = 'db_backup'"
            " ORDER BY id LIMIT 1").fetchone()
    assert action.startswith("cli:")
    assert details["revision"] == HEAD and details["file"] == str(path)
    assert details["rows"] == sum(before[t][0] for t in before if not t.endswith("_seq"))


def test_a_backup_never_overwrites_a_file_unless_told(made, source, tmp_path):
    path, _output, _before = made
    refused = run(source[1], "backup", str(path))
    assert refused.returncode == 1
    assert f"{path} exists already" in refused.stderr
    copy = tmp_path / "copy.dump"
    copy.write_bytes(b"an older backup")
    backups.backup(sqlalchemy(source[0]), copy, bin_dir=Settings().pg_bin, actor="pytest",
                   replace=True)
    assert backups.read_archive(copy, Settings().pg_bin).revision == HEAD


def test_a_fresh_cluster_gets_the_same_rows(made, restored):
    _path, _output, before = made
    _cluster, _env, output, after = restored
    assert "rows in" in output and f"schema revision {HEAD}" in output
    for table in KEY_TABLES:
        assert before[table][0] > 0, table
    # the restore's audit row took the next audit id
    assert after.pop("audit_log_id_seq")[0] == before["audit_log_id_seq"][0] + 1
    assert after == {name: value for name, value in before.items() if name != "audit_log_id_seq"}
    with psycopg.connect(restored[0].libpq_url()) as conn:
        details = conn.execute("SELECT details FROM onemap.audit_log"
                               " WHERE action = 'db_restore'").fetchone()[0]
    assert details["revision"] == HEAD and details["previous_revision"] is None


def test_the_app_roles_work_in_the_restored_cluster(restored):
    cluster, _env, _output, _after = restored
    settings = Settings(pg_dir=cluster.root, pg_port=cluster.port, db_name=cluster.db_name,
                        pg_bin=cluster.bin_dir, database_url=None)
    owner = make_engine(cluster.sqlalchemy_url())
    app = make_engine(role_login_url(APP_ROLE, settings))  # the embedded login the app makes
    auth = make_engine(role_login_url(AUTH_ROLE, settings))
    try:
        with owner.connect() as conn:
            street, in_street = conn.execute(text(
                "SELECT c.street_code, count(*) FROM building b"
                " JOIN grid g ON g.code = b.grid_code JOIN community c ON c.code = g.community_code"
                " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1")).one()
        scope = session_scope(owner, street)
        with scoped(scope, app) as conn:
            assert conn.execute(text("SELECT current_user")).scalar() == APP_ROLE
            assert conn.execute(text("SELECT count(*) FROM building")).scalar() == in_street
            assert conn.execute(text("SELECT count(*) FROM person")).scalar() > 0
        with scoped(Scope(street), app) as conn:  # no session: nothing scoped
            assert conn.execute(text("SELECT count(*) FROM person")).scalar() == 0
        with auth.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM web_session")).scalar() >= 1
    finally:
        for engine in (owner, app, auth):
            engine.dispose()


def test_an_older_file_is_refused_over_a_newer_schema(older_file, restored):
    cluster, env, _output, _after = restored
    before = fingerprints(cluster.libpq_url())
    refused = run(env, "restore", str(older_file), "--yes")
    assert refused.returncode == 1
    assert f"at schema revision {HEAD}, newer than revision {PREVIOUS}" in refused.stderr
    assert "roll the schema back" in refused.stderr and "Nothing was changed" in refused.stderr
    assert fingerprints(cluster.libpq_url()) == before


def test_an_older_file_restores_into_an_empty_database_and_migrates(older_file, pg_cluster,
                                                                    cli_env):
    url = database(pg_cluster, "backup_empty")
    try:
        env = dict(cli_env, ONEMAP_DATABASE_URL=url)
        done = run(env, "restore", str(older_file))
        assert done.returncode == 0, done.stderr
        assert f"this OneMap expects {HEAD}: run `onemap db migrate`" in done.stdout
        assert current_revision(sqlalchemy(url)) == PREVIOUS
        upgrade(sqlalchemy(url))  # what `onemap db migrate` runs
        assert current_revision(sqlalchemy(url)) == HEAD
    finally:
        drop(pg_cluster, "backup_empty")


def test_a_file_this_code_does_not_know_is_refused(made):
    archive = backups.read_archive(made[0], Settings().pg_bin)
    with pytest.raises(backups.NewerSchema, match="which this OneMap does not know"):
        backups.check_restorable(replace(archive, revision="9999"), None, "database x")


def test_files_that_are_not_onemap_backups_are_refused(restored, source, tmp_path):
    cluster, env, _output, _after = restored
    before = fingerprints(cluster.libpq_url())
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a backup\n")
    refused = run(env, "restore", str(text_file), "--yes")
    assert refused.returncode == 1
    assert f"{text_file} is not a OneMap backup: pg_restore cannot read it as an archive" \
        in refused.stderr
    assert fingerprints(cluster.libpq_url()) == before
    whole = tmp_path / "whole.dump"  # a pg_dump of the whole database, extensions and all
    subprocess.run([str(Settings().pg_bin / "pg_dump"), "-Fc", "-f", str(whole), source[0]],
                   check=True, capture_output=True)
    for path, reason in ((whole, "it holds more than the schema onemap"),
                         (tmp_path / "missing.dump", "no such file")):
        with pytest.raises(backups.NotABackup, match=reason):
            backups.read_archive(path, Settings().pg_bin)


def test_a_failed_restore_changes_nothing(made, restored, tmp_path):
    cluster, env, _output, _after = restored
    with psycopg.connect(cluster.libpq_url()) as conn:
        conn.execute("INSERT INTO onemap.department (code, name_zh) VALUES ('ZZ', '标记局')")
    before = fingerprints(cluster.libpq_url())
    damaged = tmp_path / "damaged.dump"  # its list of contents is whole, its rows cut short
    data = made[0].read_bytes()
    damaged.write_bytes(data[: len(data) * 7 // 10])
    failed = run(env, "restore", str(damaged), "--yes")
    assert failed.returncode == 1
    assert "pg_restore failed" in failed.stderr and "nothing was changed" in failed.stderr
    assert fingerprints(cluster.libpq_url()) == before


def test_a_restore_over_a_schema_asks_first_then_replaces_it(made, restored):
    cluster, env, _output, _after = restored
    with psycopg.connect(cluster.libpq_url()) as conn:
        conn.execute("INSERT INTO onemap.department (code, name_zh) VALUES ('ZY', '又一局')")
    before = fingerprints(cluster.libpq_url())
    declined = run(env, "restore", str(made[0]), stdin="n\n")
    assert declined.returncode == 1
    assert "This replaces every OneMap table and row" in declined.stdout
    assert fingerprints(cluster.libpq_url()) == before
    done = run(env, "restore", str(made[0]), "--yes")
    assert done.returncode == 0, done.stderr
    after = fingerprints(cluster.libpq_url())
    source = made[2]
    assert after.pop("audit_log_id_seq")[0] == source["audit_log_id_seq"][0] + 1
    assert after == {name: value for name, value in source.items() if name != "audit_log_id_seq"}


def test_a_backup_is_never_written_to_a_bad_place(source, tmp_path):
    url, env = source
    for path, reason in ((tmp_path, "is a folder"),
                         (tmp_path / "nowhere" / "x.dump", f"folder {tmp_path / 'nowhere'} "
                                                           "does not exist")):
        refused = run(env, "backup", str(path), "--replace")
        assert refused.returncode == 1 and reason in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
    assert list(tmp_path.iterdir()) == []


MANAGER, MANAGER_PASSWORD = "district_admin", "managed-secret-15"


@pytest.fixture(scope="module")
def managed(pg_cluster):
    """An empty database on a 'managed' server: owned by a role that is no superuser (it may
    create roles), PostGIS installed for it by the superuser; the app's roles granted to it
    with their admin option, as a DBA would for roles that exist already."""
    with psycopg.connect(pg_cluster.libpq_url("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {MANAGER} LOGIN CREATEROLE PASSWORD '{MANAGER_PASSWORD}'")
        conn.execute(f"GRANT {APP_ROLE}, {AUTH_ROLE} TO {MANAGER} WITH ADMIN OPTION")
        conn.execute(f"CREATE DATABASE backup_managed OWNER {MANAGER}")
    with psycopg.connect(pg_cluster.libpq_url("backup_managed"), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION postgis")
    yield pg_cluster.libpq_url("backup_managed", user=MANAGER, password=MANAGER_PASSWORD)
    drop(pg_cluster, "backup_managed")
    with psycopg.connect(pg_cluster.libpq_url("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {MANAGER}")
        conn.execute(f"DROP ROLE {MANAGER}")


def test_backups_move_between_a_superuser_and_a_managed_owner(made, managed, pg_cluster,
                                                              tmp_path):
    """The embedded cluster's backup (owned by the superuser) into a managed server's database,
    and the managed database's own backup back into a superuser's: same rows both ways, every
    object owned by whoever restored it, the app's grants kept."""
    _path, _output, source = made
    bin_dir = Settings().pg_bin
    backups.restore(sqlalchemy(managed), made[0], bin_dir=bin_dir, actor="pytest")
    on_managed = fingerprints(managed)
    assert on_managed.pop("audit_log_id_seq")[0] == source["audit_log_id_seq"][0] + 1
    assert on_managed == {k: v for k, v in source.items() if k != "audit_log_id_seq"}
    with psycopg.connect(managed) as conn:
        owners = {row[0] for row in conn.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'onemap'")}
        can_read = conn.execute(
            f"SELECT has_table_privilege('{APP_ROLE}', 'onemap.person', 'SELECT')").fetchone()[0]
    assert owners == {MANAGER} and can_read

    before = fingerprints(managed)
    path = tmp_path / "managed.dump"
    backups.backup(sqlalchemy(managed), path, bin_dir=bin_dir, actor="pytest")
    url = database(pg_cluster, "backup_from_managed")
    try:
        backups.restore(sqlalchemy(url), path, bin_dir=bin_dir, actor="pytest")
        after = fingerprints(url)
        assert after.pop("audit_log_id_seq")[0] == before.pop("audit_log_id_seq")[0] + 1
        assert after == before
    finally:
        drop(pg_cluster, "backup_from_managed")

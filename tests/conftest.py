"""Test-session fixtures: a throwaway embedded PostgreSQL + PostGIS cluster, migrated to head.

Never SQLite, never mocks: every database test runs on the real thing, in its own cluster
that is created in a temporary folder and deleted when the session ends.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text

from geodata.db import make_engine
from geodata.embedded import EmbeddedPostgres
from geodata.migrate import upgrade
from onemap.settings import Settings
from tests.support.serving import onemap_command
from tests.support.users import FRESH_USER_PASSWORD, TEST_USERS

TEST_PORT = 54330  # names the socket file inside the cluster's own folder; no TCP is opened


def new_cluster(prefix: str, db_name: str = "onemap_test") -> EmbeddedPostgres:
    """A fresh cluster in a new folder under /tmp (which the postgres user can reach)."""
    root = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    root.chmod(0o755)
    return EmbeddedPostgres(
        root, port=TEST_PORT, bin_dir=Settings().pg_bin, db_name=db_name,
        shared_buffers="128MB", fsync=False,
    )


@pytest.fixture(scope="session")
def pg_cluster():
    """The session's cluster, started; deleted at the end."""
    cluster = new_cluster("onemap-test-pg-")
    cluster.start()
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="session")
def db_url(pg_cluster: EmbeddedPostgres) -> str:
    """SQLAlchemy URL of the session database, with the schema at head."""
    url = pg_cluster.sqlalchemy_url()
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(db_url: str) -> Engine:
    """An engine on the session database."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def conn(engine: Engine) -> Connection:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture(scope="session")
def cli_env(pg_cluster: EmbeddedPostgres, db_url: str) -> dict[str, str]:
    """Environment that points the `onemap` command at the session's cluster (embedded mode)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEMAP_")}
    env.update(
        ONEMAP_PG_DIR=str(pg_cluster.root),
        ONEMAP_PG_PORT=str(pg_cluster.port),
        ONEMAP_DB_NAME=pg_cluster.db_name,
        ONEMAP_PG_FSYNC="false",
        ONEMAP_PG_SHARED_BUFFERS="128MB",
    )
    return env


@pytest.fixture(scope="session")
def demo_users(engine):
    """One user per role (tests/support/users.py): the fixture district (210103) for all but
    the grid worker, who gets its first grid. The hierarchy is there only while the users are
    added (a scope must exist when it is given); tests load what they need. Users stay: audit
    rows point at them."""
    from geodata import users
    from onemap.access.passwords import hash_password
    from tests.fixtures.hierarchy import insert_hierarchy

    with engine.connect() as conn:
        transaction = conn.begin()
        codes = insert_hierarchy(conn)
        conn.execute(text("SET CONSTRAINTS ALL DEFERRED"))
        for username, (role, password) in TEST_USERS.items():
            if not users.credentials(conn, username):
                scope = codes["grid"][0] if role == "grid_worker" else codes["street"][0][:6]
                users.add(conn, username=username, display_name=f"测试 {username}", role=role,
                          scope_code=scope, password_hash=hash_password(password))
        for table in ("grid", "community", "street", "district"):
            conn.execute(text(f"DELETE FROM {table}"))
        transaction.commit()
    return TEST_USERS


@pytest.fixture
def fresh_user(engine, demo_users):
    """A duty officer of the district, made for one test (password FRESH_USER_PASSWORD):
    a test that ends its sessions or changes it leaves the shared test users alone."""
    import secrets

    from geodata import users
    from onemap.access.passwords import hash_password
    from tests.fixtures.hierarchy import DISTRICT, insert_hierarchy

    username = f"s-{secrets.token_hex(4)}"
    with engine.begin() as conn:
        # a scope must exist when it is given: lend the hierarchy if no test has it loaded
        lent = conn.execute(text("SELECT count(*) FROM district")).scalar() == 0
        if lent:
            insert_hierarchy(conn)
            conn.execute(text("SET CONSTRAINTS ALL DEFERRED"))
        users.add(conn, username=username, display_name=username, role="duty_officer",
                  scope_code=DISTRICT, password_hash=hash_password(FRESH_USER_PASSWORD))
        if lent:
            for table in ("grid", "community", "street", "district"):
                conn.execute(text(f"DELETE FROM {table}"))
    return username


@pytest.fixture(scope="session")
def demo_district(pg_cluster, cli_env):
    """A database of its own holding the demo district (3,000 buildings, 100 k people, 30 k
    events), built by the real `onemap demo`; yields (owner URL, environment for commands)."""
    import psycopg

    admin = pg_cluster.libpq_url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS wall_demo WITH (FORCE)")
        conn.execute("CREATE DATABASE wall_demo")
    url = pg_cluster.libpq_url("wall_demo")
    env = dict(cli_env, ONEMAP_DATABASE_URL=url, ONEMAP_LOGIN_RATE_LIMIT="1000 per minute")
    for command in (["db", "migrate"], ["demo", "--scale", "demo", "--seed", "11"]):
        done = subprocess.run([onemap_command(), *command], env=env, capture_output=True,
                              text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    yield url, env
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE wall_demo WITH (FORCE)")

"""Test-session fixtures: a throwaway embedded PostgreSQL + PostGIS cluster, migrated to head.

Never SQLite, never mocks: every database test runs on the real thing, in its own cluster
that is created in a temporary folder and deleted when the session ends.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine

from geodata.db import make_engine
from geodata.embedded import EmbeddedPostgres
from geodata.migrate import upgrade
from onemap.settings import Settings

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


def onemap_command() -> str:
    """The console script installed next to the running Python."""
    path = Path(os.sys.executable).parent / "onemap"
    return str(path) if path.exists() else shutil.which("onemap")

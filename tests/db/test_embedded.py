"""The embedded cluster: created once, reused, started on demand, stopped cleanly, reachable."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from geodata.embedded import EmbeddedError, EmbeddedPostgres
from tests.conftest import new_cluster


@pytest.fixture(scope="module")
def cluster():
    """A cluster of this module's own, so stopping it disturbs no other test."""
    c = new_cluster("onemap-test-lifecycle-", db_name="lifecycle")
    yield c
    c.destroy()


def test_start_initialises_and_creates_the_database(cluster: EmbeddedPostgres):
    assert not cluster.initialised
    cluster.start()
    state = cluster.status()
    assert state.initialised and state.running and state.pid
    with psycopg.connect(cluster.libpq_url()) as conn:
        assert conn.execute("select current_database()").fetchone()[0] == "lifecycle"


def test_start_again_reuses_the_running_server(cluster: EmbeddedPostgres):
    pid = cluster.status().pid
    cluster.start()
    assert cluster.status().pid == pid


def test_psql_connects_with_the_printed_url_and_postgis_answers(cluster: EmbeddedPostgres):
    with psycopg.connect(cluster.libpq_url(), autocommit=True) as conn:
        conn.execute("create extension if not exists postgis")
    out = subprocess.run(
        ["psql", cluster.libpq_url(), "-tAc", "select postgis_lib_version()"],
        capture_output=True, text=True, check=True,
    )
    assert out.stdout.strip().startswith("3.")


def test_password_is_required(cluster: EmbeddedPostgres):
    wrong = cluster.libpq_url().replace(cluster.password, "not-the-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong)


def test_workers_asking_for_a_login_at_once_all_get_the_one_that_works(cluster):
    """A first `onemap serve` starts its workers together and each asks for the app's logins:
    every one must get the password the role has, and the file must keep that one."""
    with psycopg.connect(cluster.libpq_url(), autocommit=True) as conn:
        conn.execute("CREATE ROLE racing_login")
    with ThreadPoolExecutor(max_workers=8) as pool:
        given = list(pool.map(lambda _: cluster.login_for("racing_login"), range(16)))
    assert len(set(given)) == 1
    assert cluster.known_login("racing_login") == given[0]
    with psycopg.connect(cluster.libpq_url(user="racing_login", password=given[0])) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == "racing_login"
    assert oct((cluster.root / "racing_login.password").stat().st_mode & 0o777) == "0o600"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to `postgres`")
def test_as_root_the_server_runs_as_postgres(cluster: EmbeddedPostgres):
    status = open(f"/proc/{cluster.status().pid}/status").read()
    uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    import pwd

    assert int(uid_line.split()[1]) == pwd.getpwnam("postgres").pw_uid


def test_stop_then_start_keeps_the_data(cluster: EmbeddedPostgres):
    with psycopg.connect(cluster.libpq_url(), autocommit=True) as conn:
        conn.execute("create table if not exists kept (x int)")
        conn.execute("insert into kept values (42)")
    assert cluster.stop() is True
    assert not cluster.status().running
    assert cluster.stop() is False  # stopping a stopped cluster is a no-op
    cluster.start()
    with psycopg.connect(cluster.libpq_url()) as conn:
        assert conn.execute("select x from kept").fetchone()[0] == 42


def test_missing_binaries_are_reported_plainly(tmp_path):
    broken = EmbeddedPostgres(tmp_path / "pg", port=54339, bin_dir=tmp_path / "nowhere")
    with pytest.raises(EmbeddedError, match="initdb not found"):
        broken.start()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to `postgres`")
def test_a_folder_the_server_user_cannot_reach_is_reported_plainly(tmp_path):
    # pytest's tmp_path lives under /tmp/pytest-of-root, which is private to root
    hidden = EmbeddedPostgres(tmp_path / "pg", port=54339, bin_dir=new_cluster("x-").bin_dir)
    with pytest.raises(EmbeddedError, match="postgres system user cannot reach"):
        hidden.start()

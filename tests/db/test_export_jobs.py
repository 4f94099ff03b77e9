"""The export page's queue in the database (geodata/export_jobs.py, migration 0027): a user
queues and sees only their own jobs; two workers racing for the queue run each job once; a job
whose worker died is failed by the stale sweep, its leftovers deleted; a done job's file is
deleted when it expires, and another database's files in the same folder never are."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from geodata import export_jobs, sessions, users
from onemap.domain.roles import ROLE_CAPABILITIES

APP_ROLE = "onemap_app"


@pytest.fixture
def queue(engine, demo_users) -> Iterator[dict[str, int]]:
    """An empty queue (the claim tests take whatever is queued), and the test users' ids."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM onemap.export_job"))
        ids = {name: users.by_username(conn, name).id for name in demo_users}
    yield ids
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM onemap.export_job"))


def _queued(conn: Connection, user_id: int, n: int = 1, layer: str = "events") -> list[int]:
    return list(conn.execute(text(
        "INSERT INTO onemap.export_job (user_id, layer, format, crs)"
        " SELECT :u, :layer, 'gpkg', 'wgs84' FROM generate_series(1, :n) RETURNING id"),
        {"u": user_id, "layer": layer, "n": n}).scalars())


@contextmanager
def as_user(conn: Connection, username: str) -> Iterator[Connection]:
    """This connection acting as the app's role in a session of `username`, until the block
    ends (inside the test's transaction)."""
    user = users.by_username(conn, username)
    token = sessions.open_session(conn, user, capabilities=ROLE_CAPABILITIES[user.role],
                                  user_agent="pytest", ip=None, idle=timedelta(hours=1),
                                  lifetime=timedelta(hours=1))
    conn.execute(text(f"SET LOCAL ROLE {APP_ROLE}"))
    conn.execute(text("SELECT set_config('onemap.session', :t, true)"), {"t": token})
    yield conn
    conn.execute(text("RESET ROLE"))
    conn.execute(text("SELECT set_config('onemap.session', '', true)"))


def _folder(engine, root, job_id: int):
    with engine.connect() as conn:
        return export_jobs.job_folder(conn, root, job_id)


def _refused(conn: Connection, sql: str, params: dict) -> None:
    with pytest.raises(DBAPIError, match="permission denied|row-level security"):
        with conn.begin_nested():
            conn.execute(text(sql), params)


def test_a_user_queues_and_sees_only_their_own_jobs(conn, queue):
    theirs = _queued(conn, queue["leader"])[0]
    with as_user(conn, "analyst"):
        mine = export_jobs.add(conn, layer="events", format="gpkg", crs="gcj02",
                               filters={"unit": "210103001"}, headers="en")
        listed = export_jobs.mine(conn)
        assert [job.id for job in listed] == [mine]
        assert listed[0].state == "queued" and listed[0].user_id == queue["analyst"]
        assert listed[0].filters == {"unit": "210103001"} and listed[0].progress == 0
        assert export_jobs.get(conn, theirs) is None
        assert export_jobs.active_count(conn) == 1
        # not in another's name, not done with a file of its choosing, not changed afterwards
        _refused(conn, "INSERT INTO onemap.export_job (user_id, layer, format, crs)"
                       " VALUES (:u, 'events', 'csv', 'wgs84')", {"u": queue["leader"]})
        _refused(conn, "INSERT INTO onemap.export_job (user_id, layer, format, crs, state,"
                       " file_name) VALUES (onemap.current_app_user_id(), 'events', 'csv',"
                       " 'wgs84', 'done', '../../secret_key')", {})
        _refused(conn, "UPDATE onemap.export_job SET state = 'done' WHERE id = :id",
                 {"id": mine})
        _refused(conn, "DELETE FROM onemap.export_job WHERE id = :id", {"id": theirs})


def test_a_role_without_the_export_right_queues_nothing(conn, queue):
    with as_user(conn, "duty"):
        with pytest.raises(DBAPIError, match="row-level security"):
            with conn.begin_nested():
                export_jobs.add(conn, layer="events", format="csv", crs="wgs84", filters={})


def test_a_claimed_job_is_skipped_by_a_second_worker_until_it_is_committed(engine, queue):
    with engine.begin() as conn:
        first, second = _queued(conn, queue["analyst"], 2)
    with engine.connect() as a, engine.connect() as b:
        with a.begin():
            claimed = export_jobs.claim(a)
            assert claimed.job.id == first and claimed.username == "analyst"
            assert claimed.job.state == "running" and claimed.job.heartbeat_at is not None
            with b.begin():  # the first job is locked by a: b takes the next, never the same
                assert export_jobs.claim(b).job.id == second
            with b.begin():
                assert export_jobs.claim(b) is None
    with engine.connect() as conn:
        states = dict(conn.execute(text("SELECT id, state FROM onemap.export_job")).all())
    assert states == {first: "running", second: "running"}


def test_two_workers_racing_run_each_job_exactly_once(engine, queue):
    with engine.begin() as conn:
        queued = _queued(conn, queue["analyst"], 60)
    taken: dict[str, list[int]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def worker(name: str) -> None:
        start.wait()
        while True:
            with engine.begin() as conn:
                claimed = export_jobs.claim(conn)
            if claimed is None:
                return
            taken[name].append(claimed.job.id)

    threads = [threading.Thread(target=worker, args=(name,)) for name in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    everything = taken["a"] + taken["b"]
    assert sorted(everything) == queued  # each once: none twice, none left behind
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM onemap.export_job"
                                 " WHERE state = 'queued'")).scalar() == 0


def test_the_stale_sweep_fails_a_job_whose_heartbeat_stopped(engine, queue, tmp_path):
    with engine.begin() as conn:
        dead, alive = _queued(conn, queue["analyst"], 2)
        for job_id in (dead, alive):
            export_jobs.claim(conn)
        conn.execute(text("UPDATE onemap.export_job SET heartbeat_at = now() - interval"
                          " '10 minutes' WHERE id = :id"), {"id": dead})
    left = _folder(engine, tmp_path, dead)
    left.mkdir(parents=True)
    (left / ".events_WGS84.partial.gpkg").write_bytes(b"half a file")
    writing = _folder(engine, tmp_path, alive)
    writing.mkdir(parents=True)
    (writing / ".events_WGS84.partial.gpkg").write_bytes(b"being written")
    with engine.begin() as conn:
        assert export_jobs.fail_stale(conn, tmp_path) == [dead]
        assert export_jobs.fail_stale(conn, tmp_path) == []
    with engine.connect() as conn:
        job = export_jobs.get(conn, dead)
        assert job.state == "failed" and "submit it again" in job.error
        assert export_jobs.get(conn, alive).state == "running"
    assert not left.exists() and writing.exists()
    # its worker, had it only been slow, may not finish it now: its file is then deleted
    with engine.begin() as conn:
        assert not export_jobs.finish(conn, dead, rows=1, size=1, file_name="x.gpkg",
                                      keep=timedelta(hours=1))
        assert not export_jobs.heartbeat(conn, dead)
        assert export_jobs.heartbeat(conn, alive, 50)


def test_an_expired_file_is_deleted_and_its_job_expired(engine, queue, tmp_path):
    with engine.begin() as conn:
        old, fresh, failed = _queued(conn, queue["analyst"], 3)
        for _ in range(3):
            export_jobs.claim(conn)
        for job_id in (old, fresh):
            folder = export_jobs.job_folder(conn, tmp_path, job_id)
            folder.mkdir(parents=True)
            (folder / "events_WGS84.gpkg").write_bytes(b"a whole file")
            assert export_jobs.finish(conn, job_id, rows=3, size=12,
                                      file_name="events_WGS84.gpkg", keep=timedelta(hours=24))
        conn.execute(text("UPDATE onemap.export_job SET expires_at = now() - interval '1 minute'"
                          " WHERE id = :id"), {"id": old})
        export_jobs.fail(conn, failed, "boom")
    leftover = _folder(engine, tmp_path, failed)
    leftover.mkdir(parents=True)
    # another database's jobs of the same numbers, sharing the folder, are not this one's
    elsewhere = tmp_path / "another_database" / str(failed)
    elsewhere.mkdir(parents=True)
    (elsewhere / "events_WGS84.gpkg").write_bytes(b"theirs")
    (leftover / ".events_WGS84.partial.gpkg").write_bytes(b"half")
    with engine.connect() as conn:
        assert export_jobs.job_file(conn, tmp_path, export_jobs.get(conn, old)) is not None
    with engine.begin() as conn:
        assert export_jobs.expire(conn, tmp_path) == [old]
    with engine.connect() as conn:
        expired, kept = export_jobs.get(conn, old), export_jobs.get(conn, fresh)
        assert export_jobs.job_file(conn, tmp_path, expired) is None
        assert export_jobs.job_file(conn, tmp_path, kept).read_bytes() == b"a whole file"
    assert expired.state == "expired" and not _folder(engine, tmp_path, old).exists()
    assert kept.state == "done" and kept.rows == 3 and kept.bytes == 12
    assert kept.expires_at - kept.finished_at == timedelta(hours=24)
    assert not leftover.exists()  # a failed job's half-written file goes with its folder
    assert (elsewhere / "events_WGS84.gpkg").read_bytes() == b"theirs"

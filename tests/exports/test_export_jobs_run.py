"""Export jobs run (exports/jobs.py) on the demo district: queued as the page queues them (a
scoped session of the requester), claimed and run as the worker runs them. A street analyst's
job holds their street and nothing else; refusals come back as the job's error; a writer that
fails, or a worker killed mid-way, leaves no file and a failed job; `onemap worker --once` runs
what is queued and fails what a dead worker left running; a running `onemap worker` takes a job
as it is queued (its export thread) and ends itself on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta

import pyogrio
import pytest
from sqlalchemy import text

from exports import formats
from exports.jobs import JobRunner, filters_from_json, filters_to_json
from geodata import export_jobs
from geodata.scope import scoped
from layers.rows import Filters
from tests.conftest import onemap_command

KEEP = timedelta(hours=24)


@pytest.fixture
def runner(exporter, owner, tmp_path):
    """A worker's job runner on the demo database, writing under tmp_path, on an empty queue
    (it claims whatever is queued)."""
    from geodata.db import get_engine

    with owner.begin() as conn:
        conn.execute(text("DELETE FROM onemap.export_job"))
    yield JobRunner(get_engine(), tmp_path, KEEP)
    with owner.begin() as conn:
        conn.execute(text("DELETE FROM onemap.export_job"))


def _queue(exporter, username: str, **job) -> int:
    """Queue a job as the export page does: in a session of the user, row-level security
    taking the user from it."""
    scope, _role = exporter.session(username)
    job.setdefault("filters", {})
    with scoped(scope) as conn:
        return export_jobs.add(conn, **job)


def _job(owner, job_id: int) -> export_jobs.Job:
    with owner.connect() as conn:
        return export_jobs.get(conn, job_id)


def test_filters_survive_the_job_row():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    filters = Filters(unit="210103001", bbox=(123.4, 41.7, 123.5, 41.8),
                      polygon="POLYGON ((123.4 41.7, 123.5 41.7, 123.5 41.8, 123.4 41.7))",
                      since=datetime(2026, 11, 1, tzinfo=ZoneInfo("Asia/Shanghai")),
                      until=datetime(2026, 12, 1, tzinfo=ZoneInfo("Asia/Shanghai")),
                      equals={"state": "closed"})
    stored = json.loads(json.dumps(filters_to_json(filters)))
    assert filters_from_json(stored) == filters
    assert filters_from_json({}) == Filters()


def test_a_street_analyst_s_job_holds_only_their_street(exporter, owner, street, runner,
                                                       tmp_path):
    name = exporter.add_user("analyst", street)
    with owner.connect() as conn:
        theirs = conn.execute(text(
            "SELECT count(*) FROM onemap.event WHERE starts_with(grid_code, :s)"),
            {"s": street}).scalar()
        other = conn.execute(text(
            "SELECT left(grid_code, 9) FROM onemap.event WHERE NOT starts_with(grid_code, :s)"
            " LIMIT 1"), {"s": street}).scalar()
        district_total = conn.execute(text("SELECT count(*) FROM onemap.event")).scalar()
    everything = _queue(exporter, name, layer="events", format="gpkg", crs="gcj02")
    elsewhere = _queue(exporter, name, layer="events", format="csv", crs="wgs84",
                       filters={"unit": other})
    assert runner.drain() == 2
    done = _job(owner, everything)
    assert done.state == "done" and done.progress == 100 and done.error is None
    assert done.rows == theirs < district_total
    assert done.file_name == "events_GCJ-02.gpkg"
    with owner.connect() as conn:
        path = export_jobs.job_file(conn, tmp_path, done)
    assert path.stat().st_size == done.bytes
    frame = pyogrio.read_dataframe(path)
    assert len(frame) == theirs and frame["网格编码"].str.startswith(street).all()
    assert "上报人" in frame.columns and "*" in "".join(frame["上报人"].dropna())  # masked
    assert done.expires_at - done.finished_at == KEEP
    assert _job(owner, elsewhere).rows == 0  # another street, asked for: nothing of it
    with owner.connect() as conn:
        audit = conn.execute(text(
            "SELECT details FROM onemap.audit_log WHERE username = :u AND action = 'export'"
            " ORDER BY id"), {"u": name}).scalars().all()
        open_sessions = conn.execute(text(
            "SELECT count(*) FROM onemap.web_session s JOIN onemap.app_user u"
            " ON u.id = s.user_id WHERE u.username = :u AND s.kind = 'job'"
            " AND s.ended_at IS NULL"), {"u": name}).scalar()
    assert [row["via"] for row in audit] == ["job", "job"]
    assert audit[0]["rows"] == theirs
    assert open_sessions == 0  # each job's session ended with it


@pytest.mark.parametrize(("username", "job", "says"), [
    ("leader", {"layer": "persons", "format": "csv", "crs": "wgs84"}, "may not export"),
    ("analyst", {"layer": "events", "format": "kml", "crs": "gcj02"}, "KML is WGS84"),
    ("analyst", {"layer": "events", "format": "csv", "crs": "EPSG:3857"}, "unknown coordinate"),
    ("analyst", {"layer": "events", "format": "csv", "crs": "wgs84",
                 "filters": {"equals": {"reporter_phone": "13800000000"}}}, "personal"),
    ("analyst", {"layer": "cameras", "format": "csv", "crs": "wgs84",
                 "filters": {"since": "2026-11-01T00:00:00+08:00"}}, "no time"),
])
def test_a_refused_job_fails_with_what_to_do(exporter, owner, runner, tmp_path, username, job,
                                            says):
    job_id = _queue(exporter, username, **job)
    assert runner.drain() == 1
    failed = _job(owner, job_id)
    assert failed.state == "failed" and says in failed.error and failed.file_name is None
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_a_writer_that_fails_half_way_leaves_no_file_and_a_failed_job(
        exporter, owner, runner, tmp_path, monkeypatch):
    def breaks_half_way(frame, source, crs, path, columns):
        path.write_bytes(b"half a file")
        raise OSError("No space left on device")

    monkeypatch.setitem(formats.FORMATS, "csv", formats.Format(
        "csv", "CSV", "csv", "text/csv", breaks_half_way))
    job_id = _queue(exporter, "analyst", layer="places", format="csv", crs="wgs84")
    assert runner.drain() == 1
    failed = _job(owner, job_id)
    assert failed.state == "failed" and "OSError" in failed.error
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


# a worker that claims the queue's job and hangs half-way through writing its file
_HANGS = """
import sys, time
from datetime import timedelta
from pathlib import Path
from exports import formats
from exports.jobs import JobRunner
from geodata.db import get_engine

def hangs(frame, source, crs, path, columns):
    path.write_bytes(b"half a file")
    print("writing", flush=True)
    time.sleep(600)

formats.FORMATS["csv"] = formats.Format("csv", "CSV", "csv", "text/csv", hangs)
JobRunner(get_engine(), Path(sys.argv[1]), timedelta(hours=1)).run_next()
"""


def test_a_worker_killed_mid_way_leaves_no_file_and_the_sweep_fails_its_job(
        demo_district, exporter, owner, runner, tmp_path):
    job_id = _queue(exporter, "analyst", layer="places", format="csv", crs="wgs84")
    env = {k: v for k, v in demo_district[1].items()}
    env["PATH"] = os.environ.get("PATH", "")
    worker = subprocess.Popen([sys.executable, "-c", _HANGS, str(tmp_path)], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline().strip() == "writing"
        assert _job(owner, job_id).state == "running"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    with owner.connect() as conn:
        folder = export_jobs.job_folder(conn, tmp_path, job_id)
    assert not (folder / "places_WGS84.csv").exists()  # only the hidden partial is there
    assert [p.name for p in folder.iterdir()] == [".places_WGS84.partial.csv"]
    with owner.begin() as conn:
        assert export_jobs.fail_stale(conn, tmp_path, older_than=timedelta(0)) == [job_id]
    failed = _job(owner, job_id)
    assert failed.state == "failed" and "submit it again" in failed.error
    assert not folder.exists()


def test_the_worker_runs_what_is_queued_and_fails_what_a_dead_worker_left(
        cli_env, engine, demo_users, tmp_path):
    from geodata import users
    from tests.fixtures.hierarchy import DISTRICT, insert_hierarchy

    with engine.begin() as conn:
        conn.execute(text("DELETE FROM onemap.export_job"))
        insert_hierarchy(conn)
        analyst = users.by_username(conn, "analyst").id
        queued, dead = conn.execute(text(
            "INSERT INTO onemap.export_job (user_id, layer, format, crs) VALUES"
            " (:u, 'street', 'geojson', 'cgcs2000'), (:u, 'district', 'csv', 'wgs84')"
            " RETURNING id"), {"u": analyst}).scalars().all()
        conn.execute(text(
            "UPDATE onemap.export_job SET state = 'running', started_at = now() - interval"
            " '1 hour', heartbeat_at = now() - interval '1 hour' WHERE id = :id"), {"id": dead})
    try:
        done = subprocess.run([onemap_command(), "worker", "--once"], capture_output=True,
                              text=True, timeout=300,
                              env=dict(cli_env, ONEMAP_EXPORT_DIR=str(tmp_path)))
        assert done.returncode == 0, done.stderr
        with engine.connect() as conn:
            ran, failed = export_jobs.get(conn, queued), export_jobs.get(conn, dead)
            assert ran.state == "done" and ran.rows == 2, ran.error
            streets = pyogrio.read_dataframe(export_jobs.job_file(conn, tmp_path, ran))
        assert set(streets["编码"]) == {f"{DISTRICT}001", f"{DISTRICT}002"}
        assert failed.state == "failed" and "submit it again" in failed.error
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM onemap.export_job"))
            for table in ("grid", "community", "street", "district"):
                conn.execute(text(f"DELETE FROM {table}"))


def test_the_running_worker_takes_a_job_as_it_is_queued_and_stops_on_sigterm(
        cli_env, engine, demo_users, tmp_path):
    import time

    from geodata import users
    from tests.fixtures.hierarchy import insert_hierarchy

    with engine.begin() as conn:
        conn.execute(text("DELETE FROM onemap.export_job"))
        insert_hierarchy(conn)
        analyst = users.by_username(conn, "analyst").id
    worker = subprocess.Popen([onemap_command(), "worker", "--every", "3600"],
                              env=dict(cli_env, ONEMAP_EXPORT_DIR=str(tmp_path)),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert "export jobs into" in worker.stdout.readline()  # started, its pass under way
        with engine.begin() as conn:  # queued after the worker started: its thread polls
            job_id = conn.execute(text(
                "INSERT INTO onemap.export_job (user_id, layer, format, crs) VALUES"
                " (:u, 'community', 'fgb', 'gk') RETURNING id"), {"u": analyst}).scalar_one()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                job = export_jobs.get(conn, job_id)
            if job.state in ("done", "failed"):
                break
            time.sleep(0.2)
        assert job.state == "done" and job.rows == 4, job.error
        assert job.file_name == "community_EPSG4550.fgb"  # 123.4°E: the zone of 123°E
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) != -signal.SIGTERM  # it ended itself, not killed
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM onemap.export_job"))
            for table in ("grid", "community", "street", "district"):
                conn.execute(text(f"DELETE FROM {table}"))

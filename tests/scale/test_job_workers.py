"""Two `onemap worker` processes on one database act exactly once per case and per export job.

What the database does is tested where it is written: passes racing at a barrier in one
process (tests/db/test_escalation.py, FOR UPDATE SKIP LOCKED), two claimers racing for the
queue in threads (tests/db/test_export_jobs.py), one real worker taking a job
(tests/exports/test_export_jobs_run.py). Here two real worker processes run as `make run`
would run them twice, each on its own timer (a pass a second, the export queue polled every
two seconds), while overdue cases and export jobs keep arriving: until each worker has
escalated some cases and run some jobs (their logs say which), then every case must have been
escalated once and every job run once, in the database and in the two logs together, and
the passes that follow find nothing more to do."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from geodata import escalation, users
from geodata.queries import events
from onemap.domain.intake import parse_report
from tests.conftest import onemap_command
from tests.fixtures.hierarchy import grid_box, insert_hierarchy, remove_events_and_hierarchy

SHANGHAI = ZoneInfo("Asia/Shanghai")
ESCALATED = re.compile(r"warned (\d+), escalated (\d+)")
RAN = re.compile(r"export job (\d+): \d+ rows of district")


@pytest.fixture
def hierarchy(engine, demo_users):
    """The fixture hierarchy, an empty export queue and the analyst who queues; what the
    workers made is removed afterwards."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM onemap.export_job"))
        codes = insert_hierarchy(conn)
        box = grid_box(conn, codes["grid"][0])
        analyst = users.by_username(conn, "analyst").id
    yield box, analyst
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM onemap.export_job"))
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        conn.execute(text("DELETE FROM audit_log WHERE username = :job"),
                     {"job": escalation.JOB})
        conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
        remove_events_and_hierarchy(conn)


def _overdue_case(conn, box, n: int) -> int:
    """A case reported a month ago: past its registration limit, for the next pass."""
    x0, y0, x1, y1 = box
    report = parse_report({"title": f"井盖缺失 {n}", "category_code": "C0101", "level": 4,
                           "lon": x0 + (x1 - x0) * (0.2 + n % 50 / 100), "lat": (y0 + y1) / 2},
                          default_channel="inspector")
    month_ago = datetime.now(SHANGHAI) - timedelta(days=30)
    return events.register(conn, report, None, now=month_ago)[0]["id"]


def _acted(log_path) -> tuple[int, list[int]]:
    """(cases escalated, export jobs run) as one worker's log tells them."""
    logged = log_path.read_text()
    return (sum(int(escalated) for _warned, escalated in ESCALATED.findall(logged)),
            [int(m) for m in RAN.findall(logged)])


def test_two_workers_escalate_each_case_and_run_each_job_once(cli_env, engine, hierarchy,
                                                              tmp_path):
    box, analyst = hierarchy
    with engine.connect() as conn:  # nothing else for the workers to escalate
        assert conn.execute(text(
            "SELECT count(*) FROM onemap.event WHERE onemap.event_is_active(state)"
            " AND urgency IS DISTINCT FROM 'overdue' AND due_at <= now()")).scalar() == 0
    env = dict(cli_env, ONEMAP_EXPORT_DIR=str(tmp_path / "exports"))
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    outs = [open(log, "w") for log in logs]
    workers = [subprocess.Popen([onemap_command(), "worker", "--every", "1"], env=env,
                                stdout=out, stderr=subprocess.STDOUT) for out in outs]
    cases: list[int] = []
    jobs: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while not all("export jobs into" in log.read_text() for log in logs):
            assert time.monotonic() < deadline, [log.read_text() for log in logs]
            assert all(w.poll() is None for w in workers), [log.read_text() for log in logs]
            time.sleep(0.1)
        # cases and jobs keep arriving until each worker has escalated some and run some
        deadline = time.monotonic() + 90
        while True:
            acted = [_acted(log) for log in logs]
            if len(cases) >= 10 and all(escalated and ran for escalated, ran in acted):
                break
            assert time.monotonic() < deadline, (len(cases), len(jobs), acted)
            with engine.begin() as conn:
                cases += [_overdue_case(conn, box, len(cases) + i) for i in range(2)]
                jobs += conn.execute(text(
                    "INSERT INTO onemap.export_job (user_id, layer, format, crs)"
                    " SELECT :u, 'district', 'csv', 'wgs84' FROM generate_series(1, 2)"
                    " RETURNING id"), {"u": analyst}).scalars().all()
            time.sleep(0.3)
        # what arrived last is taken too
        deadline = time.monotonic() + 60
        while True:
            with engine.connect() as conn:
                left = conn.execute(text(
                    "SELECT (SELECT count(*) FROM onemap.event WHERE id = ANY(:c)"
                    "        AND urgency IS DISTINCT FROM 'overdue')"
                    "     + (SELECT count(*) FROM onemap.export_job WHERE id = ANY(:j)"
                    "        AND state IN ('queued', 'running'))"), {"c": cases, "j": jobs}
                ).scalar()
            if left == 0:
                break
            assert time.monotonic() < deadline, f"{left} cases and jobs left"
            time.sleep(0.2)
        time.sleep(2.5)  # two more passes each, with nothing to do
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        ended = [worker.wait(timeout=60) for worker in workers]
        for out in outs:
            out.close()

    with engine.connect() as conn:
        escalations = dict(conn.execute(text(
            "SELECT event_id, count(*) FROM event_history WHERE action = 'escalate'"
            " AND event_id = ANY(:ids) GROUP BY event_id"), {"ids": cases}).all())
        audited = dict(conn.execute(text(
            "SELECT object_id::bigint, count(*) FROM audit_log WHERE username = :job"
            " AND action = 'event_escalate' GROUP BY 1"), {"job": escalation.JOB}).all())
        states = dict(conn.execute(text(
            "SELECT id, state FROM onemap.export_job WHERE id = ANY(:ids)"),
            {"ids": jobs}).all())
        agents = [f"onemap worker (job {job})" for job in jobs]  # exports/jobs.py's
        exported = dict(conn.execute(text(
            "SELECT user_agent, count(*) FROM audit_log WHERE action = 'export'"
            " AND user_agent = ANY(:agents) GROUP BY 1"), {"agents": agents}).all())
    assert escalations == {case: 1 for case in cases}
    assert audited == {case: 1 for case in cases}
    assert states == {job: "done" for job in jobs}
    assert exported == {agent: 1 for agent in agents}  # each job's file written once
    acted = [_acted(log) for log in logs]
    assert sum(escalated for escalated, _ran in acted) == len(cases), acted
    ran = [job for _escalated, ran_by in acted for job in ran_by]
    assert sorted(ran) == sorted(jobs), acted  # each job in one log, once
    assert all(escalated and ran_by for escalated, ran_by in acted), acted  # both worked
    assert -signal.SIGTERM not in ended  # each ended itself, not killed mid-way

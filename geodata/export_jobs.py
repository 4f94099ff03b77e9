"""The export page's queue (migration 0027): queue, claim, heartbeat, finish, fail, sweep.

The page queues on a scoped connection (row-level security: a session queues and sees only its
user's jobs). Everything else is the worker's, on the owner's connection:

- `claim` takes the oldest queued job with `FOR UPDATE SKIP LOCKED` and marks it running in
  the same statement, so however many workers poll, each job runs once;
- `heartbeat` while it runs; `finish` or `fail` at the end, only if it is still running (the
  stale sweep may have failed it meanwhile);
- `fail_stale` fails running jobs whose heartbeat stopped (their worker was killed), `expire`
  deletes done jobs' files after their hours; both remove what a job left in its folder.

Each job writes in a folder of its own, `<export folder>/<database>/<job id>/`, so two jobs
never clash on a file name and a job's leftovers go with its folder. The database's name keeps
two databases that share an export folder (the demo and a test's, on one machine) from
sweeping each other's files: their job ids are the same numbers. What a job exports, and how,
is exports/jobs.py's: this module knows layers and filters only as names and JSON.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection

from .db import statement

STATES = ("queued", "running", "done", "failed", "expired")
ACTIVE = ("queued", "running")
# a worker beats every HEARTBEAT; a running job silent for STALE_AFTER lost its worker
HEARTBEAT = timedelta(seconds=15)
STALE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Job:
    id: int
    user_id: int
    layer: str
    format: str
    crs: str
    filters: dict
    headers: str
    state: str
    progress: int
    rows: int | None
    bytes: int | None
    file_name: str | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None


@dataclass(frozen=True)
class Claimed:
    """A job a worker has claimed, with whose it is (the worker opens a session for them)."""

    job: Job
    username: str


_COLUMNS = ("id, user_id, layer, format, crs, filters, headers, state, progress, rows, bytes,"
            " file_name, error, created_at, started_at, heartbeat_at, finished_at, expires_at")


def _job(row) -> Job:
    values = dict(row._mapping)
    values.pop("username", None)
    if isinstance(values["filters"], str):
        values["filters"] = json.loads(values["filters"])
    return Job(**values)


def database_folder(conn: Connection, folder: Path) -> Path:
    """This database's part of the export folder."""
    return Path(folder) / conn.execute(statement("SELECT current_database()")).scalar_one()


def job_folder(conn: Connection, folder: Path, job_id: int) -> Path:
    """Where job `job_id` of this connection's database writes its file."""
    return database_folder(conn, folder) / str(int(job_id))


def job_file(conn: Connection, folder: Path, job: Job) -> Path | None:
    """The file of a done job, or None (not done, expired, or its file is gone)."""
    if job.state != "done" or not job.file_name or Path(job.file_name).name != job.file_name:
        return None
    path = job_folder(conn, folder, job.id) / job.file_name
    return path if path.is_file() else None


# -- the page's side (scoped connection) -----------------------------------------------------

_ADD = """
INSERT INTO onemap.export_job (user_id, layer, format, crs, filters, headers)
VALUES (onemap.current_app_user_id(), :layer, :format, :crs, CAST(:filters AS jsonb), :headers)
RETURNING id
"""


def add(conn: Connection, *, layer: str, format: str, crs: str, filters: dict,
        headers: str = "zh") -> int:
    """Queue a job for the session's own user; returns its id. Row-level security refuses a
    session without the export right."""
    return conn.execute(statement(_ADD), {
        "layer": layer, "format": format, "crs": crs, "headers": headers,
        "filters": json.dumps(filters, ensure_ascii=False)}).scalar_one()


def mine(conn: Connection, limit: int = 50) -> list[Job]:
    """The session's own jobs, newest first (row-level security keeps it to them)."""
    rows = conn.execute(statement(
        f"SELECT {_COLUMNS} FROM onemap.export_job ORDER BY id DESC LIMIT :limit"),
        {"limit": limit})
    return [_job(row) for row in rows]


def get(conn: Connection, job_id: int) -> Job | None:
    """One job: on a scoped connection only if it is the session's user's own."""
    row = conn.execute(statement(f"SELECT {_COLUMNS} FROM onemap.export_job WHERE id = :id"),
                       {"id": job_id}).one_or_none()
    return None if row is None else _job(row)


def active_count(conn: Connection) -> int:
    """How many of the session's own jobs are queued or running."""
    return conn.execute(statement(
        "SELECT count(*) FROM onemap.export_job WHERE state IN ('queued', 'running')")).scalar()


# -- the worker's side (owner's connection) --------------------------------------------------

_CLAIM = f"""
UPDATE onemap.export_job j
   SET state = 'running', progress = 5, started_at = now(), heartbeat_at = now()
 WHERE j.id = (SELECT id FROM onemap.export_job WHERE state = 'queued'
               ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING {', '.join(f'j.{c.strip()}' for c in _COLUMNS.split(','))},
  (SELECT u.username FROM onemap.app_user u WHERE u.id = j.user_id) AS username
"""


def claim(conn: Connection) -> Claimed | None:
    """The oldest queued job, now running and this caller's; None when none is waiting (or
    every waiting one is being claimed by another worker this instant). Commit at once: the
    claim holds the row locked until then."""
    row = conn.execute(statement(_CLAIM)).one_or_none()
    return None if row is None else Claimed(_job(row), row.username)


def heartbeat(conn: Connection, job_id: int, progress: int | None = None) -> bool:
    """The job is still being worked on (and how far); False when it is no longer running."""
    return conn.execute(statement(
        "UPDATE onemap.export_job SET heartbeat_at = now(),"
        " progress = coalesce(CAST(:progress AS smallint), progress)"
        " WHERE id = :id AND state = 'running'"),
        {"id": job_id, "progress": progress}).rowcount == 1


def finish(conn: Connection, job_id: int, *, rows: int, size: int, file_name: str,
           keep: timedelta) -> bool:
    """Done: its file is downloadable for `keep`. False when the job was no longer running
    (failed by the stale sweep meanwhile): the caller then deletes the file it wrote."""
    return conn.execute(statement(
        "UPDATE onemap.export_job SET state = 'done', progress = 100, rows = :rows,"
        " bytes = :bytes, file_name = :file_name, error = NULL, finished_at = now(),"
        " heartbeat_at = now(), expires_at = now() + make_interval(secs => :keep)"
        " WHERE id = :id AND state = 'running'"),
        {"id": job_id, "rows": rows, "bytes": size, "file_name": file_name,
         "keep": keep.total_seconds()}).rowcount == 1


def fail(conn: Connection, job_id: int, error: str) -> bool:
    """Failed, with the message the user reads; False when it was no longer running."""
    return conn.execute(statement(
        "UPDATE onemap.export_job SET state = 'failed', error = :error, finished_at = now()"
        " WHERE id = :id AND state = 'running'"),
        {"id": job_id, "error": error[:2000]}).rowcount == 1


STALE_ERROR = ("导出进程中断，请重新提交 · the export stopped when its worker did "
               "(killed or restarted): submit it again")


def fail_stale(conn: Connection, folder: Path, older_than: timedelta = STALE_AFTER) -> list[int]:
    """Fail every running job whose heartbeat is older than `older_than` and delete what it
    left in its folder; their ids."""
    failed = conn.execute(statement(
        "UPDATE onemap.export_job SET state = 'failed', error = :error, finished_at = now()"
        " WHERE state = 'running'"
        " AND coalesce(heartbeat_at, started_at) < now() - make_interval(secs => :secs)"
        " RETURNING id"),
        {"error": STALE_ERROR, "secs": older_than.total_seconds()}).scalars().all()
    for job_id in failed:
        shutil.rmtree(job_folder(conn, folder, job_id), ignore_errors=True)
    return list(failed)


def expire(conn: Connection, folder: Path) -> list[int]:
    """Expire every done job past its `expires_at`, deleting its file; then delete any job
    folder left behind by a job that is not queued, running or done (a failed job's partial
    file, an expiry interrupted after its commit). The expired jobs' ids."""
    expired = conn.execute(statement(
        "UPDATE onemap.export_job SET state = 'expired' WHERE state = 'done'"
        " AND expires_at <= now() RETURNING id")).scalars().all()
    for job_id in expired:
        shutil.rmtree(job_folder(conn, folder, job_id), ignore_errors=True)
    _sweep_folders(conn, database_folder(conn, folder))
    return list(expired)


def _sweep_folders(conn: Connection, folder: Path) -> None:
    # a folder is listed before its job's state is read: a job claimed after the listing has
    # no folder in it yet, so nothing a running job is writing can be taken away
    if not folder.is_dir():
        return
    found = {int(entry.name): entry for entry in folder.iterdir()
             if entry.is_dir() and entry.name.isdigit()}
    if not found:
        return
    live = set(conn.execute(statement(
        "SELECT id FROM onemap.export_job WHERE id = ANY(:ids)"
        " AND state IN ('queued', 'running', 'done')"), {"ids": list(found)}).scalars())
    for job_id, entry in found.items():
        if job_id not in live:
            shutil.rmtree(entry, ignore_errors=True)

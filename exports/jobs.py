"""Running the export page's jobs (geodata/export_jobs.py is their queue).

A job runs as its requester, never with the worker's own rights: the worker (the database's
owner) reads the requester anew, opens a session of kind `job` for them with their role's
rights as they are now (a user disabled or moved since queuing is refused or kept to the new
scope), and calls `export_layer` in that session, so row-level security, masking and the audit
row are the requester's, exactly as on the CLI. The session ends when the job does.

While the file is written a thread beats the job's heartbeat; a worker killed mid-way stops
beating, and the next worker to start fails the job (`fail_stale`). `export_layer` writes beside
the final name and renames only when whole, so a job that fails or is killed leaves no file.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from geodata import export_jobs, sessions, users
from geodata.export_jobs import Claimed, Job
from geodata.scope import Scope
from layers.rows import BadFilter, Filters
from onemap.domain.roles import ROLE_CAPABILITIES

from .crs import UnknownCrs
from .formats import FormatRefused
from .run import BadExport, ExportRefused, ExportRequest, FolderUnwritable, export_layer, \
    unwritable

log = logging.getLogger("onemap.exports")

# long enough for the largest export, short enough that a killed worker leaves no lasting key
SESSION_HOURS = 2
# a queued job's progress is 0; these mark how far a running one has got
OPENED, DONE = 10, 100
# what a user reads for a request that cannot be carried out: the exception's own message
REFUSALS = (BadExport, BadFilter, UnknownCrs, FormatRefused)
INTERRUPTED = ("导出被中断，请重新提交 · the export was interrupted (its worker stopped): "
               "submit it again")


def filters_to_json(filters: Filters) -> dict:
    """The filters as the job row keeps them: the audit row's description (times ISO with
    their offset, the box as a list, the polygon as WKT)."""
    return filters.describe()


def filters_from_json(data: dict) -> Filters:
    """The filters a job row keeps, back as Filters; BadFilter for what is not one."""
    try:
        return Filters(
            unit=data.get("unit"),
            bbox=tuple(float(v) for v in data["bbox"]) if data.get("bbox") else None,
            polygon=data.get("polygon"),
            since=datetime.fromisoformat(data["since"]) if data.get("since") else None,
            until=datetime.fromisoformat(data["until"]) if data.get("until") else None,
            equals={str(k): str(v) for k, v in (data.get("equals") or {}).items()})
    except (TypeError, ValueError, AttributeError) as exc:
        raise BadFilter(f"the job's filters cannot be read / 筛选条件无法读取: {exc}") from None


def request_of(job: Job) -> ExportRequest:
    return ExportRequest(job.layer, job.format, job.crs, filters_from_json(job.filters),
                         job.headers)


class Heartbeat(threading.Thread):
    """Beats a running job's heartbeat every `every` until stopped."""

    def __init__(self, engine: Engine, job_id: int, every: timedelta) -> None:
        super().__init__(name=f"export-job-{job_id}-heartbeat", daemon=True)
        self.engine, self.job_id, self.every = engine, job_id, every.total_seconds()
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                with self.engine.begin() as conn:
                    export_jobs.heartbeat(conn, self.job_id)
            except Exception as exc:  # the database may be restarting: the next beat may do
                log.warning("export job %d: heartbeat failed: %s", self.job_id,
                            type(exc).__name__)

    def stop(self) -> None:
        self.stopped.set()


@dataclass(frozen=True)
class Outcome:
    state: str  # done | failed
    rows: int | None = None
    path: Path | None = None
    error: str | None = None


def _open_session(engine: Engine, claimed: Claimed) -> tuple[users.User, str] | str:
    """(the requester, a session token for them), or why the job cannot run as them."""
    with engine.begin() as conn:
        user = users.by_username(conn, claimed.username)
        if user is None or not user.active or user.id != claimed.job.user_id:
            return "提交人的账号已停用 · the requester's account is disabled"
        token = sessions.open_session(
            conn, user, capabilities=ROLE_CAPABILITIES.get(user.role, ()), user_agent=None,
            ip=None, idle=timedelta(hours=SESSION_HOURS), lifetime=timedelta(hours=SESSION_HOURS),
            kind="job")
        export_jobs.heartbeat(conn, claimed.job.id, OPENED)
    return user, token


def _error_text(exc: BaseException, role: str, layer: str) -> str:
    if isinstance(exc, ExportRefused):
        return (f"无权导出该图层 · a {role} may not export {layer}: exporting needs the export "
                "right (and, for people, the right to look them up)")
    if isinstance(exc, (*REFUSALS, FolderUnwritable)):
        return str(exc)
    return (f"导出失败 · the export failed ({type(exc).__name__}): submit it again or ask "
            "an administrator")


def run_job(engine: Engine, claimed: Claimed, folder: Path, *,
            keep: timedelta, heartbeat_every: timedelta = export_jobs.HEARTBEAT) -> Outcome:
    """Run one claimed job to its end: done with its file in its folder under `folder`
    (export_jobs.job_folder), or failed with a message for the user. Interrupted
    (KeyboardInterrupt, SystemExit), it fails the job and lets the interruption go on."""
    job = claimed.job
    opened = _open_session(engine, claimed)
    if isinstance(opened, str):
        with engine.begin() as conn:
            export_jobs.fail(conn, job.id, opened)
        return Outcome("failed", error=opened)
    user, token = opened
    with engine.connect() as conn:
        out = export_jobs.job_folder(conn, folder, job.id)
    beating = Heartbeat(engine, job.id, heartbeat_every)
    beating.start()
    try:
        try:
            out.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            trouble = unwritable(out, exc)
            if trouble is None:
                raise
            raise trouble from exc
        result = export_layer(Scope(user.scope_code, session=token), user.role,
                              request_of(job), out, user_agent=f"onemap worker (job {job.id})",
                              via="job")
    except BaseException as exc:
        error = _error_text(exc, user.role, job.layer)
        if not isinstance(exc, (*REFUSALS, ExportRefused)):
            log.error("export job %d failed: %s: %s", job.id, type(exc).__name__, exc)
        with engine.begin() as conn:
            export_jobs.fail(conn, job.id, error if isinstance(exc, Exception) else INTERRUPTED)
        if not isinstance(exc, Exception):
            raise
        return Outcome("failed", error=error)
    finally:
        beating.stop()
        with engine.begin() as conn:
            sessions.end(conn, token, "export job finished")
    with engine.begin() as conn:
        finished = export_jobs.finish(conn, job.id, rows=result.rows, size=result.bytes,
                                      file_name=result.path.name, keep=keep)
    if not finished:  # failed by the stale sweep while it ran: nobody will fetch the file
        result.path.unlink(missing_ok=True)
        return Outcome("failed", error=export_jobs.STALE_ERROR)
    log.info("export job %d: %d rows of %s -> %s", job.id, result.rows, job.layer,
             result.path.name)
    return Outcome("done", rows=result.rows, path=result.path)


class JobRunner:
    """Claims and runs queued jobs one at a time; `serve` polls until stopped, `drain` runs
    what is waiting and returns. `current` is the job running now (`abandon` fails it when
    the worker stops mid-way)."""

    def __init__(self, engine: Engine, folder: Path, keep: timedelta, *,
                 poll_seconds: float = 2.0) -> None:
        self.engine, self.folder, self.keep = engine, Path(folder), keep
        self.poll_seconds = poll_seconds
        self.stopped = threading.Event()
        self.current: int | None = None

    def run_next(self) -> Outcome | None:
        """Claim the oldest queued job and run it; None when none is waiting."""
        with self.engine.begin() as conn:  # committed at once: the claim is ours
            claimed = export_jobs.claim(conn)
        if claimed is None:
            return None
        self.current = claimed.job.id
        try:
            return run_job(self.engine, claimed, self.folder, keep=self.keep)
        finally:
            self.current = None

    def drain(self) -> int:
        """Run every job waiting now; how many ran."""
        ran = 0
        while not self.stopped.is_set() and self.run_next() is not None:
            ran += 1
        return ran

    def serve(self) -> None:
        """Poll the queue every `poll_seconds` and run what comes, until `stop`."""
        while not self.stopped.is_set():
            try:
                if self.drain():
                    continue
            except Exception as exc:  # the database may be restarting: try again later
                log.warning("export queue: %s", type(exc).__name__)
            self.stopped.wait(self.poll_seconds)

    def stop(self) -> None:
        self.stopped.set()

    def abandon(self) -> None:
        """Stop, and fail the job running now: the process is going and takes it along (what
        it wrote so far goes with its folder at the next sweep)."""
        self.stop()
        running = self.current
        if running is not None:
            with self.engine.begin() as conn:
                export_jobs.fail(conn, running, INTERRUPTED)

"""`onemap worker`: the background jobs on a timer: warnings and escalation every pass, the
events' maintained counts per grid when they are older than ten minutes, and the KPI counts'
log folded every pass. Beside the passes a thread runs the export page's jobs as they come
(the queue is polled every two seconds, exports/jobs.py); at start-up and every pass, jobs whose
worker died are failed and expired files deleted.

Any number may run, on one machine or several against one database: each pass acts on each
case and step once (geodata/escalation.py says how), and each export job runs once
(geodata/export_jobs.py). `make run` starts one beside the server.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import timedelta

import typer

from exports.jobs import JobRunner
from geodata import escalation, export_jobs
from geodata.event_counts import RECOUNT_EVERY, refresh_event_counts
from geodata.event_stats import compact_event_stats
from geodata.db import get_engine
from onemap.settings import get_settings

log = logging.getLogger("onemap.worker")


def worker(
    every: float = typer.Option(60.0, min=1.0, help="Seconds between passes."),
    once: bool = typer.Option(False, help="One pass (and the export jobs queued now), then "
                              "exit (for cron or a test)."),
) -> None:
    """Warn cases at 80 % of a stage's limit and escalate those past it, every minute; run
    the export page's jobs as they are queued."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(levelname)s] %(message)s")
    engine = get_engine()
    settings = get_settings()
    exports = JobRunner(engine, settings.export_dir,
                        timedelta(hours=settings.export_hours))
    typer.echo(f"OneMap worker: warnings and escalation every {every:g} s; export jobs "
               f"into {settings.export_dir}")
    _tidy_exports(engine, settings.export_dir, once)  # jobs a killed worker left running
    if once:  # what is queued now, then the pass
        exports.drain()
    else:
        threading.Thread(target=exports.serve, name="export-jobs", daemon=True).start()
        # `kill` (make run's trap) ends the worker as Ctrl-C does: the job running is failed
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        _passes(engine, every, once, settings.export_dir)
    finally:
        exports.abandon()


def _tidy_exports(engine, folder, once: bool) -> None:
    """Fail export jobs whose worker died, delete expired files."""
    try:
        with engine.begin() as conn:
            stale = export_jobs.fail_stale(conn, folder)
            expired = export_jobs.expire(conn, folder)
        if stale or expired:
            log.info("export jobs: failed %d left by a stopped worker, expired %d",
                     len(stale), len(expired))
    except Exception as exc:  # the database may be restarting: the next pass tries again
        log.warning("export jobs' sweep failed: %s", type(exc).__name__)
        if once:
            raise


def _passes(engine, every: float, once: bool, folder) -> None:
    while True:
        started = time.monotonic()
        try:
            with engine.begin() as conn:
                done = escalation.run_once(conn)
            if done["warned"] or done["escalated"]:
                log.info("warned %d, escalated %d", done["warned"], done["escalated"])
            with engine.begin() as conn:  # its own short transaction: it locks out writers
                counted = refresh_event_counts(conn, older_than=RECOUNT_EVERY)
            if counted is not None:
                log.info("recounted %d events by grid", counted)
            with engine.begin() as conn:
                folded = compact_event_stats(conn)
            if folded:
                log.info("folded %d rows of the KPI counts' log", folded)
            _tidy_exports(engine, folder, once)
        except Exception as exc:  # the database may be restarting: say so once, try again
            log.warning("pass failed: %s", type(exc).__name__)
            if once:
                raise
        if once:
            return
        time.sleep(max(0.0, every - (time.monotonic() - started)))

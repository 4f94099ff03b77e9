"""`onemap worker`: the background jobs on a timer: warnings and escalation every pass, the
events' maintained counts per grid when they are older than ten minutes, and the KPI counts'
log folded every pass.

Any number may run, on one machine or several against one database: each pass acts on each
case and step once (geodata/escalation.py says how). `make run` starts one beside the server.
"""

from __future__ import annotations

import logging
import time

import typer

from geodata import escalation
from geodata.event_counts import RECOUNT_EVERY, refresh_event_counts
from geodata.event_stats import compact_event_stats
from geodata.db import get_engine

log = logging.getLogger("onemap.worker")


def worker(
    every: float = typer.Option(60.0, min=1.0, help="Seconds between passes."),
    once: bool = typer.Option(False, help="One pass, then exit (for cron or a test)."),
) -> None:
    """Warn cases at 80 % of a stage's limit and escalate those past it, every minute."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(levelname)s] %(message)s")
    engine = get_engine()
    typer.echo(f"OneMap worker: warnings and escalation every {every:g} s")
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
        except Exception as exc:  # the database may be restarting: say so once, try again
            log.warning("pass failed: %s", type(exc).__name__)
            if once:
                raise
        if once:
            return
        time.sleep(max(0.0, every - (time.monotonic() - started)))

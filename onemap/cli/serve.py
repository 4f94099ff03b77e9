"""`onemap serve`: the dashboard behind gunicorn (threads per worker; processes by --workers)."""

from __future__ import annotations

import os
import sys

import typer

from geodata.db import database_url
from onemap.settings import PROJECT_ROOT, THREADS_PER_WORKER, get_settings

# address, time, method, path (without its query string), status, bytes, milliseconds, and
# the worker that answered (<pid>: which of several workers served a request)
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms %(p)s'


def serve(
    host: str = typer.Option(None, help="Address to listen on [default: ONEMAP_HOST]."),
    port: int = typer.Option(None, help="Port to listen on [default: ONEMAP_PORT]."),
    workers: int = typer.Option(None, help="Worker processes [default: ONEMAP_WORKERS]."),
) -> None:
    """Serve the dashboard (starts the embedded database if it is not running)."""
    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    database_url()  # start the embedded cluster once, before any worker forks
    typer.echo(f"OneMap on http://{host}:{port} ({workers} worker{'s' if workers > 1 else ''})")
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    os.execv(gunicorn, [
        gunicorn, "app:server",
        "--chdir", str(PROJECT_ROOT),
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--threads", str(THREADS_PER_WORKER),
        "--timeout", "120",
        "--log-level", settings.log_level.lower(),
        # if an access log is turned on (GUNICORN_CMD_ARGS="--access-logfile -"), it holds no
        # query strings or referers: they can carry what users typed (a name, a search)
        "--access-logformat", ACCESS_LOG_FORMAT,
        "--no-control-socket",  # several instances (a test run beside `make run`) must not clash
    ])

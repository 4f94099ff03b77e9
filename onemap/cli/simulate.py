"""`onemap simulate`: a live district, driven through the public HTTP API with API tokens
(onemap/simulator/). `make run` starts one beside the server unless ONEMAP_SIMULATE=false.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path

import typer

from geodata.db import get_engine
from onemap.settings import PROJECT_ROOT, get_settings
from onemap.simulator.cast import CastError
from onemap.simulator.places import PlacesError
from onemap.simulator.runner import Busy, NotServing, Options, run


def simulate(
    rate: float = typer.Option(60.0, min=0.0, help="Reports an hour on the day's average."),
    speed: float = typer.Option(1.0, min=0.001,
                                help="Simulated time runs this many times faster (60: an "
                                     "hour a minute)."),
    url: str = typer.Option(None, help="The server (default: http://ONEMAP_HOST:ONEMAP_PORT)."),
    duration: float = typer.Option(None, min=0.0,
                                   help="Stop after this many real seconds (default: run "
                                        "until interrupted)."),
    seed: int = typer.Option(1, help="The same seed makes the same reports, in the same "
                                     "order, and goes on where its last run stopped."),
    workers: int = typer.Option(20, min=0, help="Grid workers with a simulated phone."),
    sensors: int = typer.Option(300, min=0, help="Sensors the IoT platform reads."),
    concurrency: int = typer.Option(4, min=1, max=32, help="Calls in flight at most."),
    state_dir: Path = typer.Option(PROJECT_ROOT / "var" / "simulator",
                                   help="Where the tokens (0600) and each seed's state are "
                                        "kept."),
    wait: float = typer.Option(120.0, min=0.0,
                               help="Seconds to wait for the server's /healthz at the start."),
    log_every: float = typer.Option(60.0, min=0.1, help="Seconds between two count lines."),
) -> None:
    """Simulate a live district through the API: reports, officers, grid workers, sensors."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s simulate %(levelname)s %(message)s")
    log = logging.getLogger("onemap.simulate")
    settings = get_settings()
    if not settings.simulate:
        log.info("ONEMAP_SIMULATE is false: not simulating")
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    options = Options(url or f"http://{settings.host}:{settings.port}", rate, speed, duration,
                      seed, workers, sensors, concurrency, log_every, state_dir, wait)
    try:
        run(options, get_engine(), stop)
    except (Busy, CastError, NotServing, PlacesError) as exc:
        log.error("%s", exc)
        raise typer.Exit(1) from None

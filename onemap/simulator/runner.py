"""One run of the simulator: set up the cast (cast.py), wait for the server, read the district
through the API (places.py), pick up where the last run with this seed stopped, and let the
reports, officers, workers and sensors act until stopped.

Where a run stands is saved every minute and at the end in `<state dir>/state-<seed>.json`:
each channel's next report number and the cases in hand. The next run with the same seed goes
on from there. Should it start from an older state (the file lost, or a crash between two
saves), it sends reports it already sent again, with the same Idempotency-Key, and the server
answers with the cases they made: nothing is doubled.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from . import places as district
from .cases import Case, CaseWork
from .cast import assemble
from .client import Api
from .patrol import Patrol
from .scenario import (
    REPORTED_CHANNELS,
    Arrivals,
    Clock,
    Places,
    load_categories,
    sensor_cases_per_hour,
)
from .schedule import Simulation
from .sensing import Platform
from .walking import Frame, street_angle

log = logging.getLogger("onemap.simulate")

DISTRICT_TIME = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Options:
    url: str
    rate: float  # reports an hour on the day's average
    speed: float  # simulated seconds per real second
    duration: float | None  # real seconds; None: until stopped
    seed: int
    workers: int
    sensors: int
    concurrency: int
    log_every: float  # real seconds between two count lines
    state_dir: Path
    wait: float  # real seconds to wait for the server at the start


SAVE_EVERY = 5.0  # real seconds: a restart repeats at most this much of the loop's steps


class NotServing(RuntimeError):
    """The server did not come up in time."""


class Busy(RuntimeError):
    """Another simulator runs on the same state folder."""


def _hold(state_dir: Path):
    """A lock on the state folder for the run's length: two simulators acting as the same
    users on the same cases would only get in each other's way."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock = open(state_dir / "lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise Busy(f"another onemap simulate is running on {state_dir}") from None
    return lock


def _wait_for(api: Api, seconds: float, stop: threading.Event) -> None:
    deadline = time.monotonic() + seconds
    said = False
    while not stop.is_set() and not api.healthy():
        if time.monotonic() > deadline:
            raise NotServing(f"{api.base} did not answer /healthz within {seconds:g} s")
        if not said:
            log.info("waiting for %s/healthz", api.base)
            said = True
        stop.wait(1.0)


def _load_state(path: Path, seed: int) -> dict:
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return state if state.get("seed") == seed else {}


def _save_state(path: Path, seed: int, arrivals: dict[str, Arrivals], work: CaseWork) -> None:
    state = {"seed": seed, "saved_at": datetime.now(DISTRICT_TIME).isoformat(),
             "channels": {c: a.next_index for c, a in arrivals.items()},
             "cases": [case.saved() for case in work.cases.values()]}
    fresh = path.with_suffix(".tmp")
    fresh.write_text(json.dumps(state, ensure_ascii=False, indent=1))
    os.replace(fresh, path)


def run(options: Options, engine: Engine, stop: threading.Event) -> str:
    """Simulate until `stop` is set or the duration is over; the totals, as one line."""
    with _hold(options.state_dir):
        return _run(options, engine, stop)


def _run(options: Options, engine: Engine, stop: threading.Event) -> str:
    cast = assemble(engine, token_file=options.state_dir / "tokens.json", seed=options.seed,
                    workers=options.workers, sensors=options.sensors)
    log.info("district %s: %d grid workers, %d sensors, tokens in %s", cast.district,
             len(cast.workers), len(cast.sensors), options.state_dir / "tokens.json")
    api = Api(options.url, stop)
    _wait_for(api, options.wait, stop)
    duty = cast.offices["sim-duty"]
    labels = district.grid_labels(api, duty.token)
    bbox = district.extent(labels)
    buildings = district.buildings(api, duty.token, bbox)
    places = Places(district.as_places(buildings, labels), options.seed)
    centre = (sum(b.lon for b in buildings) / len(buildings),
              sum(b.lat for b in buildings) / len(buildings))
    frame = Frame(*centre)
    angle = street_angle((b.ring for b in buildings), frame)
    log.info("%d buildings, %d grids; streets run at %.1f° from east", len(buildings),
             len(labels), angle * 57.2958)

    clock = Clock(datetime.now(DISTRICT_TIME), options.speed, time.monotonic())
    sim = Simulation(api, clock, stop, concurrency=options.concurrency,
                     log_every=options.log_every)
    api.on_retry = sim.note_retry
    work = CaseWork(sim, cast, options.seed, load_categories(), places, bbox)
    for worker in cast.workers:
        mine = district.as_places(district.buildings(api, worker.token, bbox), labels)
        if not mine:
            log.warning("%s sees no building in grid %s: left out", worker.name,
                        worker.grid_code)
            continue
        work.add(Patrol(sim, work, worker, mine, frame, angle, options.seed))

    state_file = options.state_dir / f"state-{options.seed}.json"
    state = _load_state(state_file, options.seed)
    arrivals = {c: Arrivals(options.seed, c, options.rate, state.get("channels", {}).get(c, 0))
                for c in REPORTED_CHANNELS}
    known_fields = set(Case.__dataclass_fields__) - {"plan"}
    for saved in state.get("cases", []):
        case = Case(**{k: v for k, v in saved.items() if k in known_fields})
        work.cases[case.id] = case
        work.resume(case)
    if state:
        log.info("going on from %s: %d cases in hand", state_file, len(work.cases))

    def reports(begin: datetime, end: datetime) -> None:
        for channel, stream in arrivals.items():
            for _when, index in stream.between(begin, end):
                work.report(channel, index)

    saved = [time.monotonic()]

    def save(_begin: datetime, _end: datetime) -> None:
        if time.monotonic() - saved[0] >= SAVE_EVERY:
            _save_state(state_file, options.seed, arrivals, work)
            saved[0] = time.monotonic()

    sim.tickers += [reports, work.look_at_the_map, save]
    for patrol in work.patrols:
        patrol.start()
    platform = Platform(sim, work, cast.offices["sim-iot"], cast.sensors, options.seed,
                        sensor_cases_per_hour(options.rate))
    platform.start()
    log.info("simulating from %s at %g reports an hour, %g× speed", f"{clock.start:%H:%M}",
             options.rate, options.speed)

    until = None if options.duration is None else time.monotonic() + options.duration
    try:
        sim.run(until)
    finally:
        sim.finish([patrol.off_duty() for patrol in work.patrols])
        _save_state(state_file, options.seed, arrivals, work)
    totals = sim.totals()
    log.info("stopped; in all: %s", totals)
    return totals

"""A simulated grid worker on their phone: on duty (PUT /api/staff/me/duty), walking at 4-5 km/h
along the streets between the buildings of their grid, or to the case they accepted, and
sending where they are (PUT /api/staff/me/position, GCJ-02 as a phone's location SDK gives
it) every simulated minute, or every couple of real seconds when the clock runs so fast that
a minute is shorter. On site, the case's handling starts (cases.CaseWork.work).
"""

from __future__ import annotations

import logging
import random
from collections import deque
from datetime import timedelta
from typing import TYPE_CHECKING

from onemap.domain.coordinates import wgs84_to_gcj02

from .client import Answer
from .cast import Worker
from .schedule import Call, Simulation
from .scenario import Place, Places, dwell, walking_speed
from .walking import Frame, Walk

if TYPE_CHECKING:
    from .cases import Case, CaseWork

log = logging.getLogger("onemap.simulate")

POSITION_EVERY = timedelta(minutes=1)
MIN_REAL_SECONDS = 2.0  # however fast the clock: at most one position a worker this often


class Patrol:
    def __init__(self, sim: Simulation, work: CaseWork, worker: Worker, buildings: list[Place],
                 frame: Frame, angle: float, seed: int) -> None:
        self.sim, self.work, self.worker = sim, work, worker
        self.frame, self.angle = frame, angle
        self.buildings = buildings
        self.places = Places(buildings, seed, spread=False)  # where this worker reports
        self.speed = walking_speed(seed, worker.name)
        self.rng = random.Random(f"{seed}:patrol:{worker.name}")
        self.queue: deque[Case] = deque()
        self.current: Case | None = None
        self.on_site = False
        first = self._building()
        self.walk = Walk(frame, angle, first, first, self.speed, sim.now)
        self.rest_until = sim.now
        self.period = max(POSITION_EVERY,
                          timedelta(seconds=MIN_REAL_SECONDS * sim.clock.speed))
        self._sending = False

    def _building(self) -> tuple[float, float]:
        place = self.rng.choice(self.buildings)
        return place.lon, place.lat

    def _walk_to(self, target: tuple[float, float]) -> None:
        now = self.sim.now
        self.walk = Walk(self.frame, self.angle, self.walk.at(now), target, self.speed, now,
                         along_first=self.rng.random() < 0.5)

    # -- duty ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Go on duty, then keep moving and telling where."""

        def answered(answer: Answer) -> None:
            if answer.ok:
                self.sim.stats.count("duty")
                self.tick()
            else:
                self.sim.error(call, answer)
                self.work.drop(self)

        call = Call(self.worker.token, self.worker.name, "PUT", "/api/staff/me/duty", "duty",
                    answered, body={"on_duty": True})
        self.sim.send(call)

    def off_duty(self) -> Call:
        return Call(self.worker.token, self.worker.name, "PUT", "/api/staff/me/duty", "duty",
                    body={"on_duty": False})

    # -- moving --------------------------------------------------------------------------------

    def tick(self) -> None:
        now = self.sim.now
        arrived = now >= self.walk.arrival
        if self.current is None and arrived and now >= self.rest_until:
            self._walk_to(self._building())
            self.rest_until = self.walk.arrival + dwell(self.rng)
        elif self.current is not None and arrived and not self.on_site:
            self.on_site = True
            self.work.work(self.current)
        self._send_position(now)
        self.sim.at(now + self.period, self.tick)

    def _send_position(self, now) -> None:
        if self._sending:  # the last one has not been answered: no queue of stale positions
            return
        lon, lat = wgs84_to_gcj02(*self.walk.at(now))

        def answered(answer: Answer) -> None:
            self._sending = False
            if answer.ok:
                self.sim.stats.count("position")
            elif answer.status is None:  # unreachable: the retried calls say so in the log
                self.sim.stats.count("error")
            else:
                self.sim.error(call, answer)

        self._sending = True
        call = Call(self.worker.token, self.worker.name, "PUT", "/api/staff/me/position",
                    "position", answered,
                    body={"lon": round(float(lon), 7), "lat": round(float(lat), 7),
                          "crs": "gcj02"},
                    retry=False)  # a position retried later is stale: the next one is fresher
        self.sim.send(call)

    # -- cases ---------------------------------------------------------------------------------

    def take(self, case: Case) -> None:
        """A case accepted: to it at once if free, else after the ones before it."""
        if case is self.current or any(c is case for c in self.queue):
            return
        self.queue.append(case)
        if self.current is None:
            self._next()

    def done(self, case: Case) -> None:
        """Reported back: back on patrol, or on to the next case."""
        if case is self.current:
            self.current, self.on_site = None, False
            self.rest_until = self.sim.now
            self._next()

    def _next(self) -> None:
        if self.queue:
            self.current, self.on_site = self.queue.popleft(), False
            self._walk_to((self.current.lon, self.current.lat))

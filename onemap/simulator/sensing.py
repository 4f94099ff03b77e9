"""The IoT platform (sim-iot): every simulated quarter of an hour (or every couple of real
seconds when the clock runs faster) one batch of readings, POST /api/sensors/readings, stamped
with the real time (the server refuses readings from the future, and the simulated clock may
run ahead). The cases the alarms open go to the officer (cases.CaseWork.take_on).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from onemap.domain.alarms import MAX_READINGS, SENSOR_CASES

from .cases import CaseWork
from .cast import Member
from .client import Answer
from .readings import READING_EVERY, Sensor, SensorFeed
from .schedule import Call, Simulation

log = logging.getLogger("onemap.simulate")

MIN_REAL_SECONDS = 2.0


class Platform:
    def __init__(self, sim: Simulation, work: CaseWork, iot: Member, sensors: list[Sensor],
                 seed: int, alarms_per_hour: float) -> None:
        self.sim, self.work, self.iot = sim, work, iot
        self.by_code = {s.code: s for s in sensors}
        self.feed = SensorFeed(sensors, seed, alarms_per_hour)
        self.every = max(READING_EVERY, timedelta(seconds=MIN_REAL_SECONDS * sim.clock.speed))
        self.last: datetime | None = None
        self.in_flight = 0
        self.enabled = bool(sensors)

    def start(self) -> None:
        if self.enabled:
            self.last = self.sim.now
            self.sim.at(self.sim.now + self.every, self.tick)

    def tick(self) -> None:
        now = self.sim.now
        if not self.enabled:
            return
        self.sim.at(now + self.every, self.tick)
        if self.in_flight:  # the platform is still sending the last batch
            return
        hours = (now - self.last).total_seconds() / 3600
        self.last = now
        before = set(self.feed.open)
        readings = self.feed.tick(now, hours)
        started = [code for code in self.feed.open if code not in before]
        at = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        for first in range(0, len(readings), MAX_READINGS):
            batch = readings[first:first + MAX_READINGS]
            self._send([{"sensor": code, "at": at, "value": value} for code, value in batch],
                       [c for c in started if any(code == c for code, _v in batch)])

    def _send(self, batch: list[dict], started: list[str]) -> None:
        def answered(answer: Answer) -> None:
            self.in_flight -= 1
            if answer.status == 404:
                self.enabled = False  # a server without the sensor API: say so once
                log.warning("POST /api/sensors/readings: 404, this server takes no readings;"
                            " sensors left out")
                return
            if answer.status != 200:
                self.sim.error(call, answer)
                return
            summary = answer.body
            self.sim.stats.count("reading", summary.get("stored", 0))
            self.sim.stats.count("alarm", len(summary.get("alarms_raised", [])))
            self._take_on(summary.get("cases_opened", []), started)

        self.in_flight += 1
        call = Call(self.iot.token, self.iot.name, "POST", "/api/sensors/readings", "readings",
                    answered, body={"readings": batch})
        self.sim.send(call)

    def _take_on(self, opened: list[dict], started: list[str]) -> None:
        """The officer takes on the cases the alarms opened; in one batch the server opens
        them in the order of its sensors, which is the order of their codes here."""
        sensors = sorted((self.by_code[c] for c in started), key=lambda s: s.code)
        for case, sensor in zip(sorted(opened, key=lambda c: c["alarm_id"]),
                                sensors + [None] * len(opened)):
            if sensor is None:
                continue
            kind = SENSOR_CASES.get(sensor.kind)
            self.work.take_on(case["id"], sensor.lon, sensor.lat,
                              category=kind.category if kind else None,
                              level=kind.level if kind else None)

"""What a simulated sensor reads: its kind's normal level with noise, inside its thresholds,
and now and then an excursion past one that recovers after a while. A one-touch emergency
button (一键通) sends nothing until pressed (1) and its reset (0) ends the call.

The levels, spreads and thresholds are the demo's (etl/demo/devices.py), the size of an
alarm reading the demo's too (etl/demo/events.py: 1.3 times the high threshold, 0.6 times
the low one). Excursions are as frequent as the sensor channel's share of all reports
(scenario.sensor_cases_per_hour). Pure and seeded.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from etl.demo.devices import SENSORS as DEMO_SENSORS

HIGH_ALARM_FACTOR = 1.3
LOW_ALARM_FACTOR = 0.6
LOW_SHARE_OF_PRESSURE_ALARMS = 1 / 3  # the demo's: a third of water-pressure alarms are low
# Assumptions (the seeds give no figures):
EXCURSION_MEAN_H = 1.0  # how long a reading stays past its threshold
READING_EVERY = timedelta(minutes=15)  # how often a sensor reports through the platform
QUIET_MARGIN = 0.1  # normal readings stay this share of the band inside the thresholds


@dataclass(frozen=True)
class Sensor:
    """A sensor the simulator reads: its code, kind, thresholds and place (WGS84)."""

    code: str
    kind: str
    low: float | None
    high: float | None
    lon: float
    lat: float

    @property
    def is_button(self) -> bool:
        return self.kind == "emergency_button"


def _band(sensor: Sensor) -> float:
    if sensor.low is not None and sensor.high is not None:
        return sensor.high - sensor.low
    return abs(sensor.high if sensor.high is not None else sensor.low or 1.0)


def normal_value(rng: random.Random, sensor: Sensor) -> float:
    """The kind's level with its spread, kept well inside the thresholds (so it also clears an
    alarm: the server wants a recovery 5 % of the band inside)."""
    _share, _place, _unit, _low, _high, level, spread = DEMO_SENSORS[sensor.kind]
    value = abs(level + rng.gauss(0, 1) * spread)
    margin = QUIET_MARGIN * _band(sensor)
    if sensor.high is not None:
        value = min(value, sensor.high - margin)
    if sensor.low is not None:
        value = max(value, sensor.low + margin)
    return round(value, 3)


def alarm_value(sensor: Sensor, direction: str) -> float:
    """A reading past the threshold the excursion crosses."""
    if direction == "trigger":
        return 1.0
    if direction == "low":
        return round(sensor.low * LOW_ALARM_FACTOR, 3)
    return round(sensor.high * HIGH_ALARM_FACTOR, 3)


def excursion_direction(rng: random.Random, sensor: Sensor) -> str | None:
    """Which way an excursion goes; None for a sensor with no threshold to cross."""
    if sensor.is_button:
        return "trigger"
    if (sensor.low is not None and sensor.high is not None and sensor.kind == "water_pressure"
            and rng.random() < LOW_SHARE_OF_PRESSURE_ALARMS):
        return "low"
    if sensor.high is not None:
        return "high"
    return "low" if sensor.low is not None else None


@dataclass
class Excursion:
    direction: str
    until: datetime


class SensorFeed:
    """The readings of a set of sensors, tick by tick: each tick gives every sensor's reading
    due (a button's only when pressed or reset) and starts or ends excursions."""

    def __init__(self, sensors: list[Sensor], seed: int, alarms_per_hour: float) -> None:
        self.sensors = sensors
        self.seed = seed
        # per sensor and hour, so that all of them together raise `alarms_per_hour`
        self.start_rate = alarms_per_hour / len(sensors) if sensors else 0.0
        self.open: dict[str, Excursion] = {}
        self.tick_index = 0

    def tick(self, now: datetime, hours: float) -> list[tuple[str, float]]:
        """(code, value) of each reading at simulated time `now`, `hours` after the last tick."""
        out = []
        chance = 1 - math.exp(-self.start_rate * hours)
        for sensor in self.sensors:
            rng = random.Random(f"{self.seed}:reading:{sensor.code}:{self.tick_index}")
            excursion = self.open.get(sensor.code)
            if excursion is not None and now >= excursion.until:
                del self.open[sensor.code]
                out.append((sensor.code, 0.0 if sensor.is_button else normal_value(rng, sensor)))
                continue
            if excursion is None and rng.random() < chance:
                direction = excursion_direction(rng, sensor)
                if direction is not None:
                    length = timedelta(hours=rng.expovariate(1 / EXCURSION_MEAN_H))
                    excursion = self.open[sensor.code] = Excursion(direction, now + length)
            if excursion is not None:
                out.append((sensor.code, alarm_value(sensor, excursion.direction)))
            elif not sensor.is_button:
                out.append((sensor.code, normal_value(rng, sensor)))
        self.tick_index += 1
        return out

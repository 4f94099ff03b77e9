"""What happens in the simulated district and when: reports per channel following the daily
cycle, their categories, levels, places and words, and how long each step of the loop takes.

Pure and seeded (no HTTP, no database): the k-th report of a channel is the same report for
the same seed whenever it is made, so a restarted simulator sends it with the same
Idempotency-Key and the server answers with the case it already has.

The numbers are the demo's (etl/demo/rhythms.py). Where the demo has none, the assumption is
named here as such.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from etl.demo import rhythms
from etl.demo.names import mobile_numbers, person_names

# sensor cases come from readings past a threshold (readings.py), not from POST /api/events
REPORTED_CHANNELS = tuple(c for c in rhythms.CHANNELS if c != "sensor")
# phones locate themselves with AMap's or Tencent's SDK and send GCJ-02
PHONE_CHANNELS = ("resident_app", "wechat", "grid_worker")

# Assumptions (the seeds give no figures):
REPEAT_SHARE = 0.1  # a public report about something reported in the last hours nearby
REPEAT_SPREAD_M = 15.0  # ... standing a few steps from the first reporter
MERGE_SHARE = 0.8  # a flagged possible duplicate the officer merges (else dismisses the flag)
DWELL_MEAN_MIN = 10.0  # a worker on patrol stays this long at a building
WALKING_KMH = (4.0, 5.0)


def hour_profile(channel: str) -> tuple[float, ...]:
    """The channel's reports per hour of day, scaled so the day's mean is 1."""
    if channel in rhythms.FIELD:
        profile = rhythms.FIELD_HOURS
    elif channel in rhythms.PUBLIC:
        profile = rhythms.PUBLIC_HOURS
    else:
        profile = rhythms.FLAT_HOURS
    return tuple(float(v) for v in profile * 24 / profile.sum())


_PROFILES = {c: hour_profile(c) for c in REPORTED_CHANNELS}
_SHARE_TOTAL = sum(rhythms.CHANNELS[c] for c in REPORTED_CHANNELS)


def channel_rate(channel: str, hour: int, rate: float) -> float:
    """Reports an hour of this channel at this hour of day, when all channels together make
    `rate` reports an hour on the day's average."""
    return rate * rhythms.CHANNELS[channel] / _SHARE_TOTAL * _PROFILES[channel][hour]


def sensor_cases_per_hour(rate: float) -> float:
    """Sensor alarms an hour that keep the sensor channel's share of the mix beside `rate`."""
    return rate * rhythms.CHANNELS["sensor"] / _SHARE_TOTAL


def _draw(seed: int, *what) -> random.Random:
    """The random stream of one thing (a channel's k-th report, a case's delays): the same for
    the same seed in every run, whatever happened before."""
    return random.Random(":".join(str(part) for part in (seed, *what)))


# -- the simulated clock ------------------------------------------------------------------------

@dataclass(frozen=True)
class Clock:
    """Simulated time runs `speed` times faster than the real clock from `start` (the district's
    local time when the run began, at real monotonic second `real_start`)."""

    start: datetime
    speed: float
    real_start: float

    def at(self, real: float) -> datetime:
        return self.start + timedelta(seconds=(real - self.real_start) * self.speed)

    def real_at(self, simulated: datetime) -> float:
        return self.real_start + (simulated - self.start).total_seconds() / self.speed


# -- arrivals -----------------------------------------------------------------------------------

class Arrivals:
    """One channel's reports as a Poisson process whose intensity follows the hour of day:
    each report comes once the intensity integrated since the previous one reaches that
    report's own exponential draw (so report k's time depends on the clock, its draw on the
    seed alone)."""

    def __init__(self, seed: int, channel: str, rate: float, next_index: int = 0) -> None:
        self.seed, self.channel, self.rate = seed, channel, rate
        self.next_index = next_index
        self._owed = self._target(next_index)

    def _target(self, index: int) -> float:
        return _draw(self.seed, "arrival", self.channel, index).expovariate(1.0)

    def between(self, begin: datetime, end: datetime) -> list[tuple[datetime, int]]:
        """The reports due in [begin, end): (when, index)."""
        due = []
        at = begin
        while at < end:
            hour_end = at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            segment_end = min(hour_end, end)
            intensity = channel_rate(self.channel, at.hour, self.rate)  # per hour
            while intensity > 0:
                hours_left = (segment_end - at).total_seconds() / 3600
                if self._owed > intensity * hours_left:
                    self._owed -= intensity * hours_left
                    break
                at += timedelta(hours=self._owed / intensity)
                due.append((at, self.next_index))
                self.next_index += 1
                self._owed = self._target(self.next_index)
            at = segment_end
        return due


# -- the catalogue and places -------------------------------------------------------------------

@dataclass(frozen=True)
class Category:
    """A leaf of the event catalogue (geodata/reference/event_categories.csv)."""

    code: str
    name_zh: str
    kind: str  # component, event or social
    default_level: int
    limit_hours: float | None  # handling limit in working hours
    weight: float


CATALOGUE = Path(__file__).resolve().parents[2] / "geodata" / "reference" / "event_categories.csv"


def load_categories(path: Path = CATALOGUE) -> list[Category]:
    """The leaves of the catalogue with a weight: what reports are about."""
    import csv

    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [Category(r["code"], r["name_zh"], r["kind"], int(r["default_level"]),
                     float(r["time_limit_hours"]) if r["time_limit_hours"] else None,
                     float(r["weight"] or 0))
            for r in rows if r["parent_code"] and float(r["weight"] or 0) > 0]


def median_limit_hours(categories: Sequence[Category]) -> float:
    """The catalogue's median handling limit: the plan of a case whose category is unknown."""
    limits = sorted(c.limit_hours for c in categories if c.limit_hours)
    return limits[len(limits) // 2]


@dataclass(frozen=True)
class Place:
    """Somewhere reports come from: a building's point (WGS84), its use, and what to call the
    place it is in (community and grid)."""

    lon: float
    lat: float
    use: str
    label: str


class Places:
    """Where reports are made: buildings weighted by use, and a few busy hotspots among the
    commercial ones, as in the demo."""

    def __init__(self, places: Sequence[Place], seed: int, *, spread: bool = True) -> None:
        """`spread`: reports scatter around buildings and hotspots as the demo's do; without
        it they are made at the building (a grid worker's, who must stay in the grid)."""
        if not places:
            raise ValueError("no buildings to report from")
        self.spread = spread
        self.places = list(places)
        self.weights = [rhythms.USE_WEIGHTS.get(p.use, 1.0) for p in self.places]
        busy = [p for p in self.places if p.use in ("commercial", "mixed")] or self.places
        self.hotspots = _draw(seed, "hotspots").sample(busy, min(rhythms.HOTSPOTS, len(busy)))

    def pick(self, rng: random.Random) -> tuple[float, float, str]:
        """A point near a building or, now and then, around a hotspot: lon, lat, label."""
        if rng.random() < rhythms.NEAR_HOTSPOT_SHARE:
            place, spread = rng.choice(self.hotspots), rhythms.HOTSPOT_SPREAD_M
        else:
            place = rng.choices(self.places, self.weights)[0]
            spread = rhythms.BUILDING_SPREAD_M
        if not self.spread:
            spread = 0.0
        lon, lat = offset(place.lon, place.lat, rng.gauss(0, spread), rng.gauss(0, spread))
        return lon, lat, place.label


METRES_PER_DEGREE = 111_320.0


def offset(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    """The point `east_m` east and `north_m` north of (lon, lat)."""
    return (lon + east_m / (METRES_PER_DEGREE * math.cos(math.radians(lat))),
            lat + north_m / METRES_PER_DEGREE)


# -- a report -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CasePlan:
    """How long each step of one case takes (hours of simulated time) and which way it goes."""

    register_h: float
    rejected: bool
    merged: bool  # if flagged as a possible duplicate
    dispatch_h: float
    accept_h: float
    work_h: float
    shelved: bool
    shelved_h: float
    returned: bool
    verify_h: float
    close_h: float

    @property
    def rework_h(self) -> float:
        """Handling again after a return: the demo's returned cases take REWORK_FACTOR times
        as long in all."""
        return self.work_h * (rhythms.REWORK_FACTOR - 1)


def calendar_hours(limit_working_hours: float) -> float:
    """A handling limit as calendar time: emergencies on the clock, the rest at the week's
    ratio of calendar to working hours."""
    if limit_working_hours <= rhythms.EMERGENCY_LIMIT_HOURS:
        return limit_working_hours
    return limit_working_hours * rhythms.CALENDAR_PER_WORKING_HOUR


def draw_plan(rng: random.Random, limit_working_hours: float, public: bool) -> CasePlan:
    """Delays and turns of a case, from the demo's distributions."""
    limit = calendar_hours(limit_working_hours)
    if public:
        register = rng.expovariate(1 / rhythms.REGISTER_PUBLIC_MEAN_H)
    else:
        register = rng.uniform(*rhythms.REGISTER_FIELD_RANGE_H)
    reject_share = rhythms.REJECT_SHARE_PUBLIC if public else rhythms.REJECT_SHARE_OTHER
    return CasePlan(
        register_h=register,
        rejected=rng.random() < reject_share,
        merged=rng.random() < MERGE_SHARE,
        dispatch_h=rng.expovariate(1 / rhythms.DISPATCH_MEAN_H),
        accept_h=rng.expovariate(1 / rhythms.ACCEPT_MEAN_H),
        work_h=limit * rng.lognormvariate(math.log(rhythms.WORK_SHARE_MEDIAN),
                                          rhythms.WORK_SHARE_SIGMA),
        shelved=rng.random() < rhythms.SHELVE_SHARE,
        shelved_h=rng.expovariate(1 / limit),  # assumption: about one more handling limit
        returned=rng.random() < rhythms.RETURN_SHARE,
        verify_h=rng.expovariate(1 / rhythms.VERIFY_MEAN_H),
        close_h=rng.expovariate(1 / rhythms.CLOSE_MEAN_H),
    )


def case_plan(seed: int, case_key: str, limit_working_hours: float, public: bool) -> CasePlan:
    """The plan of the case known by `case_key` (its report's key, or "case<id>" for a case
    the simulator did not report): the same in every run."""
    return draw_plan(_draw(seed, "plan", case_key), limit_working_hours, public)


@dataclass(frozen=True)
class Report:
    """A report ready to send (body of POST /api/events) and what the simulator keeps of it."""

    key: str  # Idempotency-Key
    channel: str
    category: Category
    level: int
    lon: float  # WGS84: where it is
    lat: float
    body: dict
    repeats: bool  # about something reported nearby a little earlier


def report_key(seed: int, channel: str, index: int) -> str:
    return f"sim{seed}-{channel}-{index}"


def reporter_index(seed: int, index: int, workers: int) -> int:
    """Which simulated grid worker makes the grid_worker channel's report `index`."""
    return _draw(seed, "reporter", index).randrange(workers)


def _category(rng: random.Random, categories: Sequence[Category], public: bool) -> Category:
    boost = rhythms.PUBLIC_BOOST if public else rhythms.FIELD_BOOST
    weights = [c.weight * boost["social" if c.kind == "social" else "other"] for c in categories]
    return rng.choices(categories, weights)[0]


def _words(channel: str, name: str, where: str) -> tuple[str, str]:
    """Title and description, worded as the demo's reports are."""
    if channel in rhythms.PUBLIC:
        prefix = "市民反映："
    elif channel == "camera":
        prefix = "视频发现："
    else:
        prefix = "巡查发现："
    return f"{name} · {where}", f"{prefix}{where}附近存在{name}问题，请及时处置。"


def draw_report(seed: int, channel: str, index: int, categories: Sequence[Category],
                places: Places) -> Report:
    """The channel's `index`-th report."""
    from onemap.domain.coordinates import wgs84_to_gcj02

    rng = _draw(seed, "report", channel, index)
    public = channel in rhythms.PUBLIC
    category = _category(rng, categories, public)
    level = min(5, max(1, category.default_level + rng.choice(rhythms.LEVEL_SHIFTS)))
    lon, lat, label = places.pick(rng)
    title, description = _words(channel, category.name_zh, label)
    body = {"channel": channel, "category_code": category.code, "level": level,
            "title": title, "description": description, "address": f"{label}附近"}
    if channel in PHONE_CHANNELS:
        gcj = wgs84_to_gcj02(lon, lat)
        body.update(lon=round(float(gcj[0]), 7), lat=round(float(gcj[1]), 7), crs="gcj02")
    else:
        body.update(lon=round(lon, 7), lat=round(lat, 7))
    if public:
        people = np.random.default_rng(rng.getrandbits(64))
        body["reporter_name"] = str(person_names(people, np.array([rng.choice("MF")]))[0])
        body["reporter_phone"] = str(mobile_numbers(people, 1)[0])
    return Report(report_key(seed, channel, index), channel, category, level, lon, lat, body,
                  repeats=public and rng.random() < REPEAT_SHARE)


def repeat_of(report: Report, seed: int, lon: float, lat: float, category: Category,
              level: int) -> Report:
    """The report retold about an earlier case: its category and level, a few steps away."""
    from onemap.domain.coordinates import wgs84_to_gcj02

    rng = _draw(seed, "repeat", report.key)
    lon, lat = offset(lon, lat, rng.gauss(0, REPEAT_SPREAD_M), rng.gauss(0, REPEAT_SPREAD_M))
    where = report.body["address"].removesuffix("附近")
    title, description = _words(report.channel, category.name_zh, where)
    body = dict(report.body, category_code=category.code, level=level, title=title,
                description=description)
    if body.get("crs") == "gcj02":
        gcj = wgs84_to_gcj02(lon, lat)
        body.update(lon=round(float(gcj[0]), 7), lat=round(float(gcj[1]), 7))
    else:
        body.update(lon=round(lon, 7), lat=round(lat, 7))
    return Report(report.key, report.channel, category, level, lon, lat, body, repeats=True)


def dwell(rng: random.Random) -> timedelta:
    """How long a worker on patrol stays at a building."""
    return timedelta(minutes=rng.expovariate(1 / DWELL_MEAN_MIN))


def walking_speed(seed: int, worker: str) -> float:
    """A worker's pace in metres a second (4-5 km/h)."""
    return _draw(seed, "pace", worker).uniform(*WALKING_KMH) / 3.6

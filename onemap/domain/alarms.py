"""Sensor readings, the alarms they raise and clear, and the cases alarms open (no SQL).

A reading above a sensor's high threshold or below its low one is past it (direction high or
low); a one-touch emergency call (一键通) has no thresholds and is past "its threshold" whenever
it is pressed (direction trigger). One alarm row stands for one excursion: it is raised by the
first reading past a threshold and cleared by the first reading back inside; readings in
between raise nothing more. A reading that jumps straight from above the high threshold to
below the low one ends one excursion and starts another.

Hysteresis: a reading clears an alarm only once it is back inside by CLEAR_MARGIN of the
sensor's band (5 %), so a value wavering on the threshold is one excursion, not a stream of
alarms and recoveries. A one-touch call reports 1 (or any value but 0) for a press and 0 for
the reset (复位) after it; the reset is its recovery.

Only readings newer than the newest one the sensor already had move its alarm state: a
reading that arrives late is kept for the chart, but what happened before the state we know
cannot raise or clear anything now.

An alarm becomes a case: the first opens one (channel sensor, the category and level the
sensor's kind maps to); a later alarm of the same sensor while that case is open joins it
instead of opening another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Annotated, NamedTuple

from pydantic import ConfigDict, Field, ValidationError

from onemap.domain import lifecycle
from onemap.domain.requests import RequestModel, field_errors
from onemap.domain.vocab import ALARM_DIRECTIONS, SENSOR_KINDS

MAX_READINGS = 1000  # one request; an IoT platform sends more as further batches
MAX_CODE = 32  # sensor.code's width
CLOCK_SKEW = timedelta(minutes=5)  # a device's clock may run this far ahead of ours
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)  # before it: a device with no clock set
CLEAR_MARGIN = 0.05  # hysteresis, as a share of the sensor's band
BUTTON_KINDS = ("emergency_button",)  # a press is the alarm; no thresholds


@dataclass(frozen=True)
class Reading:
    """One reading of a batch, checked: the sensor's code, when (aware), the value."""

    sensor: str
    at: datetime
    value: float


class InvalidReadings(ValueError):
    """A batch that cannot be stored, or a window that cannot be read; `errors` maps each bad
    field (readings[3].value, since) to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class ReadingIn(RequestModel):
    """One reading as a platform sends it (a code with spaces around it is refused, not
    trimmed: it names no sensor of ours)."""

    model_config = ConfigDict(str_strip_whitespace=False)

    sensor: Annotated[str, Field(min_length=1, max_length=MAX_CODE, pattern=r"^\S(.*\S)?$",
                                 description="设备编码 the sensor's code")]
    at: Annotated[str, Field(max_length=40, description="ISO 8601 with its offset, e.g. "
                             "2026-12-07T09:30:00+08:00")]
    value: Annotated[float, Field(allow_inf_nan=False, description="读数 the value, in the "
                                  "sensor's unit")]


class ReadingsBody(RequestModel):
    """A batch of readings (POST /api/sensors/readings)."""

    readings: Annotated[list[ReadingIn], Field(min_length=1, max_length=MAX_READINGS)]


TIME_EXAMPLE = "an ISO 8601 time with its offset, e.g. 2026-12-07T09:30:00+08:00"


def _moment(value: str, now: datetime) -> datetime | str:
    """The reading's time, or what is wrong with it."""
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return TIME_EXAMPLE
    if at.tzinfo is None or at.utcoffset() is None:
        return "the time needs its offset (+08:00 or Z) / 须带时区"
    if at > now + CLOCK_SKEW:
        return (f"in the future (more than {CLOCK_SKEW.seconds // 60} minutes ahead of the"
                " server) / 时间晚于当前")
    if at < EARLIEST:
        return "before 2000: the device's clock is not set / 设备时钟未校准"
    return at


def parse_readings(payload, now: datetime) -> list[Reading]:
    """The batch {"readings": [{"sensor", "at", "value"}, ...]} (ReadingsBody) as Readings, or
    InvalidReadings naming every bad one at once. The same sensor and time twice with two
    values is refused (which is right?); twice with one value is one reading."""
    if not isinstance(payload, dict):
        raise InvalidReadings({"body": "a JSON object is expected / 须为 JSON 对象"})
    try:
        items = ReadingsBody.model_validate(payload).readings
    except ValidationError as exc:
        errors = field_errors(exc)
        if "readings" in errors:
            errors["readings"] = f"a list of 1 to {MAX_READINGS} readings"
        else:  # every bad field at once: the times that are text are judged too
            for index, item in enumerate(payload["readings"]):
                at = item.get("at") if isinstance(item, dict) else None
                where = f"readings[{index}].at"
                if isinstance(at, str) and where not in errors and isinstance(
                        problem := _moment(at, now), str):
                    errors[where] = problem
        raise InvalidReadings(errors) from None
    errors = {}
    readings: list[Reading] = []
    seen: dict[tuple[str, datetime], tuple[int, float]] = {}
    for index, item in enumerate(items):
        where = f"readings[{index}]"
        at = _moment(item.at, now)
        if isinstance(at, str):
            errors[f"{where}.at"] = at
            continue
        reading = Reading(item.sensor, at, float(item.value))
        first = seen.setdefault((reading.sensor, reading.at), (index, reading.value))
        if first[0] == index:
            readings.append(reading)
        elif first[1] != reading.value:
            errors[where] = f"the same sensor and time as readings[{first[0]}], another value"
    if errors:
        raise InvalidReadings(errors)
    return readings


# -- thresholds -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Thresholds:
    """What a sensor is judged by: its kind and its low and high thresholds (either may be
    missing)."""

    kind: str
    low: float | None = None
    high: float | None = None

    @property
    def is_button(self) -> bool:
        return self.kind in BUTTON_KINDS


class Excursion(NamedTuple):
    """Which way a reading is past a threshold, and that threshold (None for a press)."""

    direction: str
    threshold: float | None


def excursion(limits: Thresholds, value: float) -> Excursion | None:
    """Whether `value` is past a threshold (strictly), and which; None inside them."""
    if limits.is_button:
        return Excursion("trigger", None) if value != 0 else None
    if limits.high is not None and value > limits.high:
        return Excursion("high", limits.high)
    if limits.low is not None and value < limits.low:
        return Excursion("low", limits.low)
    return None


def _band(limits: Thresholds) -> float:
    """The width hysteresis is a share of: the span between the thresholds, or the one
    threshold's size."""
    if limits.low is not None and limits.high is not None:
        return limits.high - limits.low
    return abs(limits.high if limits.high is not None else limits.low or 0.0)


def recovered(limits: Thresholds, direction: str, value: float) -> bool:
    """Whether `value` ends an excursion that went `direction`: back inside by the margin (a
    threshold removed since ends it at once)."""
    if direction == "trigger":
        return value == 0
    margin = CLEAR_MARGIN * _band(limits)
    if direction == "high":
        return limits.high is None or value <= limits.high - margin
    return limits.low is None or value >= limits.low + margin


@dataclass(frozen=True)
class Change:
    """An alarm raised or cleared by a reading."""

    action: str  # "raise" or "clear"
    at: datetime
    value: float
    direction: str  # the raised alarm's, or the cleared one's
    threshold: float | None = None


@dataclass(frozen=True)
class Outcome:
    """What a sensor's new readings do: the alarms raised and cleared in time order, the
    sensor's status after them (None: unchanged, nothing newer came), and its newest
    reading (None likewise)."""

    changes: tuple[Change, ...]
    status: str | None
    latest: tuple[datetime, float] | None


def follow(limits: Thresholds, open_direction: str | None, last_reading_at: datetime | None,
           readings: list[tuple[datetime, float]]) -> Outcome:
    """Walk a sensor's new readings in time order from its present state (`open_direction`:
    the direction of its open alarm, None without one); readings not newer than
    `last_reading_at` move nothing."""
    newer = sorted(r for r in readings if last_reading_at is None or r[0] > last_reading_at)
    changes: list[Change] = []
    open_now = open_direction
    for at, value in newer:
        past = excursion(limits, value)
        if open_now is not None and (past is None or past.direction != open_now):
            if past is not None or recovered(limits, open_now, value):
                changes.append(Change("clear", at, value, open_now))
                open_now = None
        if open_now is None and past is not None:
            changes.append(Change("raise", at, value, past.direction, past.threshold))
            open_now = past.direction
    if not newer:
        return Outcome((), None, None)
    return Outcome(tuple(changes), "alarm" if open_now else "normal", newer[-1])


# -- the case an alarm opens ------------------------------------------------------------------

class CaseKind(NamedTuple):
    """The category (geodata/reference/event_categories.csv) and level of a sensor kind's
    cases. Gas leaks, falls and calls for help are emergencies (levels 1-2), counted on the
    clock, not in office hours."""

    category: str
    level: int


SENSOR_CASES = {
    "gas": CaseKind("E0403", 1),             # 燃气泄漏
    "smoke": CaseKind("E0405", 2),           # 火灾隐患
    "manhole_cover": CaseKind("C0101", 4),   # 上水井盖
    "water_pressure": CaseKind("E0402", 2),  # 自来水管破裂
    "water_leak": CaseKind("E0402", 2),      # 自来水管破裂
    "power": CaseKind("S0303", 3),           # 停水停电
    "water_level": CaseKind("E0404", 3),     # 下水道堵塞
    "wristband": CaseKind("S0301", 2),       # 养老服务: an old person's heart rate or fall
    "emergency_button": CaseKind("S0301", 2),  # 养老服务: a call for help
}

_TITLES = {
    ("gas", "high"): ("燃气浓度超限", "Gas concentration high"),
    ("smoke", "high"): ("烟感报警", "Smoke detected"),
    ("manhole_cover", "high"): ("井盖倾斜位移", "Manhole cover displaced"),
    ("water_pressure", "high"): ("供水压力过高", "Water pressure high"),
    ("water_pressure", "low"): ("供水压力过低", "Water pressure low"),
    ("water_leak", "high"): ("管网漏水", "Water leak"),
    ("power", "high"): ("用电负荷超限", "Power load high"),
    ("water_level", "high"): ("积水水位超限", "Water level high"),
    ("wristband", "high"): ("老人手环告警：心率过高", "Wristband alarm: heart rate high"),
    ("wristband", "low"): ("老人手环告警：心率过低", "Wristband alarm: heart rate low"),
    ("emergency_button", "trigger"): ("一键通紧急呼叫", "One-touch emergency call"),
}


def _number(value: float) -> str:
    return f"{value:.6g}"


def _unit(kind: str, unit: str | None) -> str:
    unit = unit if unit is not None else SENSOR_KINDS.get(kind, ("", "", ""))[2]
    return f" {unit}" if unit else ""


def alarm_title(kind: str, direction: str, value: float, unit: str | None) -> str:
    """E.g. "燃气浓度超限 Gas concentration high (12.3 %LEL)"; a call for help has no value."""
    zh, en = _TITLES.get((kind, direction)) or (
        SENSOR_KINDS[kind][0] + ALARM_DIRECTIONS[direction][0],
        f"{SENSOR_KINDS[kind][1].capitalize()} {ALARM_DIRECTIONS[direction][1]}")
    if direction == "trigger":
        return f"{zh} {en}"
    return f"{zh} {en} ({_number(value)}{_unit(kind, unit)})"


def alarm_description(kind: str, code: str, name: str | None, worn: bool, change: Change,
                      unit: str | None) -> str:
    """What the case says about its alarm. A worn sensor is named by its code alone: its name
    may carry its wearer's, and a case is read by more people than may know who wears it."""
    device = code if worn or not name else f"{name} ({code})"
    zh_kind, en_kind, _ = SENSOR_KINDS[kind]
    lines = [f"物联感知告警 Sensor alarm: {zh_kind} {en_kind} {device}"]
    if worn:
        lines.append("佩戴式设备，佩戴人信息见设备档案 / a worn device: its wearer is on the"
                     " device's record")
    if change.threshold is not None:
        zh_dir, en_dir = ALARM_DIRECTIONS[change.direction]
        lines.append(f"{zh_dir} {en_dir}: {_number(change.threshold)}{_unit(kind, unit)}")
    lines.append(f"读数 reading {_number(change.value)}{_unit(kind, unit)}"
                 f" @ {change.at.isoformat()}")
    return "\n".join(lines)


def case_step(case_state: str | None) -> str:
    """What an alarm does with the sensor's latest case: "attach" while it is open, "open" a
    new one when there is none or it is finished."""
    return "attach" if case_state is not None and lifecycle.is_open(case_state) else "open"


def history_note(action: str, value: float, kind: str, unit: str | None) -> str:
    """The line a case's history gets when its sensor alarms again or recovers."""
    words = {"alarm_again": "再次告警 / alarm again", "recovered": "恢复正常 / recovered"}
    return f"{words[action]}: {_number(value)}{_unit(kind, unit)}"


# -- a sensor's readings over a window (the desk's sensor card) -------------------------------

DEFAULT_WINDOW = timedelta(hours=24)


def _query_time(value: str) -> datetime | str:
    # an unencoded "+08:00" in a query string arrives as " 08:00"
    head, space, tail = value.rpartition(" ")
    if space and len(tail) in (4, 5) and tail.replace(":", "").isdigit() and ":" in head:
        value = f"{head}+{tail}"
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return "an ISO 8601 time with its offset, e.g. 2026-12-07T09:30:00+08:00"
    if at.tzinfo is None or at.utcoffset() is None:
        return "the time needs its offset (+08:00 or Z) / 须带时区"
    return at


def parse_window(since: str | None, until: str | None,
                 now: datetime) -> tuple[datetime, datetime]:
    """[since, until) from a query's text; until defaults to now and since to a day before
    until. InvalidReadings names the bad ones."""
    errors: dict[str, str] = {}
    end = _query_time(until[:40]) if until else now
    start = _query_time(since[:40]) if since else None
    if isinstance(end, str):
        errors["until"] = end
    if isinstance(start, str):
        errors["since"] = start
    if errors:
        raise InvalidReadings(errors)
    start = start or end - DEFAULT_WINDOW
    if start >= end:
        raise InvalidReadings({"since": "must be before until / 须早于 until"})
    return start, end

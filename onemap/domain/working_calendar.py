"""Time limits on a working calendar (工作时 / 工作日 / 紧急时 / 自然日).

A case's limit is counted in working time: the office hours of working days, where a working
day is Monday to Friday unless the State Council's notice makes it a holiday, and a weekend day
the notice makes a working day (调休) is one. Emergencies (levels 1 and 2) run on the clock
instead. Everything here is arithmetic on a `WorkingCalendar` the caller builds (from
chinese_calendar and the district's own overrides: geodata/working_calendar.py); times are
aware datetimes, counted in the calendar's zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

UNITS = {
    "working_hours": ("工作时", "working hours"),
    "working_days": ("工作日", "working days"),
    "hours": ("紧急时", "hours on the clock"),
    "days": ("自然日", "calendar days"),
}
EMERGENCY_LEVELS = (1, 2)  # on the clock whatever the category's unit says
WARNING_SHARE = 0.8  # 预警: yellow once this share of the limit is used
_SEARCH_DAYS = 3660  # no calendar has ten years without a working day: a bad one stops here


@dataclass(frozen=True)
class TimeLimit:
    """A limit as a category's table gives it: an amount and its unit (UNITS)."""

    amount: float
    unit: str

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}")
        if not self.amount > 0:
            raise ValueError("a time limit must be more than zero")


@dataclass(frozen=True)
class WorkingCalendar:
    """Office hours, the working weekdays, and the notice's exceptions."""

    periods: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)),
                                              (time(13, 30), time(17, 30)))
    weekdays: frozenset[int] = frozenset(range(5))  # Monday is 0
    days_off: frozenset[date] = field(default_factory=frozenset)  # holidays on weekdays
    days_on: frozenset[date] = field(default_factory=frozenset)  # make-up working days
    zone: ZoneInfo = ZoneInfo("Asia/Shanghai")

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValueError("a working day needs at least one period of office hours")
        previous_end = time(0)
        for start, end in self.periods:
            if not previous_end <= start < end:
                raise ValueError("office hours must be in order, each ending after it starts")
            previous_end = end
        if not self.weekdays and not self.days_on:
            raise ValueError("a calendar needs working days")

    @property
    def day_length(self) -> timedelta:
        """The working time of one working day (7.5 h by default)."""
        return sum((_on(date.min, end) - _on(date.min, start) for start, end in self.periods),
                   timedelta())

    def is_working_day(self, day: date) -> bool:
        if day in self.days_on:
            return True
        return day.weekday() in self.weekdays and day not in self.days_off

    def _periods_of(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(day):
            return []
        return [(_on(day, start, self.zone), _on(day, end, self.zone))
                for start, end in self.periods]

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The moment `amount` of working time after `start` (a start out of hours counts from
        the next opening; a result that ends a period is that period's end)."""
        if amount < timedelta():
            raise ValueError("working time to add must not be negative")
        moment, left = start.astimezone(self.zone), amount
        day = moment.date()
        for _ in range(_SEARCH_DAYS):
            for opens, closes in self._periods_of(day):
                begin = max(opens, moment)
                if begin >= closes:
                    continue
                if begin + left <= closes:
                    return begin + left
                left -= closes - begin
            day += timedelta(days=1)
        raise ValueError("the calendar has no working time in ten years")

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from `start` to `end` (zero when `end` is not later)."""
        start, end = start.astimezone(self.zone), end.astimezone(self.zone)
        total, day = timedelta(), start.date()
        while day <= end.date():
            for opens, closes in self._periods_of(day):
                overlap = min(closes, end) - max(opens, start)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total


def parse_office_hours(text: str) -> tuple[tuple[time, time], ...]:
    """"08:30-12:00,13:30-17:30" -> ((08:30, 12:00), (13:30, 17:30))."""
    try:
        return tuple((time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))
                     for start, end in (period.split("-") for period in text.split(",")))
    except ValueError:
        raise ValueError("office hours must read like 08:30-12:00,13:30-17:30") from None


def _on(day: date, at: time, zone: ZoneInfo | None = None) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


def on_the_clock(level: int | None) -> bool:
    """Emergencies are counted in hours of the clock, not office hours."""
    return level in EMERGENCY_LEVELS


def due_at(calendar: WorkingCalendar, start: datetime, limit: TimeLimit,
           level: int | None = None) -> datetime:
    """When a stage that starts at `start` runs out of time."""
    if limit.unit == "hours" or (on_the_clock(level) and limit.unit == "working_hours"):
        return start + timedelta(hours=limit.amount)
    if limit.unit == "days" or on_the_clock(level):
        return start + timedelta(days=limit.amount)
    if limit.unit == "working_hours":
        return calendar.add_working_time(start, timedelta(hours=limit.amount))
    return calendar.add_working_time(start, calendar.day_length * limit.amount)


def resumed_due(calendar: WorkingCalendar, paused_at: datetime, due: datetime,
                resumed_at: datetime, working: bool) -> datetime:
    """A shelved (挂账) case's limit, moved on by the time its clock stood still: what was left
    at the pause is left at the resumption."""
    if working:
        left = calendar.working_time_between(paused_at, due)
        return calendar.add_working_time(resumed_at, left)
    return resumed_at + (due - paused_at)


def used_share(calendar: WorkingCalendar, start: datetime, due: datetime, now: datetime,
               working: bool) -> float:
    """How much of the time from `start` to `due` has gone by at `now` (1.0 at `due`), in
    working time when the limit was counted in it, on the clock otherwise."""
    if working:
        allowed = calendar.working_time_between(start, due)
        spent = calendar.working_time_between(start, min(now, due))
        if now > due:  # past the limit: the clock time beyond it counts as well
            return 1.0 + (now - due) / max(allowed, timedelta(seconds=1))
    else:
        allowed, spent = due - start, now - start
    return spent / allowed if allowed > timedelta() else 1.0


def urgency(share: float) -> str:
    """normal, warning (预警, yellow from 80 %) or overdue (超期, red past the limit)."""
    if share > 1.0:
        return "overdue"
    return "warning" if share >= WARNING_SHARE else "normal"


def counts_in_working_time(limit: TimeLimit, level: int | None) -> bool:
    """Whether `due_at` counted this limit in office hours."""
    return limit.unit in ("working_hours", "working_days") and not on_the_clock(level)

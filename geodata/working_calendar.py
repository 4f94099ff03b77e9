"""The district's working calendar, built from the State Council's notices and its own overrides.

The notices (public holidays, and the weekend days worked in exchange, 调休) come from PyPI's
chinese_calendar, which carries every year up to its release's last (2026 in 1.11). A year
whose notice is newer than the library, or a district's own closure, goes into
geodata/reference/calendar_overrides.csv, or the file ONEMAP_CALENDAR_OVERRIDES names:
one row per date, `kind` = `day_off` or `day_on`. Overrides win over the library.
"""

from __future__ import annotations

import csv
from datetime import date
from functools import lru_cache
from pathlib import Path

from chinese_calendar import constants as notices

from onemap.domain.working_calendar import WorkingCalendar, parse_office_hours
from onemap.settings import get_settings

OVERRIDES = Path(__file__).parent / "reference" / "calendar_overrides.csv"
KINDS = ("day_off", "day_on")


class CalendarFileError(ValueError):
    """A row of an overrides file that cannot be used; the message names file, row and field."""


def read_overrides(path: Path) -> dict[date, str]:
    """date -> kind, from a CSV with columns date, kind, note."""
    found: dict[date, str] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"date", "kind"} - set(reader.fieldnames or ())
        if missing:
            raise CalendarFileError(f"{path}: lacks column(s) {', '.join(sorted(missing))}")
        for row_number, row in enumerate(reader, start=2):
            try:
                day = date.fromisoformat((row["date"] or "").strip())
            except ValueError:
                raise CalendarFileError(
                    f"{path}, row {row_number}, date: not a date (YYYY-MM-DD)") from None
            kind = (row["kind"] or "").strip()
            if kind not in KINDS:
                raise CalendarFileError(
                    f"{path}, row {row_number}, kind: must be one of {', '.join(KINDS)}")
            if day in found and found[day] != kind:
                raise CalendarFileError(f"{path}, row {row_number}, date: {day} given twice")
            found[day] = kind
    return found


def build_calendar(office_hours: str, overrides: dict[date, str]) -> WorkingCalendar:
    days_off = set(notices.holidays) - set(overrides)
    days_on = set(notices.workdays) - set(overrides)
    days_off |= {day for day, kind in overrides.items() if kind == "day_off"}
    days_on |= {day for day, kind in overrides.items() if kind == "day_on"}
    # the library lists weekends among holidays only in festival blocks; only the difference
    # from Monday-to-Friday matters here
    return WorkingCalendar(periods=parse_office_hours(office_hours),
                           days_off=frozenset(d for d in days_off if d.weekday() < 5),
                           days_on=frozenset(d for d in days_on if d.weekday() >= 5))


def last_noticed_year() -> int:
    """The last year the library carries the State Council's notice for."""
    return max(notices.holidays).year


@lru_cache(maxsize=1)
def working_calendar() -> WorkingCalendar:
    """The calendar time limits are counted on (settings and files read once per process)."""
    settings = get_settings()
    return build_calendar(settings.office_hours,
                          read_overrides(settings.calendar_overrides or OVERRIDES))

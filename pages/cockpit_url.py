"""The cockpit's URL (pages/cockpit.py): which period, which unit and which KPI the map shows,
read without trusting it. A shared link or a reload opens the same cockpit; anything the URL
says that is not a valid choice falls back to the default, and a unit outside the user's scope
to the scope itself (the database's row-level security would show nothing of it anyway)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from onemap.domain import kpi
from pages.lookup_url import unit_in_scope

URL_KEYS = ("period", "date", "start", "end", "unit", "kpi", "rotate")
DEFAULT_KIND = "month"
DEFAULT_KPI = "on_time_closure_rate"
MAX_CUSTOM_DAYS = 3 * 366
ROTATE_SECONDS = (10, 600)  # on a wall: each panel at least 10 s, at most 10 min


@dataclass(frozen=True)
class CockpitView:
    period: kpi.Period
    anchor: date  # the day the period holds (its arrows step from here)
    unit: str  # the administrative unit the cockpit is scoped to
    kpi: str  # the KPI the map colours units by
    rotate: int | None = None  # seconds per panel on an unattended wall, None at a desk

    def query(self) -> dict[str, str]:
        """The URL's query for this view (what a link to it carries)."""
        query = {"period": self.period.kind, "unit": self.unit, "kpi": self.kpi}
        if self.period.kind == "custom":
            query.update(start=self.period.start.isoformat(),
                         end=(self.period.end - timedelta(days=1)).isoformat())
        else:
            query["date"] = self.anchor.isoformat()
        if self.rotate:
            query["rotate"] = str(self.rotate)
        return query


def _day(value) -> date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def view_from_url(query: dict, scope_code: str, today: date) -> CockpitView:
    """The view the URL asks for, each part checked; today's month in the user's scope by
    default."""
    kind = query.get("period")
    kind = kind if kind in kpi.PERIOD_KINDS else DEFAULT_KIND
    anchor = _day(query.get("date")) or today
    period = None
    if kind == "custom":
        start, last = _day(query.get("start")), _day(query.get("end"))
        if start and last and start <= last and (last - start).days < MAX_CUSTOM_DAYS:
            period = kpi.Period("custom", start, last + timedelta(days=1))
            anchor = start
        else:
            kind = DEFAULT_KIND
    if period is None:
        period = kpi.period_of(kind, anchor)
    chosen = query.get("kpi")
    chosen = chosen if chosen in kpi.KPIS else DEFAULT_KPI
    rotate = query.get("rotate")
    seconds = int(rotate) if isinstance(rotate, str) and rotate.isdigit() else None
    if seconds is not None:
        seconds = min(max(seconds, ROTATE_SECONDS[0]), ROTATE_SECONDS[1])
    unit = unit_in_scope(query.get("unit"), scope_code)
    return CockpitView(period, anchor, unit, chosen, seconds)

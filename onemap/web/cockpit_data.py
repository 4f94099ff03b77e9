"""What one refresh of the cockpit reads (callbacks/cockpit.py, and bench/cockpit.py, which
times it): the KPIs of the period beside the period before (环比) and the same period a year
earlier (同比), the trend, the child units for the map and the breakdowns by channel, category
class and level, all over the kept sums (geodata/queries/kpi_sums.py); then the map's outlines,
the categories' names and the breadcrumb. One scoped connection; no Dash here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection

from geodata.queries import cockpit_units, kpi_sums
from onemap.domain import kpi

CHILD_LEVEL = {6: "street", 9: "community", 12: "grid"}
COMPARED = ("now", "previous", "year_before")


def trend_window(period: kpi.Period) -> tuple[kpi.Period, str]:
    """The days the trend covers and its bucket: a day shows the 30 days up to it, a year
    goes by month, a quarter by week, the rest by day (a long custom period by week or
    month)."""
    if period.kind == "day":
        return kpi.Period("custom", period.end - timedelta(days=30), period.end), "day"
    if period.kind == "year" or period.days > 366:
        return period, "month"
    if period.kind == "quarter" or period.days > 62:
        return period, "week"
    return period, "day"


@dataclass(frozen=True)
class Cockpit:
    counts: dict[str, dict[str, int]]  # COMPARED -> counts
    values: dict[str, dict[str, float | None]]  # COMPARED -> KPI -> value
    trend_bucket: str
    trend: list[tuple[date, dict[str, float | None]]]  # bucket start -> KPI values
    trend_counts: list[tuple[date, dict[str, int]]]
    unit_level: str | None  # the children's level on the map (None for a grid)
    units: dict[str, dict[str, float | None]]  # child code -> KPI values
    kinds: dict[str, dict[str, dict[str, int]]]  # dimension -> value -> counts
    outlines: dict | None = None  # the child units' outlines (GeoJSON)
    category_classes: list[dict] | None = None  # code, kind, name_zh
    trail: list[tuple[str, str]] | None = None  # (code, name) from the scope down to the unit


def read(conn: Connection, period: kpi.Period, unit: str, now: datetime) -> Cockpit:
    """The whole cockpit of `unit` for `period`, as the scoped connection may see it."""
    periods = {"now": period, "previous": kpi.previous(period),
               "year_before": kpi.year_before(period)}
    window, bucket = trend_window(period)
    level = CHILD_LEVEL.get(len(unit))
    found = kpi_sums.summed(conn, periods, unit, now, trend_of=(window, bucket),
                            units_of=(period, level) if level else None)
    counts, trend, units = found["period"], list(found["trend"].items()), found["unit"]
    return Cockpit(
        counts=counts,
        values={label: kpi.values(c) for label, c in counts.items()},
        trend_bucket=bucket,
        trend=[(day, kpi.values(c)) for day, c in trend],
        trend_counts=[(day, kpi.with_derived(c)) for day, c in trend],
        unit_level=level,
        units={code: kpi.values(c) for code, c in units.items()},
        kinds=kpi_sums.by_kind(conn, period, unit),
    )


def read_page(conn: Connection, period: kpi.Period, unit: str, scope_code: str,
              now: datetime) -> Cockpit:
    """What one refresh of the page shows: the figures (read), the child units' outlines for
    the map, the category classes and the breadcrumb."""
    cockpit = read(conn, period, unit, now)
    return Cockpit(**{
        **cockpit.__dict__,
        "outlines": (cockpit_units.child_outlines(conn, unit, cockpit.unit_level)
                     if cockpit.unit_level else None),
        "category_classes": cockpit_units.category_classes(conn),
        "trail": cockpit_units.trail(conn, unit, scope_code),
    })

"""What the cockpit's page (pages/cockpit.py) and its callbacks (callbacks/cockpit.py) share,
importable before the app exists (a page module registers itself when imported)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from onemap.domain import kpi

ZONE = ZoneInfo("Asia/Shanghai")  # the district's day
# the tiles in reading order: volume, then the loop's quality, then the people's view
TILES = ("received", "registered", "registration_rate", "dispatch_accuracy", "due",
         "closure_rate", "on_time_closure_rate", "overdue", "average_handling_hours",
         "rework_rate", "extension_rate", "proactive_rate", "inspector_accuracy",
         "satisfaction_rate")
# what the map can colour units by: the rates, and the counts that compare across units
MAP_KPIS = tuple(key for key, item in kpi.KPIS.items()
                 if item.is_rate or key in ("received", "overdue", "average_handling_hours"))
# the right-hand panel's tabs, in the order a wall rotates them
SIDE_TABS = ("kinds", "supervision", "population", "infrastructure")
# the map's KPIs a wall rotates through
ROTATED_KPIS = ["on_time_closure_rate", "closure_rate", "overdue", "satisfaction_rate"]

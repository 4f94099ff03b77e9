"""Staff on duty at their last reported position: available or busy."""

from __future__ import annotations

from onemap.domain.vocab import STAFF_STATUSES

from .base import Display, Layer, Palette
from .sql import in_viewport

STAFF = Layer(
    "staff", "在岗人员", "Staff on duty", "staff", ("id", "status", "tier"),
    live_topic="staff",
    features_sql=f"""
        SELECT id, status, tier, last_position AS geom
          FROM {in_viewport("staff", "last_position")} AS s
         WHERE on_duty
    """,
    display=Display(
        "points", {"pointToLayer": "pointMarker", "onEachFeature": "statusTooltip"},
        palette=Palette("status", {"available": "#69f0ae", "busy": "#ffab40",
                                   "off_duty": "#b0bec5"}, STAFF_STATUSES),
        card="staff", hideout={"title": "在岗人员", "radius": 4}),
)

"""Enterprises (法人) by their registered status: close up only, a district holds tens of
thousands."""

from __future__ import annotations

from onemap.domain.vocab import ENTERPRISE_STATUSES

from .base import Display, Layer, Palette
from .sql import in_viewport

ENTERPRISES = Layer(
    "enterprises", "法人单位", "Enterprises", "enterprise", ("id", "name", "status"),
    min_zoom=16,
    features_sql=f"""
        SELECT id, name, status, geom FROM {in_viewport("enterprise")} AS e
    """,
    display=Display(
        "points", {"pointToLayer": "pointMarker", "onEachFeature": "nameTooltip"},
        palette=Palette("status", {"active": "#ffd180", "suspended": "#ff8a65",
                                   "deregistered": "#78909c"}, ENTERPRISE_STATUSES),
        hideout={"radius": 3}),
)

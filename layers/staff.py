"""Staff on duty at their last reported position: available or busy."""

from __future__ import annotations

from .base import Layer
from .sql import VIEWPORT

STAFF = Layer(
    "staff", "在岗人员", "Staff on duty", "staff", ("id", "status", "tier"),
    geometry="last_position",
    live_topic="staff",
    features_sql=f"""
        SELECT id, status, tier, last_position AS geom FROM onemap.staff
         WHERE on_duty AND last_position && {VIEWPORT}
    """,
)

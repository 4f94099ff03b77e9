"""Staff on duty at their last reported position: available or busy."""

from __future__ import annotations

from .base import Layer
from .sql import in_viewport

STAFF = Layer(
    "staff", "在岗人员", "Staff on duty", "staff", ("id", "status", "tier"),
    geometry="last_position",
    live_topic="staff",
    features_sql=f"""
        SELECT id, status, tier, last_position AS geom
          FROM {in_viewport("staff", "last_position")} AS s
         WHERE on_duty
    """,
)

"""Cameras (clustered, online/offline) and IoT sensors (normal/alarm)."""

from __future__ import annotations

from .base import Layer
from .sql import in_viewport

CAMERAS = Layer(
    "cameras", "视频监控", "Cameras", "camera", ("id", "status"),
    features_sql=f"""
        SELECT id, status, geom FROM {in_viewport("camera")} AS c
    """,
)

# sensors in alarm show at every zoom; the thousands of quiet ones only close up
SENSORS = Layer(
    "sensors", "物联感知", "Sensors", "sensor", ("id", "kind", "status"),
    live_topic="sensor",
    features_sql=f"""
        SELECT id, kind, status, geom FROM {in_viewport("sensor")} AS s
         WHERE status = 'alarm' OR :zoom >= 16
    """,
)

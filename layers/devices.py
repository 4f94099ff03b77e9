"""Cameras (clustered, online/offline) and IoT sensors (normal/alarm)."""

from __future__ import annotations

from onemap.domain.vocab import DEVICE_STATUSES, SENSOR_STATUSES

from .base import Display, Layer, Palette
from .sql import in_viewport

CAMERAS = Layer(
    "cameras", "视频监控", "Cameras", "camera", ("id", "status"),
    features_sql=f"""
        SELECT id, status, geom FROM {in_viewport("camera")} AS c
    """,
    display=Display(
        "points", {"pointToLayer": "pointMarker", "clusterToLayer": "cameraCluster",
                   "onEachFeature": "statusTooltip"},
        palette=Palette("status", {"online": "#00e676", "offline": "#78909c",
                                   "fault": "#ffab40"}, DEVICE_STATUSES),
        card="cameras", cluster={"radius": 60, "maxZoom": 16},
        hideout={"title": "视频监控", "radius": 4}),
)

# sensors in alarm show at every zoom; the thousands of quiet ones only close up
SENSORS = Layer(
    "sensors", "物联感知", "Sensors", "sensor", ("id", "kind", "status"),
    live_topic="sensor",
    features_sql=f"""
        SELECT id, kind, status, geom FROM {in_viewport("sensor")} AS s
         WHERE status = 'alarm' OR :zoom >= 16
    """,
    display=Display(
        "points", {"pointToLayer": "sensorMarker", "onEachFeature": "statusTooltip"},
        palette=Palette("status", {"normal": "#4dd0e1", "alarm": "#ff1744",
                                   "offline": "#607d8b"}, SENSOR_STATUSES),
        card="sensors", hideout={"title": "物联感知"}),
)

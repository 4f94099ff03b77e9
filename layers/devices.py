"""Cameras (clustered, online/offline) and IoT sensors (normal/alarm)."""

from __future__ import annotations

from onemap.domain.vocab import DEVICE_STATUSES, SENSOR_STATUSES

from .base import Display, Field, Layer, ONEMAP_ID, Palette, Source
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
    live_topic="sensor", shared=True,
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

CAMERAS_SOURCE = Source(
    "cameras", "视频监控", "Cameras", """
    SELECT id, code, name, owner, kind, heading, fov_deg, range_m, status, grid_code,
           grid_code AS unit_code, geom
      FROM onemap.camera""",
    (ONEMAP_ID, Field("code", "编码", "code"), Field("name", "名称", "name"),
     Field("owner", "权属单位", "owner"), Field("kind", "类型", "kind"),
     Field("heading", "朝向(度)", "heading (°)", "int"),
     Field("fov_deg", "视场角(度)", "field of view (°)", "int"),
     Field("range_m", "可视距离(米)", "range (m)", "int"), Field("status", "状态", "status"),
     Field("grid_code", "网格编码", "grid code")),
    "Point", spatial=("camera", "id"))

# the sensor's person (a smoke detector in an elderly resident's home) stays out
SENSORS_SOURCE = Source(
    "sensors", "物联感知", "Sensors", """
    SELECT id, code, kind, name, unit_of_measure, low_threshold, high_threshold, status,
           last_value, last_reading_at, grid_code, grid_code AS unit_code, geom
      FROM onemap.sensor""",
    (ONEMAP_ID, Field("code", "编码", "code"), Field("kind", "类型", "kind"),
     Field("name", "名称", "name"), Field("unit_of_measure", "计量单位", "unit of measure"),
     Field("low_threshold", "下限", "low threshold", "float"),
     Field("high_threshold", "上限", "high threshold", "float"),
     Field("status", "状态", "status"), Field("last_value", "最新读数", "last value", "float"),
     Field("last_reading_at", "最新读数时间", "last reading at", "time"),
     Field("grid_code", "网格编码", "grid code")),
    "Point", time_field="last_reading_at", spatial=("sensor", "id"))

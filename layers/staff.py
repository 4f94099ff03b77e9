"""Staff on duty at their last reported position: available or busy."""

from __future__ import annotations

from onemap.domain.vocab import STAFF_STATUSES

from .base import Display, Field, Layer, ONEMAP_ID, Palette, Source
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

STAFF_SOURCE = Source(
    "staff", "工作人员", "Staff", """
    SELECT id, code, name, phone, tier, grid_code, department_code, on_duty, status,
           last_seen_at, grid_code AS unit_code, last_position AS geom
      FROM onemap.staff""",
    (ONEMAP_ID, Field("code", "工号", "staff code"),
     Field("name", "姓名", "name", mask="name"), Field("phone", "电话", "phone", mask="phone"),
     Field("tier", "层级", "tier"), Field("grid_code", "网格编码", "grid code"),
     Field("department_code", "部门", "department"), Field("on_duty", "在岗", "on duty", "bool"),
     Field("status", "状态", "status"),
     Field("last_seen_at", "最后定位时间", "last seen at", "time")),
    "Point", time_field="last_seen_at", spatial=("staff", "id"))

"""Enterprises (法人) by their registered status: close up only, a district holds tens of
thousands."""

from __future__ import annotations

from onemap.domain.vocab import ENTERPRISE_STATUSES

from .base import Display, Field, Layer, ONEMAP_ID, Palette, Source
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

ENTERPRISES_SOURCE = Source(
    "enterprises", "法人单位", "Enterprises", """
    SELECT id, credit_code, name, legal_representative, industry, employees, status, address,
           grid_code, grid_code AS unit_code, geom
      FROM onemap.enterprise""",
    (ONEMAP_ID, Field("credit_code", "统一社会信用代码", "credit code"),
     Field("name", "名称", "name"),
     Field("legal_representative", "法定代表人", "legal representative", mask="name"),
     Field("industry", "行业", "industry"), Field("employees", "从业人数", "employees", "int"),
     Field("status", "状态", "status"), Field("address", "地址", "address"),
     Field("grid_code", "网格编码", "grid code")),
    "Point", spatial=("enterprise", "id"))

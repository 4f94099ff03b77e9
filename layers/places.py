"""Key places (重点场所): schools, hospitals, filling stations, hazardous stores …"""

from __future__ import annotations

from .base import Display, Field, Layer, ONEMAP_ID, Source
from .sql import in_viewport

KEY_PLACES = Layer(
    "places", "重点场所", "Key places", "key_place", ("id", "kind", "name"),
    min_zoom=14,
    features_sql=f"""
        SELECT id, kind, name, geom FROM {in_viewport("key_place")} AS p
    """,
    display=Display("points", {"pointToLayer": "pointMarker", "onEachFeature": "nameTooltip"},
                    card="places", hideout={"colour": "#e599f7", "radius": 6, "ring": True}),
)

KEY_PLACES_SOURCE = Source(
    "places", "重点场所", "Key places", """
    SELECT id, code, name, kind, risk_level, address, contact_name, contact_phone, grid_code,
           grid_code AS unit_code, geom
      FROM onemap.key_place""",
    (ONEMAP_ID, Field("code", "编码", "code"), Field("name", "名称", "name"),
     Field("kind", "类别", "kind"), Field("risk_level", "风险等级", "risk level", "int"),
     Field("address", "地址", "address"),
     Field("contact_name", "联系人", "contact", mask="name"),
     Field("contact_phone", "联系电话", "contact phone", mask="phone"),
     Field("grid_code", "网格编码", "grid code")),
    "Point", spatial=("key_place", "id"))

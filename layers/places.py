"""Key places (重点场所): schools, hospitals, filling stations, hazardous stores …"""

from __future__ import annotations

from .base import Display, Layer
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

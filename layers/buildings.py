"""Buildings, coloured by use, residents or key-group residents (counts from building_stat).

Close up only (zoom 16 and in): a 4K wall at zoom 15 would show the whole district.
"""

from __future__ import annotations

from .base import Layer
from .sql import in_viewport

BUILDINGS = Layer(
    "buildings", "楼栋", "Buildings", "building",
    ("id", "use", "residents", "key_group"),
    min_zoom=16,
    features_sql=f"""
        SELECT b.id, b.use,
               coalesce(s.residents, 0) AS residents, coalesce(s.key_group, 0) AS key_group,
               ST_SnapToGrid(ST_SimplifyPreserveTopology(b.geom, :px_deg / 2), 0.00001) AS geom
          FROM {in_viewport("building")} AS b
          LEFT JOIN onemap.building_stat s ON s.building_id = b.id
         WHERE :zoom >= 16
    """,
)

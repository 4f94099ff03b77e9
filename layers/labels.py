"""Names of the administrative units at the zoom where each level reads best."""

from __future__ import annotations

from .base import Layer
from .sql import VIEWPORT

# street names over the whole district, community names closer, grid names closest
LABELS = Layer(
    "labels", "名称标注", "Labels", "admin_unit", ("code", "name", "level"),
    features_sql=f"""
        SELECT code, name, level, ST_PointOnSurface(geom) AS geom
          FROM onemap.admin_unit
         WHERE geom && {VIEWPORT}
           AND level = CASE WHEN :zoom < 14 THEN 'street'
                            WHEN :zoom < 16 THEN 'community' ELSE 'grid' END
    """,
)

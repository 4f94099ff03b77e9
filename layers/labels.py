"""Names of the administrative units at the zoom where each level reads best."""

from __future__ import annotations

from .base import Display, Layer
from .sql import VIEWPORT

# street names over the whole district, community names closer, grid names closest; a grid's
# name ("第2网格") repeats in every community, so its community comes along (`parent`)
LABELS = Layer(
    "labels", "名称标注", "Labels", "admin_unit", ("code", "name", "level", "parent"),
    features_sql=f"""
        SELECT u.code, u.name, u.level, coalesce(p.name, '') AS parent,
               ST_PointOnSurface(u.geom) AS geom
          FROM onemap.admin_unit u
          LEFT JOIN onemap.community p ON u.level = 'grid' AND p.code = u.parent_code
         WHERE u.geom && {VIEWPORT}
           AND u.level = CASE WHEN :zoom < 14 THEN 'street'
                              WHEN :zoom < 16 THEN 'community' ELSE 'grid' END
    """,
    display=Display("labels", {"pointToLayer": "labelMarker"}),
)

"""Buildings, coloured by use, residents or key-group residents (counts from building_stat).

Close up only (zoom 16 and in): a 4K wall at zoom 15 would show the whole district.
"""

from __future__ import annotations

from onemap.domain.vocab import BUILDING_USES

from .base import Display, Layer, Option, Palette
from .sql import in_viewport

# how the buildings may be coloured: a restyle, the data already carries all three
BUILDING_COLOURS = {"use": ("用途", "use"), "residents": ("人口", "residents"),
                    "key_group": ("重点人群", "key groups")}

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
    """,
    options=(Option("colour", "楼栋着色", "Buildings by", BUILDING_COLOURS, restyle=True),),
    display=Display(
        "buildings", {"style": "buildingStyle"}, card="buildings",
        palette=Palette("use", {"residential": "#5c7cfa", "commercial": "#f783ac",
                                "mixed": "#b197fc", "public": "#63e6be",
                                "industrial": "#ffa94d"}, BUILDING_USES),
        # residents or key-group residents at which a building is drawn at full colour
        hideout={"tops": {"residents": 200, "key_group": 30}}),
)

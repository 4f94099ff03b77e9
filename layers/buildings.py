"""Buildings, coloured by use, residents or key-group residents (counts from building_stat).

Close up only (zoom 16 and in): a 4K wall at zoom 15 would show the whole district.
"""

from __future__ import annotations

from onemap.domain.vocab import BUILDING_USES

from .base import Display, Field, Layer, Option, Palette, Source
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

BUILDINGS_SOURCE = Source(
    "buildings", "楼栋", "Buildings", """
    SELECT b.id, b.code, b.name, b.address, b.use, b.floors_above, b.floors_below,
           b.unit_count, b.built_year, b.grid_code,
           coalesce(s.rooms, 0) AS rooms, coalesce(s.self_occupied, 0) AS self_occupied,
           coalesce(s.rented, 0) AS rented, coalesce(s.vacant, 0) AS vacant,
           coalesce(s.commercial, 0) AS commercial, coalesce(s.residents, 0) AS residents,
           coalesce(s.key_group, 0) AS key_group, b.grid_code AS unit_code, b.geom
      FROM onemap.building b
      LEFT JOIN onemap.building_stat s ON s.building_id = b.id""",
    (Field("id", "楼栋ID", "building id", "int"), Field("code", "楼栋编码", "building code"),
     Field("name", "名称", "name"), Field("address", "地址", "address"),
     Field("use", "用途", "use"), Field("floors_above", "地上层数", "floors above", "int"),
     Field("floors_below", "地下层数", "floors below", "int"),
     Field("unit_count", "单元数", "units", "int"),
     Field("built_year", "建成年份", "year built", "int"),
     Field("grid_code", "网格编码", "grid code"), Field("rooms", "房屋数", "rooms", "int"),
     Field("self_occupied", "自住", "self-occupied", "int"),
     Field("rented", "出租", "rented", "int"), Field("vacant", "空置", "vacant", "int"),
     Field("commercial", "商用", "commercial", "int"),
     Field("residents", "实住人口", "residents", "int"),
     Field("key_group", "重点人群", "key-group residents", "int")),
    "MultiPolygon", spatial=("building", "id"))

# a room has no outline of its own: it stands at its building's point
ROOMS_SOURCE = Source(
    "rooms", "房屋", "Rooms", """
    SELECT h.id, b.id AS building_id, b.code AS building_code, b.address, u.number AS unit_number,
           f.number AS floor_number, h.room_number, CAST(h.area_m2 AS float8) AS area_m2,
           h.occupancy, b.grid_code, b.grid_code AS unit_code,
           ST_PointOnSurface(b.geom) AS geom
      FROM onemap.household h
      JOIN onemap.building b ON b.id = h.building_id
      LEFT JOIN onemap.unit u ON u.id = h.unit_id
      LEFT JOIN onemap.floor f ON f.id = h.floor_id""",
    (Field("id", "房屋ID", "room id", "int"),
     Field("building_code", "楼栋编码", "building code"), Field("address", "地址", "address"),
     Field("unit_number", "单元", "unit", "int"), Field("floor_number", "楼层", "floor", "int"),
     Field("room_number", "房号", "room"), Field("area_m2", "面积(平方米)", "area (m²)", "float"),
     Field("occupancy", "居住状态", "occupancy"), Field("grid_code", "网格编码", "grid code")),
    "Point", spatial=("building", "building_id"), tile_min_zoom=15)

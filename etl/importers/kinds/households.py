"""Households (rooms), keyed by (building code, unit, room): unit and floor rows are created as
needed; the floor comes from its column or the room number's leading digits (501 → 5)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, text

from ..load import STAGE, Counts, flag, on_conflict, staged_count, upsert
from ..validate import as_objects, flag_duplicates
from .common import Context, Loader, require_loaded, resolve_building

STAGE_COLUMNS = (
    ("building_code", "text"), ("unit", "smallint"), ("room", "text"), ("floor", "smallint"),
    ("area_m2", "numeric(7, 2)"), ("occupancy", "text"), ("building_id", "bigint"),
)
_ROOM_FLOOR = r"(?P<sign>[-Bb]?)(?P<floor>\d+)\d\d"  # 501 → 5, 1203 → 12, B101 → -1


def floor_from_room(rooms: pd.Series) -> pd.Series:
    """The floor a room number names by its leading digits (None when it names none)."""
    parts = rooms.str.extract(f"^{_ROOM_FLOOR}$")
    number = pd.to_numeric(parts["floor"], errors="coerce")
    sign = parts["sign"].map(lambda s: -1 if s else 1, na_action="ignore")
    return as_objects((number * sign).where(number > 0), int)


def prepare(ctx: Context, frame: pd.DataFrame, geoms: gpd.GeoSeries | None) -> pd.DataFrame:
    """Floors derived where blank; floor 0 and duplicate rooms refused."""
    floor = frame["floor"].copy()
    derived = floor.isna() & frame["room"].notna()
    floor[derived] = floor_from_room(frame["room"][derived])
    ctx.error_where(derived & floor.isna(), "room", frame["room"],
                    "cannot tell the floor from this room number: fill in 楼层")
    ctx.error_where(floor.notna() & (floor == 0), "floor", floor,
                    "there is no floor 0 (basements are -1, -2, …)")
    flag_duplicates(frame, ctx.rows.to_numpy(), ["building_code", "unit", "room"], "room",
                    ctx.log, what="room (same 楼栋编码, 单元 and 房号)")
    out = frame[["building_code", "unit", "room", "area_m2", "occupancy"]].copy()
    out["floor"] = floor
    out["building_id"] = None
    return out


def check(ctx: Context, conn: Connection) -> None:
    """The building exists, and the unit and floor fit it."""
    require_loaded(conn, "building", "buildings")
    resolve_building(ctx, conn)
    flag(conn, ctx.log, "unit", f"""
        SELECT s.row, s.unit, 'building ' || b.code || ' has ' || b.unit_count || ' unit(s)'
        FROM {STAGE} s JOIN onemap.building b ON b.id = s.building_id
        WHERE s.unit > b.unit_count
    """)
    floor_field = "floor" if "floor" in ctx.present else "room"
    flag(conn, ctx.log, floor_field, f"""
        SELECT s.row, s.floor,
               CASE WHEN s.floor > 0
                    THEN 'floor ' || s.floor || ' is above the building''s '
                         || b.floors_above || ' floor(s)'
                    ELSE 'basement floor ' || s.floor || ' is below the building''s '
                         || b.floors_below || ' basement floor(s)' END
        FROM {STAGE} s JOIN onemap.building b ON b.id = s.building_id
        WHERE s.floor > b.floors_above OR s.floor < -b.floors_below
    """)


def write(ctx: Context, conn: Connection) -> Counts:
    """Create missing units and floors, then upsert the rooms."""
    units = conn.execute(text(f"""
        INSERT INTO onemap.unit (building_id, number)
        SELECT DISTINCT s.building_id, s.unit FROM {STAGE} s
        ON CONFLICT (building_id, number) DO NOTHING
    """)).rowcount
    floors = conn.execute(text(f"""
        INSERT INTO onemap.floor (unit_id, building_id, number)
        SELECT DISTINCT u.id, u.building_id, s.floor
        FROM {STAGE} s JOIN onemap.unit u ON u.building_id = s.building_id AND u.number = s.unit
        ON CONFLICT (unit_id, number) DO NOTHING
    """)).rowcount
    updatable = ["floor_id", "occupancy"] + (["area_m2"] if "area_m2" in ctx.present else [])
    sql = f"""
        INSERT INTO onemap.household AS t
          (floor_id, unit_id, building_id, room_number, area_m2, occupancy)
        SELECT f.id, u.id, s.building_id, s.room, s.area_m2, s.occupancy
        FROM {STAGE} s
        JOIN onemap.unit u ON u.building_id = s.building_id AND u.number = s.unit
        JOIN onemap.floor f ON f.unit_id = u.id AND f.number = s.floor
        WHERE s.row BETWEEN :lo AND :hi
        {on_conflict("unit_id, room_number", updatable)}
    """
    counts = upsert(conn, ctx.log, sql, "room")
    counts.unchanged = staged_count(conn) - counts.inserted - counts.updated
    counts.extra = {"units created": units, "floors created": floors}
    return counts


LOADER = Loader(STAGE_COLUMNS, prepare, check, write)

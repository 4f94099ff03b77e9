"""Staff, keyed by 工号: tier, home grid, department, duty state and, optionally, a last known
position (a GPS fix, so it is not held to the grid: staff walk out of their grids)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection

from ..load import STAGE, Counts, flag
from ..validate import flag_duplicates
from .common import Context, Loader, simple_upsert, with_geometry

COLUMNS = ("code", "name", "phone", "tier", "grid_code", "department_code", "on_duty", "status")
STAGE_COLUMNS = (
    ("code", "text"), ("name", "text"), ("phone", "text"), ("tier", "text"),
    ("grid_code", "text"), ("department_code", "text"), ("on_duty", "boolean"),
    ("status", "text"), ("geom", "geometry(Geometry, 4326)"),
)


def prepare(ctx: Context, frame: pd.DataFrame, geoms: gpd.GeoSeries | None) -> pd.DataFrame:
    """Duplicate codes refused."""
    flag_duplicates(frame, ctx.rows.to_numpy(), ["code"], "code", ctx.log)
    ctx.present.discard("geom")
    if geoms is not None:
        ctx.present.add("geom")
    return with_geometry(frame[list(COLUMNS)], geoms)


def check(ctx: Context, conn: Connection) -> None:
    """The grid and the department, when given, must exist."""
    flag(conn, ctx.log, "grid_code", f"""
        SELECT s.row, s.grid_code, 'unknown grid'
        FROM {STAGE} s
        WHERE s.grid_code IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM onemap.grid g WHERE g.code = s.grid_code)
    """)
    flag(conn, ctx.log, "department_code", f"""
        SELECT s.row, s.department_code, 'unknown department'
        FROM {STAGE} s
        WHERE s.department_code IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM onemap.department d WHERE d.code = s.department_code)
    """)


def write(ctx: Context, conn: Connection) -> Counts:
    """Upsert by 工号; the position is written only when the file gives positions."""
    columns = [(c, f"s.{c}", None if c == "code" else c) for c in COLUMNS]
    columns.append(("last_position", "s.geom", "geom"))
    return simple_upsert(ctx, conn, "staff", "code", columns)


LOADER = Loader(STAGE_COLUMNS, prepare, check, write)

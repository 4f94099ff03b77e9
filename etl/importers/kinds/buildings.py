"""Buildings: footprints keyed by their code. A footprint may overhang its grid's edge, its point
on surface may not (the building_in_grid trigger's rule); a blank grid is the one it lies in."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection

from ..load import Counts, repair_areas
from ..validate import flag_duplicates
from .common import Context, Loader, check_location, require_loaded, simple_upsert, with_geometry

COLUMNS = ("code", "grid_code", "name", "road", "house_number", "address", "use", "floors_above",
           "floors_below", "unit_count", "built_year")
STAGE_COLUMNS = (
    ("code", "text"), ("grid_code", "text"), ("name", "text"), ("road", "text"),
    ("house_number", "text"), ("address", "text"), ("use", "text"), ("floors_above", "smallint"),
    ("floors_below", "smallint"), ("unit_count", "smallint"), ("built_year", "smallint"),
    ("geom", "geometry(Geometry, 4326)"),
)


def prepare(ctx: Context, frame: pd.DataFrame, geoms: gpd.GeoSeries | None) -> pd.DataFrame:
    """Duplicate codes refused; the rest was checked column by column."""
    flag_duplicates(frame, ctx.rows.to_numpy(), ["code"], "code", ctx.log)
    return with_geometry(frame[list(COLUMNS)], geoms)


def check(ctx: Context, conn: Connection) -> None:
    """Repair footprints; the point on surface must lie in the district and in its grid."""
    require_loaded(conn, "grid", "grids (boundaries)")
    repaired = repair_areas(conn, ctx.log, ctx.geometry_field)
    if repaired:
        ctx.notes.append(f"{repaired} invalid footprint(s) repaired")
    check_location(ctx, conn, where="ST_PointOnSurface(s.geom)")


def write(ctx: Context, conn: Connection) -> Counts:
    """Upsert by code; columns the file lacks keep their stored values."""
    columns = [(c, f"s.{c}", None if c in ("code", "grid_code") else c) for c in COLUMNS]
    return simple_upsert(ctx, conn, "building", "code", [*columns, ("geom", "s.geom", None)],
                         field_name=ctx.geometry_field)


LOADER = Loader(STAGE_COLUMNS, prepare, check, write)

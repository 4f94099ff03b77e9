"""Point kinds filed under a grid: cameras, sensors, key places and enterprises. Each point must
lie in the district; a given grid must cover it, a blank one is the grid that does."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection

from onemap.domain.vocab import PERSONAL_SENSOR_KINDS, SENSOR_KINDS

from ..load import Counts
from ..validate import flag_duplicates
from .common import (
    Context,
    Loader,
    check_location,
    require_loaded,
    resolve_building,
    resolve_reference,
    simple_upsert,
    with_geometry,
)

GEOM = ("geom", "geometry(Geometry, 4326)")


def point_loader(
    table: str,
    key: str,
    columns: Sequence[tuple[str, str]],
    *,
    refs: Sequence[tuple[str, str]] = (),
    extra_prepare: Callable[[Context, pd.DataFrame], None] | None = None,
    extra_check: Callable[[Context, Connection], None] | None = None,
) -> Loader:
    """A loader for a point table: `columns` come from the file (key first), `refs` are ids the
    database checks fill in (building_id, person_id), never read from the file."""
    names = [name for name, _ in columns]
    stage = (*columns, *refs, GEOM)

    def prepare(ctx: Context, frame: pd.DataFrame, geoms: gpd.GeoSeries | None) -> pd.DataFrame:
        flag_duplicates(frame, ctx.rows.to_numpy(), [key], key, ctx.log)
        out = frame[names].copy()
        if extra_prepare:
            extra_prepare(ctx, out)
        for ref, _ in refs:
            out[ref] = None
        return with_geometry(out, geoms)

    def check(ctx: Context, conn: Connection) -> None:
        require_loaded(conn, "grid", "grids (boundaries)")
        check_location(ctx, conn)
        if any(ref == "building_id" for ref, _ in refs):
            resolve_building(ctx, conn)
        if extra_check:
            extra_check(ctx, conn)

    def write(ctx: Context, conn: Connection) -> Counts:
        file_columns = [n for n in names if n not in ("building_code", "person_id_number")]
        targets = [(n, f"s.{n}", None if n in (key, "grid_code") else n) for n in file_columns]
        targets += [(ref, f"s.{ref}", _source(ref)) for ref, _ in refs]
        targets.append(("geom", "s.geom", None))
        return simple_upsert(ctx, conn, table, key, targets, field_name=key)

    return Loader(stage, prepare, check, write)


def _source(ref: str) -> str:
    """The file column an id is looked up from (it is updated only when the file has it)."""
    return {"building_id": "building_code", "person_id": "person_id_number"}[ref]


CAMERAS = point_loader("camera", "code", (
    ("code", "text"), ("name", "text"), ("owner", "text"), ("kind", "text"),
    ("heading", "smallint"), ("fov_deg", "smallint"), ("range_m", "smallint"),
    ("status", "text"), ("stream_url", "text"), ("grid_code", "text"),
))


def _sensor_prepare(ctx: Context, df: pd.DataFrame) -> None:
    """Unit from the kind when blank; thresholds ordered; only worn kinds name a person."""
    usual = df["kind"].map(lambda k: SENSOR_KINDS[k][2] or None, na_action="ignore")
    df["unit_of_measure"] = df["unit_of_measure"].where(df["unit_of_measure"].notna(), usual)
    low, high = df["low_threshold"], df["high_threshold"]
    both = low.notna() & high.notna()
    unordered = pd.Series(False, index=df.index)
    unordered[both] = low[both].astype(float) >= high[both].astype(float)
    ctx.error_where(unordered, "high_threshold", ctx.raw.get("high_threshold", high),
                    "must be above 下限 (low_threshold)")
    worn = df["person_id_number"].notna() & df["kind"].notna() & ~df["kind"].isin(
        PERSONAL_SENSOR_KINDS)
    ctx.error_where(worn, "person_id_number", df["person_id_number"],
                    "only 老人手环 and 一键通 are worn by a person")


def _sensor_check(ctx: Context, conn: Connection) -> None:
    """The wearer must be a person already imported."""
    if "person_id_number" not in ctx.present:
        return
    resolve_reference(ctx, conn, field_name="person_id_number", id_column="person_id",
                      table="person", key="id_number", kind="persons")


SENSORS = point_loader("sensor", "code", (
    ("code", "text"), ("kind", "text"), ("name", "text"), ("unit_of_measure", "text"),
    ("low_threshold", "double precision"), ("high_threshold", "double precision"),
    ("status", "text"), ("grid_code", "text"), ("building_code", "text"),
    ("person_id_number", "text"),
), refs=(("building_id", "bigint"), ("person_id", "bigint")),
    extra_prepare=_sensor_prepare, extra_check=_sensor_check)

PLACES = point_loader("key_place", "code", (
    ("code", "text"), ("name", "text"), ("kind", "text"), ("risk_level", "smallint"),
    ("address", "text"), ("contact_name", "text"), ("contact_phone", "text"),
    ("grid_code", "text"), ("building_code", "text"),
), refs=(("building_id", "bigint"),))

ENTERPRISES = point_loader("enterprise", "credit_code", (
    ("credit_code", "text"), ("name", "text"), ("legal_representative", "text"),
    ("industry", "text"), ("employees", "integer"), ("status", "text"), ("address", "text"),
    ("grid_code", "text"), ("building_code", "text"),
), refs=(("building_id", "bigint"),))

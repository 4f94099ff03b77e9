"""Boundaries: district (6-digit code), street (9), community (12), grid (15), in one file or
several. The level follows from the code's length; the parent is the code's prefix and must be
in the database or in the same file; a child must lie inside its parent (the triggers' rule)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection

from onemap.domain.vocab import ADMIN_CODE_LENGTH, ADMIN_LEVELS

from ..load import OUTSIDE_TOLERANCE, STAGE, Counts, flag, repair_areas
from ..validate import flag_duplicates
from .common import Context, Loader, simple_upsert, with_geometry

LEVELS = ("district", "street", "community", "grid")
LEVEL_BY_LENGTH = {n: level for level, n in ADMIN_CODE_LENGTH.items()}
# (level, its table's parent column, the parent's level)
PARENTS = (("street", "district_code", "district"), ("community", "street_code", "street"),
           ("grid", "community_code", "community"))

STAGE_COLUMNS = (
    ("level", "text"), ("code", "text"), ("parent_code", "text"), ("name", "text"),
    ("geom", "geometry(Geometry, 4326)"),
)


def prepare(ctx: Context, frame: pd.DataFrame, geoms: gpd.GeoSeries | None) -> pd.DataFrame:
    """Levels from code lengths, checked against --level, 级别 and 上级编码; duplicates refused."""
    code = frame["code"]
    digits = code.str.fullmatch(r"\d+").fillna(False).astype(bool)
    length = code.str.len()
    level = length.map(LEVEL_BY_LENGTH).where(digits, None).astype(object)
    ctx.error_where(code.notna() & level.isna(), "code", code,
                    "must be 6 (区), 9 (街道), 12 (社区) or 15 (网格) digits")
    if ctx.level:
        wrong = level.notna() & (level != ctx.level)
        n = ADMIN_CODE_LENGTH[ctx.level]
        ctx.error_where(wrong, "code", code, f"--level {ctx.level} needs a {n}-digit code")
    if "level" in ctx.present:
        declared = frame["level"]
        wrong = declared.notna() & level.notna() & (declared != level)
        reasons = declared.map(lambda lv: f"级别 {ADMIN_LEVELS[lv][0]} needs a "
                                          f"{ADMIN_CODE_LENGTH[lv]}-digit code",
                               na_action="ignore")
        ctx.error_where(wrong, "level", declared.map(_zh, na_action="ignore"), reasons)
    prefix = code.where(level.notna() & (level != "district"), None).str[:-3]
    if "parent_code" in ctx.present:
        given = frame["parent_code"]
        wrong = given.notna() & prefix.notna() & (given != prefix)
        ctx.error_where(wrong, "parent_code", given,
                        "not the code's prefix (the parent of " + code.fillna("") + " is "
                        + prefix.fillna("") + ")")
    flag_duplicates(frame, ctx.rows.to_numpy(), ["code"], "code", ctx.log)
    out = pd.DataFrame({"level": level, "code": code, "parent_code": prefix,
                        "name": frame["name"]}, index=frame.index)
    return with_geometry(out, geoms)


def _zh(level: str) -> str:
    return ADMIN_LEVELS[level][0]


def check(ctx: Context, conn: Connection) -> None:
    """Repair invalid polygons; level by level from the top, parents exist and contain their
    children; a boundary already holding children in the database keeps holding them."""
    repaired = repair_areas(conn, ctx.log, ctx.geometry_field)
    if repaired:
        ctx.notes.append(f"{repaired} invalid geometr{'y' if repaired == 1 else 'ies'} repaired")
    for level, _fk, parent in PARENTS:
        params = {"level": level, "parent": parent}
        # a parent rejected a moment ago has left the stage, so its children land here too
        flag(conn, ctx.log, "code", f"""
            SELECT s.row, s.code,
                   'unknown parent ' || :parent || ' ' || s.parent_code
                   || ' (neither in the database nor valid in this file)'
            FROM {STAGE} s
            WHERE s.level = :level AND s.parent_code IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM {STAGE} p WHERE p.level = :parent
                              AND p.code = s.parent_code AND p.valid)
              AND NOT EXISTS (SELECT 1 FROM onemap.{parent} p WHERE p.code = s.parent_code)
        """, params)
        tolerance = OUTSIDE_TOLERANCE.format(child="x.geom")
        flag(conn, ctx.log, ctx.geometry_field, f"""
            SELECT x.row, ST_AsText(ST_PointOnSurface(x.beyond), 6),
                   'lies outside its ' || :parent || ' ' || x.parent_code
                   || ' by ' || round(x.outside::numeric, 1) || ' m² (tolerance: 1 m² or 0.1 %)'
            FROM (
              SELECT s.row, s.geom, s.parent_code, d.beyond, ST_Area(d.beyond::geography) AS outside
              FROM {STAGE} s
              LEFT JOIN {STAGE} ps
                ON ps.level = :parent AND ps.code = s.parent_code AND ps.valid
              LEFT JOIN onemap.{parent} pd ON pd.code = s.parent_code
              -- the value names a point in the part that sticks out, to find it on a map
              CROSS JOIN LATERAL (
                SELECT ST_Difference(s.geom, coalesce(ps.geom, pd.geom)) AS beyond) d
              WHERE s.level = :level
                AND NOT ST_CoveredBy(s.geom, coalesce(ps.geom, pd.geom))
            ) x
            WHERE x.outside > {tolerance}
        """, params)
    _keeps_children(ctx, conn)


def _keeps_children(ctx: Context, conn: Connection) -> None:
    """A new boundary must still hold the children already in the database (the triggers only
    look upwards, from a child to its parent, so they would let a shrunken parent through)."""
    for child, fk, parent in PARENTS:
        tolerance = OUTSIDE_TOLERANCE.format(child="c.geom")
        flag(conn, ctx.log, ctx.geometry_field, f"""
            SELECT s.row, c.code,
                   'would leave its ' || :child || ' ' || c.code || ' outside by '
                   || round(ST_Area(ST_Difference(c.geom, s.geom)::geography)::numeric, 1) || ' m²'
            FROM {STAGE} s JOIN onemap.{child} c ON c.{fk} = s.code
            WHERE s.level = :parent
              AND NOT EXISTS (SELECT 1 FROM {STAGE} x WHERE x.code = c.code AND x.valid)
              AND NOT ST_CoveredBy(c.geom, s.geom)
              AND ST_Area(ST_Difference(c.geom, s.geom)::geography) > {tolerance}
        """, {"child": child, "parent": parent})
    flag(conn, ctx.log, ctx.geometry_field, f"""
        SELECT s.row, b.code, 'would leave building ' || b.code || ' outside'
        FROM {STAGE} s JOIN onemap.building b ON b.grid_code = s.code
        WHERE s.level = 'grid' AND NOT ST_Covers(s.geom, ST_PointOnSurface(b.geom))
    """)


def write(ctx: Context, conn: Connection) -> Counts:
    """Upsert level by level, parents first, so the triggers find each parent in place."""
    total = Counts()
    for level in LEVELS:
        fk = {"district": None, **{lv: col for lv, col, _ in PARENTS}}[level]
        columns = [("code", "s.code", None), ("name", "s.name", "name"),
                   ("geom", "s.geom", None)]
        if fk:
            columns.insert(1, (fk, "s.parent_code", None))
        counts = simple_upsert(ctx, conn, level, "code", columns, where="s.level = :level",
                               params={"level": level}, field_name=ctx.geometry_field)
        if counts.inserted or counts.updated or counts.unchanged:
            total.extra[level] = counts.inserted + counts.updated + counts.unchanged
        total.add(counts)
    return total


LOADER = Loader(STAGE_COLUMNS, prepare, check, write)

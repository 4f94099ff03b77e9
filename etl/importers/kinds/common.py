"""What every kind shares: the import context, the loader shape, and the checks of a location
against the district and its grids (the same rules `onemap db check` applies afterwards)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, text

from ..errors import ImportRefused
from ..load import STAGE, Counts, flag, on_conflict, staged_count, upsert
from ..progress import Progress
from ..templates import Template
from ..validate import ErrorLog


@dataclass
class Context:
    """One import in progress: what is being imported, from which rows, with which options."""

    template: Template
    log: ErrorLog
    rows: pd.Series  # the row number users see, indexed like the parsed frame
    present: set[str]  # English names of the columns the file has
    progress: Progress
    raw: pd.DataFrame | None = None  # the cells as read (text), indexed like the parsed frame
    level: str | None = None  # boundaries: --level
    geometry_field: str = "geometry"
    notes: list[str] = field(default_factory=list)

    def error_where(self, bad: pd.Series, field_name: str, values: pd.Series,
                    reason: str | pd.Series) -> None:
        """Record an error for every row where `bad` holds."""
        self.log.add_where(self.rows.to_numpy(), bad, field_name, values, reason)

    def has(self, *names: str) -> bool:
        """Whether the file has all these columns."""
        return all(n in self.present for n in names)


@dataclass(frozen=True)
class Loader:
    """One kind's steps: staging columns, Python checks, database checks, upsert."""

    stage: Sequence[tuple[str, str]]
    prepare: Callable[[Context, pd.DataFrame, gpd.GeoSeries | None], pd.DataFrame]
    check: Callable[[Context, Connection], None]
    write: Callable[[Context, Connection], Counts]


def with_geometry(frame: pd.DataFrame, geoms: gpd.GeoSeries | None) -> pd.DataFrame:
    """The frame with a `geom` column of shapely geometries (or None)."""
    out = frame.copy()
    out["geom"] = (pd.Series(geoms.to_numpy(), index=frame.index, dtype=object)
                   if geoms is not None else None)
    return out


def require_loaded(conn: Connection, table: str, what: str) -> None:
    """Refuse early, with the order to follow, when the parent data is not loaded yet."""
    if not conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM onemap.{table})")).scalar_one():
        raise ImportRefused(f"no {what} in the database yet: import them first "
                            "(see docs/importing.md for the order)")


def check_location(ctx: Context, conn: Connection, where: str = "s.geom",
                   grid_required: bool = True) -> None:
    """The location (`where`, an expression over the staged row `s`) must lie in a district; a
    given grid must exist and cover it; a blank grid is filled with the grid that covers it."""
    log, geo = ctx.log, ctx.geometry_field
    flag(conn, log, geo, f"""
        SELECT s.row, ST_AsText({where}, 6),
               'outside the district (no district boundary in the database covers it)'
        FROM {STAGE} s
        WHERE s.geom IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM onemap.district d WHERE ST_Covers(d.geom, {where}))
    """)
    flag(conn, log, "grid_code", f"""
        SELECT s.row, s.grid_code, 'unknown grid'
        FROM {STAGE} s
        WHERE s.grid_code IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM onemap.grid g WHERE g.code = s.grid_code)
    """)
    flag(conn, log, "grid_code", f"""
        SELECT s.row, s.grid_code, 'the location lies outside this grid'
        FROM {STAGE} s JOIN onemap.grid g ON g.code = s.grid_code
        WHERE s.geom IS NOT NULL AND NOT ST_Covers(g.geom, {where})
    """)
    # on a shared edge two grids cover the point: take the lowest code, as `db check` accepts both
    conn.execute(text(f"""
        UPDATE {STAGE} s SET grid_code = (
          SELECT g.code FROM onemap.grid g WHERE ST_Covers(g.geom, {where}) ORDER BY g.code LIMIT 1)
        WHERE s.grid_code IS NULL AND s.geom IS NOT NULL
    """))
    if grid_required:
        flag(conn, log, geo, f"""
            SELECT s.row, ST_AsText({where}, 6), 'in no grid: no grid boundary covers it'
            FROM {STAGE} s WHERE s.grid_code IS NULL AND s.geom IS NOT NULL
        """)


def resolve_reference(ctx: Context, conn: Connection, *, field_name: str, id_column: str,
                      table: str, key: str, kind: str) -> None:
    """Turn the staged natural keys in `field_name` into ids of `table` (matched on `key`);
    a key that matches nothing is a row error telling which kind to import first."""
    conn.execute(text(f"""
        UPDATE {STAGE} s SET {id_column} = t.id
        FROM onemap.{table} t WHERE t.{key} = s.{field_name}
    """))
    flag(conn, ctx.log, field_name, f"""
        SELECT s.row, s.{field_name}, 'unknown {table} (import {kind} first)'
        FROM {STAGE} s WHERE s.{field_name} IS NOT NULL AND s.{id_column} IS NULL
    """)


def resolve_building(ctx: Context, conn: Connection) -> None:
    """Turn building codes into building ids; an unknown code is a row error."""
    if "building_code" not in ctx.present:
        return
    resolve_reference(ctx, conn, field_name="building_code", id_column="building_id",
                      table="building", key="code", kind="buildings")


def simple_upsert(ctx: Context, conn: Connection, table: str, key: str,
                  columns: Sequence[tuple[str, str, str | None]], *, where: str = "TRUE",
                  params: dict | None = None, field_name: str | None = None) -> Counts:
    """Upsert the staged rows into one table by its natural key.

    `columns` holds (target column, SQL expression over the staged row `s`, source column); a
    target is updated on conflict only when its source column is in the file (or the source is
    None: always), so a file without, say, phone numbers leaves the phones alone. `where`
    narrows the staged rows; rows the database refuses become errors under `field_name`.
    """
    targets = ", ".join(c for c, _, _ in columns)
    exprs = ", ".join(e for _, e, _ in columns)
    updatable = [c for c, _, src in columns
                 if c != key and (src is None or src in ctx.present)]
    sql = (f"INSERT INTO onemap.{table} AS t ({targets}) "
           f"SELECT {exprs} FROM {STAGE} s WHERE s.row BETWEEN :lo AND :hi AND {where} "
           + on_conflict(key, updatable))
    counts = upsert(conn, ctx.log, sql, field_name or key, params, where=where)
    staged = staged_count(conn, where=where, params=params)
    counts.unchanged = staged - counts.inserted - counts.updated
    return counts

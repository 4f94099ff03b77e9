"""The database side of an import, all inside the caller's transaction: stage the valid rows in a
TEMP table with COPY, run set-based checks that need the database, repair geometries that can be
repaired safely, and upsert by natural key so that re-importing a file changes nothing.

Every statement here is written for the whole file at once; none runs per row, except when the
database refuses a batch: then the batch is halved until the refused rows are found (a few
statements per bad row), so a trigger's or constraint's exception becomes a row error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection, text
from sqlalchemy.exc import DataError, IntegrityError

from geodata.bulk import copy_csv, ewkb_hex

from .progress import NoProgress, Progress
from .validate import ErrorLog

STAGE = "import_stage"

# The hierarchy triggers' tolerance (migration 0001): 1 m², or 0.1 % of the child's area.
OUTSIDE_TOLERANCE = "greatest(1.0, 0.001 * ST_Area({child}::geography))"


@dataclass
class Counts:
    """What an upsert did to the target table."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    def add(self, other: Counts) -> None:
        """Sum another statement's counts into these."""
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        for key, value in other.extra.items():
            self.extra[key] = self.extra.get(key, 0) + value


def create_stage(conn: Connection, columns: Sequence[tuple[str, str]]) -> None:
    """(Re)create the TEMP staging table: `row` (the file's row number) plus the given columns."""
    drop_stage(conn)
    body = ",\n  ".join(f"{name} {sql_type}" for name, sql_type in columns)
    # `valid` is false for rows Python already refused: the checks still see them, writes do not
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE {STAGE} (\n  row integer PRIMARY KEY,\n  {body},\n"
        "  valid boolean NOT NULL DEFAULT true\n) ON COMMIT DROP"
    )


def drop_invalid(conn: Connection) -> None:
    """Remove the rows Python refused, once the database checks have had their say."""
    conn.exec_driver_sql(f"DELETE FROM {STAGE} WHERE NOT valid")


def drop_stage(conn: Connection) -> None:
    """Drop the staging table if this transaction still has one."""
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGE}")


def stage_frame(frame: pd.DataFrame, geometry_columns: Sequence[str] = ("geom",)) -> pd.DataFrame:
    """The frame with shapely geometries turned into hex EWKB (SRID 4326) for COPY."""
    out = frame.copy()
    for name in geometry_columns:
        if name in out.columns:
            out[name] = pd.Series(ewkb_hex(out[name].to_numpy()), index=out.index, dtype=object)
    return out


def copy_rows(conn: Connection, frame: pd.DataFrame, progress: Progress | None = None) -> None:
    """COPY the frame (its columns named like the staging table's) into the staging table."""
    progress = progress or NoProgress()
    if frame.empty:
        return
    copy_csv(conn, STAGE, frame, progress.advance)
    # temp tables are never auto-analysed; the joins below need row counts to plan well
    conn.exec_driver_sql(f"ANALYZE {STAGE}")


def flag(conn: Connection, log: ErrorLog, field_name: str, sql: str,
         params: dict | None = None) -> int:
    """Run a check: `sql` selects (row, value, reason) of staged rows that fail it; those rows
    become errors under `field_name` and leave the staging table. Returns how many failed."""
    failed = conn.execute(text(sql), params or {}).all()
    if not failed:
        return 0
    for row, value, reason in failed:
        log.add(row, field_name, value, reason)
    conn.execute(
        text(f"DELETE FROM {STAGE} WHERE row = ANY(:rows)"), {"rows": [r[0] for r in failed]}
    )
    return len(failed)


def staged_count(conn: Connection, distinct: str | None = None, where: str = "TRUE",
                 params: dict | None = None) -> int:
    """Rows (or distinct values of an expression) left in the staging table `s`."""
    what = f"count(DISTINCT {distinct})" if distinct else "count(*)"
    return conn.execute(
        text(f"SELECT {what} FROM {STAGE} s WHERE {where}"), params or {}
    ).scalar_one()


_REPAIR = f"""
SELECT s.row, ST_IsValidReason(s.geom) AS why, r.fixed,
       GeometryType(r.fixed) = 'MULTIPOLYGON' AND NOT ST_IsEmpty(r.fixed) AND ST_Area(s.geom) > 0
       AND abs(ST_Area(r.fixed) - ST_Area(s.geom)) <= 0.01 * ST_Area(s.geom) AS safe,
       CASE WHEN ST_Area(s.geom) > 0
            THEN round((100 * abs(ST_Area(r.fixed) - ST_Area(s.geom)) / ST_Area(s.geom))::numeric)
       END AS change_pct
FROM {STAGE} s
CROSS JOIN LATERAL (
  -- MakeValid may split a spike off as a line: keep the polygonal part, then judge its area
  SELECT ST_Multi(ST_CollectionExtract(ST_MakeValid(s.geom), 3)) AS fixed
) r
WHERE NOT ST_IsValid(s.geom)
"""


def repair_areas(conn: Connection, log: ErrorLog, field_name: str) -> int:
    """Repair invalid polygons with ST_MakeValid where the result keeps its type and its area
    within 1 %; flag the others. Returns how many were repaired."""
    repaired = conn.execute(text(
        f"UPDATE {STAGE} s SET geom = x.fixed FROM ({_REPAIR}) x WHERE x.row = s.row AND x.safe"
    )).rowcount
    flag(conn, log, field_name, f"""
        SELECT row, why,
               'invalid geometry that cannot be repaired safely'
               || CASE WHEN change_pct IS NULL THEN ' (it has no area)'
                       ELSE ' (repairing changes its area by ' || change_pct || ' %)' END
        FROM ({_REPAIR}) x
    """)
    return repaired


def upsert(conn: Connection, log: ErrorLog, sql: str, field_name: str,
           params: dict | None = None, where: str = "TRUE") -> Counts:
    """Run an INSERT … ON CONFLICT … RETURNING (xmax = 0) AS inserted over the staged rows.

    `sql` must restrict the staging table `s` with `s.row BETWEEN :lo AND :hi` (and `where`,
    which selects the rows to bisect over). When the database
    refuses (a trigger, a constraint), the rows are halved until each refused row is found: it
    becomes an error under `field_name` and leaves the staging table; the others go in.
    """
    rows = conn.execute(
        text(f"SELECT s.row FROM {STAGE} s WHERE {where} ORDER BY s.row"), params or {}
    ).scalars().all()
    counted = text(
        f"WITH up AS ({sql}) "
        "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up"
    )
    counts = Counts()
    pending = [(0, len(rows))] if rows else []
    refused: list[int] = []
    while pending:
        lo, hi = pending.pop()
        try:
            with conn.begin_nested():
                inserted, updated = conn.execute(
                    counted, {**(params or {}), "lo": rows[lo], "hi": rows[hi - 1]}
                ).one()
        except (IntegrityError, DataError) as exc:
            if hi - lo == 1:
                log.add(rows[lo], field_name, "", f"refused by the database: {_message(exc)}")
                refused.append(rows[lo])
            else:
                mid = (lo + hi) // 2
                pending += [(mid, hi), (lo, mid)]  # lower half first: errors in row order
            continue
        counts.inserted += inserted
        counts.updated += updated
    if refused:
        conn.execute(text(f"DELETE FROM {STAGE} WHERE row = ANY(:rows)"), {"rows": refused})
    return counts


def _message(exc: Exception) -> str:
    """The database's own words for why it refused (first line, no SQL)."""
    diag = getattr(getattr(exc, "orig", None), "diag", None)
    primary = getattr(diag, "message_primary", None)
    return primary or str(getattr(exc, "orig", exc)).splitlines()[0]


def update_set(columns: Sequence[str], target: str = "t") -> tuple[str, str]:
    """The SET list and the IS DISTINCT FROM guard of an upsert over `columns`."""
    assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)
    mine = ", ".join(f"{target}.{c}" for c in columns)
    theirs = ", ".join(f"EXCLUDED.{c}" for c in columns)
    return assignments, f"ROW({mine}) IS DISTINCT FROM ROW({theirs})"


def on_conflict(key: str, columns: Sequence[str], target: str = "t") -> str:
    """ON CONFLICT clause: update `columns` only when something differs (so re-imports write
    nothing), and report whether each row was inserted."""
    if not columns:
        return f"ON CONFLICT ({key}) DO NOTHING RETURNING ({target}.xmax = 0) AS inserted"
    assignments, guard = update_set(columns, target)
    return (
        f"ON CONFLICT ({key}) DO UPDATE SET {assignments} WHERE {guard} "
        f"RETURNING ({target}.xmax = 0) AS inserted"
    )

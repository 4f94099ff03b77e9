"""Bulk loading: DataFrames into tables with COPY, typed by the table's own columns."""

from __future__ import annotations

import io
from collections.abc import Iterable

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from .db import SCHEMA

CHUNK_ROWS = 50_000
_INTEGER_TYPES = {"smallint", "integer", "bigint"}


def column_types(conn: Connection, table: str) -> dict[str, str]:
    """Column name -> PostgreSQL data type of a table in OneMap's schema."""
    rows = conn.execute(text(
        "SELECT column_name, data_type, udt_name FROM information_schema.columns"
        " WHERE table_schema = :schema AND table_name = :table"
    ), {"schema": SCHEMA, "table": table})
    return {name: (udt if dtype == "USER-DEFINED" else dtype) for name, dtype, udt in rows}


def ewkb_hex(geometries: Iterable, srid: int = 4326) -> np.ndarray:
    """Geometries as hex EWKB with their SRID: what PostGIS reads fastest from COPY text."""
    array = shapely.set_srid(np.asarray(list(geometries), dtype=object), srid)
    return shapely.to_wkb(array, hex=True, include_srid=True)


def points_hex(lon, lat, srid: int = 4326) -> np.ndarray:
    """Hex EWKB points from longitude and latitude arrays (NaN gives NULL)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    missing = np.isnan(lon) | np.isnan(lat)
    result = np.full(len(lon), None, dtype=object)
    if (~missing).any():
        result[~missing] = ewkb_hex(shapely.points(lon[~missing], lat[~missing]), srid)
    return result


def _prepared(frame: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    """Cast nullable integer columns so CSV shows 12, not 12.0; leave the rest to PostgreSQL."""
    out = frame.copy()
    for column in out.columns:
        if types[column] in _INTEGER_TYPES:
            out[column] = pd.to_numeric(out[column]).round().astype("Int64")
        elif types[column] == "boolean":
            out[column] = out[column].map({True: "t", False: "f"}, na_action="ignore")
    return out


def copy_frame(conn: Connection, table: str, frame: pd.DataFrame,
               progress=lambda rows: None) -> int:
    """COPY the frame's columns (named as the table's) into the table; returns rows written.

    Runs in the caller's transaction, so a failure anywhere leaves nothing behind.
    """
    types = column_types(conn, table)
    unknown = [c for c in frame.columns if c not in types]
    if unknown:
        raise ValueError(f"{table} has no column(s) {', '.join(unknown)}")
    return copy_csv(conn, f"{SCHEMA}.{table}", _prepared(frame, types), progress)


def copy_csv(conn: Connection, target: str, frame: pd.DataFrame,
             progress=lambda rows: None) -> int:
    """COPY a frame as CSV into `target` (a trusted, qualified name) in the caller's transaction.

    None and NaN become unquoted empty fields, which COPY's CSV format reads as NULL.
    """
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    statement = f"COPY {target} ({columns}) FROM STDIN WITH (FORMAT csv)"
    with conn.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for start in range(0, len(frame), CHUNK_ROWS):
            chunk = frame.iloc[start:start + CHUNK_ROWS]
            buffer = io.StringIO()
            chunk.to_csv(buffer, header=False, index=False, na_rep="")
            copy.write(buffer.getvalue())
            progress(len(chunk))
    return len(frame)


def reset_sequence(conn: Connection, table: str, column: str = "id") -> None:
    """Point a serial column's sequence past the largest id, after loading explicit ids."""
    conn.execute(text(
        f"SELECT setval(pg_get_serial_sequence(:table, :column),"
        f" coalesce((SELECT max({column}) FROM {SCHEMA}.{table}), 0) + 1, false)"
    ), {"table": f"{SCHEMA}.{table}", "column": column})

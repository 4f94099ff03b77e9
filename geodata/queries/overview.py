"""What the database holds (within the caller's scope): row counts and the unit's extent."""

from __future__ import annotations

from sqlalchemy import Connection, text

# Entities the overview counts, in the order of the hierarchy and then the things around it.
COUNTED_TABLES = [
    "district", "street", "community", "grid", "building", "unit", "household", "person",
    "enterprise", "key_place", "camera", "sensor", "staff", "event",
]


def table_counts(conn: Connection) -> dict[str, int]:
    """Exact row counts of the counted tables, in one round trip (as far as the scope sees)."""
    selects = ", ".join(f"(SELECT count(*) FROM onemap.{t}) AS {t}" for t in COUNTED_TABLES)
    row = conn.execute(text(f"SELECT {selects}")).mappings().one()
    return {t: int(row[t]) for t in COUNTED_TABLES}


def unit_bounds(conn: Connection, code: str) -> list[list[float]] | None:
    """[[south, west], [north, east]] of an administrative unit, or None when it is not loaded."""
    row = conn.execute(text(
        "SELECT ST_YMin(e), ST_XMin(e), ST_YMax(e), ST_XMax(e)"
        " FROM (SELECT ST_Extent(geom) AS e FROM onemap.admin_unit WHERE code = :code) x"
    ), {"code": code}).one()
    if row[0] is None:
        return None
    return [[row[0], row[1]], [row[2], row[3]]]

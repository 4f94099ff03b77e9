"""What the database holds: row counts per entity and the district's extent."""

from __future__ import annotations

from sqlalchemy import Connection, text

# Entities the overview counts, in the order of the hierarchy and then the things around it.
COUNTED_TABLES = [
    "district", "street", "community", "grid", "building", "unit", "household", "person",
    "enterprise", "key_place", "camera", "sensor", "staff", "event",
]


def table_counts(conn: Connection) -> dict[str, int]:
    """Exact row counts of the counted tables, in one round trip."""
    selects = ", ".join(f"(SELECT count(*) FROM onemap.{t}) AS {t}" for t in COUNTED_TABLES)
    row = conn.execute(text(f"SELECT {selects}")).mappings().one()
    return {t: int(row[t]) for t in COUNTED_TABLES}


def district_bounds(conn: Connection) -> list[list[float]] | None:
    """[[south, west], [north, east]] around every district, or None when there is none."""
    row = conn.execute(text(
        "SELECT ST_YMin(e), ST_XMin(e), ST_YMax(e), ST_XMax(e)"
        " FROM (SELECT ST_Extent(geom) AS e FROM onemap.district) x"
    )).one()
    if row[0] is None:
        return None
    return [[row[0], row[1]], [row[2], row[3]]]

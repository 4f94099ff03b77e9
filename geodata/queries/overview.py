"""What the database holds (within the caller's scope): row counts and the unit's extent."""

from __future__ import annotations

from sqlalchemy import Connection, text

# Entities the overview counts, in the order of the hierarchy and then the things around it.
COUNTED_TABLES = [
    "district", "street", "community", "grid", "building", "unit", "household", "person",
    "enterprise", "key_place", "camera", "sensor", "staff", "event",
]

# Large tables, read from the scope unit's maintained row (admin_unit_stat, migration 0020):
# counting 800 k people under row-level security took 1.3 s a page load. Each column is what
# a count(*) of the table shows a session of that scope, as of the last refresh.
MAINTAINED = {"building": "buildings", "unit": "units", "household": "rooms",
              "person": "people"}

# The tables kept by grid are counted live, by their grid index, grid by grid in the scope:
# an index range read instead of every row's policy check. Staff without a grid are shown to a
# district only (their policy), counted beside.
BY_GRID = ("enterprise", "key_place", "camera", "sensor", "staff")
GRIDLESS = ("staff",)

# Events (300 k in a district, 40-170 ms to count live): per grid up to a mark, maintained
# (migration 0023), plus the few past the mark counted live by the primary key. Row-level
# security keeps both to the scope, gridless events to a district, as on the events.
EVENTS = """(
  (SELECT coalesce(sum(events), 0) FROM onemap.event_grid_count)
  + (SELECT count(*) FROM onemap.event
      WHERE id > (SELECT counted_through FROM onemap.event_count_mark)))"""
_SCOPE_GRIDS = ("ARRAY(SELECT code FROM onemap.grid"
                " WHERE starts_with(code, (SELECT onemap.current_scope())))")


def _by_grid(table: str) -> str:
    count = f"(SELECT count(*) FROM onemap.{table} WHERE grid_code = ANY ({_SCOPE_GRIDS}))"
    if table in GRIDLESS:
        count += f" + (SELECT count(*) FROM onemap.{table} WHERE grid_code IS NULL)"
    return count


def _counts_sql() -> str:
    counted = [t for t in COUNTED_TABLES
               if t not in MAINTAINED and t not in BY_GRID and t != "event"]
    selects = [f"(SELECT count(*) FROM onemap.{t}) AS {t}" for t in counted]
    selects += [f"coalesce(st.{column}, 0) AS {table}" for table, column in MAINTAINED.items()]
    selects += [f"{_by_grid(t)} AS {t}" for t in BY_GRID]
    selects.append(f"{EVENTS} AS event")
    return (f"SELECT {', '.join(selects)} FROM (SELECT 1) AS one"
            " LEFT JOIN onemap.admin_unit_stat st ON st.code = (SELECT onemap.current_scope())")


_COUNTS = _counts_sql()


def table_counts(conn: Connection) -> dict[str, int]:
    """Row counts of the counted tables as far as the scope sees, in one round trip: the large
    ones from the maintained statistics of the scope's unit, events from their maintained
    counts per grid and the newest live, the others counted."""
    row = conn.execute(text(_COUNTS)).mappings().one()
    return {t: int(row[t]) for t in COUNTED_TABLES}


def exact_table_counts(conn: Connection) -> dict[str, int]:
    """count(*) of every counted table under row-level security: what table_counts must equal
    (tests, the bench's baseline)."""
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

"""Shared pieces of the importer tests: sample people and places inside the test hierarchy,
file writers that produce real formats, the CLI runner, and clean-up of committed rows."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Connection, Engine, text

from onemap.domain import idcard, uscc
from tests.conftest import onemap_command
from tests.fixtures.hierarchy import DISTRICT, insert_building, insert_hierarchy

# every table an import writes, children first (the order DELETE needs)
IMPORTED_TABLES = (
    "person_household", "sensor", "person", "household", "floor", "unit", "camera", "key_place",
    "enterprise", "staff", "building", "grid", "community", "street", "district",
)
GRID = "210103001001001"  # x 123.40-123.42, y 41.80-41.82
OTHER_GRID = "210103002002002"  # x 123.46-123.48, y 41.78-41.80


def person_id(n: int, sex: str = "M", born: date = date(1980, 5, 17)) -> str:
    """A valid citizen ID for test person n."""
    return idcard.make(DISTRICT, born, sex, n)


def bad_checksum(id_number: str) -> str:
    """The same ID with a wrong check character."""
    last = "0" if id_number[-1] != "0" else "1"
    return id_number[:-1] + last


def credit_code(n: int) -> str:
    """A valid unified social credit code for test enterprise n."""
    return uscc.make("9", "1", DISTRICT, f"MA{n:06d}")


def inside(grid_code: str = GRID, dx: float = 0.005, dy: float = 0.005) -> tuple[float, float]:
    """A WGS84 point inside the test grid (offset from its south-west corner)."""
    x0, y0 = {GRID: (123.40, 41.80), OTHER_GRID: (123.46, 41.78)}[grid_code]
    return x0 + dx, y0 + dy


def write_csv(path: Path, rows: list[dict], encoding: str = "utf-8-sig") -> Path:
    """A CSV as Excel would save it: headers as given, the chosen encoding."""
    pd.DataFrame(rows).to_csv(path, index=False, encoding=encoding)
    return path


def run_cli(cli_env: dict, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`onemap import …` as a user runs it, against the session database."""
    return subprocess.run([onemap_command(), "import", *map(str, args)], env=cli_env,
                          capture_output=True, text=True, cwd=cwd)


def count(conn: Connection, table: str, where: str = "TRUE", **params) -> int:
    """Rows in a table (optionally matching a condition)."""
    return conn.execute(text(f"SELECT count(*) FROM {table} WHERE {where}"), params).scalar_one()


def wipe(engine: Engine) -> None:
    """Delete every row the importer tests may have committed, children first."""
    with engine.begin() as conn:
        for table in IMPORTED_TABLES:
            conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def hierarchy(conn: Connection) -> dict[str, list[str]]:
    """The small Shenyang hierarchy inside the test's rolled-back transaction."""
    return insert_hierarchy(conn)


@pytest.fixture
def committed(engine: Engine):
    """The hierarchy plus one building B-1 (2 units, 6 floors) in GRID, committed for CLI runs;
    everything the test added is deleted afterwards."""
    wipe(engine)
    with engine.begin() as conn:
        codes = insert_hierarchy(conn)
        insert_building(conn, GRID, "B-1")
    yield codes
    wipe(engine)


def add_households(conn: Connection) -> None:
    """Households in B-1: unit 1 rooms 101 and 501, unit 2 room 302 (6 floors per unit)."""
    conn.execute(text("""
        INSERT INTO unit (building_id, number)
        SELECT id, n FROM building, generate_series(1, 2) n WHERE code = 'B-1'
    """))
    conn.execute(text("""
        INSERT INTO floor (unit_id, building_id, number)
        SELECT u.id, u.building_id, f FROM unit u, generate_series(1, 6) f
    """))
    for unit, room in ((1, "101"), (1, "501"), (2, "302")):
        conn.execute(text("""
            INSERT INTO household (floor_id, unit_id, building_id, room_number, occupancy)
            SELECT f.id, u.id, u.building_id, :room, 'self_occupied'
            FROM unit u JOIN floor f ON f.unit_id = u.id
            WHERE u.number = :unit AND f.number = :floor
        """), {"unit": unit, "room": room, "floor": int(room[0])})


@pytest.fixture
def households(conn: Connection, hierarchy):
    """Building B-1 and its households, inside the test's rolled-back transaction."""
    insert_building(conn, GRID, "B-1")
    add_households(conn)
    return hierarchy


@pytest.fixture
def with_household(engine: Engine, committed):
    """Building B-1 and its households, committed for CLI runs (never mix with `conn`: the
    clean-up would wait for the test's open transaction)."""
    with engine.begin() as conn:
        add_households(conn)
    return committed

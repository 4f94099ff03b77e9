"""Benchmark: the event and history tables partitioned by month, or not (issue 15, point 6);
writes its section of BENCHMARKS.md.

In a scratch schema of the database (`bench_partitions`, dropped afterwards), the district's
cases and their history are copied twice: once into plain tables with the indexes OneMap has,
once into tables partitioned by month (native RANGE partitioning on `reported_at` and on the
history's `at`, the same indexes on every partition, primary keys widened by the partition
key as PostgreSQL requires). At two scales:

- 300 k cases: the district's year as the demo holds it (about 2.1 M history rows), 13
  monthly partitions;
- 3 M cases: the same year and nine copies of it moved back a year each (ten years of the
  district kept for appraisal and audit; older copies closed), about 21 M history rows,
  about 120 partitions.

Then, as the tables' owner (row-level security costs both sides the same and is left out),
one query at a time, p50/p95 over random arguments: what the loop and the pages ask of these
tables (a case by id, a case's timeline, the wall's cases in a z15 screen over 7 days, the
heatmap's 30 days at z13, a month's cases as the cockpit's drill-through lists them, the
desk's open queue, one new case and one history row written), and what partitions are for
(the oldest month removed: DELETE against DROP of its partition, rolled back).

    .venv/bin/python bench/partitions.py [--scales 1,10] [--rounds 50] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geodata.db import database_url, make_engine  # noqa: E402
from results import publish  # noqa: E402  (bench/results.py, run as a script)
from wall_screen import machine, p95  # noqa: E402

TITLE = "## Events and history partitioned by month (issue 15)"
SCHEMA = "bench_partitions"
ID_STRIDE = 100_000_000  # copy k of a row gets id + k * ID_STRIDE
# ids of the rows the write test adds: past the tenth copy's (9 * ID_STRIDE + the year's ids),
# under integer's 2,147,483,647
WRITTEN_IDS = 20 * ID_STRIDE

# Indexes of onemap.event and onemap.event_history that these queries use, as the migrations
# declare them (the partial ones keep their predicates).
EVENT_INDEXES = (
    "CREATE INDEX ON {t} USING gist (geom)",
    "CREATE INDEX ON {t} (reported_at)",
    "CREATE INDEX ON {t} (grid_code)",
    "CREATE INDEX ON {t} (category_code, reported_at)",
    "CREATE INDEX ON {t} (state, due_at) WHERE onemap.event_is_open(state::text)",
)
HISTORY_INDEXES = ("CREATE INDEX ON {t} (event_id)",)


def copy_of(k_max: int, source: str, time_columns: tuple[str, ...], id_columns: tuple[str, ...],
            columns: list[str]) -> str:
    """SELECT of `source` and its copies k = 1..k_max: ids moved by k strides, times by k
    years; copies of cases are closed (a case ten years old is not open)."""
    def expression(column: str) -> str:
        if column in time_columns:
            return f"{column} - make_interval(years => k)"
        if column in id_columns:
            return f"{column} + k * {ID_STRIDE}"
        if column == "state" and source.endswith(".event"):
            return "CASE WHEN k = 0 THEN state ELSE 'closed' END"
        if column == "code":
            return "CASE WHEN k = 0 THEN code ELSE code || '-' || k END"
        if column in ("external_ref", "duplicate_of_id", "merged_into_id"):
            return f"CASE WHEN k = 0 THEN {column} END"
        return column
    select = ", ".join(expression(c) for c in columns)
    return f"SELECT {select} FROM {source}, generate_series(0, {k_max}) AS k"


EVENT_TIMES = ("reported_at", "registered_at", "dispatched_at", "handled_at", "verified_at",
               "closed_at", "due_at", "updated_at", "stage_started_at", "paused_at", "warn_at")
HISTORY_TIMES = ("at",)


def columns(conn: Connection, table: str) -> list[str]:
    return list(conn.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'onemap'"
        " AND table_name = :t ORDER BY ordinal_position"), {"t": table}).scalars())


def monthly_partitions(conn: Connection, parent: str, column: str, source: str) -> int:
    """One partition per month the rows of `source` cover, and a default for the rest."""
    months = conn.execute(text(
        f"SELECT generate_series(date_trunc('month', min({column}) AT TIME ZONE 'Asia/Shanghai'),"
        f" date_trunc('month', max({column}) AT TIME ZONE 'Asia/Shanghai'), '1 month')"
        f" FROM {source}")).scalars().all()
    for month in months:
        following = (month + timedelta(days=32)).replace(day=1)
        conn.execute(text(
            f"CREATE TABLE {parent}_{month:%Y%m} PARTITION OF {parent} FOR VALUES"
            f" FROM ('{month:%Y-%m-%d} 00:00+08') TO ('{following:%Y-%m-%d} 00:00+08')"))
    return len(months)


def build(conn: Connection, k_max: int) -> dict:
    """The plain and the partitioned tables at (k_max + 1) years; seconds each took."""
    conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}"))
    built: dict = {}
    for table, times, ids, indexes, key in (
        ("event", EVENT_TIMES, ("id",), EVENT_INDEXES, "reported_at"),
        ("event_history", HISTORY_TIMES, ("id", "event_id"), HISTORY_INDEXES, "at"),
    ):
        names = columns(conn, table)
        plain, part = f"{SCHEMA}.{table}_plain", f"{SCHEMA}.{table}_part"
        started = time.perf_counter()
        conn.execute(text(f"CREATE TABLE {plain} (LIKE onemap.{table})"))
        conn.execute(text(f"INSERT INTO {plain} ({', '.join(names)}) "
                          + copy_of(k_max, f"onemap.{table}", times, ids, names)))
        conn.execute(text(f"ALTER TABLE {plain} ADD PRIMARY KEY (id)"))
        for index in indexes:
            conn.execute(text(index.format(t=plain)))
        conn.execute(text(f"ANALYZE {plain}"))
        built[f"{table} plain"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute(text(f"CREATE TABLE {part} (LIKE onemap.{table}) PARTITION BY RANGE ({key})"))
        built[f"{table} partitions"] = monthly_partitions(conn, part, key, plain)
        conn.execute(text(f"INSERT INTO {part} SELECT * FROM {plain}"))
        conn.execute(text(f"ALTER TABLE {part} ADD PRIMARY KEY (id, {key})"))
        for index in indexes:
            conn.execute(text(index.format(t=part)))
        conn.execute(text(f"ANALYZE {part}"))
        built[f"{table} partitioned"] = time.perf_counter() - started
        built[f"{table} rows"] = conn.execute(text(f"SELECT count(*) FROM {plain}")).scalar()
    conn.commit()
    return built


# Each query takes :e (the cases' table) and :h (the history's) by name, and its arguments
# from `arguments` below.
QUERIES = {
    "a case by id": "SELECT * FROM {e} WHERE id = :id",
    "a case's timeline": "SELECT * FROM {h} WHERE event_id = :id ORDER BY at",
    "wall: cases in a z15 screen, 7 days": (
        "SELECT id, state, geom FROM {e} WHERE geom && ST_MakeEnvelope(:x, :y, :x + 0.0206,"
        " :y + 0.0086, 4326) AND reported_at >= :now - interval '7 days'"),
    "heatmap: 30 days in a z13 screen": (
        "SELECT round(ST_X(geom)::numeric, 3), round(ST_Y(geom)::numeric, 3), count(*)"
        " FROM {e} WHERE geom && ST_MakeEnvelope(:x - 0.04, :y - 0.02, :x + 0.04, :y + 0.02,"
        " 4326) AND reported_at >= :now - interval '30 days' GROUP BY 1, 2"),
    "a month's cases, count and first page": (
        "SELECT count(*) OVER (), id, code FROM {e} WHERE reported_at >= :month"
        " AND reported_at < :month + interval '1 month' ORDER BY reported_at LIMIT 50"),
    "desk: open queue by due time": (
        "SELECT id, due_at FROM {e} WHERE onemap.event_is_open(state::text)"
        " ORDER BY due_at NULLS LAST LIMIT 100"),
}


def arguments(conn: Connection, rounds: int, seed: int = 2017) -> list[dict]:
    """Recent cases (the loop's), screen corners inside the district, months of the year."""
    rng = random.Random(seed)
    now = conn.execute(text("SELECT max(reported_at) FROM onemap.event")).scalar()
    ids = conn.execute(text(
        "SELECT id FROM onemap.event WHERE reported_at > :now - interval '60 days'"
        " ORDER BY md5(id::text) LIMIT :n"), {"now": now, "n": rounds}).scalars().all()
    x0, y0, x1, y1 = conn.execute(text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
        " FROM (SELECT ST_Extent(geom)::geometry AS e FROM onemap.event) s")).one()
    out = []
    for i in range(rounds):
        month = now.astimezone(ZoneInfo("Asia/Shanghai")).replace(
            day=1, hour=0, minute=0, second=0, microsecond=0)
        back = rng.randrange(12)
        month = month.replace(year=month.year - (back > month.month - 1),
                              month=(month.month - 1 - back) % 12 + 1)
        out.append({"id": ids[i % len(ids)], "now": now, "month": month,
                    "x": rng.uniform(x0, x1 - 0.02), "y": rng.uniform(y0, y1 - 0.01)})
    return out


def timed(conn: Connection, sql: str, args: list[dict]) -> list[float]:
    statement = text(sql)
    conn.execute(statement, args[0]).fetchall()  # plan and cache once, untimed
    times = []
    for a in args:
        started = time.perf_counter()
        conn.execute(statement, a).fetchall()
        times.append((time.perf_counter() - started) * 1000)
    conn.rollback()
    return times


def timed_writes(conn: Connection, table: str, rounds: int, now: datetime) -> dict[str, list]:
    """One new case and one history row per statement, as intake writes them (rolled back)."""
    event = text(
        f"INSERT INTO {SCHEMA}.event_{table} (id, code, title, category_code, level, channel,"
        " state, grid_code, reported_at, geom, updated_at, returned_count, extended, tier,"
        " overran, sent_back_count) SELECT id + :n, code || '-new' || :n, title, category_code,"
        " level, channel, 'reported', grid_code, :now, geom, :now, 0, false, tier, false, 0"
        f" FROM {SCHEMA}.event_plain WHERE id = (SELECT min(id) FROM {SCHEMA}.event_plain)")
    history = text(
        f"INSERT INTO {SCHEMA}.event_history_{table} (id, event_id, at, action, to_state)"
        " VALUES (:n, :n, :now, 'report', 'reported')")
    out: dict[str, list] = {"write a new case": [], "write a history row": []}
    for name, statement in (("write a new case", event), ("write a history row", history)):
        for i in range(rounds):
            started = time.perf_counter()
            conn.execute(statement, {"n": WRITTEN_IDS + i, "now": now})
            out[name].append((time.perf_counter() - started) * 1000)
        conn.rollback()
    return out


def retention(conn: Connection, built: dict) -> dict[str, float]:
    """The oldest month of cases and history removed: DELETE from the plain tables against
    DROP of the partitions (each rolled back)."""
    out = {}
    for table, key in (("event", "reported_at"), ("event_history", "at")):
        oldest = conn.execute(text(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = CAST(:p AS regclass)"
            " ORDER BY 1 LIMIT 1"), {"p": f"{SCHEMA}.{table}_part"}).scalar()
        bound = conn.execute(text(
            f"SELECT date_trunc('month', min({key}) AT TIME ZONE 'Asia/Shanghai')"
            f" + interval '1 month' FROM {SCHEMA}.{table}_plain")).scalar()
        started = time.perf_counter()
        conn.execute(text(f"DELETE FROM {SCHEMA}.{table}_plain WHERE {key} <"
                          " (:b)::timestamp AT TIME ZONE 'Asia/Shanghai'"), {"b": bound})
        out[f"{table}: DELETE the oldest month"] = (time.perf_counter() - started) * 1000
        conn.rollback()
        started = time.perf_counter()
        conn.execute(text(f"DROP TABLE {oldest}"))
        out[f"{table}: DROP its partition"] = (time.perf_counter() - started) * 1000
        conn.rollback()
    return out


def measure(conn: Connection, rounds: int) -> dict:
    args = arguments(conn, rounds)
    rows: dict[str, dict] = {}
    for name, sql in QUERIES.items():
        rows[name] = {layout: timed(conn, sql.format(e=f"{SCHEMA}.event_{layout}",
                                                     h=f"{SCHEMA}.event_history_{layout}"),
                                    args)
                      for layout in ("plain", "part")}
    writes = {layout: timed_writes(conn, layout, rounds, args[0]["now"])
              for layout in ("plain", "part")}
    for name in writes["plain"]:
        rows[name] = {layout: writes[layout][name] for layout in writes}
    return rows


def table(scale: str, built: dict, rows: dict, removal: dict) -> list[str]:
    lines = [
        f"**{scale}**: {built['event rows']:,} cases in {built['event partitions']} monthly "
        f"partitions, {built['event_history rows']:,} history rows in "
        f"{built['event_history partitions']}. Built (copy, keys, indexes, ANALYZE): cases "
        f"{built['event plain']:.0f} s plain, {built['event partitioned']:.0f} s partitioned; "
        f"history {built['event_history plain']:.0f} s and "
        f"{built['event_history partitioned']:.0f} s.", "",
        "| query | plain p50 ms | plain p95 ms | partitioned p50 ms | partitioned p95 ms |"
        " partitioned ÷ plain (p50) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, by_layout in rows.items():
        plain, part = by_layout["plain"], by_layout["part"]
        ratio = statistics.median(part) / max(statistics.median(plain), 1e-6)
        lines.append(f"| {name} | {statistics.median(plain):.2f} | {p95(plain):.2f} | "
                     f"{statistics.median(part):.2f} | {p95(part):.2f} | {ratio:.2f}× |")
    lines += ["", "| removing the oldest month | ms |", "| --- | ---: |"]
    lines += [f"| {name} | {ms:,.0f} |" for name, ms in removal.items()]
    return lines + [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="1,10", help="years of the district: 1 = 300 k")
    parser.add_argument("--rounds", type=int, default=50, help="calls per query and layout")
    parser.add_argument("--no-write", action="store_true", help="print, do not write")
    args = parser.parse_args()
    engine = make_engine(database_url())
    started = datetime.now(ZoneInfo("Asia/Shanghai"))
    parts = []
    try:
        with engine.connect() as conn:
            for years in (int(s) for s in args.scales.split(",")):
                load = os.getloadavg()[0]
                built = build(conn, years - 1)
                rows = measure(conn, args.rounds)
                removal = retention(conn, built)
                scale = f"{built['event rows'] / 1e6:.1f} M cases ({years} year{'s' * (years > 1)})"
                print(f"{scale}: built and measured", flush=True)
                parts += table(scale, built, rows, removal)
                parts.append(f"Load average (1 min) {load:.2f} before this scale, "
                             f"{os.getloadavg()[0]:.2f} after.\n")
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    head = [
        TITLE, "",
        f"`bench/partitions.py`, {started:%Y-%m-%d %H:%M} (UTC+8), {machine()}. Copies of the "
        f"district's cases and history in a scratch schema, plain and partitioned by month, "
        f"queried as the owner one at a time ({args.rounds} calls each, random cases, screens "
        f"and months; the first call of each untimed). What the numbers decide is in "
        f"docs/SCALING.md.", "",
    ]
    publish(TITLE, "\n".join(head + parts), dry_run=args.no_write)


if __name__ == "__main__":
    main()

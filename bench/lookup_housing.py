"""Benchmark: the building table (楼盘表) and the household card at district scale (issue 12);
writes its section of BENCHMARKS.md.

Server time of geodata/queries/building_table.py as the API runs it: a duty officer's session
(district scope, no sensitive tags), each call one scoped transaction (checkout, the session
setting, the queries, the commit), one at a time. Measured on the tallest tower, the building
with the most rooms, a building of the median room count, and the cards of randomly drawn
rooms (seeded); and a 33-storey tower with rooms and residents that the bench adds for the
measurement (the dev district has none) and deletes afterwards, with its session.

    .venv/bin/python bench/lookup_housing.py               # writes BENCHMARKS.md
    .venv/bin/python bench/lookup_housing.py --no-write    # prints the section only
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geodata import sessions  # noqa: E402
from geodata.db import database_url, make_engine  # noqa: E402
from geodata.queries import building_table as housing  # noqa: E402
from geodata.scope import Scope, app_engine, scoped  # noqa: E402
from geodata.users import by_username  # noqa: E402
from onemap.domain.roles import ROLE_CAPABILITIES  # noqa: E402
from results import publish  # noqa: E402  (bench/results.py, run as a script)
from wall_screen import machine, p95  # noqa: E402

TITLE = "## Building table and household card (issue 12)"
SEED = 12
GOAL_MS = 50

PICKS = {
    "tallest tower": "SELECT id FROM onemap.building ORDER BY floors_above DESC, id LIMIT 1",
    "most rooms": ("SELECT building_id FROM onemap.household GROUP BY building_id"
                   " ORDER BY count(*) DESC, building_id LIMIT 1"),
    "median rooms": ("SELECT building_id FROM (SELECT building_id, count(*) AS n,"
                     " row_number() OVER (ORDER BY count(*), building_id) AS k,"
                     " count(*) OVER () AS total FROM onemap.household GROUP BY building_id) r"
                     " WHERE k = (total + 1) / 2"),
}


# A 33-storey tower of the goal (the dev district has none with rooms): 4 units of 4
# rooms a floor on the tallest building's footprint and grid, two residents a room, every
# tenth of them tagged; committed for the measurement and deleted afterwards.
TOWER_FLOORS, TOWER_UNITS, TOWER_DOORS = 33, 4, 4
TOWER = f"""
WITH b AS (
    INSERT INTO onemap.building (code, grid_code, name, address, use, floors_above,
                                 floors_below, unit_count, geom)
    SELECT :code, grid_code, '测试塔楼', address || ' 测试塔楼', 'residential',
           {TOWER_FLOORS}, 0, {TOWER_UNITS}, geom
    FROM onemap.building WHERE id = :like RETURNING id
), u AS (
    INSERT INTO onemap.unit (building_id, number)
    SELECT b.id, n FROM b, generate_series(1, {TOWER_UNITS}) n RETURNING id, building_id
), f AS (
    INSERT INTO onemap.floor (unit_id, building_id, number)
    SELECT u.id, u.building_id, n FROM u, generate_series(1, {TOWER_FLOORS}) n
    RETURNING id, unit_id, building_id, number
), h AS (
    INSERT INTO onemap.household (floor_id, unit_id, building_id, room_number, occupancy,
                                  area_m2)
    SELECT f.id, f.unit_id, f.building_id, (f.number * 100 + d)::text,
           (ARRAY['self_occupied', 'rented', 'vacant'])[1 + (f.number + d) % 3], 90
    FROM f, generate_series(1, {TOWER_DOORS}) d
    RETURNING id
), p AS (
    INSERT INTO onemap.person (passport_number, name, gender, birth_date, population_type)
    SELECT :code || '-' || h.id || '-' || k, '测试住户', 'F',
           DATE '1950-01-01' + (h.id % 20000)::int, 'foreign'
    FROM h, generate_series(1, 2) k
    RETURNING id, passport_number
), ph AS (
    INSERT INTO onemap.person_household (person_id, household_id, kind, relation)
    SELECT p.id, split_part(p.passport_number, '-', 2)::bigint, 'residence',
           CASE WHEN split_part(p.passport_number, '-', 3) = '1' THEN 'householder'
                ELSE 'spouse' END
    FROM p
)
INSERT INTO onemap.person_tag (person_id, tag)
SELECT id, 'elderly_alone' FROM p WHERE id % 10 = 0
RETURNING (SELECT id FROM b)
"""


def _timed(scope: Scope, call, key) -> tuple[float, dict]:
    started = time.perf_counter()
    with scoped(scope) as conn:
        answer = call(conn, key)
    return (time.perf_counter() - started) * 1000, answer


def _stats(times: list[float]) -> dict:
    return {"p50": statistics.median(times), "p95": p95(times), "n": len(times)}


def measure(rounds: int, cards: int) -> dict:
    owner = make_engine(database_url())
    with owner.begin() as conn:
        duty = by_username(conn, "duty")
        token = sessions.open_session(
            conn, duty, capabilities=[c.value for c in ROLE_CAPABILITIES[duty.role]],
            user_agent="bench/lookup_housing", ip=None, idle=timedelta(hours=1),
            lifetime=timedelta(hours=1))
        buildings = {what: conn.execute(text(sql)).scalar_one() for what, sql in PICKS.items()}
        described = {b: conn.execute(text(
            "SELECT b.floors_above, b.floors_below, b.unit_count,"
            " (SELECT count(*) FROM onemap.household h WHERE h.building_id = b.id)"
            " FROM onemap.building b WHERE b.id = :b"), {"b": b}).one()
            for b in buildings.values()}
        rooms = list(conn.execute(text("SELECT id FROM onemap.household")).scalars())
        scale = conn.execute(text(
            "SELECT (SELECT count(*) FROM onemap.person), (SELECT count(*) FROM onemap.household),"
            " (SELECT count(*) FROM onemap.building), (SELECT count(*) FROM onemap.event)")).one()
        tower_code = f"BENCH{SEED}TOWER"  # no dashes: the passports split on them
        tallest = buildings["tallest tower"]
        buildings[f"a {TOWER_FLOORS}-storey tower (added for the bench)"] = conn.execute(
            text(TOWER), {"code": tower_code, "like": tallest}).scalars().first()
    with owner.connect() as conn:
        tower = list(buildings.values())[-1]
        described[tower] = conn.execute(text(
            "SELECT b.floors_above, b.floors_below, b.unit_count,"
            " (SELECT count(*) FROM onemap.household h WHERE h.building_id = b.id)"
            " FROM onemap.building b WHERE b.id = :b"), {"b": tower}).one()
    scope = Scope(duty.scope_code, session=token)
    result = {"tables": {}, "scale": scale}
    try:
        for what, building in buildings.items():
            for _ in range(5):  # warm the pool, the plans and the cache
                _timed(scope, housing.building_table, building)
            times = []
            for _ in range(rounds):
                elapsed, table = _timed(scope, housing.building_table, building)
                times.append(elapsed)
            result["tables"][what] = {**_stats(times), "id": building,
                                      "shape": described[building],
                                      "cells": len(table["cells"])}
        drawn = random.Random(SEED).sample(rooms, cards)
        for room in drawn[:5]:
            _timed(scope, housing.household_card, room)
        times, members = [], []
        for room in drawn:
            elapsed, card = _timed(scope, housing.household_card, room)
            times.append(elapsed)
            members.append(len(card["members"]))
        result["card"] = {**_stats(times), "members": statistics.mean(members)}
    finally:
        with owner.begin() as conn:
            sessions.end(conn, token, "benchmark done")
            conn.execute(text("DELETE FROM onemap.person WHERE passport_number LIKE :p"),
                         {"p": f"{tower_code}-%"})
            conn.execute(text("DELETE FROM onemap.building WHERE code = :c"),
                         {"c": tower_code})
        owner.dispose()
        app_engine().dispose()
    return result


def _ms(value: float) -> str:
    return f"{value:.1f}"


def markdown(r: dict) -> str:
    people, rooms, buildings, events = r["scale"]
    when = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    lines = [
        TITLE, "",
        f"`bench/lookup_housing.py`, {when} (UTC+8), {machine()}; the dev district: "
        f"{people:,} people, {rooms:,} rooms, {buildings:,} buildings, {events:,} events. "
        "Server time of geodata/queries/building_table.py through a duty officer's session "
        "(district scope, row-level security), each call one scoped transaction, one at a "
        f"time; goal {GOAL_MS} ms p95 for a tower's table.", "",
        "| what | building (floors above/below, units, rooms) | calls | p50 ms | p95 ms |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for what, t in r["tables"].items():
        above, below, units, count = t["shape"]
        lines.append(f"| building table, {what} | #{t['id']} ({above}/{below}, {units} units, "
                     f"{count} rooms) | {t['n']} | {_ms(t['p50'])} | {_ms(t['p95'])} |")
    c = r["card"]
    lines.append(f"| household card, random rooms ({c['members']:.1f} members on average) | "
                 f"— | {c['n']} | {_ms(c['p50'])} | {_ms(c['p95'])} |")
    lines += ["", "The table is two round trips (the building with its open cases per room, "
              "then the rooms with counts and badges); the card three (the room, its members "
              "with their other home and tags, its case history). The dev district's tallest "
              "buildings are commercial towers without registered rooms, so the bench adds "
              f"a {TOWER_FLOORS}-storey tower ({TOWER_UNITS} units × {TOWER_DOORS} rooms a "
              "floor, two residents a room) on the tallest one's footprint for the "
              "measurement and removes it afterwards.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200, help="calls per building")
    parser.add_argument("--cards", type=int, default=300, help="random rooms' cards")
    parser.add_argument("--no-write", action="store_true", help="print, do not write")
    args = parser.parse_args()
    publish(TITLE, markdown(measure(args.rounds, args.cards)), dry_run=args.no_write)


if __name__ == "__main__":
    main()

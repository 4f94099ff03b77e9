"""Benchmark: the navigator's and the overview's counts at district scale (issue 12); writes its
section of BENCHMARKS.md.

Server time as a page load or the API runs it: each call one scoped transaction (checkout, the
session setting, the queries, the commit), one at a time, through a session of the duty
officer narrowed to each scope in turn: the district, its largest street, and the grid with
the most residents. For each:
- the overview's counts (geodata/queries/overview.py table_counts: buildings, units, rooms and
  people from the maintained statistics, the rest counted) beside the count(*) of every table
  under row-level security that it replaces (exact_table_counts);
- unit_counts and child_counts (geodata/queries/unit_stats.py) for the scope's own unit, beside
  the same counts taken live under row-level security: the unit's buildings, units, rooms by
  occupancy, people and residents, and per child unit (or per building of a grid) its rooms by
  occupancy and residents, grouped.
The bench's sessions are ended afterwards; it writes nothing else.

    .venv/bin/python bench/lookup_counts.py               # writes BENCHMARKS.md
    .venv/bin/python bench/lookup_counts.py --no-write    # prints the section only
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geodata import sessions  # noqa: E402
from geodata.db import database_url, make_engine  # noqa: E402
from geodata.queries.overview import exact_table_counts, table_counts  # noqa: E402
from geodata.queries.unit_stats import child_counts, unit_counts  # noqa: E402
from geodata.scope import Scope, app_engine, scoped  # noqa: E402
from geodata.users import by_username  # noqa: E402
from onemap.domain.roles import ROLE_CAPABILITIES  # noqa: E402
from results import publish  # noqa: E402  (bench/results.py, run as a script)
from wall_screen import machine, p95  # noqa: E402

TITLE = "## Navigator and overview counts (issue 12)"
GOAL_MS = 50

PICKS = {
    "district": "SELECT code FROM onemap.district ORDER BY code LIMIT 1",
    "largest street": ("SELECT left(grid_code, 9) FROM onemap.building_stat GROUP BY 1"
                       " ORDER BY sum(residents) DESC, 1 LIMIT 1"),
    "most populous grid": ("SELECT grid_code FROM onemap.building_stat GROUP BY 1"
                           " ORDER BY sum(residents) DESC, 1 LIMIT 1"),
}

# The unit's counts taken live under row-level security (what unit_counts reads maintained).
LIVE_UNIT = """
SELECT (SELECT count(*) FROM onemap.building), (SELECT count(*) FROM onemap.unit),
       r.*, (SELECT count(*) FROM onemap.person),
       (SELECT count(*) FROM onemap.person_household WHERE kind = 'residence')
  FROM (SELECT count(*) FILTER (WHERE occupancy = 'self_occupied'),
               count(*) FILTER (WHERE occupancy = 'rented'),
               count(*) FILTER (WHERE occupancy = 'vacant'),
               count(*) FILTER (WHERE occupancy = 'commercial') FROM onemap.household) r
"""
# Per child (or per building of a grid): rooms by occupancy and residents, live.
LIVE_CHILDREN = """
SELECT CASE WHEN :n = 15 THEN b.id::text ELSE left(b.grid_code, :n + 3) END AS child,
       count(DISTINCT h.id) FILTER (WHERE h.occupancy = 'self_occupied'),
       count(DISTINCT h.id) FILTER (WHERE h.occupancy = 'rented'),
       count(DISTINCT h.id) FILTER (WHERE h.occupancy = 'vacant'),
       count(DISTINCT h.id) FILTER (WHERE h.occupancy = 'commercial'),
       count(ph.person_id) FILTER (WHERE ph.kind = 'residence')
  FROM onemap.building b
  JOIN onemap.household h ON h.building_id = b.id
  LEFT JOIN onemap.person_household ph ON ph.household_id = h.id
 WHERE starts_with(b.grid_code, :code)
 GROUP BY 1
"""


def _timed(scope: Scope, call) -> float:
    started = time.perf_counter()
    with scoped(scope) as conn:
        call(conn)
    return (time.perf_counter() - started) * 1000


def scoped_series(scope: Scope, call, rounds: int) -> dict:
    """p50, p95 (ms) and count of `rounds` calls, each one scoped transaction, after three
    to warm the pool, the plans and the cache (bench/cockpit.py times the same way)."""
    for _ in range(3):  # warm the pool, the plans and the cache
        _timed(scope, call)
    times = [_timed(scope, call) for _ in range(rounds)]
    return {"p50": statistics.median(times), "p95": p95(times), "n": len(times)}


def measure(rounds: int, slow_rounds: int) -> dict:
    owner = make_engine(database_url())
    with owner.begin() as conn:
        duty = by_username(conn, "duty")
        codes = {what: conn.execute(text(sql)).scalar_one() for what, sql in PICKS.items()}
        tokens = {what: sessions.open_session(
            conn, duty, capabilities=[c.value for c in ROLE_CAPABILITIES[duty.role]],
            user_agent="bench/lookup_counts", ip=None, idle=timedelta(hours=1),
            lifetime=timedelta(hours=1), scope_code=code) for what, code in codes.items()}
        scale = conn.execute(text(
            "SELECT (SELECT count(*) FROM onemap.person), (SELECT count(*) FROM onemap.household),"
            " (SELECT count(*) FROM onemap.building), (SELECT count(*) FROM onemap.event)")).one()
        refreshed = conn.execute(text("SELECT max(refreshed_at) FROM onemap.admin_unit_stat")
                                 ).scalar_one()
    rows = []
    try:
        for what, code in codes.items():
            scope = Scope(code, session=tokens[what])
            with scoped(scope) as conn:  # the maintained counts are what count(*) says
                assert table_counts(conn) == exact_table_counts(conn), what
            cases = [
                ("overview counts", lambda c: table_counts(c),
                 lambda c: exact_table_counts(c)),
                ("unit_counts", lambda c, code=code: unit_counts(c, code),
                 lambda c: c.execute(text(LIVE_UNIT)).one()),
                ("child_counts", lambda c, code=code: child_counts(c, code),
                 lambda c, code=code: c.execute(text(LIVE_CHILDREN),
                                                {"code": code, "n": len(code)}).all()),
            ]
            for name, fast, slow in cases:
                rows.append({"scope": what, "code": code, "what": name,
                             "fast": scoped_series(scope, fast, rounds),
                             "slow": scoped_series(scope, slow, slow_rounds)})
    finally:
        with owner.begin() as conn:
            for token in tokens.values():
                sessions.end(conn, token, "benchmark done")
        owner.dispose()
        app_engine().dispose()
    return {"rows": rows, "scale": scale, "refreshed": refreshed}


def _ms(value: float) -> str:
    return f"{value:.1f}"


def markdown(r: dict) -> str:
    people, rooms, buildings, events = r["scale"]
    when = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    refreshed = r["refreshed"].astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")
    lines = [
        TITLE, "",
        f"`bench/lookup_counts.py`, {when} (UTC+8), {machine()}; the dev district: "
        f"{people:,} people, {rooms:,} rooms, {buildings:,} buildings, {events:,} events. "
        "Server time through a duty officer's session narrowed to each scope (row-level "
        "security), each call one scoped transaction, one at a time; beside it the count(*) "
        "under row-level security it replaces. Goal: the overview counts under "
        f"{GOAL_MS} ms.", "",
        "| scope | what | calls | p50 ms | p95 ms | count(*) p50 ms | count(*) p95 ms |"
        " ratio (p50) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in r["rows"]:
        fast, slow = row["fast"], row["slow"]
        lines.append(
            f"| {row['scope']} {row['code']} | {row['what']} | {fast['n']} | "
            f"{_ms(fast['p50'])} | **{_ms(fast['p95'])}** | {_ms(slow['p50'])} | "
            f"{_ms(slow['p95'])} | {slow['p50'] / fast['p50']:.0f}× |")
    overview = [row["fast"]["p95"] for row in r["rows"] if row["what"] == "overview counts"]
    worst = max(overview)
    lines += [
        "",
        "Buildings, units, rooms by occupancy, people, residents, registered, living apart "
        "and the non-sensitive key groups come from `admin_unit_stat` / `building_stat` "
        "(migration 0020), rebuilt by `onemap.refresh_building_stats()` after every import "
        f"and demo load (last refresh {refreshed} UTC). Open cases and "
        "cameras are counted live. The overview counts the tables kept by grid (enterprises, "
        "sensors, cameras, staff, key places) live by their grid index, grid by grid; events "
        "come from `event_grid_count` (migration 0023: per grid up to a mark, recounted by "
        "`onemap worker` every ten minutes) plus the newer ones counted live. Goal "
        f"(overview counts under {GOAL_MS} ms p95 in every scope): "
        + (f"met (worst p95 {worst:.1f} ms)." if worst < GOAL_MS
           else f"NOT met (worst p95 {worst:.1f} ms)."),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=100, help="calls per measurement")
    parser.add_argument("--slow-rounds", type=int, default=10,
                        help="calls per count(*) baseline (seconds each at district scale)")
    parser.add_argument("--no-write", action="store_true", help="print, do not write")
    args = parser.parse_args()
    publish(TITLE, markdown(measure(args.rounds, args.slow_rounds)), dry_run=args.no_write)


if __name__ == "__main__":
    main()

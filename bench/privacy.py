"""Benchmark: what sessions in the database and masking cost (issue 9); writes BENCHMARKS.md.

Every request now checks its session in the database (one indexed read on `web_session`, a
write at most once a minute), every scoped query looks the session up once (an InitPlan), and
every person look-up and search writes an audit row and may count a miss. Measured against a
running OneMap on the district-scale demo, one request at a time over loopback:

1. the idle live poll, GET /api/live?since= answering 204 (the cheapest signed-in request:
   what the session check adds shows here; issue 5 measured it before sessions moved);
2. person look-ups by id and searches: by whole ID number and by a two-character name prefix
   as a duty officer, by whole name as an analyst;
3. sign-in (argon2id plus the session row);
4. in SQL, counting every person of the district through a session (row-level security with
   the session InitPlan; issue 5 measured 1.1-1.3 s with the old setting-based scope).

    .venv/bin/python bench/privacy.py --serve
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from geodata import sessions
from geodata.db import database_url, make_engine
from geodata.scope import Scope, app_engine, scoped
from geodata.users import by_username
from results import publish  # bench/results.py (run as a script)
from wall_screen import Client, machine, measure_poll, p95, serving  # tests/support's harness

from tests.support.users import DEMO_PASSWORDS  # noqa: E402  (wall_screen put it on the path)

SECTION = "## Sessions and masking (issue 9)"
SEED = 2017
PASSWORDS = {name: DEMO_PASSWORDS[name] for name in ("duty", "analyst")}


def _timed_post(client: Client, path: str, body: dict) -> tuple[float, int]:
    elapsed, reply = client.post(path, body)
    if reply.status != 200:
        sys.exit(f"{path}: HTTP {reply.status} {reply.text[:200]}")
    return elapsed, len(reply.body)


def _stats(times: list[float]) -> dict:
    return {"p50": statistics.median(times), "p95": p95(times), "n": len(times)}


def sample_people(count: int) -> list[dict]:
    """Random people of the district with what a desk would search them by."""
    engine = make_engine(database_url())
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, name, id_number FROM onemap.person TABLESAMPLE SYSTEM (1)"
            " REPEATABLE (:seed) WHERE id_number IS NOT NULL LIMIT :n"),
            {"seed": SEED, "n": count}).mappings().all()
        total = conn.execute(text("SELECT count(*) FROM onemap.person")).scalar_one()
    engine.dispose()
    return [dict(r) for r in rows], total


def measure_lookups(base: str, people: list[dict]) -> dict:
    duty = Client(base, "duty", PASSWORDS["duty"])
    analyst = Client(base, "analyst", PASSWORDS["analyst"])
    result = {}
    times = []
    for person in people:
        elapsed, reply = duty.get(f"/api/persons/{person['id']}")
        if reply.status != 200:
            sys.exit(f"/api/persons/{person['id']}: HTTP {reply.status}")
        times.append(elapsed)
    result["look-up by id (duty officer)"] = _stats(times)
    cases = {
        "search by whole ID number (duty officer)": (duty, lambda p: p["id_number"]),
        "search by 2-character name prefix (duty officer)": (duty, lambda p: p["name"][:2]),
        "search by whole name (analyst)": (analyst, lambda p: p["name"]),
    }
    for label, (client, query) in cases.items():
        result[label] = _stats([_timed_post(client, "/api/persons/search",
                                            {"q": query(p)})[0] for p in people])
    return result


def measure_sign_in(base: str, rounds: int) -> dict:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        Client(base, "duty", PASSWORDS["duty"])  # GET /login, POST /login
        times.append((time.perf_counter() - started) * 1000)
    return _stats(times)


def measure_count(rounds: int) -> dict:
    """count(*) of every person through a district session, as the overview does."""
    owner = make_engine(database_url())
    with owner.begin() as conn:
        duty = by_username(conn, "duty")
        token = sessions.open_session(conn, duty, capabilities=["view_map"], user_agent="bench",
                                      ip=None, idle=timedelta(hours=1),
                                      lifetime=timedelta(hours=1))
    scope = Scope(duty.scope_code, session=token)
    times, counted = [], 0
    for _ in range(rounds):
        started = time.perf_counter()
        with scoped(scope) as conn:
            counted = conn.execute(text("SELECT count(*) FROM onemap.person")).scalar_one()
        times.append((time.perf_counter() - started) * 1000)
    with owner.begin() as conn:
        sessions.end(conn, token, "benchmark done")
    owner.dispose()
    app_engine().dispose()
    return {**_stats(times), "rows": counted}


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def markdown(r: dict) -> str:
    lines = [
        SECTION, "",
        f"Run {r['when']} (Asia/Shanghai) on {r['machine']}; load average {r['load before']:.2f}"
        f" before, {r['load after']:.2f} after. District-scale demo: {r['people']:,} people."
        f" Command: `.venv/bin/python bench/privacy.py --serve` (one gunicorn worker, 8"
        " threads; one request at a time over loopback; look-up and miss limits raised for the"
        " run).", "",
        "| request | n | p50 ms | p95 ms |", "| --- | --: | --: | --: |",
        f"| idle live poll (204, session checked) | {r['poll']['n']} | {_ms(r['poll']['p50'])}"
        f" | {_ms(r['poll']['p95'])} |",
    ]
    for label, s in r["lookups"].items():
        lines.append(f"| {label} | {s['n']} | {_ms(s['p50'])} | {_ms(s['p95'])} |")
    s = r["sign_in"]
    lines.append(f"| sign-in (GET and POST /login: argon2id, session row) | {s['n']} |"
                 f" {_ms(s['p50'])} | {_ms(s['p95'])} |")
    s = r["count"]
    lines += [
        f"| SQL: count(*) of {s['rows']:,} people through a district session | {s['n']} |"
        f" {_ms(s['p50'])} | {_ms(s['p95'])} |", "",
        "Before this issue (section *Wall screen*, issue 5): the idle poll took p50 5.4 ms /"
        " p95 6.7 ms, and counting every person at district scope 1.1-1.3 s. Each look-up and"
        " search includes writing its audit row; a search that finds nobody also counts a"
        " miss (one upsert).", "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8052")
    parser.add_argument("--serve", action="store_true",
                        help="start `onemap serve` on a free port instead (and stop it after)")
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--polls", type=int, default=300)
    parser.add_argument("--no-write", action="store_true", help="print, don't touch BENCHMARKS.md")
    args = parser.parse_args()

    os.environ.setdefault("ONEMAP_LOOKUP_RATE_LIMIT", "100000 per minute")
    os.environ.setdefault("ONEMAP_LOOKUP_MISS_LIMIT", "100000 per day")
    os.environ.setdefault("ONEMAP_LOGIN_RATE_LIMIT", "1000 per minute")
    random.seed(SEED)
    people, total = sample_people(args.people)
    result = {"machine": machine(), "people": total, "load before": os.getloadavg()[0],
              "when": datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")}
    with serving(args.base_url.rstrip("/"), args.serve) as base:
        result["poll"] = measure_poll(Client(base, "duty", PASSWORDS["duty"]), args.polls)
        print(f"idle poll: p50 {result['poll']['p50']:.1f} ms", flush=True)
        result["lookups"] = measure_lookups(base, people)
        for label, s in result["lookups"].items():
            print(f"{label}: p50 {s['p50']:.1f} ms, p95 {s['p95']:.1f} ms", flush=True)
        result["sign_in"] = measure_sign_in(base, 10)
        print(f"sign-in: p50 {result['sign_in']['p50']:.0f} ms", flush=True)
    result["count"] = measure_count(5)
    print(f"count people: p50 {result['count']['p50']:.0f} ms", flush=True)
    result["load after"] = os.getloadavg()[0]
    publish(SECTION, markdown(result), dry_run=args.no_write)


if __name__ == "__main__":
    main()

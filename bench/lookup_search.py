"""Benchmark: the one search box at district scale (issue 12); writes BENCHMARKS.md.

On the dev database (var/pg: ≈800 k people), for a district duty officer and a grid worker,
each with a session of their own role's capabilities: the server time of one search per kind
(geodata/queries/lookup_search.search on a scoped connection, as POST /api/lookup/search runs
it, without HTTP), p50 and p95, beside the plain ILIKE scan it replaces through the same
scoped role, as a ratio. Queries are taken from people the user may see (a search that finds
someone), in a fixed pseudo-random order (md5 of the id). The sessions are ended when it is done.

    .venv/bin/python bench/lookup_search.py [--rounds 40] [--no-write]
"""

from __future__ import annotations

import argparse
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
from geodata.queries.lookup_search import search  # noqa: E402
from geodata.scope import Scope, app_engine, scoped  # noqa: E402
from geodata.users import by_username  # noqa: E402
from onemap.domain.lookup_query import parse_query  # noqa: E402
from onemap.domain.roles import ROLE_CAPABILITIES  # noqa: E402
from results import publish  # noqa: E402
from wall_screen import machine, p95  # noqa: E402

TITLE = "## Search (issue 12)"
USERS = ("duty", "gridworker")
GOAL_MS = {"ID": 10, "phone": 10}  # names and pinyin: 50
SAMPLE = """
SELECT p.name, p.id_number, p.phone, n.pinyin, n.initials
FROM person p JOIN name_pinyin n ON n.name = p.name
JOIN person_household ph ON ph.person_id = p.id
JOIN household h ON h.id = ph.household_id JOIN building b ON b.id = h.building_id
WHERE starts_with(b.grid_code, :scope) AND p.id_number IS NOT NULL AND p.phone IS NOT NULL
  AND length(p.name) = 3 AND length(n.pinyin) >= 8 AND right(p.id_number, 1) <> 'X'
ORDER BY md5(p.id::text) LIMIT :n
"""
_PEOPLE = "SELECT p.id FROM onemap.person p"
_BY_PINYIN = _PEOPLE + " JOIN onemap.name_pinyin n ON n.name = p.name"
# kind -> (the query from a sampled person, the plain ILIKE scan it replaces, its pattern)
CASES = {
    "ID (18 characters)": (lambda p: p["id_number"].lower(),
                           _PEOPLE + " WHERE p.id_number ILIKE :q LIMIT 20", lambda q: q),
    "ID, last 6 digits": (lambda p: p["id_number"][-6:],
                          _PEOPLE + " WHERE p.id_number ILIKE :q LIMIT 20",
                          lambda q: f"%{q}"),
    "phone (+86, spaces)": (lambda p: f"+86 {p['phone'][:3]} {p['phone'][3:7]} {p['phone'][7:]}",
                            _PEOPLE + " WHERE p.phone ILIKE :q LIMIT 20",
                            lambda q: "%" + q.replace(" ", "")[-11:]),
    "name, 1-character prefix": (lambda p: p["name"][:1],
                                 _PEOPLE + " WHERE p.name ILIKE :q LIMIT 20", lambda q: q + "%"),
    "name, 2-character prefix": (lambda p: p["name"][:2],
                                 _PEOPLE + " WHERE p.name ILIKE :q LIMIT 20", lambda q: q + "%"),
    "whole name": (lambda p: p["name"], _PEOPLE + " WHERE p.name ILIKE :q LIMIT 20",
                   lambda q: q + "%"),
    "name with a wrong last character": (lambda p: p["name"][:2] + "乙",
                                         _PEOPLE + " WHERE p.name ILIKE :q LIMIT 20",
                                         lambda q: q[:2] + "_"),
    "pinyin initials": (lambda p: p["initials"],
                        _BY_PINYIN + " WHERE n.initials ILIKE :q LIMIT 20", lambda q: q + "%"),
    "whole pinyin": (lambda p: p["pinyin"], _BY_PINYIN + " WHERE n.pinyin ILIKE :q LIMIT 20",
                     lambda q: q + "%"),
    "pinyin, 1-letter prefix": (lambda p: p["pinyin"][:1],
                                _BY_PINYIN + " WHERE n.pinyin ILIKE :q LIMIT 20",
                                lambda q: q + "%"),
    "pinyin with two letters swapped": (
        lambda p: p["pinyin"][:3] + p["pinyin"][4] + p["pinyin"][3] + p["pinyin"][5:],
        _BY_PINYIN + " WHERE n.pinyin ILIKE :q LIMIT 20", lambda q: q[:3] + "%"),
}


def open_sessions(owner) -> dict[str, tuple[Scope, str]]:
    out = {}
    with owner.begin() as conn:
        for username in USERS:
            user = by_username(conn, username)
            token = sessions.open_session(
                conn, user, capabilities=ROLE_CAPABILITIES[user.role],
                user_agent="bench/lookup_search", ip=None, idle=timedelta(hours=1),
                lifetime=timedelta(hours=1))
            out[username] = (Scope(user.scope_code, session=token), user.role)
    return out


def timed(scope: Scope, run) -> float:
    started = time.perf_counter()
    with scoped(scope) as conn:
        run(conn)
    return (time.perf_counter() - started) * 1000


def measure(owner, scope: Scope, rounds: int, baseline_rounds: int) -> dict:
    with owner.connect() as conn:
        people = [dict(r) for r in conn.execute(text(SAMPLE), {"scope": scope.code,
                                                               "n": rounds}).mappings()]
    results = {}
    for label, (query_of, scan, pattern) in CASES.items():
        found, times = 0, []
        for person in people:
            q = query_of(person)
            parsed = parse_query(q, may_unmask=True)

            def run(conn, parsed=parsed):
                nonlocal found
                found += bool(search(conn, parsed).get("people"))
            times.append(timed(scope, run))
        scan_times = [timed(scope, lambda conn, q=query_of(p): conn.execute(
            text(scan), {"q": pattern(q)}).all()) for p in people[:baseline_rounds]]
        results[label] = {"n": len(times), "p50": statistics.median(times), "p95": p95(times),
                          "found": found, "scan_p50": statistics.median(scan_times),
                          "scan_p95": p95(scan_times), "scan_n": len(scan_times)}
        print(scope.code, label, f"{results[label]['p95']:.1f} ms p95", flush=True)
    return results


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def markdown(runs: dict, people: int, when: str) -> str:
    lines = [TITLE, "",
             f"Measured {when} (Asia/Shanghai) on {machine()}, district scale ({people:,}"
             " people): one search's server time (query parsing, the SQL through row-level"
             " security, reading the results; no HTTP), beside the plain ILIKE scan on the"
             " same scoped role that it replaces (`bench/lookup_search.py`). Goals: ID and"
             " phone < 10 ms p95, names and pinyin < 50 ms p95.", ""]
    for username, (scope_code, role, results) in runs.items():
        lines += [f"**{username}** ({role}, scope {scope_code})", "",
                  "| search | n | found | p50 (ms) | p95 (ms) | ILIKE p50 (ms) | ILIKE p95 (ms)"
                  " | ratio (p50) |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for label, r in results.items():
            lines.append(f"| {label} | {r['n']} | {r['found']} | {_ms(r['p50'])} |"
                         f" **{_ms(r['p95'])}** | {_ms(r['scan_p50'])} | {_ms(r['scan_p95'])} |"
                         f" {r['scan_p50'] / r['p50']:.1f}× |")
        lines.append("")
    lines.append("'found': searches whose people group was not empty. A whole search runs every"
                 " kind the query may be (a Chinese string is also an enterprise, a place and a"
                 " road), so its time is the sum; the ILIKE column runs the one person scan.")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=40, help="searches per kind and user")
    parser.add_argument("--baseline-rounds", type=int, default=8,
                        help="ILIKE scans per kind and user (a 1-character one takes seconds)")
    parser.add_argument("--no-write", action="store_true", help="print, do not write")
    args = parser.parse_args()
    owner = make_engine(database_url())
    opened = open_sessions(owner)
    try:
        with owner.connect() as conn:
            people = conn.execute(text("SELECT count(*) FROM person")).scalar_one()
        runs = {}
        for username, (scope, role) in opened.items():
            runs[username] = (scope.code, role,
                              measure(owner, scope, args.rounds, args.baseline_rounds))
    finally:
        with owner.begin() as conn:
            for scope, _role in opened.values():
                sessions.end(conn, scope.session, "benchmark done")
        owner.dispose()
        app_engine().dispose()
    when = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    publish(TITLE, markdown(runs, people, when), dry_run=args.no_write)


if __name__ == "__main__":
    main()

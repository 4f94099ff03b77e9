"""Benchmark: one pass of the escalation job (geodata/escalation.py) at district scale; writes
BENCHMARKS.md.

On the district-scale demo in `var/pg` (`make run DEMO_SCALE=district`), inside a transaction
that is rolled back (the data is left as it was): open cases are added, copies of the demo's
own, until `--open` (default 5,000) are open, then one pass runs with the clock a month ahead,
so every open case is due: each is warned or escalated, with its history and audit rows. Then
a pass with nothing left to do, which must only look.

    .venv/bin/python bench/escalation.py [--open 5000] [--runs 5] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geodata import escalation  # noqa: E402
from geodata.db import database_url, make_engine  # noqa: E402
from results import publish  # noqa: E402  (bench/results.py: run as a script)

TITLE = "## Escalation job (issue 11)"

_OPEN = "SELECT count(*) FROM onemap.event WHERE onemap.event_is_active(state)"
# copies of open cases, each with a code of its own, until `missing` more are open
_ADD_OPEN = """
INSERT INTO onemap.event (code, title, category_code, level, channel, state, grid_code,
  reported_at, registered_at, due_at, warn_at, tier, geom)
SELECT 'BENCH' || lpad(n::text, 8, '0'), e.title, e.category_code, e.level, e.channel,
       'registered', e.grid_code, now() - interval '1 hour', now() - interval '1 hour',
       now() + interval '1 hour', now(), e.tier, e.geom
  FROM generate_series(1, :missing) AS n
  JOIN LATERAL (SELECT * FROM onemap.event WHERE onemap.event_is_active(state)
                 ORDER BY id OFFSET (n % 500) LIMIT 1) e ON true
"""


def one_run(engine, open_target: int) -> dict:
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            missing = max(0, open_target - conn.execute(text(_OPEN)).scalar_one())
            conn.execute(text(_ADD_OPEN), {"missing": missing})
            open_now = conn.execute(text(_OPEN)).scalar_one()
            later = conn.execute(text("SELECT now() + interval '30 days'")).scalar_one()
            started = time.perf_counter()
            done = escalation.run_once(conn, later)
            acting = time.perf_counter() - started
            started = time.perf_counter()
            idle = escalation.run_once(conn, later)
            looking = time.perf_counter() - started
        finally:
            transaction.rollback()
    assert idle == {"warned": 0, "escalated": 0}, idle
    return {"open": open_now, "acted": done["warned"] + done["escalated"],
            "escalated": done["escalated"], "acting_s": acting, "idle_ms": looking * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--open", type=int, default=5000, help="open cases to act on")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print, do not write")
    args = parser.parse_args()
    engine = make_engine(database_url())
    runs = [one_run(engine, args.open) for _ in range(args.runs)]
    acting = sorted(r["acting_s"] for r in runs)
    idle = sorted(r["idle_ms"] for r in runs)
    first = runs[0]
    when = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    section = "\n".join([
        TITLE, "",
        f"Measured {when} (Asia/Shanghai) on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, embedded PostgreSQL 15 + PostGIS, on the "
        "district-scale demo, 1-minute load average "
        f"{os.getloadavg()[0]:.1f}. `bench/escalation.py` rewrites this section.", "",
        f"One pass of the job with {first['open']:,} open cases all due (the clock a month "
        f"ahead): it escalated {first['escalated']:,} of them one tier (all are past their "
        "limits by then), writing each case, its history row and an audit row; in one "
        "transaction, rolled back after. "
        f"Then a pass with nothing left. {args.runs} runs.", "",
        "| pass | median | min | max |",
        "| --- | ---: | ---: | ---: |",
        f"| {first['acted']:,} cases acted on (s) | {statistics.median(acting):.2f} | "
        f"{acting[0]:.2f} | {acting[-1]:.2f} |",
        f"| nothing to do (ms) | {statistics.median(idle):.1f} | {idle[0]:.1f} | "
        f"{idle[-1]:.1f} |", "",
    ])
    publish(TITLE, section, dry_run=args.no_write)


if __name__ == "__main__":
    main()

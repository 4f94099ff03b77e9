"""Benchmark: a full refresh of the leaders' cockpit at district scale (issue 13); writes its
section of BENCHMARKS.md.

Server time of what one refresh reads (onemap/web/cockpit_data.py read_page: the KPIs of the
period, the period before and the year before, the trend, the child units, the breakdowns by
channel, category and level, the map's outlines, the categories, the breadcrumb), each call
one scoped transaction, one at a time, through the district leader's session narrowed to the
district and to its busiest street, for a month and for a year. Beside it the way without the
kept sums: the same period's cases read through the same scoped role into pandas and counted
there (the headline counts of the three periods, the trend, the units and the kinds), as a
ratio. Then the one-page PDF report's time through a server of its own (--pdf N). The
bench's sessions are ended afterwards; it writes nothing else.

    .venv/bin/python bench/cockpit.py               # writes BENCHMARKS.md
    .venv/bin/python bench/cockpit.py --no-write    # prints the section only
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geodata import sessions  # noqa: E402
from geodata.db import database_url, make_engine  # noqa: E402
from geodata.scope import Scope, app_engine  # noqa: E402
from geodata.users import by_username  # noqa: E402
from onemap.domain import kpi  # noqa: E402
from onemap.domain.roles import ROLE_CAPABILITIES  # noqa: E402
from onemap.web.cockpit_data import read_page  # noqa: E402
from lookup_counts import scoped_series  # noqa: E402
from results import publish  # noqa: E402  (bench/results.py, run as a script)
from wall_screen import machine, p95, serving  # noqa: E402

from tests.support.clients import signed_in_browser  # noqa: E402
from tests.support.users import DEMO_PASSWORDS  # noqa: E402

TITLE = "## Leaders' cockpit refresh (issue 13)"
GOAL_MS = 300
ZONE = ZoneInfo("Asia/Shanghai")
BUSIEST_STREET = ("SELECT left(grid_code, 9) FROM onemap.event WHERE grid_code IS NOT NULL"
                  " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")

# the cases of a window as a plain query reads them (the scoped role: row-level security)
RAW = """
SELECT reported_at, grid_code, channel, category_code, level, state, registered_at,
       closure_kind, returned_count, extended, handling_minutes, satisfaction, due_at
  FROM onemap.event
 WHERE reported_at >= :first AND reported_at < :last AND starts_with(grid_code, :unit)
"""


def _pandas_cockpit(conn, period: kpi.Period, unit: str, now: datetime) -> dict:
    """The cockpit's counts computed in pandas from the raw cases (the baseline)."""
    periods = {"now": period, "previous": kpi.previous(period),
               "year_before": kpi.year_before(period)}
    first = min(p.start for p in periods.values())
    last = max(p.end for p in periods.values())
    frame = pd.read_sql(text(RAW), conn, params={
        "first": datetime.combine(first, datetime.min.time(), ZONE),
        "last": datetime.combine(last, datetime.min.time(), ZONE), "unit": unit})
    frame = frame[frame["state"] != "merged"]
    day = frame["reported_at"].dt.tz_convert(ZONE).dt.date
    registered = frame["registered_at"].notna() & (frame["state"] != "rejected")
    closed = frame["state"] == "closed"
    counts = pd.DataFrame({
        "received": 1, "registered": registered, "closed": closed,
        "closed_on_time": closed & (frame["closure_kind"] != "overdue"),
        "returned": registered & (frame["returned_count"] > 0),
        "extended": registered & frame["extended"],
        "proactive": frame["channel"].isin(kpi.PROACTIVE_CHANNELS),
        "handling_minutes": frame["handling_minutes"].where(closed, 0).fillna(0),
        "overdue_open": registered & ~frame["state"].isin(["closed", "rejected"])
        & (frame["due_at"] < now)})
    out = {label: counts[(day >= p.start) & (day < p.end)].sum().to_dict()
           for label, p in periods.items()}
    inside = counts[(day >= period.start) & (day < period.end)]
    out["trend"] = inside.groupby(day[inside.index]).sum()
    out["units"] = inside.groupby(frame.loc[inside.index, "grid_code"].str[:len(unit) + 3]).sum()
    out["kinds"] = {d: inside.groupby(frame.loc[inside.index, c]).sum()
                    for d, c in (("channel", "channel"), ("category", "category_code"),
                                 ("level", "level"))}
    return out


def _load() -> str:
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def measure(rounds: int, slow_rounds: int) -> dict:
    owner = make_engine(database_url())
    today = datetime.now(ZONE).date()
    with owner.begin() as conn:
        leader = by_username(conn, "leader")
        units = {"district": leader.scope_code,
                 "busiest street": conn.execute(text(BUSIEST_STREET)).scalar_one()}
        token = sessions.open_session(
            conn, leader, capabilities=[c.value for c in ROLE_CAPABILITIES[leader.role]],
            user_agent="bench/cockpit", ip=None, idle=timedelta(hours=1),
            lifetime=timedelta(hours=1))
        events, stat_rows = conn.execute(text(
            "SELECT (SELECT count(*) FROM onemap.event),"
            " (SELECT count(*) FROM onemap.event_day_stat)")).one()
    scope = Scope(leader.scope_code, session=token)
    now = datetime.now(timezone.utc)
    # last month: whole, a month of a working district
    last_month = kpi.previous(kpi.period_of("month", today))
    periods = {"month": last_month, "year": kpi.Period("custom", today - timedelta(days=365),
                                                       today + timedelta(days=1))}
    rows, load = [], [_load()]
    try:
        for what, unit in units.items():
            for name, period in periods.items():
                fast = scoped_series(scope, lambda c, p=period, u=unit: read_page(
                    c, p, u, leader.scope_code, now), rounds)
                slow = scoped_series(
                    scope, lambda c, p=period, u=unit: _pandas_cockpit(c, p, u, now), slow_rounds)
                rows.append({"unit": what, "code": unit, "period": name,
                             "label": period.label, "fast": fast, "slow": slow})
                load.append(_load())
    finally:
        with owner.begin() as conn:
            sessions.end(conn, token, "benchmark done")
        owner.dispose()
        app_engine().dispose()
    return {"rows": rows, "events": events, "stat_rows": stat_rows, "load": load}


def measure_pdf(reports: int) -> dict:
    """The one-page PDF report (onemap/web/cockpit_report.py) of last month at the district,
    through a server of the bench's own: seconds from request to the last byte."""
    times, sizes = [], []
    with serving("http://127.0.0.1:8052", True) as base:
        leader = signed_in_browser(base, "leader", DEMO_PASSWORDS["leader"])
        month = kpi.previous(kpi.period_of("month", datetime.now(ZONE).date()))
        path = f"/cockpit/report.pdf?period=month&date={month.start}"
        for _ in range(reports + 1):  # the first starts Playwright in the worker
            started = time.perf_counter()
            reply = leader.send("GET", path)
            assert reply.status == 200 and reply.body.startswith(b"%PDF"), reply.status
            times.append(time.perf_counter() - started)
            sizes.append(len(reply.body))
    return {"first": times[0], "p50": statistics.median(times[1:]), "p95": p95(times[1:]),
            "n": reports, "bytes": statistics.median(sizes)}


def markdown(r: dict) -> str:
    when = datetime.now(ZONE).strftime("%Y-%m-%d %H:%M")
    worst = max(row["fast"]["p95"] for row in r["rows"])
    lines = [
        TITLE, "",
        f"`bench/cockpit.py`, {when} (UTC+8), {machine()}; the dev district: "
        f"{r['events']:,} events over a year, kept in {r['stat_rows']:,} rows of "
        "`event_day_stat` (migration 0024). Server time of one full refresh as the page's "
        "callback reads it (onemap/web/cockpit_data.py `read_page`: the KPIs of the period, "
        "the period before and the year before, the trend, the child units, the breakdowns, "
        "the map's outlines, the categories, the breadcrumb), one scoped transaction each "
        "through the district leader's session, one at a time; beside it the same counts "
        "computed in pandas from the period's raw cases read through the same role. Load "
        f"average (1 min) before and after each row: {' → '.join(r['load'])}.", "",
        "| unit | period | calls | p50 ms | p95 ms | pandas p50 ms | pandas p95 ms |"
        " ratio (p50) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in r["rows"]:
        fast, slow = row["fast"], row["slow"]
        lines.append(
            f"| {row['unit']} {row['code']} | {row['period']} ({row['label']}) | {fast['n']} |"
            f" {fast['p50']:.1f} | **{fast['p95']:.1f}** | {slow['p50']:.0f} |"
            f" {slow['p95']:.0f} | {slow['p50'] / fast['p50']:.0f}× |")
    lines += ["", f"Goal: a full refresh under {GOAL_MS} ms p95 — "
              + (f"met (worst p95 {worst:.1f} ms)." if worst < GOAL_MS
                 else f"NOT met (worst p95 {worst:.1f} ms)."), ""]
    pdf = r.get("pdf")
    if pdf:
        lines += [
            "The one-page PDF report (`GET /cockpit/report.pdf`: the server prints the cockpit "
            "in Debian's headless Chromium as the requesting user), last month at the "
            f"district, {pdf['n']} reports one after another through `onemap serve` of the "
            f"bench's own: p50 **{pdf['p50']:.2f} s**, p95 {pdf['p95']:.2f} s, "
            f"{pdf['bytes'] / 1024:,.0f} KiB each; the first report {pdf['first']:.2f} s "
            "(Playwright starting in the worker).", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=40, help="refreshes per measurement")
    parser.add_argument("--slow-rounds", type=int, default=5, help="pandas runs per baseline")
    parser.add_argument("--pdf", type=int, default=5, help="PDF reports to time (0: none)")
    parser.add_argument("--no-write", action="store_true", help="print, do not write")
    args = parser.parse_args()
    result = measure(args.rounds, args.slow_rounds)
    if args.pdf:
        result["pdf"] = measure_pdf(args.pdf)
    publish(TITLE, markdown(result), dry_run=args.no_write)


if __name__ == "__main__":
    main()

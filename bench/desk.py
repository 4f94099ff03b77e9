"""Benchmark: the dispatch desk's first render (issue 11); writes the numbers to BENCHMARKS.md.

Signed in as the demo duty officer (the whole district), headless Chromium at 1920x1080 opens
/desk?queue=overdue&case=<id> — the overdue queue and its most overdue case — and
times, from navigation start: the queue counts filled, the queue's list drawn, the case's
timeline shown, and the case's marker painted on the desk map. Fresh pages in one signed-in
context (browser cache warm), then fresh contexts with the same cookies (cache cold).

    .venv/bin/python bench/desk.py --serve                 # `onemap serve` of its own
    .venv/bin/python bench/desk.py --base-url http://127.0.0.1:8050 --loads 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geodata.db import database_url, make_engine  # noqa: E402
from results import publish  # noqa: E402
from tests.support.users import DEMO_PASSWORDS  # noqa: E402
from wall_screen import machine, p95, serving, warm_and_cold  # noqa: E402

TITLE = "## Dispatch desk first render (issue 11)"
SCREEN = (1920, 1080)
TARGET_S = 2.5  # the wall screen's goal, for a page an officer opens many times a shift

# milestones, checked on every frame from navigation start
_PROBE = """
(() => {
  if (location.pathname !== "/desk") return;
  const bench = window.__bench = {counts: null, list: null, timeline: null, painted: null};
  function check() {
    const now = performance.now();
    const count = document.querySelector(".desk-count");
    if (bench.counts === null && count && /\\d/.test(count.textContent)) bench.counts = now;
    if (bench.list === null && document.querySelector(".desk-row")) bench.list = now;
    if (bench.timeline === null && document.querySelector(".desk-step")) bench.timeline = now;
    if (bench.painted === null && document.querySelector(
        ".leaflet-layer-events-pane path.leaflet-interactive")) bench.painted = now;
    if (Object.values(bench).some((v) => v === null)) requestAnimationFrame(check);
  }
  requestAnimationFrame(check);
})();
"""
_DONE = "() => window.__bench && Object.values(window.__bench).every((v) => v !== null)"
MILESTONES = ("counts", "list", "timeline", "painted")


def most_overdue_case() -> tuple[int, int, int]:
    """The open case furthest past its limit, and how many cases are open and overdue."""
    engine = make_engine(database_url())
    with engine.connect() as conn:
        case = conn.execute(text(
            "SELECT id FROM onemap.event WHERE onemap.event_is_overdue(state, due_at)"
            " ORDER BY due_at LIMIT 1")).scalar_one()
        open_, overdue = conn.execute(text(
            "SELECT count(*), count(*) FILTER (WHERE onemap.event_is_overdue(state, due_at))"
            " FROM onemap.event WHERE onemap.event_is_open(state)")).one()
    engine.dispose()
    return case, open_, overdue


def _one_load(context, url: str) -> dict:
    page = context.new_page()
    try:
        page.goto(url, wait_until="commit")
        page.wait_for_function(_DONE, timeout=60_000, polling=50)
        bench = page.evaluate("() => window.__bench")
    finally:
        page.close()
    return {**bench, "rendered": max(bench[m] for m in MILESTONES)}


def measure(base: str, case: int, loads: int) -> dict:
    url = f"{base}/desk?queue=overdue&case={case}"
    return warm_and_cold(base, "duty", DEMO_PASSWORDS["duty"], _PROBE,
                         lambda context: _one_load(context, url), loads, SCREEN)


def _row(label: str, loads: list[dict]) -> str:
    cells = []
    for milestone in (*MILESTONES, "rendered"):
        values = [load[milestone] for load in loads]
        cells.append(f"{statistics.median(values):,.0f} / {p95(values):,.0f}")
    return f"| {label} | " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8052")
    parser.add_argument("--serve", action="store_true", help="start `onemap serve` of its own")
    parser.add_argument("--loads", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="print, do not write")
    args = parser.parse_args()

    case, open_, overdue = most_overdue_case()
    load_before = os.getloadavg()[0]
    with serving(args.base_url, args.serve) as base:
        result = measure(base, case, args.loads)
    load_after = os.getloadavg()[0]
    rendered = [load["rendered"] for load in result["warm"] + result["cold"]]
    now = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M %Z")
    section = "\n".join([
        TITLE, "",
        f"Measured {now} on {machine()}, Chromium {result['chromium']} headless at "
        f"{SCREEN[0]}x{SCREEN[1]}, district scale ({open_:,} open cases, {overdue:,} of them "
        f"overdue), signed in as the duty officer (the whole district): "
        f"`bench/desk.py{' --serve' if args.serve else ''} --loads {args.loads}` opens "
        "`/desk?queue=overdue&case=<the most overdue case>`. Milliseconds from "
        "navigation start, median / p95 of "
        f"{args.loads} loads each; load average {load_before:.2f} → {load_after:.2f}.", "",
        "| browser cache | queue counts | queue list | case timeline | case on the map | "
        "all four |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        _row("warm (same context)", result["warm"]),
        _row("cold (fresh context)", result["cold"]), "",
        f"Goal (the wall's): first render under {TARGET_S} s — "
        f"{'met' if p95(rendered) < TARGET_S * 1000 else '**missed**'} "
        f"(p95 of all {len(rendered)} loads {p95(rendered):,.0f} ms).", "",
    ])
    publish(TITLE, section, dry_run=args.no_write)


if __name__ == "__main__":
    main()

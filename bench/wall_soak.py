"""Soak test of the wall screen: does an open screen keep its memory flat while things change?

Opens /wall in headless Chromium (signed in as the demo duty officer) and, every few seconds,
changes something the screen watches: an open event is touched (events, heatmap and rail
reload), a sensor reading moves (sensors and rail reload). After each minute it forces a
garbage collection and samples the page's JS heap and DOM node count (Chrome DevTools
Protocol). Nothing is added to the database: the same rows are updated again and again.

    .venv/bin/python bench/wall_soak.py [--minutes 10] [--every 2] [--base-url URL | --serve]

Writes a table to BENCHMARKS.md (section "Wall screen soak").
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/support, below

from geodata.db import get_engine  # noqa: E402
from results import write_section  # noqa: E402  (bench/results.py: run as a script)
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, sign_in_tab  # noqa: E402
from tests.support.users import DEMO_PASSWORDS  # noqa: E402
from wall_screen import serving  # noqa: E402
SECTION = "## Wall screen soak (issue 5)"


def _sample(cdp, page) -> tuple[float, int]:
    cdp.send("HeapProfiler.collectGarbage")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    nodes = page.evaluate("document.getElementsByTagName('*').length")
    return metrics["JSHeapUsedSize"] / 1e6, nodes


# each change commits on its own, as a report or a reading arriving would
_CHANGES = ("UPDATE onemap.event SET updated_at = now() WHERE id = :id",
            "UPDATE onemap.sensor SET last_reading_at = now() WHERE id = :id")


def soak(base: str, minutes: float, every: float, user: str, password: str) -> list[tuple]:
    from playwright.sync_api import sync_playwright

    engine = get_engine()
    with engine.connect() as db:
        targets = (
            db.execute(text("SELECT id FROM onemap.event WHERE state = 'handling'"
                            " ORDER BY id LIMIT 1")).scalar_one(),
            db.execute(text("SELECT min(id) FROM onemap.sensor")).scalar_one(),
        )
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        sign_in_tab(page, base, user, password)
        page.goto(base + "/wall")
        page.wait_for_selector(".wall-feed li")
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.wait_for_timeout(3000)
        started = time.monotonic()
        changes = 0
        rows.append((0, changes, *_sample(cdp, page)))
        next_sample = 60.0
        while (elapsed := time.monotonic() - started) < minutes * 60:
            with engine.begin() as db:
                db.execute(text(_CHANGES[changes % 2]), {"id": targets[changes % 2]})
            changes += 1
            page.wait_for_timeout(every * 1000)
            if elapsed >= next_sample:
                rows.append((round(elapsed / 60), changes, *_sample(cdp, page)))
                next_sample += 60
        rows.append((round((time.monotonic() - started) / 60), changes, *_sample(cdp, page)))
        browser.close()
    engine.dispose()
    return rows


def write(rows: list[tuple], every: float) -> None:
    first, last = rows[0], rows[-1]
    lines = [
        SECTION, "",
        f"Measured {date.today()} on {os.cpu_count()} cores: `/wall` open in headless Chromium "
        f"(1920×1080, loopback) while an event or a sensor changed every {every:g} s "
        "(each change reloads the layers and rail it touches). JS heap after a forced garbage "
        "collection; DOM elements in the page.", "",
        "| minute | changes so far | JS heap (MB) | DOM elements |",
        "| ---: | ---: | ---: | ---: |",
        *[f"| {m} | {c} | {heap:.1f} | {nodes} |" for m, c, heap, nodes in rows], "",
        f"Heap {first[2]:.1f} → {last[2]:.1f} MB and DOM {first[3]} → {last[3]} elements over "
        f"{last[1]} changes.", "",
    ]
    write_section(SECTION, "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8052")
    parser.add_argument("--serve", action="store_true", help="start `onemap serve` of its own")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--every", type=float, default=2)
    parser.add_argument("--user", default="duty")
    parser.add_argument("--password", default=DEMO_PASSWORDS["duty"])
    args = parser.parse_args()
    with serving(args.base_url, args.serve, log_prefix="onemap-bench-soak") as base:
        rows = soak(base, args.minutes, args.every, args.user, args.password)
    for row in rows:
        print(*row)
    write(rows, args.every)


if __name__ == "__main__":
    main()

"""Benchmark: analysts' exports and the OGC API (issue 14); writes the numbers to BENCHMARKS.md.

1. Exports as the page's jobs and `onemap export` run them (exports/run.py `export_layer`, in
   the district analyst's scope through their session, personal fields masked, one audit row):
   the district's residents by building (~800 k) and its 300 k events, to GeoPackage and CSV;
   seconds, megabytes, rows.
2. OGC API – Features pages as QGIS and GDAL fetch them (HTTP Basic with a personal token,
   a served app): pages of 1,000 features at offsets spread over each collection, and
   screen-sized bounding boxes; p50 / p95 milliseconds and bytes.

    .venv/bin/python bench/exports.py --serve
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exports.run import ExportRequest, export_layer  # noqa: E402
from geodata import sessions, users  # noqa: E402
from geodata.db import database_url, make_engine  # noqa: E402
from geodata.scope import Scope  # noqa: E402
from onemap.domain.roles import ROLE_CAPABILITIES  # noqa: E402
from results import publish  # noqa: E402
from wall_screen import machine, p95, serving  # noqa: E402

TITLE = "## Exports and the OGC API (issue 14)"
EXPORTS = (("persons", "gpkg"), ("persons", "csv"), ("events", "gpkg"), ("events", "csv"))
PAGE = 1000
# a 1920×1080 screen at zoom 15 covers about 0.08° × 0.04° at Shenyang's latitude
SCREEN_DEG = (0.082, 0.035)


def analyst_token(engine, username: str) -> tuple[Scope, str, str]:
    with engine.begin() as conn:
        user = users.by_username(conn, username)
        token = sessions.open_token(conn, user, capabilities=ROLE_CAPABILITIES[user.role],
                                    lifetime=timedelta(hours=2))
    return Scope(user.scope_code, session=token), user.role, token


def time_exports(scope: Scope, role: str, folder: Path) -> list[dict]:
    rows = []
    for layer, fmt in EXPORTS:
        load = os.getloadavg()[0]
        started = time.perf_counter()
        result = export_layer(scope, role, ExportRequest(layer, fmt, "wgs84"), folder,
                              user_agent="bench/exports.py", via="bench")
        rows.append({"layer": layer, "format": fmt, "rows": result.rows,
                     "seconds": time.perf_counter() - started, "mb": result.bytes / 1e6,
                     "load": (load, os.getloadavg()[0])})
        result.path.unlink()
    return rows


class Fetcher:
    def __init__(self, base: str, username: str, token: str) -> None:
        parts = urlsplit(base)
        self.connection = HTTPConnection(parts.hostname, parts.port, timeout=120)
        pair = base64.b64encode(f"{username}:{token}".encode()).decode()
        self.headers = {"Authorization": f"Basic {pair}", "Accept": "application/geo+json"}

    def get(self, path: str) -> tuple[float, int]:
        started = time.perf_counter()
        self.connection.request("GET", path, headers=self.headers)
        reply = self.connection.getresponse()
        body = reply.read()
        if reply.status != 200:
            sys.exit(f"{path}: HTTP {reply.status} {body[:200]!r}")
        return (time.perf_counter() - started) * 1000, len(body)


def time_pages(fetcher: Fetcher, engine, rounds: int) -> list[dict]:
    rng = random.Random(2017)
    with engine.connect() as conn:
        counts = {name: conn.execute(text(f"SELECT count(*) FROM onemap.{table}")).scalar()
                  for name, table in (("events", "event"), ("buildings", "building"),
                                      ("places", "key_place"))}
        west, south, east, north = conn.execute(text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT"
            " ST_Extent(geom) AS e FROM onemap.district) d")).one()
    cases = []
    for name, total in counts.items():
        offsets = [rng.randrange(0, max(1, total - PAGE)) for _ in range(rounds)]
        cases.append((f"{name}: a page of {min(PAGE, total):,} at a random offset",
                      [f"/ogc/collections/{name}/items?limit={PAGE}&offset={o}"
                       for o in offsets]))
    boxes = []
    for _ in range(rounds):
        x = rng.uniform(west, east - SCREEN_DEG[0])
        y = rng.uniform(south, north - SCREEN_DEG[1])
        boxes.append(f"{x:.5f},{y:.5f},{x + SCREEN_DEG[0]:.5f},{y + SCREEN_DEG[1]:.5f}")
    for name in ("buildings", "events"):
        cases.append((f"{name}: a 1080p screen's bbox at zoom 15, first {PAGE:,}",
                      [f"/ogc/collections/{name}/items?limit={PAGE}&bbox={b}" for b in boxes]))
    results = []
    for label, paths in cases:
        fetcher.get(paths[0])  # warm: the connection pool, the prepared statements
        load = os.getloadavg()[0]
        samples = [fetcher.get(path) for path in paths]
        times = [ms for ms, _ in samples]
        results.append({"label": label, "n": len(samples), "p50": statistics.median(times),
                        "p95": p95(times), "kb": statistics.median(b for _, b in samples) / 1e3,
                        "load": (load, os.getloadavg()[0])})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8053")
    parser.add_argument("--serve", action="store_true", help="start `onemap serve` of its own")
    parser.add_argument("--user", default="analyst")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--no-write", action="store_true", help="print, do not write")
    args = parser.parse_args()

    engine = make_engine(database_url())
    scope, role, token = analyst_token(engine, args.user)
    try:
        with tempfile.TemporaryDirectory(prefix="onemap-bench-exports-") as folder:
            exports = time_exports(scope, role, Path(folder))
        with serving(args.base_url, args.serve, None, "onemap-bench-exports") as base:
            pages = time_pages(Fetcher(base, args.user, token), engine, args.rounds)
    finally:
        with engine.begin() as conn:
            sessions.end(conn, token, "bench finished")
        engine.dispose()
    report(args, exports, pages)


def report(args, exports: list[dict], pages: list[dict]) -> None:
    now = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M %Z")
    lines = [
        TITLE, "",
        f"Measured {now} on {machine()}, district scale, `bench/exports.py"
        f"{' --serve' if args.serve else ''} --rounds {args.rounds}`, as the district's "
        f"analyst ({args.user}: whole district, personal fields masked).", "",
        "Exports through exports/run.py (the page's jobs and `onemap export` run the same "
        "code: read in the analyst's scope, masked, times in Asia/Shanghai, written beside "
        "the final name, one audit row), WGS84:", "",
        "| layer | format | rows | seconds | MB | load average before → after |",
        "| --- | --- | ---: | ---: | ---: | --- |",
        *(f"| {r['layer']} | {r['format']} | {r['rows']:,} | {r['seconds']:.1f} | "
          f"{r['mb']:.1f} | {r['load'][0]:.2f} → {r['load'][1]:.2f} |" for r in exports),
        "",
        "OGC API – Features (HTTP Basic with a personal token, one keep-alive connection, "
        f"{args.rounds} requests each after one warm-up; each answer counts `numberMatched` "
        "and writes an audit row):", "",
        "| request | n | p50 (ms) | p95 (ms) | median size (kB) | load average |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
        *(f"| {r['label']} | {r['n']} | {r['p50']:.0f} | {r['p95']:.0f} | {r['kb']:.0f} | "
          f"{r['load'][0]:.2f} → {r['load'][1]:.2f} |" for r in pages),
        "",
    ]
    publish(TITLE, "\n".join(lines), dry_run=args.no_write)


if __name__ == "__main__":
    main()

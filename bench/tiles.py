"""Benchmark: vector tiles (issue 14, point 5); writes the numbers to BENCHMARKS.md.

The tiles a 1920x1080 screen of 256-pixel tiles needs (every tile it touches), at screen
centres spread over the district: buildings at z16 and z17, events at z14 and z15, cameras
at z13. Each case is fetched from a served OneMap by `--concurrency` client threads with
keep-alive connections and HTTP Basic (user name + personal token, as QGIS sends it), and then
run as the same ST_AsMVT SQL directly in the database (layers/tiles.py, on a scoped connection
as the app's role, the same number of threads): the in-database floor, what the HTTP side
costs on top. Beside them, tipg (from PyPI, in the benchmarks' own environment:
bench/peer_env.py) serves the same tables' tiles (WebMercatorQuad) to the same clients, as the
database's owner: no row-level security, no masking, no token check — an advantage to the peer.
The bench's user is an analyst of the whole district made for the run (its token
ended afterwards; the user stays).

    .venv/bin/python bench/tiles.py --serve                 # `onemap serve` of its own
    .venv/bin/python bench/tiles.py --serve --centres 5 --concurrency 8
"""

from __future__ import annotations

import argparse
from contextlib import nullcontext
import base64
import math
import os
import secrets
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geodata import sessions, users  # noqa: E402
from geodata.db import database_url, embedded_cluster, make_engine  # noqa: E402
from geodata.scope import Scope, app_engine, scoped  # noqa: E402
from layers.registry import SOURCES  # noqa: E402
from layers.tiles import tile, tile_fields  # noqa: E402
from peer_env import tipg  # noqa: E402
from onemap.domain.roles import ROLE_CAPABILITIES  # noqa: E402
from onemap.settings import get_settings  # noqa: E402
from results import publish  # noqa: E402
from wall_screen import machine, p95, serving  # noqa: E402

TITLE = "## Vector tiles (issue 14)"
SCREEN = (1920, 1080)
TILE_PX = 256
CASES = (("buildings", 16), ("buildings", 17), ("events", 14), ("events", 15),
         ("cameras", 13))
# the table tipg serves for each layer, and the columns it is asked for (tipg's `properties`):
# the layer's tile fields that are the table's own columns
PEER_TABLES = {"buildings": "onemap.building", "events": "onemap.event",
               "cameras": "onemap.camera"}
SEED = 0.2017


def screen_tiles(lon: float, lat: float, z: int) -> list[tuple[int, int, int]]:
    """The z/x/y of every tile a SCREEN centred on lon/lat touches at zoom z."""
    world = TILE_PX * 2 ** z
    cx = (lon + 180) / 360 * world
    cy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * world
    half_w, half_h = SCREEN[0] / 2, SCREEN[1] / 2
    xs = range(int((cx - half_w) // TILE_PX), int((cx + half_w) // TILE_PX) + 1)
    ys = range(int((cy - half_h) // TILE_PX), int((cy + half_h) // TILE_PX) + 1)
    return [(z, x, y) for x in xs for y in ys if 0 <= x < 2 ** z and 0 <= y < 2 ** z]


def centres(engine, count: int) -> tuple[str, list[tuple[float, float]]]:
    """The district's code and `count` screen centres on its buildings (where a user looks)."""
    with engine.connect() as conn:
        district = conn.execute(text("SELECT code FROM onemap.district")).scalar_one()
        conn.execute(text("SELECT setseed(:s)"), {"s": SEED})
        points = conn.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p"
            " FROM onemap.building ORDER BY random() LIMIT :n) b"), {"n": count}).all()
    return district, [tuple(p) for p in points]


def bench_user(engine, district: str) -> tuple[int, str, str]:
    """(id, name, personal token) of a district analyst made for this run."""
    name = f"bench-tiles-{secrets.token_hex(3)}"
    with engine.begin() as conn:
        users.add(conn, username=name, display_name=name, password_hash="!token",
                  role="analyst", scope_code=district)
        user = users.by_username(conn, name)
        token = sessions.open_token(conn, user, capabilities=ROLE_CAPABILITIES["analyst"],
                                    lifetime=timedelta(hours=2))
    return user.id, name, token


class Fetcher:
    """One keep-alive connection per client thread; each GET timed, its body read."""

    def __init__(self, base: str, name: str, token: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        pair = base64.b64encode(f"{name}:{token}".encode()).decode()
        self.headers = {"Authorization": f"Basic {pair}"}
        self.local = threading.local()

    def get(self, layer: str, z: int, x: int, y: int) -> tuple[float, int, int]:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = HTTPConnection(self.host, self.port,
                                                                timeout=300)
        started = time.perf_counter()
        connection.request("GET", f"/tiles/{layer}/{z}/{x}/{y}.pbf", headers=self.headers)
        reply = connection.getresponse()
        body = reply.read()
        return (time.perf_counter() - started) * 1000, reply.status, len(body)


class PeerFetcher(Fetcher):
    """tipg's tiles of the same table, the same columns where the table has them."""

    def __init__(self, base: str, columns: dict[str, list[str]]) -> None:
        super().__init__(base, "", "")
        self.headers = {}
        self.columns = columns

    def get(self, layer: str, z: int, x: int, y: int) -> tuple[float, int, int]:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = HTTPConnection(self.host, self.port,
                                                                timeout=300)
        path = (f"/collections/{PEER_TABLES[layer]}/tiles/WebMercatorQuad/{z}/{x}/{y}"
                f"?properties={','.join(self.columns[layer])}")
        started = time.perf_counter()
        connection.request("GET", path)
        reply = connection.getresponse()
        body = reply.read()
        return (time.perf_counter() - started) * 1000, reply.status, len(body)


def peer_columns(engine) -> dict[str, list[str]]:
    """Per layer: its tile fields that are columns of the table tipg serves."""
    found = {}
    with engine.connect() as conn:
        for layer, table in PEER_TABLES.items():
            schema, name = table.split(".")
            columns = set(conn.execute(text(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = :s"
                " AND table_name = :t"), {"s": schema, "t": name}).scalars())
            found[layer] = [f.name for f in tile_fields(SOURCES[layer]) if f.name in columns]
    return found


def in_database(scope: Scope, layer: str, z: int, x: int, y: int) -> tuple[float, int, int]:
    """The tile's SQL on a scoped connection, as the view runs it, without HTTP or Flask."""
    started = time.perf_counter()
    with scoped(scope) as conn:
        payload = tile(conn, SOURCES[layer], z, x, y)
    return (time.perf_counter() - started) * 1000, 200, len(payload)


def run(one, jobs: list[tuple], concurrency: int) -> dict:
    """All `jobs` through `one` on `concurrency` threads: rate, latencies, sizes, statuses."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(lambda job: one(*job), jobs))
    elapsed = time.perf_counter() - started
    times = [ms for ms, _s, _b in results]
    sizes = [size for _ms, _s, size in results]
    statuses: dict[int, int] = {}
    for _ms, status, _b in results:
        statuses[status] = statuses.get(status, 0) + 1
    return {"n": len(results), "per_s": len(results) / elapsed, "p50": statistics.median(times),
            "p95": p95(times), "median_kb": statistics.median(sizes) / 1024,
            "max_kb": max(sizes) / 1024, "empty": sum(1 for s in sizes if s == 0),
            "statuses": statuses, "load": (load, os.getloadavg()[0])}


def measure(base: str, name: str, token: str, scope: Scope, points: list,
            concurrency: int, peer: PeerFetcher | None) -> dict:
    """Per case: HTTP, in-database and the peer, each after one untimed pass over the first
    screen."""
    fetcher = Fetcher(base, name, token)
    results = {}
    for layer, z in CASES:
        jobs = [(layer, *t) for lon, lat in points for t in screen_tiles(lon, lat, z)]
        warm = [(layer, *t) for t in screen_tiles(*points[0], z)]
        run(fetcher.get, warm, concurrency)
        http = run(fetcher.get, jobs, concurrency)
        run(lambda *job: in_database(scope, *job), warm, concurrency)
        floor = run(lambda *job: in_database(scope, *job), jobs, concurrency)
        results[(layer, z)] = {"http": http, "db": floor}
        if peer is not None:
            run(peer.get, warm, concurrency)
            results[(layer, z)]["peer"] = run(peer.get, jobs, concurrency)
        print(f"{layer} z{z}: {http['n']} tiles, HTTP {http['per_s']:.1f}/s"
              f" (p95 {http['p95']:.0f} ms), in the database {floor['per_s']:.1f}/s,"
              + (f" tipg {results[(layer, z)]['peer']['per_s']:.1f}/s" if peer else "")
              + f" median {http['median_kb']:.1f} kB, statuses {http['statuses']}", flush=True)
    return results


def report(args, results: dict, points: list, counts: dict) -> str:
    now = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M %Z")
    lines = [
        TITLE, "",
        f"Measured {now} on {machine()}, district scale ({counts['buildings']:,} buildings, "
        f"{counts['events']:,} events, {counts['cameras']:,} cameras), "
        f"`bench/tiles.py{' --serve' if args.serve else ''} --workers {args.workers} "
        f"--centres {len(points)} --concurrency {args.concurrency}`: every 256-pixel tile a "
        f"1920×1080 screen touches, at {len(points)} screen centres on buildings, fetched by "
        f"{args.concurrency} keep-alive clients with HTTP Basic (a district analyst's personal "
        f"token), then the same ST_AsMVT SQL on a scoped connection as `onemap_app` "
        f"({args.concurrency} threads, no HTTP): the in-database floor; then tipg 1.6.1 "
        f"serving the same tables' tiles to the same clients as the database's owner (no "
        f"row-level security, no masking, no token), asked for the same columns where the "
        f"table has them. OneMap's tiles hold the layer source's tile fields (events: 9 of "
        f"them, every case of the district, from z14); an empty tile is 200 with no body.", "",
        "| layer | zoom | tiles | empty | HTTP tiles/s | HTTP p50 (ms) | HTTP p95 (ms) | "
        "in-database tiles/s | tipg tiles/s | tipg p95 (ms) | OneMap ÷ tipg | median kB "
        "(tipg) | statuses | load average |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
        "--- | --- |",
    ]
    for (layer, z), r in results.items():
        http, db, peer = r["http"], r["db"], r.get("peer")
        statuses = ", ".join(f"{code}×{n}" for code, n in sorted(http["statuses"].items()))
        versus = (f"{peer['per_s']:.1f} | {peer['p95']:.0f} | "
                  f"{http['per_s'] / peer['per_s']:.2f} | {http['median_kb']:.1f} "
                  f"({peer['median_kb']:.1f})" if peer else f"— | — | — | "
                  f"{http['median_kb']:.1f}")
        lines.append(
            f"| {layer} | {z} | {http['n']} | {http['empty']} | {http['per_s']:.1f} | "
            f"{http['p50']:.0f} | {http['p95']:.0f} | {db['per_s']:.1f} | {versus} | "
            f"{statuses} | {http['load'][0]:.2f} → {(peer or db)['load'][1]:.2f} |")
    lines += [
        "", "Reading: the in-database column is what PostGIS needs for the tile; HTTP adds "
        "Flask, the token check and the transfer. A tile's rows come through the GiST index "
        "under row-level security when its box is small (onemap.viewport_ids, up to "
        "INDEXED_BBOX_DEG2: about z14 here) and from the table above that (layers/sql.py). "
        "Events tiles carry every case of the district (thousands a tile at z15, tens of "
        "thousands at z14), so the database and the bytes, not HTTP, set their rate. tipg "
        "reads without a scope policy to check on each row. Load averages above 2 mean the two "
        "cores were shared with other work.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8052")
    parser.add_argument("--serve", action="store_true", help="start `onemap serve` of its own")
    parser.add_argument("--workers", type=int, default=get_settings().workers,
                        help="gunicorn workers with --serve [default: ONEMAP_WORKERS]")
    parser.add_argument("--centres", type=int, default=3, help="screens per case")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--no-peer", action="store_true", help="leave tipg out")
    parser.add_argument("--no-write", action="store_true", help="print, do not write")
    args = parser.parse_args()

    engine = make_engine(database_url())
    district, points = centres(engine, args.centres)
    with engine.connect() as conn:
        counts = {table: conn.execute(text(f"SELECT count(*) FROM onemap.{table}")).scalar_one()
                  for table in ("building", "event", "camera")}
    counts = {"buildings": counts["building"], "events": counts["event"],
              "cameras": counts["camera"]}
    user_id, name, token = bench_user(engine, district)
    env = dict(os.environ, ONEMAP_WORKERS=str(args.workers))
    cluster = embedded_cluster()
    try:
        with serving(args.base_url, args.serve, env, "onemap-bench-tiles") as base, \
                (nullcontext() if args.no_peer else tipg(
                    database_url(), str(cluster.socket_dir), cluster.port,
                    list(PEER_TABLES.values()))) as peer_base:
            peer = None if args.no_peer else PeerFetcher(peer_base, peer_columns(engine))
            results = measure(base, name, token, Scope(district, session=token), points,
                              args.concurrency, peer)
    finally:
        with engine.begin() as conn:
            sessions.end_tokens(conn, user_id, "bench finished")
        app_engine().dispose()
        engine.dispose()
    publish(TITLE, report(args, results, points, counts), dry_run=args.no_write)


if __name__ == "__main__":
    main()

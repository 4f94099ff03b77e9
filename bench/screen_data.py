"""Benchmark: map data per screen beside peers (issue 15); writes the numbers to BENCHMARKS.md.

For one 1920x1080 screen at centres spread over the district (ST_GeneratePoints, as
bench/wall_screen.py), each case (buildings at z17, events at z13 and z15, cameras at z13) is
fetched whole, client-measured, four ways:

a. OneMap's viewport request, GET /api/layers/<name>?bbox=&zoom= (what the wall asks for that
   layer; geobuf, in the caller's scope under row-level security), with a district analyst's
   personal token (Bearer); beside it, for context, OneMap's own vector tiles of the screen
   (/tiles/, HTTP Basic), which the wall draws buildings and cameras from by default;
b. tipg 1.6.1 (bench/peer_env.py, as the database's owner: no row-level security, no scope,
   no token) as MVT: every 256-pixel WebMercatorQuad tile the screen touches, 6 at a time on
   keep-alive connections as a browser fetches them; total wall time and bytes;
c. tipg's OGC API items as GeoJSON for the screen's bbox (`limit` per page, following the next
   links until done, as QGIS does); the request round trips summed;
d. the naive way: the whole table read with geopandas (`gpd.read_postgis`, as the owner) and
   written with `.to_json()`, once per layer (it does not depend on the screen).

tipg is asked for the columns of the layer's fields its table has and, for events, for the
cases the layer shows (the open, unpaused ones: a CQL2 filter); for events it is also asked
with no filter (every case of the year, what it serves by default) on `--raw-centres` screens.

Then the heatmap beside sending every event point: /api/layers/heatmap?window=24h|7d on a
z13 screen against the raw reports of the same window and bbox as GeoJSON, over HTTP from
OneMap's own OGC API (/ogc/collections/events/items?bbox=&datetime=, every field, masked,
audited) and inside the database through the same scoped role (the heatmap's query against
ST_AsGeoJSON of the points, id only).

    .venv/bin/python bench/screen_data.py --serve --no-write    # `onemap serve` of its own
    .venv/bin/python bench/screen_data.py --base-url http://127.0.0.1:8050 --centres 8
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

import geobuf
import geopandas as gpd
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geodata import sessions  # noqa: E402
from geodata.db import database_url, embedded_cluster, make_engine  # noqa: E402
from geodata.scope import Scope, app_engine, scoped  # noqa: E402
from layers.features import Viewport, features_geobuf  # noqa: E402
from layers.registry import SOURCES, VIEWPORT_LAYERS  # noqa: E402
from layers.tiles import tile_fields  # noqa: E402
from onemap.domain.lifecycle import FINISHED_STATES, PAUSED_STATES  # noqa: E402
from onemap.settings import get_settings  # noqa: E402
from peer_env import tipg  # noqa: E402
from results import publish  # noqa: E402
from tests.support.ports import free_port  # noqa: E402
from tiles import Fetcher, bench_user, screen_tiles  # noqa: E402
from wall_screen import SCREEN, data_scale, machine, p95, serving, viewport  # noqa: E402

TITLE = "## Map data per screen beside peers (issue 15)"
CASES = (("buildings", 17), ("events", 13), ("events", 15), ("cameras", 13))
HEAT_WINDOWS = ("24h", "7d")  # the heatmap's windows beyond an hour (there is no 30d)
HEAT_ZOOM = 13
TIPG_TILE_CAP = 10_000  # tipg's TIPG_MAX_FEATURES_PER_TILE, left at its default
# the cases the events layer shows (onemap.event_is_active), as tipg's CQL2 filter
ACTIVE_FILTER = ("state NOT IN (" + ", ".join(f"'{s}'" for s in (*FINISHED_STATES,
                                                                 *PAUSED_STATES)) + ")")
RAW_POINTS_SQL = """
    SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
             json_build_object('type', 'Feature', 'id', id,
                               'geometry', ST_AsGeoJSON(geom, 6)::json)), '[]'))::text
      FROM onemap.event
     WHERE reported_at >= now() - CAST(:window AS interval)
       AND geom && ST_MakeEnvelope(:west, :south, :east, :north, 4326)"""

WAYS = {  # key: its label in the tables
    "onemap": "a. OneMap /api/layers",
    "onemap_tiles": "OneMap /tiles/ (context)",
    "tipg_tiles": "b. tipg tiles",
    "tipg_items": "c. tipg items",
    "tipg_tiles_raw": "b. tipg tiles, no filter",
    "tipg_items_raw": "c. tipg items, no filter",
    "naive": "d. geopandas, whole table",
}


# -- the clients -----------------------------------------------------------------------------

class Getter(Fetcher):
    """tiles.py's keep-alive client (one connection per thread) for any path; `headers`
    replaces its HTTP Basic when given (Bearer for /api/, nothing for tipg)."""

    def __init__(self, base: str, name: str = "", token: str = "",
                 headers: dict | None = None) -> None:
        super().__init__(base, name, token)
        if headers is not None:
            self.headers = headers

    def fetch(self, path: str) -> tuple[float, int, bytes]:
        """(ms, status, body) of one GET, the body read. A connection the server closed while
        idle (gunicorn keeps one alive for seconds) is opened again, as a browser does, and
        only that attempt is timed."""
        for attempt in (1, 2):
            connection = getattr(self.local, "connection", None)
            if connection is None:
                connection = self.local.connection = HTTPConnection(self.host, self.port,
                                                                    timeout=600)
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers=self.headers)
                reply = connection.getresponse()
                body = reply.read()
            except (ConnectionError, BrokenPipeError):
                connection.close()
                self.local.connection = None
                if attempt == 2:
                    raise
                continue
            return (time.perf_counter() - started) * 1000, reply.status, body
        raise AssertionError("unreachable")


def _ok(status: int, path: str, body: bytes) -> None:
    if status not in (200, 204):
        sys.exit(f"GET {path}: HTTP {status} {body[:300]!r}")


def _varint(data: memoryview, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i
        shift += 7


def _messages(data: memoryview, wanted: int):
    """The length-delimited fields numbered `wanted` of a protobuf message."""
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        kind = key & 7
        if kind == 0:
            _, i = _varint(data, i)
        elif kind == 1:
            i += 8
        elif kind == 5:
            i += 4
        elif kind == 2:
            size, i = _varint(data, i)
            if key >> 3 == wanted:
                yield data[i:i + size]
            i += size
        else:
            raise ValueError(f"protobuf wire type {kind}")


def mvt_features(body: bytes) -> int:
    """Features in a Mapbox vector tile (Tile.layers = 3, Layer.features = 2)."""
    data = memoryview(body)
    return sum(1 for layer in _messages(data, 3) for _ in _messages(layer, 2))


def tiles_screen(getter: Getter, pool: ThreadPoolExecutor, paths: list[str],
                 cap: int | None = None) -> dict:
    """Every tile of a screen through `pool` (as many at a time as it has threads): the wall
    time from the first request to the last body, bytes, and the features in them."""
    started = time.perf_counter()
    replies = list(pool.map(getter.fetch, paths))
    elapsed = (time.perf_counter() - started) * 1000
    for path, (_ms, status, body) in zip(paths, replies):
        _ok(status, path, body)
    counts = [mvt_features(body) for _ms, _s, body in replies]
    return {"ms": elapsed, "bytes": sum(len(b) for _ms, _s, b in replies),
            "features": sum(counts), "requests": len(paths),
            "capped": sum(1 for n in counts if cap and n >= cap)}


def items_screen(getter: Getter, path: str, pages: int | None = None) -> dict:
    """OGC API items from `path` following its next links (at most `pages`): the round trips
    summed (finding the next link in each page is not timed), bytes, features."""
    total_ms, size, features, requests = 0.0, 0, 0, 0
    while path:
        ms, status, body = getter.fetch(path)
        _ok(status, path, body)
        total_ms, size, requests = total_ms + ms, size + len(body), requests + 1
        page = json.loads(body)
        features += len(page["features"])
        following = [link["href"] for link in page.get("links", []) if link["rel"] == "next"]
        path = None
        if following and (pages is None or requests < pages):
            parts = urlsplit(following[0])
            path = parts.path + ("?" + parts.query if parts.query else "")
    return {"ms": total_ms, "bytes": size, "features": features, "requests": requests}


def layer_screen(getter: Getter, name: str, bbox: str, zoom: int, **options) -> dict:
    """OneMap's viewport request: one GET of geobuf; features (and heat cells' sum) decoded
    afterwards."""
    path = f"/api/layers/{name}?" + urlencode({"bbox": bbox, "zoom": zoom, **options})
    ms, status, body = getter.fetch(path)
    _ok(status, path, body)
    collection = geobuf.decode(body) if body else {"features": []}
    found = collection.get("features", [])
    return {"ms": ms, "bytes": len(body), "features": len(found), "requests": 1,
            "points": sum(f["properties"].get("n", 0) for f in found)}


# -- the cases -------------------------------------------------------------------------------

def peer_properties(engine) -> dict[str, list[str]]:
    """Per layer: its viewport fields that are columns of its table (what tipg is asked for)."""
    found = {}
    with engine.connect() as conn:
        for name in {layer for layer, _z in CASES}:
            layer = VIEWPORT_LAYERS[name]
            columns = set(conn.execute(text(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "'onemap' AND table_name = :t"), {"t": layer.table}).scalars())
            found[name] = [f for f in layer.fields if f in columns]
    return found


def ways_of(case: tuple[str, int], clients: dict, pool: ThreadPoolExecutor,
            properties: dict, page: int) -> dict:
    """The ways to fetch one case's screen: key -> function(lon, lat, pages) -> sample."""
    name, zoom = case
    api, desk, peer = clients["api"], clients["desk"], clients["peer"]
    table = f"onemap.{VIEWPORT_LAYERS[name].table}"
    asked = {"properties": ",".join(properties[name])}

    def tipg_query(filtered: bool) -> str:
        query = dict(asked, filter=ACTIVE_FILTER) if filtered and name == "events" else asked
        return urlencode(query, quote_via=quote)

    def tipg_tiles(filtered: bool):
        return lambda lon, lat, _pages=None: tiles_screen(peer, pool, [
            f"/collections/{table}/tiles/WebMercatorQuad/{z}/{x}/{y}?{tipg_query(filtered)}"
            for z, x, y in screen_tiles(lon, lat, zoom)], TIPG_TILE_CAP)

    def tipg_items(filtered: bool):
        return lambda lon, lat, pages=None: items_screen(
            peer, f"/collections/{table}/items?bbox={viewport(lon, lat, zoom, SCREEN)}"
                  f"&limit={page}&{tipg_query(filtered)}", pages)

    ways = {"onemap": lambda lon, lat, _pages=None: layer_screen(
        api, name, viewport(lon, lat, zoom, SCREEN), zoom)}
    if zoom >= SOURCES[name].tile_min_zoom:
        ways["onemap_tiles"] = lambda lon, lat, _pages=None: tiles_screen(desk, pool, [
            f"/tiles/{name}/{z}/{x}/{y}.pbf" for z, x, y in screen_tiles(lon, lat, zoom)])
    ways["tipg_tiles"] = tipg_tiles(True)
    ways["tipg_items"] = tipg_items(True)
    if name == "events":
        ways["tipg_tiles_raw"] = tipg_tiles(False)
        ways["tipg_items_raw"] = tipg_items(False)
    return ways


def summarise(samples: list[dict]) -> dict:
    times = [s["ms"] for s in samples]
    return {"n": len(samples), "p50": statistics.median(times), "p95": p95(times),
            "bytes": statistics.median(s["bytes"] for s in samples),
            "features": statistics.median(s["features"] for s in samples),
            "requests": statistics.median(s["requests"] for s in samples),
            "capped": sum(s.get("capped", 0) for s in samples),
            "requests_total": sum(s["requests"] for s in samples),
            "counts": [s["features"] for s in samples]}


def measure_case(case: tuple[str, int], ways: dict, centres: list, raw_centres: int) -> dict:
    """Every way at every centre, the ways interleaved per centre, after one untimed pass at
    the first centre (only the first page of the unfiltered items)."""
    load = os.getloadavg()
    for key, way in ways.items():
        way(*centres[0], 1)
    samples: dict[str, list] = {key: [] for key in ways}
    for index, (lon, lat) in enumerate(centres):
        for key, way in ways.items():
            if key == "tipg_items_raw" and index >= raw_centres:
                continue
            samples[key].append(way(lon, lat))
    result = {key: summarise(s) for key, s in samples.items()}
    result["load"] = (load, os.getloadavg())
    name, zoom = case
    print(f"{name} z{zoom}: " + ", ".join(
        f"{key} {r['p50']:.0f} ms {r['bytes'] / 1024:.0f} KB {r['features']:.0f} f"
        for key, r in result.items() if key != "load"), flush=True)
    return result


def measure_naive(engine, names: list[str]) -> dict:
    """d: each layer's table whole, read by geopandas as the owner and written as GeoJSON
    (`default=str`: to_json cannot write timestamps by itself)."""
    results = {}
    for name in names:
        load = os.getloadavg()
        started = time.perf_counter()
        with engine.connect() as conn:
            frame = gpd.read_postgis(f"SELECT * FROM onemap.{VIEWPORT_LAYERS[name].table}",
                                     conn, geom_col="geom")
        read = time.perf_counter()
        size = len(frame.to_json(default=str).encode())
        done = time.perf_counter()
        results[name] = {"ms": (done - started) * 1000, "read_ms": (read - started) * 1000,
                         "json_ms": (done - read) * 1000, "bytes": size, "features": len(frame),
                         "columns": len(frame.columns), "load": (load, os.getloadavg())}
        del frame
        gc.collect()
        print(f"naive {name}: {results[name]['features']:,} rows, "
              f"{results[name]['ms'] / 1000:.1f} s, {size / 1024 ** 2:.0f} MB", flush=True)
    return results


# -- the heatmap beside the points -----------------------------------------------------------

def measure_heatmap(clients: dict, scope: Scope, centres: list, engine) -> dict:
    """Per window: the heatmap (HTTP and in the database) against the raw points of the same
    window and bbox (OneMap's OGC API over HTTP, and ST_AsGeoJSON in the database)."""
    api, desk = clients["api"], clients["desk"]
    heat = VIEWPORT_LAYERS["heatmap"]
    results = {}
    for window in HEAT_WINDOWS:
        with engine.connect() as conn:
            since = conn.execute(text(
                "SELECT to_char((now() - CAST(:w AS interval)) AT TIME ZONE 'UTC',"
                " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"), {"w": window}).scalar_one()

        def in_database(lon, lat, raw: bool, window=window) -> dict:
            bbox = [float(v) for v in viewport(lon, lat, HEAT_ZOOM, SCREEN).split(",")]
            view = Viewport(*bbox, HEAT_ZOOM)
            started = time.perf_counter()
            with scoped(scope) as conn:
                if raw:
                    body = conn.execute(text(RAW_POINTS_SQL), {
                        **view.params(), "window": window}).scalar_one().encode()
                else:
                    body = features_geobuf(conn, heat, view, {"window": window})
            ms = (time.perf_counter() - started) * 1000
            if raw:
                return {"ms": ms, "bytes": len(body), "requests": 1,
                        "features": len(json.loads(body)["features"])}
            found = geobuf.decode(body).get("features", [])
            return {"ms": ms, "bytes": len(body), "requests": 1, "features": len(found),
                    "points": sum(f["properties"]["n"] for f in found)}

        ways = {
            "heat_http": lambda lon, lat, window=window: layer_screen(
                api, "heatmap", viewport(lon, lat, HEAT_ZOOM, SCREEN), HEAT_ZOOM,
                window=window),
            "points_http": lambda lon, lat, since=since: items_screen(
                desk, "/ogc/collections/events/items?" + urlencode({
                    "bbox": viewport(lon, lat, HEAT_ZOOM, SCREEN), "datetime": f"{since}/..",
                    "limit": 10_000})),
            "heat_db": lambda lon, lat: in_database(lon, lat, False),
            "points_db": lambda lon, lat: in_database(lon, lat, True),
        }
        load = os.getloadavg()
        for way in ways.values():
            way(*centres[0])
        samples: dict[str, list] = {key: [] for key in ways}
        for lon, lat in centres:
            for key, way in ways.items():
                samples[key].append(way(lon, lat))
        result = {key: summarise(s) for key, s in samples.items()}
        result["points"] = {key: [s.get("points") for s in samples[key]]
                            for key in ("heat_http", "heat_db")}
        result["load"] = (load, os.getloadavg())
        results[window] = result
        print(f"heatmap {window}: " + ", ".join(
            f"{key} {r['p50']:.0f} ms {r['bytes'] / 1024:.0f} KB {r['features']:.0f} f"
            for key, r in result.items() if key not in ("load", "points")), flush=True)
    return results


# -- the report ------------------------------------------------------------------------------

def _ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _size(size: float) -> str:
    if size >= 1024 ** 2:
        return f"{size / 1024 ** 2:,.1f} MB"
    return f"{size / 1024:,.1f} KB"


def _ratio(value: float, base: float) -> str:
    if not base:
        return "–"
    ratio = value / base
    return f"{ratio:,.0f}×" if ratio >= 100 else f"{ratio:.2g}×" if ratio < 10 else \
        f"{ratio:.0f}×"


def _load(pair) -> str:
    return f"{pair[0][0]:.2f} → {pair[1][0]:.2f}"


def _sends(name: str, key: str, properties: dict) -> str:
    """What one way sends for a layer, in a few words."""
    fields = {"onemap": len(VIEWPORT_LAYERS[name].fields),
              "onemap_tiles": len(tile_fields(SOURCES[name]))}.get(key, len(properties[name]))
    form = "geobuf, one request" if key == "onemap" else \
        "MVT, every tile" if "tiles" in key else "GeoJSON, next links"
    which = ""
    if name == "events":
        which = ", open cases" if key in ("onemap", "tipg_tiles", "tipg_items") else \
            ", every case of the year"
    return f"{form}, {fields} fields{which}"


def _agreement(case: dict) -> str:
    """OneMap's features against tipg's items, screen by screen."""
    ours, theirs = case["onemap"]["counts"], case["tipg_items"]["counts"]
    same = sum(1 for a, c in zip(ours, theirs) if a == c)
    worst = max((c - a for a, c in zip(ours, theirs)), key=abs)
    return (f"{same} of {len(ours)} screens equal" +
            (f", largest difference {worst:+,} (tipg − OneMap)" if worst else ""))


def report(args, scale: dict, centres: list, properties: dict, cases: dict, naive: dict,
           heat: dict, started: float) -> str:
    now = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M %Z")
    screens = "screen" if args.raw_centres == 1 else f"{args.raw_centres} screens"
    asked = "; ".join(f"{k}: " + ", ".join(v) for k, v in sorted(properties.items()))
    command = (f"`bench/screen_data.py{' --serve' if args.serve else ''} --workers "
               f"{args.workers} --centres {len(centres)} --raw-centres {args.raw_centres} "
               f"--page {args.page}`")
    lines = [
        TITLE, "",
        f"Measured {now} on {machine()}, district scale ({scale['people']:,} people, "
        f"{scale['buildings']:,} buildings, {scale['events']:,} events of which "
        f"{scale['open events']:,} open, {scale['cameras']:,} cameras), {command}, "
        f"{(time.perf_counter() - started) / 60:.1f} minutes in all. One "
        f"{SCREEN[0]}×{SCREEN[1]} screen at {len(centres)} centres inside the district "
        "(`ST_GeneratePoints`, bench/wall_screen.py's seed); per case and way the time is the "
        "client-measured wall time for the whole screen's data over loopback (p50 and "
        "nearest-rank p95 over the screens: with a handful, the slowest), bytes the bodies "
        "as sent (nobody asked to compress: no Accept-Encoding), features what the bodies "
        "hold. The ways are interleaved screen by screen after one untimed pass at the "
        "first screen. Load average (1 minute) before → "
        "after each block; the two cores are shared with other engineers' work.", "",
        "What each side does:", "",
        "- **a. OneMap** `GET /api/layers/<name>?bbox=&zoom=` with a district analyst's "
        "personal token (Bearer): the session checked in the database, the layer's query run "
        "as `onemap_app` under row-level security (the scope policy on every row), its own "
        "fields (buildings: use plus residents and key-group counts joined from "
        "building_stat, outlines simplified to half a pixel; events: the open, unpaused "
        "cases only, with level, state, overdue and warning flags and title; cameras: id and "
        "status), encoded by PostGIS as geobuf; one request per layer and screen (the wall "
        "pads the screen by 15 %; this does not). *OneMap /tiles/* is context: the same "
        "screen as OneMap's own MVT (HTTP Basic, the same token), which the wall draws "
        "buildings and cameras from by default (not events: the wall draws the open cases "
        "from /api/layers); its events tiles carry every case of the year, from z14.",
        "- **b. tipg 1.6.1** (bench/peer_env.py) as the database's owner: no row-level "
        "security, no scope, no token, no session; every 256-pixel WebMercatorQuad tile the "
        f"screen touches (*requests*), {args.parallel} at a time on keep-alive connections as "
        "a browser fetches them. "
        f"tipg is asked for the layer's fields its table has ({asked}; "
        "no computed ones) and for events the same cases as OneMap (CQL2 "
        f"`{ACTIVE_FILTER}`). tipg caps a tile at {TIPG_TILE_CAP:,} features (its "
        "default); tiles reach past the screen's edges and a point near a tile's edge is in "
        "its neighbour's buffer as well, so tile features overcount the screen's.",
        f"- **c. tipg OGC API items**, GeoJSON for the screen's bbox, `limit={args.page}` "
        "(tipg's maximum) following the next links until done, one at a time as QGIS reads "
        "them; the round trips are summed (reading each page to find its next link is not "
        "timed).",
        "- **d. The naive way**: `gpd.read_postgis('SELECT * FROM onemap.<table>')` as the "
        "owner and `.to_json(default=str)` (it cannot write timestamps otherwise): every "
        "column of every row of the district, personal ones unmasked, once per layer; its "
        "time is read + write and its ratio is against each case's OneMap p50.", "",
        "Rows *no filter* are tipg as it serves the events table by default: every case of "
        f"the year in the bbox (items on the first {screens} only: at z13 "
        "the screen holds the whole district, tens of pages of GeoJSON each).", "",
        "| case | way | sends | screens | p50 (ms) | p95 (ms) | bytes (median) | features "
        "(median) | requests | time ÷ OneMap | bytes ÷ OneMap | load average |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for (name, zoom), case in cases.items():
        base = case["onemap"]
        for key, r in case.items():
            if key == "load":
                continue
            label, sends = WAYS[key], _sends(name, key, properties)
            if r["capped"]:
                sends += (f" ({r['capped']} of {r['requests_total']} tiles at the "
                          f"{TIPG_TILE_CAP:,} cap)")
            lines.append(
                f"| {name} z{zoom} | {label} | {sends} | {r['n']} | {_ms(r['p50'])} | "
                f"{_ms(r['p95'])} | {_size(r['bytes'])} | {r['features']:,.0f} | "
                f"{r['requests']:.0f} | {_ratio(r['p50'], base['p50'])} | "
                f"{_ratio(r['bytes'], base['bytes'])} | {_load(case['load'])} |")
        d = naive[name]
        lines.append(
            f"| {name} z{zoom} | {WAYS['naive']} | GeoJSON, {d['columns']} columns, once | 1 | "
            f"{_ms(d['ms'])} | – | {_size(d['bytes'])} | {d['features']:,} | – | "
            f"{_ratio(d['ms'], base['p50'])} | {_ratio(d['bytes'], base['bytes'])} | "
            f"{_load(d['load'])} |")
    lines += ["", "The naive reads: " + "; ".join(
        f"{name} {d['read_ms'] / 1000:.1f} s to read + {d['json_ms'] / 1000:.1f} s to write "
        f"{d['features']:,} rows" for name, d in naive.items()) + ".", "",
        "Features, OneMap against tipg's items on the same bbox (OneMap's scope is the whole "
        "district here; polygons: OneMap takes a building whose box meets the screen, tipg "
        "one whose outline does): " + "; ".join(
            f"{name} z{zoom} {_agreement(case)}" for (name, zoom), case in cases.items())
        + ".", ""]
    events13 = cases.get(("events", 13))
    if events13:
        raw = events13["tipg_tiles_raw"]
        lines += [
            f"Events at z13: the screen holds the whole district. OneMap sends "
            f"{events13['onemap']['features']:,.0f} points (the open cases; no clustering "
            f"and no aggregation on the server: the year is aggregated only by the heatmap "
            f"layer), {_size(events13['onemap']['bytes'])}. tipg with no filter sends every "
            f"case of the year in its tiles ({raw['features']:,.0f} tile features, "
            f"{_size(raw['bytes'])} a screen; {raw['capped']} of the {raw['requests_total']} "
            f"tiles were cut at its {TIPG_TILE_CAP:,}-feature cap, silently dropping points) "
            f"and in its "
            f"items ({events13['tipg_items_raw']['features']:,.0f} features in "
            f"{events13['tipg_items_raw']['requests']:.0f} pages, "
            f"{_size(events13['tipg_items_raw']['bytes'])}).", ""]
    lines += [
        "### The heatmap beside every event point", "",
        f"z{HEAT_ZOOM}, {SCREEN[0]}×{SCREEN[1]}, the same {len(centres)} screens. *Heatmap*: "
        "`/api/layers/heatmap?window=` (28-pixel cells in Web Mercator with their counts, "
        "geobuf); *points, OneMap OGC API*: `/ogc/collections/events/items?bbox=&datetime="
        "<window start>/..&limit=10000` (every field of the case, reporter masked, one audit "
        "row a page), HTTP Basic with the token; *in the database*: the heatmap's own query "
        "(`features_geobuf`) against `ST_AsGeoJSON` of the same window's points (id and point "
        "only) as one FeatureCollection, both on a scoped connection as `onemap_app` (the "
        "same row-level security), no HTTP.", "",
        "| window | events in it (district) | way | p50 (ms) | p95 (ms) | bytes (median) | "
        "features (median) | time ÷ heatmap | bytes ÷ heatmap | load average |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    names = {"heat_http": "heatmap, HTTP (cells)", "points_http": "points, OneMap OGC API",
             "heat_db": "heatmap, in the database (cells)",
             "points_db": "points, ST_AsGeoJSON in the database"}
    for window, result in heat.items():
        for key, label in names.items():
            r = result[key]
            base = result["heat_http" if key.endswith("http") else "heat_db"]
            lines.append(
                f"| {window} | {scale.get('events ' + window, 0):,} | {label} | "
                f"{_ms(r['p50'])} | {_ms(r['p95'])} | {_size(r['bytes'])} | "
                f"{r['features']:,.0f} | {_ratio(r['p50'], base['p50'])} | "
                f"{_ratio(r['bytes'], base['bytes'])} | {_load(result['load'])} |")
    checks = []
    for window, result in heat.items():
        cells = result["points"]["heat_http"]
        points = result["points_http"]["counts"]
        same = sum(1 for a, b in zip(cells, points) if a == b)
        checks.append(f"{window}: the cells' counts add up to the points at {same} of "
                      f"{len(cells)} screens")
    lines += ["", "Check: " + "; ".join(checks) + ". A heat cell's count is the reports in "
              "it; the heatmap's payload is bounded by the cells on the screen, the points' by "
              "the reports in the window."]
    return "\n".join(lines) + "\n"


def main() -> None:
    started = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8052")
    parser.add_argument("--serve", action="store_true", help="start `onemap serve` of its own")
    parser.add_argument("--workers", type=int, default=get_settings().workers,
                        help="gunicorn workers with --serve [default: ONEMAP_WORKERS]")
    parser.add_argument("--centres", type=int, default=6, help="screens per case")
    parser.add_argument("--raw-centres", type=int, default=2,
                        help="screens for tipg's unfiltered events items")
    parser.add_argument("--parallel", type=int, default=6, help="tiles fetched at a time")
    parser.add_argument("--page", type=int, default=10_000, help="tipg items per page")
    parser.add_argument("--no-write", action="store_true", help="print, do not write")
    args = parser.parse_args()

    scale = data_scale(args.centres)
    centres = scale["centres"]
    engine = make_engine(database_url())
    with engine.connect() as conn:
        district = conn.execute(text("SELECT code FROM onemap.district")).scalar_one()
    properties = peer_properties(engine)
    user_id, name, token = bench_user(engine, district)
    scope = Scope(district, session=token)
    env = dict(os.environ, ONEMAP_WORKERS=str(args.workers))
    cluster = embedded_cluster()
    tables = sorted({f"onemap.{VIEWPORT_LAYERS[n].table}" for n, _z in CASES})
    try:
        with serving(args.base_url.rstrip("/"), args.serve, env,
                     "onemap-bench-screen-data") as base, \
                tipg(database_url(), str(cluster.socket_dir), cluster.port, tables,
                     listen=free_port()) as peer_base, \
                ThreadPoolExecutor(args.parallel) as pool:
            clients = {"api": Getter(base, headers={"Authorization": f"Bearer {token}"}),
                       "desk": Getter(base, name, token), "peer": Getter(peer_base, headers={})}
            cases = {case: measure_case(case, ways_of(case, clients, pool, properties,
                                                      args.page), centres, args.raw_centres)
                     for case in CASES}
            heat = measure_heatmap(clients, scope, centres, engine)
        naive = measure_naive(engine, list(dict.fromkeys(n for n, _z in CASES)))
    finally:
        with engine.begin() as conn:
            sessions.end_tokens(conn, user_id, "bench finished")
        app_engine().dispose()
        engine.dispose()
    publish(TITLE, report(args, scale, centres, properties, cases, naive, heat, started),
            dry_run=args.no_write)


if __name__ == "__main__":
    main()

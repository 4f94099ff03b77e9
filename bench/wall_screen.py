"""Benchmark: the wall screen (issue 5); writes the numbers to BENCHMARKS.md.

Measures, against a running OneMap signed in as a duty officer (the whole district):

1. first render of /wall in headless Chromium at 1920x1080: from navigation start until the
   rail's feed lists events and the events layer has drawn its first marker (a path in the
   `.leaflet-layer-events-pane` SVG); fresh pages in one signed-in context (browser cache
   warm), and fresh contexts with the same cookies (browser cache cold);
2. viewport layer requests, GET /api/layers/<name>?bbox=&zoom=, for a 1920x1080 screen at
   zooms 13, 15 and 17 at viewport centres spread over the district, and a 3840x2160 screen
   at z13 for events, cameras and the heatmap: p50/p95 ms and median bytes;
3. the heatmap's windows (1h, 24h, 7d) at z13 and z15: time and payload;
4. the idle live poll, GET /api/live?since=<token> answering 204: time and body size;
5. with --tiles-ab, only this, into its own section (issue 14): buildings and cameras drawn as
   GeoJSON against vector tiles (the URL's draw=), A/B/A/B at 1920x1080 and 3840x2160: first
   render, a pan of half the map, and the pan back, at z17 and z13.

Times are client-measured round trips over loopback (keep-alive), one request at a time.

    .venv/bin/python bench/wall_screen.py                  # the server on :8052
    .venv/bin/python bench/wall_screen.py --serve          # start `onemap serve` on a free port
    .venv/bin/python bench/wall_screen.py --base-url http://127.0.0.1:8050 --user duty \\
        --password duty-demo-2017 --loads 7 --requests 30 --polls 200
    .venv/bin/python bench/wall_screen.py --tiles-ab --rounds 6 --verdict "…"
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/support, below

from geodata.db import database_url, make_engine  # noqa: E402
from results import publish  # noqa: E402  (bench/results.py: run as a script)
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, sign_in_tab  # noqa: E402
from tests.support.clients import Reply, signed_in  # noqa: E402
from tests.support.users import DEMO_PASSWORDS  # noqa: E402
from tests.support.serving import healthy  # noqa: E402
from tests.support.serving import serving as serve_app  # noqa: E402
from layers.maps import WALL  # noqa: E402

SECTION = "## Wall screen (issue 5)"

LAYERS = WALL.layer_names  # every layer the wall offers, in its drawing order
ZOOMS = (13, 15, 17)
SCREEN = (1920, 1080)
SCREEN_4K = (3840, 2160)
LAYERS_4K = ("events", "cameras", "heatmap")
HEAT_WINDOWS = ("1h", "24h", "7d")
HEAT_ZOOMS = (13, 15)
SEED = 2017

# the targets
TARGET_RENDER_S = 2.5
TARGET_LAYER_P95_MS = 100
TARGET_HEATMAP_KB = 150
TARGET_POLL_MS = 20



# -- the server and the client: the harness the tests use (tests/support) ------------------

@contextmanager
def serving(base_url: str, start: bool, env: dict | None = None,
            log_prefix: str = "onemap-bench-wall"):
    """Yields the base URL: `base_url` as it is, or a `onemap serve` of our own with `env`
    (None: this process's environment), then stopped."""
    if not start:
        if not healthy(base_url):
            sys.exit(f"no OneMap at {base_url} (start one, or pass --serve)")
        yield base_url
        return
    # the bench's own load may log what a test would not: its log is kept, not judged
    with serve_app(env, log_prefix=log_prefix, ready_within=90, check_log=False) as base:
        yield base


class Client:
    """A signed-in client (tests/support's, keeping its connection alive); times each request."""

    def __init__(self, base: str, user: str, password: str) -> None:
        self.base = base
        try:
            self.http = signed_in(base, user, password, keep_alive=True)
        except AssertionError as failed:
            sys.exit(str(failed))

    def get(self, path: str, **params) -> tuple[float, Reply]:
        """(milliseconds, reply) of one GET, the body read."""
        query = ("?" + urlencode(params)) if params else ""
        started = time.perf_counter()
        reply = self.http.get(path + query)
        return (time.perf_counter() - started) * 1000, reply

    def post(self, path: str, payload) -> tuple[float, Reply]:
        """(milliseconds, reply) of one same-origin JSON POST."""
        started = time.perf_counter()
        reply = self.http.post_json(path, payload)
        return (time.perf_counter() - started) * 1000, reply


# -- the data and the machine ----------------------------------------------------------------

def data_scale(count: int) -> dict:
    """Row counts, the district's extent, and `count` viewport centres inside the district."""
    engine = make_engine(database_url())
    with engine.connect() as conn:
        one = lambda sql: conn.execute(text(sql)).scalar_one()  # noqa: E731
        scale = {
            "people": one("SELECT count(*) FROM onemap.person"),
            "buildings": one("SELECT count(*) FROM onemap.building"),
            "events": one("SELECT count(*) FROM onemap.event"),
            "open events": one("SELECT count(*) FROM onemap.event WHERE state IN ('reported',"
                               " 'registered', 'dispatched', 'handling', 'handled', 'verified')"),
            "cameras": one("SELECT count(*) FROM onemap.camera"),
            "sensors": one("SELECT count(*) FROM onemap.sensor"),
            "staff": one("SELECT count(*) FROM onemap.staff"),
        }
        for window, interval in (("1h", "1 hour"), ("24h", "24 hours"), ("7d", "7 days")):
            scale[f"events {window}"] = one("SELECT count(*) FROM onemap.event"
                                            f" WHERE reported_at >= now() - interval '{interval}'")
        scale["last event"] = one("SELECT to_char(max(reported_at) AT TIME ZONE 'Asia/Shanghai',"
                                  " 'YYYY-MM-DD HH24:MI') FROM onemap.event")
        scale["extent"] = one("SELECT ST_Extent(geom)::text FROM onemap.district")
        scale["centres"] = [tuple(row) for row in conn.execute(text(
            "SELECT ST_X(p.geom), ST_Y(p.geom) FROM onemap.district d,"
            " ST_Dump(ST_GeneratePoints(d.geom, :n, :seed)) AS p ORDER BY p.path"),
            {"n": count, "seed": SEED})]
    engine.dispose()
    return scale


def machine() -> str:
    """CPU count, model and memory, for the report."""
    model, mem_kb = platform.processor() or platform.machine(), 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model}), {mem_kb / 1024 ** 2:.0f} GB RAM"


# -- numbers ---------------------------------------------------------------------------------

def p95(values: list[float]) -> float:
    """The nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def summary(samples: list[tuple[float, int]]) -> dict:
    """p50/p95 ms and median bytes of (ms, bytes) samples."""
    times = [ms for ms, _ in samples]
    return {"p50": statistics.median(times), "p95": p95(times), "max": max(times),
            "bytes": statistics.median([size for _, size in samples]),
            "max_bytes": max(size for _, size in samples), "n": len(samples)}


def viewport(lon: float, lat: float, zoom: int, size: tuple[int, int]) -> str:
    """The bbox (west,south,east,north) a screen of `size` pixels shows around lon/lat in Web
    Mercator at `zoom`."""
    world = 256 * 2 ** zoom
    x = (lon + 180) / 360 * world
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * world

    def lonlat(px: float, py: float) -> tuple[float, float]:
        return (px / world * 360 - 180,
                math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * py / world)))))

    west, north = lonlat(x - size[0] / 2, y - size[1] / 2)
    east, south = lonlat(x + size[0] / 2, y + size[1] / 2)
    return f"{west:.6f},{south:.6f},{east:.6f},{north:.6f}"


# -- 2 and 3: layer requests -----------------------------------------------------------------

def fetch_layer(client: Client, layer: str, bbox: str, zoom: int,
                window: str | None = None) -> tuple[float, int]:
    """(ms, bytes) of one layer request; stops on anything but a geobuf 200."""
    params = {"bbox": bbox, "zoom": zoom}
    if window:
        params["window"] = window
    elapsed, reply = client.get(f"/api/layers/{layer}", **params)
    if reply.status != 200 or "protobuf" not in reply.headers.get("Content-Type", ""):
        sys.exit(f"{layer} z{zoom} {bbox}: HTTP {reply.status} {reply.text[:200]}")
    return elapsed, len(reply.body)


def measure_layers(client: Client, centres: list, zoom: int, size: tuple[int, int],
                   layers: tuple[str, ...]) -> dict:
    """Per layer, and for all layers together, at each centre; layers interleaved per centre.
    One untimed pass first (connection, plans, caches)."""
    window = {"heatmap": "24h"}
    for layer in layers:
        fetch_layer(client, layer, viewport(*centres[0], zoom, size), zoom, window.get(layer))
    samples: dict[str, list] = {layer: [] for layer in layers}
    screens = []  # (ms, bytes) of all layers of one viewport, one after another
    for lon, lat in centres:
        bbox = viewport(lon, lat, zoom, size)
        one_screen = [fetch_layer(client, layer, bbox, zoom, window.get(layer))
                      for layer in layers]
        for layer, sample in zip(layers, one_screen):
            samples[layer].append(sample)
        screens.append((sum(ms for ms, _ in one_screen), sum(b for _, b in one_screen)))
    result = {layer: summary(s) for layer, s in samples.items()}
    result["all layers, per request"] = summary([s for layer in layers for s in samples[layer]])
    result["all layers, one viewport"] = summary(screens)
    return result


def measure_heatmap(client: Client, centres: list) -> dict:
    """The heatmap per window and zoom on a 1920x1080 screen."""
    results = {}
    for zoom in HEAT_ZOOMS:
        fetch_layer(client, "heatmap", viewport(*centres[0], zoom, SCREEN), zoom, "7d")
        for window in HEAT_WINDOWS:
            results[(window, zoom)] = summary([
                fetch_layer(client, "heatmap", viewport(lon, lat, zoom, SCREEN), zoom, window)
                for lon, lat in centres])
    return results


# -- 2b: the same layer queries inside the database, owner against the app's role -----------

ROLE_LAYERS = ("buildings", "enterprises", "cameras", "sensors")
ROLE_ZOOM = 17  # buildings and enterprises show from z16: all answer


@contextmanager
def _session_of(user: str):
    """A session of `user` opened in the database as sign-in would; ended afterwards."""
    from datetime import timedelta

    from geodata import sessions
    from geodata.users import by_username
    from onemap.domain.roles import ROLE_CAPABILITIES

    owner = make_engine(database_url())
    with owner.begin() as conn:
        found = by_username(conn, user)
        if found is None:
            sys.exit(f"no user {user!r} in the database")
        token = sessions.open_session(conn, found, capabilities=ROLE_CAPABILITIES[found.role],
                                      user_agent="bench", ip=None, idle=timedelta(hours=1),
                                      lifetime=timedelta(hours=1))
    try:
        yield token
    finally:
        with owner.begin() as conn:
            sessions.end(conn, token, "benchmark done")
        owner.dispose()


def measure_roles_in_database(centres: list, user: str) -> dict:
    """Per layer: the layer's query (layers/features.py, as the API runs it) timed inside
    PostgreSQL, as the table owner (no row-level security) and as `onemap_app` with `user`'s
    session (the scope policy on every row), for a 1920x1080 viewport at each centre. One
    untimed pass first; one transaction per query, as a request has."""
    from geodata.scope import APP_ROLE
    from layers.features import Viewport, features_geobuf
    from layers.registry import VIEWPORT_LAYERS

    engine = make_engine(database_url())
    views = [Viewport(*map(float, viewport(lon, lat, ROLE_ZOOM, SCREEN).split(",")), ROLE_ZOOM)
             for lon, lat in centres]

    def timed(name: str, view: Viewport, token: str | None) -> float:
        with engine.connect() as conn, conn.begin():
            if token is not None:
                conn.execute(text(f"SET LOCAL ROLE {APP_ROLE}"))
                conn.execute(text("SELECT set_config('onemap.session', :t, true)"), {"t": token})
            started = time.perf_counter()
            features_geobuf(conn, VIEWPORT_LAYERS[name], view.checked())
            return (time.perf_counter() - started) * 1000

    result = {}
    with _session_of(user) as token:
        for name in ROLE_LAYERS:
            for role in (None, token):
                timed(name, views[0], role)
            owner = [timed(name, view, None) for view in views]
            app = [timed(name, view, token) for view in views]
            result[name] = {"owner": {"p50": statistics.median(owner), "p95": p95(owner)},
                            "app": {"p50": statistics.median(app), "p95": p95(app)},
                            "n": len(views)}
    engine.dispose()
    return result


def _roles_table(roles: dict, http: dict) -> list[str]:
    lines = ["| layer | owner p50 (ms) | owner p95 (ms) | onemap_app p50 (ms) | "
             "onemap_app p95 (ms) | app ÷ owner at p95 | HTTP p95 at the same zoom (ms) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in roles.items():
        ratio = r["app"]["p95"] / r["owner"]["p95"] if r["owner"]["p95"] else float("nan")
        served = http.get(name, {}).get("p95")
        lines.append(f"| {name} | {_ms(r['owner']['p50'])} | {_ms(r['owner']['p95'])} | "
                     f"{_ms(r['app']['p50'])} | {_ms(r['app']['p95'])} | {ratio:.1f}× | "
                     f"{_ms(served) if served is not None else '–'} |")
    return lines


# -- 4: the idle poll ------------------------------------------------------------------------

def measure_poll(client: Client, polls: int) -> dict:
    """Round trips of /api/live?since=<current token>; only the 204s are timed."""
    _, first = client.get("/api/live")
    if first.status != 200:
        sys.exit(f"/api/live: HTTP {first.status}")
    token = first.json()["token"]
    for _ in range(5):  # untimed warm-up
        client.get("/api/live", since=token)
    idle, changed, body_bytes = [], 0, 0
    while len(idle) < polls:
        elapsed, reply = client.get("/api/live", since=token)
        if reply.status == 204:
            idle.append((elapsed, len(reply.body)))
            body_bytes = max(body_bytes, len(reply.body))
        elif reply.status == 200:  # something moved meanwhile: follow the new token
            changed += 1
            token = reply.json()["token"]
        else:
            sys.exit(f"/api/live?since=: HTTP {reply.status}")
    result = summary(idle)
    result.update(changed=changed, max_body=body_bytes)
    return result


# -- 1: first render in the browser ----------------------------------------------------------

# Runs in every page before its own scripts: on /wall it records when each Dash callback's
# answer arrived, the first frame the feed has items, and the first frame (after the events
# layer's data came) on which the events pane holds a marker.
_PROBE = """
(() => {
  if (location.pathname !== "/wall") return;
  const bench = window.__bench = {responses: [], feed: null, painted: null};
  const originalFetch = window.fetch;
  window.fetch = async function (input, init) {
    const sent = performance.now();
    const response = await originalFetch.apply(this, arguments);
    const url = typeof input === "string" ? input : input.url;
    if (url.includes("_dash-update-component")) {
      let output = "";
      try { output = JSON.parse(init.body).output; } catch (e) { /* not ours */ }
      response.clone().text().then((body) => {
        let data = false;  // no_update answers 200 {"multi":true,"response":{}}
        try { data = Object.keys(JSON.parse(body).response || {}).length > 0; } catch (e) { }
        bench.responses.push({output: output, status: response.status, data: data,
                              bytes: body.length, sent: sent, t: performance.now()});
      });
    }
    return response;
  };
  const eventsIn = () => bench.responses.some(
    (r) => r.data && r.output.includes('"events"') && r.output.includes("wall-layer"));
  function painted() {  // the events pane is SVG: a marker drawn is a path in it
    return document.querySelector(".leaflet-layer-events-pane path.leaflet-interactive") !== null;
  }
  function check() {
    const now = performance.now();
    if (bench.feed === null && document.querySelector(".wall-feed li")) bench.feed = now;
    if (bench.painted === null && eventsIn() && painted()) bench.painted = now;
    if (bench.feed === null || bench.painted === null) requestAnimationFrame(check);
  }
  requestAnimationFrame(check);
})();
"""

_RENDERED = ("() => window.__bench && window.__bench.feed !== null"
             " && window.__bench.painted !== null")


def _one_load(context, base: str) -> dict:
    """Open /wall in a fresh page of `context`; ms from navigation start to each milestone."""
    page = context.new_page()
    try:
        page.goto(base + "/wall", wait_until="commit")
        page.wait_for_function(_RENDERED, timeout=60_000, polling=50)
        page.wait_for_load_state("networkidle")
        probe = page.evaluate("""() => ({
            bench: window.__bench,
            dcl: performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd})""")
    finally:
        page.close()
    bench = probe["bench"]
    first_data: dict[str, dict] = {}
    asked: set[str] = set()  # layers whose callback ran, data or no_update
    for response in sorted(bench["responses"], key=lambda r: r["t"]):
        match = re.search(r'"name":"(\w+)","type":"wall-layer"\}\.data', response["output"])
        if match:
            asked.add(match.group(1))
            if response["data"]:
                first_data.setdefault(match.group(1), response)
    events = first_data.get("events", {})
    layer_calls = [r for r in bench["responses"] if "wall-layer" in r["output"]]
    return {"dcl": probe["dcl"], "first sent": min(r["sent"] for r in layer_calls),
            "events sent": events.get("sent"),
            "events in": events.get("t"), "feed": bench["feed"],
            "painted": bench["painted"], "rendered": max(bench["feed"], bench["painted"]),
            "layers in": max(r["t"] for r in first_data.values()),
            "layers": sorted(first_data), "asked": sorted(asked),
            "callbacks": len(bench["responses"]), "events bytes": events.get("bytes")}


def warm_and_cold(base: str, user: str, password: str, probe: str, one_load, loads: int,
                  screen: tuple[int, int] = SCREEN) -> dict:
    """`one_load(context)` once untimed, then in `loads` fresh pages of one signed-in context
    (browser cache warm), then in `loads` fresh contexts carrying the same cookies (nothing
    cached); `probe` runs in every page before its own scripts."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        options = {"viewport": {"width": screen[0], "height": screen[1]}, "locale": "zh-CN"}
        try:
            context = browser.new_context(**options)
            context.add_init_script(probe)
            page = context.new_page()
            sign_in_tab(page, base, user, password)
            page.close()
            first = one_load(context)
            warm = [one_load(context) for _ in range(loads)]
            state = context.storage_state()
            context.close()
            cold = []
            for _ in range(loads):
                fresh = browser.new_context(storage_state=state, **options)
                fresh.add_init_script(probe)
                cold.append(one_load(fresh))
                fresh.close()
            version = browser.version
        finally:
            browser.close()
    return {"first": first, "warm": warm, "cold": cold, "chromium": version}


def measure_first_render(base: str, user: str, password: str, loads: int) -> dict:
    """The wall's milestones in fresh pages and fresh contexts (warm_and_cold)."""
    return warm_and_cold(base, user, password, _PROBE, lambda context: _one_load(context, base),
                         loads)


# -- 5: the densest layers as GeoJSON against vector tiles (issue 14) ------------------------

TILES_SECTION = "## Wall layers: GeoJSON against vector tiles (issue 14)"
DRAW_MODES = ("geojson", "tiles")  # pages/viewport_map.py: the URL's draw= picks the path
# (zoom, layers shown, layers timed): buildings and cameras close up, cameras over the district
AB_SCENARIOS = ((17, "district,street,community,buildings,cameras,events",
                 ("buildings", "cameras")),
                (13, "district,street,community,cameras,events", ("cameras",)))
# where a GeoJSON layer draws (buildings are polygons without a pane: Leaflet's overlay pane)
GEOJSON_PANES = {"buildings": "leaflet-overlay-pane", "cameras": "leaflet-layer-points-pane"}

# Runs before the page's scripts: takes each Leaflet map as it is made (an init hook set as soon
# as Leaflet defines window.L) and its moveends; when each viewport layer's Dash answer came
# (headers in, and whether it held data); and when each pane's DOM last changed.
_AB_PROBE = """
(() => {
  if (location.pathname !== "/wall") return;
  const ab = window.__ab = {responses: [], mutations: {}, tiles: [], moveends: [], maps: [],
                            last: {}};
  performance.setResourceTimingBufferSize(5000);
  let leaflet;
  Object.defineProperty(window, "L", {configurable: true, enumerable: true,
    get() { return leaflet; },
    set(value) {
      leaflet = value;
      if (value && value.Map && !value.Map.__ab) {
        value.Map.__ab = true;
        value.Map.addInitHook(function () {
          ab.maps.push(this);
          this.on("moveend", () => ab.moveends.push(performance.now()));
        });
      }
    }});
  const originalFetch = window.fetch;
  window.fetch = async function (input, init) {
    const response = await originalFetch.apply(this, arguments);
    const url = typeof input === "string" ? input : input.url;
    if (url.includes("_dash-update-component")) {
      let output = "";
      try { output = JSON.parse(init.body).output; } catch (e) { /* not ours */ }
      const match = output.match(/"name":"(\\w+)","type":"wall-layer"\\}\\.data/);
      if (match) {
        const answer = {layer: match[1], head: performance.now(), data: false, bytes: 0,
                        same: false};
        ab.responses.push(answer);
        response.clone().text().then((body) => {
          try { answer.data = Object.keys(JSON.parse(body).response || {}).length > 0; }
          catch (e) { /* an error page */ }
          answer.bytes = body.length;
          // the features the layer has already: dash-leaflet has nothing to redraw
          answer.same = answer.data && ab.last[answer.layer] === body;
          if (answer.data) ab.last[answer.layer] = body;
        });
      }
    }
    return response;
  };
  const watch = new MutationObserver((records) => {
    const now = performance.now();
    for (const record of records) {
      if (record.type === "attributes") {  // a tiled layer's data-tiles (assets/map.js)
        const el = record.target;
        ab.tiles.push({layer: el.dataset.layer, value: el.dataset.tiles, t: now});
        continue;
      }
      const pane = record.target.closest &&
        record.target.closest(".leaflet-pane:not(.leaflet-map-pane)");
      if (pane) (ab.mutations[pane.classList[1]] = ab.mutations[pane.classList[1]] || [])
        .push(now);
    }
  });
  document.addEventListener("DOMContentLoaded",
    () => watch.observe(document.body, {childList: true, subtree: true, attributes: true,
                                         attributeFilter: ["data-tiles"]}));
})();
"""

# Once `layer` is wholly drawn after `after` (the page's performance.now()), when that happened
# by the times the page recorded, not when this was asked: from tiles, the grid has every tile
# of the view, loaded when its last `load` came (or when the map moved, if no tile was
# missing); as GeoJSON, its pane's first DOM change after a data answer that came after `after`
# (or that answer, when it held the features the layer had: nothing to redraw).
_AB_DRAWN = """
({layer, mode, after, pane}) => {
  const ab = window.__ab;
  if (!ab || !ab.maps.length) return false;
  if (mode === "tiles") {
    let grid = null;
    ab.maps[0].eachLayer((l) => {
      if (l instanceof L.VectorGrid && l.getContainer() &&
          l.getContainer().dataset.layer === layer) grid = l;
    });
    if (!grid || grid.getContainer().dataset.tiles !== "loaded" || grid.isLoading()) return false;
    const moved = after > 0 ? ab.moveends.find((t) => t > after) : 0;
    if (moved === undefined) return false;
    const states = ab.tiles.filter((s) => s.layer === layer && s.t >= moved);
    if (!states.some((s) => s.value === "loading")) return moved;  // nothing was missing
    return states.filter((s) => s.value === "loaded").pop().t;
  }
  const answer = ab.responses.find((r) => r.layer === layer && r.data && r.head > after);
  if (answer && answer.same) return answer.head;
  const changed = answer && (ab.mutations[pane] || []).find((t) => t >= answer.head);
  return changed === undefined ? false : changed;
}
"""

# half the map's width east (or back west), no animation; performance.now() just before
_AB_PAN = """
(direction) => {
  const map = window.__ab.maps[0];
  const started = performance.now();
  map.panBy([direction * map.getSize().x / 2, 0], {animate: false});
  return started;
}
"""

# what the layer took over the network: tiles (count, bytes, median ms) or GeoJSON answers
_AB_TRAFFIC = """
(layer) => {
  const tiles = performance.getEntriesByType("resource")
    .filter((e) => e.name.includes("/tiles/" + layer + "/"));
  const ms = tiles.map((e) => e.duration).sort((a, b) => a - b);
  const answers = window.__ab.responses.filter((r) => r.layer === layer && r.data);
  return {tiles: tiles.length, tile_bytes: tiles.reduce((n, e) => n + e.encodedBodySize, 0),
          tile_ms: ms.length ? ms[Math.floor(ms.length / 2)] : null,
          answers: answers.length, answer_bytes: answers.reduce((n, r) => n + r.bytes, 0)};
}
"""


def ab_centres(rounds: int) -> tuple[list[tuple[float, float]], tuple[float, float]]:
    """Close-up centres (a point on each of `rounds` buildings picked by a fixed hash) and the
    district's centre."""
    engine = make_engine(database_url())
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p,"
            " md5(id::text || :seed) AS h FROM onemap.building) b ORDER BY h LIMIT :n"),
            {"seed": str(SEED), "n": rounds}).all()
        middle = conn.execute(text(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Collect(geom)) AS c"
            " FROM onemap.district) d")).one()
    engine.dispose()
    return [tuple(row) for row in rows], tuple(middle)


def _ab_drawn(page, layer: str, mode: str, after: float) -> float:
    return page.wait_for_function(
        _AB_DRAWN, arg={"layer": layer, "mode": mode, "after": after,
                        "pane": GEOJSON_PANES[layer]},
        polling="raf", timeout=60_000).json_value()


def _ab_load(browser, state: dict, base: str, screen: tuple[int, int], mode: str, zoom: int,
             layers: str, timed: tuple[str, ...], centre: tuple[float, float]) -> dict:
    """One fresh context (nothing cached) on /wall at `centre`: ms from navigation start until
    each timed layer is drawn, then from a pan of half the map east until it is drawn again,
    and from the pan back."""
    context = browser.new_context(storage_state=state, locale="zh-CN",
                                  viewport={"width": screen[0], "height": screen[1]})
    context.add_init_script(_AB_PROBE)
    page = context.new_page()
    load = os.getloadavg()[0]
    try:
        lng, lat = centre
        page.goto(f"{base}/wall?layers={layers}&z={zoom}&lat={lat:.5f}&lng={lng:.5f}"
                  f"&draw={mode}", wait_until="commit")
        first = {layer: _ab_drawn(page, layer, mode, 0) for layer in timed}
        page.wait_for_load_state("networkidle")
        pans = {}
        for step, direction in (("pan", 1), ("back", -1)):
            started = page.evaluate(_AB_PAN, direction)
            pans[step] = {layer: _ab_drawn(page, layer, mode, started) - started
                          for layer in timed}
            page.wait_for_load_state("networkidle")
        traffic = {layer: page.evaluate(_AB_TRAFFIC, layer) for layer in timed}
    finally:
        context.close()
    return {"first": first, **pans, "traffic": traffic, "load": load}


def measure_tiles_ab(base: str, user: str, password: str, rounds: int,
                     screens: tuple[tuple[int, int], ...]) -> dict:
    """Each scenario on each screen `rounds` times, GeoJSON and tiles one after the other
    (A/B/A/B …) at the same centre, each load in a fresh signed-in context."""
    from playwright.sync_api import sync_playwright

    centres, middle = ab_centres(rounds)
    result = {screen: {mode: {zoom: [] for zoom, _, _ in AB_SCENARIOS} for mode in DRAW_MODES}
              for screen in screens}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="zh-CN")
            page = context.new_page()
            sign_in_tab(page, base, user, password)
            state = context.storage_state()
            context.close()
            for zoom, layers, timed in AB_SCENARIOS:  # one untimed load of each first
                _ab_load(browser, state, base, screens[0], DRAW_MODES[0], zoom, layers, timed,
                         middle)
            for screen in screens:
                for i in range(rounds):
                    for zoom, layers, timed in AB_SCENARIOS:
                        centre = centres[i] if zoom >= 16 else middle
                        for mode in DRAW_MODES:
                            run = _ab_load(browser, state, base, screen, mode, zoom, layers,
                                           timed, centre)
                            result[screen][mode][zoom].append(run)
                            print(f"{screen[0]}x{screen[1]} round {i + 1} z{zoom} {mode}: "
                                  "first " + ", ".join(f"{k} {v:.0f}"
                                                       for k, v in run["first"].items())
                                  + " ms; pan " + ", ".join(f"{k} {v:.0f}"
                                                            for k, v in run["pan"].items())
                                  + f" ms (load {run['load']:.1f})", flush=True)
            result["chromium"] = browser.version
        finally:
            browser.close()
    return result


def _ab_cells(runs: list[dict], key: str, layer: str) -> tuple[str, float]:
    values = [run[key][layer] for run in runs]
    median = statistics.median(values)
    return f"{_ms(median)} ({_ms(min(values))}–{_ms(max(values))})", median


def _ab_tables(ab: dict, wins: dict) -> list[str]:
    """The timings and the traffic of one screen's runs; counts the wins into `wins`."""
    lines = ["| scenario | layer | measure | GeoJSON | tiles | tiles ÷ GeoJSON |",
             "| --- | --- | --- | ---: | ---: | ---: |"]
    for zoom, _, timed in AB_SCENARIOS:
        for layer in timed:
            for key, title in (("first", "first render"), ("pan", "pan"), ("back", "back")):
                geo, geo_median = _ab_cells(ab["geojson"][zoom], key, layer)
                til, til_median = _ab_cells(ab["tiles"][zoom], key, layer)
                wins["tiles" if til_median < geo_median else "geojson"] += 1
                lines.append(f"| z{zoom} | {layer} | {title} | {geo} | {til} | "
                             f"{til_median / geo_median:.2f} |")
    lines += ["", "| scenario | layer | GeoJSON answers | GeoJSON KB | tiles | tiles KB | "
              "median ms a tile |", "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for zoom, _, timed in AB_SCENARIOS:
        for layer in timed:
            geo = [run["traffic"][layer] for run in ab["geojson"][zoom]]
            til = [run["traffic"][layer] for run in ab["tiles"][zoom]]
            med = lambda runs, k: statistics.median(x[k] for x in runs)  # noqa: E731
            tile_ms = [x["tile_ms"] for x in til if x["tile_ms"] is not None]
            lines.append(f"| z{zoom} | {layer} | {med(geo, 'answers'):.0f} | "
                         f"{_kb(med(geo, 'answer_bytes'))} | {med(til, 'tiles'):.0f} | "
                         f"{_kb(med(til, 'tile_bytes'))} | "
                         f"{_ms(statistics.median(tile_ms)) if tile_ms else '–'} |")
    return lines


def markdown_tiles(r: dict) -> str:
    """The BENCHMARKS.md section of the GeoJSON / vector tiles comparison."""
    screens = [key for key in r["ab"] if key != "chromium"]
    loads = [run["load"] for screen in screens for mode in DRAW_MODES
             for zoom, _, _ in AB_SCENARIOS for run in r["ab"][screen][mode][zoom]]
    rounds = len(r["ab"][screens[0]][DRAW_MODES[0]][AB_SCENARIOS[0][0]])
    lines = [
        TILES_SECTION, "",
        f"Measured {r['when']} (Asia/Shanghai) on {platform.machine()}, {r['machine']}, "
        f"Chromium {r['ab']['chromium']}, against `onemap serve` ({r['server']}) at {r['base']} "
        f"on loopback, signed in as `{r['user']}` (the whole district). Data: "
        f"{r['scale']['buildings']:,} buildings, {r['scale']['cameras']:,} cameras. 1-minute "
        f"load average {r['load before']:.1f} before and {r['load after']:.1f} after, "
        f"{min(loads):.1f}–{max(loads):.1f} at the start of the loads (the machine is shared: "
        "the two paths alternate load by load, A/B/A/B, so both meet the same load). "
        "`bench/wall_screen.py --tiles-ab` rewrites this section.", "",
        "The same /wall view drawn both ways, chosen by the URL's `draw=`: **GeoJSON** (a Dash "
        "callback answers the padded viewport's features as geobuf; dash-leaflet draws them, "
        "cameras clustered up to z16) and **tiles** (Leaflet.VectorGrid fetches "
        "`/tiles/<layer>/{z}/{x}/{y}.pbf` for the tiles on screen, each drawn 1,024 px wide "
        "(tiles of zoom z-2), and draws them as SVG; every camera a dot). "
        f"Headless Chromium, each load a fresh signed-in context (nothing cached), {rounds} "
        "loads per path, scenario and screen after one untimed load; z17 centred on a "
        "different building each round (the same for both paths), z13 on the district's "
        "centre. *First render*: from navigation start until the layer is wholly drawn "
        "(tiles: the grid's last `load`, every tile of the view fetched and drawn into the "
        "page; GeoJSON: its pane's first change after its data answered, which redraws it "
        "whole), with events and boundaries shown as on the wall; times the page recorded as "
        "they happened (DOM changes, Leaflet's events), without the paint. *Pan*: half the "
        "map's width east without animation, until the layer is wholly drawn again; *back*: "
        "the pan back. Milliseconds, median (min–max). Below each: what went over the "
        "network per load (medians), the layer's Dash answers (base64 geobuf in JSON) or its "
        "tiles.",
    ]
    wins = {"tiles": 0, "geojson": 0}
    for screen in screens:
        lines += ["", f"### {screen[0]}×{screen[1]}", "", *_ab_tables(r["ab"][screen], wins)]
    lines += ["", f"Tiles were faster in {wins['tiles']} of the {sum(wins.values())} measures, "
              f"GeoJSON in {wins['geojson']}. {r['verdict']}"]
    return "\n".join(lines) + "\n"


# -- the report ------------------------------------------------------------------------------

def _kb(size: float) -> str:
    return f"{size / 1024:,.1f}"


def _ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _render_table(render: dict) -> list[str]:
    milestones = [("dcl", "DOMContentLoaded (scripts loaded)"),
                  ("first sent", "first viewport layer's Dash callback sent"),
                  ("events sent", "events layer's Dash callback sent"),
                  ("events in", "events layer's data arrived"),
                  ("feed", "feed lists events"),
                  ("painted", "events painted on the map"),
                  ("rendered", "**rendered** (feed listed and events painted)"),
                  ("layers in", "every shown layer's data arrived")]
    lines = ["| from navigation start (s) | browser cache warm: median | min | max "
             "| cache cold: median | min | max |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for key, title in milestones:
        cells = []
        for runs in (render["warm"], render["cold"]):
            values = [r[key] / 1000 for r in runs if r[key] is not None]
            cells += [f"{statistics.median(values):.2f}", f"{min(values):.2f}",
                      f"{max(values):.2f}"]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return lines


def _callbacks_note(load: dict) -> str:
    idle = [name for name in load["asked"] if name not in load["layers"]]
    return (f"By the time the network was idle the page had made {load['callbacks']} Dash "
            f"callback requests, {len(load['asked'])} of them for viewport layers: "
            f"{len(load['layers'])} brought data ({', '.join(load['layers'])}) and "
            f"{len(idle)} answered no_update for layers that are not shown "
            f"({', '.join(idle)}). The events answer (base64 geobuf in JSON, viewport padded "
            f"15 %) is {_kb(load['events bytes'])} KB.")


def _layer_table(layers: dict) -> tuple[list[str], list[str]]:
    head = "| layer | " + " | ".join(f"z{z} p50 | z{z} p95 | z{z} KB" for z in ZOOMS) + " |"
    lines = [head, "| --- |" + " ---: |" * 3 * len(ZOOMS)]
    misses = []
    for name in (*LAYERS, "all layers, per request", "all layers, one viewport"):
        cells = []
        for zoom in ZOOMS:
            s = layers[zoom][name]
            p95_cell = _ms(s["p95"])
            if name != "all layers, one viewport" and s["p95"] > TARGET_LAYER_P95_MS:
                p95_cell = f"**{p95_cell}**"
                if not name.startswith("all"):
                    misses.append(f"{name} at z{zoom} ({_ms(s['p95'])} ms)")
            size = "–" if name == "all layers, per request" else _kb(s["bytes"])
            cells += [_ms(s["p50"]), p95_cell, size]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines, misses


def markdown(r: dict) -> str:
    """The BENCHMARKS.md section for one run."""
    scale, render, poll = r["scale"], r["render"], r["poll"]
    warm_render = statistics.median(x["rendered"] for x in render["warm"]) / 1000
    cold_render = statistics.median(x["rendered"] for x in render["cold"]) / 1000
    layer_lines, misses = _layer_table(r["layers"])
    lines = [
        SECTION, "",
        f"Measured {r['when']} (Asia/Shanghai) on {platform.machine()}, {r['machine']}, "
        f"Python {platform.python_version()}, Chromium {render['chromium']}, against "
        f"`onemap serve` (gunicorn, {r['server']}) at {r['base']} on loopback, signed in as "
        f"`{r['user']}` (duty officer, the whole district 210103). Data: "
        f"{scale['people']:,} people, {scale['buildings']:,} buildings, {scale['events']:,} "
        f"events ({scale['open events']:,} open; {scale['events 1h']:,} in the last hour, "
        f"{scale['events 24h']:,} in 24 h, {scale['events 7d']:,} in 7 days), "
        f"{scale['cameras']:,} cameras, {scale['sensors']:,} sensors, {scale['staff']:,} staff; "
        f"district extent {scale['extent']}. 1-minute load average {r['load before']:.1f} "
        f"before the run and {r['load after']:.1f} after (the client, Chromium, the server and "
        f"PostgreSQL share the machine). `bench/wall_screen.py` rewrites this section.", "",
        "Targets (issue 5): first render under 2.5 s, a layer request under 100 ms at p95, "
        "the heatmap's payload under 150 KB, an idle poll under 20 ms. "
        "KB = 1,024 bytes; ms are client-measured round trips over loopback (keep-alive), one "
        "request at a time, so they include HTTP and Python but no network.", "",
        "### First render of /wall", "",
        f"Headless Chromium at {SCREEN[0]}×{SCREEN[1]}, {len(render['warm'])} loads each. "
        "Warm: a fresh page in the signed-in context (scripts in the browser cache, as when a "
        "wall display reloads); cold: a fresh context with the same cookies (nothing cached). "
        "Rendered = the first animation frame on which `.wall-feed li` exists and the events "
        "pane (`.leaflet-layer-events-pane`, SVG) holds a marker, after the "
        "events layer's callback answered; times are `performance.now()` in the page. One "
        f"untimed load first (it took {render['first']['rendered'] / 1000:.2f} s to render).", "",
        *_render_table(render), "",
        f"Target under {TARGET_RENDER_S} s: {_verdict(warm_render < TARGET_RENDER_S)} warm "
        f"({warm_render:.2f} s), {_verdict(cold_render < TARGET_RENDER_S)} cold "
        f"({cold_render:.2f} s). {_callbacks_note(render['warm'][0])}", "",
        "### Viewport layer requests", "",
        f"`GET /api/layers/<name>?bbox=&zoom=` for a {SCREEN[0]}×{SCREEN[1]} screen (bbox "
        f"computed in Web Mercator), {r['requests']} viewport centres per zoom, random points "
        f"inside the district (`ST_GeneratePoints`, seed {SEED}); heatmap with window=24h; "
        "layers interleaved per centre; one untimed pass first. Milliseconds; KB is the median "
        "payload. *All layers, per request* pools every request at that zoom (p50/p95 only); "
        "*all layers, one "
        f"viewport* is the {len(LAYERS)} requests of one screen one after another (sum of times "
        "and bytes). Buildings and enterprises answer empty below z16 and places below z14 "
        "(their minimum zooms). "
        f"Bold: over the {TARGET_LAYER_P95_MS} ms p95 target.", "",
        *layer_lines, "",
        ("Every layer met the 100 ms p95 target at every zoom." if not misses else
         "Missed the 100 ms p95 target: " + "; ".join(misses) + "."), "",
        f"At 4K ({SCREEN_4K[0]}×{SCREEN_4K[1]}) and z13, same centres:", "",
        "| layer | p50 (ms) | p95 (ms) | KB | p95 under 100 ms |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for name in LAYERS_4K:
        s = r["layers_4k"][name]
        lines.append(f"| {name} | {_ms(s['p50'])} | {_ms(s['p95'])} | {_kb(s['bytes'])} | "
                     f"{_verdict(s['p95'] < TARGET_LAYER_P95_MS)} |")
    if "roles" in r:
        lines += ["", "### The same layer queries in the database: owner and app role", "",
                  f"The query each layer runs (layers/features.py) timed inside PostgreSQL at z"
                  f"{ROLE_ZOOM} on a {SCREEN[0]}×{SCREEN[1]} viewport, the same {r['requests']} "
                  "centres: as the tables' owner (no row-level security) and as `onemap_app` "
                  f"with `{r['user']}`'s session (the scope policy on every row), one "
                  "transaction per query. HTTP: the client-measured p95 above, for comparison.",
                  "", *_roles_table(r["roles"], r["layers"].get(ROLE_ZOOM, {}))]
    lines += ["", "### Heatmap windows", "",
              f"`GET /api/layers/heatmap?window=` on a {SCREEN[0]}×{SCREEN[1]} screen, the same "
              f"{r['requests']} centres.", "",
              "| window | events in it (district) | zoom | p50 (ms) | p95 (ms) | median KB "
              "| max KB | payload under 150 KB | p95 under 100 ms |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for (window, zoom), s in r["heatmap"].items():
        lines.append(f"| {window} | {scale['events ' + window]:,} | {zoom} | {_ms(s['p50'])} | "
                     f"{_ms(s['p95'])} | "
                     f"{_kb(s['bytes'])} | {_kb(s['max_bytes'])} | "
                     f"{_verdict(s['max_bytes'] < TARGET_HEATMAP_KB * 1024)} | "
                     f"{_verdict(s['p95'] < TARGET_LAYER_P95_MS)} |")
    empty = [w for w in HEAT_WINDOWS if scale[f"events {w}"] == 0]
    if empty:
        lines += ["", f"No events were reported in the last {' or '.join(empty)} (the data's "
                  f"last event was reported {scale['last event']}), so "
                  f"those rows time an empty answer."]
    lines += ["", "### Idle live poll", "",
              f"`GET /api/live?since=<current token>` {poll['n']} times after 5 untimed; "
              f"client-measured round trip on loopback (server time plus a little HTTP)."
              + (f" {poll['changed']} polls found a change meanwhile and were left out."
                 if poll["changed"] else ""), "",
              "| polls answered 204 | p50 (ms) | p95 (ms) | max (ms) | body (bytes) | "
              "p95 under 20 ms |",
              "| ---: | ---: | ---: | ---: | ---: | --- |",
              f"| {poll['n']} | {poll['p50']:.1f} | {poll['p95']:.1f} | {poll['max']:.1f} | "
              f"{poll['max_body']} | {_verdict(poll['p95'] < TARGET_POLL_MS)} |"]
    return "\n".join(lines) + "\n"


def _server_shape(base: str) -> str:
    """Workers and threads of the gunicorn serving `base` (from its command line)."""
    port = base.rsplit(":", 1)[-1].strip("/")
    try:
        lines = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    except OSError:
        return "workers unknown"
    for line in lines.splitlines():
        if "gunicorn" in line and f":{port}" in line:
            workers = re.search(r"--workers (\d+)", line)
            threads = re.search(r"--threads (\d+)", line)
            return (f"{workers.group(1) if workers else '?'} worker, "
                    f"{threads.group(1) if threads else '?'} threads")
    return "workers unknown"


def main() -> None:
    """Measure all four, print a line for each, and record them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8052")
    parser.add_argument("--serve", action="store_true",
                        help="start `onemap serve` on a free port instead (and stop it after)")
    parser.add_argument("--user", default="duty")
    parser.add_argument("--password", default=DEMO_PASSWORDS["duty"])
    parser.add_argument("--loads", type=int, default=7, help="page loads per browser case")
    parser.add_argument("--requests", type=int, default=30, help="viewports per layer and zoom")
    parser.add_argument("--polls", type=int, default=200)
    parser.add_argument("--no-write", action="store_true", help="print, don't touch BENCHMARKS.md")
    parser.add_argument("--tiles-ab", action="store_true",
                        help="only compare GeoJSON and vector tiles for the densest layers "
                             "(its own section of BENCHMARKS.md)")
    parser.add_argument("--rounds", type=int, default=6, help="A/B rounds of --tiles-ab")
    parser.add_argument("--verdict", default="",
                        help="--tiles-ab: the sentence saying which path is the default and why")
    args = parser.parse_args()
    if args.tiles_ab:
        tiles_ab(args)
        return

    scale = data_scale(args.requests)
    centres = scale["centres"]
    with serving(args.base_url.rstrip("/"), args.serve) as base:
        client = Client(base, args.user, args.password)
        result = {"base": base, "user": args.user, "requests": len(centres),
                  "machine": machine(), "server": _server_shape(base), "scale": scale,
                  "when": datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M"),
                  "load before": os.getloadavg()[0]}
        result["layers"] = {}
        for zoom in ZOOMS:
            result["layers"][zoom] = measure_layers(client, centres, zoom, SCREEN, LAYERS)
            worst = max(LAYERS, key=lambda n: result["layers"][zoom][n]["p95"])
            print(f"layers z{zoom}: worst p95 {worst} "
                  f"{result['layers'][zoom][worst]['p95']:.1f} ms", flush=True)
        result["layers_4k"] = measure_layers(client, centres, 13, SCREEN_4K, LAYERS_4K)
        print("layers 4K z13: " + ", ".join(
            f"{n} p95 {result['layers_4k'][n]['p95']:.1f} ms" for n in LAYERS_4K), flush=True)
        result["roles"] = measure_roles_in_database(centres, args.user)
        print("\n".join(_roles_table(result["roles"], result["layers"].get(ROLE_ZOOM, {}))),
              flush=True)
        result["heatmap"] = measure_heatmap(client, centres)
        for (window, zoom), s in result["heatmap"].items():
            print(f"heatmap {window} z{zoom}: p95 {s['p95']:.1f} ms, {_kb(s['bytes'])} KB",
                  flush=True)
        result["poll"] = measure_poll(client, args.polls)
        print(f"idle poll: p50 {result['poll']['p50']:.1f} ms, p95 {result['poll']['p95']:.1f} ms,"
              f" body {result['poll']['max_body']} bytes", flush=True)
        result["render"] = measure_first_render(base, args.user, args.password, args.loads)
        for case in ("warm", "cold"):
            values = [x["rendered"] / 1000 for x in result["render"][case]]
            print(f"first render ({case}): median {statistics.median(values):.2f} s, "
                  f"min {min(values):.2f}, max {max(values):.2f}", flush=True)
        result["load after"] = os.getloadavg()[0]
    publish(SECTION, markdown(result), dry_run=args.no_write)


def tiles_ab(args) -> None:
    """--tiles-ab: the GeoJSON / vector tiles comparison alone, into its own section."""
    scale = data_scale(1)
    with serving(args.base_url.rstrip("/"), args.serve) as base:
        result = {"base": base, "user": args.user, "machine": machine(),
                  "server": _server_shape(base), "scale": scale,
                  "when": datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M"),
                  "load before": os.getloadavg()[0], "verdict": args.verdict}
        result["ab"] = measure_tiles_ab(base, args.user, args.password, args.rounds,
                                        (SCREEN, SCREEN_4K))
        result["load after"] = os.getloadavg()[0]
    publish(TILES_SECTION, markdown_tiles(result), dry_run=args.no_write)


if __name__ == "__main__":
    main()

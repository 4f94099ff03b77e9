"""Benchmark: N wall screens against 1 and 4 gunicorn workers (issue 15); writes BENCHMARKS.md.

Each modelled screen does what /wall does in the browser with its default layers
(layers/maps.py: WALL; assets/map.js; callbacks/viewport_map.py, callbacks/wall.py), signed in
as the demo duty officer (the whole district), over HTTP/1.1 keep-alive connections of its own
(at most 6 at once, a browser's limit per host):

- the live poll, GET /api/live?since=<token>, every ONEMAP_LIVE_POLL_SECONDS (±10 %, one at a
  time), answered 204 when nothing changed;
- when a poll says a topic moved (200): the Dash callbacks (POST /_dash-update-component) of
  the shown layers on that topic and the rail's (counters, feed, banner), all at once;
- every --pan-every seconds (±20 %): a pan or zoom to a random view of the district at z13,
  z15 or z17, 1920x1080: every shown layer's callback again and, for --camera-screens of
  them, the camera layer's vector tiles covering the view (as Leaflet.VectorGrid asks);
- every minute, the rail's callback.

A writer posts an event report every --write-every seconds with an API token (bench/intake.py's
client, a connection per report) so polls see changes; its events and their history are removed
afterwards. The --quiet runs have no writer. Screens open over 3 s (a first poll and every
layer, not timed); once all have their data (at most --warm-up s) and 2 s more, --seconds are
measured. Every request is timed and its status checked; failures are counted, in the warm-up
too. With --serve, `onemap serve` is started per worker count, sign-in's rate limit raised; up
to --sessions sign in through the form, each with a User-Agent of its own, and more screens
share them round-robin.

    .venv/bin/python bench/load.py --serve        # 1 and 4 workers: 10-200; 200 quiet
    .venv/bin/python bench/load.py --serve --no-write --workers 1 --screens 10 --quiet '' \\
        --seconds 15
    .venv/bin/python bench/load.py --base-url http://127.0.0.1:8050 --screens 50   # as it runs

The client (asyncio, raw HTTP/1.1 streams) shares the machine with the server and PostgreSQL;
its own CPU and its event loop's lag are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import resource
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from http.client import HTTPException
from pathlib import Path
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geodata import sessions  # noqa: E402
from geodata.db import database_url, make_engine  # noqa: E402
from geodata.scope import APP_ROLE, AUTH_ROLE  # noqa: E402
from intake import Poster, _cpu, clean_up, reports, server_processes, token_user  # noqa: E402
from layers.maps import WALL  # noqa: E402
from onemap.settings import get_settings  # noqa: E402
from results import publish  # noqa: E402  (bench/results.py: run as a script)
from wall_screen import (  # noqa: E402  (tests/support's harness, on the path through it)
    SCREEN, ZOOMS, _server_shape, data_scale, machine, p95, serving, viewport)

from tests.support.clients import signed_in  # noqa: E402
from tests.support.dash_calls import callback_call  # noqa: E402
from tests.support.users import DEMO_PASSWORDS  # noqa: E402

TITLE = "## Load: wall screens (issue 15)"
SEED = 2017
TARGET_SCREENS, TARGET_POLL_P95_MS = 200, 300  # the goal, on 2 cores
BROWSER_CONNECTIONS = 6  # a browser's HTTP/1.1 connections per host
POLL_JITTER, PAN_JITTER = 0.10, 0.20
STAGGER, SETTLE = 3.0, 2.0  # seconds over which screens open; after all opened
TILE_SIZE, TILE_LEVELS = 1024, 2  # assets/map.js: 1024-px tiles of zoom z-2
LOGIN_RATE = "100000 per minute"  # the served env's: every screen signs in from 127.0.0.1
USER = "duty"

# what the wall shows by default, and which of it comes from vector tiles (pages/viewport_map)
SHOWN = [layer for layer in WALL.layers if layer.name in WALL.default_layers]
TILED = set(WALL.tile_layers) if WALL.draw == "tiles" else set()
DASH_LAYERS = [layer for layer in SHOWN if layer.name not in TILED]
TILE_LAYER = "cameras"  # the tiled layer the --camera-screens also show
RAIL_TOPICS = {"event", "sensor"}  # callbacks/wall.py: refresh_rail reloads on these


# -- one screen's HTTP: keep-alive connections, its cookie and User-Agent ----------------------

class _Stale(Exception):
    """A kept-alive connection the server had closed: nothing was answered, send again."""


class Browser:
    """One screen's connections to the server (at most BROWSER_CONNECTIONS at once, idle ones
    kept alive); a request on a kept connection the server closed meanwhile is sent once more
    on a new one, as browsers do."""

    def __init__(self, base: str, cookie: str, agent: str, timeout: float) -> None:
        parts = urlsplit(base)
        self.host, self.port, self.origin = parts.hostname, parts.port, base
        self.head = (f"Host: {parts.netloc}\r\nUser-Agent: {agent}\r\nCookie: {cookie}\r\n"
                     "Accept: */*\r\n")
        self.timeout = timeout
        self.idle: list[tuple] = []
        self.slots = asyncio.Semaphore(BROWSER_CONNECTIONS)

    async def request(self, method: str, path: str, body: bytes = b"",
                      json_body: bool = False) -> tuple[int | str, bytes, float]:
        """(HTTP status, or "timeout" / the error's name; body; ms) of one request, timed from
        when it could take a connection (the browser's own queue is not counted)."""
        extra = ""
        if method == "POST":
            extra = (f"Origin: {self.origin}\r\nContent-Length: {len(body)}\r\n"
                     + ("Content-Type: application/json\r\n" if json_body else ""))
        raw = f"{method} {path} HTTP/1.1\r\n{self.head}{extra}\r\n".encode() + body
        async with self.slots:
            started = time.perf_counter()
            for attempt in (0, 1):  # the second time on a new connection
                reused = bool(self.idle) and attempt == 0
                conn = self.idle.pop() if reused else None
                try:
                    status, answer, close, conn = await asyncio.wait_for(
                        self._exchange(conn, raw), self.timeout)
                except _Stale:
                    if reused:
                        continue
                    return "closed", b"", (time.perf_counter() - started) * 1000
                except asyncio.TimeoutError:
                    return "timeout", b"", (time.perf_counter() - started) * 1000
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    return type(exc).__name__, b"", (time.perf_counter() - started) * 1000
                elapsed = (time.perf_counter() - started) * 1000
                if close:
                    conn[1].close()
                else:
                    self.idle.append(conn)
                return status, answer, elapsed
        raise AssertionError("unreachable")

    async def _exchange(self, conn, raw: bytes):
        if conn is None:
            conn = await asyncio.open_connection(self.host, self.port)
        reader, writer = conn
        try:
            try:
                writer.write(raw)
                await writer.drain()
                line = await reader.readline()
            except (ConnectionResetError, BrokenPipeError):
                raise _Stale() from None
            if not line:
                raise _Stale()
            version, status = line.split(None, 2)[:2]
            status = int(status)
            length, chunked, close = None, False, version == b"HTTP/1.0"
            while (line := await reader.readline()) not in (b"\r\n", b"\n"):
                if not line:
                    raise asyncio.IncompleteReadError(b"", None)
                name, _, value = line.partition(b":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding":
                    chunked = b"chunked" in value
                elif name == b"connection":
                    close = value == b"close"
            if status in (204, 304) or status < 200:
                body = b""
            elif chunked:
                parts = []
                while size := int((await reader.readline()).split(b";")[0], 16):
                    parts.append(await reader.readexactly(size))
                    await reader.readexactly(2)
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                body = b"".join(parts)
            elif length is not None:
                body = await reader.readexactly(length)
            else:
                body, close = await reader.read(), True
        except BaseException:
            writer.close()
            raise
        return status, body, close, conn

    def close(self) -> None:
        for _reader, writer in self.idle:
            writer.close()
        self.idle.clear()


# -- what the screen asks for ----------------------------------------------------------------

def _layer_call(name: str, request: dict) -> bytes:
    """The body Dash's renderer posts for one layer's load callback (callbacks/viewport_map)."""
    asked = WALL.request_id(name)
    body = callback_call(f"{_id_text(WALL.layer_id(name))}.data",
                         {(_id_text(asked), "data"): request}, (asked, "data"), lambda _: [])
    return json.dumps(body, separators=(",", ":")).encode()


def _rail_call(live: dict | None, minute: int, trigger: str) -> bytes:
    """The body of the rail's callback (callbacks/wall.py: refresh_rail)."""
    body = callback_call("wall-count-reported.children",
                         {("wall-live", "data"): live, ("wall-acknowledged", "data"): [],
                          ("wall-minute", "n_intervals"): minute},
                         ("wall-minute", "n_intervals") if trigger == "minute"
                         else ("wall-live", "data"), lambda _: [])
    return json.dumps(body, separators=(",", ":")).encode()


def _id_text(component: dict) -> str:
    return json.dumps(component, sort_keys=True, separators=(",", ":"))


def view_of(lon: float, lat: float, zoom: int) -> dict:
    """assets/map.js viewFromMap: the map's unpadded view (the server pads it)."""
    west, south, east, north = map(float, viewport(lon, lat, zoom, SCREEN).split(","))
    return {"west": west, "south": south, "east": east, "north": north, "zoom": zoom}


def tiles_of(lon: float, lat: float, zoom: int) -> list[str]:
    """The /tiles/ paths Leaflet.VectorGrid fetches for a 1920x1080 view at `zoom`: 1024-px
    tiles of zoom z, served as the 256-px tile x/y of zoom z-2."""
    if zoom < TILE_LEVELS:
        return []
    world = 256 * 2 ** zoom
    x = (lon + 180) / 360 * world
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * world
    xs = range(int((x - SCREEN[0] / 2) // TILE_SIZE), int((x + SCREEN[0] / 2 - 1) // TILE_SIZE) + 1)
    ys = range(int((y - SCREEN[1] / 2) // TILE_SIZE), int((y + SCREEN[1] / 2 - 1) // TILE_SIZE) + 1)
    return [f"/tiles/{TILE_LAYER}/{zoom - TILE_LEVELS}/{tx}/{ty}.pbf" for tx in xs for ty in ys]


# -- the run: screens, the writer, and what the server spends --------------------------------

NEVER = math.inf


class Run:
    """What one run records: every request started in the measured window, by kind, and the
    failures before it (warm-up), so none is hidden. The window is set once every screen has
    its page's data."""

    def __init__(self) -> None:
        self.window = (NEVER, NEVER)
        self.samples: dict[str, list[float]] = {}
        self.errors: dict[str, dict[str, int]] = {}
        self.warm_up_errors: dict[str, int] = {}
        self.reloads: dict[str, list[float]] = {"change": [], "pan": []}
        self.lag: list[float] = []
        self.stopped = asyncio.Event()  # set at the window's end

    async def wait_until(self, when: float) -> bool:
        """Sleep until the monotonic time `when`, or the window's end: whether it goes on."""
        if not self.stopped.is_set():
            try:
                await asyncio.wait_for(self.stopped.wait(), max(0.0, when - time.monotonic()))
            except asyncio.TimeoutError:
                pass
        return not self.stopped.is_set()

    def inside(self, started: float) -> bool:
        return self.window[0] <= started < self.window[1]

    def add(self, kind: str, started: float, status, ms: float) -> None:
        ok = isinstance(status, int) and 200 <= status < 300
        if not self.inside(started):
            if not ok and started < self.window[0]:
                self.warm_up_errors[f"{kind} {status}"] = (
                    self.warm_up_errors.get(f"{kind} {status}", 0) + 1)
        elif ok:
            self.samples.setdefault(kind, []).append(ms)
        else:
            kinds = self.errors.setdefault(kind, {})
            kinds[str(status)] = kinds.get(str(status), 0) + 1


class Screen:
    """One wall display: polls, reloads on a change and on a pan, the rail each minute."""

    def __init__(self, base: str, cookie: str, agent: str, run: Run, args, centres: list,
                 cameras: bool, rng: random.Random) -> None:
        self.run, self.args, self.rng = run, args, rng
        self.browser = Browser(base, cookie, agent, args.timeout)
        self.centres, self.cameras = centres, cameras
        self.live: dict | None = None
        self.centre, self.zoom = rng.choice(centres), ZOOMS[0]
        self.pending: set[str] = set()  # what the next reload fetches: layers, "rail", "tiles"
        self.pending_since: float | None = None
        self.causes: set[str] = set()
        self.reloading: asyncio.Task | None = None
        self.opened = asyncio.Event()  # the page's first data arrived
        self.minute = 0

    def everything(self) -> set[str]:
        return {layer.name for layer in DASH_LAYERS} | ({"tiles"} if self.cameras else set())

    async def _send(self, kind: str, method: str, path: str, body: bytes = b""):
        started = time.monotonic()
        status, answer, ms = await self.browser.request(method, path, body, json_body=bool(body))
        self.run.add(kind, started, status, ms)
        return status, answer

    def _layer_request(self, layer) -> bytes:
        topic = layer.live_topic
        versions = (self.live or {}).get("versions", {})
        return _layer_call(layer.name, {
            "view": view_of(*self.centre, self.zoom),
            "options": {o.name: o.default for o in layer.query_options()},
            "version": str(versions[topic]) if topic and topic in versions else ""})

    def trigger(self, what: set[str], cause: str) -> None:
        """Ask for a reload of `what`; one reload at a time, later asks join the next one."""
        self.pending |= what
        self.causes.add(cause)
        if self.pending_since is None:
            self.pending_since = time.monotonic()
        if self.reloading is None or self.reloading.done():
            self.reloading = asyncio.create_task(self._reload())

    async def _reload(self) -> None:
        while self.pending:
            what, since, causes = self.pending, self.pending_since, self.causes
            self.pending, self.pending_since, self.causes = set(), None, set()
            calls = [self._send("layer", "POST", "/_dash-update-component",
                                self._layer_request(layer))
                     for layer in DASH_LAYERS if layer.name in what]
            if "rail" in what:
                calls.append(self._send("rail", "POST", "/_dash-update-component",
                                        _rail_call(self.live, self.minute, "live")))
            if "tiles" in what:
                calls += [self._send("tile", "GET", path)
                          for path in tiles_of(*self.centre, self.zoom)]
            await asyncio.gather(*calls)
            if "open" in causes:
                self.opened.set()
            elif self.run.inside(since):
                self.run.reloads["pan" if "pan" in causes else "change"].append(
                    (time.monotonic() - since) * 1000)

    async def polls(self) -> None:
        """The live poll, one at a time; the first without a token (every topic "changed")
        and, with it, a reload of everything shown (the page's first data)."""
        interval = get_settings().live_poll_seconds
        status, answer = await self._send("first poll", "GET", "/api/live")
        if status == 200:
            self.live = json.loads(answer)
        self.trigger(self.everything() | {"rail"}, "open")
        next_at = time.monotonic() + interval
        while await self.run.wait_until(next_at):
            started = time.monotonic()
            status, answer, ms = await self.browser.request(
                "GET", "/api/live?since=" + quote((self.live or {}).get("token", "")))
            self.run.add("poll (changed)" if status == 200 else "poll", started, status, ms)
            if status == 200:
                self.live = json.loads(answer)
                changed = set(self.live.get("changed", []))
                self.trigger({layer.name for layer in DASH_LAYERS
                              if layer.live_topic in changed}
                             | ({"rail"} if changed & RAIL_TOPICS else set()), "change")
            next_at = max(time.monotonic(),
                          next_at + interval * self.rng.uniform(1 - POLL_JITTER, 1 + POLL_JITTER))

    async def pans(self) -> None:
        next_at = time.monotonic() + self.rng.uniform(0, self.args.pan_every)
        while await self.run.wait_until(next_at):
            self.centre, self.zoom = self.rng.choice(self.centres), self.rng.choice(ZOOMS)
            self.trigger(self.everything(), "pan")
            next_at += self.args.pan_every * self.rng.uniform(1 - PAN_JITTER, 1 + PAN_JITTER)

    async def minutes(self) -> None:
        next_at = time.monotonic() + self.rng.uniform(0, 60)
        while await self.run.wait_until(next_at):
            self.minute += 1
            await self._send("rail (minute)", "POST", "/_dash-update-component",
                             _rail_call(self.live, self.minute, "minute"))
            next_at += 60

    async def run_until_stopped(self, start: float) -> None:
        await _until(start)
        await asyncio.gather(self.polls(), self.pans(), self.minutes())
        if self.reloading is not None:
            await self.reloading


async def _until(when: float) -> None:
    """Sleep until the monotonic time `when`."""
    delay = when - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def _watch_loop(run: Run) -> None:
    """The client's own event-loop lag: how late a 100 ms sleep wakes (a busy client would
    delay every request it times)."""
    while time.monotonic() < run.window[1]:
        started = time.monotonic()
        await asyncio.sleep(0.1)
        run.lag.append((time.monotonic() - started - 0.1) * 1000)


def _rss_mb(pids: set[int]) -> list[float]:
    """Resident memory of each process (MB; 0 for one gone)."""
    sizes = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            sizes.append(0.0)
            continue
        sizes += [int(line.split()[1]) / 1024 for line in status.splitlines()
                  if line.startswith("VmRSS:")]
    return sizes


def _stat(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def app_processes(base: str) -> tuple[set[int], set[int]]:
    """The gunicorn processes serving `base`, and the PostgreSQL backends of the app's roles
    (onemap_app, onemap_auth) opened since that gunicorn started: its connections, not the
    cluster's own processes nor other servers' older ones."""
    app, database = server_processes(base)  # bench/intake.py: by port, children of postmaster
    started = min((int(_stat(pid)[19]) for pid in app if _stat(pid)), default=0)  # starttime
    roles = tuple(f"postgres: {role} " for role in (APP_ROLE, AUTH_ROLE))
    mine = {pid for pid in database
            if _cmdline(pid).startswith(roles) and _stat(pid) and int(_stat(pid)[19]) >= started}
    return app, mine


async def _watch_server(base: str, run: Run, result: dict) -> None:
    """CPU seconds of the app's gunicorn processes and of its PostgreSQL backends over the
    window (backends opened during it counted whole), the client's, and the gunicorn
    processes' resident memory summed, sampled each second (its peak)."""
    app, database = app_processes(base)
    before = {pid: _cpu(pid) for pid in app | database}
    client, load = time.process_time(), os.getloadavg()[0]
    peak_sum, peak_one = 0.0, 0.0
    while time.monotonic() < run.window[1]:
        sizes = _rss_mb(app)
        peak_sum, peak_one = max(peak_sum, sum(sizes)), max(peak_one, max(sizes, default=0))
        await asyncio.sleep(min(1.0, max(0.0, run.window[1] - time.monotonic())))
    app_end, database_end = app_processes(base)
    result.update(
        cpu_app=sum(_cpu(p) - before.get(p, 0.0) for p in app_end),
        cpu_db=sum(_cpu(p) - before.get(p, 0.0) for p in database_end),
        cpu_client=time.process_time() - client, load=(load, os.getloadavg()[0]),
        rss_sum=peak_sum, rss_one=peak_one, app_processes=len(app_end))


def _post_once(poster: Poster, key: str, body: dict) -> tuple[float, int]:
    """intake's POST on a connection of its own, closed after it: a report every few seconds
    would find a kept one closed by gunicorn (it keeps an idle connection 2 s)."""
    poster.local.connection = None
    try:
        return poster.post(key, body)
    finally:
        poster.local.connection.close()


async def _write(poster: Poster, bodies: list, run: Run, every: float) -> int:
    """Post a report every `every` seconds over the window (in a thread: intake's client is
    http.client); how many were posted."""
    posted, next_at, pending = 0, run.window[0] + 0.5, []

    async def post(key: str, body: dict, started: float) -> None:
        try:
            ms, status = await asyncio.to_thread(_post_once, poster, key, body)
        except (OSError, HTTPException) as exc:
            ms, status = (time.monotonic() - started) * 1000, type(exc).__name__
        run.add("writer", started, status, ms)

    while every > 0 and next_at < run.window[1] and bodies:
        await _until(next_at)
        pending.append(asyncio.create_task(post(*bodies.pop(), time.monotonic())))
        posted += 1
        next_at += every
    await asyncio.gather(*pending)
    return posted


async def one_run(base: str, logins: list[tuple[str, str]], screens: int, args, centres: list,
                  poster: Poster, bodies: list, writer: bool) -> dict:
    """`screens` screens opened over a few seconds; once all have their page's data (at most
    --warm-up s) and 2 s more, --seconds measured, with the writer or without."""
    rng = random.Random(f"{SEED}-{screens}")
    run = Run()
    result = {"screens": screens, "seconds": args.seconds,
              "writer": args.write_every if writer else 0}
    cameras = set(rng.sample(range(screens), round(screens * args.camera_screens)))
    wall = [Screen(base, *logins[i % len(logins)], run, args, centres, i in cameras,
                   random.Random(rng.random())) for i in range(screens)]
    start = time.monotonic() + 0.2
    tasks = [asyncio.create_task(screen.run_until_stopped(start + rng.uniform(0, STAGGER)))
             for screen in wall]
    opening = asyncio.gather(*(screen.opened.wait() for screen in wall))
    try:
        await asyncio.wait_for(opening, args.warm_up)
    except asyncio.TimeoutError:
        pass
    await asyncio.sleep(SETTLE)
    run.window = (time.monotonic(), time.monotonic() + args.seconds)
    result.update(warm_up=run.window[0] - start,
                  opened=sum(screen.opened.is_set() for screen in wall))
    writes = asyncio.create_task(_write(poster, bodies, run, result["writer"]))
    await asyncio.gather(_watch_loop(run), _watch_server(base, run, result))
    run.stopped.set()
    done, late = await asyncio.wait(tasks, timeout=args.timeout + 5)
    for task in late:
        task.cancel()
    for task in done:
        if task.exception() is not None:
            raise task.exception()
    result["writes"] = await writes
    for screen in wall:
        screen.browser.close()
    result.update(samples=run.samples, errors=run.errors, warm_up_errors=run.warm_up_errors,
                  reloads=run.reloads, lag=run.lag, unfinished=len(late))
    return result


# -- sign-in ---------------------------------------------------------------------------------

def sign_in(base: str, count: int, password: str) -> list:
    """`count` sessions of the duty officer through the form, each from a User-Agent of its
    own (sessions are bound to it); tests/support's client, four at a time."""
    def one(i: int):
        agent = f"onemap-bench-load/{i}"
        return signed_in(base, USER, password, agent=agent)

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(count)))


def still_signed_in(base: str, clients: list) -> bool:
    """Whether the sessions work on this server (they live in the database, so they survive a
    restart that keeps the secret key)."""
    client = clients[0]
    client.base, client.netloc = base, urlsplit(base).netloc
    client.close()
    return client.get("/api/live").status == 200


def sign_out(base: str, clients: list) -> None:
    def one(client):
        client.base, client.netloc = base, urlsplit(base).netloc
        client.close()
        client.request("POST", "/logout", {}, client.same_origin())

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, clients))


# -- the report ------------------------------------------------------------------------------

KINDS = (("poll", "idle poll (204)"), ("poll (changed)", "poll with a change (200)"),
         ("layer", "layer callback"), ("rail", "rail callback on a change"),
         ("rail (minute)", "rail callback each minute"), ("tile", "camera tile"),
         ("writer", "writer: POST /api/events"))


def _stats(values: list[float]) -> dict | None:
    if not values:
        return None
    return {"n": len(values), "p50": statistics.median(values), "p95": p95(values),
            "max": max(values)}


def _ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _p(r: dict, kind: str, at: str = "p95") -> str:
    s = _stats(r["samples"].get(kind, []))
    return _ms(s[at]) if s else "–"


def _requests(r: dict) -> int:
    """The screens' requests in the window, answered or not (the writer's apart)."""
    return (sum(len(v) for kind, v in r["samples"].items() if kind != "writer")
            + sum(sum(k.values()) for kind, k in r["errors"].items() if kind != "writer"))


def _errors(r: dict) -> int:
    """The screens' failed requests in the window, and screens not done 15 s after it."""
    return (sum(sum(k.values()) for kind, k in r["errors"].items() if kind != "writer")
            + r["unfinished"])


def saturated(r: dict) -> bool:
    poll = _stats(r["samples"].get("poll", []))
    return poll is None or poll["p95"] >= TARGET_POLL_P95_MS or _errors(r) > 0


def _server_cpu(r: dict) -> float:
    return 100 * (r["cpu_app"] + r["cpu_db"]) / r["seconds"]


def _workers(n: int) -> str:
    return f"{n} worker{'s' if n > 1 else ''}"


def _changes(r: dict) -> str:
    return f"a report every {r['writer']:g} s" if r["writer"] else "nothing changing"


def _error_cell(r: dict) -> str:
    parts = [f"{n} {kind} {status}" for kind, k in r["errors"].items() if kind != "writer"
             for status, n in k.items()]
    parts += [f"{r['unfinished']} screens unfinished"] if r["unfinished"] else []
    text = f"**{_errors(r)}** ({', '.join(parts)})" if parts else "0"
    if r["warm_up_errors"]:
        text += f"; warm-up: {sum(r['warm_up_errors'].values())}"
    return text


def markdown(result: dict, args, command: str) -> str:
    scale, runs = result["scale"], result["runs"]
    lines = [
        TITLE, "",
        f"Measured {result['when']} (Asia/Shanghai) on {result['machine']}, Python "
        f"{sys.version.split()[0]}; `{command}`. Data: {scale['people']:,} people, "
        f"{scale['events']:,} events ({scale['open events']:,} open), {scale['sensors']:,} "
        f"sensors, {scale['cameras']:,} cameras. Server: {result['server']}. The client (one "
        "asyncio process, raw HTTP/1.1 keep-alive streams) runs on the same 2 cores as "
        "gunicorn and PostgreSQL, beside whatever else the machine runs (load averages per "
        "run). `bench/load.py` rewrites this section.", "",
        "A screen is /wall with its default layers (labels, heatmap, sensors, events), signed "
        f"in as the duty officer (whole district), up to {BROWSER_CONNECTIONS} keep-alive "
        f"connections: the live poll every {result['poll_seconds']:g} s (±10 %, one at a "
        "time); on a change, the callbacks of the layers on that topic and the rail's, at "
        f"once; every {args.pan_every:g} s (±20 %) a pan to a random view (z"
        f"{'/'.join(map(str, ZOOMS))}, 1920×1080): every layer's callback, and for "
        f"{args.camera_screens:.0%} of the screens the camera layer's vector tiles; the "
        f"rail's callback each minute. A writer posts a report every {args.write_every:g} s "
        "(API token) so every screen sees a change and reloads; its events are removed "
        "afterwards. Screens open over "
        f"{STAGGER:g} s; once all have their page's data (at most {args.warm_up:g} s) and "
        f"{SETTLE:g} s more, {args.seconds:g} s are measured (requests started in them).", "",
        "Latency: client-measured round trips over loopback in ms, from taking a connection "
        "to the last byte. Errors: non-2xx answers, timeouts "
        f"({args.timeout:g} s), broken connections, screens still busy 15 s after the window "
        "(those in the warm-up are added after ';'). CPU: % of one core over the window (2 "
        "cores = 200 %), gunicorn's processes, the app's PostgreSQL backends, the client "
        "(writer included), averaged over the window: after a change every screen reloads "
        "within one poll interval, so a burst can queue with CPU to spare on average. RSS: "
        "the peak of gunicorn's processes summed, sampled each second. Lag: how late the "
        "client's 100 ms sleeps woke.", "",
        *verdict(runs), "",
        "| workers | screens | changes | requests/s | idle poll p50 | p95 | layer callback p95 "
        "| errors | gunicorn CPU | PostgreSQL CPU | client CPU | gunicorn RSS MB "
        "| client lag p95 | warm-up s | load |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: "
        "| ---: | ---: | --- |",
    ]
    for r in runs:
        poll = _stats(r["samples"].get("poll", []))
        flag = "**" if poll and poll["p95"] >= TARGET_POLL_P95_MS else ""
        lag = _stats(r["lag"]) or {"p95": 0}
        late = "" if r["opened"] == r["screens"] else f" ({r['opened']} opened)"
        lines.append(
            f"| {r['workers']} | {r['screens']} | {_changes(r)} | "
            f"{_requests(r) / r['seconds']:.0f} | {_p(r, 'poll', 'p50')} | "
            f"{flag}{_p(r, 'poll')}{flag} | {_p(r, 'layer')} | {_error_cell(r)} | "
            f"{100 * r['cpu_app'] / r['seconds']:.0f} % | "
            f"{100 * r['cpu_db'] / r['seconds']:.0f} % | "
            f"{100 * r['cpu_client'] / r['seconds']:.0f} % | "
            f"{r['rss_sum']:,.0f} ({r['app_processes']} processes) | {_ms(lag['p95'])} | "
            f"{r['warm_up']:.0f}{late} | "
            f"{r['load'][0]:.1f} → {r['load'][1]:.1f} |")
    for r in runs:
        lines += ["", f"### {_workers(r['workers'])}, {r['screens']} screens, {_changes(r)}",
                  "", "| request | n | p50 ms | p95 ms | max ms | errors |",
                  "| --- | ---: | ---: | ---: | ---: | --- |"]
        rows = [(label, r["samples"].get(kind, []), r["errors"].get(kind, {}))
                for kind, label in KINDS]
        rows += [("reload after a change (poll to last answer)", r["reloads"]["change"], {}),
                 ("reload after a pan (to the last answer)", r["reloads"]["pan"], {})]
        for label, values, failed in rows:
            s = _stats(values)
            if s is None and not failed:
                continue
            cells = (f"{_ms(s['p50'])} | {_ms(s['p95'])} | {_ms(s['max'])}" if s
                     else "– | – | –")
            errors = ", ".join(f"{n} × {status}" for status, n in failed.items()) or "0"
            lines.append(f"| {label} | {s['n'] if s else 0:,} | {cells} | {errors} |")
    return "\n".join(lines) + "\n"


def verdict(runs: list[dict]) -> list[str]:
    """Whether the goal is met, and where each series (workers, writer or not) saturates:
    the first screen count whose idle poll p95 reaches the target or that has errors."""
    goal = (f"**Goal** (issue 15: {TARGET_SCREENS} screens, idle poll p95 under "
            f"{TARGET_POLL_P95_MS} ms on 2 cores, no errors): ")
    at_goal = [r for r in runs if r["screens"] == TARGET_SCREENS]
    if not at_goal:
        lines = [goal + f"not measured (no run of {TARGET_SCREENS} screens)."]
    else:  # per condition (a writer or none), per worker count
        lines = [goal + "; ".join(
            f"with {changes}: " + ", ".join(
                f"{'met' if not saturated(r) else '**missed**'} with "
                f"{_workers(r['workers'])} (p95 {_p(r, 'poll')} ms, {_errors(r)} errors)"
                for r in at_goal if _changes(r) == changes)
            for changes in dict.fromkeys(_changes(r) for r in at_goal)) + "."]
    lines += ["", "Where it saturates (idle poll p95 at or over "
              f"{TARGET_POLL_P95_MS} ms, or errors):", ""]
    for workers, writer in sorted({(r["workers"], bool(r["writer"])) for r in runs},
                                  key=lambda key: (key[0], not key[1])):
        mine = sorted((r for r in runs if r["workers"] == workers
                       and bool(r["writer"]) == writer), key=lambda r: r["screens"])
        first = next((r for r in mine if saturated(r)), None)
        name = f"{_workers(workers)}, {_changes(mine[0])}"
        if first is None:
            lines.append(f"- {name}: not saturated up to {mine[-1]['screens']} screens.")
        else:
            below = [r["screens"] for r in mine if r["screens"] < first["screens"]]
            lines.append(
                f"- {name}: saturates "
                + (f"between {below[-1]} and {first['screens']}" if below
                   else f"at or below {first['screens']}")
                + f" screens (at {first['screens']}: idle poll p95 {_p(first, 'poll')} ms, "
                f"layer callback p95 {_p(first, 'layer')} ms, {_errors(first)} errors; "
                f"gunicorn and PostgreSQL {_server_cpu(first):.0f} % CPU of the 200 %).")
    return lines


# -- main ------------------------------------------------------------------------------------

def _numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _print_run(r: dict) -> None:
    print(f"{_workers(r['workers'])}, {r['screens']} screens, {_changes(r)}: "
          f"{_requests(r) / r['seconds']:.0f} req/s; idle poll n "
          f"{len(r['samples'].get('poll', []))} p50 {_p(r, 'poll', 'p50')} p95 "
          f"{_p(r, 'poll')} ms; layer n {len(r['samples'].get('layer', []))} p95 "
          f"{_p(r, 'layer')} ms; errors {_error_cell(r)}; CPU app {r['cpu_app']:.1f} db "
          f"{r['cpu_db']:.1f} client {r['cpu_client']:.1f} s; RSS {r['rss_sum']:.0f} MB; "
          f"warm-up {r['warm_up']:.1f} s ({r['opened']} opened); load "
          f"{r['load'][0]:.1f}->{r['load'][1]:.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8052")
    parser.add_argument("--serve", action="store_true",
                        help="start `onemap serve` of its own, once per --workers")
    parser.add_argument("--workers", default="1,4", help="gunicorn workers with --serve")
    parser.add_argument("--screens", default="10,50,100,200", help="screens per run")
    parser.add_argument("--quiet", default="200",
                        help="screens per run without the writer, after those ('' for none)")
    parser.add_argument("--seconds", type=float, default=25, help="measured seconds per run")
    parser.add_argument("--warm-up", type=float, default=25,
                        help="at most this many seconds for every screen's first data")
    parser.add_argument("--pan-every", type=float, default=30, help="seconds between pans")
    parser.add_argument("--write-every", type=float, default=10,
                        help="seconds between the writer's reports (0: no writer)")
    parser.add_argument("--camera-screens", type=float, default=0.25,
                        help="share of the screens that also show cameras (vector tiles)")
    parser.add_argument("--sessions", type=int, default=50,
                        help="sessions signed in (argon2id each, ~0.2-0.5 s here); screens "
                        "beyond share them round-robin")
    parser.add_argument("--timeout", type=float, default=10, help="seconds before a request "
                        "counts as timed out")
    parser.add_argument("--password", default=DEMO_PASSWORDS[USER])
    parser.add_argument("--no-write", action="store_true", help="print, don't touch BENCHMARKS.md")
    args = parser.parse_args()
    screens, quiet = _numbers(args.screens), _numbers(args.quiet)
    plan = [(count, True) for count in screens] + [(count, False) for count in quiet]
    worker_counts = _numbers(args.workers) if args.serve else [0]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # the server inherits it too
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    command = "bench/load.py " + " ".join(sys.argv[1:])
    _layer_call(DASH_LAYERS[0].name, {})  # imports the app for its callback map, before timing

    scale = data_scale(64)
    engine = make_engine(database_url())
    expected = sum(int(args.seconds // args.write_every) + 1 for _ in screens
                   ) * len(worker_counts) if args.write_every > 0 else 0
    district, bodies = reports(engine, max(expected, 1))
    user_id, token = token_user(engine, district)
    keyed = [(f"bench-load-{i}-{os.getpid()}", body) for i, body in enumerate(bodies)]
    result = {"scale": scale, "machine": machine(), "runs": [],
              "poll_seconds": get_settings().live_poll_seconds,
              "when": datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")}
    clients: list = []
    shapes = []
    try:
        for workers in worker_counts:
            env = dict(os.environ, ONEMAP_LOGIN_RATE_LIMIT=LOGIN_RATE)
            if workers:
                env["ONEMAP_WORKERS"] = str(workers)
            with serving(args.base_url.rstrip("/"), args.serve, env, "onemap-bench-load") as base:
                shape = _server_shape(base)  # "4 worker, 8 threads" from its command line
                if shape[0].isdigit():
                    served = int(shape.split()[0])
                    shape = (f"{served} worker{'s' if served > 1 else ''} × "
                             + shape.split(", ")[1])
                shapes.append(shape)
                if not clients or not still_signed_in(base, clients):
                    started = time.perf_counter()
                    clients = sign_in(base, min(args.sessions, max(screens + quiet)),
                                      args.password)
                    print(f"signed in {len(clients)} sessions in "
                          f"{time.perf_counter() - started:.0f} s", flush=True)
                logins = [("; ".join(f"{k}={v}" for k, v in c.cookies.items()), c.agent)
                          for c in clients]
                poster = Poster(base, token)
                for count, writer in plan:
                    r = asyncio.run(one_run(base, logins, count, args, scale["centres"],
                                            poster, keyed, writer))
                    r["workers"] = workers or (int(shape.split()[0]) if shape[0].isdigit() else 0)
                    result["runs"].append(r)
                    _print_run(r)
                    time.sleep(3)  # connections closed, the server idle again
                if workers == worker_counts[-1]:
                    sign_out(base, clients)
    finally:
        removed = clean_up(engine, user_id)
        with engine.begin() as conn:
            sessions.end_tokens(conn, user_id, "bench finished")
        engine.dispose()
        print(f"removed the writer's {removed} events", flush=True)
    result["server"] = ("`onemap serve` (gunicorn, " + " and ".join(dict.fromkeys(shapes))
                        + (", restarted per worker count" if args.serve else "")
                        + "; keep-alive 2 s, gunicorn's default)")
    publish(TITLE, markdown(result, args, command), dry_run=args.no_write)


if __name__ == "__main__":
    main()

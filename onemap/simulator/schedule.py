"""The simulation's schedule and traffic: steps due at a simulated time run on the main
thread, which holds all state; HTTP calls go to a small thread pool (bounded concurrency)
and their answers come back to the main thread. One log line a minute with the counts.

Stopping (SIGTERM, SIGINT, --duration) sends nothing new, lets the calls in flight finish
(a call waiting to retry gives up), signs the workers off duty and saves where the run
stands (runner.py), then returns.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .client import Answer, Api
from .scenario import Clock

log = logging.getLogger("onemap.simulate")

RETRY_NOTE_EVERY = 10.0  # seconds between two "still unreachable" lines


@dataclass
class Call:
    """One HTTP call as `who` (a token), and what to do with its answer (on the main thread)."""

    token: str
    who: str
    method: str
    path: str
    kind: str  # what it counts as: report, transition, position, duty, readings, read
    then: Callable[[Answer], None] | None = None
    body: Any = None
    params: dict | None = None
    headers: dict | None = None
    retry: bool = True


@dataclass
class Stats:
    """Counts and latencies since the last log line, and in all."""

    now: Counter = field(default_factory=Counter)
    total: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)

    def count(self, what: str, n: int = 1) -> None:
        self.now[what] += n
        self.total[what] += n

    @staticmethod
    def _percentile(values: list[float], share: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    def line(self, counts: Counter, latencies: list[float]) -> str:
        timing = (f"p50 {self._percentile(latencies, 0.5):.0f} ms,"
                  f" p95 {self._percentile(latencies, 0.95):.0f} ms" if latencies
                  else "p50 - ms, p95 - ms")
        return (f"reports {counts['report']} (+{counts['known']} known), "
                f"transitions {counts['transition']}, positions {counts['position']}, "
                f"readings {counts['reading']} (alarms {counts['alarm']}), "
                f"errors {counts['error']}, {timing}")

    def minute(self) -> str:
        text = self.line(self.now, self.latencies)
        self.now, self.latencies = Counter(), []
        return text


class Simulation:
    """The schedule and the traffic. Actors (cases.py, patrol.py, sensing.py) call `at` to do
    something at a simulated time and `send` to make a call."""

    def __init__(self, api: Api, clock: Clock, stop: threading.Event, *, concurrency: int,
                 log_every: float) -> None:
        self.api, self.clock, self.stop = api, clock, stop
        self.stats = Stats()
        self._schedule: list[tuple[datetime, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._waiting: deque[Call] = deque()
        self._answers: queue.Queue[tuple[Call, Answer]] = queue.Queue()
        self._pool = ThreadPoolExecutor(max_workers=concurrency,
                                        thread_name_prefix="simulate-http")
        self._concurrency = concurrency
        self._in_flight = 0
        self._log_every = log_every
        self._next_log = time.monotonic() + log_every
        self._retry_lock = threading.Lock()
        self._last_retry_note = 0.0
        self._retrying_since: float | None = None
        self.tickers: list[Callable[[datetime, datetime], None]] = []  # (from, to) each turn

    # -- time ----------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.clock.at(time.monotonic())

    def at(self, when: datetime, step: Callable[[], None]) -> None:
        """Run `step` on the main thread once the simulated clock reaches `when`."""
        heapq.heappush(self._schedule, (when, next(self._order), step))

    # -- traffic -------------------------------------------------------------------------------

    def send(self, call: Call) -> None:
        """Queue a call; nothing new is sent once the run is stopping."""
        if not self.stop.is_set():
            self._waiting.append(call)

    def note_retry(self, method: str, path: str, why: str, wait: float) -> None:
        """From the pool's threads: the server did not answer; say so now and then."""
        with self._retry_lock:
            now = time.monotonic()
            if self._retrying_since is None:
                self._retrying_since = now
            if now - self._last_retry_note >= RETRY_NOTE_EVERY:
                self._last_retry_note = now
                log.warning("server unreachable (%s) at %s %s; retrying in %.0f s", why,
                            method, path, wait)

    def _call(self, call: Call) -> None:
        answer = self.api.call(call.token, call.method, call.path, body=call.body,
                               params=call.params, headers=call.headers, retry=call.retry)
        self._answers.put((call, answer))

    def _pump(self) -> None:
        while self._waiting and self._in_flight < self._concurrency:
            self._in_flight += 1
            self._pool.submit(self._call, self._waiting.popleft())

    def _answered(self, call: Call, answer: Answer) -> None:
        self._in_flight -= 1
        if answer.status is not None:
            self.stats.latencies.append(answer.seconds)
            with self._retry_lock:
                if self._retrying_since is not None:
                    log.info("server answers again after %.0f s",
                             time.monotonic() - self._retrying_since)
                    self._retrying_since = None
        if answer.status is None and self.stop.is_set():
            return  # it gave up waiting to retry because the run is stopping
        if call.then is None:
            if not answer.ok:
                self.error(call, answer)
            return
        try:
            call.then(answer)
        except Exception:  # one bad answer must not end the run
            log.exception("handling the answer to %s %s failed", call.method, call.path)
            self.stats.count("error")

    def error(self, call: Call, answer: Answer) -> None:
        """Count and log a call that failed: its status and body, never its request."""
        self.stats.count("error")
        body = answer.body if not isinstance(answer.body, bytes) else "<binary>"
        log.warning("%s %s as %s: %s %s", call.method, call.path, call.who,
                    answer.status or answer.error, str(body)[:300])

    def _drain(self, wait: float) -> None:
        try:
            self._answered(*self._answers.get(timeout=wait))
        except queue.Empty:
            return
        while True:
            try:
                self._answered(*self._answers.get_nowait())
            except queue.Empty:
                return

    # -- the loop ------------------------------------------------------------------------------

    def run(self, until: float | None) -> None:
        """Turn until stopped or until the real monotonic time `until`."""
        last = self.now
        while not self.stop.is_set():
            if until is not None and time.monotonic() >= until:
                break
            now = self.now
            for ticker in self.tickers:
                ticker(last, now)
            last = now
            while self._schedule and self._schedule[0][0] <= now:
                _when, _n, step = heapq.heappop(self._schedule)
                step()
            self._pump()
            self._drain(self._pause())
            if time.monotonic() >= self._next_log:
                self._minute()

    def _pause(self) -> float:
        """How long to wait for answers before the next turn (at most a tenth of a second)."""
        if not self._schedule:
            return 0.1
        due = self.clock.real_at(self._schedule[0][0]) - time.monotonic()
        return min(0.1, max(0.005, due))

    def _minute(self) -> None:
        self._next_log = time.monotonic() + self._log_every
        log.info("sim %s | %s | waiting %d", f"{self.now:%m-%d %H:%M}", self.stats.minute(),
                 len(self._waiting))

    def finish(self, last_calls: list[Call]) -> None:
        """After the stop: let the calls in flight finish, then make `last_calls` (once
        each, no retry) and wait for them too."""
        self.stop.set()
        self._waiting.clear()
        while self._in_flight:
            self._drain(0.1)
        for call in last_calls:
            call.retry = False
            self._in_flight += 1
            self._pool.submit(self._call, call)
        while self._in_flight:
            self._drain(0.1)
        self._pool.shutdown(wait=True)

    def totals(self) -> str:
        return self.stats.line(self.stats.total, [])

"""A gunicorn worker killed (`kill -9`) with reports in flight, under a token client that
retries a dropped request with the same Idempotency-Key.

First deterministically: the event table is locked (SHARE) so every client's report waits
inside a worker, in its transaction, before its INSERT; the worker holding the most of them is
killed; the lock is released. Then once more at no chosen moment, with reports flowing. The
master starts a new worker each time and the server keeps answering; every report ends in one
case, the one its answer named; a retried key answers 200 with its first case; nothing but
201 and 200 comes back (no 500, no 503); the dropped requests' transactions left nothing.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import urllib.request
from urllib.parse import urlsplit

from sqlalchemy import text

from tests.faults.conftest import (
    DROPPED,
    Poster,
    children,
    connections_of,
    gunicorn_master,
    reports,
    wait_for,
)
from tests.support.serving import serving

CLIENTS = 6


class Client(threading.Thread):
    """Posts its reports in turn; a dropped request is sent again with the same key (a fresh
    connection) until answered. attempts: key -> every outcome (status, or the exception's
    name); final: key -> (status, case id)."""

    def __init__(self, poster: Poster, prefix: str, bodies: list[dict]) -> None:
        super().__init__(name=f"client-{prefix}", daemon=True)
        self.poster, self.prefix, self.bodies = poster, prefix, bodies
        self.attempts: dict[str, list] = {}
        self.final: dict[str, tuple[int, int | None]] = {}
        self.stopped = threading.Event()

    def run(self) -> None:
        for i, body in enumerate(self.bodies):
            if self.stopped.is_set():
                return
            key = f"{self.prefix}-{i:05d}"
            tried = self.attempts.setdefault(key, [])
            while len(tried) < 30:
                try:
                    status, _headers, answer = self.poster.post(key, body)
                except DROPPED as exc:
                    tried.append(type(exc).__name__)
                    time.sleep(0.1)
                    continue
                tried.append(status)
                self.final[key] = (status, answer.get("id"))
                break
            time.sleep(0.01)


def _acked(clients) -> int:
    return sum(len(c.final) for c in clients)


def _new_workers(master: int, gone: set[int]) -> set[int]:
    """Two workers again, none of them one of `gone`."""
    workers = children(master)
    return workers if len(workers) == 2 and not workers & gone else set()


def _waiting_on_locks(site) -> int:
    return site.scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                       " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")


def test_a_worker_killed_mid_request_loses_and_doubles_nothing(site):
    user_id, token = site.token("hotline-kill")
    bodies = reports(site, 6000, seed=16)
    with serving(dict(site.env, ONEMAP_WORKERS="2"), log_prefix="onemap-fault-kill") as base:
        port = urlsplit(base).port
        master = gunicorn_master(base)
        first = wait_for(lambda: _new_workers(master, set()), 60, "two workers")
        poster = Poster(base, token)
        clients = [Client(poster, f"kill-{n}", bodies[n::CLIENTS]) for n in range(CLIENTS)]
        for client in clients:
            client.start()
        try:
            wait_for(lambda: all(len(c.final) >= 5 for c in clients), 90,
                     "every client answered")

            # 1. every client's report waits in a worker, inside its transaction
            with site.owner.connect() as lock:
                held = lock.begin()
                lock.execute(text("LOCK TABLE onemap.event IN SHARE MODE"))
                try:
                    wait_for(lambda: _waiting_on_locks(site) >= CLIENTS, 60,
                             f"{CLIENTS} reports waiting on the lock")
                    in_flight = {pid: connections_of(pid, port) for pid in first}
                    victim = max(in_flight, key=in_flight.get)
                    assert in_flight[victim] >= 1, in_flight
                    os.kill(victim, signal.SIGKILL)
                    wait_for(lambda: _new_workers(master, {victim}), 60,
                             "a new worker in the killed one's place")
                    # the killed worker's clients have seen their connections drop
                    wait_for(lambda: sum(1 for c in clients for tried in c.attempts.values()
                                         for a in tried if isinstance(a, str))
                             >= in_flight[victim], 30, "the dropped requests")
                finally:
                    held.rollback()
            acked = _acked(clients)
            wait_for(lambda: _acked(clients) >= acked + 30, 90, "reports after the first kill")

            # 2. the other first worker, at no chosen moment, with reports flowing
            survivor = next(iter(first - {victim}))
            os.kill(survivor, signal.SIGKILL)
            wait_for(lambda: _new_workers(master, first), 60, "a new worker again")
            acked = _acked(clients)
            wait_for(lambda: _acked(clients) >= acked + 30, 90, "reports after the second kill")
        finally:
            for client in clients:
                client.stopped.set()
            for client in clients:
                client.join(timeout=120)
        assert not any(c.is_alive() for c in clients)

        # the server keeps answering, with the same master and two new workers
        with urllib.request.urlopen(base + "/healthz", timeout=10) as health:
            assert health.status == 200
        workers = children(master)
        assert len(workers) == 2 and not workers & first, (first, workers)

        final = {key: answer for c in clients for key, answer in c.final.items()}
        attempts = {key: tried for c in clients for key, tried in c.attempts.items()}
        statuses = {a for tried in attempts.values() for a in tried if isinstance(a, int)}
        assert statuses <= {200, 201}, statuses  # no 500, no 503
        dropped = {key for key, tried in attempts.items() if any(isinstance(a, str)
                                                                  for a in tried)}
        assert len(dropped) >= in_flight[victim], (len(dropped), in_flight)
        assert set(final) == set(attempts), "a report never answered"

        # a retry of any key answers 200 with its first case
        replayed = {}
        for key in sorted(final):
            client = clients[int(key.split("-")[1])]
            status, _headers, answer = poster.post(key, client.bodies[int(key.rsplit("-", 1)[1])])
            replayed[key] = (status, answer.get("id"))
        assert {key: answer for key, answer in replayed.items()
                if answer != (200, final[key][1])} == {}

    cases = site.cases(user_id)
    assert set(cases) == set(final)
    assert {key: ids for key, ids in cases.items() if ids != [final[key][1]]} == {}
    assert set(site.trail(user_id).values()) == {(1, 1)}
    # the killed worker's transactions ended with it: none left open or waiting
    assert wait_for(lambda: _waiting_on_locks(site) == 0 or None, 30, "no waiting backends")
    found_after_drop = sum(1 for key in dropped if final[key][0] == 200)
    print(f"kill: {len(final)} reports, {len(dropped)} dropped and retried "
          f"({found_after_drop} of them already registered: answered 200), "
          f"{in_flight[victim]} in flight in the worker killed first")

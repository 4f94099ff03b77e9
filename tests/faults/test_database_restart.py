"""PostgreSQL stopped and started (`onemap db stop`, `onemap db start`) while a hotline's token
client posts reports, each with its own Idempotency-Key.

Every report answered 201 is in the database once, with its history and audit rows; every one
that was not got a 503 with Retry-After (never a 500, never a dropped connection), and its
retry with the same key after the restart registered it (or found it registered), once.
"""

from __future__ import annotations

import threading
import time

from tests.faults.conftest import DROPPED, Poster, reports, wait_for
from tests.support.serving import serving


class Reporter(threading.Thread):
    """Posts its reports one after another, each under a key of its own, until stopped;
    keeps each first answer: key -> (status or the exception's name, headers, body)."""

    def __init__(self, poster: Poster, prefix: str, bodies: list[dict]) -> None:
        super().__init__(name=f"reporter-{prefix}", daemon=True)
        self.poster, self.prefix, self.bodies = poster, prefix, bodies
        self.answers: dict[str, tuple] = {}
        self.stopped = threading.Event()

    def key(self, i: int) -> str:
        return f"{self.prefix}-{i:05d}"

    def run(self) -> None:
        for i, body in enumerate(self.bodies):
            if self.stopped.is_set():
                return
            try:
                self.answers[self.key(i)] = self.poster.post(self.key(i), body)
            except DROPPED as exc:
                self.answers[self.key(i)] = (type(exc).__name__, {}, {})
            time.sleep(0.01)  # a steady stream, not a flood: two cores are shared

    def body(self, key: str) -> dict:
        return self.bodies[int(key.rsplit("-", 1)[1])]


def _count(reporters, status, since: int = 0) -> int:
    return sum(1 for r in reporters for key, answer in list(r.answers.items())[since:]
               if answer[0] == status)


def test_reports_during_a_database_restart_are_kept_once_or_refused_with_503(site):
    user_id, token = site.token("hotline-restart")
    bodies = reports(site, 4000, seed=15)
    with serving(dict(site.env, ONEMAP_WORKERS="2"), log_prefix="onemap-fault-restart") as base:
        poster = Poster(base, token)
        reporters = [Reporter(poster, f"restart-{n}", bodies[n::2]) for n in range(2)]
        for reporter in reporters:
            reporter.start()
        try:
            wait_for(lambda: _count(reporters, 201) >= 20, 60, "20 reports before the stop")
            site.db("stop")
            try:
                wait_for(lambda: _count(reporters, 503) >= 10, 60, "503s while it is stopped")
            finally:
                site.db("start")
            after = _count(reporters, 201)
            wait_for(lambda: _count(reporters, 201) >= after + 20, 60,
                     "20 reports after the start")
        finally:
            for reporter in reporters:
                reporter.stopped.set()
            for reporter in reporters:
                reporter.join(timeout=90)
        assert not any(r.is_alive() for r in reporters)

        answers = {key: (r, answer) for r in reporters for key, answer in r.answers.items()}
        statuses = {}
        for _reporter, (status, _headers, _body) in answers.values():
            statuses[status] = statuses.get(status, 0) + 1
        # nothing but registered or "database unavailable": no 500, no dropped connection
        assert set(statuses) <= {201, 503}, statuses
        assert statuses[503] >= 10 and statuses[201] >= 40, statuses
        refused = [key for key, (_r, answer) in answers.items() if answer[0] == 503]
        for key in refused:
            _status, headers, body = answers[key][1]
            assert int(headers["Retry-After"]) > 0, headers
            assert body == {"error": "database unavailable / 数据库暂不可用"}, body

        # the client retries what was refused, with the same keys
        retried, found = {}, 0
        for key in refused:
            status, _headers, body = poster.post(key, answers[key][0].body(key))
            assert status in (200, 201), (key, status, body)
            retried[key], found = body["id"], found + (status == 200)

    cases = site.cases(user_id)
    assert set(cases) == set(answers), "a case for a key never sent, or a key without one"
    doubled = {key: ids for key, ids in cases.items() if len(ids) != 1}
    assert not doubled, doubled
    for key, (_r, (status, _headers, body)) in answers.items():
        if status == 201:
            assert cases[key] == [body["id"]], key  # what was acknowledged is what is kept
    for key, case in retried.items():
        assert cases[key] == [case], key
    # each case whole: its first history row and its audit row committed with it
    trail = site.trail(user_id)
    assert len(trail) == len(answers)
    assert {rows for rows in trail.values()} == {(1, 1)}, trail
    print(f"restart: {statuses} first answers; {len(refused)} refused and retried "
          f"({len(retried) - found} registered on retry, {found} found registered)")

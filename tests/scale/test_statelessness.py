"""Statelessness, proven (issue 15, point 3): OneMap served with four gunicorn workers behaves
as it does with one. Each test runs against both (the `site` fixture, tests/scale/conftest.py),
and each check that must hold on every worker asks, on new connections, until every worker has
answered (which one did is read from the access log: the workers' pids).

- a session cookie from one sign-in works on every worker, and a sign-in form fetched from one
  worker is taken by another (the cookie-signing key is the same in every worker);
- after sign-out, sign-out everywhere, an administrator's `onemap user signout` or
  `onemap user disable`, the cookie is refused by every worker, each of which had accepted it
  just before (and no worker lets the disabled user sign in);
- the sign-in and person look-up limits count across workers: the attempt after the limit is
  refused by every worker, though none of them saw all the attempts before it (with four);
- a change made through one worker moves the live clock that every worker answers polls from.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter

import pytest
from tests.conftest import onemap_command
from tests.fixtures.hierarchy import grid_box, insert_hierarchy, remove_events_and_hierarchy
from tests.scale.conftest import LOGIN_LIMIT, LOOKUP_LIMIT, Site, WorkerClient
from tests.support.clients import CSRF, PROBE
from tests.support.users import FRESH_USER_PASSWORD

MISSING_PERSON = 2_000_000_000  # no such person: each look-up is a 404 until the limit


def _signed_in(site: Site, username: str, password: str | None = None,
               agent: str | None = None) -> WorkerClient:
    client = site.client(agent)
    assert client.sign_in(username, password)[0] == 302
    return client


def _statuses(answers: dict[int, list]) -> set[int]:
    return {reply.status for replies in answers.values() for reply in replies}


def _replay(site: Site, original: WorkerClient) -> WorkerClient:
    """A copy of a client's cookies in another client (same browser, another address)."""
    copy = site.client(original.agent)
    copy.cookies = dict(original.cookies)
    return copy


def test_a_session_cookie_from_one_sign_in_works_on_every_worker(site):
    # the form (its token in the signed Flask cookie) fetched from one worker and posted to
    # another: with four workers, sign in until the two were different workers
    for _ in range(10):
        client = _signed_in(site, "duty")
        form_from, signed_in_by = client.answered_by[-2:]
        if site.workers == 1 or form_from != signed_in_by:
            break
    assert site.workers == 1 or form_from != signed_in_by, client.answered_by
    answers = site.every_worker(lambda: client.get(PROBE))
    assert _statuses(answers) == {200}
    assert json.loads(answers[signed_in_by][0].body)  # the layers, from the signing-in worker


def _user_command(cli_env, *args: str) -> None:
    done = subprocess.run([onemap_command(), "user", *args], env=cli_env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("how", ["sign-out", "sign-out everywhere", "admin sign-out",
                                 "disable"])
def test_an_ended_session_s_cookie_is_refused_by_every_worker(site, cli_env, fresh_user, how):
    client = _signed_in(site, fresh_user, FRESH_USER_PASSWORD)
    stolen = _replay(site, client)
    # every worker takes the cookie first: a worker that kept what it had checked would
    # keep taking it
    assert _statuses(site.every_worker(lambda: stolen.get(PROBE))) == {200}
    if how == "sign-out":
        status = client.request("POST", "/logout", {}, client.same_origin())[0]
    elif how == "sign-out everywhere":
        other = _signed_in(site, fresh_user, FRESH_USER_PASSWORD)
        status = other.request("POST", "/logout", {"everywhere": "1"}, other.same_origin())[0]
    else:  # an administrator's `onemap user signout` or `onemap user disable`
        _user_command(cli_env, "signout" if how == "admin sign-out" else "disable", fresh_user)
        status = 302
    assert status == 302
    assert _statuses(site.every_worker(lambda: stolen.get(PROBE))) == {401}
    if how == "disable":
        # no worker lets a disabled user sign in, and enabling does not revive the old cookie
        def sign_in_attempt():
            stranger = site.client()
            stranger.sign_in(fresh_user, FRESH_USER_PASSWORD)
            return stranger.last  # the POST's answer, from the worker that refused it

        assert _statuses(site.every_worker(sign_in_attempt)) == {401}
        _user_command(cli_env, "enable", fresh_user)
        assert stolen.get(PROBE).status == 401
    assert _signed_in(site, fresh_user, FRESH_USER_PASSWORD).get(PROBE).status == 200


def test_the_sign_in_limit_counts_across_workers(site):
    attacker = site.client()
    token = CSRF.search(attacker.get("/login").text).group(1)

    def attempt():
        return attacker.send("POST", "/login", f"csrf_token={token}&username=duty"
                             "&password=wrong-password-1",
                             {"Content-Type": "application/x-www-form-urlencoded",
                              **attacker.same_origin()})

    allowed = [attempt() for _ in range(LOGIN_LIMIT)]
    assert [r.status for r in allowed] == [401] * LOGIN_LIMIT
    # every worker refuses the next attempt, though (with four workers) each saw fewer than
    # the limit: a count kept per worker would let it through
    per_worker = Counter(r.pid for r in allowed)
    assert site.workers == 1 or max(per_worker.values()) < LOGIN_LIMIT, per_worker
    assert _statuses(site.every_worker(attempt)) == {429}
    # the limit is the address's: the duty officer signs in from another one
    assert _signed_in(site, "duty").get(PROBE).status == 200


def test_the_look_up_limit_counts_across_workers(site, fresh_user):
    officer = _signed_in(site, fresh_user, FRESH_USER_PASSWORD)

    def look_up():
        return officer.get(f"/api/persons/{MISSING_PERSON}")

    allowed = [look_up() for _ in range(LOOKUP_LIMIT)]
    assert [r.status for r in allowed] == [404] * LOOKUP_LIMIT
    per_worker = Counter(r.pid for r in allowed)
    assert site.workers == 1 or max(per_worker.values()) < LOOKUP_LIMIT, per_worker
    assert _statuses(site.every_worker(look_up)) == {429}
    assert officer.get(PROBE).status == 200  # refused look-ups, not a refused session


@pytest.fixture(scope="module")
def grids(engine, demo_users):
    """The fixture hierarchy; events reported into it are removed afterwards."""
    with engine.begin() as conn:
        codes = insert_hierarchy(conn)
        boxes = {g: grid_box(conn, g) for g in codes["grid"]}
    yield codes, boxes
    with engine.begin() as conn:
        remove_events_and_hierarchy(conn)


def test_a_change_through_one_worker_reaches_polls_on_every_worker(site, grids):
    codes, boxes = grids
    wall = _signed_in(site, "duty")
    first = wall.get("/api/live")
    assert first.status == 200
    before = first.json()["token"]
    # every worker has the clock as it is: nothing new since the token
    assert _statuses(site.every_worker(lambda: wall.get(f"/api/live?since={before}"))) == {204}

    reporter = _signed_in(site, "gridworker")
    x0, y0, x1, y1 = boxes[codes["grid"][0]]
    made = reporter.post_json("/api/events", {
        "title": "井盖缺失", "category_code": "E0102", "lon": (x0 + x1) / 2,
        "lat": (y0 + y1) / 2, "external_ref": f"SCALE-{site.workers}"})
    assert made.status == 201, made.text

    answers = site.every_worker(lambda: wall.get(f"/api/live?since={before}"))
    assert _statuses(answers) == {200}
    seen = {(reply.json()["token"], tuple(reply.json()["changed"]))
            for replies in answers.values() for reply in replies}
    assert len(seen) == 1, seen  # every worker the same new clock
    after, changed = seen.pop()
    assert after != before and changed == ("event",)
    assert _statuses(site.every_worker(lambda: wall.get(f"/api/live?since={after}"))) == {204}
    assert made.pid in answers  # (the worker that took the report polled too)


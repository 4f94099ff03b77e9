"""Session limits that need a served OneMap: the app reads the idle and absolute session
lengths once, when it starts (onemap/web/auth.py, init_auth), so each test starts `onemap
serve` with its own; and a sign-in limit that holds across two gunicorn workers needs two
worker processes. Everything else about sessions is tested in-process (tests/api/)."""

from __future__ import annotations

import time


from tests.support.clients import Client, probe, signed_in_browser
from tests.support.users import FRESH_USER_PASSWORD
from tests.support.serving import serving


def _fresh(base: str, username: str, **agent) -> Client:
    """The test's own user, signed in from a browser of its own."""
    return signed_in_browser(base, username, FRESH_USER_PASSWORD, **agent)


def test_polling_does_not_keep_a_session_past_its_absolute_lifetime(cli_env, db_url,
                                                                    fresh_user):
    env = dict(cli_env, ONEMAP_SESSION_MAX_HOURS=str(4 / 3600),  # 4 seconds
               ONEMAP_LOGIN_RATE_LIMIT="1000 per minute")
    with serving(env) as base:
        client = _fresh(base, fresh_user)
        started = time.monotonic()
        statuses = []
        while time.monotonic() - started < 7:  # the wall's poll, every half second
            statuses.append(probe(client, "/api/live?since="))
            time.sleep(0.5)
        assert statuses[0] in (200, 204)
        assert statuses[-1] == 401
        assert probe(client) == 401


def test_sign_in_attempts_are_limited_across_two_workers(cli_env, fresh_user):
    env = dict(cli_env, ONEMAP_LOGIN_RATE_LIMIT="5 per minute", ONEMAP_WORKERS="2")
    with serving(env) as base:
        statuses = []
        for _ in range(12):
            client = Client(base)  # a fresh connection each time: both workers answer
            statuses.append(client.sign_in(fresh_user, "wrong-password-1")[0])
    assert statuses.count(401) == 5, statuses
    assert statuses.count(429) == 7, statuses


def test_an_idle_session_expires(cli_env, demo_users):
    with serving(dict(cli_env, ONEMAP_SESSION_HOURS="0.0005")) as base:  # 1.8 s
        client = Client(base)
        assert client.sign_in("duty")[0] == 302
        assert client.request("GET", "/_dash-layout")[0] == 200
        time.sleep(3)
        assert client.request("GET", "/_dash-layout")[0] == 401

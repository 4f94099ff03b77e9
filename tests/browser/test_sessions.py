"""Sessions end when they should, in every worker: the outside test's replayed cookies.

Each test uses a user of its own (the shared test users must keep working for other tests)
and replays a copy of the cookie that was valid a moment before."""

from __future__ import annotations

import secrets
import subprocess
import time

import pytest
from sqlalchemy import text

from geodata import users
from onemap.access.passwords import hash_password
from tests.browser.conftest import Client, serving
from tests.conftest import onemap_command
from tests.fixtures.hierarchy import DISTRICT, insert_hierarchy

PASSWORD = "session-test-2026"
PROBE = "/api/layers"  # any signed-in endpoint; 200 signed in, 401 not


@pytest.fixture
def fresh_user(engine, demo_users):
    """A duty officer of the district, made for one test."""
    username = f"s-{secrets.token_hex(4)}"
    with engine.begin() as conn:
        # a scope must exist when it is given: lend the hierarchy if no test has it loaded
        lent = conn.execute(text("SELECT count(*) FROM district")).scalar() == 0
        if lent:
            insert_hierarchy(conn)
            conn.execute(text("SET CONSTRAINTS ALL DEFERRED"))
        users.add(conn, username=username, display_name=username, role="duty_officer",
                  scope_code=DISTRICT, password_hash=hash_password(PASSWORD))
        if lent:
            for table in ("grid", "community", "street", "district"):
                conn.execute(text(f"DELETE FROM {table}"))
    return username


def _signed_in(base: str, username: str, agent: str = "test-browser/1") -> Client:
    client = Client(base, agent)
    assert client.sign_in(username, PASSWORD)[0] == 302
    assert _status(client) == 200
    return client


def _status(client: Client, path: str = PROBE) -> int:
    return client.request("GET", path)[0]


def _replay(base: str, original: Client, agent: str | None = None) -> Client:
    copy = Client(base, original.agent if agent is None else agent)
    copy.cookies = dict(original.cookies)
    return copy


def _cli(cli_env, *args: str) -> None:
    done = subprocess.run([onemap_command(), "user", *args], env=cli_env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_cookie_copied_before_sign_out_is_refused_after_it(live_server, fresh_user):
    client = _signed_in(live_server, fresh_user)
    stolen = _replay(live_server, client)
    status, _h, _b, _c = client.request("POST", "/logout", {}, client.same_origin())
    assert status == 302
    assert _status(stolen) == 401
    assert _status(client) == 401


def test_disable_then_enable_does_not_revive_old_cookies(live_server, cli_env, fresh_user):
    client = _signed_in(live_server, fresh_user)
    stolen = _replay(live_server, client)
    _cli(cli_env, "disable", fresh_user)
    assert _status(stolen) == 401
    _cli(cli_env, "enable", fresh_user)
    assert _status(stolen) == 401
    assert _status(client) == 401
    assert _signed_in(live_server, fresh_user)  # a new sign-in works again


@pytest.mark.parametrize("change", [
    ("passwd", "--password", "another-pass-2026"),
    ("set", "--role", "analyst"),
    ("signout",),
])
def test_a_password_role_change_or_admin_sign_out_ends_existing_sessions(
        live_server, cli_env, fresh_user, change):
    first, second = _signed_in(live_server, fresh_user), _signed_in(live_server, fresh_user)
    _cli(cli_env, change[0], fresh_user, *change[1:])
    assert _status(first) == 401
    assert _status(second) == 401


def test_sign_out_everywhere_ends_the_users_other_sessions(live_server, fresh_user):
    desk, wall = _signed_in(live_server, fresh_user), _signed_in(live_server, fresh_user)
    status = desk.request("POST", "/logout", {"everywhere": "1"}, desk.same_origin())[0]
    assert status == 302
    assert _status(wall) == 401


def test_a_cookie_from_another_browser_is_refused(live_server, fresh_user):
    client = _signed_in(live_server, fresh_user, agent="Mozilla/5.0 (the officer's screen)")
    assert _status(_replay(live_server, client, agent="curl/8.0")) == 401
    assert _status(client) == 200  # the refusal does not end the real session


def test_polling_does_not_keep_a_session_past_its_absolute_lifetime(cli_env, db_url,
                                                                    fresh_user):
    env = dict(cli_env, ONEMAP_SESSION_MAX_HOURS=str(4 / 3600),  # 4 seconds
               ONEMAP_LOGIN_RATE_LIMIT="1000 per minute")
    with serving(env) as base:
        client = _signed_in(base, fresh_user)
        started = time.monotonic()
        statuses = []
        while time.monotonic() - started < 7:  # the wall's poll, every half second
            statuses.append(_status(client, "/api/live?since="))
            time.sleep(0.5)
        assert statuses[0] in (200, 204)
        assert statuses[-1] == 401
        assert _status(client) == 401


def test_sign_in_attempts_are_limited_across_two_workers(cli_env, fresh_user):
    env = dict(cli_env, ONEMAP_LOGIN_RATE_LIMIT="5 per minute", ONEMAP_WORKERS="2")
    with serving(env) as base:
        statuses = []
        for _ in range(12):
            client = Client(base)  # a fresh connection each time: both workers answer
            statuses.append(client.sign_in(fresh_user, "wrong-password-1")[0])
    assert statuses.count(401) == 5, statuses
    assert statuses.count(429) == 7, statuses

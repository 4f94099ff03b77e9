"""Sessions end when they should: the outside test's replayed cookies, in-process.

Each test uses a user of its own (the shared test users must keep working for other tests)
and replays a copy of the cookie that was valid a moment before."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import onemap_command
from tests.support.clients import Client, probe, signed_in_browser
from tests.support.users import FRESH_USER_PASSWORD


def _fresh(base: str, username: str, **agent) -> Client:
    """The test's own user, signed in from a browser of its own."""
    return signed_in_browser(base, username, FRESH_USER_PASSWORD, **agent)


def _replay(base: str, original: Client, agent: str | None = None) -> Client:
    copy = Client(base, original.agent if agent is None else agent)
    copy.cookies = dict(original.cookies)
    return copy


def _cli(cli_env, *args: str) -> None:
    done = subprocess.run([onemap_command(), "user", *args], env=cli_env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app_server, fresh_user):
    client = _fresh(app_server, fresh_user)
    stolen = _replay(app_server, client)
    status, _h, _b, _c = client.request("POST", "/logout", {}, client.same_origin())
    assert status == 302
    assert probe(stolen) == 401
    assert probe(client) == 401


def test_disable_then_enable_does_not_revive_old_cookies(app_server, cli_env, fresh_user):
    client = _fresh(app_server, fresh_user)
    stolen = _replay(app_server, client)
    _cli(cli_env, "disable", fresh_user)
    assert probe(stolen) == 401
    _cli(cli_env, "enable", fresh_user)
    assert probe(stolen) == 401
    assert probe(client) == 401
    assert _fresh(app_server, fresh_user)  # a new sign-in works again


@pytest.mark.parametrize("change", [
    ("passwd", "--password", "another-pass-2026"),
    ("set", "--role", "analyst"),
    ("signout",),
])
def test_a_password_role_change_or_admin_sign_out_ends_existing_sessions(
        app_server, cli_env, fresh_user, change):
    first, second = _fresh(app_server, fresh_user), _fresh(app_server, fresh_user)
    _cli(cli_env, change[0], fresh_user, *change[1:])
    assert probe(first) == 401
    assert probe(second) == 401


def test_sign_out_everywhere_ends_the_users_other_sessions(app_server, fresh_user):
    desk, wall = _fresh(app_server, fresh_user), _fresh(app_server, fresh_user)
    status = desk.request("POST", "/logout", {"everywhere": "1"}, desk.same_origin())[0]
    assert status == 302
    assert probe(wall) == 401


def test_a_cookie_from_another_browser_is_refused(app_server, fresh_user):
    client = _fresh(app_server, fresh_user, agent="Mozilla/5.0 (the officer's screen)")
    assert probe(_replay(app_server, client, agent="curl/8.0")) == 401
    assert probe(client) == 200  # the refusal does not end the real session

"""Signing in from a real browser: every role reaches the overview, and a bookmarked view
survives a session that ended. (The HTTP side of sign-in is tested in-process:
tests/api/test_auth.py.)"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import TEST_USERS, sign_in


@pytest.mark.parametrize("username", list(TEST_USERS))
def test_every_role_reaches_the_overview(live_server, page, username):
    sign_in(page, live_server, username)
    page.wait_for_selector(".user-bar")
    assert TEST_USERS[username][0] in {"duty_officer", "leader", "analyst", "grid_worker", "admin"}
    assert page.console_errors == []


def test_signing_in_again_returns_to_the_bookmarked_view(live_server, page):
    """A wall display whose session ended comes back to its saved layers and view."""
    view = "/wall?layers=district,street,events&z=15&lat=41.8&lng=123.45&colour=use&window=7d"
    page.goto(live_server + view)
    page.wait_for_url(re.compile(r".*/login\?next=.*"))
    page.fill("input[name=username]", "duty")
    page.fill("input[name=password]", TEST_USERS["duty"][1])
    page.click("button[type=submit]")
    page.wait_for_url(live_server + view)
    assert page.url == live_server + view

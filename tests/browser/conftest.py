"""A running OneMap (`onemap serve`) on the session database, and headless Chromium to drive it.

The machinery (serving, clients, users, log checks) is tests/support's, shared with tests/api
and bench/; the fixtures are here."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, sign_in_tab
from tests.support.clients import Client, demo_client  # noqa: F401  (the tests import them here)
from tests.support.dash_calls import audit_table_call  # noqa: F401
from tests.support.logs import assert_clean_log  # noqa: F401
from tests.support.serving import serving
from tests.support.users import DEMO_PASSWORDS, TEST_USERS

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture(scope="session")
def live_server(cli_env, db_url, demo_users):
    """Base URL of the session's running OneMap (on the session database).

    Every test signs in from 127.0.0.1, so the sign-in rate limit is raised here; the limit
    itself is tested in-process (tests/api/test_auth.py)."""
    with serving(dict(cli_env, ONEMAP_LOGIN_RATE_LIMIT="1000 per minute")) as base:
        yield base


def sign_in(tab, base: str, username: str, password: str | None = None) -> None:
    """Sign in through the login form, as a person would (a test user unless told otherwise)."""
    sign_in_tab(tab, base, username, password or TEST_USERS[username][1])


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium under Playwright (test tools cannot download browsers here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh 1920×1080 page that records console errors and uncaught exceptions."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    tab = context.new_page()
    tab.console_errors = []
    tab.on("console", lambda m: m.type == "error" and tab.console_errors.append(m.text))
    tab.on("pageerror", lambda e: tab.console_errors.append(str(e)))
    yield tab
    context.close()


def screenshot(tab, name: str) -> Path:
    """Save a full-page PNG under var/screenshots/ and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    tab.screenshot(path=str(path))
    return path


_COUNT_PAINTED = """
(selector) => {
  let painted = 0;
  for (const canvas of document.querySelectorAll(selector)) {
    if (!canvas.width || !canvas.height) continue;
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
  }
  return painted;
}
"""


def painted_pixels(tab, canvas_selector: str) -> int:
    """How many pixels the canvases matching the selector have drawn (0: nothing on them)."""
    return tab.evaluate(_COUNT_PAINTED, canvas_selector)


@pytest.fixture(scope="session")
def demo_server(demo_district):
    """Base URL of a OneMap serving the demo district."""
    _url, env = demo_district
    with serving(env) as base:
        yield base


def sign_in_demo(tab, base: str, username: str) -> None:
    """Sign a browser tab in as one of the demo users."""
    sign_in(tab, base, username, DEMO_PASSWORDS[username])

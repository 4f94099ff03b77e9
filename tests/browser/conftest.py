"""A running OneMap (`onemap serve`) on the session database, and headless Chromium to drive it."""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from tests.conftest import onemap_command

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(env: dict):
    """`onemap serve` started as users start it, on a free port; yields its base URL."""
    port = _free_port()
    log = open(Path("/tmp") / f"onemap-test-serve-{port}.log", "w")
    process = subprocess.Popen(
        [onemap_command(), "serve", "--port", str(port)], env=env, stdout=log, stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"onemap serve did not come up; see {log.name}")
        time.sleep(0.3)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    assert_clean_log(Path(log.name))


# what a server's log must never hold, whatever a test sent it: SQLAlchemy's bound values,
# a mainland mobile number or a citizen ID (personal data), an unhandled exception
_LOG_LEAKS = re.compile(r"\[parameters:|(?<![0-9])1[3-9][0-9]{9}(?![0-9])"
                        r"|(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])|Traceback \(most recent call")


def assert_clean_log(path: Path) -> None:
    """Fail when the server's log holds personal data, bound parameters or a traceback."""
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        found = _LOG_LEAKS.search(line)
        assert found is None, f"{path}:{number}: the log holds {found.group(0)[:4]!r}…"


@pytest.fixture(scope="session")
def live_server(cli_env, db_url, demo_users):
    """Base URL of the session's running OneMap (on the session database).

    Every test signs in from 127.0.0.1, so the sign-in rate limit is raised here; the limit
    itself is tested on a server of its own (test_auth.py)."""
    with serving(dict(cli_env, ONEMAP_LOGIN_RATE_LIMIT="1000 per minute")) as base:
        yield base


# username -> (role, password); scopes are set when the hierarchy exists (see demo_users)
TEST_USERS = {
    "duty": ("duty_officer", "duty-test-2026"),
    "leader": ("leader", "leader-test-2026"),
    "analyst": ("analyst", "analyst-test-2026"),
    "gridworker": ("grid_worker", "grid-test-2026"),
    "admin": ("admin", "admin-test-2026"),
}


@pytest.fixture(scope="session")
def demo_users(engine):
    """One user per role: the fixture district (210103) for all but the grid worker, who gets
    its first grid. The hierarchy is there only while the users are added (a scope must exist
    when it is given); tests load what they need. Users stay: audit rows point at them."""
    from sqlalchemy import text

    from geodata import users
    from onemap.access.passwords import hash_password
    from tests.fixtures.hierarchy import insert_hierarchy

    with engine.connect() as conn:
        transaction = conn.begin()
        codes = insert_hierarchy(conn)
        conn.execute(text("SET CONSTRAINTS ALL DEFERRED"))
        for username, (role, password) in TEST_USERS.items():
            if not users.credentials(conn, username):
                scope = codes["grid"][0] if role == "grid_worker" else codes["street"][0][:6]
                users.add(conn, username=username, display_name=f"测试 {username}", role=role,
                          scope_code=scope, password_hash=hash_password(password))
        for table in ("grid", "community", "street", "district"):
            conn.execute(text(f"DELETE FROM {table}"))
        transaction.commit()
    return TEST_USERS


def sign_in(tab, base: str, username: str, password: str | None = None) -> None:
    """Sign in through the login form, as a person would (a test user unless told otherwise)."""
    tab.goto(base + "/login")
    tab.fill("input[name=username]", username)
    tab.fill("input[name=password]", password or TEST_USERS[username][1])
    tab.click("button[type=submit]")
    tab.wait_for_url(base + "/")


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


class Client:
    """A tiny HTTP client that keeps cookies (even Secure ones: it is only ever on loopback)."""

    def __init__(self, base: str, agent: str | None = None) -> None:
        self.base = base
        self.netloc = urlsplit(base).netloc
        self.cookies: dict[str, str] = {}
        self.agent = agent  # the User-Agent it sends (sessions are bound to the browser)

    def request(self, method: str, path: str, body: dict | None = None,
                headers: dict | None = None, json_body=None) -> tuple[int, dict, str, list[str]]:
        conn = http.client.HTTPConnection(self.netloc, timeout=30)
        all_headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if self.agent:
            all_headers["User-Agent"] = self.agent
        data = None
        if body is not None:
            data = urlencode(body)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        if json_body is not None:
            data = json.dumps(json_body)
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        conn.request(method, path, body=data, headers=all_headers)
        response = conn.getresponse()
        set_cookies = response.headers.get_all("Set-Cookie") or []
        for cookie in set_cookies:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        payload = response.read().decode("utf-8", "replace")
        conn.close()
        return response.status, dict(response.headers), payload, set_cookies

    def same_origin(self) -> dict:
        return {"Origin": self.base}

    def sign_in(self, username: str, password: str | None = None) -> tuple[int, dict, str]:
        _status, _h, page, _c = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        status, headers, body, _ = self.request(
            "POST", "/login", {"csrf_token": token, "username": username, "next": "/",
                               "password": password or TEST_USERS[username][1]},
            self.same_origin())
        return status, headers, body


def audit_table_call(username=None, since=None, until=None, changed: str | None = None) -> dict:
    """The audit page's table callback (callbacks/audit.py) as Dash's renderer posts it."""
    return {
        "output": "..audit-table.children...audit-count.children..",
        "outputs": [{"id": "audit-table", "property": "children"},
                    {"id": "audit-count", "property": "children"}],
        "inputs": [{"id": "audit-username", "property": "value", "value": username},
                   {"id": "audit-action", "property": "value", "value": None},
                   {"id": "audit-since", "property": "value", "value": since},
                   {"id": "audit-until", "property": "value", "value": until}],
        "changedPropIds": [f"{changed}.value"] if changed else [], "state": [],
    }


# the demo users `onemap demo` creates (etl/demo/users.py); their passwords are in the README
DEMO_PASSWORDS = {"duty": "duty-demo-2017", "leader": "leader-demo-2017",
                  "analyst": "analyst-demo-2017", "gridworker": "grid-demo-2017",
                  "admin": "admin-demo-2017"}


@pytest.fixture(scope="session")
def demo_district(pg_cluster, cli_env):
    """A database of its own holding the demo district (3,000 buildings, 100 k people, 30 k
    events), built by the real `onemap demo`; yields (owner URL, environment for commands)."""
    import psycopg

    admin = pg_cluster.libpq_url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS wall_demo WITH (FORCE)")
        conn.execute("CREATE DATABASE wall_demo")
    url = pg_cluster.libpq_url("wall_demo")
    env = dict(cli_env, ONEMAP_DATABASE_URL=url, ONEMAP_LOGIN_RATE_LIMIT="1000 per minute")
    for command in (["db", "migrate"], ["demo", "--scale", "demo", "--seed", "11"]):
        done = subprocess.run([onemap_command(), *command], env=env, capture_output=True,
                              text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    yield url, env
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE wall_demo WITH (FORCE)")


@pytest.fixture(scope="session")
def demo_server(demo_district):
    """Base URL of a OneMap serving the demo district."""
    _url, env = demo_district
    with serving(env) as base:
        yield base


def sign_in_demo(tab, base: str, username: str) -> None:
    """Sign a browser tab in as one of the demo users."""
    sign_in(tab, base, username, DEMO_PASSWORDS[username])


def demo_client(base: str, username: str) -> Client:
    """An HTTP client signed in as one of the demo users."""
    client = Client(base)
    assert client.sign_in(username, DEMO_PASSWORDS[username])[0] == 302
    return client

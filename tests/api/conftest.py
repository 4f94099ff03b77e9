"""HTTP API tests, in-process: Flask's test client on app.py's `server`, against the session's
real PostGIS cluster (never a mock). No browser and no served process: what these tests send
and check is HTTP alone, so they run at the speed of the app itself. Cookies, User-Agent and
the client address are set on the test client as a browser's request would carry them
(tests/support/clients.py); everything the app logs meanwhile is held to the same rules as a
served app's log (no personal data, no bound parameters, no traceback).
"""

from __future__ import annotations

import pytest

from tests.support.in_process import app_pointed_at
from tests.support.logs import captured_log


@pytest.fixture(scope="session")
def app_env(cli_env) -> dict[str, str]:
    """The app's settings for these tests: the session's cluster, as `live_server` has them
    (every test signs in from 127.0.0.1, so the sign-in limit is raised; tests of the limit
    set their own)."""
    return dict(cli_env, ONEMAP_LOGIN_RATE_LIMIT="1000 per minute")


@pytest.fixture(scope="module")
def app_server(app_env, db_url, demo_users, tmp_path_factory):
    """The app in this process on the session database, with the test users."""
    log = tmp_path_factory.mktemp("app-log") / "app.log"
    with app_pointed_at(app_env) as server, captured_log(log):
        yield server


@pytest.fixture(scope="module")
def demo_app_server(demo_district, tmp_path_factory):
    """The app in this process on the demo district (built by the real `onemap demo`)."""
    _url, env = demo_district
    log = tmp_path_factory.mktemp("demo-app-log") / "app.log"
    with app_pointed_at(env) as server, captured_log(log):
        yield server

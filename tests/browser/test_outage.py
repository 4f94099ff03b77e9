"""The database goes away for real (`onemap db stop`) under a running OneMap, and comes back.

Every API and Dash call then answers 503 JSON with Retry-After and pages a small 503 page; the
server log says so once (not a traceback per request) and once more when it is back; a failed
statement leaves neither its parameters nor the personal data PostgreSQL quotes in any log.

These tests stop and start a cluster of their own, never the session's (other tests use it).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from geodata.db import make_engine
from geodata.migrate import upgrade
from onemap.web.outage import describe
from tests.browser.conftest import (
    TEST_USERS,
    Client,
    audit_table_call,
    screenshot,
    serving,
    sign_in,
)
from tests.conftest import new_cluster, onemap_command
from tests.fixtures.hierarchy import DISTRICT, insert_hierarchy

pytestmark = pytest.mark.browser

UNAVAILABLE = {"error": "database unavailable / 数据库暂不可用"}
AUDIT_CALL = audit_table_call(changed="audit-username")


class Site:
    """A cluster, the environment of `onemap` commands on it, a server on it and its log."""

    def __init__(self, cluster, env: dict, base: str) -> None:
        self.cluster, self.env, self.base = cluster, env, base
        self.log = Path("/tmp") / f"onemap-test-serve-{urlsplit(base).port}.log"

    def db(self, command: str) -> None:
        """`onemap db start|stop`, as an operator runs it."""
        done = subprocess.run([onemap_command(), "db", command], env=self.env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr

    def log_size(self) -> int:
        return self.log.stat().st_size

    def log_since(self, offset: int) -> str:
        with open(self.log, "rb") as handle:
            handle.seek(offset)
            return handle.read().decode("utf-8", "replace")

    def client(self, username: str) -> Client:
        client = Client(self.base)
        status, _h, body = client.sign_in(username)
        assert status == 302, body
        return client


@pytest.fixture(scope="module")
def site():
    """A migrated cluster of its own with two users, and `onemap serve` on it with an access
    log turned on (to check what it holds)."""
    cluster = new_cluster("onemap-outage-pg-", db_name="onemap_outage")
    cluster.start()
    try:
        url = cluster.sqlalchemy_url()
        upgrade(url)
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("SET CONSTRAINTS ALL DEFERRED"))
            insert_hierarchy(conn)
        engine.dispose()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("ONEMAP_", "GUNICORN_"))}
        env.update(ONEMAP_PG_DIR=str(cluster.root), ONEMAP_PG_PORT=str(cluster.port),
                   ONEMAP_DB_NAME=cluster.db_name, ONEMAP_PG_FSYNC="false",
                   ONEMAP_PG_SHARED_BUFFERS="128MB",
                   ONEMAP_LOGIN_RATE_LIMIT="1000 per minute",
                   ONEMAP_LOOKUP_RATE_LIMIT="1000 per minute")
        for username in ("duty", "admin"):
            role, password = TEST_USERS[username]
            done = subprocess.run(
                [onemap_command(), "user", "add", username, "--role", role, "--scope", DISTRICT,
                 "--password", password], env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stdout + done.stderr
        # one worker: each worker logs a change of the database's state once, and the log
        # is read as one worker's
        with serving(dict(env, GUNICORN_CMD_ARGS="--access-logfile -",
                          ONEMAP_WORKERS="1")) as base:
            yield Site(cluster, env, base)
    finally:
        cluster.destroy()


def _calls(duty: Client, admin: Client):
    """One round of what screens and scripts ask: (what, status, headers, body)."""
    api = [("GET", "/api/live", None), ("GET", "/api/layers", None),
           ("GET", "/api/layers/labels?bbox=123.40,41.78,123.48,41.82&zoom=14", None),
           ("POST", "/api/persons/search", {"q": "张"})]
    for method, path, body in api:
        yield (path, *duty.request(method, path, json_body=body, headers=duty.same_origin())[:3])
    for path in ("/_dash-layout", "/_dash-dependencies"):
        yield (path, *duty.request("GET", path)[:3])
    yield ("/_dash-update-component",
           *admin.request("POST", "/_dash-update-component", json_body=AUDIT_CALL,
                          headers=admin.same_origin())[:3])


def _page(client: Client, path: str):
    return client.request("GET", path, headers={"Accept": "text/html,*/*;q=0.8"})[:3]


def test_a_stopped_database_answers_503_once_logged_and_the_session_resumes(site):
    duty, admin = site.client("duty"), site.client("admin")
    for what, status, _headers, body in _calls(duty, admin):  # every engine is warm
        assert status in (200, 204), (what, status)
    offset = site.log_size()

    site.db("stop")
    try:
        requests = 0
        while requests < 50:
            for what, status, headers, body in _calls(duty, admin):
                requests += 1
                assert status == 503, (what, status, body[:300])
                assert json.loads(body) == UNAVAILABLE, (what, body[:300])
                assert int(headers["Retry-After"]) > 0, what
            for path in ("/wall", "/"):
                status, headers, body = _page(duty, path)
                requests += 1
                assert status == 503, (path, status, body[:300])
                assert headers["Content-Type"].startswith("text/html")
                assert "数据库暂不可用" in body and "Database unavailable" in body
                assert "http" not in body.lower().replace('http-equiv', '')  # nothing external
                assert int(headers["Retry-After"]) > 0
        # signing in: the form needs no database, the attempt does (rate limit, password)
        stranger = Client(site.base)
        _s, _h, form, _c = stranger.request("GET", "/login")
        token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        status, headers, body, _c = stranger.request(
            "POST", "/login", {"csrf_token": token, "username": "duty", "next": "/",
                               "password": TEST_USERS["duty"][1]},
            {**stranger.same_origin(), "Accept": "text/html"})
        assert status == 503 and "数据库暂不可用" in body, (status, body[:300])
        assert int(headers["Retry-After"]) > 0
        health = duty.request("GET", "/healthz")
        assert health[0] == 503 and int(health[1]["Retry-After"]) > 0
        time.sleep(0.5)  # let the workers' log lines land
        during = site.log_since(offset)
        assert during.count("database unreachable") == 1, during[-3000:]
        assert "Traceback" not in during, during[-3000:]
        assert "reachable again" not in during
    finally:
        site.db("start")

    # the same sessions, no new sign-in
    for what, status, _headers, body in _calls(duty, admin):
        assert status in (200, 204), (what, status)
    assert _page(duty, "/wall")[0] == 200
    time.sleep(0.5)
    after = site.log_since(offset)
    assert after.count("database reachable again after") == 1, after[-3000:]
    assert after.count("database unreachable") == 1
    assert "Traceback" not in after, after[-3000:]


def test_a_failed_statement_leaves_no_personal_data_in_any_log(site):
    name, phone = "张三丰", "13800001234"
    offset = site.log_size()
    pg_log_offset = site.cluster.log_file.stat().st_size
    owner = make_engine(site.cluster.sqlalchemy_url())
    # the audit log refuses two things users typed: statements that fail inside PostgreSQL,
    # whose errors quote the whole row ("Failing row contains (…, 张三丰 13800001234, …)")
    with owner.begin() as conn:
        conn.execute(text(
            "ALTER TABLE onemap.audit_log ADD CONSTRAINT outage_test_refuses CHECK"
            f" (username IS DISTINCT FROM '{name} {phone}'"
            "   AND coalesce(details::text, '') NOT LIKE '%13912345678%') NOT VALID"))
    try:
        # a failed sign-in is audited with the name typed
        client = Client(site.base)
        _s, _h, form, _c = client.request("GET", "/login")
        token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        status, _h, body, _c = client.request(
            "POST", "/login", {"csrf_token": token, "username": f"{name} {phone}",
                               "password": "wrong-password-1", "next": "/"},
            client.same_origin())
        assert status == 500, (status, body[:500])
        # an export of the audit log is audited with its filters: inside a Dash callback
        admin = site.client("admin")
        export = {
            "output": "audit-download.data",
            "outputs": {"id": "audit-download", "property": "data"},
            "inputs": [{"id": "audit-export", "property": "n_clicks", "value": 1}],
            "state": [{"id": "audit-username", "property": "value",
                       "value": "李四光 13912345678"},
                      {"id": "audit-action", "property": "value", "value": None},
                      {"id": "audit-since", "property": "value", "value": None},
                      {"id": "audit-until", "property": "value", "value": None}],
            "changedPropIds": ["audit-export.n_clicks"],
        }
        status, headers, body, _c = admin.request(
            "POST", "/_dash-update-component", json_body=export, headers=admin.same_origin())
        assert status == 500, (status, body[:500])
        assert headers["Content-Type"] == "application/json"
    finally:
        with owner.begin() as conn:
            conn.execute(text("ALTER TABLE onemap.audit_log DROP CONSTRAINT outage_test_refuses"))

    # text in URLs: a page's query string, a sign-in link's next
    assert _page(admin, "/admin/audit?user=" + quote("王五 13712345678"))[0] == 200
    assert _page(Client(site.base), "/login?next=" + quote("/wall?q=王五"))[0] == 200

    time.sleep(0.5)
    logged = site.log_since(offset)
    assert "CheckViolation" in logged and "outage_test_refuses" in logged, logged[-3000:]
    assert "database error in POST /_dash-update-component" in logged, logged[-3000:]
    assert '"GET /admin/audit HTTP/1.1" 200' in logged, logged[-3000:]  # the access log is on
    for secret in ("[parameters:", "Failing row", name, phone, "李四光", "13912345678",
                   "王五", "13712345678", quote("王五")):
        assert secret not in logged, (secret, logged[-3000:])
    server_log = site.cluster.log_file.read_bytes()[pg_log_offset:].decode("utf-8", "replace")
    assert "outage_test_refuses" in server_log  # PostgreSQL logged the failure, but not the row
    for secret in (name, phone, "李四光", "13912345678", "Failing row"):
        assert secret not in server_log, (secret, server_log[-2000:])

    # the engine itself: an error's text never carries the statement's parameters
    with pytest.raises(DBAPIError) as failure:
        with owner.connect() as conn:
            conn.execute(text("SELECT CAST(:phone AS integer), :name"),
                         {"phone": f"tel {phone}", "name": name})
    owner.dispose()
    assert "[parameters:" not in str(failure.value) and name not in str(failure.value)
    assert "SQL parameters hidden" in str(failure.value)
    assert phone not in describe(failure.value) and "InvalidTextRepresentation" in describe(
        failure.value)


def test_the_wall_turns_red_while_the_database_is_stopped(site, page):
    sign_in(page, site.base, "duty")
    page.goto(site.base + "/wall")
    page.wait_for_selector(".map-status.ok", timeout=15000)
    site.db("stop")
    try:
        status = page.wait_for_selector(".map-status.server-error", timeout=15000)
        assert "数据库" in status.inner_text()
        colour = page.evaluate(
            "getComputedStyle(document.querySelector('.map-status')).backgroundColor")
        screenshot(page, "wall-database-stopped")
    finally:
        site.db("start")
    red, green, blue = (int(c) for c in colour.removeprefix("rgb(").rstrip(")").split(","))
    assert red > 150 and green < 100 and blue < 100, colour
    page.wait_for_selector(".map-status.ok", timeout=15000)  # and it picks up by itself

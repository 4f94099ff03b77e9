"""A streaming replica of the embedded cluster (`make_replica`, `onemap db replica`) and a
served OneMap whose wall and cockpit read from it (ONEMAP_READ_DATABASE_URL).

The proof that a screen reads the replica: with the replica's replay paused, a case reported
through the API is in the primary at once but in none of the wall's and cockpit's answers
(layers, live poll, rail, figures) until replay resumes. A session the replica has not
replayed yet reads on the primary; a stopped replica sends every read to the primary; writes
(reports, audit rows) never go near the replica. The lag is measured and printed (pytest -s),
never asserted on: the machine is shared. Every wait is bounded.
"""

from __future__ import annotations

import base64
import json
import math
import os
import subprocess
import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import geobuf
import psycopg
import pytest
from sqlalchemy import text

from geodata import users
from geodata.db import make_engine
from geodata.embedded import REPLICATION_ROLE, EmbeddedError, EmbeddedPostgres
from geodata.migrate import upgrade
from onemap.access.passwords import hash_password
from tests.conftest import TEST_PORT, new_cluster
from tests.fixtures.hierarchy import DISTRICT, EAST, NORTH, SOUTH, WEST, insert_hierarchy
from tests.support.clients import Client, signed_in
from tests.support.dash_calls import callback_call, id_text, post_callback
from tests.support.serving import onemap_command, serving
from tests.support.users import TEST_USERS

WAIT = 30  # seconds any one condition may take before the test fails
VIEW = {"west": WEST, "south": SOUTH, "east": EAST, "north": NORTH, "zoom": 14}
MIDDLE = ((WEST + EAST) / 2, (SOUTH + NORTH) / 2)


def wait_for(condition, what: str, timeout: float = WAIT, every: float = 0.02):
    """Poll `condition` until it returns something true; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def one(url: str, sql: str, *params):
    """The first value `sql` answers on `url` (None for a command that answers nothing)."""
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchone()[0] if cursor.description else None


@pytest.fixture(scope="module")
def primary():
    """A cluster of this module's own (the session's must never get a replica attached or be
    paused): migrated, the test hierarchy and three test users in it. Commits wait for their
    WAL to be written, as with fsync on (a throwaway cluster has synchronous_commit off, and
    then the WAL writer's 200 ms rhythm, not replication, would be what the lag measures)."""
    cluster = new_cluster("onemap-test-primary-", db_name="onemap_replica")
    cluster.start()
    try:
        url = cluster.sqlalchemy_url()
        upgrade(url)
        owner = make_engine(url)
        with owner.begin() as conn:
            conn.execute(text("SET CONSTRAINTS ALL DEFERRED"))
            codes = insert_hierarchy(conn)
            for username in ("duty", "gridworker", "leader"):
                role, password = TEST_USERS[username]
                users.add(conn, username=username, display_name=f"测试 {username}", role=role,
                          scope_code=codes["grid"][0] if role == "grid_worker" else DISTRICT,
                          password_hash=hash_password(password))
        owner.dispose()
        one(cluster.libpq_url(), f'ALTER DATABASE "{cluster.db_name}" SET synchronous_commit = on')
        for role in ("onemap_app", "onemap_auth"):  # as the web app does at its first request
            cluster.login_for(role)
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="module")
def replica(primary: EmbeddedPostgres):
    """The primary's streaming replica, made as `onemap db replica` makes it."""
    root = Path(tempfile.mkdtemp(prefix="onemap-test-replica-", dir="/tmp"))
    made = primary.make_replica(root, port=TEST_PORT + 1)
    try:
        yield made
    finally:
        made.destroy()


def replayed(primary: EmbeddedPostgres, replica: EmbeddedPostgres) -> bool:
    """Whether the replica has replayed everything the primary has written so far."""
    target = one(primary.libpq_url(), "SELECT pg_current_wal_lsn()::text")
    return one(replica.libpq_url(), "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", target)


def catch_up(primary, replica) -> None:
    wait_for(lambda: replayed(primary, replica), "the replica to catch up")


def primary_env(primary: EmbeddedPostgres) -> dict[str, str]:
    """The environment of `onemap` commands (and servers) on the primary, embedded mode."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONEMAP_", "GUNICORN_"))}
    env.update(ONEMAP_PG_DIR=str(primary.root), ONEMAP_PG_PORT=str(primary.port),
               ONEMAP_DB_NAME=primary.db_name, ONEMAP_PG_FSYNC="false",
               ONEMAP_PG_SHARED_BUFFERS="128MB", ONEMAP_LOGIN_RATE_LIMIT="1000 per minute",
               ONEMAP_WORKERS="1")
    return env


@pytest.fixture(scope="module")
def app(primary, replica):
    """`onemap serve` on the primary, reading the wall's and cockpit's data from the replica
    through the URL `onemap db replica` prints (no user: the app's own login)."""
    catch_up(primary, replica)  # the app's logins are on the replica before it serves
    env = dict(primary_env(primary), ONEMAP_READ_DATABASE_URL=replica.read_url())
    with serving(env, log_prefix="onemap-test-replica") as base:
        yield base


@contextmanager
def replay_paused(primary, replica):
    """The replica caught up, then its replay paused: it keeps receiving WAL, applies none."""
    catch_up(primary, replica)
    one(replica.libpq_url(), "SELECT pg_wal_replay_pause()")
    wait_for(lambda: one(replica.libpq_url(), "SELECT pg_get_wal_replay_pause_state()")
             == "paused", "replay to pause")
    try:
        yield
    finally:
        one(replica.libpq_url(), "SELECT pg_wal_replay_resume()")


# -- what the screens ask ------------------------------------------------------------------


def report(client: Client, title: str) -> int:
    """A case reported through the API (on the primary); its id."""
    status, _h, body, _ = client.request(
        "POST", "/api/events", headers=client.same_origin(),
        json_body={"title": title, "category_code": "E0102", "lon": MIDDLE[0],
                   "lat": MIDDLE[1]})
    assert status == 201, body
    return json.loads(body)["id"]


def wall_events(client: Client) -> set[int]:
    """The ids on the wall's events layer for the whole test district (its Dash callback)."""
    layer = {"type": "wall-layer", "name": "events"}
    asked = {"type": "wall-request", "name": "events"}
    status, body = post_callback(client, {
        "output": f"{id_text(layer)}.data", "outputs": {"id": layer, "property": "data"},
        "inputs": [{"id": asked, "property": "data",
                    "value": {"view": VIEW, "options": {}}}],
        "state": [], "changedPropIds": [f"{id_text(asked)}.data"]})
    assert status == 200, body
    encoded = json.loads(body)["response"][id_text(layer)]["data"]
    collection = geobuf.decode(base64.b64decode(encoded))
    return {feature["properties"]["id"] for feature in collection["features"]}


def wall_feed(client: Client) -> str:
    """The wall's rail (counters, feed, banner) as its minute tick asks for it."""
    status, body = post_callback(client, callback_call(
        "wall-feed.children", {("wall-minute", "n_intervals"): 1,
                               ("wall-acknowledged", "data"): []},
        ("wall-minute", "n_intervals"), lambda _pattern: []))
    assert status == 200, body
    return body


def _cockpit_ids(pattern: str) -> list:
    kind = json.loads(pattern)["type"]
    if kind in ("cockpit-value", "cockpit-change"):
        from pages.cockpit_ids import TILES
        return [{"kpi": k, "type": kind} for k in TILES]
    if kind == "cockpit-kind":
        return [{"dimension": d, "type": kind} for d in ("channel", "category", "level")]
    return []


def cockpit_received(client: Client) -> int:
    """The cockpit's 受理 (received) tile for today in the district (its refresh callback)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    view = {"period": "day", "date": today, "unit": DISTRICT, "kpi": "closure_rate"}
    status, body = post_callback(client, callback_call(
        "cockpit-trend.figure", {("cockpit-view", "data"): view,
                                 ("cockpit-tick", "n_intervals"): None},
        ("cockpit-view", "data"), _cockpit_ids))
    assert status == 200, body
    tile = json.dumps({"kpi": "received", "type": "cockpit-value"}, separators=(",", ":"))
    return int(json.loads(body)["response"][tile]["children"].replace(",", ""))


def events_tile(client: Client) -> bytes:
    """The vector tile (z14) the test district's middle is in, as /tiles/ serves the wall's
    tiled layers (buildings and cameras; events here, the table the tests write)."""
    lon, lat = MIDDLE
    x = int((lon + 180) / 360 * 2 ** 14)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2 ** 14)
    reply = client.get(f"/tiles/events/14/{x}/{y}.pbf")
    assert reply.status == 200, reply.text[:300]
    return reply.body


def live(client: Client, since: str | None = None) -> tuple[int, dict]:
    status, _h, body, _ = client.request("GET", "/api/live" + (f"?since={since}" if since
                                                                else ""))
    assert status in (200, 204), body
    return status, json.loads(body) if status == 200 else {}


def replica_app_backends(replica: EmbeddedPostgres) -> int:
    return one(replica.libpq_url(), "SELECT count(*) FROM pg_stat_activity"
               " WHERE usename = 'onemap_app' AND datname = current_database()")


# -- the tests -------------------------------------------------------------------------------


def test_the_replica_streams_refuses_writes_and_takes_the_apps_login(primary, replica):
    assert replica.is_standby and not primary.is_standby
    assert one(replica.libpq_url(), "SELECT pg_is_in_recovery()") is True
    streaming = one(primary.libpq_url(), "SELECT array_agg(state) FROM pg_stat_replication"
                    " WHERE application_name = %s AND usename = %s",
                    replica.root.name, REPLICATION_ROLE)
    assert streaming == ["streaming"]
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        one(replica.libpq_url(), "CREATE TABLE onemap.nowhere (x int)")
    # the primary's login of the app's role opens the replica: roles replicate
    app_url = replica.libpq_url(user="onemap_app", password=primary.known_login("onemap_app"))
    assert one(app_url, "SELECT current_user") == "onemap_app"
    # the superuser's password is not in the replica's settings, only the replication role's
    settings = (replica.data_dir / "postgresql.auto.conf").read_text()
    assert f"user={REPLICATION_ROLE}" in settings and primary.password not in settings


def test_onemap_db_replica_starts_the_one_there_and_prints_the_setting(primary, replica):
    system = "SELECT system_identifier FROM pg_control_system()"
    replica.stop()
    done = subprocess.run([onemap_command(), "db", "replica", str(replica.root), "--port",
                           str(replica.port)], env=primary_env(primary), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"ONEMAP_READ_DATABASE_URL={replica.read_url()}" in done.stdout.splitlines()
    assert replica.status().running and replica.is_standby
    assert one(replica.libpq_url(), system) == one(primary.libpq_url(), system)
    with pytest.raises(EmbeddedError, match="a folder of its own"):
        primary.make_replica(primary.root, port=primary.port + 2)


def test_the_walls_and_cockpits_reads_come_from_the_replica(app, primary, replica):
    duty = signed_in(app, "duty")
    with replay_paused(primary, replica):  # the session is on the replica: it is caught up
        _status, clock = live(duty)
        before = (wall_events(duty), cockpit_received(duty), events_tile(duty))
        case = report(duty, "副本测试 暂停中")  # written on the primary while the replica waits
        assert one(primary.libpq_url(), "SELECT count(*) FROM onemap.event WHERE id = %s",
                   case) == 1
        assert live(duty, clock["token"])[0] == 204  # the replica's clock has not moved
        assert (wall_events(duty), cockpit_received(duty), events_tile(duty)) == before
        assert "副本测试 暂停中" not in wall_feed(duty)
        assert replica_app_backends(replica) > 0  # the app is connected to it, as onemap_app
        resumed = time.monotonic()
    moved = wait_for(lambda: live(duty, clock["token"])[1], "the live poll to see the case")
    print(f"\nreplica: the live poll saw the case {1000 * (time.monotonic() - resumed):.0f} ms"
          " after replay resumed")
    assert "event" in moved["changed"]
    assert case in wall_events(duty) and case not in before[0]
    assert cockpit_received(duty) == before[1] + 1
    assert events_tile(duty) != before[2]
    assert "副本测试 暂停中" in wall_feed(duty)


def test_a_session_the_replica_lacks_reads_the_primary(app, primary, replica):
    veteran = signed_in(app, "duty")  # its session is replayed before the pause
    with replay_paused(primary, replica):
        _status, clock = live(veteran)
        case = report(veteran, "副本测试 新会话")
        newcomer = signed_in(app, "duty")  # a session only the primary has
        assert case in wall_events(newcomer)  # read on the primary
        assert "副本测试 新会话" in wall_feed(newcomer)
        assert case not in wall_events(veteran)  # read on the replica
        # the live clock is read on the replica for everyone: no screen hears of a change
        # before the replica its layers read has it
        assert live(newcomer, clock["token"])[0] == 204
    catch_up(primary, replica)
    assert case in wall_events(veteran)


def test_writes_stay_on_the_primary(app, primary, replica):
    """A refused cockpit call writes its audit row (a replica would refuse the write) while
    the replica applies nothing; the report's writes are the other tests' business."""
    refused = ("SELECT count(*) FROM onemap.audit_log WHERE username = 'gridworker'"
               " AND action = 'refused' AND object_id = 'view_cockpit'")
    worker = signed_in(app, "gridworker")
    with replay_paused(primary, replica):
        audits = one(primary.libpq_url(), refused)
        status, _body = post_callback(worker, callback_call(
            "cockpit-trend.figure", {("cockpit-view", "data"): {"unit": DISTRICT},
                                     ("cockpit-tick", "n_intervals"): None},
            ("cockpit-view", "data"), _cockpit_ids))
        assert status == 204
        assert one(primary.libpq_url(), refused) == audits + 1
        assert one(replica.libpq_url(), refused) == audits  # not replayed: written elsewhere


def test_a_stopped_replica_sends_the_reads_to_the_primary(app, primary, replica):
    duty = signed_in(app, "duty")
    catch_up(primary, replica)
    replica.stop()
    try:
        case = report(duty, "副本测试 副本停止")
        assert case in wall_events(duty)
        assert "副本测试 副本停止" in wall_feed(duty)
        assert live(duty)[0] == 200
    finally:
        replica.start()
    catch_up(primary, replica)
    assert case in wall_events(duty)


def test_replication_lag_is_measured(app, primary, replica):
    """Ten reports one after another: how far behind the replica is when the API answers
    (bytes of WAL), how long until it has replayed them, and until the wall's live poll,
    served by the replica, says so. Printed; never asserted on."""
    duty = signed_in(app, "duty")
    catch_up(primary, replica)
    behind, replay_ms, poll_ms = [], [], []
    with psycopg.connect(primary.libpq_url(), autocommit=True) as on_primary, \
            psycopg.connect(replica.libpq_url(), autocommit=True) as on_replica:
        def replay_at(target: str) -> bool:
            return on_replica.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn",
                                      (target,)).fetchone()[0]

        for n in range(10):
            token = live(duty)[1]["token"]
            case = report(duty, f"副本测试 延迟 {n}")
            answered = time.monotonic()
            target = on_primary.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]
            behind.append(float(on_replica.execute(
                "SELECT pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn())",
                (target,)).fetchone()[0]))
            wait_for(lambda: replay_at(target), "replay", every=0.0005)
            replay_ms.append(1000 * (time.monotonic() - answered))
            wait_for(lambda: live(duty, token)[0] == 200, "the live poll", every=0.002)
            poll_ms.append(1000 * (time.monotonic() - answered))
            assert case in wall_events(duty)
        lags = on_primary.execute(
            "SELECT write_lag::text, flush_lag::text, replay_lag::text FROM pg_stat_replication"
            " WHERE application_name = %s", (replica.root.name,)).fetchone()
    print(f"\nreplica lag over 10 reports: WAL behind when the API answered "
          f"{statistics.median(behind):.0f} B median ({max(behind):.0f} max); replayed "
          f"{statistics.median(replay_ms):.1f} ms median ({max(replay_ms):.1f} max) after the "
          f"answer; the live poll saw it {statistics.median(poll_ms):.1f} ms median "
          f"({max(poll_ms):.1f} max); pg_stat_replication write/flush/replay lag {lags}")
    assert len(replay_ms) == len(poll_ms) == 10

"""`onemap simulate` against a served OneMap on the session's demo district: what it does goes
through the API (each case reported by a simulator's user, with its audit row), cases run the
whole loop, workers move, sensors read; the same seed doubles nothing; a server that goes
away mid-run is waited for, and SIGTERM ends the run cleanly.

The simulated clock runs 3,600 times faster (an hour a second), so a 30-second run is a day
and a bit of the district's life."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from onemap.simulator.places import decode
from tests.conftest import onemap_command
from tests.support.clients import Client
from tests.support.logs import assert_clean_log, assert_clean_text
from tests.support.ports import free_port
from tests.support.serving import healthy, serving

SPEED = "3600"
LOOP = ["register", "dispatch", "accept", "report_back", "verify", "close"]


@pytest.fixture(scope="module")
def served(demo_district):
    """The demo district's database URL, the environment for commands, and a served OneMap."""
    url, env = demo_district
    with serving(env) as base:
        yield url, env, base


def _simulate(env: dict, base: str, state: Path, seed: int, seconds: float,
              *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [onemap_command(), "simulate", "--url", base, "--rate", "2", "--speed", SPEED,
         "--duration", str(seconds), "--seed", str(seed), "--state-dir", str(state),
         "--log-every", "5", *extra],
        env=env, capture_output=True, text=True)


def _totals(log: str) -> dict[str, int]:
    """The counts of the run's last line ("stopped; in all: reports 12 (+3 known), …")."""
    last = log.split("stopped; in all:")[-1]
    counts = dict(re.findall(r"(reports|transitions|positions|readings|errors) (\d+)", last))
    counts["known"] = re.search(r"\+(\d+) known", last).group(1)
    return {name: int(n) for name, n in counts.items()}


def _sql(url: str, query: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


@pytest.fixture(scope="module")
def first_run(served, tmp_path_factory):
    url, env, base = served
    started = _sql(url, "SELECT now()")[0][0]
    state = tmp_path_factory.mktemp("simulate-a")
    done = _simulate(env, base, state, 7, 30)
    return {"done": done, "started": started, "state": state}


def test_a_run_reports_through_the_api_as_the_simulators_users(served, first_run):
    url = served[0]
    done = first_run["done"]
    assert done.returncode == 0, done.stderr[-3000:]
    assert_clean_text(done.stderr, "onemap simulate's log")
    assert len(re.findall(r"\| reports \d+ .* p95 ", done.stderr)) >= 4  # a line every 5 s
    totals = _totals(done.stderr)
    assert totals["reports"] >= 20 and totals["errors"] <= totals["reports"] // 10, totals

    cases = _sql(url, "SELECT e.id, u.username, e.channel, a.username FROM onemap.event e"
                      " JOIN onemap.app_user u ON u.id = e.reported_by_user_id"
                      " LEFT JOIN onemap.audit_log a ON a.action = 'event_report'"
                      "  AND a.object_id = e.id::text"
                      " WHERE e.external_ref LIKE 'sim7-%%'")
    assert len(cases) == totals["reports"]
    for _id, reporter, channel, audited_as in cases:
        assert audited_as == reporter  # the API wrote it, in the token's name
        assert reporter == "sim-intake" or (channel == "grid_worker"
                                            and reporter.startswith("sim-worker-"))
    channels = {channel for _i, _r, channel, _a in cases}
    assert "grid_worker" in channels and len(channels) >= 5, channels
    assert oct(os.stat(first_run["state"] / "tokens.json").st_mode & 0o777) == "0o600"


def test_cases_run_the_whole_loop_and_workers_take_their_part(served, first_run):
    url = served[0]
    steps = _sql(url, "SELECT h.event_id, array_agg(h.action ORDER BY h.id),"
                      " array_agg(u.username ORDER BY h.id)"
                      " FROM onemap.event_history h JOIN onemap.event e ON e.id = h.event_id"
                      " JOIN onemap.app_user u ON u.id = h.actor_user_id"
                      " WHERE e.external_ref LIKE 'sim7-%%' GROUP BY h.event_id")

    def whole_loop(actions: list[str]) -> bool:
        rest = iter(actions)
        return all(step in rest for step in LOOP)  # in this order, others between

    closed = [(actions, actors) for _id, actions, actors in steps if whole_loop(actions)]
    assert closed, "no case went register → dispatch → accept → report back → verify → close"
    for actions, actors in closed:
        by = dict(zip(actions, actors))
        assert by["register"] == by["close"] == "sim-duty"
        assert by["accept"] == "sim-desk" or by["accept"].startswith("sim-worker-")
    worker_steps = {(a, who) for _id, actions, actors in steps
                    for a, who in zip(actions, actors) if who.startswith("sim-worker-")}
    assert {"accept", "report_back"} <= {a for a, _who in worker_steps}, worker_steps


def test_workers_walked_their_grids_and_went_off_duty(served, first_run):
    rows = _sql(served[0],
                "SELECT u.username, s.on_duty, s.last_seen_at >= %s,"
                " ST_DWithin(g.geom::geography, s.last_position::geography, 300)"
                " FROM onemap.staff s JOIN onemap.app_user u ON u.id = s.user_id"
                " JOIN onemap.grid g ON g.code = s.grid_code"
                " WHERE u.username LIKE 'sim-worker-%%'", first_run["started"])
    assert len(rows) == 20
    assert all(seen and near for _name, _duty, seen, near in rows), rows
    assert not any(duty for _name, duty, _seen, _near in rows)  # signed off at the end
    assert _totals(first_run["done"].stderr)["positions"] >= 20 * 5


def test_sensors_read_through_the_api(served, first_run):
    url = served[0]
    readings = _sql(url, "SELECT count(*) FROM onemap.sensor_reading WHERE read_at >= %s",
                    first_run["started"])[0][0]
    batches = _sql(url, "SELECT count(*), sum((details->>'stored')::int) FROM onemap.audit_log"
                        " WHERE action = 'sensor_readings' AND username = 'sim-iot'"
                        " AND at >= %s", first_run["started"])[0]
    assert readings > 0 and batches[0] > 0 and batches[1] == readings
    assert _totals(first_run["done"].stderr)["readings"] == readings


def test_the_simulators_tokens_reach_no_further_than_their_users(served, first_run):
    """A worker's token sees its own grid and acts there only; no simulator user can sign in
    with a password; the officers are duty officers of the district, nothing more."""
    url, _env, base = served
    tokens = json.loads((first_run["state"] / "tokens.json").read_text())["tokens"]
    name = sorted(n for n in tokens if n.startswith("sim-worker-"))[0]
    grid = _sql(url, "SELECT scope_code FROM onemap.app_user WHERE username = %s", name)[0][0]
    elsewhere = _sql(url, "SELECT id FROM onemap.event WHERE grid_code <> %s"
                          " ORDER BY id DESC LIMIT 1", grid)[0][0]
    client = Client(base)
    bearer = {"Authorization": f"Bearer {tokens[name]}"}
    moved = client.request("POST", f"/api/events/{elsewhere}/transitions",
                           json_body={"action": "register"}, headers=bearer)
    assert moved[0] == 404
    extent = _sql(url, "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
                       " FROM (SELECT ST_Extent(geom) AS e FROM onemap.grid) x")[0]
    seen = client.send("GET", "/api/layers/buildings?zoom=16&bbox="
                       + ",".join(map(str, extent)), None, bearer)
    assert seen.status == 200
    ids = [int(f["properties"]["id"]) for f in decode(seen.body)["features"]]
    grids = _sql(url, "SELECT DISTINCT grid_code FROM onemap.building WHERE id = ANY(%s)", ids)
    assert ids and grids == [(grid,)]
    users = _sql(url, "SELECT username, role_code, scope_code, password_hash FROM"
                      " onemap.app_user WHERE username LIKE 'sim-%%'")
    district = _sql(url, "SELECT code FROM onemap.district")[0][0]
    for username, role, scope, password_hash in users:
        assert password_hash == "!token"  # argon2 verifies no password against it
        if username.startswith("sim-worker-"):
            assert role == "grid_worker" and len(scope) == 15
        else:
            assert (role, scope) == ("duty_officer", district)


def test_the_same_seed_sends_the_same_reports_and_doubles_nothing(served, first_run,
                                                                  tmp_path):
    """A run that lost its state starts over with the seed's first reports: the server
    answers each with the case it already has. A run with the state goes on after them."""
    url, env, base = served
    before = _sql(url, "SELECT count(*) FROM onemap.event WHERE external_ref LIKE 'sim7-%%'")
    again = _simulate(env, base, tmp_path / "lost", 7, 15)
    assert again.returncode == 0, again.stderr[-3000:]
    replay = _totals(again.stderr)
    after = _sql(url, "SELECT count(*) FROM onemap.event WHERE external_ref LIKE 'sim7-%%'")
    assert replay["known"] >= 5, replay
    assert after[0][0] == before[0][0] + replay["reports"]

    resumed = _simulate(env, base, first_run["state"], 7, 8)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "going on from" in resumed.stderr
    assert _totals(resumed.stderr)["known"] == 0


def _serve(env: dict, port: int, log: Path) -> subprocess.Popen:
    out = open(log, "a")
    server = subprocess.Popen([onemap_command(), "serve", "--port", str(port)], env=env,
                              stdout=out, stderr=out)
    out.close()
    while not healthy(f"http://127.0.0.1:{port}"):
        assert server.poll() is None, log.read_text()[-2000:]
        time.sleep(0.3)
    return server


def _wait_for(path: Path, text: str, process: subprocess.Popen) -> None:
    while text not in path.read_text():
        assert process.poll() is None, path.read_text()[-3000:]
        time.sleep(0.3)


def test_a_server_gone_mid_run_is_waited_for_and_sigterm_ends_the_run(served, tmp_path):
    url, env, _base = served
    port = free_port()
    server_log, log = tmp_path / "serve.log", tmp_path / "simulate.log"
    server = _serve(env, port, server_log)
    with open(log, "w") as err:
        simulator = subprocess.Popen(
            [onemap_command(), "simulate", "--url", f"http://127.0.0.1:{port}", "--rate", "2",
             "--speed", SPEED, "--seed", "8", "--state-dir", str(tmp_path / "state"),
             "--log-every", "2",
             "--duration", "180"],  # a backstop: SIGTERM ends it long before
            env=env, stdout=err, stderr=err)
    try:
        _wait_for(log, "simulating from", simulator)
        _wait_for(log, "| reports", simulator)
        server.terminate()
        server.wait()
        _wait_for(log, "server unreachable", simulator)
        back = _sql(url, "SELECT now()")[0][0]
        server = _serve(env, port, server_log)
        _wait_for(log, "server answers again", simulator)
        lines = log.read_text().split("server answers again", 1)[1]
        while not re.search(r"\| reports [1-9]", lines):  # reporting again
            assert simulator.poll() is None, log.read_text()[-3000:]
            time.sleep(0.3)
            lines = log.read_text().split("server answers again", 1)[1]
        simulator.send_signal(signal.SIGTERM)
        assert simulator.wait() == 0, log.read_text()[-3000:]
    finally:
        if simulator.poll() is None:
            simulator.kill()
        server.terminate()
        server.wait()
    text = log.read_text()
    assert "stopped; in all:" in text
    assert_clean_text(text, "onemap simulate's log")
    assert_clean_log(server_log)
    made = _sql(url, "SELECT count(*) FROM onemap.event WHERE external_ref LIKE 'sim8-%%'"
                     " AND reported_at > %s", back)[0][0]
    assert made > 0


def test_onemap_simulate_false_simulates_nothing(served, tmp_path):
    _url, env, base = served
    done = _simulate(dict(env, ONEMAP_SIMULATE="false"), base, tmp_path / "off", 9, 5)
    assert done.returncode == 0 and "ONEMAP_SIMULATE is false" in done.stderr
    assert not (tmp_path / "off").exists()  # no users, no tokens

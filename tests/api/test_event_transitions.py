"""Moving cases along the loop over HTTP, on the demo district: every step leaves one history
row and one audit row, out-of-turn steps and other people's cases are refused, nothing half
done is left behind."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from tests.support.clients import Client, demo_client


def _post(client: Client, path: str, body: dict) -> tuple[int, dict]:
    status, _h, payload, _ = client.request("POST", path, json_body=body,
                                            headers=client.same_origin())
    return status, json.loads(payload)


def _count(url: str, sql: str, *params) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchone()[0]


@pytest.fixture
def case(demo_app_server, demo_district):
    """A fresh report in the grid worker's grid, and staff of that grid."""
    url = demo_district[0]
    with psycopg.connect(url) as conn:
        grid = conn.execute("SELECT scope_code FROM onemap.app_user"
                            " WHERE username = 'gridworker'").fetchone()[0]
        lon, lat = conn.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom)"
                                " AS p FROM onemap.grid WHERE code = %s) g", (grid,)).fetchone()
        staff = conn.execute("SELECT id FROM onemap.staff WHERE grid_code = %s ORDER BY id"
                             " LIMIT 1", (grid,)).fetchone()[0]
        elsewhere = conn.execute("SELECT id FROM onemap.staff WHERE grid_code <> %s ORDER BY id"
                                 " LIMIT 1", (grid,)).fetchone()[0]
    status, made = _post(demo_client(demo_app_server, "duty"), "/api/events", {
        "title": "井盖缺失", "category_code": "E0102", "lon": lon, "lat": lat,
        "external_ref": f"LOOP-{uuid.uuid4().hex[:10]}"})
    assert status == 201, made
    return {"id": made["id"], "staff": staff, "elsewhere": elsewhere, "url": url}


def test_a_case_goes_round_the_loop_one_audit_row_per_step(demo_app_server, case):
    duty = demo_client(demo_app_server, "duty")
    steps = [("register", None), ("dispatch", case["staff"]), ("accept", None),
             ("report_back", None), ("return", None), ("accept", None), ("report_back", None),
             ("verify", None), ("close", None)]
    for action, staff in steps:
        audits = _count(case["url"], "SELECT count(*) FROM onemap.audit_log WHERE object_id = %s"
                        " AND action = %s", str(case["id"]), f"event_{action}")
        body = {"action": action, "note": f"{action} by the duty officer"}
        if staff:
            body["staff_id"] = staff
        status, moved = _post(duty, f"/api/events/{case['id']}/transitions", body)
        assert status == 200, moved
        assert moved["action"] == action
        assert _count(case["url"], "SELECT count(*) FROM onemap.audit_log WHERE object_id = %s"
                      " AND action = %s", str(case["id"]), f"event_{action}") == audits + 1
    with psycopg.connect(case["url"]) as conn:
        state, closure, returned, staff, closed = conn.execute(
            "SELECT state, closure_kind, returned_count, assigned_staff_id, closed_at IS NOT NULL"
            " FROM onemap.event WHERE id = %s", (case["id"],)).fetchone()
        history = [r[0] for r in conn.execute(
            "SELECT action FROM onemap.event_history WHERE event_id = %s ORDER BY id",
            (case["id"],))]
    assert (state, closure, returned, staff, closed) == ("closed", "normal", 1, case["staff"],
                                                         True)
    assert history == ["report", *[a for a, _ in steps]]


def test_out_of_turn_steps_are_refused_and_leave_nothing(demo_app_server, case):
    duty = demo_client(demo_app_server, "duty")
    before = _count(case["url"], "SELECT count(*) FROM onemap.event_history WHERE event_id = %s",
                    case["id"])
    status, answer = _post(duty, f"/api/events/{case['id']}/transitions", {"action": "close"})
    assert status == 409 and "allowed: register, reject" in answer["error"]
    status, answer = _post(duty, f"/api/events/{case['id']}/transitions", {"action": "dispatch"})
    assert status == 409  # not registered yet
    status, answer = _post(duty, f"/api/events/{case['id']}/transitions", {"note": "x"})
    assert status == 400 and "action" in answer["fields"]
    assert _count(case["url"], "SELECT count(*) FROM onemap.event_history WHERE event_id = %s",
                  case["id"]) == before
    assert _count(case["url"], "SELECT count(*) FROM onemap.audit_log WHERE object_id = %s"
                  " AND action LIKE 'event\\_%%' AND action <> 'event_report'",
                  str(case["id"])) == 0


def test_roles_and_scopes_are_kept(demo_app_server, case, demo_district):
    path = f"/api/events/{case['id']}/transitions"
    for username in ("leader", "analyst", "admin"):
        status, _ = _post(demo_client(demo_app_server, username), path, {"action": "register"})
        assert status == 403, username
    worker = demo_client(demo_app_server, "gridworker")
    with psycopg.connect(demo_district[0]) as conn:
        theirs = conn.execute("SELECT e.id FROM onemap.event e WHERE onemap.event_is_open(e.state)"
                              " AND e.grid_code <> (SELECT scope_code FROM onemap.app_user WHERE"
                              " username = 'gridworker') LIMIT 1").fetchone()[0]
    status, _ = _post(worker, f"/api/events/{theirs}/transitions", {"action": "register"})
    assert status == 404  # the same answer as for a case that does not exist
    assert _post(worker, "/api/events/999999999/transitions", {"action": "register"})[0] == 404
    assert _post(worker, path, {"action": "register"})[0] == 200
    # nobody is sent from outside the worker's grid
    status, answer = _post(worker, path, {"action": "dispatch", "staff_id": case["elsewhere"]})
    assert status == 400 and "staff_id" in answer["fields"]
    assert _post(worker, path, {"action": "dispatch", "staff_id": case["staff"]})[0] == 200


def test_a_step_reaches_open_screens(demo_app_server, case):
    duty = demo_client(demo_app_server, "duty")
    _s, _h, body, _ = duty.request("GET", "/api/live")
    token = json.loads(body)["token"]
    assert _post(duty, f"/api/events/{case['id']}/transitions", {"action": "register"})[0] == 200
    status, _h, body, _ = duty.request("GET", f"/api/live?since={token}")
    assert status == 200 and "event" in json.loads(body)["changed"]


def test_an_extension_needs_a_duty_officer_a_reason_and_a_case_in_hand(demo_app_server, case):
    duty = demo_client(demo_app_server, "duty")
    worker = demo_client(demo_app_server, "gridworker")
    path = f"/api/events/{case['id']}/extension"
    body = {"amount": 2, "unit": "working_hours", "note": "等待配件 waiting for a part"}
    status, answer = _post(duty, path, body)
    assert status == 409, answer  # only reported: nothing in hand to extend
    for action, staff in (("register", None), ("dispatch", case["staff"])):
        status, moved = _post(duty, f"/api/events/{case['id']}/transitions",
                              {"action": action, **({"staff_id": staff} if staff else {})})
        assert status == 200, moved
    assert _post(worker, path, body)[0] == 403  # a worker cannot give themself more time
    status, answer = _post(duty, path, {"amount": -1, "unit": "weeks", "note": " "})
    assert status == 400 and set(answer["fields"]) == {"amount", "unit", "note"}
    with psycopg.connect(case["url"]) as conn:
        before = conn.execute("SELECT due_at FROM onemap.event WHERE id = %s",
                              (case["id"],)).fetchone()[0]
    status, extended = _post(duty, path, body)
    assert status == 200, extended
    with psycopg.connect(case["url"]) as conn:
        after, flagged = conn.execute("SELECT due_at, extended FROM onemap.event WHERE id = %s",
                                      (case["id"],)).fetchone()
        audited = conn.execute("SELECT count(*) FROM onemap.audit_log WHERE action ="
                               " 'event_extend' AND object_id = %s", (str(case["id"]),)).fetchone()
    assert after > before and flagged and audited == (1,)


def test_a_supervision_notice_needs_the_right_a_note_and_a_running_clock(demo_app_server,
                                                                        case):
    path = f"/api/events/{case['id']}/supervision"
    leader = demo_client(demo_app_server, "leader")
    analyst = demo_client(demo_app_server, "analyst")
    body = {"note": "请今日内处置完毕 today, please"}
    assert _post(analyst, path, body)[0] == 403  # sees the cockpit, may not supervise
    status, answer = _post(leader, path, {"note": "  "})
    assert status == 400 and set(answer["fields"]) == {"note"}
    status, notice = _post(leader, path, body)  # a report waiting to be registered: its
    assert status == 200, notice                # registration limit is running
    status, notice = _post(demo_client(demo_app_server, "duty"), path, body)
    assert status == 200 and notice["code"].startswith("AJ"), notice
    with psycopg.connect(case["url"]) as conn:
        history = conn.execute(
            "SELECT from_state, to_state, note, data->>'kind' FROM onemap.event_history"
            " WHERE event_id = %s AND action = 'supervise' ORDER BY id", (case["id"],)).fetchall()
        state = conn.execute("SELECT state FROM onemap.event WHERE id = %s",
                             (case["id"],)).fetchone()[0]
    assert state == "reported"  # a notice moves nothing
    assert [row[:3] for row in history] == [("reported", "reported", body["note"])] * 2
    assert _count(case["url"], "SELECT count(*) FROM onemap.audit_log WHERE action ="
                  " 'event_supervise' AND object_id = %s", str(case["id"])) == 2
    duty = demo_client(demo_app_server, "duty")
    assert _post(duty, f"/api/events/{case['id']}/transitions", {"action": "reject"})[0] == 200
    status, answer = _post(leader, path, body)
    assert status == 409, answer  # finished: nothing left to supervise
    assert _post(leader, "/api/events/999999999/supervision", body)[0] == 404


def test_a_case_sent_back_as_not_theirs_is_dispatched_again_and_counted(demo_app_server, case):
    duty = demo_client(demo_app_server, "duty")
    path = f"/api/events/{case['id']}/transitions"
    for body in ({"action": "register"}, {"action": "dispatch", "staff_id": case["staff"]},
                 {"action": "send_back", "note": "非本部门职责 not ours"}):
        status, moved = _post(duty, path, body)
        assert status == 200, moved
    assert moved["state"] == "registered"
    assert _post(duty, path, {"action": "accept"})[0] == 409  # nobody has it now
    status, moved = _post(duty, path, {"action": "dispatch", "staff_id": case["staff"]})
    assert status == 200 and moved["state"] == "dispatched"
    with psycopg.connect(case["url"]) as conn:
        sent_back, measured = conn.execute(
            "SELECT sent_back_count, (onemap.event_measures(e)).dispatched_right"
            " FROM onemap.event e WHERE id = %s", (case["id"],)).fetchone()
    assert sent_back == 1 and measured == 0  # a miss for dispatch accuracy

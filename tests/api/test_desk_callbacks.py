"""The dispatch desk's Dash callbacks called directly (POST /_dash-update-component), in-process
on the demo district, as a client that skips the page would call them: roles without the right
get nothing (and an audit row), another area's case is no case, every step is the API's (one
history and one audit row), two officers at once are told what happened, bad input is a 400
naming the field, personal data stays masked and links stay http(s)."""

from __future__ import annotations

import json
import secrets
import subprocess

import psycopg
import pytest

from geodata.queries.desk import QUEUES
from onemap.domain import lifecycle
from onemap.domain.assignment import DUPLICATE_METRES
from tests.conftest import onemap_command
from tests.support.answers import refused, send_json
from tests.support.clients import Client, demo_client, signed_in
from tests.support.dash_calls import callback_call, id_text

ACTIONS = [*lifecycle.ACTIONS, "dismiss"]
EXTEND = {"type": "desk-gated", "name": "extend"}
MARKER = "<desk-probe>"


def _many(component_id: str) -> list:
    """The components an ALL pattern stands for on the page."""
    declared = json.loads(component_id)
    if declared["type"] == "desk-action":
        return [{"type": "desk-action", "action": a} for a in ACTIONS]
    if declared["type"] == "desk-gated":
        return [EXTEND]
    if declared["type"] in ("desk-count", "desk-queue"):
        return [{"type": declared["type"], "queue": q} for q in QUEUES]
    raise AssertionError(component_id)


def dash_call(fragment: str, values: dict, changed: tuple[str, str]) -> dict:
    return callback_call(fragment, values, changed, _many)


def _post(client: Client, body: dict) -> tuple[int, str]:
    """(status, the answer's text with its Chinese as characters, not JSON escapes)."""
    status, _h, text, _c = client.request("POST", "/_dash-update-component", json_body=body,
                                          headers=client.same_origin())
    if text.startswith("{"):
        text = json.dumps(json.loads(text), ensure_ascii=False)
    return status, text


def show_case(case_id, seen=None) -> dict:
    return dash_call("desk-case-head.children", {("desk-case", "data"): case_id,
                                                 ("desk-refresh", "data"): 0,
                                                 ("desk-seen", "data"): seen},
                     ("desk-case", "data"))


def act(action: str, seen: dict, note=None, staff=None, into=None) -> dict:
    values = {(id_text({"type": "desk-action", "action": a}), "n_clicks"): int(a == action)
              for a in ACTIONS}
    values.update({("desk-seen", "data"): seen, ("desk-note", "value"): note,
                   ("desk-staff", "value"): staff, ("desk-into", "value"): into,
                   ("desk-refresh", "data"): 3})
    return dash_call("desk-note.value", values, ({"type": "desk-action", "action": action},
                                                 "n_clicks"))


def queues(queue="new", **filters) -> dict:
    values = {("desk-queue", "data"): queue, ("desk-refresh", "data"): 0}
    for name, value in filters.items():
        values[(f"desk-{name}", "value")] = value
    values.setdefault(("desk-period", "value"), "all")
    return dash_call("desk-list-rows.data", values, ("desk-queue", "data"))


def extend(seen: dict, amount=1, unit="working_days", reason="等配件") -> dict:
    return dash_call("desk-ext-note.value", {
        (id_text(EXTEND), "n_clicks"): 1, ("desk-seen", "data"): seen,
        ("desk-ext-amount", "value"): amount, ("desk-ext-unit", "value"): unit,
        ("desk-ext-note", "value"): reason, ("desk-refresh", "data"): 0},
        (EXTEND, "n_clicks"))


def submit_report(point: dict, title: str, ref: str, category="C0101") -> dict:
    return dash_call("desk-report-title.value", {
        ("desk-report-submit", "n_clicks"): 1, ("desk-report-point", "data"): point,
        ("desk-report-title", "value"): title, ("desk-report-category", "value"): category,
        ("desk-report-level", "value"): None, ("desk-report-channel", "value"): "hotline_12345",
        ("desk-report-description", "value"): None, ("desk-report-ref", "data"): ref},
        ("desk-report-submit", "n_clicks"))


def _one(url: str, sql: str, *params):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchone()


@pytest.fixture(scope="module")
def place(demo_district, demo_app_server):
    url = demo_district[0]
    grid, district = _one(url, "SELECT scope_code, left(scope_code, 6) FROM onemap.app_user"
                               " WHERE username = 'gridworker'")
    points = _one(url, "SELECT array_agg(ARRAY[ST_X(p), ST_Y(p)]) FROM (SELECT (ST_Dump("
                       "ST_GeneratePoints(geom, 200, 7))).geom AS p FROM onemap.grid"
                       " WHERE code = %s) g", grid)[0]
    return {"url": url, "grid": grid, "district": district, "points": points,
            "elsewhere": _registered_elsewhere(demo_app_server, url, grid)}


def _registered_elsewhere(server, url: str, grid: str) -> int:
    """A registered case in another street's grid, made here: how many registered cases the
    demo holds depends on the hour it was generated at (none late on a working day)."""
    lon, lat = _one(url, "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p"
                         " FROM onemap.grid WHERE left(code, 9) <> left(%s, 9)"
                         " ORDER BY code LIMIT 1) g", grid)
    duty = demo_client(server, "duty")
    status, _h, body, _c = duty.request("POST", "/api/events", json_body={
        "title": "外区案件", "category_code": "C0103", "lon": lon, "lat": lat,
        "external_ref": f"ELSEWHERE-{secrets.token_hex(6)}"}, headers=duty.same_origin())
    assert status == 201, body
    made = json.loads(body)
    status, _h, body, _c = duty.request("POST", f"/api/events/{made['id']}/transitions",
                                        json_body={"action": "register"},
                                        headers=duty.same_origin())
    assert status == 200, body
    return made["id"]
@pytest.fixture
def case(demo_app_server, place):
    """A fresh report in the grid worker's grid, with a reporter's name and phone, where no open
    case of its category lies within the duplicate distance (its flag would enable `dismiss`)."""
    where = _one(place["url"], """
        SELECT ARRAY[ST_X(p), ST_Y(p)] FROM (
          SELECT ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS p
            FROM unnest(%s::float8[], %s::float8[]) AS xy(lon, lat)) free
         WHERE NOT EXISTS (SELECT 1 FROM onemap.event e WHERE e.category_code = 'E0401'
                             AND onemap.event_is_open(e.state)
                             AND ST_DWithin(e.geom::geography, free.p::geography, %s))
         ORDER BY random() LIMIT 1""",
                 [xy[0] for xy in place["points"]], [xy[1] for xy in place["points"]],
                 2 * DUPLICATE_METRES)[0]
    status, _h, body, _c = demo_client(demo_app_server, "duty").request(
        "POST", "/api/events", json_body={
            "title": "占道经营", "category_code": "E0401", "lon": where[0], "lat": where[1],
            "reporter_name": "欧阳娜娜", "reporter_phone": "13812345678",
            "external_ref": f"DESK-{secrets.token_hex(6)}"},
        headers={"Origin": "http://localhost"})
    assert status == 201, body
    made = json.loads(body)
    assert made["duplicate_of_id"] is None, made
    return made


def _audits(url: str, case_id: int, action: str) -> int:
    return _one(url, "SELECT count(*) FROM onemap.audit_log WHERE object_id = %s"
                     " AND action = %s", str(case_id), action)[0]


def _refusals(url: str, username: str, capability: str) -> int:
    return _one(url, "SELECT count(*) FROM onemap.audit_log WHERE username = %s AND action ="
                     " 'refused' AND object_id = %s", username, capability)[0]


def test_roles_that_do_not_handle_cases_get_nothing(demo_app_server, place, case):
    seen = {"id": case["id"], "state": "reported"}
    for username in ("leader", "analyst", "admin"):
        client = demo_client(demo_app_server, username)
        before = _refusals(place["url"], username, "handle_event")
        for body in (queues(), show_case(case["id"]), act("register", seen)):
            status, text = _post(client, body)
            assert status == 204 and "占道经营" not in text, (username, status, text[:200])
        assert _refusals(place["url"], username, "handle_event") == before + 3
    assert _one(place["url"], "SELECT state FROM onemap.event WHERE id = %s",
                case["id"])[0] == "reported"
    # the desk's page itself: not permitted
    status, _h, body, _c = demo_client(demo_app_server, "leader").request("GET", "/desk")
    assert status == 200 and "占道经营" not in body


def test_a_case_of_another_area_is_no_case_and_cannot_be_moved(demo_app_server, place):
    worker = demo_client(demo_app_server, "gridworker")
    foreign = place["elsewhere"]
    title = _one(place["url"], "SELECT title FROM onemap.event WHERE id = %s", foreign)[0]
    status, text = _post(worker, show_case(foreign))
    assert status == 200 and "No such case in your area" in text
    assert title not in text
    before = _audits(place["url"], foreign, "event_dispatch")
    for action in ("dispatch", "reject", "merge"):
        status, text = _post(worker, act(action, {"id": foreign, "state": "registered"},
                                         staff=1, into=str(foreign)))
        # merging names the case it joins first: that one is out of reach as well
        assert status == 200 and ("No such case in your area" in text or (
            action == "merge" and "no such open case in your area" in text)), text[:300]
    assert _audits(place["url"], foreign, "event_dispatch") == before
    assert _one(place["url"], "SELECT state FROM onemap.event WHERE id = %s",
                foreign)[0] == "registered"
    # nor does the worker's queue list it, whatever the filters say
    status, text = _post(worker, queues("dispatch", unit=place["grid"]))
    assert status == 200 and title not in text
    status, text = _post(worker, queues("dispatch", unit=place["district"] + "001"))
    assert status == 400 and "unit" in text  # another street: outside the worker's area


def test_each_step_is_the_apis_with_its_history_and_audit_rows(demo_app_server, place, case):
    duty = demo_client(demo_app_server, "duty")
    staff = _one(place["url"], "SELECT id FROM onemap.staff WHERE grid_code = %s ORDER BY id"
                               " LIMIT 1", place["grid"])[0]
    state = "reported"
    for action, extra in [("register", {}), ("dispatch", {"staff": staff}), ("accept", {})]:
        status, text = _post(duty, act(action, {"id": case["id"], "state": state},
                                       note=f"{action} 备注", **extra))
        assert status == 200, text[:300]
        answer = json.loads(text)["response"]
        assert answer["desk-message"]["className"] == "desk-message ok", answer
        assert answer["desk-refresh"]["data"] == 4 and answer["desk-note"]["value"] == ""
        state = lifecycle.ACTIONS[action].to_state
        assert _audits(place["url"], case["id"], f"event_{action}") == 1
    history = [r[0] for r in psycopg.connect(place["url"]).execute(
        "SELECT note FROM onemap.event_history WHERE event_id = %s ORDER BY id",
        (case["id"],))]
    assert history[1:] == ["register 备注", "dispatch 备注", "accept 备注"]
    # the case as the desk shows it: masked reporter, its steps, what it allows now
    status, text = _post(duty, show_case(case["id"]))
    assert status == 200
    assert "欧**" in text and "138****5678" in text
    assert "欧阳娜娜" not in text and "13812345678" not in text
    answer = json.loads(text)["response"]
    assert answer["desk-seen"]["data"] == {"id": case["id"], "state": "handling"}
    enabled = {json.loads(key).get("action") or json.loads(key)["name"]
               for key, value in answer.items() if key.startswith("{") and not value["disabled"]}
    assert enabled == {"suspend", "report_back", "extend"}  # extend: a case being handled
    assert answer["desk-staff"]["disabled"] and answer["desk-into"]["disabled"]


def test_extension_needs_its_own_right(demo_app_server, place, case):
    duty, worker = (demo_client(demo_app_server, u) for u in ("duty", "gridworker"))
    staff = _one(place["url"], "SELECT id FROM onemap.staff WHERE grid_code = %s ORDER BY id"
                               " LIMIT 1", place["grid"])[0]
    state = "reported"
    for action, extra in [("register", {}), ("dispatch", {"staff": staff})]:
        assert _post(duty, act(action, {"id": case["id"], "state": state}, **extra))[0] == 200
        state = lifecycle.ACTIONS[action].to_state
    seen = {"id": case["id"], "state": state}
    due = _one(place["url"], "SELECT due_at FROM onemap.event WHERE id = %s", case["id"])[0]
    before = _refusals(place["url"], "gridworker", "approve_extension")
    assert _post(worker, extend(seen))[0] == 204
    assert _refusals(place["url"], "gridworker", "approve_extension") == before + 1
    assert _one(place["url"], "SELECT due_at FROM onemap.event WHERE id = %s",
                case["id"])[0] == due
    status, text = _post(duty, extend(seen, amount=0, reason=""))
    assert status == 200 and "amount" in text and "note" in text
    status, text = _post(duty, extend(seen))
    assert status == 200 and "已延期至" in text, text[:300]
    assert _one(place["url"], "SELECT due_at FROM onemap.event WHERE id = %s",
                case["id"])[0] > due
    assert _audits(place["url"], case["id"], "event_extend") == 1


@pytest.fixture(scope="module")
def second_officer(demo_district, place):
    """Another duty officer of the district (the demo has one)."""
    name = f"duty-{secrets.token_hex(3)}"
    done = subprocess.run([onemap_command(), "user", "add", name, "--role", "duty_officer",
                           "--scope", place["district"], "--name", "值班员 李四", "--password",
                           "second-officer-2026"], env=demo_district[1], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return name


def test_two_officers_at_once_the_second_is_told_what_happened(demo_app_server, place, case,
                                                               second_officer):
    first = demo_client(demo_app_server, "duty")
    second = signed_in(demo_app_server, second_officer, "second-officer-2026")
    both_saw = {"id": case["id"], "state": "reported"}
    status, text = _post(first, act("register", both_saw))
    assert status == 200 and "desk-message ok" in text
    status, text = _post(second, act("reject", both_saw, note="重复上报"))
    assert status == 200
    answer = json.loads(text)["response"]["desk-message"]
    assert answer["className"] == "desk-message error"
    assert answer["children"] == ("此案件已被他人处理，当前状态：已立案 · The case was moved"
                                  " meanwhile by someone else: now registered")
    assert _audits(place["url"], case["id"], "event_reject") == 0
    # a step refused for another reason says that reason
    status, text = _post(first, act("close", {"id": case["id"], "state": "registered"}))
    assert "当前状态下不能执行此操作" in text and "allowed: dispatch" in text


def test_a_report_made_on_the_desk_is_registered_as_the_api_registers_one(demo_app_server,
                                                                         place):
    duty = demo_client(demo_app_server, "duty")
    lon, lat = place["points"][0]
    ref = f"DESK-{secrets.token_hex(8)}"
    title = f"地图上报 {secrets.token_hex(3)}"
    for _twice in range(2):  # a second click on "report" files nothing new
        status, text = _post(duty, submit_report({"lat": lat, "lng": lon}, title, ref))
        assert status == 200, text[:300]
        assert "已上报" in text
    rows = psycopg.connect(place["url"]).execute(
        "SELECT e.id, e.channel, u.username FROM onemap.event e JOIN onemap.app_user u"
        " ON u.id = e.reported_by_user_id WHERE e.title = %s", (title,)).fetchall()
    assert len(rows) == 1 and rows[0][1:] == ("hotline_12345", "duty")
    assert _audits(place["url"], rows[0][0], "event_report") == 1
    # nowhere near the district: refused with the reason, nothing filed
    status, text = _post(duty, submit_report({"lat": 39.9, "lng": 116.4}, title + "x",
                                             f"DESK-{secrets.token_hex(8)}"))
    assert status == 200 and "no grid" in text
    status, text = _post(duty, submit_report({"lat": lat, "lng": lon}, "", ref + "y"))
    assert status == 200 and "title" in text
    # a role that may not report gets nothing
    assert _post(demo_client(demo_app_server, "leader"),
                 submit_report({"lat": lat, "lng": lon}, title, ref))[0] == 204


def test_photo_links_go_out_as_http_links_only(demo_app_server, place, case):
    with psycopg.connect(place["url"], autocommit=True) as conn:
        conn.execute("UPDATE onemap.event SET photo_urls = ARRAY['javascript:alert(1)',"
                     " 'https://photos.example/a.jpg', 'data:text/html,x'] WHERE id = %s",
                     (case["id"],))
    status, text = _post(demo_client(demo_app_server, "duty"), show_case(case["id"]))
    assert status == 200 and "https://photos.example/a.jpg" in text
    assert "javascript:" not in text and "data:text" not in text
    assert '"referrerPolicy":"no-referrer"' in text.replace(" ", "")
    assert '"rel":"noopener noreferrer"' in text.replace(": ", ":")


BAD_CALLS = {
    "queue unknown": queues(MARKER),
    "level is text": queues(level=MARKER),
    "unit is not a code": queues(unit=MARKER),
    "channel unknown": queues(channel=MARKER),
    "period unknown": queues(period=MARKER),
    "date malformed": queues(period="custom", start=MARKER),
    "search too long": queues(text="x" * 41),
    "case id is text": show_case(MARKER),
    "case id past bigint": show_case(10**30),
    "seen is text": act("register", MARKER),
    "seen state unknown": act("register", {"id": 1, "state": MARKER}),
    "staff is text": act("dispatch", {"id": 1, "state": "registered"}, staff=MARKER),
    "note too long": act("register", {"id": 1, "state": "reported"}, note="x" * 2001),
    "point is text": submit_report(MARKER, "t", "r"),
    "point out of range": submit_report({"lat": 999, "lng": 0}, "t", "r"),
}


@pytest.mark.parametrize("name", list(BAD_CALLS))
def test_malformed_desk_calls_are_400_naming_what_is_wrong(demo_app_server, name):
    error = refused(send_json(demo_client(demo_app_server, "duty"), "/_dash-update-component",
                              BAD_CALLS[name]))
    assert MARKER not in error


def test_the_walls_card_links_handlers_to_the_desk(demo_app_server, case):
    from layers.maps import WALL

    clicks = [{"id": {"name": n, "type": "wall-layer"}, "property": "clickData", "value": None}
              for n in WALL.layer_names]
    body = {"output": "..wall-card-body.children...wall-card.hidden...wall-map.viewport..",
            "outputs": [{"id": "wall-card-body", "property": "children"},
                        {"id": "wall-card", "property": "hidden"},
                        {"id": "wall-map", "property": "viewport"}],
            "inputs": [clicks, {"id": "wall-select", "property": "data",
                                "value": {"kind": "events", "id": case["id"]}},
                       {"id": "wall-card-close", "property": "n_clicks", "value": 0}],
            "state": [{"id": "wall-map", "property": "zoom", "value": 15}],
            "changedPropIds": ["wall-select.data"]}
    link = f"/desk?case={case['id']}"
    for username, shown in (("duty", True), ("gridworker", True), ("leader", False)):
        status, text = _post(demo_client(demo_app_server, username), body)
        assert status == 200 and (link in text) is shown, username


def test_possible_duplicates_are_merged_or_dismissed_on_the_desk(demo_app_server, place):
    duty = demo_client(demo_app_server, "duty")
    lon, lat = place["points"][-1]
    made = []
    for n in range(3):  # the same thing three times at one spot: the later two are flagged
        status, _h, body, _c = duty.request("POST", "/api/events", json_body={
            "title": f"井盖缺失 {n}", "category_code": "C0103", "lon": lon, "lat": lat,
            "external_ref": f"DUP-{secrets.token_hex(6)}"}, headers=duty.same_origin())
        assert status == 201, body
        made.append(json.loads(body))
    first, merged, dismissed = made
    assert merged["duplicate_of_id"] == first["id"]
    assert dismissed["duplicate_of_id"] in (first["id"], merged["id"])  # the nearest, newest
    status, text = _post(duty, queues("duplicates"))
    assert merged["code"] in text and dismissed["code"] in text and first["code"] not in text
    status, text = _post(duty, show_case(merged["id"]))
    answer = json.loads(text)["response"]
    assert answer["desk-into"]["value"] == first["code"]  # the case it may repeat, ready
    assert not answer[id_text({"action": "dismiss", "type": "desk-action"})]["disabled"]
    seen = {"id": merged["id"], "state": "reported"}
    status, text = _post(duty, act("merge", seen, note="同一井盖", into=first["code"]))
    assert "desk-message ok" in text and "已合并" in text, text[:300]
    status, text = _post(duty, act("dismiss", {"id": dismissed["id"], "state": "reported"},
                                   note="另一处井盖"))
    assert "已排除重复" in text
    with psycopg.connect(place["url"]) as conn:
        rows = dict(conn.execute(
            "SELECT id, ARRAY[state, CAST(duplicate_of_id AS text), CAST(merged_into_id AS text)]"
            " FROM onemap.event WHERE id = ANY(%s)", ([m["id"] for m in made],)).fetchall())
    assert rows[merged["id"]] == ["merged", None, str(first["id"])]
    assert rows[dismissed["id"]] == ["reported", None, None]
    assert _audits(place["url"], merged["id"], "event_merge") == 1
    assert _audits(place["url"], dismissed["id"], "event_dismiss_duplicate") == 1
    # the case it joined tells the story in its own timeline
    status, text = _post(duty, show_case(first["id"]))
    assert "并入重复上报" in text and merged["code"] in text


# -- the pure parts the callbacks stand on --------------------------------------------------

def test_an_old_or_edited_url_keeps_what_is_still_right():
    from pages.desk_filters import from_url

    values, queue, case_id = from_url({
        "queue": "overdue", "case": "123", "unit": "210103001", "cat": "C01", "level": "9",
        "channel": MARKER, "period": "custom", "from": "2026-13-40", "to": "2026-12-01",
        "q": ["twice", "given"]}, "210103")
    assert (queue, case_id) == ("overdue", 123)
    assert (values.unit, values.category, values.level, values.channel) == (
        "210103001", "C01", None, None)
    assert (values.period, values.start, values.end, values.text) == (
        "custom", None, "2026-12-01", None)
    # another area's unit, an unknown queue, a case id that is not one: dropped
    values, queue, case_id = from_url({"unit": "210104001", "queue": MARKER,
                                       "case": "1e9"}, "210103")
    assert (values.unit, queue, case_id) == (None, "new", None)


def test_time_windows_are_the_command_centres_days():
    from datetime import datetime, timedelta, timezone

    from pages.desk_filters import FilterValues, LOCAL, reported_between

    now = datetime(2026, 12, 3, 17, 30, tzinfo=timezone.utc)  # 01:30 on the 4th in Shenyang
    since, until = reported_between(FilterValues(period="today"), now)
    assert since == datetime(2026, 12, 4, tzinfo=LOCAL) and until is None
    since, until = reported_between(FilterValues(period="custom", start="2026-12-01",
                                                 end="2026-12-02"), now)
    assert (since, until) == (datetime(2026, 12, 1, tzinfo=LOCAL),
                              datetime(2026, 12, 3, tzinfo=LOCAL))  # the last day whole
    assert reported_between(FilterValues(period="7d"), now) == (now - timedelta(days=7), None)
    assert reported_between(FilterValues(period="all"), now) == (None, None)


def test_time_left_reads_at_a_glance():
    from datetime import datetime, timedelta, timezone

    from callbacks.desk_view import duration_text, time_left

    assert [duration_text(s) for s in (20, 45 * 60, 2 * 3600 + 15 * 60, 3 * 86400 + 7200,
                                       -5400)] == ["<1分", "45分", "2时15分", "3天2时", "1时30分"]
    now = datetime(2026, 12, 3, 9, tzinfo=timezone.utc)
    case = {"state": "handling", "due_at": now + timedelta(hours=2), "warned": True}
    assert time_left(case, now) == ("剩 2时", "warned")
    assert time_left({**case, "due_at": now - timedelta(minutes=30)}, now) == ("超期 30分",
                                                                               "late")
    assert time_left({**case, "state": "suspended"}, now)[1] == "paused"  # its clock stands
    assert time_left({**case, "state": "closed"}, now) == ("—", "none")

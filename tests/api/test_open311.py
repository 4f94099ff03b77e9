"""Open311 GeoReport v2 at /open311/v2/ (issue 11, point 4), in-process on the session's
PostGIS: a resident app's form post becomes a case on the open311 channel in the token's area,
audited; the case reads back as a service request, open and then closed as the loop moves it;
refusals come in the spec's error format with the spec's statuses; only a token (api_key or
Bearer) authenticates, never a browser's cookie; the token's scope bounds every read; XML
stays well-formed and escaped whatever the case holds."""

from __future__ import annotations

import json
import secrets
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from sqlalchemy import text

from geodata import sessions, users
from geodata.queries import events
from onemap.cli.tokens import NO_PASSWORD
from onemap.domain.roles import ROLE_CAPABILITIES
from tests.fixtures.hierarchy import DISTRICT, grid_box, insert_hierarchy, \
    remove_events_and_hierarchy
from tests.support.clients import Client

BASE = "/open311/v2"
SCRIPT = "<script>alert(1)</script> ]]> &amp; \x0b end"


@pytest.fixture(scope="module")
def area(engine, demo_users):
    """The hierarchy, the centre of each grid, and a member of staff to dispatch cases to;
    events made here are removed afterwards."""
    with engine.begin() as conn:
        codes = insert_hierarchy(conn)
        centres = {}
        for grid in codes["grid"]:
            x0, y0, x1, y1 = grid_box(conn, grid)
            centres[grid] = ((x0 + x1) / 2, (y0 + y1) / 2)
        staff = conn.execute(text(
            "INSERT INTO staff (code, name, tier, grid_code, status, on_duty)"
            " VALUES ('O311-S1', '处置员', 'grid_worker', :g, 'available', true) RETURNING id"),
            {"g": codes["grid"][0]}).scalar_one()
    yield {"grids": codes["grid"], "centres": centres, "staff": staff}
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM staff WHERE id = :s"), {"s": staff})
        remove_events_and_hierarchy(conn)


def _token(engine, role: str, scope: str) -> tuple[str, str]:
    """A token as `onemap token add` makes one: (its user's name, the token)."""
    name = f"app-{secrets.token_hex(4)}"
    with engine.begin() as conn:
        users.add(conn, username=name, display_name=name, password_hash=NO_PASSWORD, role=role,
                  scope_code=scope)
        user = users.by_username(conn, name)
        token = sessions.open_token(conn, user, capabilities=ROLE_CAPABILITIES[role],
                                    lifetime=timedelta(days=30))
    return name, token


@pytest.fixture(scope="module")
def district_key(engine, area):
    return _token(engine, "duty_officer", DISTRICT)


def _report(area, grid_index: int = 0, **fields) -> dict:
    lon, lat = area["centres"][area["grids"][grid_index]]
    return {"service_code": "C0101", "lat": f"{lat:.6f}", "long": f"{lon:.6f}",
            "address_string": "青年大街 100 号", "description": "井盖缺失\n靠近路口",
            "first_name": "三", "last_name": "张", "phone": "13812345678",
            "email": "zhang@example.cn", "device_id": "dev-1", "account_id": "acc-1",
            "media_url": "https://img.example.cn/a.jpg", **fields}


def _post(client: Client, form: dict, fmt: str = "json", headers: dict | None = None):
    status, head, body, _ = client.request("POST", f"{BASE}/requests.{fmt}", form,
                                           headers=headers)
    return status, head, body


def _get(client: Client, path: str, headers: dict | None = None):
    reply = client.send("GET", f"{BASE}/{path}", headers=headers)
    return reply.status, reply.headers, reply.text


def _errors(answer, status: int) -> list[str]:
    """The answer is the spec's error list (JSON or XML) with `status`; its descriptions."""
    code, head, body = answer
    assert code == status, (code, body[:400])
    if head["Content-Type"].startswith("application/json"):
        listed = json.loads(body)
        assert all(set(e) == {"code", "description"} and e["code"] == status for e in listed)
        return [e["description"] for e in listed]
    assert head["Content-Type"].startswith("text/xml"), head["Content-Type"]
    root = ET.fromstring(body.encode())
    assert root.tag == "errors" and all(e.tag == "error" for e in root)
    assert all(e.findtext("code") == str(status) for e in root)
    return [e.findtext("description") for e in root]


def _stored(engine, code: str) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT e.id, e.category_code, e.channel, e.state, e.title, e.address,"
            " e.reporter_name, e.reporter_phone, e.photo_urls, e.grid_code, e.description,"
            " ST_X(e.geom) AS lon, ST_Y(e.geom) AS lat, u.username AS reporter"
            " FROM event e JOIN app_user u ON u.id = e.reported_by_user_id"
            " WHERE e.code = :c"), {"c": code}).mappings().one())


def _count(engine, sql: str, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


# -- the catalogue ------------------------------------------------------------------------

def test_services_list_the_leaf_categories_in_json_and_valid_xml(app_server, area):
    client = Client(app_server)  # no key: the spec's service list is public
    status, head, body = _get(client, "services.json")
    assert status == 200 and head["Content-Type"] == "application/json; charset=utf-8"
    services = {s["service_code"]: s for s in json.loads(body)}
    assert services["C0101"] == {
        "service_code": "C0101", "service_name": "上水井盖",
        "description": "上水井盖 / water supply manhole cover", "metadata": False,
        "type": "realtime", "keywords": "上水井盖, water supply manhole cover, 公用设施,"
        " public facilities", "group": "公用设施"}
    assert "C01" not in services and "E0102" in services and "S0301" in services

    status, head, body = _get(client, "services.xml")
    assert status == 200 and head["Content-Type"] == "text/xml; charset=utf-8"
    assert body.startswith('<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(body.encode())
    assert root.tag == "services" and len(root) == len(services)
    lamp = next(s for s in root if s.findtext("service_code") == "C0106")
    assert (lamp.findtext("service_name"), lamp.findtext("metadata"),
            lamp.findtext("group")) == ("路灯", "false", "公用设施")

    english = json.loads(_get(client, "services.json?lang=en")[2])
    assert next(s for s in english if s["service_code"] == "C0106")["service_name"] \
        == "street lamp"
    accepted = json.loads(_get(client, "services.json",
                               headers={"Accept-Language": "en-US,en;q=0.8"})[2])
    assert accepted == english
    assert _errors(_get(client, "services.json?lang=fr"), 400)[0].startswith("lang:")

    found = json.loads(_get(client, "discovery.json")[2])
    assert found["endpoints"][0]["url"] == "http://localhost/open311/v2"
    endpoint = ET.fromstring(_get(client, "discovery.xml")[2].encode()).find("endpoints/endpoint")
    assert [f.text for f in endpoint.find("formats")] == ["text/xml", "application/json"]


def test_a_service_definition_and_unknown_services(app_server, area, engine):
    client = Client(app_server)
    status, _h, body = _get(client, "services/E0102.json")
    assert status == 200 and json.loads(body) == {"service_code": "E0102", "attributes": []}
    root = ET.fromstring(_get(client, "services/E0102.xml")[2].encode())
    assert root.tag == "service_definition" and root.findtext("service_code") == "E0102"
    assert root.find("attributes") is not None and len(root.find("attributes")) == 0
    for unknown in ("X9999.json", "C01.json", "X9999.xml"):  # C01 is a group, not a service
        assert _errors(_get(client, f"services/{unknown}"), 404) == [
            "service_code: no such service / 无此服务"]
    assert _errors(_get(client, "nothing.json"), 403)  # no key, no answer beyond that
    _name, key = _token(engine, "analyst", DISTRICT)
    assert _errors(_get(client, f"nothing.json?api_key={key}"), 404)
    assert _errors(_get(client, f"requests.txt?api_key={key}"), 404)


# -- the round trip -----------------------------------------------------------------------

def test_a_form_post_files_a_case_that_reads_back_open_and_then_closed(app_server, area,
                                                                      engine, district_key):
    name, key = district_key
    client = Client(app_server)  # a server, not a browser: no cookie, no Origin
    audits = _count(engine, "SELECT count(*) FROM audit_log WHERE action = 'event_report'"
                    " AND username = :u", u=name)
    status, head, body = _post(client, {"api_key": key, **_report(area)})
    assert status == 200, body
    [made] = json.loads(body)
    code = made["service_request_id"]
    assert code.startswith("AJ") and made["account_id"] is None and code in made["service_notice"]

    stored = _stored(engine, code)
    lon, lat = area["centres"][area["grids"][0]]
    assert (stored["category_code"], stored["channel"], stored["state"], stored["grid_code"]) \
        == ("C0101", "open311", "reported", area["grids"][0])
    assert abs(stored["lon"] - lon) < 1e-6 and abs(stored["lat"] - lat) < 1e-6
    assert stored["title"] == "上水井盖：青年大街 100 号"
    assert (stored["reporter_name"], stored["reporter_phone"], stored["photo_urls"]) \
        == ("张三", "13812345678", ["https://img.example.cn/a.jpg"])
    assert stored["reporter"] == name
    assert _count(engine, "SELECT count(*) FROM audit_log WHERE action = 'event_report'"
                  " AND username = :u AND object_id = :e AND details->>'channel' = 'open311'",
                  u=name, e=str(stored["id"])) == 1
    assert _count(engine, "SELECT count(*) FROM audit_log WHERE action = 'event_report'"
                  " AND username = :u", u=name) == audits + 1

    status, _h, body = _get(client, f"requests/{code}.json?api_key={key}")
    assert status == 200, body
    [case] = json.loads(body)
    assert (case["service_request_id"], case["status"], case["service_code"],
            case["service_name"], case["status_notes"]) == (code, "open", "C0101", "上水井盖",
                                                            "已上报")
    assert abs(case["lat"] - lat) < 1e-6 and abs(case["long"] - lon) < 1e-6
    assert case["requested_datetime"].endswith("+08:00")
    assert case["expected_datetime"] and case["expected_datetime"].endswith("+08:00")
    assert case["media_url"] == "https://img.example.cn/a.jpg"
    assert case["agency_responsible"] == "区水务局"  # C0101 is the Water Bureau's
    assert "张三" not in body and "13812345678" not in body and "zhang@" not in body
    assert _count(engine, "SELECT count(*) FROM audit_log WHERE action = 'open311_request'"
                  " AND username = :u AND object_id = :e", u=name, e=str(stored["id"])) == 1

    with engine.begin() as conn:  # the loop, as the duty desk moves it
        for action, staff in (("register", None), ("dispatch", area["staff"]),
                              ("accept", None), ("report_back", None), ("verify", None)):
            events.transition(conn, stored["id"], action, None, None, staff)
        events.transition(conn, stored["id"], "close", None, "井盖已更换")
    status, _h, body = _get(client, f"requests/{code}.json",
                            headers={"Authorization": f"Bearer {key}"})
    [case] = json.loads(body)
    assert (status, case["status"], case["status_notes"]) == (200, "closed", "已结案：井盖已更换")
    assert case["expected_datetime"] is None and case["updated_datetime"].endswith("+08:00")
    english = json.loads(_get(client, f"requests/{code}.json?lang=en&api_key={key}")[2])[0]
    assert (english["status_notes"], english["service_name"], english["agency_responsible"]) \
        == ("closed: 井盖已更换", "water supply manhole cover", "Water Bureau")


def test_xml_answers_post_and_read_back_in_xml_and_bearer_and_multipart_work(app_server, area,
                                                                            district_key):
    _name, key = district_key
    client = Client(app_server)
    status, head, body = _post(client, _report(area, 1), fmt="xml",
                               headers={"Authorization": f"Bearer {key}"})
    assert status == 200 and head["Content-Type"] == "text/xml; charset=utf-8", body
    root = ET.fromstring(body.encode())
    assert root.tag == "service_requests" and [r.tag for r in root] == ["request"]
    code = root[0].findtext("service_request_id")
    assert code.startswith("AJ") and root[0].find("account_id").text is None

    boundary = "----open311" + secrets.token_hex(4)
    fields = {"api_key": key, **_report(area, 2, service_code="E0102")}
    multipart = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'
                        f"{v}\r\n" for k, v in fields.items()) + f"--{boundary}--\r\n"
    reply = client.send("POST", f"{BASE}/requests.json", multipart.encode(),
                        {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert reply.status == 200, reply.text
    assert json.loads(reply.text)[0]["service_request_id"].startswith("AJ")


def test_a_retry_with_the_same_idempotency_key_is_one_case(app_server, area, engine,
                                                           district_key):
    _name, key = district_key
    client = Client(app_server)
    retry = {"Idempotency-Key": f"app-{secrets.token_hex(6)}"}
    first = _post(client, {"api_key": key, **_report(area)}, headers=retry)
    again = _post(client, {"api_key": key, **_report(area)}, headers=retry)
    assert (first[0], again[0]) == (200, 200)
    assert json.loads(first[2])[0]["service_request_id"] \
        == json.loads(again[2])[0]["service_request_id"]
    assert "Idempotent-Replayed" not in first[1] and again[1]["Idempotent-Replayed"] == "true"
    assert _count(engine, "SELECT count(*) FROM event WHERE external_ref = :k",
                  k=retry["Idempotency-Key"]) == 1


# -- refusals -----------------------------------------------------------------------------

def test_bad_input_is_named_in_the_spec_format_and_stores_nothing(app_server, area, engine,
                                                                  district_key):
    _name, key = district_key
    client = Client(app_server)
    before = _count(engine, "SELECT count(*) FROM event")
    missing = _errors(_post(client, {"api_key": key, **_report(area, service_code="")}), 400)
    assert missing == ["service_code: required / 必填"]
    for lat in ("north", "nan", "inf"):
        described = _errors(_post(client, {"api_key": key, **_report(area, lat=lat)}), 400)
        assert [d.split(":")[0] for d in described] == ["lat"]
    out_of_range = _errors(_post(client, {"api_key": key, **_report(area, lat="123")}), 400)
    assert [d.split(":")[0] for d in out_of_range] == ["lat/long"]
    no_position = _errors(_post(client, {"api_key": key, **_report(area, lat="", long="")},
                                fmt="xml"), 400)
    assert no_position[0].startswith("lat/long: both required")
    several = _errors(_post(client, {"api_key": key, **_report(
        area, service_code="", long="east", media_url="javascript:alert(1)",
        description="x" * 4001)}), 400)
    assert sorted(d.split(":")[0] for d in several) == ["description", "long", "media_url",
                                                       "service_code"]
    assert _errors(_post(client, {"api_key": key, **_report(area, service_code="X9")}), 404) \
        == ["service_code: no such service / 无此服务"]
    far = _errors(_post(client, {"api_key": key, **_report(area, lat="30.0", long="110.0")}),
                  400)
    assert far[0].startswith("lat/long: the place is in no grid")
    status, _h, body, _c = client.request("POST", f"{BASE}/requests.json",
                                          json_body={"service_code": "C0101"},
                                          headers={"Authorization": f"Bearer {key}"})
    assert _errors((status, _h, body), 400)[0].startswith("body: a form")
    assert _count(engine, "SELECT count(*) FROM event") == before


def test_no_wrong_expired_or_revoked_key_gets_in(app_server, area, engine):
    name, key = _token(engine, "duty_officer", DISTRICT)
    client = Client(app_server)
    form = _report(area)
    assert _post(client, {"api_key": key, **form})[0] == 200
    for sent in ({}, {"api_key": key + "x"}, {"api_key": ""}):
        descriptions = _errors(_post(client, {**sent, **form}), 403)
        assert "api_key" in descriptions[0]
    assert _errors(_get(client, "requests.json"), 403)
    assert _errors(_get(client, f"requests.xml?api_key={key}x"), 403)
    with engine.begin() as conn:
        conn.execute(text("UPDATE web_session SET expires_at = now() - interval '1 second'"
                          " WHERE user_id = (SELECT id FROM app_user WHERE username = :u)"),
                     {"u": name})
    assert _errors(_post(client, {"api_key": key, **form}), 403)
    revoked_name, revoked = _token(engine, "duty_officer", DISTRICT)
    assert _get(client, f"requests.json?api_key={revoked}")[0] == 200
    with engine.begin() as conn:
        user = users.by_username(conn, revoked_name)
        assert sessions.end_tokens(conn, user.id) == 1
    assert _errors(_get(client, f"requests.json?api_key={revoked}"), 403)
    assert _errors(_post(client, {"api_key": revoked, **form}), 403)


def test_a_key_without_the_right_or_outside_its_area_is_refused(app_server, area, engine):
    _leader, leader_key = _token(engine, "leader", DISTRICT)  # may look, may not report
    _grid, grid_key = _token(engine, "grid_worker", area["grids"][0])
    client = Client(app_server)
    before = _count(engine, "SELECT count(*) FROM event")
    assert _errors(_post(client, {"api_key": leader_key, **_report(area)}), 403) \
        == ["无此权限 / not permitted for your role"]
    assert _get(client, f"requests.json?api_key={leader_key}")[0] == 200
    refused = _errors(_post(client, {"api_key": grid_key, **_report(area, 3)}), 403)
    assert refused == ["位置超出您的管辖范围 / the place is outside your area"]  # the intake's
    assert _count(engine, "SELECT count(*) FROM event") == before
    assert _post(client, {"api_key": grid_key, **_report(area, 0)})[0] == 200


def test_a_browser_session_cookie_alone_cannot_post_or_read(app_server, area, engine):
    browser = Client(app_server, agent="Mozilla/5.0 (open311 test)")
    assert browser.sign_in("duty")[0] == 302
    assert browser.request("GET", "/api/layers")[0] == 200  # the cookie works where it should
    before = _count(engine, "SELECT count(*) FROM event")
    same_site = _errors(_post(browser, _report(area), headers=browser.same_origin()), 403)
    assert "api_key" in same_site[0]
    cross_site = _post(browser, _report(area), headers={"Origin": "https://evil.example"})
    assert cross_site[0] == 403
    assert _errors(_get(browser, "requests.json"), 403)
    assert _count(engine, "SELECT count(*) FROM event") == before


def test_an_unknown_request_and_bad_queries(app_server, area, district_key):
    _name, key = district_key
    client = Client(app_server)
    assert _errors(_get(client, f"requests/AJ20991231999999.json?api_key={key}"), 404) == [
        "您的管辖范围内无此案件 / no such request in the area of this api_key"]
    assert _errors(_get(client, f"requests/{'A' * 200}.xml?api_key={key}"), 404)
    for query, field in (("start_date=yesterday", "start_date"),
                         ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
                          "end_date"),
                         ("start_date=2026-02-01&end_date=2026-01-01", "end_date"),
                         ("end_date=0001-01-01T00:00:00Z", "end_date"),
                         ("status=pending", "status"),
                         ("service_request_id=" + ",".join(f"AJ{n}" for n in range(101)),
                          "service_request_id")):
        described = _errors(_get(client, f"requests.json?api_key={key}&{query}"), 400)
        assert [d.split(":")[0] for d in described] == [field], query


def test_odd_bytes_anywhere_are_refused_never_a_500(app_server, area, district_key):
    """NUL and the like in a path, a query or a form: PostgreSQL refuses NUL in text, so none
    may reach it; each is a 404 or a 400 in the spec's format."""
    _name, key = district_key
    client = Client(app_server)
    assert _errors(_get(client, f"requests/AJ%00.json?api_key={key}"), 404)
    assert _errors(_get(client, "services/C01%0001.xml"), 404)
    for query in ("service_code=C0101%00", "service_request_id=AJ%00", "status=open%00",
                  "start_date=2026-01-01%00", "lang=zh%00"):
        assert _errors(_get(client, f"requests.json?api_key={key}&{query}"), 400), query
    assert _errors(_get(client, f"requests.json?api_key={key}%00"), 403)
    nul_in_form = _errors(_post(client, {"api_key": key, **_report(area, lat="41.8\x00")}),
                          400)
    assert "NUL" in nul_in_form[0]
    weird = {"api_key": key, **_report(area, service_code="C" * 20, crs="mars",
                                       phone="1" * 40, first_name="名" * 70)}
    described = _errors(_post(client, weird, headers={"Idempotency-Key": "键"}), 400)
    assert sorted(d.split(":")[0] for d in described) == [
        "Idempotency-Key", "crs", "first_name/last_name", "phone", "service_code"]


# -- scope, privacy and escaping ----------------------------------------------------------

def test_the_key_s_scope_bounds_what_requests_lists(app_server, area, engine, district_key):
    _name, key = district_key
    client = Client(app_server)
    mine = json.loads(_post(client, {"api_key": key, **_report(area, 0)})[2])[0][
        "service_request_id"]
    other = json.loads(_post(client, {"api_key": key, **_report(area, 5)})[2])[0][
        "service_request_id"]
    _grid_name, grid_key = _token(engine, "grid_worker", area["grids"][0])

    every = {c["service_request_id"] for c in json.loads(
        _get(client, f"requests.json?api_key={key}")[2])}
    assert {mine, other} <= every
    seen = json.loads(_get(client, f"requests.json?api_key={grid_key}")[2])
    codes = {c["service_request_id"] for c in seen}
    assert mine in codes and other not in codes
    with engine.connect() as conn:
        grids = set(conn.execute(text("SELECT grid_code FROM event WHERE code = ANY(:c)"),
                                 {"c": list(codes)}).scalars())
    assert grids == {area["grids"][0]}
    asked = json.loads(_get(client, f"requests.json?api_key={grid_key}"
                                    f"&service_request_id={mine},{other}")[2])
    assert [c["service_request_id"] for c in asked] == [mine]
    assert _errors(_get(client, f"requests/{other}.json?api_key={grid_key}"), 404) == [
        "您的管辖范围内无此案件 / no such request in the area of this api_key"]
    for case in seen:  # never the reporter
        assert not {"reporter_name", "reporter_phone", "first_name", "phone"} & set(case)
    assert "张三" not in json.dumps(seen, ensure_ascii=False)


def test_requests_filter_by_status_service_and_window(app_server, area, engine, district_key):
    _name, key = district_key
    client = Client(app_server)
    code = json.loads(_post(client, {"api_key": key, **_report(area, 4,
                                                                service_code="E0104")})[2])[0][
        "service_request_id"]
    with engine.begin() as conn:
        event_id = conn.execute(text("SELECT id FROM event WHERE code = :c"),
                                {"c": code}).scalar_one()
        events.transition(conn, event_id, "reject", None, "重复上报")

    def listed(query: str) -> set[str]:
        status, _h, body = _get(client, f"requests.json?api_key={key}&{query}")
        assert status == 200, body
        return {c["service_request_id"] for c in json.loads(body)}

    assert code in listed("status=closed") and code not in listed("status=open")
    assert code in listed("status=open,closed") and code in listed("service_code=E0104,C0101")
    assert code not in listed("service_code=C0101")
    assert code not in listed("start_date=2020-01-01T00:00:00Z")  # the 90 days from then
    assert code not in listed("end_date=2999-01-01")  # the 90 days before then
    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat(timespec="seconds")
    assert code in listed("start_date=" + quote(yesterday))
    [case] = json.loads(_get(client, f"requests/{code}.json?api_key={key}")[2])
    assert (case["status"], case["status_notes"]) == ("closed", "不予立案：重复上报")


def test_xml_escapes_what_a_case_holds(app_server, area, district_key):
    _name, key = district_key
    client = Client(app_server)
    code = json.loads(_post(client, {"api_key": key, **_report(
        area, description=SCRIPT, address_string="<b>路口</b>")})[2])[0]["service_request_id"]
    status, head, body = _get(client, f"requests/{code}.xml?api_key={key}")
    assert status == 200 and head["Content-Type"] == "text/xml; charset=utf-8"
    assert "<script>" not in body and "]]>" not in body and "<b>" not in body
    assert "&lt;script&gt;" in body
    request = ET.fromstring(body.encode()).find("request")
    assert request.findtext("description") == SCRIPT.replace("\x0b", "\ufffd")
    assert request.findtext("address") == "<b>路口</b>"
    listing = _get(client, f"requests.xml?api_key={key}&service_request_id={code}")[2]
    assert ET.fromstring(listing.encode()).find("request/description").text \
        == SCRIPT.replace("\x0b", "\ufffd")
    as_json = json.loads(_get(client, f"requests/{code}.json?api_key={key}")[2])[0]
    assert as_json["description"] == SCRIPT  # JSON carries it as it is


def test_an_oversized_form_is_refused_in_the_spec_format(app_server, area, district_key):
    _name, key = district_key
    client = Client(app_server)
    status, head, body = _post(client, {"api_key": key, **_report(
        area, description="x" * 1_100_000)})
    assert _errors((status, head, body), 413)[0].startswith("request body larger than")

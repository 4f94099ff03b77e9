"""An IoT platform's readings over HTTP (issue 11, point 7, sensor half): batches stored whole
or not at all, alarms raised once per excursion and cleared on recovery, one case per alarm
while it is open (and a new one once it is closed), resent batches changing nothing, scope,
masking and the audit log on every path, tokens and browser sessions as for all of /api/."""

from __future__ import annotations

import json
import secrets
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from geodata import sessions, users
from onemap.domain import idcard
from onemap.domain.roles import ROLE_CAPABILITIES
from tests.fixtures.hierarchy import (
    DISTRICT,
    grid_box,
    insert_building,
    insert_hierarchy,
    remove_events_and_hierarchy,
)
from tests.support.clients import Client, signed_in

BEIJING = timezone(timedelta(hours=8))
START = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=2)
WEARER = "王秀英"
PATH = "/api/sensors/readings"


def _at(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).astimezone(BEIJING).isoformat()


@pytest.fixture(scope="module")
def area(engine, demo_users):
    """The hierarchy, a building in the first grid and an old woman living there; everything
    made here is removed afterwards (users stay: audit rows name them)."""
    with engine.begin() as conn:
        codes = insert_hierarchy(conn)
        grids = codes["grid"]
        building = insert_building(conn, grids[0], "B-SENSOR")
        address = conn.execute(text("SELECT address FROM building WHERE id = :b"),
                               {"b": building}).scalar()
        id_number = idcard.make(DISTRICT, date(1941, 3, 8), "F", 17)
        person = conn.execute(text(
            "INSERT INTO person (id_number, name, gender, birth_date, phone, population_type)"
            " VALUES (:id, :name, 'F', '1941-03-08', '13800001234', 'registered')"
            " RETURNING id"), {"id": id_number, "name": WEARER}).scalar_one()
        boxes = {g: grid_box(conn, g) for g in grids}
    yield {"grids": grids, "boxes": boxes, "building": building, "address": address,
           "person": person, "id_number": id_number}
    with engine.begin() as conn:
        for table in ("sensor_alarm", "sensor_reading", "sensor"):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text("DELETE FROM person WHERE id = :p"), {"p": person})
        conn.execute(text("DELETE FROM building WHERE id = :b"), {"b": building})
        remove_events_and_hierarchy(conn)


def _sensor(engine, area, kind: str = "gas", *, grid: int = 0, high: float | None = 20.0,
            low: float | None = None, name: str | None = None, worn: bool = False,
            unit: str | None = "%LEL") -> dict:
    """A sensor of its own for one test (committed): code, id, lon, lat."""
    code = f"T-{kind[:5]}-{secrets.token_hex(3)}"
    x0, y0, x1, y1 = area["boxes"][area["grids"][grid]]
    lon, lat = x0 + (x1 - x0) * 0.3, y0 + (y1 - y0) * 0.4
    with engine.begin() as conn:
        sensor_id = conn.execute(text(
            "INSERT INTO sensor (code, kind, name, unit_of_measure, low_threshold,"
            " high_threshold, status, grid_code, building_id, person_id, geom)"
            " VALUES (:code, :kind, :name, :unit, :low, :high, 'normal', :grid, :building,"
            " :person, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) RETURNING id"),
            {"code": code, "kind": kind, "name": name or f"燃气探测器 {code}", "unit": unit,
             "low": low, "high": high, "grid": area["grids"][grid],
             "building": area["building"] if grid == 0 else None,
             "person": area["person"] if worn else None, "lon": lon, "lat": lat}).scalar_one()
    return {"code": code, "id": sensor_id, "lon": lon, "lat": lat}


def _token(engine, role: str, scope: str) -> tuple[str, str]:
    """An API token as `onemap token add` makes one: (its system's name, the token)."""
    name = f"iot-{secrets.token_hex(4)}"
    with engine.begin() as conn:
        users.add(conn, username=name, display_name=name, password_hash="!token", role=role,
                  scope_code=scope)
        token = sessions.open_token(conn, users.by_username(conn, name),
                                    capabilities=ROLE_CAPABILITIES[role],
                                    lifetime=timedelta(days=1))
    return name, token


@pytest.fixture(scope="module")
def platform(engine, area):
    """The IoT platform's token: a duty officer's role over the whole district."""
    return _token(engine, "duty_officer", DISTRICT)


def _post(client: Client, token: str | None, readings, headers=None) -> tuple[int, dict]:
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    reply = client.send("POST", PATH, json.dumps({"readings": readings}), sent)
    return reply.status, reply.json()


def _reading(sensor: dict, minutes: float, value) -> dict:
    return {"sensor": sensor["code"], "at": _at(minutes), "value": value}


def _rows(engine, sql: str, **params) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def _alarms(engine, sensor: dict) -> list[tuple]:
    """(id, direction, cleared or not, case) of each of the sensor's alarms, oldest first."""
    return _rows(engine, "SELECT id, direction, cleared_at IS NOT NULL, event_id"
                 " FROM sensor_alarm WHERE sensor_id = :s ORDER BY raised_at, id", s=sensor["id"])


def _history(engine, case: int) -> list[tuple]:
    return _rows(engine, "SELECT action, note FROM event_history WHERE event_id = :e"
                 " ORDER BY id", e=case)


def _state(engine, sensor: dict) -> tuple:
    return _rows(engine, "SELECT status, last_value FROM sensor WHERE id = :s",
                 s=sensor["id"])[0]


def test_readings_inside_the_thresholds_are_stored_and_raise_nothing(app_server, engine, area,
                                                                     platform):
    sensor = _sensor(engine, area)
    name, token = platform
    status, answer = _post(Client(app_server), token, [
        _reading(sensor, 0, 1.5), _reading(sensor, 2, 3.0), _reading(sensor, 1, 2.0)])
    assert status == 200, answer
    assert (answer["stored"], answer["duplicates"], answer["alarms_raised"]) == (3, 0, [])
    assert _rows(engine, "SELECT count(*) FROM sensor_reading WHERE sensor_id = :s",
                 s=sensor["id"]) == [(3,)]
    assert _state(engine, sensor) == ("normal", 3.0)  # the newest, not the last sent
    assert _alarms(engine, sensor) == []
    audited = _rows(engine, "SELECT details->>'stored', details->>'alarms_raised'"
                    " FROM audit_log WHERE username = :u AND action = 'sensor_readings'"
                    " ORDER BY id DESC LIMIT 1", u=name)
    assert audited == [("3", "0")]


def test_an_alarm_opens_one_case_and_further_readings_past_it_open_no_other(app_server,
                                                                          engine, area,
                                                                          platform):
    sensor = _sensor(engine, area)
    name, token = platform
    client = Client(app_server)
    status, answer = _post(client, token, [_reading(sensor, 0, 4.0), _reading(sensor, 1, 25.0)])
    assert status == 200, answer
    [(alarm, direction, cleared, case)] = _alarms(engine, sensor)
    assert (direction, cleared) == ("high", False) and answer["alarms_raised"] == [alarm]
    assert answer["cases_opened"] == [{"id": case, "code": answer["cases_opened"][0]["code"],
                                       "alarm_id": alarm}]
    [made] = _rows(engine, "SELECT channel, category_code, level, title, external_ref, address,"
                   " ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)"
                   "::geography) < 0.01, state FROM event WHERE id = :e",
                   e=case, x=sensor["lon"], y=sensor["lat"])
    assert made == ("sensor", "E0403", 1, "燃气浓度超限 Gas concentration high (25 %LEL)",
                    f"alarm:{alarm}", area["address"], True, "reported")
    assert _state(engine, sensor) == ("alarm", 25.0)
    assert _rows(engine, "SELECT username, details->>'alarm_id' FROM audit_log"
                 " WHERE action = 'event_report' AND object_id = :e", e=str(case)) == [
        (name, str(alarm))]
    for minute, value in ((2, 30.0), (3, 35.0), (4, 40.0)):  # three later batches
        status, again = _post(client, token, [_reading(sensor, minute, value)])
        assert status == 200 and again["alarms_raised"] == [] and again["cases_opened"] == []
    assert _alarms(engine, sensor) == [(alarm, "high", False, case)]
    assert _rows(engine, "SELECT count(*) FROM event WHERE channel = 'sensor'"
                 " AND external_ref LIKE 'alarm:%' AND id IN (SELECT event_id FROM sensor_alarm"
                 " WHERE sensor_id = :s)", s=sensor["id"]) == [(1,)]
    assert _state(engine, sensor) == ("alarm", 40.0)


def test_recovery_and_a_new_excursion_join_the_open_case_and_a_closed_one_is_not_reopened(
        app_server, engine, area, platform):
    sensor = _sensor(engine, area)
    client, token = Client(app_server), platform[1]
    assert _post(client, token, [_reading(sensor, 0, 25.0)])[0] == 200
    [(first, *_rest, case)] = _alarms(engine, sensor)
    status, answer = _post(client, token, [_reading(sensor, 5, 3.0)])  # back to normal
    assert status == 200 and answer["alarms_cleared"] == [first]
    assert _alarms(engine, sensor) == [(first, "high", True, case)]
    assert _state(engine, sensor) == ("normal", 3.0)
    assert _history(engine, case)[-1] == ("recovered", "恢复正常 / recovered: 3 %LEL")
    # again while the case is open: the new alarm joins it
    status, answer = _post(client, token, [_reading(sensor, 10, 31.0)])
    assert status == 200 and answer["cases_opened"] == []
    second = answer["alarms_raised"][0]
    assert answer["cases_attached"] == [{"alarm_id": second, "case_id": case}]
    assert _alarms(engine, sensor)[-1] == (second, "high", False, case)
    assert _history(engine, case)[-1] == ("alarm_again", "再次告警 / alarm again: 31 %LEL")
    # the case is closed; the sensor recovers and alarms once more: a new case
    with engine.begin() as conn:
        conn.execute(text("UPDATE event SET state = 'closed', closed_at = now() WHERE id = :e"),
                     {"e": case})
    _post(client, token, [_reading(sensor, 15, 2.0)])
    status, answer = _post(client, token, [_reading(sensor, 20, 33.0)])
    [opened] = answer["cases_opened"]
    assert status == 200 and opened["id"] != case
    assert [a[3] for a in _alarms(engine, sensor)] == [case, case, opened["id"]]
    assert _rows(engine, "SELECT state FROM event WHERE id = :e", e=case) == [("closed",)]


def test_the_same_batch_sent_again_changes_nothing(app_server, engine, area, platform):
    sensor = _sensor(engine, area)
    client, token = Client(app_server), platform[1]
    batch = [_reading(sensor, 0, 2.0), _reading(sensor, 1, 26.0), _reading(sensor, 2, 1.0)]

    def everything():
        return (_rows(engine, "SELECT read_at, value FROM sensor_reading WHERE sensor_id = :s"
                      " ORDER BY read_at", s=sensor["id"]),
                _rows(engine, "SELECT * FROM sensor_alarm WHERE sensor_id = :s ORDER BY id",
                      s=sensor["id"]),
                _rows(engine, "SELECT last_value, last_reading_at, status FROM sensor"
                      " WHERE id = :s", s=sensor["id"]),
                _rows(engine, "SELECT count(*) FROM event"),
                _rows(engine, "SELECT count(*) FROM event_history"))

    status, first = _post(client, token, batch)
    assert status == 200 and first["stored"] == 3 and len(first["cases_opened"]) == 1
    before = everything()
    status, again = _post(client, token, list(reversed(batch)))
    assert status == 200, again
    assert (again["stored"], again["duplicates"], again["alarms_raised"],
            again["alarms_cleared"], again["cases_opened"]) == (0, 3, [], [], [])
    assert everything() == before


def test_a_batch_with_one_bad_reading_stores_nothing_and_names_it(app_server, engine, area,
                                                                   platform):
    sensor = _sensor(engine, area)
    client, token = Client(app_server), platform[1]
    future = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    status, answer = _post(client, token, [
        _reading(sensor, 0, 99.0), _reading(sensor, 1, "high"), _reading(sensor, 2, 1.0),
        {"sensor": sensor["code"], "at": future, "value": 1.0}])
    assert status == 400
    assert set(answer["fields"]) == {"readings[1].value", "readings[3].at"}
    assert " / " in answer["error"] and "high" not in json.dumps(answer)
    status, answer = _post(client, token, [
        _reading(sensor, 0, 99.0), _reading(sensor, 1, 2.0),
        {"sensor": "NO-SUCH-SENSOR", "at": _at(1), "value": 1.0}])
    assert status == 422
    assert answer["fields"] == {"readings[2].sensor": "您的管辖范围内无此设备 / no such sensor"
                                                      " in your area"}
    assert _rows(engine, "SELECT count(*) FROM sensor_reading WHERE sensor_id = :s",
                 s=sensor["id"]) == [(0,)]
    assert _alarms(engine, sensor) == [] and _state(engine, sensor) == ("normal", None)


def test_a_sensor_outside_the_tokens_area_is_as_unknown_as_one_that_does_not_exist(
        app_server, engine, area):
    elsewhere = _sensor(engine, area, grid=7)  # another street's grid
    _name, token = _token(engine, "grid_worker", area["grids"][0])
    client = Client(app_server)
    outside = _post(client, token, [_reading(elsewhere, 0, 99.0)])
    unknown = _post(client, token, [{"sensor": "T-gas-nothing", "at": _at(0), "value": 99.0}])
    assert outside == unknown and outside[0] == 422
    assert _rows(engine, "SELECT count(*) FROM sensor_reading WHERE sensor_id = :s",
                 s=elsewhere["id"]) == [(0,)]
    assert _alarms(engine, elsewhere) == []
    bearer = {"Authorization": f"Bearer {token}"}
    looked = client.send("GET", f"/api/sensors/{elsewhere['code']}/readings", headers=bearer)
    missing = client.send("GET", "/api/sensors/T-gas-nothing/readings", headers=bearer)
    assert looked.status == missing.status == 404 and looked.json() == missing.json()


def test_a_worn_sensors_case_names_nobody(app_server, engine, area, platform):
    band = _sensor(engine, area, "wristband", low=45.0, high=130.0, worn=True, unit="bpm",
                   name=f"{WEARER}的手环")
    name, token = platform
    client = Client(app_server)
    status, answer = _post(client, token, [_reading(band, 0, 72.0), _reading(band, 1, 150.0)])
    assert status == 200 and len(answer["cases_opened"]) == 1, answer
    case = answer["cases_opened"][0]["id"]
    [made] = _rows(engine, "SELECT category_code, level, address, title, coalesce(description,"
                   " ''), coalesce(reporter_name, ''), coalesce(reporter_phone, '')"
                   " FROM event WHERE id = :e", e=case)
    assert made[:3] == ("S0301", 2, area["address"])
    case_text = " ".join(made[3:]) + json.dumps(answer, ensure_ascii=False) + " ".join(
        n or "" for _a, n in _history(engine, case))
    for personal in (WEARER, WEARER[1:], area["id_number"], area["id_number"][6:14],
                     "13800001234"):
        assert personal not in case_text, personal
    assert band["code"] in made[4]  # the device is named by its code
    # the wearer's heart rate is a person's health data: looking at it is audited
    looked = client.send("GET", f"/api/sensors/{band['code']}/readings",
                         headers={"Authorization": f"Bearer {token}"})
    assert looked.status == 200 and [p["value"] for p in looked.json()["readings"]] == [
        72.0, 150.0]
    assert WEARER not in looked.text
    assert _rows(engine, "SELECT count(*) FROM audit_log WHERE username = :u"
                 " AND action = 'sensor_readings_view' AND object_id = :c",
                 u=name, c=band["code"]) == [(1,)]


def test_a_one_touch_call_opens_an_emergency_on_a_press_and_its_reset_clears_it(
        app_server, engine, area, platform):
    button = _sensor(engine, area, "emergency_button", high=None, worn=True, unit=None,
                     name=f"{WEARER}的一键通")
    client, token = Client(app_server), platform[1]
    status, answer = _post(client, token, [_reading(button, 0, 1)])
    assert status == 200 and len(answer["cases_opened"]) == 1
    case = answer["cases_opened"][0]["id"]
    assert _rows(engine, "SELECT category_code, level, title FROM event WHERE id = :e",
                 e=case) == [("S0301", 2, "一键通紧急呼叫 One-touch emergency call")]
    assert _alarms(engine, button) == [(answer["alarms_raised"][0], "trigger", False, case)]
    _post(client, token, [_reading(button, 3, 0)])
    assert _alarms(engine, button)[0][2] is True and _state(engine, button)[0] == "normal"


def test_a_late_reading_is_stored_without_moving_the_sensor(app_server, engine, area,
                                                            platform):
    sensor = _sensor(engine, area)
    client, token = Client(app_server), platform[1]
    _post(client, token, [_reading(sensor, 10, 5.0)])
    status, answer = _post(client, token, [_reading(sensor, 5, 60.0)])
    assert status == 200 and answer["stored"] == 1 and answer["alarms_raised"] == []
    assert _state(engine, sensor) == ("normal", 5.0)


def test_without_a_token_or_with_a_wrong_one_it_is_401(app_server, engine, area, platform):
    sensor = _sensor(engine, area)
    client = Client(app_server)
    # without a token it is a browser's request, and the same-origin check comes first
    assert _post(client, None, [_reading(sensor, 0, 1.0)])[0] == 403
    assert _post(client, None, [_reading(sensor, 0, 1.0)], client.same_origin())[0] == 401
    assert _post(client, platform[1] + "x", [_reading(sensor, 0, 1.0)])[0] == 401
    assert _post(client, "", [_reading(sensor, 0, 1.0)], client.same_origin())[0] == 401
    assert client.send("GET", f"/api/sensors/{sensor['code']}/readings").status == 401
    assert _rows(engine, "SELECT count(*) FROM sensor_reading WHERE sensor_id = :s",
                 s=sensor["id"]) == [(0,)]


def test_a_role_that_reports_no_events_may_not_send_readings(app_server, engine, area):
    sensor = _sensor(engine, area)
    _name, token = _token(engine, "leader", DISTRICT)
    status, answer = _post(Client(app_server), token, [_reading(sensor, 0, 99.0)])
    assert status == 403, answer
    assert _alarms(engine, sensor) == []


def test_a_browser_session_sends_readings_from_its_own_pages_only(app_server, engine, area):
    sensor = _sensor(engine, area)
    browser = signed_in(app_server, "duty")
    refused = _post(browser, None, [_reading(sensor, 0, 1.0)])  # no Origin: a forged form
    assert refused[0] == 403 and "cross-site" in refused[1]["error"]
    forged = _post(browser, None, [_reading(sensor, 0, 1.0)],
                   {"Origin": "https://evil.example"})
    assert forged[0] == 403
    assert _rows(engine, "SELECT count(*) FROM sensor_reading WHERE sensor_id = :s",
                 s=sensor["id"]) == [(0,)]
    status, answer = _post(browser, None, [_reading(sensor, 0, 1.0)], browser.same_origin())
    assert status == 200 and answer["stored"] == 1


def test_the_sensor_card_reads_a_window_of_at_most_10000_points(app_server, engine, area,
                                                                platform):
    sensor = _sensor(engine, area)
    anchor = START
    with engine.begin() as conn:  # a reading every 10 s for the 30 hours up to the anchor
        conn.execute(text(
            "INSERT INTO sensor_reading (sensor_id, read_at, value)"
            " SELECT :s, :anchor - g * interval '10 seconds', g % 7"
            " FROM generate_series(0, 10799) g"), {"s": sensor["id"], "anchor": anchor})
    client = Client(app_server)
    path = f"/api/sensors/{sensor['code']}/readings"

    def get(query: str = ""):
        return client.send("GET", path + query,
                           headers={"Authorization": f"Bearer {platform[1]}"})

    day = get().json()  # the last 24 hours by default
    since, until = (datetime.fromisoformat(day[k]) for k in ("since", "until"))
    assert until - since == timedelta(hours=24) and day["truncated"] is False
    assert [(len(day["readings"]),)] == _rows(
        engine, "SELECT count(*) FROM sensor_reading WHERE sensor_id = :s"
        " AND read_at >= :since AND read_at < :until", s=sensor["id"], since=since, until=until)
    # "+" unencoded arrives as a space, and is read as the offset all the same
    full = get(f"?since={(anchor - timedelta(hours=40)).isoformat()}"
               f"&until={(anchor + timedelta(seconds=1)).isoformat()}").json()
    points = full["readings"]
    assert len(points) == 10_000 and full["truncated"] is True
    assert points == sorted(points, key=lambda p: p["at"])
    assert datetime.fromisoformat(points[-1]["at"]) == anchor  # the newest are kept
    until = (anchor - timedelta(hours=29)).isoformat().replace("+", "%2B")
    window = get(f"?until={until}").json()  # the 24 hours before: 359 of the 30th hour
    assert len(window["readings"]) == 359 and window["sensor"]["code"] == sensor["code"]
    bad = get("?since=yesterday")
    assert bad.status == 400 and list(bad.json()["fields"]) == ["since"]

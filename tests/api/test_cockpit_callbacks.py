"""The cockpit's Dash callbacks called directly (POST /_dash-update-component), in-process on
the demo district, as a client that skips the page would: a grid worker gets nothing (and an
audit row); a street's leader who forges the district into the view still gets their street's
figures; a role without the export right exports nothing; an export is one audit row."""

from __future__ import annotations

import base64
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import psycopg
import pytest
from sqlalchemy import create_engine

from geodata import users
from onemap.access.passwords import hash_password
from tests.support.clients import demo_client, signed_in
from tests.support.dash_calls import callback_call, post_callback

YEAR = datetime.now(ZoneInfo("Asia/Shanghai")).year
STREET_LEADER = ("street-leader", "street-leader-2026")


def _tiles(pattern: str) -> list:
    kind = json.loads(pattern)["type"]
    if kind in ("cockpit-value", "cockpit-change"):
        from pages.cockpit_ids import TILES
        return [{"kpi": k, "type": kind} for k in TILES]
    if kind == "cockpit-kind":
        return [{"dimension": d, "type": kind} for d in ("channel", "category", "level")]
    return []


def refresh(view: dict) -> dict:
    return callback_call("cockpit-trend.figure", {("cockpit-view", "data"): view,
                                                  ("cockpit-tick", "n_intervals"): None},
                         ("cockpit-view", "data"), _tiles)


def export(view: dict, state: dict) -> dict:
    return callback_call("cockpit-download.data", {
        ("cockpit-drill-export", "n_clicks"): 1, ("cockpit-drill-state", "data"): state,
        ("cockpit-view", "data"): view}, ("cockpit-drill-export", "n_clicks"), _tiles)


def _received(text: str) -> int:
    """The received tile's figure in a refresh's answer."""
    answer = json.loads(text)["response"]
    tile = json.dumps({"kpi": "received", "type": "cockpit-value"}, separators=(",", ":"))
    return int(answer[tile]["children"].replace(",", ""))


def _count(url: str, sql: str, *params) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchone()[0]


_RECEIVED = ("SELECT count(*) FROM onemap.event WHERE state <> 'merged'"
             " AND starts_with(grid_code, %s)"
             " AND reported_at >= make_timestamptz(%s, 1, 1, 0, 0, 0, 'Asia/Shanghai')"
             " AND reported_at < make_timestamptz(%s + 1, 1, 1, 0, 0, 0, 'Asia/Shanghai')")


@pytest.fixture(scope="module")
def street(demo_district):
    """A leader of one street (the demo's leader has the district)."""
    url = demo_district[0]
    code = _count(url, "SELECT min(code) FROM onemap.street")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        if users.by_username(conn, STREET_LEADER[0]) is None:
            users.add(conn, username=STREET_LEADER[0], display_name="街道领导", role="leader",
                      scope_code=code, password_hash=hash_password(STREET_LEADER[1]))
    engine.dispose()
    return {"url": url, "code": code, "district": code[:6]}


def _year(unit: str) -> dict:
    return {"period": "year", "date": f"{YEAR}-01-01", "unit": unit, "kpi": "closure_rate"}


def test_a_grid_worker_gets_nothing_and_is_audited(demo_app_server, street):
    worker = demo_client(demo_app_server, "gridworker")
    sql = ("SELECT count(*) FROM onemap.audit_log WHERE username = 'gridworker'"
           " AND action = 'refused' AND object_id = 'view_cockpit'")
    before = _count(street["url"], sql)
    status, text = post_callback(worker, refresh(_year(street["district"])))
    assert status == 204, text
    assert _count(street["url"], sql) == before + 1


def test_a_street_leader_forging_the_district_sees_their_street(demo_app_server, street):
    leader = signed_in(demo_app_server, *STREET_LEADER)
    status, text = post_callback(leader, refresh(_year(street["district"])))
    assert status == 200, text
    mine = _count(street["url"], _RECEIVED, street["code"], YEAR, YEAR)
    assert _received(text) == mine < _count(street["url"], _RECEIVED, street["district"],
                                            YEAR, YEAR)
    district = demo_client(demo_app_server, "leader")
    status, text = post_callback(district, refresh(_year(street["district"])))
    assert _received(text) == _count(street["url"], _RECEIVED, street["district"], YEAR, YEAR)


def test_export_needs_the_export_right_and_is_audited(demo_app_server, street):
    state = {"kpi": "closure_rate", "count": "closed", "page": 0}
    view = {**_year(street["code"]), "period": "month", "date": f"{YEAR}-03-01"}
    duty = demo_client(demo_app_server, "duty")  # sees the cockpit, may not export
    status, text = post_callback(duty, export(view, state))
    assert status == 204, text
    sql = ("SELECT count(*) FROM onemap.audit_log WHERE username = 'leader'"
           " AND action = 'export' AND object_kind = 'cockpit_cases'")
    before = _count(street["url"], sql)
    leader = demo_client(demo_app_server, "leader")
    status, text = post_callback(leader, export(view, state))
    assert status == 200, text
    download = next(v for k, v in json.loads(text)["response"].items()
                    if "cockpit-download" in k)["data"]
    assert download["filename"].endswith(".xlsx") and download["base64"] is True
    assert _count(street["url"], sql) == before + 1
    sheet = openpyxl.load_workbook(io.BytesIO(base64.b64decode(download["content"]))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("案件编号", "标题", "类别")
    closed = _count(street["url"], _CLOSED, street["code"], YEAR, YEAR)
    assert len(rows) - 1 == closed > 0
    assert all(row[8].endswith("+0800") for row in rows[1:])  # 上报时间, Asia/Shanghai


_CLOSED = ("SELECT count(*) FROM onemap.event WHERE state = 'closed'"
           " AND starts_with(grid_code, %s)"
           " AND reported_at >= make_timestamptz(%s, 3, 1, 0, 0, 0, 'Asia/Shanghai')"
           " AND reported_at < make_timestamptz(%s, 4, 1, 0, 0, 0, 'Asia/Shanghai')")


def send_notice(case: int, note: str) -> dict:
    return callback_call("cockpit-sv-message.children", {
        ("cockpit-sv-send", "n_clicks"): 1, ("cockpit-sv-target", "data"): case,
        ("cockpit-sv-note", "value"): note,
        ("cockpit-drill-state", "data"): {"supervision": {"cell": "tier|grid|overdue"},
                                          "page": 0}}, ("cockpit-sv-send", "n_clicks"), _tiles)


def test_a_notice_from_the_cockpit_needs_the_supervise_right(demo_app_server, street):
    case = _count(street["url"], "SELECT min(id) FROM onemap.event WHERE due_at IS NOT NULL"
                                 " AND onemap.event_is_active(state)")
    sql = ("SELECT count(*) FROM onemap.event_history WHERE event_id = %s"
           " AND action = 'supervise'")
    before = _count(street["url"], sql, case)
    analyst = demo_client(demo_app_server, "analyst")
    status, text = post_callback(analyst, send_notice(case, "督办"))
    assert status == 204, text
    leader = demo_client(demo_app_server, "leader")
    status, text = post_callback(leader, send_notice(case, "今日办结"))
    assert status == 200 and "已督办" in text, text
    assert _count(street["url"], sql, case) == before + 1


def test_a_supervision_list_exports_with_chinese_headers(demo_app_server, street):
    cell = "tier|grid|overdue"
    state = {"supervision": {"cell": cell}, "page": 0}
    view = _year(street["district"])
    status, text = post_callback(demo_client(demo_app_server, "leader"), export(view, state))
    assert status == 200, text
    download = next(v for k, v in json.loads(text)["response"].items()
                    if "cockpit-download" in k)["data"]
    sheet = openpyxl.load_workbook(io.BytesIO(base64.b64decode(download["content"]))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("案件编号", "标题")
    expected = _count(street["url"],
                      "SELECT count(*) FROM onemap.event WHERE onemap.event_is_active(state)"
                      " AND tier = 'grid' AND due_at <= now() AND starts_with(grid_code, %s)",
                      street["district"])
    assert len(rows) - 1 == expected

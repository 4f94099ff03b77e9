"""Each stage of the loop runs its time limit on the working calendar, from when it starts
(issue 11, point 1): registration, dispatch, handling (the category's own limit), shelving that
stops the clock, rework that restarts it, extensions that move it. The clock is injected."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from geodata.queries import events
from onemap.domain.intake import parse_report
from onemap.domain.working_calendar import TimeLimit
from tests.fixtures.hierarchy import grid_box, insert_hierarchy

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(month, day, hour, minute=0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def case(conn):
    """A report at Friday 4 December 2026 16:00 in a grid with a worker on duty; the category
    (上水井盖, a water manhole cover) is handled within 4 working hours."""
    codes = insert_hierarchy(conn)
    grid = codes["grid"][0]
    x0, y0, x1, y1 = grid_box(conn, grid)
    staff = conn.execute(text(
        "INSERT INTO onemap.staff (code, name, tier, grid_code, status, on_duty)"
        " VALUES ('T-1', '网格员甲', 'grid_worker', :g, 'available', true) RETURNING id"),
        {"g": grid}).scalar_one()
    report = parse_report({"title": "井盖缺失", "category_code": "C0101",
                           "lon": (x0 + x1) / 2, "lat": (y0 + y1) / 2},
                          default_channel="inspector")
    made, _new = events.register(conn, report, None, now=at(12, 4, 16))
    return {"id": made["id"], "due": made["due_at"], "staff": staff}


def _move(conn, case, action, now, **extra):
    return events.transition(conn, case["id"], action, None, now=now, **extra)


def test_the_limits_are_configuration_in_the_database(conn):
    stages = dict(conn.execute(text("SELECT stage, unit FROM onemap.event_stage_limit")).all())
    assert set(stages) == {"register", "dispatch", "handle", "verify", "close"}
    assert events.stage_limit(conn, "handle", "C0101") == TimeLimit(4, "working_hours")
    assert events.stage_limit(conn, "register", "C0101") == TimeLimit(0.5, "working_days")
    conn.execute(text("DELETE FROM onemap.event_stage_limit WHERE stage = 'verify'"))
    assert events.stage_limit(conn, "verify", "C0101") is None


def test_each_stage_starts_its_limit_on_the_working_calendar(conn, case):
    # registration: half a working day (3.75 h) from Friday 16:00 = Monday 10:45
    assert case["due"] == at(12, 7, 10, 45)
    registered = _move(conn, case, "register", at(12, 7, 9))
    assert registered["due_at"] == at(12, 7, 10)  # dispatch: one working hour
    dispatched = _move(conn, case, "dispatch", at(12, 7, 11), staff_id=case["staff"])
    # the category's 4 h: one before lunch, three from 13:30
    assert dispatched["due_at"] == at(12, 7, 16, 30)
    accepted = _move(conn, case, "accept", at(12, 7, 11, 30))
    assert accepted["due_at"] == at(12, 7, 16, 30)  # accepting keeps the handling limit
    history = conn.execute(text(
        "SELECT action, data FROM onemap.event_history WHERE event_id = :id ORDER BY id"),
        {"id": case["id"]}).all()
    assert [(a, (d or {}).get("due_at")) for a, d in history][1:] == [
        ("register", at(12, 7, 10).isoformat()),
        ("dispatch", at(12, 7, 16, 30).isoformat()),
        ("accept", None),
    ]


def test_shelving_stops_the_clock_and_resuming_keeps_what_was_left(conn, case):
    _move(conn, case, "register", at(12, 7, 9))
    _move(conn, case, "dispatch", at(12, 7, 9, 30), staff_id=case["staff"])  # due 15:00
    _move(conn, case, "accept", at(12, 7, 10))
    _move(conn, case, "suspend", at(12, 7, 11))  # 2.5 working hours left: 11-12, 13:30-15
    shelved = conn.execute(text("SELECT due_at, paused_at FROM onemap.event WHERE id = :id"),
                           {"id": case["id"]}).one()
    assert shelved.paused_at == at(12, 7, 11)
    resumed = _move(conn, case, "resume", at(12, 9, 15))  # Wednesday afternoon
    assert resumed["due_at"] == at(12, 9, 17, 30)  # the same 2.5 h: 15:00-17:30


def test_rework_restarts_handling_and_a_late_stage_makes_an_overdue_closure(conn, case):
    _move(conn, case, "register", at(12, 7, 9))
    _move(conn, case, "dispatch", at(12, 7, 9), staff_id=case["staff"])
    _move(conn, case, "accept", at(12, 7, 9, 5))
    _move(conn, case, "report_back", at(12, 7, 15))
    returned = _move(conn, case, "return", at(12, 8, 9))
    assert returned["due_at"] == at(12, 8, 14, 30)  # four working hours from the return
    _move(conn, case, "accept", at(12, 8, 9, 10))
    _move(conn, case, "report_back", at(12, 8, 16))  # verification: four working hours
    _move(conn, case, "verify", at(12, 9, 16))  # a day late
    done = _move(conn, case, "close", at(12, 9, 16, 30))  # inside the close stage's day
    assert done["state"] == "closed"
    kind = conn.execute(text("SELECT overran, closure_kind FROM onemap.event WHERE id = :id"),
                        {"id": case["id"]}).one()
    assert tuple(kind) == (True, "overdue")  # 超期结案: verification ran late


def test_a_case_on_time_at_every_stage_closes_normally(conn, case):
    _move(conn, case, "register", at(12, 7, 9))
    _move(conn, case, "dispatch", at(12, 7, 9, 30), staff_id=case["staff"])
    _move(conn, case, "accept", at(12, 7, 9, 40))
    _move(conn, case, "report_back", at(12, 7, 11))
    _move(conn, case, "verify", at(12, 7, 14))
    _move(conn, case, "close", at(12, 7, 15))
    kind = conn.execute(text("SELECT overran, closure_kind FROM onemap.event WHERE id = :id"),
                        {"id": case["id"]}).one()
    assert tuple(kind) == (False, "normal")


def test_an_extension_moves_the_limit_and_is_recorded(conn, case):
    _move(conn, case, "register", at(12, 7, 9))
    _move(conn, case, "dispatch", at(12, 7, 11), staff_id=case["staff"])  # due 16:30
    extended = events.extend(conn, case["id"], TimeLimit(1, "working_days"), None,
                             "等待配件 waiting for a part", now=at(12, 7, 15))
    assert extended["due_at"] == at(12, 8, 16, 30)  # 7.5 working hours later
    row = conn.execute(text(
        "SELECT e.extended, h.action, h.note, h.data FROM onemap.event e"
        " JOIN onemap.event_history h ON h.event_id = e.id WHERE e.id = :id"
        " ORDER BY h.id DESC LIMIT 1"), {"id": case["id"]}).one()
    assert row.extended and row.action == "extend" and row.note == "等待配件 waiting for a part"
    assert row.data["from"] == at(12, 7, 16, 30).isoformat()
    assert json.dumps(row.data["unit"]) == '"working_days"'


def test_only_a_case_in_hand_can_be_extended(conn, case):
    with pytest.raises(events.NotExtendable, match="only dispatched, handling"):
        events.extend(conn, case["id"], TimeLimit(2, "working_hours"), None, "x",
                      now=at(12, 7, 9))


def test_emergencies_run_on_the_clock(conn):
    codes = insert_hierarchy(conn)
    x0, y0, x1, y1 = grid_box(conn, codes["grid"][0])
    report = parse_report({"title": "燃气泄漏", "category_code": "C0101", "level": 1,
                           "lon": (x0 + x1) / 2, "lat": (y0 + y1) / 2},
                          default_channel="inspector")
    made, _new = events.register(conn, report, None, now=at(12, 4, 20))  # Friday evening
    assert made["due_at"] == at(12, 5, 8)  # half a day (12 h) on the clock, on Saturday

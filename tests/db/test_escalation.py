"""The escalation job (issue 11, point 2): yellow at 80 % of a stage's limit, red past it with
one tier up, each recorded in history and audit log, exactly once per case and step even when
passes race. The clock is injected; racing passes use connections of their own."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from geodata import escalation
from geodata.queries import events
from onemap.domain.escalation import initial_tier, next_tier
from onemap.domain.intake import parse_report
from onemap.domain.working_calendar import TimeLimit
from tests.fixtures.hierarchy import grid_box, insert_hierarchy, remove_events_and_hierarchy

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)


def _report(conn, grid: str, level: int = 4, n: int = 0) -> int:
    x0, y0, x1, y1 = grid_box(conn, grid)
    report = parse_report({"title": f"井盖缺失 {n}", "category_code": "C0101", "level": level,
                           "lon": x0 + (x1 - x0) * (0.2 + n % 50 / 100), "lat": (y0 + y1) / 2},
                          default_channel="inspector")
    return events.register(conn, report, None, now=MONDAY)[0]["id"]


def _steps(conn, event_id: int) -> list[tuple]:
    return [tuple(r) for r in conn.execute(text(
        "SELECT action, data->>'tier' FROM event_history WHERE event_id = :id"
        " AND action IN ('warn', 'escalate') ORDER BY id"), {"id": event_id})]


def test_tiers_follow_the_rule_of_the_seeds():
    assert [initial_tier(level) for level in (1, 2, 3, 4, 5)] == [
        "district", "street", "community", "grid", "grid"]
    assert [next_tier(t) for t in ("grid", "community", "street", "district")] == [
        "community", "street", "district", "district"]


def test_yellow_at_80_percent_then_red_and_one_tier_up_once(conn):
    grid = insert_hierarchy(conn)["grid"][0]
    case = _report(conn, grid)  # registration: half a working day (3.75 h) from 09:00
    row = conn.execute(text("SELECT due_at, warn_at, tier FROM event WHERE id = :id"),
                       {"id": case}).one()
    assert (row.due_at, row.tier) == (datetime(2026, 12, 7, 14, 15, tzinfo=SHANGHAI), "grid")
    assert row.warn_at == datetime(2026, 12, 7, 12, 0, tzinfo=SHANGHAI)  # 3 of the 3.75 h
    assert escalation.run_once(conn, MONDAY + timedelta(hours=2)) == {"warned": 0,
                                                                       "escalated": 0}
    assert escalation.run_once(conn, row.warn_at) == {"warned": 1, "escalated": 0}
    assert escalation.run_once(conn, row.warn_at + timedelta(minutes=1))["warned"] == 0
    late = row.due_at + timedelta(minutes=1)
    assert escalation.run_once(conn, late) == {"warned": 0, "escalated": 1}
    assert escalation.run_once(conn, late + timedelta(hours=5)) == {"warned": 0, "escalated": 0}
    assert _steps(conn, case) == [("warn", "grid"), ("escalate", "community")]
    state = conn.execute(text("SELECT tier, urgency, overran FROM event WHERE id = :id"),
                         {"id": case}).one()
    assert tuple(state) == ("community", "overdue", True)
    audited = conn.execute(text(
        "SELECT action, username, details->>'tier' FROM audit_log WHERE object_id = :id"
        " AND action IN ('event_warn', 'event_escalate') ORDER BY id"),
        {"id": str(case)}).all()
    assert [tuple(a) for a in audited] == [("event_warn", escalation.JOB, "grid"),
                                           ("event_escalate", escalation.JOB, "community")]
    # the next stage starts clean: running late again escalates again, one tier further
    events.transition(conn, case, "register", None, now=late + timedelta(hours=1))
    again = conn.execute(text("SELECT due_at FROM event WHERE id = :id"), {"id": case}).scalar()
    assert escalation.run_once(conn, again + timedelta(minutes=1))["escalated"] == 1
    assert _steps(conn, case)[-1] == ("escalate", "street")


def test_an_extension_takes_a_red_case_back_and_it_can_escalate_again(conn):
    grid = insert_hierarchy(conn)["grid"][0]
    case = _report(conn, grid)
    staff = conn.execute(text(
        "INSERT INTO staff (code, name, tier, grid_code, status, on_duty) VALUES"
        " ('T-9', '网格员乙', 'grid_worker', :g, 'available', true) RETURNING id"),
        {"g": grid}).scalar_one()
    events.transition(conn, case, "register", None, now=MONDAY + timedelta(minutes=10))
    events.transition(conn, case, "dispatch", None, staff_id=staff,
                      now=MONDAY + timedelta(minutes=20))  # handling, 4 h: due 14:50
    escalation.run_once(conn, datetime(2026, 12, 7, 15, tzinfo=SHANGHAI))
    extended = events.extend(conn, case, TimeLimit(1, "working_days"), None, "等配件",
                             now=datetime(2026, 12, 7, 15, 10, tzinfo=SHANGHAI))
    urgency = conn.execute(text("SELECT urgency FROM event WHERE id = :id"),
                           {"id": case}).scalar()
    assert urgency is None  # a day more: neither yellow (now Tuesday 14:02) nor red
    assert escalation.run_once(conn, extended["due_at"] + timedelta(minutes=1))[
        "escalated"] == 1
    assert [s[0] for s in _steps(conn, case)] == ["escalate", "escalate"]


def test_a_shelved_case_is_neither_warned_nor_escalated(conn):
    grid = insert_hierarchy(conn)["grid"][0]
    case = _report(conn, grid)
    conn.execute(text("UPDATE event SET state = 'suspended' WHERE id = :id"), {"id": case})
    assert escalation.run_once(conn, MONDAY + timedelta(days=30)) == {"warned": 0,
                                                                       "escalated": 0}


@pytest.fixture
def committed_cases(engine):
    """Twenty reports overdue by Tuesday, committed, so that passes on other connections see
    them; removed afterwards."""
    with engine.begin() as conn:
        grid = insert_hierarchy(conn)["grid"][0]
        ids = [_report(conn, grid, n=n) for n in range(20)]
    yield ids
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        conn.execute(text("DELETE FROM audit_log WHERE username = :job"),
                     {"job": escalation.JOB})
        conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
        remove_events_and_hierarchy(conn)


TUESDAY = MONDAY + timedelta(days=1)


def _escalations(engine, ids) -> dict[int, int]:
    with engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT event_id, count(*) FROM event_history WHERE action = 'escalate'"
            " AND event_id = ANY(:ids) GROUP BY event_id"), {"ids": ids}).all())


def test_a_pass_racing_another_leaves_what_that_one_took(engine, committed_cases):
    first = engine.connect()
    holding = first.begin()
    assert escalation.run_once(first, TUESDAY)["escalated"] == 20  # locked, not committed
    answers: list[dict] = []

    def second_pass():
        with engine.begin() as conn:
            answers.append(escalation.run_once(conn, TUESDAY))

    racer = threading.Thread(target=second_pass)
    racer.start()
    racer.join(timeout=1)  # it skips the locked rows, then queues on the live clock
    holding.commit()
    first.close()
    racer.join(timeout=60)
    assert answers == [{"warned": 0, "escalated": 0}]
    with engine.begin() as conn:
        assert escalation.run_once(conn, TUESDAY)["escalated"] == 0  # already marked
    assert _escalations(engine, committed_cases) == {i: 1 for i in committed_cases}


def test_a_pass_with_nothing_to_do_writes_nothing(engine, committed_cases):
    with engine.begin() as conn:
        escalation.run_once(conn, TUESDAY)
    with engine.begin() as conn:
        clock = conn.execute(text("SELECT sum(version) FROM live_clock WHERE topic = 'event'"))
        before = clock.scalar()
        assert escalation.run_once(conn, TUESDAY) == {"warned": 0, "escalated": 0}
        after = conn.execute(text("SELECT sum(version) FROM live_clock WHERE topic = 'event'"))
        assert after.scalar() == before  # open screens are not made to reload


def test_four_passes_at_once_escalate_each_case_once(engine, committed_cases):
    start = threading.Barrier(4)
    done: list[int] = []

    def one_pass():
        with engine.begin() as conn:
            start.wait()
            done.append(escalation.run_once(conn, TUESDAY)["escalated"])

    threads = [threading.Thread(target=one_pass) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(done) == 20 and len(done) == 4
    assert _escalations(engine, committed_cases) == {i: 1 for i in committed_cases}

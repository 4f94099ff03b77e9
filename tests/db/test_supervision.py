"""督办 (geodata/queries/supervision.py) on hand-made cases: near and past their limit counted
by tier and by department from the cases' own times, shelved and finished cases left out, a
notice recorded in the history without moving the case, and nothing outside the scope."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from geodata.queries import supervision
from tests.db.map_layers.app_role import as_app
from tests.db.map_layers.world import point
from tests.fixtures.hierarchy import DISTRICT, insert_hierarchy

NOW = datetime(2031, 3, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def town(conn):
    codes = insert_hierarchy(conn)
    conn.execute(text("INSERT INTO event_category (code, kind, name_zh)"
                      " VALUES ('X01', 'event', '暴露垃圾')"))
    conn.execute(text("INSERT INTO department (code, name_zh) VALUES ('D1', '城管局')"
                      " ON CONFLICT DO NOTHING"))
    mine = codes["grid"][0]
    theirs = next(g for g in codes["grid"] if g[:9] != mine[:9])

    def case(code: str, grid: str, state: str, warn_h: float, due_h: float, tier: str,
             department: str | None = "D1") -> int:
        x, y = point(conn, grid, 0.001, 0.001)
        return conn.execute(text(
            "INSERT INTO event (code, title, category_code, level, channel, state, reported_at,"
            " registered_at, warn_at, due_at, tier, department_code, grid_code, geom)"
            " VALUES (:c, :c, 'X01', 4, 'inspector', :s, :t0, :t0, :warn, :due, :tier, :d, :g,"
            " ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"), {
            "c": code, "s": state, "t0": NOW - timedelta(days=3),
            "warn": NOW + timedelta(hours=warn_h), "due": NOW + timedelta(hours=due_h),
            "tier": tier, "d": department, "g": grid, "x": x, "y": y}).scalar_one()

    return {"mine": mine, "theirs": theirs, "ids": {
        "near": case("S-NEAR", mine, "handling", -1, 2, "grid"),
        "past": case("S-PAST", mine, "dispatched", -5, -1, "community"),
        "past2": case("S-PAST2", mine, "registered", -5, -2, "community", None),
        "fine": case("S-FINE", mine, "handling", 5, 9, "grid"),
        "shelved": case("S-SHELVED", mine, "suspended", -5, -1, "grid"),
        "theirs": case("S-THEIRS", theirs, "handling", -5, -1, "street"),
    }}


def test_the_board_counts_near_and_past_by_tier_and_department(conn, town):
    board = supervision.board(conn, town["mine"][:9], NOW)
    tiers = {r["key"]: (r["warning"], r["overdue"]) for r in board["tier"]}
    assert tiers == {"grid": (1, 0), "community": (0, 2)}
    departments = {r["key"]: (r["name"], r["warning"], r["overdue"])
                   for r in board["department"]}
    assert departments == {"D1": ("城管局", 1, 1), None: (None, 0, 1)}
    assert board["tier"][0]["key"] == "community"  # the most overdue first
    district = supervision.board(conn, DISTRICT, NOW)
    assert sum(r["overdue"] for r in district["tier"]) == 3


def test_the_lists_behind_the_board(conn, town):
    total, rows = supervision.cases(conn, town["mine"], "overdue", NOW)
    assert total == 2 and [r["code"] for r in rows] == ["S-PAST2", "S-PAST"]  # longest first
    total, rows = supervision.cases(conn, town["mine"], "overdue", NOW, department="D1")
    assert [r["code"] for r in rows] == ["S-PAST"]
    total, rows = supervision.cases(conn, town["mine"], "warning", NOW, tier="grid")
    assert [r["code"] for r in rows] == ["S-NEAR"] and rows[0]["notices"] == 0
    with pytest.raises(ValueError):
        supervision.cases(conn, town["mine"], "late'; --", NOW)


def test_a_notice_is_history_only_and_refused_without_a_running_clock(conn, town):
    ids = town["ids"]
    notice = supervision.supervise(conn, ids["past"], None, "今日办结", NOW)
    assert notice["kind"] == "overdue" and notice["code"] == "S-PAST"
    row = conn.execute(text("SELECT from_state, to_state, note, data->>'tier' FROM event_history"
                            " WHERE event_id = :id AND action = 'supervise'"),
                       {"id": ids["past"]}).one()
    assert tuple(row) == ("dispatched", "dispatched", "今日办结", "community")
    assert conn.execute(text("SELECT state FROM event WHERE id = :id"),
                        {"id": ids["past"]}).scalar_one() == "dispatched"
    assert supervision.cases(conn, town["mine"], "overdue", NOW)[1][1]["notices"] == 1
    with pytest.raises(supervision.NotSupervisable):
        supervision.supervise(conn, ids["shelved"], None, "x", NOW)


def test_a_street_sees_and_supervises_only_its_own(conn, town):
    with as_app(conn, town["mine"][:9]):
        board = supervision.board(conn, DISTRICT, NOW)
        assert sum(r["overdue"] for r in board["tier"]) == 2  # not the other street's
        assert supervision.supervise(conn, town["ids"]["theirs"], None, "x", NOW) is None

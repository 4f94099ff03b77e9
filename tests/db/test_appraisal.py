"""绩效考评 in the database (geodata/appraisal.py, migration 0025): a month scored from its
cases at every level, frozen once and never changed (not by a second freeze, an UPDATE, a
DELETE or later changes to its cases), schemes versioned, and the app reading only its scope."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from geodata import appraisal as stored
from onemap.domain import appraisal
from tests.db.map_layers.app_role import as_app, refused
from tests.db.map_layers.world import point
from tests.fixtures.hierarchy import DISTRICT, insert_hierarchy

ZONE = ZoneInfo("Asia/Shanghai")
MARCH = date(2031, 3, 1)
NOW = datetime(2031, 4, 10, 9, 0, tzinfo=ZONE)


@pytest.fixture
def town(conn):
    codes = insert_hierarchy(conn)
    conn.execute(text("INSERT INTO event_category (code, kind, name_zh)"
                      " VALUES ('X01', 'event', '暴露垃圾')"))
    good, poor = codes["grid"][0], next(g for g in codes["grid"] if g[:9] != codes["grid"][0][:9])

    def case(grid: str, n: int, *, on_time: bool, day: int = 5) -> int:
        x, y = point(conn, grid, 0.001, 0.001)
        at = datetime(2031, 3, day, 9, tzinfo=ZONE)
        return conn.execute(text(
            "INSERT INTO event (code, title, category_code, level, channel, state, reported_at,"
            " registered_at, closed_at, closure_kind, handling_minutes, grid_code, geom)"
            " VALUES (:c, :c, 'X01', 4, 'inspector', 'closed', :at, :at, :closed, :kind, 60,"
            " :g, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"), {
            "c": f"A-{grid}-{n}", "at": at, "closed": at + timedelta(days=1),
            "kind": "normal" if on_time else "overdue", "g": grid, "x": x, "y": y}).scalar_one()

    made = [case(good, n, on_time=True) for n in range(4)]
    made += [case(poor, n, on_time=n < 2) for n in range(4)]
    return {"good": good, "poor": poor, "cases": made}


def test_a_month_is_scored_and_ranked_at_every_level(conn, town):
    scheme = stored.current_scheme(conn)
    assert scheme.weights == appraisal.DEFAULT_WEIGHTS and scheme.version >= 1
    streets = stored.month_rows(conn, MARCH, "street", DISTRICT, NOW, scheme)
    assert [(r["key"], r["rank"]) for r in streets] == [(town["good"][:9], 1),
                                                        (town["poor"][:9], 2)]
    best = streets[0]
    assert best["score"] == pytest.approx(100.0)  # all closed on time, no rework, no notice
    assert streets[1]["score"] == pytest.approx(100 - 0.5 * 50)  # half on time
    grids = stored.month_rows(conn, MARCH, "grid", DISTRICT, NOW, scheme)
    assert {r["key"] for r in grids} == {town["good"], town["poor"]}


def test_a_frozen_month_never_changes(conn, town):
    written = stored.freeze(conn, MARCH, DISTRICT, NOW, "test")
    assert written["street"] == 2 and written["grid"] == 2
    before = stored.snapshot(conn, MARCH, "street")
    with pytest.raises(stored.AlreadyFrozen):
        stored.freeze(conn, MARCH, DISTRICT, NOW, "test")
    # later changes to the month's cases, and a new scheme, leave it as it was
    conn.execute(text("UPDATE event SET closure_kind = 'overdue' WHERE id = ANY(:ids)"),
                 {"ids": town["cases"]})
    stored.add_scheme(conn, {"closure_rate": 1.0}, "closure only", "test")
    assert stored.snapshot(conn, MARCH, "street") == before
    assert before[0]["scheme_version"] == 1
    refused(conn, "UPDATE appraisal_snapshot SET score = 0", match="append-only")
    refused(conn, "DELETE FROM appraisal_snapshot", match="append-only")
    refused(conn, "UPDATE appraisal_scheme SET note = 'x'", match="append-only")
    assert stored.frozen_months(conn)[0] == (MARCH, 1)


def test_a_new_scheme_is_a_new_version(conn, town):
    first = stored.current_scheme(conn)
    added = stored.add_scheme(conn, {"on_time_closure_rate": 0.7, "closure_rate": 0.3},
                              "on time first", "test")
    assert added.version > first.version and stored.current_scheme(conn) == added
    assert [s.version for s in stored.schemes(conn)][:2] == [added.version, first.version]
    with pytest.raises(appraisal.BadWeights):
        stored.add_scheme(conn, {"closure_rate": 0.3}, "", "test")


def test_the_app_reads_its_scope_and_writes_nothing(conn, town):
    stored.freeze(conn, MARCH, DISTRICT, NOW, "test")
    with as_app(conn, town["good"][:9]):
        keys = {r["key"] for r in stored.snapshot(conn, MARCH, "street")}
        assert keys == {town["good"][:9]}
        assert stored.snapshot(conn, MARCH, "department") == []  # a district's ranking only
        refused(conn, "INSERT INTO appraisal_scheme (weights) VALUES ('{}')")
    with as_app(conn, DISTRICT):
        assert len(stored.snapshot(conn, MARCH, "street")) == 2

"""The dispatch desk's queries (geodata/queries/desk.py) on a real PostGIS: which open case is in
which queue, their order, the filters, the case with its history, counts of key groups, the
scope (row-level security), the open-case index under it, and two officers taking one step."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from geodata import users
from geodata.db import make_engine
from geodata.queries import desk, events, nearby
from geodata.scope import app_engine_for, scoped
from onemap.domain.lifecycle import TransitionRefused
from tests.fixtures.hierarchy import grid_box, insert_hierarchy, remove_events_and_hierarchy
from tests.fixtures.sessions import open_test_session, session_scope

MARK = "调度台测试"  # every case here has it in its title: the filter keeps other tests' out


def _case(conn, grid: str, code: str, state: str, *, level: int = 4, reported: str = "-5 min",
          due: str | None = "+2 hours", warn: str | None = None, urgency: str | None = None,
          category: str = "C0101", channel: str = "inspector", dup_of: int | None = None,
          merged_into: int | None = None, x: float = 0.3) -> int:
    """A case inserted as it would stand, its times relative to the transaction's now()."""
    x0, y0, x1, y1 = grid_box(conn, grid)
    return conn.execute(text(
        "INSERT INTO event (code, title, category_code, level, channel, state, reported_at,"
        " due_at, warn_at, urgency, grid_code, duplicate_of_id, merged_into_id, closed_at, geom)"
        " VALUES (:code, :title, :category, :level, :channel, :state,"
        " now() + CAST(:reported AS interval), now() + CAST(:due AS interval),"
        " now() + CAST(:warn AS interval), :urgency, :grid, :dup, :merged,"
        " CASE WHEN CAST(:state AS varchar) = 'closed' THEN now() END,"
        " ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"),
        {"code": code, "title": f"{MARK} {code}", "category": category, "level": level,
         "channel": channel, "state": state, "reported": reported, "due": due, "warn": warn,
         "urgency": urgency, "grid": grid, "dup": dup_of, "merged": merged_into,
         "x": x0 + (x1 - x0) * x, "y": (y0 + y1) / 2}).scalar_one()


MARKED = desk.Filters(text=MARK)


def _queue(conn, key: str, filters: desk.Filters = MARKED) -> list[str]:
    return [row["code"] for row in desk.queue_cases(conn, key, filters)]


@pytest.fixture
def loop(conn):
    """One case per place in the loop, and the ones that run late, in the first grid."""
    grid = insert_hierarchy(conn)["grid"][0]
    made = {}
    made["stale"] = _case(conn, grid, "D-STALE", "reported", reported="-2 hours")
    for code, state, extra in [
        ("D-FRESH", "reported", {}),
        ("D-DUP", "reported", {"dup_of": made["stale"]}),
        ("D-REGISTERED", "registered", {}),
        ("D-DISPATCHED", "dispatched", {}),
        ("D-HANDLING", "handling", {}),
        ("D-SHELVED", "suspended", {}),
        ("D-HANDLED", "handled", {}),
        ("D-VERIFIED", "verified", {}),
        ("D-CLOSED", "closed", {"due": None}),
        ("D-REJECTED", "rejected", {"due": None}),
        ("D-MERGED", "merged", {"due": None, "merged_into": made["stale"]}),
        ("D-LATE", "handling", {"due": "-1 hour", "level": 1}),
        ("D-MARKED-LATE", "handling", {"due": "+1 hour", "urgency": "overdue"}),
        ("D-WARNED", "registered", {"warn": "-10 min", "due": "+1 hour"}),
        ("D-MARKED-WARNED", "verified", {"urgency": "warning"}),
        ("D-SHELVED-LATE", "suspended", {"due": "-1 hour", "urgency": "overdue"}),
    ]:
        made[code[2:].lower().replace("-", "_")] = _case(conn, grid, code, state, **extra)
    return {"grid": grid, "ids": made}


def test_each_open_case_is_in_its_queues(conn, loop):
    expected = {
        "new": ["D-FRESH"],
        "register": ["D-STALE"],
        "duplicates": ["D-DUP"],
        "dispatch": {"D-REGISTERED", "D-WARNED"},
        "in_hand": {"D-DISPATCHED", "D-HANDLING", "D-SHELVED", "D-LATE", "D-MARKED-LATE",
                    "D-SHELVED-LATE"},
        "verify": ["D-HANDLED"],
        "close": {"D-VERIFIED", "D-MARKED-WARNED"},
        # running late cuts across the loop; a shelved case's clock stands still
        "overdue": {"D-LATE", "D-MARKED-LATE"},
        "warning": {"D-WARNED", "D-MARKED-WARNED"},
    }
    counts = desk.queue_counts(conn, MARKED)
    for key, codes in expected.items():
        found = _queue(conn, key)
        assert (set(found) if isinstance(codes, set) else found) == codes, key
        assert counts[key] == len(found), key
    finished = {"D-CLOSED", "D-REJECTED", "D-MERGED"}
    assert not finished & {code for key in desk.QUEUES for code in _queue(conn, key)}


def test_emergencies_and_the_nearest_limits_come_first_and_new_reports_newest_first(conn):
    grid = insert_hierarchy(conn)["grid"][0]
    for code, level, due in [("O-A", 4, "+3 hours"), ("O-B", 4, "+1 hour"),
                             ("O-C", 2, "+5 hours"), ("O-D", 4, None)]:
        _case(conn, grid, code, "registered", level=level, due=due)
    assert _queue(conn, "dispatch") == ["O-C", "O-B", "O-A", "O-D"]
    for code, reported in [("N-A", "-20 min"), ("N-B", "-1 min"), ("N-C", "-10 min")]:
        _case(conn, grid, code, "reported", reported=reported)
    assert _queue(conn, "new") == ["N-B", "N-C", "N-A"]
    assert _queue(conn, "new", desk.Filters(text=MARK)) == _queue(conn, "new")


def test_the_filters(conn):
    grids = insert_hierarchy(conn)["grid"]
    _case(conn, grids[0], "F-A", "registered", category="C0101", level=3, channel="wechat")
    _case(conn, grids[1], "F-B", "registered", category="C0102", reported="-3 days")
    _case(conn, grids[4], "F-C", "registered", category="E0102", channel="wechat")
    now = conn.execute(text("SELECT now()")).scalar()

    def codes(**given) -> set[str]:
        return set(_queue(conn, "dispatch", desk.Filters(**{"text": MARK, **given})))

    assert codes() == {"F-A", "F-B", "F-C"}
    assert codes(unit=grids[0]) == {"F-A"}
    assert codes(unit=grids[0][:12]) == {"F-A", "F-B"}  # a community: both its grids
    assert codes(unit=grids[4][:9]) == {"F-C"}  # the second street
    assert codes(category="C01") == {"F-A", "F-B"}  # a class and its sub-classes
    assert codes(category="C0102") == {"F-B"}
    assert codes(level=3) == {"F-A"}
    assert codes(channel="wechat") == {"F-A", "F-C"}
    assert codes(since=now - timedelta(days=1)) == {"F-A", "F-C"}
    assert codes(until=now - timedelta(days=1)) == {"F-B"}
    # the start of a code, typed in either case, or a piece of the title
    assert set(_queue(conn, "dispatch", desk.Filters(text="f-"))) == {"F-A", "F-B", "F-C"}
    assert set(_queue(conn, "dispatch", desk.Filters(text="F-B"))) == {"F-B"}
    assert set(_queue(conn, "dispatch", desk.Filters(text=f"{MARK} F-C"))) == {"F-C"}
    assert desk.queue_counts(conn, desk.Filters(text=MARK, level=3))["dispatch"] == 1
    # what an officer types is text, never SQL or a pattern
    for typed in ("%", "_", "' OR 1=1 --"):
        assert _queue(conn, "dispatch", desk.Filters(text=typed)) == []


def test_a_case_with_its_history_actors_and_staff(conn):
    grid = insert_hierarchy(conn)["grid"][0]
    officer = users.add(conn, username="desk-officer", display_name="值班员 甲",
                        role="duty_officer", scope_code=grid[:6], password_hash="-")
    worker = users.add(conn, username="desk-worker", display_name="网格员 乙",
                       role="grid_worker", scope_code=grid, password_hash="-")
    staff = conn.execute(text(
        "INSERT INTO staff (code, name, tier, grid_code, status, on_duty, last_position)"
        " VALUES ('DT-1', '处置员丙', 'grid_worker', CAST(:g AS varchar), 'available', true,"
        " (SELECT ST_PointOnSurface(geom) FROM grid WHERE code = CAST(:g AS varchar)))"
        " RETURNING id"),
        {"g": grid}).scalar_one()
    case = _case(conn, grid, "H-1", "reported", due=None)
    conn.execute(text("UPDATE event SET reporter_name = '欧阳娜娜', reporter_phone ="
                      " '13812345678', department_code = 'HW' WHERE id = :id"), {"id": case})
    events.transition(conn, case, "register", officer, "属实")
    events.transition(conn, case, "dispatch", officer, None, staff)
    events.transition(conn, case, "accept", worker)
    found = desk.case(conn, case)
    assert (found["state"], found["staff_name"], found["department"]) == (
        "handling", "处置员丙", "区环境卫生服务中心")
    assert found["reporter_phone"] == "13812345678"  # unmasked here: the page masks it
    assert found["grid"] == "网格1" and found["community"] == "第1-1社区"
    steps = desk.history(conn, case)
    assert [(s["action"], s["actor"], s["staff_name"]) for s in steps] == [
        ("register", "值班员 甲", None), ("dispatch", "值班员 甲", "处置员丙"),
        ("accept", "网格员 乙", None)]
    assert steps[0]["note"] == "属实" and steps[1]["from_state"] == "registered"
    near = nearby.staff_near(conn, case, limit=6)
    assert near[0]["name"] == "处置员丙" and near[0]["open_cases"] == 1
    assert desk.state_of(conn, case) == "handling"
    assert desk.case_id_of(conn, "H-1") == case and desk.case_id_of(conn, str(case)) == case
    assert desk.case_id_of(conn, "H-404") is None


@pytest.fixture(scope="module")
def two_grids(engine):
    """Cases in two communities' grids, committed (sessions read them on their own
    connections); removed afterwards."""
    with engine.begin() as conn:
        grids = insert_hierarchy(conn)["grid"]
        mine, theirs = grids[0], grids[2]
        ids = {"mine": _case(conn, mine, "S-MINE", "registered"),
               "theirs": _case(conn, theirs, "S-THEIRS", "registered"),
               "theirs_late": _case(conn, theirs, "S-THEIRS-LATE", "handling", due="-1 hour")}
    yield {"mine": mine, "theirs": theirs, "ids": ids}
    with engine.begin() as conn:
        remove_events_and_hierarchy(conn)


@pytest.fixture(scope="module")
def app_engine(db_url):
    engine = app_engine_for(db_url)
    yield engine
    engine.dispose()


def test_a_grid_sees_its_own_cases_only(engine, app_engine, two_grids):
    scope = session_scope(engine, two_grids["mine"], role="grid_worker")
    with scoped(scope, app_engine) as conn:
        counts = desk.queue_counts(conn, MARKED)
        assert (counts["dispatch"], counts["overdue"], counts["in_hand"]) == (1, 0, 0)
        assert _queue(conn, "dispatch") == ["S-MINE"]
        theirs = two_grids["ids"]["theirs"]
        assert desk.case(conn, theirs) is None and desk.history(conn, theirs) == []
        assert desk.state_of(conn, theirs) is None
        assert desk.case_id_of(conn, "S-THEIRS") is None
        assert nearby.key_group_counts(conn, theirs) == []
        assert nearby.cameras_near(conn, theirs) == []
        # filtering by another area's unit finds nothing either
        assert _queue(conn, "dispatch", desk.Filters(text=MARK, unit=two_grids["theirs"])) == []
        assert {u["code"] for u in desk.units(conn, two_grids["mine"])} == {two_grids["mine"]}
    district = session_scope(engine, two_grids["mine"][:6], role="duty_officer")
    with scoped(district, app_engine) as conn:
        assert desk.queue_counts(conn, MARKED)["dispatch"] == 2
        assert desk.queue_counts(conn, MARKED)["overdue"] == 1
        units = desk.units(conn, two_grids["mine"][:6])
        assert [u["level"] for u in units[:3]] == ["street", "community", "grid"]
        assert len(units) == 2 + 4 + 8


def test_two_officers_at_once_the_second_is_refused_once_the_first_commits(engine, app_engine,
                                                                          two_grids):
    """The row lock makes the second wait for the first and see the state it left: one
    register in the history, the other officer refused (the desk says so, callbacks/desk.py)."""
    case = two_grids["ids"]["mine"]
    with engine.begin() as conn:
        conn.execute(text("UPDATE event SET state = 'reported' WHERE id = :id"), {"id": case})
    first = session_scope(engine, two_grids["mine"][:6], role="duty_officer")
    second = session_scope(engine, two_grids["mine"][:6], role="duty_officer")
    outcome = {}

    def second_officer():
        try:
            with scoped(second, app_engine) as conn:
                outcome["moved"] = events.transition(conn, case, "reject", None, "重复")
        except TransitionRefused as refused:
            outcome["refused"] = str(refused)

    with scoped(first, app_engine) as conn:
        events.transition(conn, case, "register", None, "属实")
        racer = threading.Thread(target=second_officer)
        racer.start()
        _until_waiting_for_a_lock(engine)
    racer.join()
    assert "refused" in outcome and "registered" in outcome["refused"], outcome
    with engine.connect() as conn:
        steps = conn.execute(text("SELECT action FROM event_history WHERE event_id = :id"
                                  " AND action IN ('register', 'reject')"), {"id": case}).all()
    assert [s[0] for s in steps] == ["register"]


def _until_waiting_for_a_lock(engine) -> None:
    """Return once some backend waits for a row lock (the second officer, behind the first).
    The bound only stops a broken test from hanging; nothing is timed."""
    for _ in range(3000):
        with engine.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM pg_stat_activity"
                                 " WHERE wait_event_type = 'Lock'")).scalar():
                return
        time.sleep(0.01)
    raise AssertionError("the second officer never waited for the first")


# -- on the demo district: its people and the open-case index under row-level security -------

@pytest.fixture(scope="module")
def demo(demo_district):
    url = demo_district[0].replace("postgresql://", "postgresql+psycopg://")
    owner, app = make_engine(url), app_engine_for(url)
    with owner.begin() as conn:
        district = conn.execute(text("SELECT code FROM district")).scalar_one()
        token = open_test_session(conn, district, role="duty_officer")
    from geodata.scope import Scope

    yield owner, app, Scope(district, session=token)
    owner.dispose()
    app.dispose()


def test_key_group_counts_agree_with_the_names_the_wall_may_show(demo):
    owner, app, scope = demo
    with owner.connect() as conn:
        busy = conn.execute(text(
            "SELECT e.id FROM event e WHERE onemap.event_is_open(e.state) AND EXISTS ("
            " SELECT 1 FROM building b JOIN household h ON h.building_id = b.id"
            " JOIN person_household ph ON ph.household_id = h.id"
            " JOIN person_tag t ON t.person_id = ph.person_id"
            " WHERE ST_DWithin(b.geom::geography, e.geom::geography, 100)) LIMIT 5")).scalars()
        busy = list(busy)
    assert busy, "the demo district has open cases among key-group residents"
    with scoped(scope, app) as conn:
        for case in busy:
            counts = {g["tag"]: g["people"] for g in nearby.key_group_counts(conn, case)}
            people: dict[str, set] = {}
            for row in nearby.key_groups_near(conn, case):
                people.setdefault(row["tag"], set()).add(row["person_id"])
            assert counts == {tag: len(ids) for tag, ids in people.items()}
            assert all("name" not in g for g in nearby.key_group_counts(conn, case))


def _plan(conn, sql: str, params: dict) -> str:
    return "\n".join(r[0] for r in conn.execute(text("EXPLAIN " + sql), params))


def test_queues_read_the_open_case_index_under_row_level_security(demo):
    _owner, app, scope = demo
    filters = desk.Filters().params()
    now = datetime.now(timezone.utc)
    with scoped(scope, app) as conn:
        counts = _plan(conn, desk._COUNTS, filters)
        queue = desk.QUEUES["in_hand"]
        listed = _plan(conn, desk._CASES.format(
            late=desk._LATE, warned=desk._WARNED, filtered=desk._FILTERED,
            condition=queue.condition, order=queue.order), {**filters, "limit": 100})
        dated = _plan(conn, desk._COUNTS, {**filters, "since": now - timedelta(days=7)})
    for plan in (counts, listed, dated):
        assert "ix_event_open" in plan, plan
        assert "Seq Scan on event" not in plan, plan

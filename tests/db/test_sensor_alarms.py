"""Sensor batches in the database, as the app's role in a real session: what the role may
write for them (migration 0015) and no more, row-level security on every reading and alarm,
a batch done in a fixed number of statements whatever its size, readings arriving late, and
two batches of one sensor at once raising one alarm."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError

from geodata.queries import sensors
from geodata.scope import app_engine_for, scoped
from onemap.domain.alarms import Reading
from tests.fixtures.hierarchy import (
    DISTRICT,
    grid_box,
    insert_hierarchy,
    remove_events_and_hierarchy,
)
from tests.fixtures.sessions import session_scope

START = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=3)


def _at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


@pytest.fixture(scope="module")
def app_engine(db_url):
    engine = app_engine_for(db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def grids(engine):
    """The hierarchy; the sensors, readings, alarms and cases made here go with it."""
    with engine.begin() as conn:
        codes = insert_hierarchy(conn)
        boxes = {g: grid_box(conn, g) for g in codes["grid"]}
    yield codes["grid"], boxes
    with engine.begin() as conn:
        for table in ("sensor_alarm", "sensor_reading", "sensor"):
            conn.execute(text(f"DELETE FROM {table}"))
        remove_events_and_hierarchy(conn)


_count = iter(range(1, 10**6))


def _sensor(engine, grids, *, grid: int = 0, kind: str = "gas", high: float | None = 20.0,
            low: float | None = None) -> str:
    """A sensor (committed) in one of the grids; returns its code."""
    codes, boxes = grids
    n = next(_count)
    x0, y0, x1, y1 = boxes[codes[grid]]
    code = f"DB-{kind[:4]}-{n}"
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO sensor (code, kind, name, low_threshold, high_threshold, status,"
            " grid_code, geom) VALUES (:code, :kind, :code, :low, :high, 'normal', :grid,"
            " ST_SetSRID(ST_MakePoint(:x, :y), 4326))"),
            {"code": code, "kind": kind, "low": low, "high": high, "grid": codes[grid],
             "x": x0 + (x1 - x0) * (0.1 + n % 80 / 100), "y": (y0 + y1) / 2})
    return code


def _ingest(engine, app_engine, scope: str, readings: list[Reading]) -> sensors.BatchResult:
    with scoped(session_scope(engine, scope, role="duty_officer"), app_engine) as conn:
        return sensors.ingest(conn, readings, None)


def _one(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).one()


@pytest.mark.parametrize("statement", [
    "UPDATE onemap.sensor SET high_threshold = 1000",
    "UPDATE onemap.sensor SET low_threshold = NULL",
    "UPDATE onemap.sensor SET grid_code = grid_code",
    "UPDATE onemap.sensor SET person_id = NULL",
    "UPDATE onemap.sensor SET name = 'x'",
    "DELETE FROM onemap.sensor",
    "INSERT INTO onemap.sensor (code, kind, name, status, grid_code, geom)"
    " SELECT 'X', 'gas', 'x', 'normal', grid_code, geom FROM onemap.sensor LIMIT 1",
    "UPDATE onemap.sensor_reading SET value = 0",
    "DELETE FROM onemap.sensor_reading",
    "UPDATE onemap.sensor_alarm SET value = 0",
    "UPDATE onemap.sensor_alarm SET raised_at = now()",
    "UPDATE onemap.sensor_alarm SET direction = 'low'",
    "DELETE FROM onemap.sensor_alarm",
])
def test_the_app_role_writes_readings_alarms_and_a_sensors_state_only(engine, app_engine,
                                                                       grids, statement):
    _sensor(engine, grids)
    with scoped(session_scope(engine, DISTRICT, role="duty_officer"), app_engine) as conn:
        with pytest.raises(DBAPIError, match="permission denied"):
            with conn.begin_nested():
                conn.execute(text(statement))


def test_row_level_security_keeps_each_reading_and_alarm_to_its_sensors_area(engine,
                                                                              app_engine,
                                                                              grids):
    mine, theirs = _sensor(engine, grids, grid=0), _sensor(engine, grids, grid=7)
    with engine.connect() as conn:
        ids = dict(conn.execute(text("SELECT code, id FROM sensor WHERE code IN (:a, :b)"),
                                {"a": mine, "b": theirs}).all())
    grid = grids[0][0]
    with scoped(session_scope(engine, grid, role="grid_worker"), app_engine) as conn:
        for statement in (
                "INSERT INTO onemap.sensor_reading (sensor_id, read_at, value)"
                " VALUES (:id, now(), 1)",
                "INSERT INTO onemap.sensor_alarm (sensor_id, raised_at, value, direction)"
                " VALUES (:id, now(), 99, 'high')"):
            with pytest.raises(DBAPIError, match="row-level security"):
                with conn.begin_nested():
                    conn.execute(text(statement), {"id": ids[theirs]})
        moved = conn.execute(text("UPDATE onemap.sensor SET status = 'alarm' WHERE id = :id"),
                             {"id": ids[theirs]}).rowcount
        assert moved == 0
        with pytest.raises(sensors.UnknownSensors) as refused:
            sensors.ingest(conn, [Reading(mine, _at(0), 1.0), Reading(theirs, _at(0), 1.0)],
                           None)
        assert refused.value.indexes == [1]


def test_a_batch_takes_the_same_few_statements_however_many_readings_it_holds(engine,
                                                                             app_engine,
                                                                             grids):
    codes = [_sensor(engine, grids, grid=g % 8) for g in range(50)]
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def batch(minute: int, size: int) -> list[Reading]:
        return [Reading(codes[i % len(codes)], _at(minute + i // len(codes)), 1.0 + i % 7)
                for i in range(size)]

    with app_engine.connect():
        pass  # the dialect's first-connection queries are no batch's
    event.listen(app_engine, "before_cursor_execute", count)
    try:
        small = _ingest(engine, app_engine, DISTRICT, batch(0, 50))
        few = len(statements)
        statements.clear()
        large = _ingest(engine, app_engine, DISTRICT, batch(60, 1000))
    finally:
        event.remove(app_engine, "before_cursor_execute", count)
    assert (small.stored, large.stored) == (50, 1000) and not large.raised
    assert len(statements) == few  # lock, read, insert, move: not one per reading
    stored, latest = _one(engine, "SELECT count(*), max(read_at) FROM sensor_reading r"
                          " JOIN sensor s ON s.id = r.sensor_id WHERE s.code = :c", c=codes[0])
    assert (stored, latest) == (21, _at(60 + 19))
    assert _one(engine, "SELECT last_reading_at FROM sensor WHERE code = :c",
                c=codes[0])[0] == _at(79)


def test_a_late_reading_is_kept_but_moves_neither_the_last_value_nor_an_alarm(engine,
                                                                             app_engine,
                                                                             grids):
    code = _sensor(engine, grids)
    _ingest(engine, app_engine, DISTRICT, [Reading(code, _at(10), 4.0)])
    late = _ingest(engine, app_engine, DISTRICT, [Reading(code, _at(5), 50.0)])
    assert late.stored == 1 and late.raised == []
    row = _one(engine, "SELECT last_value, last_reading_at, status,"
               " (SELECT count(*) FROM sensor_alarm a WHERE a.sensor_id = s.id),"
               " (SELECT count(*) FROM sensor_reading r WHERE r.sensor_id = s.id)"
               " FROM sensor s WHERE code = :c", c=code)
    assert tuple(row) == (4.0, _at(10), "normal", 0, 2)


def test_two_batches_of_one_sensor_at_once_raise_one_alarm_and_one_case(engine, app_engine,
                                                                        grids):
    code = _sensor(engine, grids)
    first_scope = session_scope(engine, DISTRICT, role="duty_officer")
    second_scope = session_scope(engine, DISTRICT, role="duty_officer")
    answers: list[sensors.BatchResult] = []

    def second_batch():
        with scoped(second_scope, app_engine) as conn:
            answers.append(sensors.ingest(conn, [Reading(code, _at(2), 31.0)], None))

    with scoped(first_scope, app_engine) as conn:
        first = sensors.ingest(conn, [Reading(code, _at(1), 30.0)], None)
        racer = threading.Thread(target=second_batch)
        racer.start()
        while racer.is_alive() and not _waiting_for_a_lock(engine):
            time.sleep(0.01)
    racer.join()
    assert len(first.opened) == 1 and answers[0].raised == [] and answers[0].stored == 1
    alarms, cases = _one(engine, "SELECT count(*), count(DISTINCT event_id) FROM sensor_alarm"
                         " a JOIN sensor s ON s.id = a.sensor_id WHERE s.code = :c", c=code)
    assert (alarms, cases) == (1, 1)


def _waiting_for_a_lock(engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND datname = current_database())")).scalar()

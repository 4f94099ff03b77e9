"""The live clock: one version per topic, moved by the rows each topic watches."""

from __future__ import annotations

from geodata import live
from sqlalchemy import text

from tests.db.map_layers.app_role import as_app, refused
from tests.db.map_layers.world import add_event, point


def test_the_clock_has_one_version_per_topic(conn):
    versions = live.clock(conn)
    assert set(versions) == set(live.TOPICS)
    assert all(isinstance(v, int) and v >= 0 for v in versions.values())


def test_changing_events_moves_the_event_topic_only(conn, world):
    before = live.clock(conn)
    token = live.token(before)
    event = add_event(conn, "E-new", world["a"], point(conn, world["a"], 0.01, 0.01))
    after_insert = live.clock(conn)
    assert after_insert == {**before, "event": before["event"] + 1}
    assert live.changed_topics(token, after_insert) == ["event"]
    conn.execute(text("UPDATE event SET title = 'x' WHERE id = :e"), {"e": event})
    assert live.clock(conn) == {**before, "event": before["event"] + 2}
    # one statement, however many rows: one tick
    conn.execute(text("UPDATE event SET title = 'y'"))
    assert live.clock(conn) == {**before, "event": before["event"] + 3}
    conn.execute(text("DELETE FROM event WHERE id = :e"), {"e": event})
    assert live.clock(conn)["event"] == before["event"] + 4


def test_sensor_alarms_and_sensors_move_the_sensor_topic(conn, world):
    sensor = world["sensor_ok"][world["a"]]
    before = live.clock(conn)
    conn.execute(text("INSERT INTO sensor_alarm (sensor_id, raised_at, value, threshold,"
                      " direction) VALUES (:s, now(), 30, 20, 'high')"), {"s": sensor})
    assert live.clock(conn) == {**before, "sensor": before["sensor"] + 1}
    conn.execute(text("UPDATE sensor SET status = 'alarm' WHERE id = :s"), {"s": sensor})
    assert live.clock(conn) == {**before, "sensor": before["sensor"] + 2}


def test_staff_moving_moves_the_staff_topic(conn, world):
    staff = next(iter(world["rows"][world["a"]]["staff"]))
    before = live.clock(conn)
    conn.execute(text("UPDATE staff SET last_position = ST_SetSRID(ST_MakePoint(123.405,"
                      " 41.805), 4326), last_seen_at = now() WHERE id = :s"), {"s": staff})
    assert live.clock(conn) == {**before, "staff": before["staff"] + 1}


def test_other_connections_see_the_clock_move_only_after_commit(conn, engine, world):
    with engine.connect() as other:
        committed = live.clock(other)
        mine = live.clock(conn)
        # the world's rows, not yet committed, have moved this transaction's clock already
        assert mine["event"] > committed["event"] and mine["staff"] > committed["staff"]
        add_event(conn, "E-uncommitted", world["a"], point(conn, world["a"], 0.01, 0.01))
        assert live.clock(conn)["event"] == mine["event"] + 1
        assert live.clock(other) == committed
        other.rollback()


def test_the_app_reads_the_clock_but_cannot_set_it(conn, world):
    with as_app(conn, world["a"]):
        versions = live.clock(conn)
        assert set(versions) == set(live.TOPICS)
        refused(conn, "UPDATE onemap.live_clock SET version = version + 1")
        refused(conn, "UPDATE onemap.live_clock SET version = 0 WHERE topic = 'event'")
        refused(conn, "INSERT INTO onemap.live_clock (topic) VALUES ('x')")
        refused(conn, "DELETE FROM onemap.live_clock")
        refused(conn, "TRUNCATE onemap.live_clock")
        assert live.clock(conn) == versions


def test_the_app_moves_the_clock_by_changing_what_it_watches(conn, world):
    a = world["a"]
    event = next(iter(world["rows"][a]["events"]))
    with as_app(conn, a):
        before = live.clock(conn)
        conn.execute(text("UPDATE event SET state = 'handling' WHERE id = :e"), {"e": event})
        assert live.clock(conn) == {**before, "event": before["event"] + 1}


def test_a_connection_with_no_scope_still_reads_the_clock(conn):
    with as_app(conn, None):
        assert set(live.clock(conn)) == set(live.TOPICS)

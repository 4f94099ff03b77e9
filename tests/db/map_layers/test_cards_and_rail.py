"""Detail cards and the wall rail (counters, feed, banners), in scope."""

from __future__ import annotations

from geodata.queries.details import card
from geodata.queries.wall import banner, counters, feed
from sqlalchemy import text

from tests.db.map_layers.app_role import as_app
from tests.db.map_layers.geobuf_reading import layer_features
from tests.db.map_layers.world import add_event, point


def test_cards_show_in_scope_and_nothing_outside(conn, world):
    a, b = world["a"], world["b"]
    event = next(iter(world["rows"][a]["events"]))
    staff = next(iter(world["rows"][a]["staff"]))
    with as_app(conn, a):
        c = card(conn, "events", event)
        assert c["id"] == event and c["category"] == "暴露垃圾"
        assert c["staff_name"] == f"网格员 T-{a[6:]}" and c["overdue"] is False
        assert card(conn, "staff", staff)["open_cases"] == 1
        assert card(conn, "sensors", world["sensor_alarm"][a])["status"] == "alarm"
        for kind in ("events", "buildings", "cameras", "sensors", "places", "staff"):
            theirs = next(iter(world["rows"][b][kind]))
            assert card(conn, kind, theirs) is None, kind
            assert card(conn, kind, 10 ** 12) is None, kind


def test_wall_counts_feeds_and_banners_in_scope(conn, world):
    a = world["a"]
    add_event(conn, "E-urgent", a, point(conn, a, 0.01, 0.01), level=1)
    add_event(conn, "E-late", a, point(conn, a, 0.01, 0.011), due="-10 minutes")
    conn.execute(text("INSERT INTO sensor_alarm (sensor_id, raised_at, value, threshold,"
                      " direction) VALUES (:s, now(), 30, 20, 'high')"),
                 {"s": world["sensor_alarm"][a]})
    conn.execute(text("INSERT INTO sensor_alarm (sensor_id, raised_at, value, threshold,"
                      " direction) VALUES (:s, now(), 30, 20, 'high')"),
                 {"s": world["sensor_alarm"][world["b"]]})
    with as_app(conn, a):
        got = counters(conn)
        assert got["overdue"] == 1
        assert got["sensor_alarms"] == 1
        assert (got["cameras_online"], got["cameras"]) == (1, 1)
        assert sum(got["today_by_state"].values()) == 4  # open, closed, urgent, late
        codes = [r["code"] for r in feed(conn)]
        assert set(codes) == {f"E-{a[6:]}-open", f"E-{a[6:]}-closed", "E-urgent", "E-late"}
        kinds = sorted(r["kind"] for r in banner(conn))
        assert kinds == ["overdue", "sensor_alarm", "urgent"]


def test_a_shelved_case_past_its_limit_is_overdue_nowhere(conn, world):
    """The outside review: a shelved (挂账) overdue case was overdue in the feed and the card
    but not in the counters, the layer or the banner. Its clock is stopped: overdue nowhere."""
    a = world["a"]
    late = add_event(conn, "E-late", a, point(conn, a, 0.01, 0.011), due="-10 minutes")
    shelved = add_event(conn, "E-shelved", a, point(conn, a, 0.01, 0.012), state="suspended",
                        due="-10 minutes")
    with as_app(conn, a):
        assert counters(conn)["overdue"] == 1
        overdue_in_feed = {r["id"]: r["overdue"] for r in feed(conn)}
        assert overdue_in_feed[late] is True and overdue_in_feed[shelved] is False
        assert card(conn, "events", late)["overdue"] is True
        assert card(conn, "events", shelved)["overdue"] is False
        assert [r["event_id"] for r in banner(conn) if r["kind"] == "overdue"] == [late]
        on_layer = {f["properties"]["id"]: f["properties"]["overdue"]
                    for f in layer_features(conn, "events", 18)}
        assert on_layer[late] == 1 and shelved not in on_layer  # shelved: off the wall


def test_an_emergency_stays_on_the_banner_while_open_and_alarms_for_the_window(conn, world):
    """A duty officer reported an unacknowledged level-1 case vanishing after an hour: an open
    emergency stays however old; a closed one, an old alarm and a case overdue for long go."""
    a = world["a"]
    old_urgent = add_event(conn, "E-old-urgent", a, point(conn, a, 0.01, 0.01), level=1,
                           age="5 hours")
    add_event(conn, "E-old-closed", a, point(conn, a, 0.01, 0.011), level=2, age="5 hours",
              state="closed")
    add_event(conn, "E-long-late", a, point(conn, a, 0.01, 0.012), due="-3 hours")
    conn.execute(text("INSERT INTO sensor_alarm (sensor_id, raised_at, value, threshold,"
                      " direction) VALUES (:s, now() - interval '2 hours', 30, 20, 'high')"),
                 {"s": world["sensor_alarm"][a]})
    with as_app(conn, a):
        items = banner(conn, "1 hour")
    assert [(r["kind"], r["event_id"]) for r in items] == [("urgent", old_urgent)]
    assert items[0]["key"] == f"event:{old_urgent}"

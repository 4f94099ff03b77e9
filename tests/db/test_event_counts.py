"""Events counted per grid up to a mark (migration 0023) plus the newer ones live: the
overview's event count equals count(*) under row-level security in every scope, before and
after a recount, with newer events, after deletes, moved cases and a truncate; a report still
being written while the recount runs is not lost; the app can neither recount nor write."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import Connection, text

from geodata.event_counts import refresh_event_counts
from geodata.queries.overview import exact_table_counts, table_counts
from tests.db.map_layers.app_role import as_app, refused
from tests.db.map_layers.world import add_event, point
from tests.fixtures.hierarchy import DISTRICT, insert_hierarchy


@pytest.fixture
def town(conn):
    """Three cases in one grid, two in a grid of another street, one without a grid."""
    codes = insert_hierarchy(conn)
    conn.execute(text("INSERT INTO event_category (code, kind, name_zh)"
                      " VALUES ('X01', 'event', '暴露垃圾')"))
    mine = codes["grid"][0]
    theirs = next(g for g in codes["grid"] if g[:9] != mine[:9])
    made = [add_event(conn, f"E-A{n}", mine, point(conn, mine, 0.001, 0.001)) for n in range(3)]
    made += [add_event(conn, f"E-B{n}", theirs, point(conn, theirs, 0.001, 0.001))
             for n in range(2)]
    made.append(add_event(conn, "E-NONE", None, point(conn, mine, 0.001, 0.001)))
    return {"mine": mine, "theirs": theirs, "events": made}


def _events(conn: Connection, scope: str | None) -> tuple[int, int]:
    """(the overview's event count, count(*)) as the app sees them in `scope`."""
    with as_app(conn, scope):
        return table_counts(conn)["event"], exact_table_counts(conn)["event"]


def assert_exact(conn: Connection, town: dict) -> dict[str | None, int]:
    seen = {}
    for scope in (None, DISTRICT, town["mine"][:9], town["mine"][:12], town["mine"],
                  town["theirs"]):
        counted, exact = _events(conn, scope)
        assert counted == exact, scope
        seen[scope] = counted
    return seen


def _mark(conn: Connection) -> int:
    return conn.execute(text("SELECT counted_through FROM event_count_mark")).scalar_one()


def test_exact_before_and_after_a_recount_and_with_newer_events(conn, town):
    assert_exact(conn, town)
    total = conn.execute(text("SELECT count(*) FROM event")).scalar_one()
    assert refresh_event_counts(conn) == total
    assert _mark(conn) == max(town["events"])
    assert conn.execute(text("SELECT events FROM event_grid_count WHERE grid_code = :g"),
                        {"g": town["mine"]}).scalar_one() == 3
    before = assert_exact(conn, town)
    add_event(conn, "E-A-NEW", town["mine"], point(conn, town["mine"], 0.002, 0.002))
    add_event(conn, "E-NONE-NEW", None, point(conn, town["mine"], 0.002, 0.002))
    after = assert_exact(conn, town)
    assert after[town["mine"]] == before[town["mine"]] + 1 == 4
    assert after[town["theirs"]] == before[town["theirs"]] == 2
    assert after[DISTRICT] == before[DISTRICT] + 2  # the gridless case: a district's only
    assert after[None] == 0


def test_deletes_moves_and_a_truncate_keep_it_exact(conn, town):
    refresh_event_counts(conn)
    newer = add_event(conn, "E-A-NEW", town["mine"], point(conn, town["mine"], 0.002, 0.002))
    counted = town["events"]
    conn.execute(text("DELETE FROM event WHERE id = ANY(:ids)"), {"ids": [counted[0], newer]})
    assert assert_exact(conn, town)[town["mine"]] == 2
    conn.execute(text("UPDATE event SET grid_code = :g WHERE id = :id"),
                 {"g": town["theirs"], "id": counted[1]})
    assert assert_exact(conn, town)[town["theirs"]] == 3
    conn.execute(text("UPDATE event SET grid_code = NULL WHERE id = :id"), {"id": counted[2]})
    seen = assert_exact(conn, town)
    assert seen[town["mine"]] == 0 and seen[DISTRICT] == 5
    conn.execute(text("ALTER TABLE event_history DISABLE TRIGGER USER"))  # rolled back after
    conn.execute(text("TRUNCATE event CASCADE"))
    assert _mark(conn) == 0
    assert conn.execute(text("SELECT count(*) FROM event_grid_count")).scalar_one() == 0
    add_event(conn, "E-AFTER", town["mine"], point(conn, town["mine"], 0.002, 0.002))
    assert assert_exact(conn, town)[town["mine"]] == 1


def test_a_recent_recount_is_not_repeated(conn, town):
    assert refresh_event_counts(conn) is not None
    assert refresh_event_counts(conn, older_than=timedelta(minutes=10)) is None
    assert refresh_event_counts(conn) is not None  # asked outright, it recounts


def test_the_app_cannot_recount_or_write_and_reads_its_scope_only(conn, town):
    refresh_event_counts(conn)
    with as_app(conn, DISTRICT):
        refused(conn, "SELECT onemap.refresh_event_counts()")
        refused(conn, "INSERT INTO onemap.event_grid_count VALUES ('210103001001001', 1)")
        refused(conn, "DELETE FROM onemap.event_grid_count")
        refused(conn, "UPDATE onemap.event_count_mark SET counted_through = 0")
    with as_app(conn, town["mine"]):
        rows = conn.execute(text("SELECT grid_code, events FROM event_grid_count")).all()
        assert rows == [(town["mine"], 3)]  # neither another grid nor the gridless cases


def _waiting_for_event_lock(url: str) -> bool:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted AND"
                            " relation = 'onemap.event'::regclass)").fetchone()[0]


def test_a_report_being_written_during_a_recount_is_counted(db_url):
    """The recount waits for writers in flight: without that, a report holding an id below a
    later committed one would fall between the counted part and the live part."""
    owner_url = db_url.replace("+psycopg", "")
    insert = ("INSERT INTO onemap.event (code, title, category_code, level, channel, state,"
              " reported_at, geom) VALUES (%s, '井盖缺失', 'C0101', 4, 'inspector', 'reported',"
              " now(), ST_SetSRID(ST_MakePoint(100.05, 30.05), 4326)) RETURNING id")
    codes = [f"AJ-RACE-{n}" for n in range(2)]
    slow = psycopg.connect(owner_url)
    try:
        slow_id = slow.execute(insert, (codes[0],)).fetchone()[0]  # not committed yet
        with psycopg.connect(owner_url, autocommit=True) as quick:
            quick_id = quick.execute(insert, (codes[1],)).fetchone()[0]
        assert quick_id > slow_id
        recounted = threading.Event()

        def recount() -> None:
            with psycopg.connect(owner_url) as other:
                other.execute("SELECT onemap.refresh_event_counts()")
            recounted.set()

        worker = threading.Thread(target=recount)
        worker.start()
        while not (recounted.is_set() or _waiting_for_event_lock(owner_url)):
            time.sleep(0.05)
        assert not recounted.is_set()  # held back by the report in flight
        slow.commit()
        worker.join(30)
        assert recounted.is_set()
        with psycopg.connect(owner_url) as check:
            mark = check.execute("SELECT counted_through FROM onemap.event_count_mark"
                                 ).fetchone()[0]
            assert mark >= quick_id
            counted = check.execute(
                "SELECT events FROM onemap.event_grid_count WHERE grid_code IS NULL"
            ).fetchone()[0]
            gridless = check.execute("SELECT count(*) FROM onemap.event WHERE grid_code IS NULL"
                                     " AND id <= %s", (mark,)).fetchone()[0]
            assert counted == gridless
    finally:
        slow.rollback()
        slow.close()
        with psycopg.connect(owner_url, autocommit=True) as clean:
            clean.execute("DELETE FROM onemap.event WHERE code = ANY(%s)", (codes,))

"""PostgreSQL's data folder on a small disk of its own (a 256 MB tmpfs, as root; unmounted
afterwards) that fills up while a hotline's token client posts reports, each under its own
Idempotency-Key. The cluster runs as in production (fsync and synchronous commit on: an
acknowledged commit's WAL is on disk; on tmpfs that costs nothing).

1. Tables cannot grow (a file takes all but 1 MiB): PostgreSQL refuses the writes (SQLSTATE
   53100, "could not extend file") and stays up; the reports are answered 503 with
   Retry-After, never 500. Space freed, the same keys are registered on retry.
2. WAL cannot grow (the disk filled to the last byte, WAL switched to a segment that must be
   created): PostgreSQL PANICs, as documented, and cannot finish its crash recovery while the
   disk is full; meanwhile every report is answered 503. Space freed, `onemap db start`
   recovers it, and the refused keys are registered on retry.

Every report acknowledged (201) at any point is there afterwards, once, with its history and
audit rows; no key has two cases.
"""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import text

from geodata.embedded import EmbeddedPostgres
from geodata.migrate import upgrade
from onemap.settings import Settings
from tests.conftest import TEST_PORT
from tests.faults.conftest import Poster, Site, fill, reports, small_disk, wait_for
from tests.fixtures.hierarchy import insert_hierarchy
from tests.support.serving import healthy, serving

UNAVAILABLE = {"error": "database unavailable / 数据库暂不可用"}


class Hotline:
    """Posts reports in order, each under a key of its own; keeps every answer."""

    def __init__(self, poster: Poster, bodies: list[dict]) -> None:
        self.poster, self.bodies = poster, bodies
        self.answers: dict[str, list[tuple[int, dict, dict]]] = {}
        self.sent = 0

    def send(self, index: int) -> tuple[int, dict, dict]:
        key = f"full-{index:05d}"
        try:
            answer = self.poster.post(key, self.bodies[index])
        except ConnectionError:  # a keep-alive connection the server had closed: once more
            answer = self.poster.post(key, self.bodies[index])
        self.answers.setdefault(key, []).append(answer)
        return answer

    def next(self) -> tuple[int, dict, dict]:
        self.sent += 1
        return self.send(self.sent - 1)

    def until_refused(self, refusals: int, timeout: float = 120) -> list[int]:
        """Post until `refusals` reports in a row are refused; the indexes refused."""
        refused: list[int] = []
        deadline = time.monotonic() + timeout
        while len(refused) < refusals:
            assert time.monotonic() < deadline, f"no {refusals} refusals in a row"
            assert self.sent < len(self.bodies), "every report taken"
            status = self.next()[0]
            refused = refused + [self.sent - 1] if status != 201 else []
        return refused

    def retry(self, indexes: list[int]) -> None:
        for index in indexes:
            status, _headers, body = self.send(index)
            assert status in (200, 201), (index, status, body)


def refusals_are_503(hotline: Hotline, indexes: list[int]) -> None:
    for index in indexes:
        status, headers, body = hotline.answers[f"full-{index:05d}"][-1]
        assert status == 503, (index, status, body)  # never a 500
        assert int(headers["Retry-After"]) > 0 and body == UNAVAILABLE, (headers, body)


@pytest.fixture
def full_site():
    """A migrated cluster on a 256 MB tmpfs, the hierarchy loaded; (site, the disk)."""
    with small_disk("256m") as disk:
        cluster = EmbeddedPostgres(disk / "pg", port=TEST_PORT, bin_dir=Settings().pg_bin,
                                   db_name="onemap_full", shared_buffers="128MB", fsync=True)
        cluster.start()
        try:
            upgrade(cluster.sqlalchemy_url())
            site = Site(cluster)
            site.env["ONEMAP_PG_FSYNC"] = "true"  # `onemap db start` keeps it so
            with site.owner.begin() as conn:
                conn.execute(text("SET CONSTRAINTS ALL DEFERRED"))
                insert_hierarchy(conn)
            yield site, disk
            site.owner.dispose()
        finally:
            cluster.stop()


def _fresh_wal_segment(site) -> None:
    """WAL on to a new segment, made now while there is room: 16 MB of WAL before the next
    one is needed, so filling the disk stops the tables first. (A transactional message: its
    commit waits for its WAL, so the segment is made before this returns.)"""
    with psycopg.connect(site.cluster.libpq_url(), autocommit=True) as conn:
        conn.execute("SELECT pg_switch_wal()")
        conn.execute("SELECT pg_logical_emit_message(true, 'fault', 'wal')")
        segment = conn.execute("SELECT pg_walfile_name(pg_current_wal_insert_lsn())"
                               ).fetchone()[0]
    assert (site.cluster.data_dir / "pg_wal" / segment).is_file(), segment


def _crash_on_a_new_wal_segment(site) -> str:
    """WAL written and switched to a new segment, again and again, until one must be made:
    on a disk with no byte free the server PANICs and drops every connection. Up to 40 rounds
    (recycled segments may be waiting); what the client was told last."""
    told = ""
    with psycopg.connect(site.cluster.libpq_url(), autocommit=True) as conn:
        for _ in range(40):
            for sql in ("SELECT pg_logical_emit_message(false, 'fault', 'wal')",
                        "SELECT txid_current()", "SELECT pg_switch_wal()"):
                try:
                    conn.execute(sql)
                except psycopg.OperationalError as exc:
                    told = str(exc)
                    if conn.broken:
                        return told
    raise AssertionError(f"PostgreSQL wrote 40 WAL segments on a full disk: {told}")


def test_a_full_database_disk_refuses_reports_with_503_and_loses_none(full_site):
    site, disk = full_site
    user_id, token = site.token("hotline-full")
    hotline = Hotline(None, reports(site, 6000, seed=17))
    with serving(dict(site.env, ONEMAP_WORKERS="1"), log_prefix="onemap-fault-full") as base:
        hotline.poster = Poster(base, token)
        for _ in range(30):
            assert hotline.next()[0] == 201

        # 1. tables cannot grow
        _fresh_wal_segment(site)
        filler = fill(disk, 1 << 20)
        refused = hotline.until_refused(5)
        refusals_are_503(hotline, refused)
        assert healthy(base)  # it answers, it reads: only writes are refused
        filler.unlink()
        hotline.retry(refused)
        for _ in range(20):
            assert hotline.next()[0] == 201

        # 2. WAL cannot grow
        filler = fill(disk, 0)
        told = _crash_on_a_new_wal_segment(site)
        assert 'could not write to file "pg_wal/xlogtemp' in told, told
        # its crash recovery needs a WAL segment too: the server gives up (its log is on the
        # same full disk: the PANIC's own line is lost, what follows once a little is freed)
        wait_for(lambda: not site.cluster.status().running, 120, "PostgreSQL to give up")
        log = site.cluster.log_file.read_text(errors="replace")
        assert "shutting down due to startup process failure" in log, log[-3000:]
        down = hotline.until_refused(5)
        refusals_are_503(hotline, down)
        filler.unlink()
        site.db("start")
        wait_for(lambda: healthy(base), 60, "OneMap to reach its database again")
        hotline.retry(down)
        for _ in range(20):
            assert hotline.next()[0] == 201

    acknowledged = {key: answer[2]["id"] for key, answers in hotline.answers.items()
                    for answer in answers if answer[0] in (200, 201)}
    assert set(acknowledged) == set(hotline.answers)  # every key ended acknowledged
    cases = site.cases(user_id)
    assert set(cases) == set(acknowledged)
    assert {key: ids for key, ids in cases.items() if ids != [acknowledged[key]]} == {}
    assert set(site.trail(user_id).values()) == {(1, 1)}
    print(f"disk full: {len(acknowledged)} reports kept, {len(refused)} refused while tables "
          f"could not grow and {len(down)} while PostgreSQL was down, all registered on retry")

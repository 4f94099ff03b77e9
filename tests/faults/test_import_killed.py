"""`onemap import buildings` killed (SIGKILL) mid-way, twice, then run again.

First as it writes: the moment its backend holds the building table's ROW EXCLUSIVE lock and
is running a statement (the upsert, or the statistics' recount after it; the command waits on
it, so it cannot have sent its COMMIT). Then at a moment made, not caught: the test holds
building_stat locked (EXCLUSIVE: readers go on), so the import stops where it recounts the
statistics, after its upsert has written every building into the table in its open
transaction (its backend waits for building_stat). Killed either way: no row of it is
visible, every count is as before, its backend ends, and the same command run again imports
the whole file.
"""

from __future__ import annotations

import signal
import subprocess

from sqlalchemy import text

from tests.conftest import onemap_command
from tests.faults.conftest import buildings_csv, wait_for

# every table a buildings import writes, or its statistics' refresh rewrites
TABLES = ("building", "building_stat", "admin_unit_stat", "admin_unit_age_stat", "unit",
          "floor", "household")
COLUMNS, ROWS = 160, 100  # 16,000 footprints


def counts(site) -> dict[str, int]:
    with site.owner.connect() as conn:
        return {table: conn.execute(text(f"SELECT count(*) FROM onemap.{table}")).scalar()
                for table in TABLES}


# a backend that has begun writing buildings, in a statement now (writing) or waiting on a
# lock (blocked after writing)
_WRITER = """
SELECT a.pid FROM pg_stat_activity a
  JOIN pg_locks l ON l.pid = a.pid AND l.granted AND l.mode = 'RowExclusiveLock'
   AND l.relation = 'onemap.building'::regclass
 WHERE a.datname = current_database() AND a.state = 'active' AND a.pid <> pg_backend_pid()
"""
WRITING = _WRITER + " AND a.wait_event_type IS DISTINCT FROM 'Lock'"
# only the statistics' recount, after the upsert, touches building_stat
BLOCKED = _WRITER + """
   AND EXISTS (SELECT 1 FROM pg_locks w WHERE w.pid = a.pid AND NOT w.granted
                 AND w.relation = 'onemap.building_stat'::regclass)
"""


class Import:
    """`onemap import buildings FILE` running, its output in a file."""

    def __init__(self, site, command: list[str], log_path) -> None:
        self.site = site
        self.log = open(log_path, "w+")
        self.process = subprocess.Popen(command, env=site.env, stdout=self.log,
                                        stderr=self.log)

    def backend(self, query: str, timeout: float = 240, every: float = 0.2) -> int:
        """Its backend once `query` finds it; fails when the command ended first."""
        def found():
            if self.process.poll() is not None:
                self.log.seek(0)
                raise AssertionError(f"the import ended ({self.process.returncode}) before "
                                     f"it could be killed: {self.log.read()[-2000:]}")
            return self.site.scalar(query)

        return wait_for(found, timeout, "the import writing its rows", every)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(timeout=30) == -signal.SIGKILL

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self.log.close()


def _ended(site, backend: int) -> None:
    """Its backend finds its client gone and ends, and its transaction with it."""
    wait_for(lambda: not site.scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = :p",
                                     p=backend), 60, "the killed import's backend to end")


def test_an_import_killed_mid_way_leaves_nothing_and_runs_again(site, tmp_path):
    path = buildings_csv(tmp_path / "楼栋.csv", "KILL", COLUMNS, ROWS)
    command = [onemap_command(), "import", "buildings", str(path), "--crs", "wgs84"]
    before = counts(site)
    size_before = site.scalar("SELECT pg_relation_size('onemap.building')")

    # 1. as it writes
    running = Import(site, command, tmp_path / "import-1.log")
    try:
        backend = running.backend(WRITING, every=0.02)
        running.kill()
    finally:
        running.close()
    assert counts(site) == before
    _ended(site, backend)
    assert counts(site) == before

    # 2. blocked after writing every row
    with site.owner.connect() as lock:
        held = lock.begin()
        lock.execute(text("LOCK TABLE onemap.building_stat IN EXCLUSIVE MODE"))
        running = Import(site, command, tmp_path / "import-2.log")
        try:
            backend = running.backend(BLOCKED)
            # its rows are in the table's file (the first kill's dead ones are there too)
            written = site.scalar("SELECT pg_relation_size('onemap.building')") - size_before
            assert written > COLUMNS * ROWS * 100, written
            running.kill()
            assert counts(site) == before  # while its backend still holds them
        finally:
            running.close()
            held.rollback()
    _ended(site, backend)
    assert counts(site) == before
    assert site.scalar("SELECT count(*) FROM onemap.building WHERE code LIKE 'KILL-%'") == 0

    again = subprocess.run(command, env=site.env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert f"{COLUMNS * ROWS} inserted, 0 updated" in again.stdout, again.stdout
    after = counts(site)
    assert after["building"] == before["building"] + COLUMNS * ROWS
    assert after["building_stat"] == after["building"]  # the statistics recounted with them
    assert site.scalar("SELECT count(*) FROM onemap.building WHERE code LIKE 'KILL-%'"
                       " AND grid_code IS NOT NULL") == COLUMNS * ROWS

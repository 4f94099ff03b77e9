"""The first start of several workers at once: without ONEMAP_SECRET_KEY each worker reads the
cookie-signing key from var/secret_key when it imports the app, and the first start makes the
file. Workers that make it at the same moment must still end up with one key, never an empty
one (a worker with a key of its own refuses every other worker's cookies: sign-in forms
"expire" and sessions end at random)."""

from __future__ import annotations

import multiprocessing

import onemap.settings
from onemap.settings import Settings

WORKERS = 8


def _worker_start(barrier, keys) -> None:
    barrier.wait()  # all at once, as gunicorn's workers import the app
    keys.put(Settings(secret_key=None).session_secret())


def test_workers_starting_at_once_share_one_generated_key(tmp_path, monkeypatch):
    monkeypatch.setattr(onemap.settings, "PROJECT_ROOT", tmp_path)  # a clone's first start
    fork = multiprocessing.get_context("fork")
    for attempt in range(5):  # the race is a matter of microseconds: give it a few chances
        (tmp_path / "var" / "secret_key").unlink(missing_ok=True)
        barrier, keys = fork.Barrier(WORKERS), fork.Queue()
        workers = [fork.Process(target=_worker_start, args=(barrier, keys))
                   for _ in range(WORKERS)]
        for worker in workers:
            worker.start()
        got = [keys.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(timeout=60)
            assert worker.exitcode == 0
        stored = (tmp_path / "var" / "secret_key").read_text()
        assert set(got) == {stored}, (attempt, got, stored)
        assert len(stored) == 64  # 32 random bytes in hex, never a half-written file
        assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o777 == 0o600
        assert [p.name for p in (tmp_path / "var").iterdir()] == ["secret_key"]  # no leftovers
